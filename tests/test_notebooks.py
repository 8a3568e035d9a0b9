"""Every research notebook executes top to bottom without error (committed without outputs)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
#: Notebooks that show figures and end with a conclusion a code cell checks against the numbers.
CONCLUDED = ("01_quickstart", "03_sweep_and_overfitting")


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear outputs before commit"


@pytest.mark.parametrize("stem", CONCLUDED)
def test_notebook_ends_with_a_conclusion_its_numbers_check(stem):
    nb = nbformat.read(next(p for p in NOTEBOOKS if p.stem == stem), as_version=4)
    last, check = nb.cells[-1], nb.cells[-2]
    assert last.cell_type == "markdown" and last.source.startswith("# Conclusion")
    assert check.cell_type == "code" and check.source.count("assert ") >= 2, "the conclusion must be asserted"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, shared_data):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    if path.stem in CONCLUDED:
        figures = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
        assert len(figures) >= 2, f"{path.name} shows {len(figures)} figure(s)"
