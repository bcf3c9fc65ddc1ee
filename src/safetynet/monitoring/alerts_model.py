"""Tables of economic status verification and dynamic monitoring alerts."""

from __future__ import annotations
