"""The append-only, hash-chained audit log: who changed what, when, from what to what."""

from safetynet.audit.log import GENESIS_HASH, Actor, Problem, append, verify

__all__ = ["GENESIS_HASH", "Actor", "Problem", "append", "verify"]
