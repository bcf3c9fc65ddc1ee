"""Staff accounts of the web workbench: who may sign in, with which role and region, and their
sessions (passwords hashed with Argon2; lock-out after repeated failures)."""
