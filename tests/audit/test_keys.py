"""The audit keyring: its format, its errors (never showing a secret) and adding keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from safetynet.audit.keys import add_key, parse_keyring
from safetynet.errors import InputError


def test_keyring_errors_name_the_line_and_never_the_secret() -> None:
    with pytest.raises(InputError, match=r"row 2.*at least 32") as short:
        parse_keyring("a:" + "11" * 32 + "\nb:" + "22" * 8, "keys.txt")
    assert "22" * 8 not in str(short.value)
    with pytest.raises(InputError, match="appears twice"):
        parse_keyring(f"a:{'11' * 32}, a:{'22' * 32}", "$SAFETYNET_AUDIT_KEY")
    ring = parse_keyring(f"# comment\nold:{'11' * 32}\nnew:{'22' * 32}\n", "keys.txt")
    assert ring.current_id == "new"
    assert ring.has("old")


def test_adding_keys_keeps_the_old_ones_and_the_file_private(tmp_path: Path) -> None:
    path = tmp_path / "audit.keys"
    first = add_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    add_key(path, "2027-01")
    ring = parse_keyring(path.read_text(encoding="utf-8"), str(path))
    assert [k for k, _ in ring.keys] == [first, "2027-01"]
    assert ring.current_id == "2027-01"
    with pytest.raises(InputError, match="already in"):
        add_key(path, "2027-01")


def test_a_key_is_added_on_a_line_of_its_own_after_a_hand_edited_file(tmp_path: Path) -> None:
    path = tmp_path / "audit.keys"
    path.write_text("old:" + "11" * 32, encoding="utf-8")  # no newline at the end
    add_key(path, "new")
    ring = parse_keyring(path.read_text(encoding="utf-8"), str(path))
    assert [k for k, _ in ring.keys] == ["old", "new"]
