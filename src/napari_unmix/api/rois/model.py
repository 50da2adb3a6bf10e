"""The ROI manager's state without Qt: rows, components, masks from shapes.

A :class:`RoiModel` holds one C × Y × X slice of the cube, the drawn ROIs (shape vertices
in data = pixel coordinates, their ``features`` rows of the "ROIs" schema and per-row
display options), the dummy rows (spectra from files, Gaussian models, imported results,
fixed W maps) and the resonance rows. It turns all of that into what the core takes
(:class:`~napari_unmix.core.seeds.ComponentSeed` list + background masks) and into a
JSON-safe preset state (:mod:`napari_unmix.api.rois.state`). The Qt widgets only mirror
it (and listen to :meth:`RoiModel.changed`); tests and scripts drive it without a viewer.

Examples
--------
>>> from napari_unmix.api.rois import rectangle
>>> from napari_unmix.core.synthetic import make_bead_cube
>>> cube, truth = make_bead_cube(shape=(32, 32), n_channels=16)
>>> model = RoiModel(cube, spectral_axis=truth["spectral_axis"], spectral_units="cm-1")
>>> model.set_shapes([rectangle(2, 2, 6, 6)], ["rectangle"], [{"name": "a", "component": 0}])
>>> [r["name"] for r in model.rows()], model.row_spectrum(0).shape
(['a'], (16,))
>>> comps, background = model.components()
>>> comps[0].name, int(comps[0].masks[0].sum())
('a', 25)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...core.background import background_level
from ...core.seeds import (
    BACKGROUND_MAPS,
    ComponentSeed,
    gaussian_spectrum,
    mask_spectrum,
    resample_spectrum,
)
from .schema import (
    ROI_COLUMNS,
    ROI_DEFAULTS,
    SOURCES,
    DummyRow,
    ResonanceRow,
    component_color,
    conform_features,
    empty_features,
    shape_mask,
)
from .state import model_state, restore_state

__all__ = ["EDITABLE", "DummyRow", "ResonanceRow", "RoiModel"]

#: row kind -> the fields a table edit may change (:meth:`RoiModel.edit_row`); resonance
#: rows are edited in their own table
EDITABLE: dict[str, tuple[str, ...]] = {
    "drawn": ("name", "component", "background", "show", "subtract"),
    "dummy": ("name", "component", "background", "show", "scale", "offset"),
}


def _row(kind: str, index: int, name: str, component: int, source: str, **extra: Any) -> dict:
    """A table row (see :meth:`RoiModel.rows`)."""
    return {
        "kind": kind, "index": index, "name": name, "component": component,
        "color": component_color(component), "show": True, "background": False,
        "subtract": False, "source": source, **extra,
    }  # fmt: skip


@dataclass
class RoiModel:
    """State of the ROI manager for one C × Y × X slice (see the module docstring)."""

    cube: np.ndarray
    spectral_axis: np.ndarray | None = None
    spectral_units: str | None = None
    shapes: list[np.ndarray] = field(default_factory=list)
    shape_types: list[str] = field(default_factory=list)
    features: pd.DataFrame = field(default_factory=empty_features)
    drawn_opts: list[dict[str, Any]] = field(default_factory=list)
    dummies: list[DummyRow] = field(default_factory=list)
    resonances: list[ResonanceRow] = field(default_factory=list)
    subtract_background: bool = True
    show_processed: bool = False
    #: called (no argument) by :meth:`changed`: the views that mirror the model
    listeners: list[Callable[[], Any]] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.set_cube(self.cube, spectral_axis=self.spectral_axis)

    def changed(self) -> None:
        """Tell the :attr:`listeners` that rows changed (e.g. after an import elsewhere)."""
        for listener in list(self.listeners):
            listener()

    # ------------------------------------------------------------------ data
    def set_cube(self, cube: Any, *, spectral_axis: Any = None) -> None:
        """Set the C × Y × X slice the ROIs apply to (a 2-D image is an error)."""
        if getattr(cube, "ndim", 0) != 3:
            raise ValueError(
                f"the ROI manager needs a hyperspectral C x Y x X image, got shape "
                f"{getattr(cube, 'shape', None)}; open a cube with a spectral axis"
            )
        if cube.shape[0] < 2:
            raise ValueError(f"need at least 2 channels, got {cube.shape[0]} ({cube.shape=})")
        self.cube = np.asarray(cube)
        C = self.cube.shape[0]
        if spectral_axis is not None:
            ax = np.asarray(spectral_axis, dtype=np.float64).reshape(-1)
            if ax.size != C:
                raise ValueError(f"spectral axis has {ax.size} values for {C} channels")
            self.spectral_axis = ax
        elif self.spectral_axis is None or np.size(self.spectral_axis) != C:
            self.spectral_axis, self.spectral_units = None, None

    @property
    def axis(self) -> np.ndarray:
        """The spectral axis, or the channel index when none is known."""
        C = self.cube.shape[0]
        return np.arange(C, dtype=np.float64) if self.spectral_axis is None else self.spectral_axis

    @property
    def image_shape(self) -> tuple[int, int]:
        """(Y, X) of the cube."""
        return tuple(self.cube.shape[1:])

    def set_shapes(
        self,
        shapes: Sequence[np.ndarray],
        shape_types: Sequence[str],
        features: pd.DataFrame | Sequence[dict[str, Any]] | None = None,
        *,
        removed: Sequence[int] | None = None,
    ) -> None:
        """Mirror the Shapes layer; ``removed`` are indices deleted since the last call."""
        old = list(self.drawn_opts)
        if removed:
            gone = {int(i) for i in removed}
            old = [o for i, o in enumerate(old) if i not in gone]
        n = len(shapes)
        self.shapes = [np.asarray(s, dtype=np.float64)[:, -2:] for s in shapes]
        self.shape_types = list(shape_types)
        feats = pd.DataFrame(list(features)) if isinstance(features, list | tuple) else features
        if feats is None or len(feats) != n:
            feats = pd.DataFrame([dict(ROI_DEFAULTS) for _ in range(n)])
        feats = conform_features(feats.reset_index(drop=True))
        for i in range(n):
            if not str(feats.at[i, "name"]):
                feats.at[i, "name"] = f"ROI {i + 1}"
        self.features = feats[list(ROI_COLUMNS)]
        default = {"show": True, "subtract": True}
        self.drawn_opts = [dict(default, **o) for o in old[:n]] + [
            dict(default) for _ in range(n - len(old))
        ]

    def mask(self, i: int) -> np.ndarray:
        """Mask of drawn ROI ``i``; ``ValueError`` when it covers no pixel of the image."""
        m = shape_mask(self.shapes[i], self.shape_types[i], self.image_shape)
        if not m.any():
            name = self.features.at[i, "name"]
            raise ValueError(
                f"ROI {name!r} lies outside the image {self.image_shape} (or has no area); "
                "move it over the image or delete it"
            )
        return m

    # ------------------------------------------------------------------ rows
    def rows(self) -> list[dict[str, Any]]:
        """Table rows: drawn ROIs first (``kind`` "drawn", ``index``), then dummy rows,
        then the Gaussian resonance rows (locked)."""
        out = []
        for i in range(len(self.shapes)):
            f = self.features.iloc[i]
            source = "auto ROI" if bool(f["auto"]) else SOURCES["drawn"]
            out.append(
                _row("drawn", i, str(f["name"]), int(f["component"]), source,
                     background=bool(f["background"]), **self.drawn_opts[i])
            )  # fmt: skip
        for i, d in enumerate(self.dummies):
            out.append(
                _row("dummy", i, d.name, d.component, SOURCES.get(d.source, d.source),
                     show=d.show, background=d.background, scale=d.scale, offset=d.offset,
                     locked=False)
            )  # fmt: skip
        for i, r in enumerate(self.resonances):
            if r.gaussian:
                name = f"band {r.position:g}"
                out.append(
                    _row("resonance", i, name, r.component, SOURCES["resonance"], locked=True)
                )
        return out

    def set_drawn(
        self,
        i: int,
        *,
        name: str | None = None,
        component: int | None = None,
        background: bool | None = None,
        show: bool | None = None,
        subtract: bool | None = None,
    ) -> None:
        """Edit drawn row ``i``: ``name``, ``component``, ``background`` (features) or the
        display options ``show`` / ``subtract``; None leaves a field as it is."""
        for key, value in (("name", name), ("component", component), ("background", background)):
            if value is not None:
                self.features.at[i, key] = value
        for key, value in (("show", show), ("subtract", subtract)):
            if value is not None:
                self.drawn_opts[i][key] = bool(value)

    def edit_row(self, row: dict[str, Any], field: str, value: Any) -> None:
        """Set one field of a row of :meth:`rows` (the fields of :data:`EDITABLE`)."""
        kind = row["kind"]
        if field not in EDITABLE.get(kind, ()):
            raise ValueError(
                f"a {kind} row has no editable field {field!r}; editable: {EDITABLE.get(kind, ())}"
            )
        if kind == "drawn":
            self.set_drawn(row["index"], **{field: value})
        else:
            setattr(self.dummies[row["index"]], field, value)

    def background_masks(self) -> list[np.ndarray]:
        """Masks of the drawn background ROIs flagged for subtraction."""
        bg = self.features["background"].to_numpy(bool)
        return [self.mask(i) for i in np.flatnonzero(bg) if self.drawn_opts[i]["subtract"]]

    def background_spectrum(self) -> np.ndarray | None:
        """Mean spectrum of the background ROIs (None without any)."""
        masks = self.background_masks()
        return mask_spectrum(self.cube, masks) if masks else None

    def background_level(self) -> np.ndarray | None:
        """Per-pixel level (Y, X) of the background spectrum, estimated outside the objects
        (as the fit's default ``background_subtraction="scaled"``); None without background
        ROIs."""
        bg = self.background_spectrum()
        if bg is None or not np.any(bg > 0):
            return None
        return background_level(np.asarray(self.cube), bg)

    def processed(self, data: Any, /) -> np.ndarray:
        """float32 copy of ``data`` (channels at axis -3, e.g. all slices) minus the
        background: the background ROIs' spectrum times its per-pixel level (what the fit
        subtracts)."""
        bg = self.background_spectrum()
        if bg is None:
            raise ValueError("no background ROI: mark a drawn ROI as background first")
        level = self.background_level()
        sub = bg.astype(np.float32)[:, None, None]
        if level is not None:
            sub = sub * level.astype(np.float32)[None]
        return np.asarray(data, dtype=np.float32) - sub

    def row_spectrum(self, row: int | dict[str, Any]) -> np.ndarray | None:
        """Spectrum shown for a table row (None for a W-only row)."""
        r = self.rows()[row] if isinstance(row, int) else row
        if r["kind"] == "drawn":
            bg = self.background_spectrum() if self.show_processed else None
            mask = self.mask(r["index"])
            s = mask_spectrum(self.cube, [mask])
            if bg is None or r["background"]:
                return s
            level = self.background_level()
            return s - bg * (1.0 if level is None else float(level[mask].mean()))
        if r["kind"] == "resonance":
            res = self.resonances[r["index"]]
            return gaussian_spectrum(
                self.axis, center=res.position, fwhm=2.0 * res.width, amplitude=res.amplitude
            )
        d = self.dummies[r["index"]]
        if d.spectrum is not None:
            return d.spectrum * d.scale + d.offset
        if d.gaussian is not None:
            return gaussian_spectrum(self.axis, **d.gaussian) * d.scale + d.offset
        return None

    # ------------------------------------------------------------------ adding rows
    def add_spectrum(
        self, axis: np.ndarray, spectrum: np.ndarray, /, *, name: str, component: int
    ) -> bool:
        """Add a dummy row from a spectrum on its own axis; returns True when extrapolated."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            s, outside = resample_spectrum(axis, spectrum, self.axis)
        self.dummies.append(
            DummyRow(name=name, component=int(component), source="file", spectrum=s)
        )
        return outside

    def add_gaussian(
        self, *, center: float, fwhm: float, amplitude: float = 1.0, name: str, component: int
    ) -> None:
        """Add a Gaussian resonance model as a dummy row."""
        g = {"center": float(center), "fwhm": float(fwhm), "amplitude": float(amplitude)}
        gaussian_spectrum(self.axis, **g)  # validates fwhm
        self.dummies.append(
            DummyRow(name=name, component=int(component), source="gaussian", gaussian=g)
        )

    def add_w_map(
        self,
        w_map: np.ndarray,
        /,
        *,
        name: str,
        component: int,
        background: bool = False,
        lock: bool = True,
    ) -> None:
        """Add a W map as a W-only dummy row, fixed during the fit unless ``lock=False``."""
        w = np.asarray(w_map, dtype=np.float64)
        if w.shape != self.image_shape:
            raise ValueError(f"W map is {w.shape}, the image is {self.image_shape}")
        self.dummies.append(
            DummyRow(name=name, component=int(component), source="w_only", w_map=w,
                     background=background, lock_w=lock)
        )  # fmt: skip

    def add_background_map(
        self, *, projection: str = "estimate", component: int, lock: bool = False
    ) -> None:
        """Add a background W map as a W-only row (see ``core.seeds.BACKGROUND_MAPS``).

        ``"estimate"`` (default) is the smooth background with the objects excluded (the
        per-pixel level of the background ROIs' spectrum when there are background ROIs,
        else of the average image); ``"mean"`` / ``"max"`` / ``"min"`` are projections over
        the channels, which contain the objects. The map is a seed that the fit refines;
        ``lock=True`` keeps it fixed.
        """
        if projection not in BACKGROUND_MAPS:
            raise ValueError(
                f"projection must be one of {sorted(BACKGROUND_MAPS)}, got {projection!r}"
            )
        spectrum = self.background_spectrum() if self.background_masks() else None
        img = BACKGROUND_MAPS[projection].function(np.asarray(self.cube), spectrum)
        self.add_w_map(
            img, name=f"background ({projection})", component=component, background=True, lock=lock
        )

    def import_result(self, result: Any, /, *, mode: str = "H", first_component: int = 0) -> int:
        """Add a result's components as dummy rows: ``mode`` "H", "W" or "H+W"; returns count."""
        if mode not in ("H", "W", "H+W"):
            raise ValueError(f"mode must be 'H', 'W' or 'H+W', got {mode!r}")
        H = np.asarray(result.H)
        W = np.asarray(result.W)
        if H.ndim != 2 or W.ndim != 3:
            raise ValueError("import a 3-D (single-slice) result or a reference-slice fit")
        if W.shape[1:] != self.image_shape or H.shape[1] != self.cube.shape[0]:
            raise ValueError(
                f"the result ({H.shape[1]} channels, {W.shape[1:]}) does not fit the image "
                f"({self.cube.shape[0]} channels, {self.image_shape})"
            )
        for j, name in enumerate(result.names):
            w = np.nan_to_num(W[j], nan=0.0) if "W" in mode else None
            self.dummies.append(
                DummyRow(
                    name=f"{name} ({mode})",
                    component=first_component + j,
                    source="imported" if "H" in mode else "w_only",
                    spectrum=H[j].astype(np.float64) if "H" in mode else None,
                    w_map=w,
                )
            )
        return len(result.names)

    def next_component(self) -> int:
        """The first component index after those in use (0 without rows)."""
        ids = self.component_ids()
        return max(ids) + 1 if ids else 0

    def remove_dummy(self, i: int) -> None:
        """Delete dummy row ``i``."""
        del self.dummies[i]

    # ------------------------------------------------------------------ seeds
    def component_ids(self) -> list[int]:
        """Sorted component indices used by non-background rows and resonance rows."""
        ids = {
            int(c)
            for c, bg in zip(self.features["component"], self.features["background"], strict=True)
            if not bg
        }
        ids |= {d.component for d in self.dummies}
        ids |= {r.component for r in self.resonances}
        bg = self.features["background"].to_numpy(bool)
        for i in np.flatnonzero(bg):
            if not self.drawn_opts[i]["subtract"]:
                ids.add(int(self.features.at[i, "component"]))
        return sorted(ids)

    def _component(self, c: int) -> ComponentSeed:
        """The seed of component ``c`` from its drawn, dummy and resonance rows."""
        names, masks, spectra, gauss = [], [], [], None
        w_map, background, lock_h, lock_w = None, False, False, False
        for i in range(len(self.shapes)):
            f = self.features.iloc[i]
            if int(f["component"]) != c:
                continue
            if bool(f["background"]) and self.drawn_opts[i]["subtract"]:
                continue
            names.append(str(f["name"]))
            masks.append(self.mask(i))
            background |= bool(f["background"])
        for d in self.dummies:
            if d.component != c:
                continue
            names.append(d.name)
            if d.spectrum is not None:
                spectra.append(d.spectrum * d.scale + d.offset)
            if d.gaussian is not None and gauss is None:
                gauss = dict(d.gaussian, amplitude=d.gaussian["amplitude"] * d.scale)
            if d.w_map is not None:
                w_map = d.w_map
            background |= d.background
            lock_h |= d.lock_h
            lock_w |= d.lock_w
        res = next((r for r in self.resonances if r.component == c), None)
        resonance = None
        if res is not None:
            resonance = asdict(res)
            del resonance["component"]
            names.append(f"band {res.position:g}")
        return ComponentSeed(
            name=names[0] if names else f"component {c}",
            masks=masks,
            spectrum=np.mean(spectra, axis=0) if spectra else None,
            gaussian=gauss,
            resonance=resonance,
            w_map=w_map,
            background=background,
            lock_h=lock_h,
            lock_w=lock_w,
        )

    def components(self) -> tuple[list[ComponentSeed], list[np.ndarray]]:
        """Component descriptions for :func:`~napari_unmix.core.seeds.prepare_seeds`.

        Returns the components (in component-index order) and the background masks to
        subtract. Raises ``ValueError`` when there is no row at all or a ROI is outside.
        """
        ids = self.component_ids()
        if not ids:
            raise ValueError(
                "no ROI or seed row: draw ROIs on the 'ROIs' layer (or add a spectrum, a "
                "Gaussian or a resonance row) first"
            )
        return [self._component(c) for c in ids], self.background_masks()

    def missing_seeds(self) -> list[str]:
        """Names of components with no H source (they would use the residual fallback)."""
        comps, _ = self.components()
        return [
            c.name
            for c in comps
            if c.spectrum is None
            and not len(c.masks)
            and c.gaussian is None
            and c.resonance is None
        ]

    # ------------------------------------------------------------------ presets
    def to_state(self) -> dict[str, Any]:
        """State in the layout of :func:`napari_unmix.io.presets.save_preset` (see
        :func:`napari_unmix.api.rois.state.model_state`)."""
        return model_state(self)

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore rows from :meth:`to_state` (the cube stays; its shape must match; see
        :func:`napari_unmix.api.rois.state.restore_state`)."""
        restore_state(self, state)
