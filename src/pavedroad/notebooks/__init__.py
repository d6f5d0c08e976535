"""Notebooks: reading nbformat 4 files robustly, and the Python their code cells run.

`reader` is the only part the import index needs, so this package imports nothing on its own:
`pavedroad.imports` (run in worker processes) pays for the reader and nothing else.
"""
