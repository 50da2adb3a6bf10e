"""napari dock widgets: thin drivers around :mod:`napari_unmix.api` and :mod:`napari_unmix.core`."""
