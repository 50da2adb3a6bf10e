"""ROI / seed state without Qt: what the ROI manager dock edits, for scripts and the CLI.

- :mod:`.schema` — the "ROIs" Shapes-layer columns, shapes -> masks, component colours,
  the dummy / resonance row records;
- :mod:`.model` — :class:`RoiModel`: drawn ROIs + rows -> seed components and background
  masks (what :func:`~napari_unmix.core.seeds.prepare_seeds` takes);
- :mod:`.state` — a model as a preset state (:func:`napari_unmix.io.presets.save_preset`)
  and back;
- :mod:`.files` — spectra CSV files as rows, rows' spectra as CSV;
- :mod:`.preset` — a saved preset as the seeds of a fit (:func:`preset_seeds`, used by
  ``seeded_nnmf_file(..., preset=)`` and ``napari-unmix nnmf --preset``).

Examples
--------
>>> from napari_unmix.api.rois import RoiModel, rectangle
>>> from napari_unmix.core.synthetic import make_bead_cube
>>> cube, _ = make_bead_cube(shape=(32, 32), n_channels=16)
>>> model = RoiModel(cube)
>>> model.set_shapes([rectangle(2, 2, 6, 6)], ["rectangle"])
>>> [c.name for c in model.components()[0]]
['ROI 1']
"""

from . import schema
from .model import EDITABLE, RoiModel
from .preset import PresetSeeds, preset_seeds
from .schema import *  # noqa: F403  (the schema's public names)
from .state import model_state, restore_state

__all__ = [
    *schema.__all__,
    "EDITABLE",
    "PresetSeeds",
    "RoiModel",
    "model_state",
    "preset_seeds",
    "restore_state",
]
