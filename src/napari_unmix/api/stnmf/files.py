"""STNMF files: :func:`stnmf_file` (``napari-unmix stnmf``) and :func:`load_ste`.

:func:`stnmf_file` reads an ensemble, factorises it and writes every output
(:mod:`.outputs`); with a spike table it hands the recording to
:func:`~napari_unmix.api.stnmf.recording.stnmf_recording_file`. :func:`load_ste` reads an
ensemble with clear messages for files that are not what their suffix says.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ...core.progress import Progress, run
from ...core.stnmf import StnmfOptions, StnmfRecordingOptions, StnmfSettingsOptions
from ...core.validate import check_int
from ...io.spikes import read_array
from .model import STNMF
from .outputs import write_outputs
from .recording import resolve_settings, stnmf_recording_file

__all__ = ["ENSEMBLE_SUFFIXES", "load_ste", "stnmf_file"]

_O, _S, _R = StnmfOptions, StnmfSettingsOptions, StnmfRecordingOptions


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
    r: int = _O.r,
    settings: str = _S.settings,
    sparsity: float | None = _S.sparsity,
    smoothing: float | None = _S.smoothing,
    num_iter: int = _O.num_iter,
    seed: int | None = _O.seed,
    pixel_size: float = _O.pixel_size,
    moransi_threshold: float = _O.moransi_threshold,
    key: str | None = None,
    figure: bool = True,
    overwrite: bool = False,
    progress: Callable[[Progress], Any] | None = None,
    spikes: str | os.PathLike | None = None,
    cells: Sequence[str] | None = None,
    frame_rate: float | None = _R.frame_rate,
    lag: int = _R.lag,
    latency: float | None = _R.latency,
    temporal_filter: str | None = _R.temporal_filter,
    n_lags: int = _R.n_lags,
    counts: bool = _R.counts,
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
        ``progress(event)`` with a :class:`~napari_unmix.core.progress.Progress` per
        iteration (per cell and iteration with ``spikes``).
    spikes : path, optional
        A spike table (one column / dataset per cell). Then ``input_path`` is the
        stimulus movie (t, x, y), ``output_path`` a folder, and the work is
        :func:`~napari_unmix.api.stnmf.stnmf_recording_file` with ``cells``,
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
    _R.pick(locals())  # the rest: resolve_settings and STNMF
    opts = resolve_settings(settings, sparsity=sparsity, smoothing=smoothing)
    from ...io.safety import check_input, plan_outputs
    from ...io.sidecar import sidecar_path

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
    num_iter = check_int("num_iter", num_iter, minimum=1)
    ste = load_ste(inp, key=key)
    s = STNMF(
        ste, r=r, seed=seed, pixel_size=pixel_size, moransi_threshold=moransi_threshold,
        num_iter=num_iter, factorize=False, **opts,
    )  # fmt: skip
    run(s.iter_factorize(num_iter), progress)
    extra = {"input": {"ste": str(inp), "key": key}}
    return write_outputs(s, paths, overwrite=overwrite, extra=extra)


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
    from ...io.safety import check_input

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in ENSEMBLE_SUFFIXES:
        raise ValueError(f"cannot read {suffix!r}; use one of {list(ENSEMBLE_SUFFIXES)}")
    check_input(path, what="ensemble file")
    if suffix == ".mat":
        ste = _load_mat(path, key)
    else:
        ste = np.asarray(read_array(path, key=key, ndim=3, what="ensemble file"))
    if ste.ndim != 3:
        raise ValueError(f"{path.name}: expected a 3-D ensemble (x, y, m), got {ste.shape=}")
    return ste
