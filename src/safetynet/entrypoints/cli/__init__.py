"""The ``safetynet`` command line."""
