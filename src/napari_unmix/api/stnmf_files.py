"""STNMF files: read ensembles, write modules, the module table, the figure and the report.

:func:`stnmf_file` is the file-level entry (``napari-unmix stnmf``); :func:`export_stnmf`
writes a fitted :class:`~napari_unmix.api.stnmf.STNMF`; :func:`load_ste` reads an
ensemble with clear messages for files that are not what their suffix says.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..core.validate import check_option_types
from ..io.spikes import read_array
from .stnmf_model import STNMF, PixelSizeWarning

__all__ = ["export_stnmf", "load_ste", "modules_table", "stnmf_file"]


def modules_table(s: STNMF, /) -> list[dict[str, Any]]:
    """One row per module: module, Moran's I, subunit, polarity, diameter, distance, weight.

    Column names carry their units: ``diameter_um`` / ``distance_um`` when ``pixel_size``
    is set, else ``diameter_stixels`` / ``distance_stixels``. Polarity is "ON" / "OFF"
    for subunits; ``weight_z`` is the mean weight in standard errors (see
    :attr:`STNMF.weight_z`).
    """
    info = s.modules_info
    unit = "um" if s.pixel_size else "stixels"
    z = s.weight_z
    rows = []
    for k in range(s.r):
        loc = bool(info.localized[k])
        rows.append(
            {
                "module": k,
                "morans_i": round(float(info.moransi[k]), 3),
                "subunit": "yes" if loc else "no",
                "polarity": ("ON" if info.polarity[k] > 0 else "OFF") if loc else "",
                f"diameter_{unit}": round(float(info.diameter[k]), 1) if loc else "",
                f"distance_{unit}": round(float(info.distance[k]), 1) if loc else "",
                "mean_weight": round(float(info.weight[k]), 5),
                "weight_z": round(float(z[k]), 1),
            }
        )
    return rows


def export_stnmf(
    s: STNMF,
    folder: str | os.PathLike,
    /,
    *,
    name: str = "stnmf",
    figure: bool = True,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write the modules (OME-TIFF, r as channels), the module table (CSV), the figure
    (PNG) and the report (JSON sidecar of the OME-TIFF) into ``folder``; existing files
    are an error unless ``overwrite``.

    Returns the written paths by kind (``modules``, ``sidecar``, ``table``, ``figure``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "modules": folder / f"{name}_modules.ome.tif",
        "table": folder / f"{name}_modules.csv",
        "figure": folder / f"{name}.png" if figure else None,
    }
    return _write_outputs(s, paths, overwrite=overwrite)


def _write_outputs(
    s: STNMF, paths: dict[str, Any], *, overwrite: bool, extra: dict | None = None
) -> dict[str, Path]:
    """Modules OME-TIFF + sidecar, module table CSV and (if a path is given) the figure."""
    import csv

    from ..io.omio_io import check_output_path, write_image
    from ..io.safety import atomic_output
    from ..io.sidecar import write_sidecar

    px = s.pixel_size or 1.0
    # modules (r, x, y) -> TZCYX with the module index as channel, x as Y and y as X
    data = np.nan_to_num(s.modules)[None, None].astype(np.float32)
    out = {"modules": Path(paths["modules"])}
    write_image(
        out["modules"], data, physical_size=(1.0, px, px),
        channel_names=[f"module {k}" for k in range(s.r)],
        extra={"stnmf_localized": [int(k) for k in s.localized]}, overwrite=overwrite,
    )  # fmt: skip
    rep = s.report
    rep.update(extra or {})
    out["sidecar"] = write_sidecar(out["modules"], rep, overwrite=overwrite)
    rows = modules_table(s)
    out["table"] = check_output_path(paths["table"], overwrite=overwrite)
    with atomic_output(out["table"], overwrite=overwrite) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if paths.get("figure") is not None:
        from ..plot.figure import save_figure

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PixelSizeWarning)
            out["figure"] = save_figure(s.plot(), paths["figure"], overwrite=overwrite)
    return out


def _stem(path: Path) -> str:
    name = path.name
    for end in (".ome.tiff", ".ome.tif", ".tiff", ".tif"):
        if name.lower().endswith(end):
            return name[: -len(end)]
    return path.stem


def stnmf_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    /,
    *,
    r: int = 20,
    settings: str = "recovery",
    sparsity: float | None = None,
    smoothing: float | None = None,
    num_iter: int = 1000,
    seed: int | None = 0,
    pixel_size: float = 0,
    moransi_threshold: float = 0.25,
    key: str | None = None,
    figure: bool = True,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    spikes: str | os.PathLike | None = None,
    cells: list[str] | None = None,
    frame_rate: float | None = None,
    lag: int = 0,
    latency: float | None = None,
    temporal_filter: str | None = None,
    n_lags: int = 10,
    counts: bool = False,
) -> dict[str, Path]:
    """STNMF of an ensemble file, or of the cells of a recording, with all outputs on disk.

    Parameters
    ----------
    input_path : path
        Spike-triggered ensemble (x, y, spikes) in ``.npy``, ``.npz``, ``.mat`` or
        ``.h5`` (see :func:`load_ste`; ``key`` names the array inside).
    output_path : path
        Modules OME-TIFF (modules as channels); the table goes to ``<stem>.csv``, the
        figure to ``<stem>.png`` and the report to ``<output>.json``. All are checked
        before the factorisation and never overwritten unless ``overwrite=True``.
    r, num_iter, seed, pixel_size, moransi_threshold
        As :class:`STNMF`.
    settings : {"recovery", "reference"}
        Named defaults of ``sparsity`` and ``smoothing`` (``core.stnmf.SETTINGS``):
        "recovery" finds more subunits from fewer spikes, "reference" is the ``stnmf``
        package.
    sparsity, smoothing : float, optional
        Override the settings (see :class:`STNMF`).
    figure : bool
        Write the summary figure.
    progress : callable, optional
        ``progress(iteration, num_iter)`` after every iteration.
    spikes : path, optional
        A spike table (one column / dataset per cell). Then ``input_path`` is the
        stimulus movie (t, x, y), ``output_path`` a folder, and the work is
        :func:`~napari_unmix.api.stnmf_recording.stnmf_recording_file` with ``cells``,
        ``frame_rate``, ``lag``, ``latency``, ``temporal_filter`` ("sta"), ``n_lags``
        and ``counts`` (the table holds counts per frame, not times).

    Returns
    -------
    dict
        Written paths by kind (``modules``, ``sidecar``, ``table``, ``figure``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from napari_unmix.core.synthetic import make_ste_sparse
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> ste, _ = make_ste_sparse(n_spikes=500, grid=8)
    >>> np.save(d / "ste.npy", ste)
    >>> out = stnmf_file(d / "ste.npy", d / "cell.ome.tif", r=4, num_iter=5, figure=False)
    >>> sorted(p.name for p in out.values())
    ['cell.csv', 'cell.ome.tif', 'cell.ome.tif.json']
    """
    check_option_types(stnmf_file, locals())
    from ..io.safety import check_input, plan_outputs
    from ..io.sidecar import sidecar_path
    from .stnmf_recording import resolve_settings, stnmf_recording_file

    opts = resolve_settings(settings, sparsity=sparsity, smoothing=smoothing)
    if spikes is not None:
        return stnmf_recording_file(
            input_path, output_path, spikes=spikes, cells=cells, stimulus_key=key,
            frame_rate=frame_rate, lag=lag, latency=latency, temporal_filter=temporal_filter,
            n_lags=n_lags, counts=counts, figure=figure, overwrite=overwrite, progress=progress,
            r=r, num_iter=num_iter, seed=seed, pixel_size=pixel_size,
            moransi_threshold=moransi_threshold, settings=settings, sparsity=sparsity,
            smoothing=smoothing,
        )  # fmt: skip
    inp, out = check_input(input_path, what="ensemble file"), Path(output_path)
    stem = _stem(out)
    paths: dict[str, Any] = {
        "modules": out,
        "table": out.with_name(f"{stem}.csv"),
        "figure": out.with_name(f"{stem}.png") if figure else None,
    }
    plan_outputs([*paths.values(), sidecar_path(out)], inputs=[inp], overwrite=overwrite)
    num_iter = int(num_iter)
    if num_iter < 1:
        raise ValueError(f"num_iter must be at least 1, got {num_iter=}")
    ste = load_ste(inp, key=key)
    s = STNMF(
        ste, r=r, seed=seed, pixel_size=pixel_size, moransi_threshold=moransi_threshold,
        num_iter=num_iter, factorize=False, **opts,
    )  # fmt: skip
    done = 0
    for it, _ in s.iter_factorize(num_iter):
        done = int(it)
        if progress is not None:
            progress(done, num_iter)
    if progress is not None and done != num_iter:
        progress(num_iter, num_iter)
    extra = {"input": {"ste": str(inp), "key": key}}
    return _write_outputs(s, paths, overwrite=overwrite, extra=extra)


def _load_mat(path: Path, key: str | None) -> np.ndarray:
    import scipy.io

    try:
        d = scipy.io.loadmat(path)
    except NotImplementedError:  # MATLAB v7.3 files are HDF5
        import h5py

        with h5py.File(path, "r") as f:
            found: dict[str, Any] = {}
            f.visititems(lambda n, o: found.__setitem__(n, o[()]) if hasattr(o, "shape") else None)
        d = found
    except (ValueError, OSError, TypeError) as err:
        raise ValueError(f"cannot read {path.name} as a MATLAB file: {err}") from err
    arrays = {k: v for k, v in d.items() if not k.startswith("__")}  # type: ignore[union-attr]
    if key is not None:
        if key not in arrays:
            raise ValueError(f"{path.name} has no array {key!r}; it has {sorted(arrays)}")
        return np.asarray(arrays[key])
    three = [a for a in arrays.values() if np.ndim(a) == 3]
    if len(three) != 1:
        raise ValueError(
            f"{path.name}: pass key= (one of {sorted(arrays)}); "
            f"found {len(three)} three-dimensional arrays"
        )
    return np.asarray(three[0])


ENSEMBLE_SUFFIXES = (".npy", ".npz", ".mat", ".h5", ".hdf5")


def load_ste(path: str | os.PathLike, /, *, key: str | None = None) -> np.ndarray:
    """Read an ensemble (x, y, m) from ``.npy``, ``.npz``, ``.mat`` or ``.h5``.

    ``key`` names the array inside ``.npz`` / ``.mat`` / ``.h5`` files (default: the one
    three-dimensional array). Empty files and files that are not what their suffix says
    (e.g. a text file named ``.npy``) give a message saying so.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ENSEMBLE_SUFFIXES:
        raise ValueError(f"cannot read {suffix!r}; use one of {list(ENSEMBLE_SUFFIXES)}")
    if suffix == ".mat":
        if not path.exists():
            raise FileNotFoundError(f"no such file: {str(path)!r}")
        ste = _load_mat(path, key)
    else:
        ste = np.asarray(read_array(path, key=key, ndim=3))
    if ste.ndim != 3:
        raise ValueError(f"{path.name}: expected a 3-D ensemble (x, y, m), got {ste.shape=}")
    return ste
