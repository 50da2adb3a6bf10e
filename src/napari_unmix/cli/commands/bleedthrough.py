"""Sub-commands of the bleedthrough tools."""

from __future__ import annotations

from .._spec import Command, _choices, _OneOrMore, opt
from ._common import COMPRESSION_LEVEL, OUTPUT_FORMAT

_ALPHA = "napari_unmix.core.bleedthrough:ALPHA_METHODS"

COMMANDS: dict[str, Command] = {
    "unmix": Command(
        "bleed-through correction: target -= alpha * source (alpha estimated or given)",
        "napari_unmix.api.bleedthrough:unmix",
        (
            opt(
                "--alpha",
                "given coefficient: one value (implies --alpha-mode fixed) or one per time point",
                type=float,
                nargs="+",
                action=_OneOrMore,
            ),
            opt(
                "--alpha-mode",
                "fixed, reference_t or per_t",
                choices=["fixed", "reference_t", "per_t"],
            ),
            opt("--alpha-reference-t", "time point alpha is estimated on (default 0)", type=int),
            opt("--method", "alpha estimator (default mean_ratio)", choices=_choices(_ALPHA)),
            opt("--source-channel", "channel that bleeds (default 0)", type=int),
            opt("--target-channel", "channel to correct (default 1)", type=int),
            opt("--signal-percentile", "bright-source mask percentile (default 99)", type=float),
            opt(
                "--target-low-percentile", "keep voxels with a low target (percentile)", type=float
            ),
            opt("--background-percentile", "background percentile (default 1)", type=float),
            opt("--bidirectional", "2 x 2 model: both channels bleed", action="store_true"),
            opt(
                "--alpha-reverse",
                "given reverse coefficient(s), as --alpha",
                type=float,
                nargs="+",
                action=_OneOrMore,
            ),
            opt("--method-reverse", "reverse estimator", choices=_choices(_ALPHA)),
            opt("--signal-percentile-reverse", "reverse source-mask percentile", type=float),
            opt("--target-low-percentile-reverse", "reverse low-target percentile", type=float),
            opt("--background-percentile-reverse", "reverse background percentile", type=float),
            opt("--alpha-max", "upper bound of optimised alpha (default 1)", type=float),
            opt("--alpha-max-reverse", "reverse upper bound", type=float),
            opt("--mi-bins", "histogram bins of mutual information (default 64)", type=int),
            opt("--mi-bins-reverse", "reverse histogram bins", type=int),
            opt("--max-alpha-voxels", "voxels sampled for alpha (default 500000)", type=int),
            opt("--random-state", "seed of the sampling (default 0)", type=int),
            opt(
                "--n-bootstrap", "bootstrap resamples of the 95%% interval (default 100)", type=int
            ),
            opt(
                "--no-preprocess-alpha-inputs",
                "no background subtraction / clipping before estimating",
                action="store_false",
                keyword="preprocess_alpha_inputs",
            ),
            opt(
                "--no-clip-negative",
                "keep negative corrected values",
                action="store_false",
                keyword="clip_negative",
            ),
            opt("--output-dtype", "output dtype, or 'same' (default float32)"),
            COMPRESSION_LEVEL,
            OUTPUT_FORMAT,
        ),
        verbose="verbose",
    ),
}
