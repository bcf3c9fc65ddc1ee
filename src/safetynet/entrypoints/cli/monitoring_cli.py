"""``safetynet monitor``: economic status verification and dynamic monitoring alerts."""

from __future__ import annotations

import typer

__all__ = ["monitor_app"]

monitor_app = typer.Typer(
    help="Economic status verification and dynamic monitoring alerts.", no_args_is_help=True
)
