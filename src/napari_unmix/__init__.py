"""napari-unmix: unmixing for microscopy, in napari and from scripts.

The public script API is importable from here; the names are loaded on first use, so
``import napari_unmix`` stays light (no napari, Qt, matplotlib or omio is imported).

Examples
--------
>>> import napari_unmix
>>> data, truth = napari_unmix.make_bleedthrough_stack(n_t=1, n_z=1, shape=(16, 16))
>>> napari_unmix.to_tzcyx(data[0, 0]).shape
(1, 1, 2, 16, 16)
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("napari-unmix")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

# public name -> module that defines it (one line per name; add new tools here)
_EXPORTS: dict[str, str] = {
    # foundation
    "to_tzcyx": "napari_unmix.core.axes",
    "from_tzcyx": "napari_unmix.core.axes",
    "read_image": "napari_unmix.io.omio_io",
    "write_image": "napari_unmix.io.omio_io",
    "read_sidecar": "napari_unmix.io.sidecar",
    "read_spectra_csv": "napari_unmix.io.spectra",
    "write_spectra_csv": "napari_unmix.io.spectra",
    "make_bleedthrough_stack": "napari_unmix.core.synthetic",
    "make_picasso_mix": "napari_unmix.core.synthetic",
    "make_bead_cube": "napari_unmix.core.synthetic",
    "make_ste": "napari_unmix.core.synthetic",
    # ROI suggester
    "make_similar_bead_cube": "napari_unmix.core.synthetic",
    "suggest_rois": "napari_unmix.api.suggest",
    "Suggestions": "napari_unmix.api.suggest",
    # STNMF
    "make_ste_sparse": "napari_unmix.core.synthetic",
    "STNMF": "napari_unmix.api.stnmf",
    "spike_triggered_ensemble": "napari_unmix.api.stnmf",
    "load_ste": "napari_unmix.api.stnmf",
    "select_sparsity": "napari_unmix.api.stnmf",
    "stnmf_file": "napari_unmix.api.stnmf",
    "stnmf_cells": "napari_unmix.api.stnmf",
    "spike_triggered_average": "napari_unmix.api.stnmf",
    "temporal_filter_from_sta": "napari_unmix.api.stnmf",
    # bleed-through correction
    "unmix": "napari_unmix.api.bleedthrough",
    "unmix_array": "napari_unmix.api.bleedthrough",
    "estimate_alpha": "napari_unmix.api.bleedthrough",
    "report_path_from_output_path": "napari_unmix.api.bleedthrough",
    "apply_correction": "napari_unmix.core.bleedthrough",
    # seeded NNMF / fixed-H NNLS (issue 10)
    "nnls_unmix": "napari_unmix.api.nmf",
    "seeded_nnmf": "napari_unmix.api.nmf",
    "iter_seeded_nnmf": "napari_unmix.api.nmf",
    "random_nnmf": "napari_unmix.api.nmf",
    "iter_random_nnmf": "napari_unmix.api.nmf",
    "pca": "napari_unmix.api.nmf",
    "save_result": "napari_unmix.api.nmf",
    "load_spectra": "napari_unmix.api.nmf",
    "nnls_unmix_file": "napari_unmix.api.nmf",
    "seeded_nnmf_file": "napari_unmix.api.nmf",
    "random_nnmf_file": "napari_unmix.api.nmf",
    "nnmf_file": "napari_unmix.api.nmf",
    "UnmixResult": "napari_unmix.api.nmf",
    "ComponentSeed": "napari_unmix.core.seeds",
    "SeedSet": "napari_unmix.core.seeds",
    "prepare_seeds": "napari_unmix.core.seeds",
    # hyperspectral maps
    "make_two_region_cube": "napari_unmix.core.synthetic",
    "intensity_map": "napari_unmix.api.hsmap",
    "ratio_map": "napari_unmix.api.hsmap",
    "cluster_map": "napari_unmix.api.hsmap",
    "map_metrics": "napari_unmix.api.hsmap",
    "choose_k": "napari_unmix.api.hsmap",
    "cube_from_rows": "napari_unmix.api.hsmap",
    "read_pixel_spectra": "napari_unmix.api.hsmap",
    "write_map_report": "napari_unmix.api.hsmap",
    "map_report_file": "napari_unmix.api.hsmap",
    "Preprocessing": "napari_unmix.core.preprocess",
    # large data (issue 5)
    "read_zarr": "napari_unmix.io.zarr_io",
    "write_zarr": "napari_unmix.io.zarr_io",
    "read_lazy": "napari_unmix.io.zarr_io",
    # PICASSO blind unmixing
    "unmix_picasso": "napari_unmix.api.picasso",
    "unmix_picasso_array": "napari_unmix.api.picasso",
    # stack tools
    "apply_filters": "napari_unmix.core.stack_tools",
    "match_histograms_across_time": "napari_unmix.core.stack_tools",
    "max_z_project": "napari_unmix.core.stack_tools",
    "correct_intra_stack_z_drift": "napari_unmix.core.stack_tools",
    "register_stack": "napari_unmix.core.stack_tools",
    "apply_shifts": "napari_unmix.core.stack_tools",
    "apply_stack_tool": "napari_unmix.api.stack_tools",
    "apply_stack_tool_file": "napari_unmix.api.stack_tools",
    "convert_time_encoded_stack_to_channel_stack": "napari_unmix.api.stack_tools",
    "show_all_channels_in_napari": "napari_unmix.viewer_helpers",
    "show_unmixed_channels_in_napari": "napari_unmix.viewer_helpers",
    # files, spectral axes, batches and re-use (issue 20)
    "read_envi": "napari_unmix.io.envi",
    "read_zarr_levels": "napari_unmix.io.zarr_io",
    "resolve_spectral_axis": "napari_unmix.io.spectral_axis",
    "read_axis_file": "napari_unmix.io.spectral_axis",
    "expand_inputs": "napari_unmix.api.batch",
    "run_batch": "napari_unmix.api.batch",
    "reapply": "napari_unmix.api.reapply",
    "reapply_plan": "napari_unmix.api.reapply",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'napari_unmix' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
