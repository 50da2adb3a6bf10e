"""One module per tool for ``make demo``; each has ``run(output_dir) -> list[dict]``.

:mod:`napari_unmix.demo` runs every module of this package in :data:`ORDER` (then any
other module, alphabetically) and prints one summary table.
"""

#: Demos that must run first (later ones may use their outputs).
ORDER = ("samples",)
