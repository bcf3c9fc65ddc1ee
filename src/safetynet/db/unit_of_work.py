"""The one unit of work of every area: one session, one transaction, the repositories on it, the
parameter tree in force, and the events the handlers emit.

A handler takes ``(command, uow)``; it reads and writes through ``uow.repo(SomeRepository)`` (one
repository per kind, built on the unit of work's session) and says what happened with
``uow.emit(event)``. ``uow.commit()`` first hands every emitted event to the message bus, whose
event handlers (other areas) react inside the same transaction, then commits: what an event reports
and its consequences are committed together or not at all.

Outside a bus (a unit test of one handler) the events are only collected
(``collect_new_events``); nothing else reacts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy import event as orm_events
from sqlalchemy.orm import Session, sessionmaker

from safetynet.db.calendar_years import sync_calendar
from safetynet.policy.parameters import ParameterTree, default_tree

__all__ = ["Dispatch", "UnitOfWork"]

R = TypeVar("R")
Dispatch = Callable[[object, "UnitOfWork"], None]


def _sync_calendar(_session: Session, _transaction: Any, connection: Connection) -> None:
    sync_calendar(connection)


class UnitOfWork:
    """``with UnitOfWork(db.sessions) as uow: ...; uow.commit()`` — anything not committed is
    rolled back when the block ends, including on error.

    ``dry_run``: ``commit`` only flushes, so every check against the database runs in full and
    everything is rolled back at the end (``--dry-run``). ``parameters`` defaults to the shipped
    tree (a test or a locality can hand in another). ``dispatch`` is the message bus's event
    dispatcher (``safetynet.bootstrap``)."""

    session: Session

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        parameters: ParameterTree | None = None,
        dry_run: bool = False,
        dispatch: Dispatch | None = None,
    ) -> None:
        self._sessions = sessions
        self._parameters = parameters
        self.dry_run = dry_run
        self._dispatch = dispatch
        self._held = 0
        self._repositories: dict[Callable[[Session], Any], Any] = {}
        self._events: deque[object] = deque()

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self._repositories = {}
        self._events = deque()
        # Deadlines follow the calendar years added in the registry, also by another process:
        # looked at when the transaction begins (not before, so no lock is taken early).
        orm_events.listen(self.session, "after_begin", _sync_calendar)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    @property
    def parameters(self) -> ParameterTree:
        if self._parameters is None:
            self._parameters = default_tree()
        return self._parameters

    def repo(self, kind: Callable[[Session], R]) -> R:
        """The repository of ``kind`` on this unit of work's session (one per kind)."""
        repository = self._repositories.get(kind)
        if repository is None:
            repository = self._repositories[kind] = kind(self.session)
        return repository

    # -- events ---------------------------------------------------------------------------------

    def emit(self, *events: object) -> None:
        """Say what happened; the bus's event handlers react before the commit."""
        self._events.extend(events)

    def collect_new_events(self) -> Iterator[object]:
        while self._events:
            yield self._events.popleft()

    def publish(self) -> None:
        """Hand the emitted events (and those their handlers emit) to the bus, in order."""
        if self._dispatch is None:
            return
        for event in self.collect_new_events():
            self._dispatch(event, self)

    # -- the transaction ------------------------------------------------------------------------

    def commit(self) -> None:
        """Publish the events, then commit (only flush inside ``held_commits`` or a dry run)."""
        self.publish()
        if self._held or self.dry_run:
            self.session.flush()
        else:
            self.session.commit()

    def rollback(self) -> None:
        self._events.clear()
        self.session.rollback()

    @contextmanager
    def held_commits(self) -> Iterator[None]:
        """Inside the block, handlers that commit only flush: several of them (end one enrolment,
        start the next) and the caller's step become one transaction, committed after."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
