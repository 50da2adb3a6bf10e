"""Dock widget "Hyperspectral maps": cluster, intensity and ratio maps of a C×Y×X cube.

A :class:`~napari_unmix.widgets._dock.ToolDock`: pick the cube (the newest one is
preselected), the map (cluster map, intensity map, ratio map) and its settings, press Run.
The computation is the script API's: :func:`napari_unmix.api.hsmap.iter_cluster_map` (then
:func:`~napari_unmix.api.hsmap.map_metrics`), :func:`~napari_unmix.api.hsmap.intensity_map`
or :func:`~napari_unmix.api.hsmap.ratio_map`; the result's ``to_result()`` becomes layers
through the shared layer policy (``<cube> · hsmap · clusters (k=2)``, the cluster map in the
cluster colours) and the results panel shows the cluster spectra (mean ± sd, themed) and
the metrics table, or the band(s) of a map.

Band centres, windows and ranges follow the layer's spectral axis
(``metadata["spectral_axis"]`` / ``["spectral_units"]``, units in the labels): the band
centre starts at the strongest band of the mean spectrum, the ratio's denominator at the
strongest band elsewhere, the window at two channel spacings; they are derived again when
another cube is picked. A Labels layer painted by the user (0 = unpainted) can be chosen as
ground truth for the metrics.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from dask import is_dask_collection
from magicgui import widgets as mw
from napari.layers import Image, Labels
from napari.utils.colormaps import DirectLabelColormap
from qtpy.QtWidgets import QCheckBox, QWidget

from ..api import hsmap as api
from ..core.hsmap import ClusterOptions, MapOptions
from ..core.preprocess import Preprocessing
from ..core.progress import Progress
from ..core.result import Result
from ..core.units import normalize_units, unit_symbol
from ._dock import LayerPicker, ToolDock
from ._fit import fit_width
from ._form import OptionsForm
from ._hsmap_panel import cluster_summary, map_summary
from ._layer_policy import TAG, tool_layers
from ._layers import layer_cube

__all__ = ["HyperspectralMapsWidget", "band_defaults"]

KINDS = {"cluster": "cluster map", "intensity": "intensity map", "ratio": "ratio map"}
_SAMPLE_PIXELS = 4096  # pixels of the mean spectrum that places the default bands


def band_defaults(axis: np.ndarray, mean_spectrum: np.ndarray | None) -> dict[str, float]:
    """Default band centre, ratio bands and window of a spectral axis.

    The centre (and the ratio's numerator) is the strongest channel of the mean spectrum,
    the denominator the strongest channel at least a tenth of the range away; the window is
    two channel spacings. Without a spectrum: the middle of the axis and three quarters.

    >>> band_defaults(np.linspace(2800, 3100, 61), None)
    {'target': 2950.0, 'numerator': 2950.0, 'denominator': 3025.0, 'window': 10.0, 'low': 2800.0, 'high': 3100.0}
    """
    axis = np.asarray(axis, dtype=np.float64)
    lo, hi = float(axis.min()), float(axis.max())
    step = float(np.median(np.abs(np.diff(axis)))) if axis.size > 1 else 1.0
    spec = None if mean_spectrum is None else np.asarray(mean_spectrum, dtype=np.float64)
    if spec is None or spec.shape != axis.shape or not np.isfinite(spec).any():
        peak, other = axis[axis.size // 2], axis[(3 * axis.size) // 4]
    else:
        spec = np.where(np.isfinite(spec), spec, -np.inf)
        peak = axis[int(np.argmax(spec))]
        far = np.abs(axis - peak) >= 0.1 * (hi - lo)
        other = axis[int(np.argmax(np.where(far, spec, -np.inf)))] if far.any() else peak
    return {
        "target": float(peak), "numerator": float(peak), "denominator": float(other),
        "window": 2 * step or 1.0, "low": lo, "high": hi,
    }  # fmt: skip


def _is_cube(layer: Any) -> bool:
    if not isinstance(layer, Image) or layer.rgb or layer.ndim < 3:
        return False
    tag = layer.metadata.get(TAG) if isinstance(layer.metadata, dict) else None
    return tag is None and layer.data.shape[-3] >= 2


def _band_box(label: str) -> mw.FloatSpinBox:
    return mw.FloatSpinBox(label=label, value=0.0, min=-1e9, max=1e9, step=1.0)


class HyperspectralMapsWidget(ToolDock):
    """Cluster, intensity and ratio maps of a C×Y×X layer (see the module docstring)."""

    tool = "hsmap"
    options = ClusterOptions
    form_fields = ("method", "n_components", "cleanup", "random_state", "n_init",
                   "max_samples", "connectivity", "covariance_type")  # fmt: skip

    def __init__(self, napari_viewer: Any) -> None:
        super().__init__(napari_viewer)
        viewer = self.viewer
        self.cube = self.add_picker(LayerPicker(
            viewer, "cube (C×Y×X)", _is_cube, prefer=lambda ly: viewer.layers.index(ly),
            tooltip="the hyperspectral image layer (channels first); the newest is preselected",
        ))  # fmt: skip
        self.truth = self.add_picker(LayerPicker(
            viewer, "ground truth", lambda ly: isinstance(ly, Labels), optional=True,
            tooltip="a painted Labels layer (0 = unpainted) to score the cluster map against",
        ))  # fmt: skip
        self.axis_info = mw.Label(value="")
        self.kind = mw.ComboBox(
            label="map", choices=[(v, k) for k, v in KINDS.items()], value="cluster"
        )
        self.n_clusters = mw.SpinBox(label="clusters (k)", value=2, min=1, max=50)
        self.target = _band_box("band centre")
        self.numerator = _band_box("ratio numerator")
        self.denominator = _band_box("ratio denominator")
        self.inputs_box.extend([self.axis_info, self.kind, self.n_clusters, self.target,
                                self.numerator, self.denominator])  # fmt: skip
        self.map_form = OptionsForm(MapOptions)
        self.window = self.map_form.field("window")
        self.body_layout.insertWidget(1, self.map_form.native)
        self._build_preprocessing()
        self.kind.changed.connect(self._show_kind)
        self.cube.changed.connect(self.derive_defaults)
        self._show_kind()
        self.derive_defaults()
        fit_width(self)

    def _build_preprocessing(self) -> None:
        """A collapsed section: the spectral axis override and the preprocessing form."""
        self.axis_text = mw.LineEdit(
            label="spectral axis", value="",
            tooltip="empty: the layer's metadata['spectral_axis']; or 'start, stop' (evenly spaced)",
        )  # fmt: skip
        self.units = mw.ComboBox(label="axis units", choices=["cm-1", "nm", "channel"])
        self.pre_form = OptionsForm(Preprocessing, exclude=("baseline_params",))
        self.pre_form.insert(0, self.axis_text)
        self.pre_form.insert(1, self.units)
        self.pre_toggle = QCheckBox("Spectral axis and preprocessing")
        self.pre_toggle.setToolTip("crop, baseline, normalisation, spatial smoothing")
        self.pre_form.native.setVisible(False)
        self.pre_toggle.toggled.connect(self.pre_form.native.setVisible)
        at = self.body_layout.indexOf(self.form.native) + 1
        self.body_layout.insertWidget(at, self.pre_toggle)
        self.body_layout.insertWidget(at + 1, self.pre_form.native)
        self.axis_text.changed.connect(self.derive_defaults)
        self.units.changed.connect(self.derive_defaults)

    def _show_kind(self, *_: Any) -> None:
        kind = self.kind.value
        for w, shown in ((self.n_clusters, kind == "cluster"), (self.truth, kind == "cluster"),
                         (self.target, kind == "intensity"), (self.numerator, kind == "ratio"),
                         (self.denominator, kind == "ratio")):  # fmt: skip
            w.visible = shown
        self.form.native.setVisible(kind == "cluster")
        self.map_form.native.setVisible(kind != "cluster")
        self.run_button.setToolTip(f"compute the {KINDS[kind]}")

    # ------------------------------------------------------------------ spectral axis
    def spectral_axis(self, layer: Any) -> tuple[np.ndarray, str | None]:
        """The layer's spectral axis and its units (the override, the metadata, or the
        channel index); ValueError for an override that is not two numbers."""
        c = int(layer.data.shape[-3])
        text = self.axis_text.value.strip()
        if text:
            try:
                lo, hi = (float(p) for p in text.replace(";", ",").split(","))
            except ValueError:
                raise ValueError(
                    f"spectral axis: write two numbers 'start, stop', got {text!r}"
                ) from None
            units = None if self.units.value == "channel" else self.units.value
            return np.linspace(lo, hi, c), units
        meta = layer.metadata if isinstance(layer.metadata, dict) else {}
        axis = meta.get("spectral_axis")
        if axis is not None and np.size(axis) == c:
            units = normalize_units(meta.get("spectral_units"))
            return np.asarray(axis, dtype=np.float64).reshape(-1), units
        return np.arange(c, dtype=np.float64), None

    def _mean_spectrum(self, layer: Any) -> np.ndarray | None:
        if is_dask_collection(layer.data):
            return None  # a lazy cube is not read for defaults
        cube = layer_cube(layer, self.viewer)
        step = max(1, int(np.sqrt(cube.shape[1] * cube.shape[2] / _SAMPLE_PIXELS)))
        sub = np.asarray(cube[:, ::step, ::step], dtype=np.float64).reshape(cube.shape[0], -1)
        with np.errstate(all="ignore"):
            return np.nanmean(sub, axis=1) if np.isfinite(sub).any() else None

    def derive_defaults(self, *_: Any) -> None:
        """Band centres, window, ranges and unit labels from the chosen cube's axis."""
        layer = self.cube.value
        if layer is None:
            self.axis_info.value = "no cube: open one (File > Open Sample > bead cube)"
            return
        try:
            axis, units = self.spectral_axis(layer)
            spectrum = self._mean_spectrum(layer)
        except ValueError as err:
            self.set_status(str(err), error=True)
            return
        d = band_defaults(axis, spectrum)
        sym = unit_symbol(units)
        for box, key, label in ((self.target, "target", "band centre"),
                                (self.numerator, "numerator", "ratio numerator"),
                                (self.denominator, "denominator", "ratio denominator")):  # fmt: skip
            box.native.setRange(d["low"], d["high"])
            box.native.setSingleStep(d["window"] / 2)
            box.value = d[key]
            box.label = f"{label} ({sym})"
        self.window.value = d["window"]
        self.window.label = f"± window ({sym})"
        self.map_form.field("denominator_window").label = f"denominator ± window ({sym})"
        self.pre_form.field("crop").label = f"crop range ({sym})"
        self.pre_form.field(
            "crop"
        ).tooltip = f"'low, high' in {sym} within {d['low']:g}–{d['high']:g}; empty: the whole axis"
        where = "" if units or self.axis_text.value.strip() else " (no spectral axis in metadata)"
        self.axis_info.value = f"{axis.size} channels, {d['low']:g}–{d['high']:g} {sym}{where}"

    # ------------------------------------------------------------------ the run
    def input_layers(self) -> list[Any]:
        return [self.cube.value] if self.cube.value is not None else []

    def current_options(self) -> SimpleNamespace:
        """The cluster, map and preprocessing options of the form (validated)."""
        return SimpleNamespace(
            cluster=ClusterOptions.from_kwargs(self.form.values()),
            map=MapOptions.from_kwargs(self.map_form.values()),
            pre=Preprocessing.from_kwargs(
                {k: v for k, v in self.pre_form.values().items() if k in Preprocessing.defaults()}
            ),
        )

    def read_inputs(self) -> SimpleNamespace:
        """The cube, its axis and what the chosen map needs; ValueError says what to change."""
        layer = self.cube.value
        if layer is None:
            raise ValueError("open or select a C×Y×X cube (e.g. File > Open Sample > bead cube)")
        lazy = is_dask_collection(layer.data) and layer.data.ndim == 3  # stays lazy
        cube = layer.data if lazy else layer_cube(layer, self.viewer)
        axis, units = self.spectral_axis(layer)
        sym, lo, hi = unit_symbol(units), float(axis.min()), float(axis.max())
        kind = self.kind.value
        bands = {"intensity": ("target",), "ratio": ("numerator", "denominator")}.get(kind, ())
        for name in bands:
            value = float(getattr(self, name).value)
            if not lo <= value <= hi:
                raise ValueError(
                    f"{name} {value:g} {sym} is outside the cube's spectral axis "
                    f"{lo:g}–{hi:g} {sym}; choose a band inside it"
                )
        return SimpleNamespace(
            kind=kind, cube=cube, axis=axis, units=units, source=layer.name,
            k=int(self.n_clusters.value), truth=self._truth(cube) if kind == "cluster" else None,
            target=float(self.target.value), numerator=float(self.numerator.value),
            denominator=float(self.denominator.value),
        )  # fmt: skip

    def _truth(self, cube: Any) -> np.ndarray | None:
        layer = self.truth.value
        if layer is None:
            return None
        truth = np.asarray(layer.data)
        if truth.shape != tuple(cube.shape[-2:]):
            raise ValueError(
                f"ground truth {layer.name!r} is {truth.shape}, the cube's image is "
                f"{tuple(cube.shape[-2:])}; pick a matching Labels layer or '(none)'"
            )
        return truth if truth.any() else None

    def steps(self, inp: SimpleNamespace, options: SimpleNamespace):
        """The API's generator (cluster map) or call (band maps); returns a Result."""
        if inp.kind == "cluster":
            opts = options.cluster
            res = yield from api.iter_cluster_map(
                inp.cube, inp.k, **opts.as_dict(), spectral_axis=inp.axis,
                preprocessing=options.pre,
            )  # fmt: skip
            yield Progress(0.95, 1, "metrics")
            metrics = api.map_metrics(
                res.labels, inp.truth, embedding=res.embedding, random_state=opts.random_state
            )
            out = res.to_result(inp.source)
            out.report = dict(res.report, metrics=metrics, spectral_units=inp.units)
            return out
        yield Progress(0, None, KINDS[inp.kind])
        if inp.kind == "intensity":
            m = api.intensity_map(
                inp.cube, inp.axis, inp.target, window=options.map.window,
                preprocessing=options.pre,
            )  # fmt: skip
        else:
            m = api.ratio_map(
                inp.cube, inp.axis, inp.numerator, inp.denominator, **options.map.as_dict(),
                preprocessing=options.pre,
            )  # fmt: skip
        out = m.to_result(inp.source)
        out.report = dict(m.report, spectral_units=inp.units)
        return out

    def show_result(self, result: Any) -> None:
        """The policy's layers, with the cluster map in the cluster colours."""
        super().show_result(result)
        colors = {**result.layers[0].extra.get("colors", {}), 0: (0, 0, 0, 0), None: (0, 0, 0, 0)}
        for layer in tool_layers(self.viewer, self.tool, role="clusters"):
            mine = layer.metadata.get("report") is result.report
            current = getattr(layer.colormap, "color_dict", None) or {}
            if mine and {k: tuple(np.round(v, 4)) for k, v in current.items()} != {
                k: tuple(np.round(v, 4)) for k, v in colors.items()
            }:  # an unchanged colormap is not set again (each change redraws)
                layer.colormap = DirectLabelColormap(color_dict=colors)

    def summary(self, result: Result) -> QWidget:
        if result.report.get("tool") == "cluster_map":
            panel = cluster_summary(result, self.viewer)
        else:
            panel = map_summary(result)
        fit_width(panel)
        return panel

    # ------------------------------------------------------------------ shortcuts
    def run_cluster(self) -> Any:
        """Run the cluster map; returns the worker (None when refused)."""
        self.kind.value = "cluster"
        return self.start()

    def run_intensity(self) -> Any:
        """Run the intensity map; returns the worker (None when refused)."""
        self.kind.value = "intensity"
        return self.start()

    def run_ratio(self) -> Any:
        """Run the ratio map; returns the worker (None when refused)."""
        self.kind.value = "ratio"
        return self.start()
