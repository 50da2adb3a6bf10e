"""Hyperspectral mapping for scripts: intensity, ratio and cluster maps, metrics, reports.

Array-level functions (``intensity_map``, ``ratio_map``, ``cluster_map``, ``map_metrics``)
take a (C, Y, X) cube and return their result with a provenance report; per-pixel spectra
stored as rows (CSV / HDF5) become a cube with :func:`read_pixel_spectra` or
:func:`cube_from_rows`; :func:`write_map_report` writes the figures, ``metrics.json`` and a
short ``report.md`` into a folder.

Examples
--------
>>> from napari_unmix import make_two_region_cube, cluster_map, map_metrics, ratio_map
>>> cube, truth = make_two_region_cube()
>>> axis = truth["spectral_axis"]
>>> ratio, rep = ratio_map(cube, axis, 1655, 1742, window=10)
>>> bool((np.abs(ratio[:, :15]) > 2).all() and (np.abs(ratio[:, 15:] - 1) < 0.3).all())
True
>>> res = cluster_map(cube, 2, random_state=0)
>>> m = map_metrics(res.labels, truth["labels"], embedding=res.embedding)
>>> m["ari"], m["silhouette"] > 0.6
(1.0, True)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from dask import is_dask_collection

from ..core import hsmap as core
from ..core.hsmap import ClusterResult, choose_k
from ..core.metrics import agreement, silhouette
from ..core.preprocess import Preprocessing
from ..core.report import describe_array, start_report
from ..core.units import unit_symbol
from ..core.validate import (
    check_array,
    check_axis,
    check_int,
    check_not_constant,
    check_not_empty,
    check_number,
)

__all__ = [
    "ClusterResult",
    "Preprocessing",
    "choose_k",
    "cluster_map",
    "cube_from_rows",
    "intensity_map",
    "iter_cluster_map",
    "map_metrics",
    "map_report_file",
    "ratio_map",
    "read_pixel_spectra",
    "write_map_report",
]


def _pipeline(preprocessing) -> Preprocessing:
    if preprocessing is None:
        return Preprocessing()
    if isinstance(preprocessing, Preprocessing):
        return preprocessing
    if isinstance(preprocessing, dict):
        opts = dict(preprocessing)
        if isinstance(opts.get("baseline_params"), dict):
            opts["baseline_params"] = tuple(opts["baseline_params"].items())
        if opts.get("crop") is not None:
            opts["crop"] = tuple(opts["crop"])
        return Preprocessing(**opts)
    raise ValueError(
        f"preprocessing must be None, a dict or a Preprocessing, got {type(preprocessing).__name__}"
    )


def _prepare(cube, axis, preprocessing):
    if getattr(cube, "ndim", 0) != 3:
        raise ValueError(
            f"expected a hyperspectral cube (C, Y, X), got shape {getattr(cube, 'shape', None)}; "
            "for per-pixel spectra as rows use cube_from_rows(rows, image_shape)"
        )
    check_array("cube", cube)
    if axis is None:
        axis = np.arange(cube.shape[0], dtype=np.float64)
    axis = np.asarray(axis, dtype=np.float64).reshape(-1)
    if axis.size != cube.shape[0]:
        raise ValueError(
            f"spectral axis has {axis.size} values but the cube {cube.shape[0]} channels "
            f"({cube.shape=}); give one axis value per channel"
        )
    axis = check_axis("spectral axis", axis)
    pipe = _pipeline(preprocessing)
    if not pipe.is_identity:
        cube, axis = pipe.apply(cube, axis)
    return cube, axis, pipe


def intensity_map(
    cube, axis, target: float, /, *, window: float = 5.0, preprocessing=None
) -> tuple[Any, dict[str, Any]]:
    """Mean intensity in ``target ± window`` (axis units) at every pixel.

    Parameters
    ----------
    cube : (C, Y, X) array (numpy or dask: a dask cube gives a lazy map)
    axis : (C,) array
        Spectral axis (cm⁻¹, nm, ...).
    target, window : float
        Band centre and half width; a window narrower than the channel spacing uses the
        nearest channel.
    preprocessing : Preprocessing, dict or None
        Applied first (see :class:`napari_unmix.core.preprocess.Preprocessing`).

    Returns
    -------
    map : (Y, X) float32 array
    report : dict
    """
    report = start_report(
        "intensity_map",
        {"target": target, "window": window},
        {"cube": describe_array(cube, axes="CYX")},
    )
    check_number("window", window, minimum=0.0)
    cube, axis, pipe = _prepare(cube, axis, preprocessing)
    idx = core.band_channels(axis, target, window)
    image = core.band_intensity(cube, axis, target, window=window)
    report["preprocessing"] = pipe.to_dict()
    report["band"] = {"channels": [int(idx[0]), int(idx[-1])], "axis_values": axis[idx].tolist()}
    return image, report


def ratio_map(
    cube,
    axis,
    numerator: float,
    denominator: float,
    /,
    *,
    window: float = 5.0,
    denominator_window: float | None = None,
    min_denominator: float = 1e-6,
    preprocessing=None,
) -> tuple[Any, dict[str, Any]]:
    """Ratio of the bands at ``numerator`` and ``denominator`` (each mean ± its window).

    Pixels where ``|denominator band| <= min_denominator`` are NaN (masked); for a numpy
    cube, a denominator that is ~0 at every pixel is an error.

    Returns
    -------
    ratio : (Y, X) float32 array (dask for a dask cube), NaN where masked
    report : dict (``n_masked`` for numpy input)
    """
    report = start_report(
        "ratio_map",
        {
            "numerator": numerator,
            "denominator": denominator,
            "window": window,
            "denominator_window": denominator_window,
            "min_denominator": min_denominator,
        },
        {"cube": describe_array(cube, axes="CYX")},
    )
    check_number("min_denominator", min_denominator, minimum=0.0)
    check_number("window", window, minimum=0.0)
    cube, axis, pipe = _prepare(cube, axis, preprocessing)
    ratio, valid = core.band_ratio(
        cube,
        axis,
        numerator,
        denominator,
        window=window,
        denominator_window=denominator_window,
        min_denominator=min_denominator,
    )
    report["preprocessing"] = pipe.to_dict()
    if isinstance(valid, np.ndarray):
        n_valid = int(valid.sum())
        if n_valid == 0:
            raise ValueError(
                f"the denominator band at {denominator:g} is ~0 (<= {min_denominator:g}) at every "
                "pixel; choose a band with signal, or lower min_denominator"
            )
        report["n_masked"] = int(valid.size - n_valid)
    else:
        report["n_masked"] = "not computed (lazy dask result)"
    return ratio, report


def iter_cluster_map(
    cube,
    n_clusters: int,
    /,
    *,
    method: str = "kmeans",
    n_components: int | None = None,
    cleanup: str | None = None,
    cleanup_options: dict[str, Any] | None = None,
    spectral_axis=None,
    preprocessing=None,
    random_state: int = 0,
    **method_options: Any,
):
    """Generator form of :func:`cluster_map`: yields ``(stage, fraction)``, returns the result.

    Widgets run it in a worker thread (progress, cancel); scripts use :func:`cluster_map`.
    """
    params = {
        "n_clusters": n_clusters,
        "method": method,
        "n_components": n_components,
        "cleanup": cleanup,
        "cleanup_options": cleanup_options,
        "random_state": random_state,
        **method_options,
    }
    report = start_report("cluster_map", params, {"cube": describe_array(cube, axes="CYX")})
    yield "preprocessing", 0.0
    lazy = is_dask_collection(cube)
    if lazy and not _pipeline(preprocessing).is_identity:
        raise ValueError(
            "preprocessing of a dask cube is not supported here; preprocess it first, or "
            "pass a numpy cube"
        )
    cube, axis, pipe = _prepare(cube, spectral_axis, preprocessing)
    if not lazy:
        cube = np.asarray(cube)
        check_not_constant("cube", cube)
    run = core.iter_cluster_map_chunked if lazy else core.iter_cluster_map
    result = yield from run(
        cube,
        n_clusters=n_clusters,
        method=method,
        n_components=n_components,
        cleanup=cleanup,
        cleanup_options=cleanup_options,
        random_state=random_state,
        **method_options,
    )
    report.update(result.report)
    report["preprocessing"] = pipe.to_dict()
    report["spectral_axis"] = axis.tolist()
    result.report = report
    return result


def cluster_map(cube, n_clusters: int, /, **kwargs: Any) -> ClusterResult:
    """Cluster the pixel spectra of a (C, Y, X) cube into ``n_clusters`` regions.

    A dask cube (e.g. from ``read_lazy`` of an OME-Zarr store or ENVI file) is never
    loaded whole: the clustering is fitted on ``max_samples`` seeded pixels (default
    20000) and the labels are computed chunk by chunk
    (:func:`napari_unmix.core.hsmap.iter_cluster_map_chunked`).

    Keyword options (see :func:`napari_unmix.core.hsmap.iter_cluster_map`): ``method``
    ("kmeans", "ward", "gmm"), ``n_components`` (cluster PCA scores), ``cleanup``
    ("majority", "components") with ``cleanup_options``, ``spectral_axis``,
    ``preprocessing``, ``random_state`` and method options (``max_samples``,
    ``connectivity="grid"`` for Ward, ``covariance_type`` for GMM).

    Returns
    -------
    ClusterResult
        ``labels`` (Y×X, 1..k), ``mean_spectra`` ± ``sd_spectra`` (on the preprocessed
        axis, in ``report["spectral_axis"]``), ``counts``, ``embedding``, ``report``.
    """
    gen = iter_cluster_map(cube, n_clusters, **kwargs)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def map_metrics(
    labels,
    truth=None,
    /,
    *,
    embedding=None,
    sample_size: int | None = 10000,
    random_state: int = 0,
    ignore_label: int | None = 0,
) -> dict[str, Any]:
    """Quality of a cluster map: silhouette, and agreement with a truth mask if given.

    Parameters
    ----------
    labels : (Y, X) int array
        Cluster map (0 = left out).
    truth : (Y, X) int array, optional
        Ground truth (e.g. painted Labels); pixels equal to ``ignore_label`` are skipped.
    embedding : (d, Y, X) array, optional
        What was clustered (``ClusterResult.embedding`` or the cube): enables the
        silhouette, on a seeded subsample of ``sample_size`` pixels.

    Returns
    -------
    dict
        ``n_clusters``, ``cluster_sizes``, ``silhouette`` (or None), and with ``truth``:
        ``accuracy``, ``ari``, ``per_class`` (precision, recall, IoU), ``mean_iou``,
        ``confusion``, ``matching`` (Hungarian).
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be a (Y, X) image, got {labels.shape=}")
    if labels.dtype.kind not in "iuf":
        raise TypeError(f"labels must be an integer label image, got dtype {labels.dtype}")
    if labels.dtype.kind == "f" and not np.array_equal(labels, np.round(labels)):
        raise ValueError(
            f"labels must be whole numbers (an integer label image); this {labels.dtype} "
            "image has fractions, NaN or inf"
        )
    check_not_empty("labels", labels)
    if sample_size is not None:
        check_int("sample_size", sample_size, minimum=2)
    used = labels > 0
    uniq, counts = np.unique(labels[used], return_counts=True)
    out: dict[str, Any] = {
        "n_clusters": int(uniq.size),
        "cluster_sizes": {str(int(u)): int(c) for u, c in zip(uniq, counts, strict=True)},
        "silhouette": None,
    }
    if embedding is not None:
        lazy = is_dask_collection(embedding)
        emb = embedding if lazy else np.asarray(embedding)
        if emb.ndim != 3 or emb.shape[1:] != labels.shape:
            raise ValueError(
                f"embedding must be (d, Y, X) with Y×X = {labels.shape}, got {emb.shape=}"
            )
        if uniq.size >= 2 and lazy:  # gather only the sampled pixels of a lazy embedding
            ys, xs = np.nonzero(used)
            n = min(sample_size or ys.size, ys.size)
            pick = np.sort(np.random.default_rng(random_state).choice(ys.size, n, replace=False))
            ys, xs = ys[pick], xs[pick]
            feats = np.asarray(emb.transpose(1, 2, 0).vindex[ys, xs])
            out["silhouette"] = silhouette(feats, labels[ys, xs], sample_size=None)
            out["silhouette_sample_size"] = int(n)
        elif uniq.size >= 2:
            feats = emb.reshape(emb.shape[0], -1).T[used.ravel()]
            out["silhouette"] = silhouette(
                feats, labels[used], sample_size=sample_size, random_state=random_state
            )
            out["silhouette_sample_size"] = int(min(sample_size or feats.shape[0], feats.shape[0]))
    if truth is not None:
        truth = np.asarray(truth)
        if truth.shape != labels.shape:
            raise ValueError(
                f"truth mask shape {truth.shape} differs from the cluster map {labels.shape}"
            )
        out.update(agreement(labels, truth, ignore_label=ignore_label))
    return out


