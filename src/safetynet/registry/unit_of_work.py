"""The unit of work: one session, one transaction, committed only when the handler says so."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from safetynet.registry.repository import RegistryRepository

__all__ = ["DryRunUnitOfWork", "UnitOfWork"]


class UnitOfWork:
    """``with UnitOfWork(db.sessions) as uow: ...; uow.commit()`` — anything not committed is
    rolled back when the block ends, including on error."""

    session: Session
    registry: RegistryRepository

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.registry = RegistryRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


class DryRunUnitOfWork(UnitOfWork):
    """A unit of work that never writes: ``commit`` only flushes, so the handler's checks
    against the database run in full (``--dry-run``), and everything is rolled back at the end."""

    def commit(self) -> None:
        self.session.flush()
