"""Every path a command takes is checked before work starts: a directory where a file is expected, a
missing input, an output under a file give one line naming the option, exit 2, never a traceback.

The commands are found by walking the CLI, so a new path option that nobody classified below fails
this test until it is checked (``safetynet.entrypoints.cli.paths``) and listed here.
"""

from __future__ import annotations

import inspect
import shutil
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from safetynet.entrypoints.cli.main import app
from safetynet.entrypoints.cli.paths import input_file, output_dir, output_file
from safetynet.errors import InputError

INPUT_FILE, INPUT_DIR, INPUT_ANY, OUTPUT_FILE, OUTPUT_DIR = (
    "in",
    "in-dir",
    "in-any",
    "out",
    "out-dir",
)

# (command, parameter) -> what the path must be.
KINDS = {
    ("calc", "input_file"): INPUT_FILE,
    ("calc", "batch"): INPUT_FILE,
    ("calc", "out_file"): OUTPUT_FILE,
    ("calc", "fallback_parameters"): INPUT_FILE,
    ("screen", "input_file"): INPUT_FILE,
    ("screen", "fallback_parameters"): INPUT_FILE,
    ("cases run", "path"): INPUT_ANY,
    ("demo", "workdir"): OUTPUT_DIR,
    ("import households", "file"): INPUT_FILE,
    ("import households", "quarantine"): OUTPUT_FILE,
    ("import roll", "file"): INPUT_FILE,
    ("import roll", "quarantine"): OUTPUT_FILE,
    ("import caseload", "snapshot"): INPUT_DIR,
    ("import caseload", "fallback_parameters"): INPUT_FILE,
    ("import contributions", "file"): INPUT_FILE,
    ("import contributions", "quarantine"): OUTPUT_FILE,
    ("contributions import", "file"): INPUT_FILE,
    ("contributions import", "quarantine"): OUTPUT_FILE,
    ("run-month", "snapshot"): INPUT_DIR,
    ("run-month", "feeds"): INPUT_DIR,
    ("run-month", "out"): OUTPUT_DIR,
    ("run-month", "bank_files"): OUTPUT_DIR,
    ("run-month", "fallback_parameters"): INPUT_FILE,
    ("synth-accounts", "out"): OUTPUT_FILE,
    ("synth-households", "out_file"): OUTPUT_FILE,
    ("snapshot", "out_dir"): OUTPUT_DIR,
    ("synth", "out_dir"): OUTPUT_DIR,
    ("synth-feeds", "snapshot"): INPUT_DIR,
    ("synth-feeds", "out_dir"): OUTPUT_DIR,
    ("serve", "users"): INPUT_FILE,
    ("feeds load", "file"): INPUT_FILE,
    ("feeds load", "quarantine"): OUTPUT_FILE,
    ("notice", "out_file"): OUTPUT_FILE,
    ("payments accounts import", "file"): INPUT_FILE,
    ("payments accounts import", "quarantine"): OUTPUT_FILE,
    ("payments bank-file", "out_dir"): OUTPUT_DIR,
    ("payments reconcile", "file"): INPUT_FILE,
    ("payments reconcile", "quarantine"): OUTPUT_FILE,
    ("monitor verify", "fallback_parameters"): INPUT_FILE,
    # Read if it is there; a missing checkpoint file is verify's own finding (exit 1).
    ("audit verify", "checkpoints"): OUTPUT_FILE,
    ("audit checkpoint", "checkpoints"): OUTPUT_FILE,
    ("audit new-key", "keyring"): OUTPUT_FILE,
    ("feeds quarantine", "out_file"): OUTPUT_FILE,
    ("calendar add-year", "file"): INPUT_FILE,
    ("monitor run", "fallback_parameters"): INPUT_FILE,
    ("simulate standard", "cpi"): INPUT_FILE,
    ("simulate standard", "snapshot"): INPUT_DIR,
    ("simulate standard", "fallback_parameters"): INPUT_FILE,
    ("simulate standard", "xlsx"): OUTPUT_FILE,
    ("simulate standard", "charts"): OUTPUT_DIR,
    ("stats", "xlsx"): OUTPUT_FILE,
    ("project", "reform"): INPUT_FILE,
    ("project", "xlsx"): OUTPUT_FILE,
    ("project", "charts"): OUTPUT_DIR,
    ("services plan", "household"): INPUT_FILE,
    ("services plan", "fallback_parameters"): INPUT_FILE,
    ("charity refer", "household"): INPUT_FILE,
    ("charity refer", "fallback_parameters"): INPUT_FILE,
}

# Inputs checked by their reader (``read_table`` and the like): one line naming the file, not the
# option; the rest of the class goes through ``safetynet.entrypoints.cli.paths``.
READER_CHECKED = {
    ("import households", "file"),
    ("import roll", "file"),
    ("import contributions", "file"),
    ("contributions import", "file"),
    ("feeds load", "file"),
    ("payments accounts import", "file"),
    ("payments reconcile", "file"),
}

# Values for the other required arguments: well formed, so only the path under test can fail.
VALUES = {
    "month": "2025-09",
    "from_month": "2025-09",
    "program_name": "dibao",
    "kind": "deaths",
    "id_number": "110105198001010112",
    "valid_from": "2025-09-01",
    "end_date": "2025-09-01",
    "county": "310115",
    "amount": "100",
    "reason": "checked",
    "to": "clerk",
    "year": "2027",
    "date": "2026-12-25",
}


def _commands() -> Iterator[tuple[str, Any]]:
    root = typer.main.get_command(app)
    ctx = typer.Context(root)

    def walk(cmd: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
        if isinstance(cmd, TyperGroup):
            for name in cmd.list_commands(ctx):
                yield from walk(cmd.get_command(ctx, name), [*path, name])
        else:
            yield " ".join(path), cmd

    yield from walk(root, [])


def _is_path(hint: Any) -> bool:
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    return hint is Path or Path in typing.get_args(hint)


def _path_params() -> list[tuple[str, Any, Any]]:
    found = []
    for name, cmd in _commands():
        hints = typing.get_type_hints(inspect.unwrap(cmd.callback), include_extras=True)
        for param in cmd.params:
            if param.name in hints and _is_path(hints[param.name]):
                found.append((name, cmd, param))
    return found


PATH_PARAMS = _path_params()


def test_every_path_option_is_classified() -> None:
    unknown = [(name, p.name) for name, _cmd, p in PATH_PARAMS if (name, p.name) not in KINDS]
    assert unknown == [], "check these with safetynet.entrypoints.cli.paths and list them"


def _label(param: Any) -> str:
    return str(
        max(param.opts, key=len) if param.param_type_name == "option" else param.name.upper()
    )


def _args(cmd: Any, command: str, under_test: Any, bad: str, tmp_path: Path, url: str) -> list[str]:
    good_file = tmp_path / "good.txt"
    good_file.write_text("", encoding="utf-8")
    good_dir = tmp_path / "good-dir"
    good_dir.mkdir(exist_ok=True)
    args = command.split()
    for param in cmd.params:
        if param is under_test:
            value = bad
        elif (command, param.name) in KINDS and (
            param.required or KINDS[(command, param.name)] == INPUT_DIR
        ):
            kind = KINDS[(command, param.name)]
            value = str(good_file if kind in (INPUT_FILE, INPUT_ANY) else good_dir)
            if kind == OUTPUT_FILE:
                value = str(tmp_path / "out" / "written.csv")
        elif param.name == "url":
            value = url
        elif param.required:
            value = VALUES.get(param.name, "1")
        else:
            continue
        if param.param_type_name == "option":
            args += [max(param.opts, key=len), value]
        else:
            args.append(value)
    return args


def _bad_values(kind: str, tmp_path: Path) -> list[tuple[str, str]]:
    a_dir = tmp_path / "a-folder"
    a_dir.mkdir(exist_ok=True)
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("not a folder", encoding="utf-8")
    missing = tmp_path / "missing" / "nothing.csv"
    under_a_file = a_file / "inside" / "x.csv"
    return {
        INPUT_FILE: [(str(a_dir), "is a directory"), (str(missing), "does not exist")],
        INPUT_ANY: [(str(missing), "does not exist")],
        INPUT_DIR: [(str(a_file), "is a file"), (str(missing), "does not exist")],
        OUTPUT_FILE: [(str(a_dir), "is a directory"), (str(under_a_file), "is a file")],
        OUTPUT_DIR: [(str(a_file), "is a file"), (str(under_a_file), "is a file")],
    }[kind]


@pytest.mark.parametrize(
    ("command", "cmd", "param"),
    PATH_PARAMS,
    ids=[f"{name}:{p.name}" for name, _cmd, p in PATH_PARAMS],
)
def test_a_bad_path_is_one_line_naming_the_option(
    command: str, cmd: Any, param: Any, tmp_path: Path, sqlite_template: Path
) -> None:
    database = tmp_path / "registry.db"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite:///{database}"
    for bad, reason in _bad_values(KINDS[(command, param.name)], tmp_path):
        args = _args(cmd, command, param, bad, tmp_path, url)
        result = CliRunner().invoke(app, args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{args}: {result.exception!r}"
        )
        assert "Traceback" not in result.output
        assert result.exit_code == 2, f"{args}: {result.output}"
        errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, f"{args}: {result.output}"
        if (command, param.name) in READER_CHECKED:
            assert bad in errors[0]
            continue
        assert _label(param) in errors[0], f"{args}: {result.output}"
        assert reason in errors[0], f"{args}: {result.output}"


def test_an_output_gets_its_folder_created(tmp_path: Path) -> None:
    assert output_file(tmp_path / "a" / "b" / "n.pdf", "--out") == tmp_path / "a" / "b" / "n.pdf"
    assert (tmp_path / "a" / "b").is_dir()
    output_dir(tmp_path / "c" / "d", "--out")
    assert (tmp_path / "c").is_dir()
    with pytest.raises(InputError, match=r"--input: .* is a directory"):
        input_file(tmp_path, "--input")
