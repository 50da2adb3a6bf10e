"""Sub-commands of the picasso tools: flags from the PICASSO options classes."""

from __future__ import annotations

from ...core.picasso import PicassoApplyOptions, PicassoOptions
from .._spec import Command, options_from
from ._common import COMPRESSION_LEVEL, OUTPUT_FORMAT

COMMANDS: dict[str, Command] = {
    "picasso": Command(
        "PICASSO blind unmixing of N channels (source-sink, mutual information)",
        "napari_unmix.api.picasso:unmix_picasso",
        (
            *options_from(
                PicassoOptions,
                only=(
                    "channels",
                    "implementation",
                    "alpha_mode",
                    "alpha_reference_t",
                    "sink_channels",
                    "neutral_channels",
                    "background_percentile",
                    "preprocess_alpha_inputs",
                    "mi_bins",
                    "alpha_max",
                    "max_iter",
                    "tolerance",
                    "max_alpha_voxels",
                    "random_state",
                    "step_size",
                    "qn",
                    "pixel_bin_size",
                    "alpha_clip",
                    "negativity_threshold",
                    "clip_every_n_iterations",
                    "noise_aware",
                    "split_sigma",
                    "output_units",
                ),
            ),
            *options_from(PicassoApplyOptions),
            COMPRESSION_LEVEL,
            OUTPUT_FORMAT,
        ),
        verbose="verbose",
    ),
}
