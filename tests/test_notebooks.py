"""Researcher notebooks are committed without outputs (``make strip-notebooks`` strips them).

The notebooks themselves are executed top to bottom by ``scripts/run_tests.sh`` (pytest with
nbmake over ``notebooks/``); this module checks what is committed: no outputs, no execution
counts, and every notebook a kernel can run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
#: Notebooks the project promises (README: researcher notebooks); others are checked too.
REQUIRED = ("explore_graph.ipynb", "train_compare.ipynb")


def committed_notebooks() -> list[Path]:
    """Notebooks tracked by git under ``notebooks/`` (every ``*.ipynb`` there without git)."""
    if shutil.which("git") and (ROOT / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "notebooks"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return sorted(ROOT / line for line in out.splitlines() if line.endswith(".ipynb"))
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def stored_state(nb: dict[str, Any]) -> list[str]:
    """What a notebook carries that stripping would remove: outputs and execution counts."""
    problems = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i}: {len(cell['outputs'])} output(s)")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i}: execution_count {cell['execution_count']}")
        if "execution" in cell.get("metadata", {}):
            problems.append(f"cell {i}: execution timing metadata")
    return problems


def test_the_promised_notebooks_exist() -> None:
    names = {p.name for p in committed_notebooks()}
    missing = [n for n in REQUIRED if n not in names]
    assert not missing, f"notebooks missing from {NOTEBOOKS}: {missing}"


@pytest.mark.parametrize("path", committed_notebooks(), ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = stored_state(nb)
    assert not problems, (
        f"{path.name} carries outputs ({'; '.join(problems[:5])}): run `make strip-notebooks` "
        f"(or `nbstripout {path.relative_to(ROOT)}`) before committing"
    )


@pytest.mark.parametrize("path", committed_notebooks(), ids=lambda p: p.name)
def test_notebook_runs_on_the_project_kernel(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert any(c["cell_type"] == "code" for c in nb["cells"]), f"{path.name} has no code"


def test_an_executed_notebook_is_caught(tmp_path: Path) -> None:
    """The check itself: a notebook as Jupyter saves it after a run is refused."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("1 + 1")]
    assert stored_state(json.loads(nbformat.writes(nb))) == []
    nb.cells[1].execution_count = 1
    nb.cells[1].outputs = [
        nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)
    ]
    executed = json.loads(nbformat.writes(nb))
    assert stored_state(executed) == ["cell 1: 1 output(s)", "cell 1: execution_count 1"]
    stripper = shutil.which("nbstripout")
    if stripper:  # the documented fix really fixes it
        target = tmp_path / "executed.ipynb"
        target.write_text(nbformat.writes(nb), encoding="utf-8")
        subprocess.run([stripper, str(target)], check=True)
        assert stored_state(json.loads(target.read_text(encoding="utf-8"))) == []
