"""A saved ROI-manager preset as seeds, for scripts and the CLI.

The ROI manager saves its rows and the analysis dock's settings as a preset
(:func:`napari_unmix.io.presets.save_preset`); :func:`preset_seeds` restores the rows on
another cube of the same shape and returns what the dock's *Run* passes to
:func:`~napari_unmix.api.nmf.iter_seeded_nnmf`: the components (drawn ROIs as masks,
spectrum / Gaussian / resonance / W-map rows), the background ROI masks and the seed
options (:class:`~napari_unmix.core.seeds.SeedOptions` from the seed settings the preset
holds, the options' defaults for the others). :func:`seed_options` and
:func:`rank_components` turn analysis settings into those, for the dock and the file API
alike.

Examples
--------
>>> import tempfile, pathlib
>>> from napari_unmix.api.rois import RoiModel, rectangle
>>> from napari_unmix.core.synthetic import make_bead_cube
>>> from napari_unmix.io.presets import save_preset
>>> cube, truth = make_bead_cube(shape=(32, 32), n_channels=16)
>>> model = RoiModel(cube, spectral_axis=truth["spectral_axis"], spectral_units="cm-1")
>>> model.set_shapes([rectangle(2, 2, 6, 6), rectangle(20, 20, 26, 26)], ["rectangle"] * 2,
...                  [{"name": "a"}, {"name": "bg", "component": 1, "background": True}])
>>> state = model.to_state()
>>> state["settings"]["analysis"] = {"w_mode": "nnls", "rank_by": "max_intensity"}
>>> path = save_preset(pathlib.Path(tempfile.mkdtemp()) / "preset.json", state)
>>> seeds = preset_seeds(path, cube)
>>> [c.name for c in seeds.components], len(seeds.background_masks)
(['a'], 1)
>>> seeds.seed_options.residual_rank
'max_intensity'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...core.seeds import ComponentSeed, SeedOptions
from .model import RoiModel

__all__ = ["PresetSeeds", "preset_seeds", "rank_components", "seed_options"]

#: analysis setting (dock, preset) -> field of :class:`~napari_unmix.core.seeds.SeedOptions`
_SEED_SETTINGS = {
    "w_mode": "w_mode",
    "overwrite": "overwrite",
    "rank_by": "residual_rank",
    "background_projection": "background_projection",
    "random_state": "random_state",
}


def seed_options(settings: Mapping[str, Any]) -> SeedOptions:
    """The seed options of analysis settings (the dock's, a preset's): the fields that
    ``settings`` holds (``w_mode``, ``overwrite``, ``rank_by`` as ``residual_rank``,
    ``background_projection``, ``random_state``), the options' defaults for the others."""
    given = {key: settings[name] for name, key in _SEED_SETTINGS.items() if name in settings}
    return SeedOptions.coerce(given)


def rank_components(components: list[ComponentSeed], rank_by: str | None) -> list[ComponentSeed]:
    """The components, their resonance seeds ranking pixels by ``rank_by`` (None: as they
    are); changes the components in place and returns them."""
    if rank_by is not None:
        for c in components:
            if c.resonance is not None:
                c.resonance = {**c.resonance, "rank_by": rank_by}
    return components


@dataclass
class PresetSeeds:
    """What a preset gives a seeded fit (see :func:`preset_seeds`)."""

    components: list[ComponentSeed]
    #: the background ROIs' masks (their spectrum is subtracted)
    background_masks: list[np.ndarray]
    #: ``seed_options`` of :func:`~napari_unmix.api.nmf.iter_seeded_nnmf`
    seed_options: SeedOptions
    spectral_axis: np.ndarray | None = None
    spectral_units: str | None = None
    #: the analysis dock's settings saved with the preset ({} when there were none)
    settings: dict[str, Any] = field(default_factory=dict)


def preset_seeds(
    preset: str | os.PathLike | dict[str, Any],
    cube: Any,
    /,
    *,
    spectral_axis: Any = None,
    spectral_units: str | None = None,
    reference_slice: int = 0,
    random_state: int | None = None,
) -> PresetSeeds:
    """Seeds of a ROI-manager preset on ``cube`` (C × Y × X, or S × C × Y × X: the ROIs
    are placed on ``reference_slice``).

    ``preset`` is a preset file or its loaded state (:func:`~napari_unmix.io.presets.load_preset`).
    The cube must have the shape the preset was made on; the preset's spectral axis, when
    it has one, is the one its spectrum rows are on (as in the dock). ``random_state``
    (when given) replaces the preset's for the seeds. Raises ``ValueError`` for a preset
    without any seed row or a mismatching image.
    """
    from ...io.presets import load_preset

    state = preset if isinstance(preset, dict) else load_preset(preset)
    data = cube[reference_slice] if getattr(cube, "ndim", 0) == 4 else cube
    model = RoiModel(np.asarray(data), spectral_axis=spectral_axis, spectral_units=spectral_units)
    model.load_state(state)
    components, background = model.components()
    settings = dict((state.get("settings") or {}).get("analysis") or {})
    given = settings if random_state is None else {**settings, "random_state": random_state}
    return PresetSeeds(
        components=rank_components(components, settings.get("rank_by")),
        background_masks=background,
        seed_options=seed_options(given),
        spectral_axis=model.spectral_axis,
        spectral_units=model.spectral_units,
        settings=settings,
    )
