"""``napari-unmix``: the command line, one sub-command per script-API function.

Every sub-command reads ``input_path``, writes ``output_path`` (OME-TIFF) and its JSON
sidecar, prints progress on stderr, and exits non-zero with a one-line message when the
input or an option is wrong (``--debug`` shows the traceback instead).

Batches: with ``--output-dir DIR`` a sub-command takes several inputs (files, folders,
glob patterns) and writes ``DIR/<input stem>_<command>.ome.tif`` for each, in one
process; an input whose output exists is skipped (``--overwrite`` replaces it), a file
that fails is reported and the batch goes on; the last lines summarise done / skipped /
failed with reasons, and the exit code is 1 if any input failed.

Re-use: ``--from-report SIDECAR.json`` re-applies the parameters and the estimated
coefficients (alpha, PICASSO matrix, H spectra) of an earlier run
(:mod:`napari_unmix.api.reapply`); options given on the command line win.

Hyperspectral sub-commands take ``--spectral-axis FILE|start:stop:n`` and
``--spectral-units`` (:mod:`napari_unmix.io.spectral_axis`).

Sub-commands come from :data:`REGISTRY`: adding a tool's command is one entry that maps
command-line options to the keywords of its API function (imported only when the
command runs, so ``napari-unmix --help`` is fast).

Examples
--------
>>> main(["max-z", "--help"])  # doctest: +ELLIPSIS
usage: napari-unmix max-z [options] input_path output_path
...
0
"""

from __future__ import annotations

from ._engine import build_parser, main
from ._spec import Command, Option, opt, options_from
from .commands import REGISTRY

__all__ = ["REGISTRY", "Command", "Option", "build_parser", "main", "opt", "options_from"]
