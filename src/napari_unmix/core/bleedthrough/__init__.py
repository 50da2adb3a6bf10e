"""Two-channel bleed-through correction: estimate alpha, apply the correction.

Model: the source channel measures ``S``, the target channel measures ``T + alpha*S``.
The correction is ``I_target - alpha*I_source`` (then optionally clipped at 0); only the
target changes. The bidirectional model ``I_s = S + a_r*T``, ``I_t = T + a*S`` is solved by
inverting the 2x2 mixing matrix.

Estimation optionally subtracts a low percentile as background, selects bright-source
voxels (the mask) and runs one estimator from :data:`ALPHA_METHODS` on them. When the
volume has at most ``max_alpha_voxels`` voxels, every voxel is used and no randomness is
involved. Larger volumes: the percentiles and the mask are exact over the whole volume
(as the ``spectral-unmixing`` package computes them) and a mask larger than
``max_alpha_voxels`` is subsampled (seeded), found without sorting or copying the volume:
a seeded sample of ``min(max_alpha_voxels, 16384)`` voxels brackets each percentile,

* numpy input: one comparison pass keeps the tail beyond the bracket, ``np.partition``
  runs on the tail only (a count check makes it exact; a failed bracket falls back to a
  partition of the volume);
* dask input: bounded passes over the blocks, never the whole volume at once
  (:mod:`.lazy`): window counts and the values inside the windows, the mask
  size per block, then only the mask voxels (or the seeded picks of them).

numpy and dask input therefore give bit-identical alphas, intervals and reports.

Modules: :mod:`.options` (every setting, :data:`ALPHA_MODES`), :mod:`.estimators`
(:data:`ALPHA_METHODS`, the bootstrap), :mod:`.sampling` (sample, preprocessing, mask),
:mod:`.exact` and :mod:`.lazy` (whole-volume percentiles of numpy and dask volumes),
:mod:`.estimate` (:func:`estimate_alpha`), :mod:`.apply` (the correction).

Examples
--------
>>> from napari_unmix.core.synthetic import make_bleedthrough_stack
>>> data, truth = make_bleedthrough_stack(n_t=1, n_z=2, shape=(64, 64), n_cells=4,
...                                       random_state=2, noise_sigma=0)
>>> est = estimate_alpha(data[0, :, 0], data[0, :, 1], method="linear_fit", n_bootstrap=0)
>>> round(est.alpha, 2), truth["alpha"]
(0.35, 0.35)
>>> corrected = apply_correction(data, est.alpha)
>>> corrected.shape, corrected.dtype
((1, 2, 2, 64, 64), dtype('float32'))
"""

from __future__ import annotations

from .apply import apply_correction, correct_values, correction_diagnostics
from .estimate import AlphaEstimate, AlphaReliabilityWarning, estimate_alpha
from .estimators import ALPHA_METHODS, AlphaMethod
from .options import ALPHA_MODES, AlphaOptions, BleedthroughOptions
from .sampling import make_alpha_mask, prepare_source_target_for_alpha, sample_voxels

__all__ = [
    "ALPHA_METHODS",
    "ALPHA_MODES",
    "AlphaEstimate",
    "AlphaMethod",
    "AlphaOptions",
    "AlphaReliabilityWarning",
    "BleedthroughOptions",
    "apply_correction",
    "correct_values",
    "correction_diagnostics",
    "estimate_alpha",
    "make_alpha_mask",
    "prepare_source_target_for_alpha",
    "sample_voxels",
]
