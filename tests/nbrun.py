"""Execute a MyST Markdown notebook in a fresh kernel (used by the notebook tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 300, kernel_name: str = "python3"):
    """Run every cell of ``path`` top to bottom in a new kernel; return the notebook.

    Raises nbclient's ``CellExecutionError`` (with the failing cell and traceback)
    if any cell raises.
    """
    nb = jupytext.read(path)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    return nb


if __name__ == "__main__":  # used by the fresh-environment (Binder) test
    for arg in sys.argv[1:]:
        execute(Path(arg))
        print(f"ok {arg}", flush=True)
