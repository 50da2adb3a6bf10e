"""File input/output: OMIO images, JSON sidecars, spectra CSV. No Qt, no napari."""