# ----------------------------------------------------------------------------- rows -> cube
def cube_from_rows(rows, image_shape, /, *, positions=None) -> np.ndarray:
    """Rebuild a (C, Y, X) cube from per-pixel spectra stored as rows (pixels × C).

    Parameters
    ----------
    rows : (n, C) array
        One spectrum per row, in raster order (row by row) unless ``positions`` is given.
    image_shape : (int, int)
        (height, width); must satisfy height × width = n (or cover every position).
    positions : (n, 2) int array, optional
        (y, x) of every row; pixels without a row become NaN.

    Examples
    --------
    >>> cube_from_rows(np.arange(12.0).reshape(6, 2), (2, 3))[1].tolist()
    [[1.0, 3.0, 5.0], [7.0, 9.0, 11.0]]
    """
    check_array("rows", rows)
    rows = np.asarray(rows, dtype=np.float32)
    if rows.ndim != 2:
        raise ValueError(f"rows must be (pixels, channels), got {rows.shape=}")
    try:
        h, w = (int(v) for v in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"image_shape must be (height, width), got {image_shape!r}") from None
    n, c = rows.shape
    if h < 1 or w < 1:
        raise ValueError(f"image_shape must be positive, got {(h, w)}")
    if positions is None:
        if h * w != n:
            raise ValueError(
                f"image_shape {(h, w)} needs {h * w} pixels but there are {n} spectra (rows); "
                "check height and width (a wrong shape would distort the map)"
            )
        return np.ascontiguousarray(rows.T.reshape(c, h, w))
    pos = np.asarray(positions)
    if pos.shape != (n, 2) or not np.array_equal(pos, np.round(pos)):
        raise ValueError(f"positions must be (n, 2) integer (y, x), got {pos.shape=}")
    pos = pos.astype(np.int64)
    if pos.min() < 0 or (pos[:, 0] >= h).any() or (pos[:, 1] >= w).any():
        raise ValueError(
            f"positions reach ({pos[:, 0].max()}, {pos[:, 1].max()}) outside image_shape "
            f"{(h, w)}; check the image_shape"
        )
    flat = pos[:, 0] * w + pos[:, 1]
    if np.unique(flat).size != n:
        raise ValueError("two spectra have the same (y, x) position")
    cube = np.full((c, h * w), np.nan, np.float32)
    cube[:, flat] = rows.T
    return cube.reshape(c, h, w)


