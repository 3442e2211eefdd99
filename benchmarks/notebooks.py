"""Teaching notebooks at workshop settings: wall time of each, run top to bottom headless.

    python benchmarks/notebooks.py [NOTEBOOK ...]     (default: every notebook in notebooks/)

Runs each notebook with nbclient as a workshop would (DIALER_NOTEBOOK_FAST
unset: full settings; sliders replaced by plain calls, DIALER_NOTEBOOK_WIDGETS=0)
and prints a table of seconds per notebook. The issue's bar: under a minute each.
The test suite runs the same notebooks at small settings (tests/test_notebooks.py).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    os.environ.pop("DIALER_NOTEBOOK_FAST", None)
    os.environ["DIALER_NOTEBOOK_WIDGETS"] = "0"
    table = Table(title="Teaching notebooks at workshop settings (headless, top to bottom)")
    table.add_column("notebook")
    table.add_column("seconds", justify="right")
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        table.add_row(path.name, f"{time.perf_counter() - t0:.1f}")
    Console(width=100).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
