"""Randomised scenario generators with known truth, one module per tool.

Each module draws scenes across the conditions users have (units and counts, noise,
backgrounds, object and image sizes, similar spectra, NaNs) from a ``random_state`` and
returns the data with its ground truth. ``make bench`` tabulates accuracy over them
(``benchmarks/bench_*scenarios*.py``); the tests run small seeded subsets. Defaults are
chosen on these tables, never on one sample.

Modules are imported by name (``from napari_unmix.core.scenarios import hyperspectral``);
this package re-exports nothing, so adding a generator touches one file.
"""