def _parse_shape(text: str):
    parts = [p for p in text.replace("(", " ").replace(")", " ").replace(",", " ").split() if p]
    return tuple(int(float(p)) for p in parts)


def _read_rows_csv(path: Path):
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    meta_shape = None
    body = []
    for line in lines:
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            key, _, val = s.lstrip("#").partition(":")
            if key.strip().lower() == "image_shape":
                meta_shape = _parse_shape(val)
            continue
        body.append(s)
    if len(body) < 2:
        raise ValueError(f"{path.name!r}: need a header row of wavenumbers and spectrum rows")
    header = [h.strip() for h in body[0].split(",")]
    n_pos = 2 if [h.lower() for h in header[:2]] == ["y", "x"] else 0
    try:
        axis = np.array([float(h) for h in header[n_pos:]])
    except ValueError:
        raise ValueError(
            f"{path.name!r}: the header row must hold the spectral axis values (optionally "
            f"after 'y,x' columns), got {header[:4]}..."
        ) from None
    try:
        values = np.loadtxt(body[1:], delimiter=",", ndmin=2)
    except ValueError as err:
        raise ValueError(f"{path.name!r}: non-numeric spectrum values ({err})") from None
    if values.shape[1] != axis.size + n_pos:
        raise ValueError(
            f"{path.name!r}: rows have {values.shape[1]} columns, header {axis.size + n_pos}"
        )
    pos = values[:, :2] if n_pos else None
    return values[:, n_pos:], axis, meta_shape, pos


