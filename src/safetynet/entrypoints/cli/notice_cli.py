"""``safetynet notice TRACK_ID``: the written notice of a track's decision as PDF.

The lead wires it into ``main.app``: ``app.command("notice")(notice)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from safetynet.errors import SafetyNetError

__all__ = ["notice"]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def notice(
    track_id: Annotated[int, typer.Argument(help="The track whose decision is notified.")],
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to write the PDF; its folder is created (default: "
            "notices/notice-TRACK_ID.pdf in the SafetyNet home, docs/settings.md).",
        ),
    ] = None,
    copy: Annotated[
        str,
        typer.Option(
            "--copy",
            help="citizen (the default: no parameter ids or provenance flags) or file (the "
            "office's copy, with them in the annex).",
        ),
    ] = "citizen",
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Database URL (default: the settings, docs/settings.md).",
        ),
    ] = None,
) -> None:
    """Write the approval or refusal notice of a decided track as PDF (identity numbers masked)."""
    from safetynet.cases.notices import notice_data, render_notice
    from safetynet.db.engine import create_database, require_current_schema
    from safetynet.entrypoints.cli.paths import output_file
    from safetynet.settings import load_settings

    if copy not in {"citizen", "file"}:
        err.print(f"error: --copy: {copy!r} is not citizen or file", markup=False)
        raise typer.Exit(2)
    try:
        target = output_file(
            out_file or load_settings().path("notices", f"notice-{track_id}.pdf"), "--out"
        )
        db = create_database(url)
        try:
            require_current_schema(db)
            with db.sessions() as session:
                data = notice_data(session, track_id)
        finally:
            db.dispose()
        pdf = render_notice(data, copy="file" if copy == "file" else "citizen")
    except SafetyNetError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(exc.exit_code) from None
    try:
        target.write_bytes(pdf)
    except OSError as exc:
        err.print(f"error: --out: cannot write {target}: {exc.strerror}", markup=False)
        raise typer.Exit(2) from None
    kind = "approval" if data.decision == "approved" else "refusal"
    out.print(f"wrote the {kind} notice of track {track_id} to {target} ({len(pdf)} bytes)")
