"""The seed data types: :class:`ComponentSeed` (what is known about one component) and
:class:`SeedSet` (the prepared initial factors, locks and provenance)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["ComponentSeed", "SeedSet"]


@dataclass
class ComponentSeed:
    """Everything known about one component before the fit.

    Attributes
    ----------
    name : str
    masks : list of (Y, X) bool arrays
        ROIs of this component; their pixels' mean spectrum is the H seed (several masks
        are pooled).
    spectrum : (C,) array, optional
        A known spectrum on the image's spectral axis (see :func:`resample_spectrum`), or a
        previous result's H row. Wins over masks.
    gaussian : dict, optional
        ``{"center", "fwhm", "amplitude"}`` in spectral units: a Gaussian resonance model
        used as H seed when neither ``spectrum`` nor ``masks`` is given.
    resonance : dict, optional
        Spectral-information seed: ``position`` and ``width`` (spectral units), ``n_pixels``
        (150), ``rank_by`` (``"max_intensity"`` or ``"score"``), ``use_subtracted`` (True),
        ``gaussian`` (False) with ``amplitude`` (1.0) and ``fwhm`` (2·width).
    w_map : (Y, X) array, optional
        A W seed (e.g. a background map); kept fixed when ``lock_w``.
    background : bool
        A background component: seeded from the raw (not background-subtracted) data.
    lock_h, lock_w : bool
        Keep the H row / W column at its seed during NNMF.
    """

    name: str = ""
    masks: Sequence[np.ndarray] = ()
    spectrum: np.ndarray | None = None
    gaussian: dict[str, float] | None = None
    resonance: dict[str, Any] | None = None
    w_map: np.ndarray | None = None
    background: bool = False
    lock_h: bool = False
    lock_w: bool = False


@dataclass
class SeedSet:
    """Prepared seeds: what the solvers take and a seed preview shows.

    ``W0`` columns are scaled to unit maximum (NNMF initialisation; the scale is carried
    by H), ``H0`` keeps the seeds' physical amplitude.

    Examples
    --------
    >>> s = SeedSet(np.ones((1, 2)), np.ones((1, 1, 2)), np.zeros(1, bool),
    ...             np.zeros(1, bool), ["a"], np.zeros(1, bool),
    ...             subtract_spectrum=np.array([1.0, 2.0]),
    ...             subtract_map=np.array([[1.0, 0.5]]))
    >>> s.remove_background(np.full((2, 2), 4.0)).tolist()
    [[3.0, 2.0], [3.5, 3.0]]
    >>> s.background_at(0, 1).tolist()
    [0.5, 1.0]
    """

    H0: np.ndarray  #: k × C, float64
    W0: np.ndarray  #: k × Y × X, float64
    lock_H: np.ndarray  #: (k,) bool
    lock_W: np.ndarray  #: (k,) bool
    names: list[str]
    background: np.ndarray  #: (k,) bool
    subtract_spectrum: np.ndarray | None = None  #: background ROI mean removed from the data
    provenance: list[dict[str, Any]] = field(default_factory=list)
    spectral_axis: np.ndarray | None = None
    #: (Y, X) per-pixel level of ``subtract_spectrum`` (None: the same everywhere)
    subtract_map: np.ndarray | None = None

    @property
    def k(self) -> int:
        """Number of components."""
        return int(self.H0.shape[0])

    def remove_background(self, X: np.ndarray, /) -> np.ndarray:
        """``X`` (pixels × C, every pixel of a slice in raster order) minus the background.

        The background is ``subtract_map[y, x] * subtract_spectrum`` (the spectrum alone
        when there is no map); without a background ROI ``X`` is returned unchanged.
        """
        if self.subtract_spectrum is None:
            return X
        if self.subtract_map is None:
            return X - self.subtract_spectrum
        level = np.asarray(self.subtract_map, np.float64).reshape(-1)
        if level.size != X.shape[0]:
            raise ValueError(
                f"the background map has {level.size} pixels, the data {X.shape[0]}; prepare "
                "the seeds on a slice of the same image size"
            )
        return X - level[:, None] * self.subtract_spectrum

    def background_at(self, y: int, x: int, /) -> np.ndarray:
        """The subtracted background spectrum (C,) at pixel (y, x) (zeros without one)."""
        if self.subtract_spectrum is None:
            return np.zeros(self.H0.shape[1])
        level = 1.0 if self.subtract_map is None else float(self.subtract_map[y, x])
        return level * self.subtract_spectrum

    def subtract_from_cube(self, data: np.ndarray, /) -> np.ndarray:
        """float64 copy of ``data`` (channels at axis -3, e.g. all slices) minus the
        background (the per-pixel map applies to every slice)."""
        out = np.array(data, dtype=np.float64)
        if self.subtract_spectrum is None:
            return out
        bg = self.subtract_spectrum[:, None, None]
        return out - (bg if self.subtract_map is None else bg * self.subtract_map[None])
