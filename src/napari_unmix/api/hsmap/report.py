"""Report files of the hyperspectral maps: :func:`write_map_report` (figures, ``metrics.json``,
``report.md`` of a cube in memory) and :func:`map_report_file` (maps OME-TIFF + report of a
cube file, the CLI's ``maps``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...core.hsmap import ClusterOptions, ClusterResult, MapOptions
from ...core.options import takes_options
from ...core.report import describe_array, start_report
from ...core.units import unit_symbol
from .maps import cluster_map, intensity_map, map_metrics, ratio_map
from .rows import read_pixel_spectra

__all__ = ["map_report_file", "write_map_report"]


@takes_options(MapOptions, ClusterOptions)
def write_map_report(
    cube,
    axis,
    output_dir: str | os.PathLike,
    /,
    *,
    target: float,
    numerator: float,
    denominator: float,
    n_clusters: int,
    preprocessing=None,
    truth=None,
    units: str | None = "cm-1",
    overwrite: bool = False,
    options: tuple[MapOptions, ClusterOptions],
) -> Path:
    """Compute the three maps and the metrics, and write them as files into ``output_dir``.

    Writes ``intensity_map.png``, ``ratio_map.png``, ``cluster_map.png``,
    ``pixel_spectra.png``, ``metrics.json`` (metrics + every step's report) and
    ``report.md``; returns the path of ``report.md``. Existing files are kept unless
    ``overwrite=True``. ``target``, ``numerator``, ``denominator`` and the keyword options
    of :class:`~napari_unmix.core.hsmap.MapOptions` (``window``, ...) are as in
    :func:`intensity_map` and :func:`ratio_map`; ``n_clusters`` and the keyword options of
    :class:`~napari_unmix.core.hsmap.ClusterOptions` (``method``, ``n_components``,
    ``cleanup``, ``random_state``, ...) as in :func:`cluster_map`.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not overwrite and (clash := [n for n in REPORT_FILES if (out / n).exists()]):
        raise FileExistsError(
            f"{clash} exist in {str(out)!r}; choose another folder or overwrite=True"
        )
    settings = _settings(locals(), options)
    intensity, ratio, res, metrics = _compute_maps(
        cube, axis, settings, options, preprocessing, truth
    )
    return _write_report_files(out, intensity, ratio, res, metrics, settings, units, overwrite)


#: The files of a report folder.
REPORT_FILES = ("intensity_map.png", "ratio_map.png", "cluster_map.png", "pixel_spectra.png",
                "metrics.json", "report.md")  # fmt: skip
_BANDS = ("target", "numerator", "denominator", "n_clusters")


def _settings(values: dict[str, Any], options: tuple[MapOptions, ClusterOptions]) -> dict:
    """What the report records: the bands, ``n_clusters``, the map options and the cluster
    options given (a method option left at None, the method's own default, is left out)."""
    maps, clusters = options
    return {k: values[k] for k in _BANDS} | maps.as_dict() | clusters.given()


def _compute_maps(cube, axis, settings: dict[str, Any], options, preprocessing, truth):
    """Intensity and ratio maps (with reports), cluster map and metrics of ``settings``."""
    (maps, clusters), s, pre = options, settings, preprocessing
    intensity = intensity_map(cube, axis, s["target"], window=maps.window, preprocessing=pre)
    ratio = ratio_map(
        cube, axis, s["numerator"], s["denominator"], preprocessing=pre, **maps.as_dict()
    )
    res = cluster_map(
        cube, s["n_clusters"], spectral_axis=axis, preprocessing=pre, options=clusters
    )
    metrics = map_metrics(
        res.labels, truth, embedding=res.embedding, random_state=clusters.random_state
    )
    return intensity, ratio, res, metrics


def _write_report_files(
    out: Path, intensity, ratio, res: ClusterResult, metrics, settings, units, overwrite
) -> Path:
    """Figures, ``metrics.json`` and ``report.md`` of computed maps into ``out``."""
    from ...io.safety import atomic_output, plan_outputs
    from ...io.sidecar import write_json
    from ...plot import hsmap as plots
    from ...plot.figure import save_figure

    (imap, irep), (rmap, rrep) = intensity, ratio
    target, window, method = settings["target"], settings["window"], settings["method"]
    numerator, denominator = settings["numerator"], settings["denominator"]
    n_clusters = settings["n_clusters"]
    u = unit_symbol(units)
    imap, rmap = np.asarray(imap), np.asarray(rmap)
    figs = {
        "intensity_map.png": plots.map_figure(
            imap, title=f"Intensity {target:g} ± {window:g} {u}", cbar_label="mean intensity"
        ),
        "ratio_map.png": plots.map_figure(
            rmap, title=f"Ratio {numerator:g} / {denominator:g} {u}", cbar_label="ratio",
            cmap="magma",
        ),
        "cluster_map.png": plots.cluster_map_figure(res.labels, title=f"{method}, k = {n_clusters}"),
        "pixel_spectra.png": plots.cluster_spectra_figure(
            np.asarray(res.report["spectral_axis"]), res.mean_spectra, res.sd_spectra,
            counts=res.counts, units=units,
        ),
    }  # fmt: skip
    for name, fig in figs.items():
        save_figure(fig, out / name, overwrite=overwrite)
    write_json(
        out / "metrics.json",
        {"metrics": metrics, "intensity": irep, "ratio": rrep, "clusters": res.report},
        overwrite=overwrite,
    )
    md = _report_markdown(metrics, res, irep, rrep, units=u)
    path = plan_outputs([out / "report.md"], overwrite=overwrite)[0]
    with atomic_output(path, overwrite=overwrite) as tmp:
        tmp.write_text(md, encoding="utf-8")
    return path


_ROW_FILES = (".csv", ".txt", ".h5", ".hdf5", ".he5")


def _read_map_input(path: Path, image_shape, spectral_units, spectral_axis=None):
    """Cube (C, Y, X), spectral axis, units and an input description of a cube file.

    OME-Zarr stores and ENVI cubes are opened lazily (a dask cube, mapped chunk by chunk).
    """
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if path.suffix.lower() in _ROW_FILES:
        cube, axis, info = read_pixel_spectra(path, image_shape=image_shape)
        source = "header row of the spectra file"
        if spectral_axis is not None:
            from ...io.spectral_axis import parse_spectral_axis

            found = parse_spectral_axis(spectral_axis, n_channels=axis.size)
            axis, source = found.values, found.source
        info = {"source": str(path), **info, "spectral_axis_source": source}
        return cube, axis, spectral_units or "cm-1", info
    if image_shape is not None:
        raise ValueError("image_shape applies to per-pixel spectra files (CSV / HDF5) only")
    from ...io.envi import is_envi_path
    from .._files import is_lazy_input, open_input

    data, meta = open_input(
        path, lazy=is_lazy_input(path) or is_envi_path(path), spectral_axis=spectral_axis,
        spectral_units=spectral_units,
    )  # fmt: skip
    if data.shape[0] != 1 or data.shape[1] != 1:
        raise ValueError(
            f"{path.name}: expected one hyperspectral cube (T = Z = 1, channels along C), got "
            f"{data.shape=} (TZCYX); take one time point / z-slice first"
        )
    if data.shape[2] < 2:
        raise ValueError(f"{path.name}: expected many spectral channels, got {data.shape=}")
    axis = meta.get("spectral_axis")
    units = spectral_units or meta.get("spectral_units")
    if axis is None:
        axis = np.arange(data.shape[2], dtype=np.float64)
        units = None
    info = {
        "source": str(path),
        "physical_size": meta["physical_size"],
        "spectral_axis_source": meta.get("spectral_axis_source"),
    }
    return data[0, 0], np.asarray(axis, dtype=np.float64), units, info


@takes_options(MapOptions, ClusterOptions)
def map_report_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    /,
    *,
    target: float,
    numerator: float,
    denominator: float,
    n_clusters: int,
    image_shape: tuple[int, int] | None = None,
    spectral_units: str | None = None,
    report: bool = True,
    overwrite: bool = False,
    spectral_axis: Any = None,
    options: tuple[MapOptions, ClusterOptions],
) -> dict[str, Path]:
    """Intensity, ratio and cluster maps of a cube file, with metrics and a report folder.

    Parameters
    ----------
    input_path : path
        An image file holding one cube (T = Z = 1, the spectral channels along C; the
        spectral axis is read from the file's metadata, else channel indices are the
        axis), or per-pixel spectra as rows in CSV / HDF5 (see :func:`read_pixel_spectra`;
        ``image_shape`` when the file lacks it). OME-Zarr stores and ENVI cubes are read
        lazily: the maps are computed chunk by chunk and the clusters fitted on a bounded
        sample (:func:`napari_unmix.core.hsmap.iter_cluster_map_chunked`), so a cube
        larger than memory can be mapped.
    output_path : path
        OME-TIFF of the three maps as channels ``intensity``, ``ratio``, ``cluster``
        (labels 1..k, 0 = left out, stored as float32); the report (every step's
        parameters and the metrics) goes to ``<output>.json``, and with ``report`` the
        figures, ``metrics.json`` and ``report.md`` to the folder ``<stem>_report``.
    target, window, numerator, denominator
        Band centres and half width in axis units (:func:`intensity_map`,
        :func:`ratio_map`; and the other keyword options of
        :class:`~napari_unmix.core.hsmap.MapOptions`).
    n_clusters, method, n_components, cleanup, random_state
        As :func:`cluster_map` (and the other keyword options of
        :class:`~napari_unmix.core.hsmap.ClusterOptions`).
    spectral_units : str, optional
        Units of the axis for labels (default: the file's; "cm-1" for spectra rows).
    spectral_axis : optional
        The cube's axis (values, ``"start:stop:n"`` or a file such as
        ``wavelength.json``) when the file does not carry one; it wins over the file
        (see :mod:`napari_unmix.io.spectral_axis`).
    overwrite : bool
        Replace existing outputs (all are checked before any work).

    Returns
    -------
    dict
        ``{"maps": path, "sidecar": path}`` and ``"report"`` (the ``report.md``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from napari_unmix.core.synthetic import make_two_region_cube
    >>> from napari_unmix.io.omio_io import write_image
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> cube, truth = make_two_region_cube(shape=(12, 12), n_channels=60)
    >>> extra = {"spectral_axis": truth["spectral_axis"].tolist(), "spectral_units": "cm-1"}
    >>> src = write_image(d / "cube.ome.tif", cube[None, None], extra=extra)
    >>> out = map_report_file(src, d / "maps.ome.tif", target=1655, numerator=1655,
    ...                       denominator=1742, n_clusters=2, window=10, report=False)
    >>> sorted(out)
    ['maps', 'sidecar']
    """
    from ...io.omio_io import write_image
    from ...io.sidecar import write_sidecar
    from .._files import check_output

    inp, out = Path(input_path), Path(output_path)
    check_output(out, output_format="ome-tiff", overwrite=overwrite, other_inputs={"input": inp})
    stem = out.name
    for end in (".ome.tiff", ".ome.tif", ".tiff", ".tif"):
        if stem.lower().endswith(end):
            stem = stem[: -len(end)]
            break
    folder = out.with_name(f"{stem}_report")
    if report and not overwrite and (clash := [n for n in REPORT_FILES if (folder / n).exists()]):
        raise FileExistsError(f"{clash} exist in {str(folder)!r}; choose another output name")
    settings = _settings(locals(), options)
    cube, axis, units, info = _read_map_input(inp, image_shape, spectral_units, spectral_axis)
    (imap, irep), (rmap, rrep), res, metrics = _compute_maps(
        cube, axis, settings, options, None, None
    )
    labels = np.asarray(res.labels, dtype=np.float32)
    maps = np.stack([np.asarray(imap, np.float32), np.asarray(rmap, np.float32), labels])
    px = info.get("physical_size", (1.0, 1.0, 1.0))
    written = {
        "maps": write_image(
            out, maps[None, None], physical_size=px, overwrite=overwrite,
            channel_names=["intensity", "ratio", "cluster"],
            extra={"spectral_units": units, "n_clusters": int(n_clusters)},
        )
    }  # fmt: skip
    rep = start_report(
        "map_report_file",
        {**settings, "spectral_units": units},
        {"cube": describe_array(cube, axes="CYX")},
    )
    rep.update(input=info, metrics=metrics, intensity=irep, ratio=rrep, clusters=res.report)
    rep["spectral_axis_source"] = info.get("spectral_axis_source")
    rep["channels"] = ["intensity", "ratio", "cluster"]
    if report:
        folder.mkdir(exist_ok=True)
        written["report"] = _write_report_files(
            folder, (imap, irep), (rmap, rrep), res, metrics, settings, units, overwrite
        )
        rep["outputs"] = {"report": str(written["report"])}
    written["sidecar"] = write_sidecar(out, rep, overwrite=overwrite)
    return written


