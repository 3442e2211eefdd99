"""Every teaching notebook in notebooks/ runs top to bottom without an error, and writes nothing.

Each notebook is executed by nbclient in a fresh `python3` kernel (ipykernel
comes with the `test` extra) with DIALER_NOTEBOOK_FAST=1, so that its
simulations use small settings. Any cell that raises fails the test with the
cell's traceback. Figures go through the kernel's inline backend, which
renders every one of them to PNG, so a figure that cannot be drawn fails
too. The kernel runs in an empty temporary directory, which must still be
empty afterwards, and neither the notebook file nor notebooks/ may change:
the executed copy lives in memory only.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_there_are_notebooks_to_run():
    assert NOTEBOOKS, "notebooks/ holds no notebook"


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_without_error_and_writes_nothing(path, tmp_path, monkeypatch):
    monkeypatch.setenv("DIALER_NOTEBOOK_FAST", "1")
    # the kernel must import this checkout's `dialer`, whatever copy is installed
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    before = _listing(NOTEBOOK_DIR)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell and its traceback, on any error
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, errors
    images = sum("image/png" in out.get("data", {}) for cell in nb.cells for out in cell.get("outputs", []))
    figures = sum("plt.show()" in cell.source for cell in nb.cells if cell.cell_type == "code")
    assert images == figures, f"{figures} cells show a figure, {images} figures were drawn"
    assert list(workdir.iterdir()) == [], "the notebook wrote files into its working directory"
    assert _listing(NOTEBOOK_DIR) == before, "the notebook changed notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_a_workshop_notebook(path):
    """Each notebook opens with prose, has a small-settings switch, ends with an exercise, and is stored clean."""
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "DIALER_NOTEBOOK_FAST" in code or "fast()" in code, "no small-settings switch"
    assert any(c.cell_type == "markdown" and "## Exercise" in c.source for c in nb.cells[-3:]), "no exercise at the end"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "stored with outputs"


def test_sliders_are_a_plain_call_at_small_settings(monkeypatch):
    from dialer.teach import Slider, explore, widgets_wanted

    monkeypatch.setenv("DIALER_NOTEBOOK_FAST", "1")
    assert not widgets_wanted()
    seen = []
    explore(lambda agents, live: seen.append((agents, live)), agents=Slider(5, 1, 9, 1), live=Slider(0.25, 0.0, 1.0, 0.05))
    assert seen == [(5, 0.25)]
    monkeypatch.setenv("DIALER_NOTEBOOK_FAST", "0")
    monkeypatch.setenv("DIALER_NOTEBOOK_WIDGETS", "0")
    assert not widgets_wanted()
