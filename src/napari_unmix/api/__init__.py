"""Headless entry points for scripts: file- and array-level functions per tool.

Each tool has its own module (``api/bleedthrough.py``, ``api/picasso.py``, ...); the
public names are re-exported from :mod:`napari_unmix`. Nothing here imports napari, Qt or
matplotlib at import time; omio is imported inside the functions that read or write files.
"""
