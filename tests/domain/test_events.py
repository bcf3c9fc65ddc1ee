"""Domain events: subscribers run in the publisher's transaction, in the wiring's order."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from safetynet.domain import events

calls: list[tuple[str, object, Session]] = []


@dataclass(frozen=True)
class SomethingHappened:
    what: str


def first(session: Session, event: object) -> None:
    calls.append(("first", event, session))


def second(session: Session, event: object) -> None:
    calls.append(("second", event, session))
    raise RuntimeError("the subscriber failed")


def test_subscribers_are_called_in_order_and_their_failure_reaches_the_publisher(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    here = __name__
    monkeypatch.setitem(
        events.SUBSCRIBERS, "SomethingHappened", (f"{here}:first", f"{here}:second")
    )
    event = SomethingHappened("x")
    session = Session()
    calls.clear()
    with pytest.raises(RuntimeError, match="subscriber failed"):
        events.publish(session, event)
    assert calls == [("first", event, session), ("second", event, session)]
    calls.clear()
    events.publish(session, object())  # nobody follows it: nothing happens
    assert calls == []


def test_every_wired_handler_exists() -> None:
    for paths in events.SUBSCRIBERS.values():
        for path in paths:
            assert callable(events._handler(path)), path
