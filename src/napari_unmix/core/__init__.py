"""Compute core: numpy / scipy / scikit-learn / scikit-image, arrays in, arrays out.

Nothing here imports napari, Qt, magicgui, matplotlib or omio (see DESIGN.md).
"""