def _report_markdown(metrics, res: ClusterResult, irep, rrep, *, units: str) -> str:
    p_i, p_r, p_c = irep["parameters"], rrep["parameters"], res.report

    def fmt(v):
        return "n/a" if v is None else f"{v:.3f}"

    lines = [
        "# Hyperspectral map report",
        "",
        f"Created {p_c['created']} with napari-unmix {p_c['versions']['napari-unmix']}; "
        f"input cube {p_c['inputs']['cube']['shape']} ({p_c['inputs']['cube']['dtype']}).",
        "",
        "## Parameters",
        "",
        f"- Preprocessing: {p_c['preprocessing']}",
        f"- Intensity band: {p_i['target']:g} ± {p_i['window']:g} {units}",
        f"- Ratio: {p_r['numerator']:g} / {p_r['denominator']:g} {units} "
        f"(masked pixels: {rrep['n_masked']})",
        f"- Clustering: {p_c['method_label']}, k = {p_c['n_clusters']}, features "
        f"{p_c['features']['features']}, clean-up {p_c['cleanup']}, random_state "
        f"{p_c['random_state']}",
        "",
        "## Metrics",
        "",
        f"- Silhouette: {fmt(metrics['silhouette'])}",
        f"- Cluster sizes: {metrics['cluster_sizes']}",
    ]
    if "ari" in metrics:
        lines += [
            f"- Adjusted Rand index: {metrics['ari']:.3f}",
            f"- Pixel accuracy (Hungarian matching): {metrics['accuracy']:.3f}",
            f"- Mean IoU: {metrics['mean_iou']:.3f}",
            "",
            "| class | cluster | precision | recall | IoU |",
            "|---|---|---|---|---|",
            *(
                f"| {c} | {v['cluster']} | {v['precision']:.3f} | {v['recall']:.3f} | {v['iou']:.3f} |"
                for c, v in metrics["per_class"].items()
            ),
        ]
    lines += [
        "",
        "## Figures",
        "",
        "![intensity](intensity_map.png) ![ratio](ratio_map.png)",
        "",
        "![clusters](cluster_map.png) ![spectra](pixel_spectra.png)",
        "",
    ]
    return "\n".join(lines)
