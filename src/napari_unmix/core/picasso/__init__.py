"""PICASSO blind unmixing of N fluorescence channels (``I = M F``, ``M`` unknown).

Three implementations (registry :data:`IMPLEMENTATIONS`, :mod:`.implementations`):

* ``matlab_3c`` / ``matlab_n`` — the iterative scheme of the published MATLAB code
  (:mod:`.matlab`), for exactly 3 or any N >= 2 channels;
* ``source_sink_n`` — user-declared source→sink relations, guarded against
  over-subtraction (:mod:`.sourcesink`, noise-aware views from :mod:`.noise`).

The options are written once in :mod:`.options` (:class:`PicassoOptions`,
:class:`PicassoApplyOptions`). Estimation (:mod:`.estimate`) runs on one time point
(``alpha_mode="reference_t"``) or on every time point (``"per_t"``), on at most
``max_alpha_voxels`` voxels (whole Y–X planes for the MATLAB scheme, seeded pixel samples
for source–sink) and returns a :class:`PicassoResult` (:mod:`.result`). Application is
pixel-wise (:func:`apply_unmixing`, :func:`apply_picasso`, :mod:`.apply`) and keeps dask
arrays lazy.

Examples
--------
>>> from napari_unmix.core.synthetic import make_picasso_mix
>>> data, truth = make_picasso_mix(shape=(64, 64), random_state=1)
>>> res = estimate_picasso(data, implementation="source_sink_n")
>>> out = apply_picasso(data, res)
>>> out.shape, out.dtype.name
((1, 1, 3, 64, 64), 'float32')
"""

from .apply import apply_picasso, apply_unmixing, crosstalk_metrics, map_selected_channels
from .checks import build_source_sink_matrix, check_integers, is_integer, validate_channels
from .estimate import (
    auto_pixel_bin_size,
    estimate_picasso,
    iter_estimate_picasso,
    runs_published_loop,
)
from .implementations import IMPLEMENTATIONS
from .options import (
    ALPHA_MODES,
    OUTPUT_UNITS,
    RECOMMENDED_IMPLEMENTATION,
    PicassoApplyOptions,
    PicassoOptions,
)
from .result import InseparableChannelsWarning, NoBleedThroughWarning, PicassoResult, Sweep

__all__ = [
    "ALPHA_MODES",
    "IMPLEMENTATIONS",
    "OUTPUT_UNITS",
    "RECOMMENDED_IMPLEMENTATION",
    "InseparableChannelsWarning",
    "NoBleedThroughWarning",
    "PicassoApplyOptions",
    "PicassoOptions",
    "PicassoResult",
    "Sweep",
    "apply_picasso",
    "apply_unmixing",
    "auto_pixel_bin_size",
    "build_source_sink_matrix",
    "check_integers",
    "crosstalk_metrics",
    "estimate_picasso",
    "is_integer",
    "iter_estimate_picasso",
    "map_selected_channels",
    "runs_published_loop",
    "validate_channels",
]
