"""Where long intake steps report how far they are (a Rich progress bar in the CLI, or nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    pass

__all__ = ["NullProgress", "ProgressSink"]


class ProgressSink(Protocol):
    """Where long steps report how far they are (a Rich progress bar, or nothing)."""

    def start(self, description: str, total: int) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


class NullProgress:
    def start(self, description: str, total: int) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass
