"""The repository is self-contained: no tracked file cites or links to a path outside it.

A citation must name the regulation (title, document number, article) or the secondary source in
words, never a notes file on one developer's machine that a user of a clone cannot open.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Patterns and the samples below are spelled in parts so that this file does not match itself.
OUTSIDE_MARKERS = (
    "shared" + "/policy",
    ".." + "/shared",
    "RULES" + ".md",  # the research notes kept next to the repository, never in it
)
# Absolute paths into a machine's work or home folders.
MACHINE_PATH = re.compile(r"(?<![\w.:/])/(?:work|home|Users)/[\w.-]+")
# A relative path that climbs out of its folder; "..." (an ellipsis in a quoted path) is not one.
RELATIVE_UP = re.compile(r"(?<![\w.])((?:\.\./)+[\w./-]*)")


def tracked_files(root: Path) -> list[Path]:
    """The files git tracks in root (the working-tree copy, so uncommitted edits count)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    return [root / name for name in listing.split("\0") if name]


def outside_references(root: Path, files: Iterable[Path]) -> list[str]:
    """Every line of a text file that names a path outside root, as 'file:line: reason'."""
    root = root.resolve()
    inside = {f.resolve() for f in files}
    inside |= {parent for f in inside for parent in f.parents if parent.is_relative_to(root)}
    found: list[str] = []
    for path in sorted(files):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue  # binary data, or a tracked file deleted in the working tree
        label = path.relative_to(root).as_posix()
        for number, line in enumerate(text.splitlines(), start=1):
            for marker in OUTSIDE_MARKERS:
                if marker in line:
                    found.append(f"{label}:{number}: names {marker!r}")
            for match in MACHINE_PATH.finditer(line):
                found.append(f"{label}:{number}: names the machine path {match.group()!r}")
            for match in RELATIVE_UP.finditer(line):
                target = (path.parent / match.group(1)).resolve()
                if target not in inside:
                    found.append(
                        f"{label}:{number}: {match.group(1)!r} is not a file or folder of the repository"
                    )
    return found


def test_no_tracked_file_names_a_path_outside_the_repository() -> None:
    found = outside_references(ROOT, tracked_files(ROOT))
    assert found == [], "cite the source itself, not a path outside the repository:\n" + "\n".join(
        found
    )


@pytest.mark.parametrize(
    "line",
    [
        "note: unverified [M] (" + "shared" + "/policy/" + "RULES" + ".md §9)",
        "# Worked example E4.1 of " + "RULES" + ".md §4",
        "see .." + "/.." + "/shared/notes.md for the source",
        "read in /work/" + "notes/rules.txt",
        "copied from /home/" + "dev/policy.md",
    ],
)
def test_a_pointer_outside_the_repository_is_found(tmp_path: Path, line: str) -> None:
    (tmp_path / "docs").mkdir()
    doc = tmp_path / "docs" / "page.md"
    doc.write_text(f"# Page\n{line}\n", encoding="utf-8")
    found = outside_references(tmp_path, [doc])
    assert found
    assert all(f.startswith("docs/page.md:2: ") for f in found)


@pytest.mark.parametrize(
    "line",
    [
        "see .." + "/cases/e1.yaml",  # a relative link to a file of the repository
        "verbatim copy in Jan-mx/Socila .../evidence/310000/extracted-text.txt",  # another repository
        'db = bootstrap("sqlite:////tmp/dev.db")',  # an example path, not a citation
        "国发〔2005〕38号 annex 个人账户养老金计发月数表",
    ],
)
def test_a_citation_inside_the_repository_is_accepted(tmp_path: Path, line: str) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "cases").mkdir()
    case = tmp_path / "cases" / "e1.yaml"
    case.write_text("[]\n", encoding="utf-8")
    doc = tmp_path / "docs" / "page.md"
    doc.write_text(f"# Page\n{line}\n", encoding="utf-8")
    assert outside_references(tmp_path, [doc, case]) == []
