"""The registry of households and persons: the system of record, its migrations and bulk imports."""
