"""The package's layers hold (README: Layout): import-linter's contracts in ``.importlinter`` pass
(layers cli > pipelines > scale > stages > ffmpeg | effects > compiler > errors, a pure compiler, no
cycles), and no ffvfx module is imported inside a function body, where a cycle could hide.

Imports inside functions are for heavy optional dependencies only (torch, diffusers, ray ...), which
this test does not look at.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import importlinter  # noqa: F401  (the test extra installs it; CI must not skip this)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ffvfx"


def test_import_linter_contracts_pass():
    lint = Path(sys.executable).with_name("lint-imports")
    res = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "0 broken" in res.stdout


def _imports_in_functions(path: Path) -> list[str]:
    """``module:line imported`` for each ffvfx import inside a function body of ``path``."""
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if in_function and isinstance(child, ast.ImportFrom) and child.level == 0 \
                    and (child.module or "").split(".")[0] == "ffvfx":
                found.append(f"{path.relative_to(ROOT)}:{child.lineno} {child.module}")
            elif in_function and isinstance(child, ast.ImportFrom) and child.level > 0:
                found.append(f"{path.relative_to(ROOT)}:{child.lineno} (relative import)")
            elif in_function and isinstance(child, ast.Import):
                found.extend(f"{path.relative_to(ROOT)}:{child.lineno} {a.name}" for a in child.names
                             if a.name.split(".")[0] == "ffvfx")
            visit(child, inside)

    visit(ast.parse(path.read_text()), False)
    return found


def test_no_ffvfx_import_inside_a_function():
    found = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _imports_in_functions(path)]
    assert not found, "ffvfx imports inside functions (move them to the top):\n" + "\n".join(found)


def test_the_checker_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    """The scan above is not vacuous: it finds the pattern it forbids."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ffvfx.ffmpeg import probe\n    import numpy\n")
    assert _imports_in_functions(probe) == ["probe.py:2 ffvfx.ffmpeg"]
