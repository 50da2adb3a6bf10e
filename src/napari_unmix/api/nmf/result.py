"""The one result type of the NNMF / NNLS / PCA script API, and its export to files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...core.result import Result, ResultLayer, colormap_for
from ...core.seeds import SeedSet
from ...core.units import axis_column

__all__ = ["UnmixResult", "save_result"]


@dataclass
class UnmixResult:
    """Maps, spectra and diagnostics of one unmixing run.

    For a 3-D cube ``W`` is ``k × Y × X``, ``H`` is ``k × C`` and ``residual`` is ``Y × X``;
    for a 4-D cube (slices × C × Y × X) every array gains a leading slice axis (``H`` only
    when every slice was fitted on its own). ``W`` and ``residual`` are dask arrays when
    the input was (fixed-H NNLS stays lazy); call :meth:`compute` to get numpy arrays.
    """

    W: Any  #: k × Y × X abundance maps (slices × k × Y × X for 4-D)
    H: np.ndarray  #: k × C spectra (slices × k × C when fitted per slice)
    residual: Any  #: Y × X residual norm ``||x − w H||`` per pixel
    relative_error: float | None  #: ``||X − W H||_F / ||X||_F`` over the used pixels
    n_iter: int  #: solver iterations (summed over slices); 0 for NNLS and PCA
    converged: bool
    seeds: SeedSet | None
    params: dict[str, Any]
    report: dict[str, Any] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    spectral_axis: np.ndarray | None = None
    spectral_units: str | None = None
    history: list[float] = field(default_factory=list)  #: objective per iteration
    lazy_terms: Any = field(default=None, repr=False)  #: dask (Σ residual², Σ X²) for compute()

    @property
    def k(self) -> int:
        """Number of components."""
        return int(np.shape(self.H)[-2])

    def compute(self) -> UnmixResult:
        """A copy with numpy ``W`` / ``residual`` (computes dask arrays) and the error filled."""
        if not hasattr(self.W, "compute"):
            return self
        import dask

        W, res, num, den = dask.compute(self.W, self.residual, *self.lazy_terms)
        report = dict(self.report)
        rel = float(np.sqrt(num / den)) if den > 0 else 0.0
        report["relative_error"] = rel
        return UnmixResult(
            **{
                **self.__dict__,
                "W": W,
                "residual": res,
                "relative_error": rel,
                "report": report,
                "lazy_terms": None,
            }
        )

    def to_result(self, source: str = "") -> Result:
        """The shared result shape: one map layer per component (named by component,
        distinct colormaps, additive), the residual map (hidden), the spectra as a table.

        ``W`` stays lazy for a dask result. ``tables["spectra"]`` is ``{"axis": (C,) array,
        "units": str or None, name: (C,) or (slices, C) spectrum, ...}``.

        Examples
        --------
        >>> from napari_unmix.core.synthetic import make_bead_cube
        >>> from napari_unmix.api.nmf import nnls_unmix
        >>> cube, truth = make_bead_cube(shape=(16, 16), n_channels=12)
        >>> res = nnls_unmix(cube, truth["spectra"], names=truth["names"]).to_result("beads")
        >>> res.layer_names()[:2], res.layers[0].colormap, res.layers[-1].role
        (['beads · nnls_unmix · lipid', 'beads · nnls_unmix · lipid-like'], 'green', 'residual')
        """
        W, H = self.W, np.asarray(self.H)
        axes = "ZYX" if W.ndim == 4 else "YX"
        layers = [
            ResultLayer(
                name,
                W[:, j] if W.ndim == 4 else W[j],
                colormap=colormap_for(j),
                axes=axes,
                role="map",
                extra={"component": name, "spectrum": H[..., j, :]},
            )
            for j, name in enumerate(self.names)
        ]
        layers.append(
            ResultLayer(
                "residual",
                self.residual,
                colormap="inferno",
                axes=axes,
                role="residual",
                extra={"visible": False},
            )
        )
        axis = np.arange(H.shape[-1]) if self.spectral_axis is None else self.spectral_axis
        spectra = {"axis": np.asarray(axis), "units": self.spectral_units}
        spectra.update({name: H[..., j, :] for j, name in enumerate(self.names)})
        tool = str(self.report.get("tool") or self.params.get("method", "nnmf"))
        return Result(tool, layers, self.report, source, {"spectra": spectra})

    def save(
        self,
        path: str | os.PathLike,
        /,
        *,
        overwrite: bool = False,
        output_format: str = "ome-tiff",
    ) -> dict[str, Path]:
        """Write W (OME-TIFF or OME-Zarr), H (CSV) and the report; see :func:`save_result`."""
        return save_result(self, path, overwrite=overwrite, output_format=output_format)


def _csv_path(path: Path) -> Path:
    name = path.name
    for end in (".ome.tiff", ".ome.tif", ".tiff", ".tif", ".ome.zarr", ".zarr"):
        if name.lower().endswith(end):
            name = name[: -len(end)]
            break
    return path.with_name(f"{name}_spectra.csv")


def save_result(
    result: UnmixResult,
    path: str | os.PathLike,
    /,
    *,
    overwrite: bool = False,
    physical_size: tuple[float, float, float] = (1.0, 1.0, 1.0),
    slice_axis: str = "Z",
    output_format: str = "ome-tiff",
) -> dict[str, Path]:
    """Export a result: W as float32 OME-TIFF, H as CSV, the report as JSON sidecar.

    Parameters
    ----------
    result : UnmixResult
    path : str or PathLike
        The OME-TIFF path (e.g. ``beads_W.ome.tif``); the spectra go to
        ``beads_W_spectra.csv`` and the report to ``beads_W.ome.tif.json``.
    overwrite : bool
        Replace existing files (default: an existing file is an error).
    physical_size : (z, y, x)
        Voxel size stored in the file.
    slice_axis : {"Z", "T"}
        Where the slices of a 4-D result go.
    output_format : {"ome-tiff", "ome-zarr"}
        "ome-zarr" (``path`` ending in ``.ome.zarr``) writes W chunk by chunk without
        computing it first: a lazy (dask) result streams to disk, for cubes larger than
        memory. The report is also stored in the store's attributes; its
        ``relative_error`` stays None for a lazy result (it would need a second pass).

    Returns
    -------
    dict
        ``{"W": path, "H": path, "report": path}``.
    """
    from ...io.omio_io import write_image
    from ...io.safety import plan_outputs
    from ...io.sidecar import sidecar_path, write_sidecar
    from ...io.spectra import write_spectra_csv
    from ...io.zarr_io import check_zarr_output_path, write_zarr
    from .._files import resolve_output_format

    fmt = resolve_output_format(output_format)
    path = Path(path)
    csv_path = _csv_path(path)
    if fmt == "ome-zarr":
        check_zarr_output_path(path, overwrite=overwrite)
    plan_outputs([path, csv_path, sidecar_path(path)], overwrite=overwrite,
                 directories=[path] if fmt == "ome-zarr" else ())  # fmt: skip
    if fmt == "ome-zarr":
        W = result.W.astype(np.float32)  # stays lazy for a dask result
    else:
        W = np.asarray(result.compute().W, dtype=np.float32)
    if slice_axis not in ("Z", "T"):
        raise ValueError(f"slice_axis must be 'Z' or 'T', got {slice_axis!r}")
    if W.ndim == 3:
        data = W[None, None]
    elif slice_axis == "Z":
        data = W[None]
    else:
        data = W[:, None]
    extra = {"component_names": result.names, "unmix_tool": result.report.get("tool")}
    report = {**result.report, "output_format": fmt}
    report["outputs"] = {"W": str(path), "H": str(csv_path)}
    write = write_zarr if fmt == "ome-zarr" else write_image
    kw = {"report": report, "levels": "auto"} if fmt == "ome-zarr" else {}
    written = {
        "W": write(
            path,
            data,
            physical_size=physical_size,
            channel_names=result.names,
            extra=extra,
            overwrite=overwrite,
            **kw,
        )
    }
    H = np.asarray(result.H)
    axis = (
        np.arange(H.shape[-1], dtype=np.float64)
        if result.spectral_axis is None
        else np.asarray(result.spectral_axis)
    )
    axis_name = axis_column(result.spectral_units, has_axis=result.spectral_axis is not None)
    if H.ndim == 2:
        rows, names = H, result.names
    else:  # one block of columns per slice
        rows = H.reshape(-1, H.shape[-1])
        names = [f"s{s}_{n}" for s in range(H.shape[0]) for n in result.names]
    written["H"] = write_spectra_csv(
        csv_path, axis, rows, names, axis_name=axis_name, overwrite=overwrite
    )
    written["report"] = write_sidecar(written["W"], report, overwrite=overwrite)
    return written
