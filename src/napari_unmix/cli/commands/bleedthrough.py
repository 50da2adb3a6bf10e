"""Sub-commands of the bleedthrough tools."""

from __future__ import annotations

from ...core.bleedthrough import BleedthroughOptions
from .._spec import Command, _OneOrMore, opt, options_from
from ._common import COMPRESSION_LEVEL, OUTPUT_FORMAT


def _given(flag: str, help: str):
    """A given coefficient: one value or one per time point."""
    return opt(flag, help, type=float, nargs="+", action=_OneOrMore)


#: the flags before --alpha-reverse, and after it (the order of --help)
_FIRST = (
    "alpha_mode", "alpha_reference_t", "method", "source_channel", "target_channel",
    "signal_percentile", "target_low_percentile", "background_percentile", "bidirectional",
)  # fmt: skip
_THEN = (
    "method_reverse", "signal_percentile_reverse", "target_low_percentile_reverse",
    "background_percentile_reverse", "alpha_max", "alpha_max_reverse", "mi_bins",
    "mi_bins_reverse", "max_alpha_voxels", "random_state", "n_bootstrap", "min_mask_voxels",
    "preprocess_alpha_inputs", "clip_negative", "output_dtype",
)  # fmt: skip

COMMANDS: dict[str, Command] = {
    "unmix": Command(
        "bleed-through correction: target -= alpha * source (alpha estimated or given)",
        "napari_unmix.api.bleedthrough:unmix",
        (
            _given(
                "--alpha",
                "given coefficient: one value (implies --alpha-mode fixed) or one per time point",
            ),
            *options_from(BleedthroughOptions, only=_FIRST),
            _given("--alpha-reverse", "given reverse coefficient(s), as --alpha"),
            *options_from(BleedthroughOptions, only=_THEN),
            COMPRESSION_LEVEL,
            OUTPUT_FORMAT,
        ),
        verbose="verbose",
    ),
}
