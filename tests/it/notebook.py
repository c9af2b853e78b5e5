"""Executes a notebook with nbclient (a real Jupyter kernel); exits non-zero when a cell fails.

usage: notebook.py NOTEBOOK
"""
import sys

import nbformat
from nbclient import NotebookClient

notebook = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
images = sum(1 for o in outputs if "image/png" in o.get("data", {}))
print(f"executed {sum(1 for c in notebook.cells if c.cell_type == 'code')} code cells, {images} figures")
