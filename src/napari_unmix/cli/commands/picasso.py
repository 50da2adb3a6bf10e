"""Sub-commands of the picasso tools."""

from __future__ import annotations

from .._spec import Command, _choices, opt
from ._common import COMPRESSION_LEVEL, OUTPUT_FORMAT

_PICASSO = "napari_unmix.core.picasso:IMPLEMENTATIONS"

COMMANDS: dict[str, Command] = {
    "picasso": Command(
        "PICASSO blind unmixing of N channels (source-sink, mutual information)",
        "napari_unmix.api.picasso:unmix_picasso",
        (
            opt("--channels", "channels to unmix, in order (default: all)", nargs="+", type=int),
            opt(
                "--implementation",
                "PICASSO variant (default matlab_3c)",
                choices=_choices(_PICASSO),
            ),
            opt(
                "--alpha-mode",
                "reference_t, per_t or fixed",
                choices=["reference_t", "per_t", "fixed"],
            ),
            opt(
                "--alpha-reference-t", "time point the matrix is estimated on (default 0)", type=int
            ),
            opt("--sink-channels", "source-sink: channels that only receive", nargs="+", type=int),
            opt("--neutral-channels", "source-sink: channels left out", nargs="+", type=int),
            opt("--background-percentile", "background percentile (default 1)", type=float),
            opt(
                "--no-preprocess-alpha-inputs",
                "no background subtraction / clipping before estimating",
                action="store_false",
                keyword="preprocess_alpha_inputs",
            ),
            opt("--mi-bins", "histogram bins of mutual information (default 64)", type=int),
            opt("--alpha-max", "upper bound of the coefficient search (default 1)", type=float),
            opt("--max-iter", "iteration limit (default 200)", type=int),
            opt(
                "--tolerance",
                "stop when a sweep's largest alpha (change) is at most this (default 1e-4)",
                type=float,
            ),
            opt("--max-alpha-voxels", "voxels sampled for estimation (default 500000)", type=int),
            opt("--random-state", "seed of the sampling (default 0)", type=int),
            opt(
                "--step-size",
                "MATLAB-scheme step size (default 0.2; see unmix_picasso_array)",
                type=float,
            ),
            opt("--qn", "MATLAB-scheme qn (default 100; see unmix_picasso_array)", type=int),
            opt(
                "--pixel-bin-size",
                "block size: about 1000 blocks per plane (default 16; 4 for 128x128)",
                type=int,
            ),
            opt(
                "--alpha-clip",
                "MATLAB-scheme alpha_clip (default 0.5; see unmix_picasso_array)",
                type=float,
            ),
            opt(
                "--negativity-threshold",
                "MATLAB-scheme negativity threshold (default 0.0009)",
                type=float,
            ),
            opt(
                "--clip-every-n-iterations",
                "MATLAB-scheme clipping interval in iterations (default 50)",
                type=int,
            ),
            opt(
                "--no-noise-aware",
                "source-sink: estimate on the noisy pixels themselves (biased low by shot noise)",
                action="store_false",
                keyword="noise_aware",
            ),
            opt(
                "--split-sigma",
                "source-sink: smoothing (px) of the noise-aware views (default: from the noise)",
                type=float,
            ),
            opt(
                "--no-clip-negative",
                "keep negative values",
                action="store_false",
                keyword="clip_negative",
            ),
            opt(
                "--output-units",
                "own_channel, input or normalized",
                choices=["own_channel", "input", "normalized"],
            ),
            opt("--output-dtype", "output dtype (default float32)"),
            COMPRESSION_LEVEL,
            OUTPUT_FORMAT,
        ),
        verbose="verbose",
    ),
}
