"""The users file: token hashes only, roles and regions checked on load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safetynet.entrypoints.api import FileUserDirectory, Role, User, hash_token
from safetynet.errors import InputError


def test_a_yaml_users_file_maps_tokens_to_users_by_their_hash(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(
        "users:\n"
        "  - name: clerk_li\n"
        "    role: intake_clerk\n"
        '    region: "310115"\n'
        f"    token_sha256: {hash_token('s3cret')}\n",
        encoding="utf-8",
    )
    directory = FileUserDirectory.load(path)
    assert directory.authenticate("s3cret") == User("clerk_li", Role.INTAKE_CLERK, "310115")
    assert directory.authenticate("wrong") is None
    assert "s3cret" not in path.read_text(encoding="utf-8")


def test_a_json_users_file(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    entry = {"name": "a", "role": "auditor", "region": "000000", "token_sha256": hash_token("t")}
    path.write_text(json.dumps({"users": [entry]}), encoding="utf-8")
    assert FileUserDirectory.load(path).authenticate("t") == User("a", Role.AUDITOR, "000000")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "a", "role": "auditor", "region": "000000", "token_sha256": "plain"}, "SHA-256"),
        ({"name": "a", "role": "boss", "region": "000000", "token_sha256": "0" * 64}, "boss"),
        ({"name": "a", "role": "auditor", "region": "999999", "token_sha256": "0" * 64}, "999999"),
        ({"name": "a", "role": "auditor", "region": "000000"}, "token_sha256"),
    ],
)
def test_bad_users_are_refused_on_load(tmp_path: Path, entry: dict[str, str], message: str) -> None:
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": [entry]}), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        FileUserDirectory.load(path)


def test_two_users_with_one_token_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    entry = {"name": "a", "role": "auditor", "region": "000000", "token_sha256": hash_token("t")}
    path.write_text(json.dumps({"users": [entry, entry | {"name": "b"}]}), encoding="utf-8")
    with pytest.raises(InputError, match="not unique"):
        FileUserDirectory.load(path)
