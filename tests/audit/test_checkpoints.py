"""The checkpoint file: where it is, and lines that are not checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetynet.audit.checkpoints import checkpoints_path, read_checkpoints, write_checkpoint
from safetynet.audit.keys import parse_keyring

RING = parse_keyring("k:" + "11" * 32, "test")


def test_the_file_is_the_setting_else_beside_sqlite_else_per_postgres_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAFETYNET_AUDIT_CHECKPOINTS", str(tmp_path / "set.jsonl"))
    assert checkpoints_path("sqlite:///x.db") == tmp_path / "set.jsonl"
    monkeypatch.delenv("SAFETYNET_AUDIT_CHECKPOINTS")
    beside = checkpoints_path(f"sqlite:///{tmp_path / 'var' / 'safetynet.db'}")
    assert beside == tmp_path / "var" / "safetynet.audit-checkpoints.jsonl"
    assert checkpoints_path("sqlite://") is None
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert checkpoints_path("postgresql://u@db.example:5433/registry") == (
        tmp_path / "state" / "safetynet" / "audit-checkpoints" / "db.example-5433-registry.jsonl"
    )


def test_lines_that_are_not_checkpoints_are_named(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    write_checkpoint(path, RING, 1, "a" * 64)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"v": 1, "entry_id": "2"}\nnot json\n\n')
    write_checkpoint(path, RING, 2, "b" * 64)
    good, bad = read_checkpoints(path)
    assert [(c.line, c.entry_id) for c in good] == [(1, 1), (5, 2)]
    assert [line for line, _ in bad] == [2, 3, 4]
    assert "not an integer" in bad[0][1]
