"""Assistance beyond cash, second part: services purchased from providers under contract, planned
with cash from one needs assessment, delivered, verified and paid once (docs/services.md)."""
