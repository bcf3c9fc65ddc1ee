"""The kernel every area uses: the declarative base, the engine and its sessions, the unit of
work, bulk statements, and the migrations of every area's tables."""
