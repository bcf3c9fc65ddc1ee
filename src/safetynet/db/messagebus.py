"""The message bus: a command goes to its one handler, an event to every handler that follows it.

Handlers are wired once, in ``safetynet.bootstrap``; an area never imports another area's handlers.
A command runs in one unit of work: the handler's ``uow.commit()`` publishes the events it emitted,
the event handlers of other areas react in the same transaction (and may emit more events), and
then the transaction commits. A failing event handler fails the whole command.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from safetynet.db.unit_of_work import UnitOfWork
from safetynet.errors import UnknownNameError
from safetynet.policy.parameters import ParameterTree

__all__ = ["CommandHandler", "EventHandler", "MessageBus"]

CommandHandler = Callable[[Any, UnitOfWork], Any]
EventHandler = Callable[[Any, UnitOfWork], None]


class MessageBus:
    """``bus.handle(command)`` runs the command's handler in a new unit of work (or in ``uow``,
    whose caller then commits) and returns what the handler returns."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        command_handlers: Mapping[type, CommandHandler],
        event_handlers: Mapping[type, Sequence[EventHandler]],
        parameters: ParameterTree | None = None,
    ) -> None:
        self.sessions = sessions
        self.command_handlers = dict(command_handlers)
        self.event_handlers = {kind: tuple(hs) for kind, hs in event_handlers.items()}
        self.parameters = parameters

    def unit_of_work(self, *, dry_run: bool = False) -> UnitOfWork:
        """A unit of work whose events reach this bus's event handlers."""
        return UnitOfWork(
            self.sessions, parameters=self.parameters, dry_run=dry_run, dispatch=self.dispatch
        )

    def handle(self, command: object, uow: UnitOfWork | None = None) -> Any:
        try:
            handler = self.command_handlers[type(command)]
        except KeyError:
            raise UnknownNameError("command", type(command).__name__) from None
        if uow is not None:
            return handler(command, uow)
        with self.unit_of_work() as fresh:
            result = handler(command, fresh)
            fresh.commit()  # events emitted after the handler's own commit, if any
            return result

    def dispatch(self, event: object, uow: UnitOfWork) -> None:
        """Every handler following ``event``'s class, in the order wired, in ``uow``."""
        for handler in self.event_handlers.get(type(event), ()):
            handler(event, uow)
