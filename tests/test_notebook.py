"""The quickstart notebook runs, top to bottom, on a real Jupyter kernel (nbclient): the Python
API it shows cannot drift from the code. The notebook is stored without outputs."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from cli_helpers import ROOT

NOTEBOOK = ROOT / "examples" / "notebooks" / "quickstart.ipynb"


def test_quickstart_notebook_runs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "strip outputs"
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": NOTEBOOK.parent}}
    ).execute()
    text = "\n".join(
        str(o.get("data", {}).get("text/plain", "")) + str(o.get("text", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "error" not in [o.get("output_type") for c in nb.cells for o in c.get("outputs", [])]
    assert "sell_all" in text and "hold_all" in text  # the comparison rendered
    figures = [o for c in nb.cells for o in c.get("outputs", []) if "data" in o]
    assert any(
        "application/vnd.plotly.v1+json" in o["data"] or "text/html" in o["data"] for o in figures
    )
