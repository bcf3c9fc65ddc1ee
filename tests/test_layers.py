"""The dependency rule holds (docs/architecture.md): the layer contract in pyproject.toml is kept,
and no module outside the entry points hides an import inside a function unless a comment on that
line says why (``# deferred: <why>``, e.g. an optional heavy library only one path needs)."""

from __future__ import annotations

import ast
import io
import subprocess
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "safetynet"


def test_the_layer_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def _commented_lines(source: str) -> set[int]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {tok.start[0] for tok in tokens if tok.type == tokenize.COMMENT}


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _function_imports(
    tree: ast.AST, in_function: bool = False
) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(tree):
        if _is_type_checking(child):
            continue
        if in_function and isinstance(child, ast.Import | ast.ImportFrom):
            found.append(child)
        inner = in_function or isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        found += _function_imports(child, inner)
    return found


def uncommented_function_imports() -> list[str]:
    """``path:line: statement`` for every import inside a function body, outside the entry
    points, with no comment on its lines."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "entrypoints":
            continue
        source = path.read_text(encoding="utf-8")
        commented = _commented_lines(source)
        for node in _function_imports(ast.parse(source)):
            end = node.end_lineno or node.lineno
            if not commented & set(range(node.lineno, end + 1)):
                offenders.append(f"safetynet/{relative}:{node.lineno}: {ast.unparse(node)}")
    return offenders


def test_an_import_inside_a_function_says_why() -> None:
    assert uncommented_function_imports() == []
