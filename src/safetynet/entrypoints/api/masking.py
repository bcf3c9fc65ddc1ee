"""Identity numbers masked in every JSON answer of the API, whatever the field they were typed in.

A middleware rather than a per-field rule, so a reason, a note, an error message or a number sent
as a JSON number is masked like ``id_number`` itself, and a field added later cannot forget it.
Two exceptions, both the policy's: the household facts of a single application read by a role
that verifies identity (``identity_numbers_masked: false`` in that answer), and the top-level
``id_number`` of a successful answer of the disclosure route (``POST /persons/{id}/id-number``,
matched by method and path, never by anything in the body), whose reading is logged.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from safetynet.domain.privacy import ID_KEYS, mask_value

__all__ = ["MaskIdentityNumbers", "mask_json"]


def mask_json(value: Any) -> Any:
    """``value`` with every identity number masked, except the household facts of an
    application answered with ``identity_numbers_masked: false``."""
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    if isinstance(value, dict):
        full = value.get("identity_numbers_masked") is False
        return {
            key: item
            if full and key == "household"
            else mask_value({key: item})[key]
            if key in ID_KEYS
            else mask_json(item)
            for key, item in value.items()
        }
    return mask_value(value)


class MaskIdentityNumbers:
    """ASGI middleware: JSON response bodies pass through ``mask_json``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        skip: frozenset[str] = frozenset(),
        disclosure: re.Pattern[str] | None = None,
    ) -> None:
        self.app = app
        self.skip = skip  # paths answered as they are (the OpenAPI document)
        self.disclosure = disclosure  # POST paths whose 200 answer keeps its top-level id_number

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.skip:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []
        disclosing = (
            self.disclosure is not None
            and scope.get("method") == "POST"
            and self.disclosure.fullmatch(scope.get("path", "")) is not None
        )

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                types = [v for k, v in message.get("headers", []) if k.lower() == b"content-type"]
                if types and types[0].startswith(b"application/json"):
                    start = message
                    return
                await send(message)
                return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                data = json.loads(b"".join(chunks) or b"null")
                if disclosing and start.get("status") == 200 and isinstance(data, dict):
                    masked = {k: v if k == "id_number" else mask_json(v) for k, v in data.items()}
                else:
                    masked = mask_json(data)
                body = json.dumps(
                    masked,
                    ensure_ascii=False,
                    allow_nan=False,
                    separators=(",", ":"),
                ).encode("utf-8")
                kept = [
                    (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
                ]
                kept.append((b"content-length", str(len(body)).encode("ascii")))
                await send({**start, "headers": kept})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, capture)
