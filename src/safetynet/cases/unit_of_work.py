"""The case workflow's unit of work: the registry's, plus the case repository on the same session
and the parameter tree the deadlines are computed from.

Being a registry ``UnitOfWork`` too, it can be handed to registry handlers (``enrol_household``)
so that a decision and the enrolment it starts are one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from safetynet.cases.repository import CaseRepository
from safetynet.db.calendar_years import sync_calendar
from safetynet.policy.parameters import ParameterTree, default_tree
from safetynet.registry.unit_of_work import UnitOfWork

__all__ = ["CaseUnitOfWork"]


class CaseUnitOfWork(UnitOfWork):
    """``with CaseUnitOfWork(db.sessions) as uow: ...``; ``parameters`` defaults to the shipped
    parameter tree (a test or a locality can hand in another)."""

    cases: CaseRepository

    def __init__(
        self, sessions: sessionmaker[Session], parameters: ParameterTree | None = None
    ) -> None:
        super().__init__(sessions)
        self._parameters = parameters
        self._held = False

    @property
    def parameters(self) -> ParameterTree:
        if self._parameters is None:
            self._parameters = default_tree()
        return self._parameters

    def __enter__(self) -> CaseUnitOfWork:
        super().__enter__()
        self.cases = CaseRepository(self.session)
        # Deadlines follow the calendar years added in the registry, also by another process.
        sync_calendar(self.session)
        return self

    def commit(self) -> None:
        if self._held:
            self.session.flush()
        else:
            super().commit()

    @contextmanager
    def held_commits(self) -> Iterator[None]:
        """Inside the block, registry handlers that commit only flush: several of them (end one
        enrolment, start the next) and the case step become one transaction, committed after."""
        self._held = True
        try:
            yield
        finally:
            self._held = False