def _read_rows_hdf5(path: Path):
    import h5py

    with h5py.File(path, "r") as f:
        name = next((k for k in ("spectra", "data", "X") if k in f), None)
        axis_name = next(
            (k for k in ("wavenumbers", "wavenumber", "spectral_axis", "axis") if k in f), None
        )
        if name is None or axis_name is None:
            raise ValueError(
                f"{path.name!r} needs datasets 'spectra' (pixels × C) and 'wavenumbers' (C,); "
                f"found {sorted(f.keys())}"
            )
        rows = np.asarray(f[name][()], dtype=np.float32)
        axis = np.asarray(f[axis_name][()], dtype=np.float64)
        shape = None
        if "image_shape" in f:
            shape = tuple(int(v) for v in np.asarray(f["image_shape"][()]).ravel())
        elif "image_shape" in f.attrs:
            shape = tuple(int(v) for v in np.asarray(f.attrs["image_shape"]).ravel())
        elif "image_shape" in f[name].attrs:
            shape = tuple(int(v) for v in np.asarray(f[name].attrs["image_shape"]).ravel())
        pos = np.asarray(f["positions"][()]) if "positions" in f else None
    return rows, axis, shape, pos


def read_pixel_spectra(
    path: str | os.PathLike, /, *, image_shape=None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Read per-pixel spectra (CSV or HDF5) and rebuild the (C, Y, X) cube.

    * CSV: a header row with the spectral axis values (optionally preceded by ``y,x``
      columns giving each row's pixel), one spectrum per row in raster order, and
      optionally a comment line ``# image_shape: height, width``.
    * HDF5 (``.h5``/``.hdf5``): datasets ``spectra`` (pixels × C) and ``wavenumbers``
      (C,), ``image_shape`` as a dataset or attribute, optional ``positions`` (n × 2).

    ``image_shape`` given here overrides a missing one in the file; if both are given
    and differ, that is an error.

    Returns
    -------
    cube : (C, Y, X) float32
    axis : (C,) float64
    info : dict (``image_shape``, ``source``, ``n_spectra``)
    """
    from ..io.safety import check_input

    path = check_input(path, what="spectra file")
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5", ".he5"):
        rows, axis, file_shape, pos = _read_rows_hdf5(path)
    else:
        rows, axis, file_shape, pos = _read_rows_csv(path)
    shape = tuple(int(v) for v in image_shape) if image_shape is not None else file_shape
    if file_shape is not None and image_shape is not None and tuple(file_shape) != shape:
        raise ValueError(
            f"image_shape {shape} differs from the file's image_shape {tuple(file_shape)}"
        )
    if shape is None:
        raise ValueError(
            f"{path.name!r} has no image_shape; pass image_shape=(height, width) "
            f"({rows.shape[0]} spectra)"
        )
    if len(shape) != 2:
        raise ValueError(f"image_shape must be (height, width), got {shape}")
    try:
        cube = cube_from_rows(rows, shape, positions=pos)
    except ValueError as err:
        raise ValueError(f"{path.name}: {err}") from None
    return cube, axis, {"image_shape": shape, "source": str(path), "n_spectra": rows.shape[0]}


# ----------------------------------------------------------------------------- report files
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
    window: float = 5.0,
    method: str = "kmeans",
    n_components: int | None = None,
    cleanup: str | None = None,
    preprocessing=None,
    truth=None,
    units: str | None = "cm-1",
    random_state: int = 0,
    overwrite: bool = False,
) -> Path:
    """Compute the three maps and the metrics, and write them as files into ``output_dir``.

    Writes ``intensity_map.png``, ``ratio_map.png``, ``cluster_map.png``,
    ``pixel_spectra.png``, ``metrics.json`` (metrics + every step's report) and
    ``report.md``; returns the path of ``report.md``. Existing files are kept unless
    ``overwrite=True``.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = ["intensity_map.png", "ratio_map.png", "cluster_map.png", "pixel_spectra.png",
             "metrics.json", "report.md"]  # fmt: skip
    if not overwrite and (clash := [n for n in names if (out / n).exists()]):
        raise FileExistsError(
            f"{clash} exist in {str(out)!r}; choose another folder or overwrite=True"
        )
    imap, irep = intensity_map(cube, axis, target, window=window, preprocessing=preprocessing)
    rmap, rrep = ratio_map(
        cube, axis, numerator, denominator, window=window, preprocessing=preprocessing
    )
    res = cluster_map(
        cube,
        n_clusters,
        method=method,
        n_components=n_components,
        cleanup=cleanup,
        spectral_axis=axis,
        preprocessing=preprocessing,
        random_state=random_state,
    )
    metrics = map_metrics(res.labels, truth, embedding=res.embedding, random_state=random_state)
    return _write_report_files(
        out, (imap, irep), (rmap, rrep), res, metrics, target=target, numerator=numerator,
        denominator=denominator, window=window, method=method, n_clusters=n_clusters, units=units,
        overwrite=overwrite,
    )  # fmt: skip


def _write_report_files(
    out: Path, intensity, ratio, res: ClusterResult, metrics, *, target, numerator, denominator,
    window, method, n_clusters, units, overwrite,
) -> Path:  # fmt: skip
    """Figures, ``metrics.json`` and ``report.md`` of computed maps into ``out``."""
    from ..io.safety import atomic_output, plan_outputs
    from ..io.sidecar import write_json
    from ..plot import hsmap as plots
    from ..plot.figure import save_figure

    (imap, irep), (rmap, rrep) = intensity, ratio
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
            from ..io.spectral_axis import parse_spectral_axis

            found = parse_spectral_axis(spectral_axis, n_channels=axis.size)
            axis, source = found.values, found.source
        info = {"source": str(path), **info, "spectral_axis_source": source}
        return cube, axis, spectral_units or "cm-1", info
    if image_shape is not None:
        raise ValueError("image_shape applies to per-pixel spectra files (CSV / HDF5) only")
    from ..io.envi import is_envi_path
    from ._files import is_lazy_input, open_input

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


def map_report_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    /,
    *,
    target: float,
    numerator: float,
    denominator: float,
    n_clusters: int,
    window: float = 5.0,
    method: str = "kmeans",
    n_components: int | None = None,
    cleanup: str | None = None,
    image_shape: tuple[int, int] | None = None,
    spectral_units: str | None = None,
    random_state: int = 0,
    report: bool = True,
    overwrite: bool = False,
    spectral_axis: Any = None,
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
        :func:`ratio_map`).
    n_clusters, method, n_components, cleanup, random_state
        As :func:`cluster_map`.
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
    from ..io.omio_io import write_image
    from ..io.sidecar import write_sidecar
    from ._files import check_output

    inp, out = Path(input_path), Path(output_path)
    check_output(out, output_format="ome-tiff", overwrite=overwrite, other_inputs={"input": inp})
    stem = out.name
    for end in (".ome.tiff", ".ome.tif", ".tiff", ".tif"):
        if stem.lower().endswith(end):
            stem = stem[: -len(end)]
            break
    folder = out.with_name(f"{stem}_report")
    names = ("intensity_map.png", "ratio_map.png", "cluster_map.png", "pixel_spectra.png",
             "metrics.json", "report.md")  # fmt: skip
    if report and not overwrite and (clash := [n for n in names if (folder / n).exists()]):
        raise FileExistsError(f"{clash} exist in {str(folder)!r}; choose another output name")
    cube, axis, units, info = _read_map_input(inp, image_shape, spectral_units, spectral_axis)
    imap, irep = intensity_map(cube, axis, target, window=window)
    rmap, rrep = ratio_map(cube, axis, numerator, denominator, window=window)
    res = cluster_map(
        cube, n_clusters, method=method, n_components=n_components, cleanup=cleanup,
        spectral_axis=axis, random_state=random_state,
    )  # fmt: skip
    metrics = map_metrics(res.labels, None, embedding=res.embedding, random_state=random_state)
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
        {"target": target, "numerator": numerator, "denominator": denominator,
         "n_clusters": n_clusters, "window": window, "method": method,
         "n_components": n_components, "cleanup": cleanup, "random_state": random_state,
         "spectral_units": units},
        {"cube": describe_array(cube, axes="CYX")},
    )  # fmt: skip
    rep.update(input=info, metrics=metrics, intensity=irep, ratio=rrep, clusters=res.report)
    rep["spectral_axis_source"] = info.get("spectral_axis_source")
    rep["channels"] = ["intensity", "ratio", "cluster"]
    if report:
        folder.mkdir(exist_ok=True)
        written["report"] = _write_report_files(
            folder, (imap, irep), (rmap, rrep), res, metrics, target=target,
            numerator=numerator, denominator=denominator, window=window, method=method,
            n_clusters=n_clusters, units=units, overwrite=overwrite,
        )  # fmt: skip
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
