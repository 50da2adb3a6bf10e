"""What a PICASSO estimation found (:class:`PicassoResult`), the state after one sweep
(:class:`Sweep`, the ``partial`` of its progress events) and the warning it may give."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..result import Result, ResultLayer, colormap_for

__all__ = ["InseparableChannelsWarning", "NoBleedThroughWarning", "PicassoResult", "Sweep"]


class NoBleedThroughWarning(UserWarning):
    """A blind source–sink estimate found no bleed-through: the matrix is the identity."""


class InseparableChannelsWarning(UserWarning):
    """A blind source–sink estimate stopped on the bound that keeps the matrix invertible."""


@dataclass(frozen=True)
class Sweep:
    """The estimate after one sweep of the solver: the ``partial`` of a progress event.

    ``t``: the time point estimated; ``iteration``: the sweep (from 1); ``value``: the
    largest |alpha| of the sweep (MATLAB scheme) or the largest alpha change
    (source–sink); ``matrix``: the unmixing matrix so far (of the normalised channels for
    the MATLAB scheme, of the background-subtracted ones for source–sink).
    """

    t: int
    iteration: int
    value: float
    matrix: np.ndarray


@dataclass
class PicassoResult:
    """What an estimation found; apply it with :func:`apply_picasso`.

    Attributes
    ----------
    matrix : ndarray, shape (T, N, N)
        Unmixing matrix per time point in input intensity units, acting on the
        background-subtracted selected channels ``max(I - background, 0)``. For the MATLAB
        scheme this is the cumulative linear transform the loop applied; its clipping
        steps make the loop's output (``mode="replay"``) differ from it.
    background : ndarray, shape (T, N)
        Per-channel offsets (input units) subtracted before unmixing.
    scale : ndarray, shape (T, N)
        Per-channel normalisation (channel maximum; MATLAB scheme) or ones.
    out_scale : ndarray, shape (T, N)
        MATLAB scheme: factor from the loop's normalised output to the output units
        (``own_channel``: least-squares fit of each measured channel on the unmixed ones,
        so a fluorophore keeps the intensity it has in its own channel; ``input``: the
        channel maximum; ``normalized``: 1).
    mixing : ndarray, shape (T, N, N)
        Estimated mixing matrix with unit diagonal (``I ≈ mixing @ F``).
    mixing_se : ndarray, shape (T, N, N), optional
        Source–sink and the noise-aware MATLAB scheme: standard error of every
        estimated mixing coefficient (spread of the MI minimum over disjoint pixel
        subsets); 0 where nothing was estimated.
    alpha_mode, noise_aware
        How the matrix was obtained (``"fixed"``: given by the caller) and whether the
        estimate may compare independently noisy views.
    noise_fraction, split_sigma
        Per estimated time point: the largest channel's share of variance that is pixel
        noise, and the smoothing of the split views used (0: not split, the noise was
        negligible or ``noise_aware=False``).
    non_finite_pixels : list of int
        Per estimated time point, NaN/inf values left out of the estimate (they stay
        NaN in the output).
    zero_relations : list of list of [int, int]
        Source–sink, per estimated time point: the ``[source, sink]`` channels (indices of
        the data) whose coefficient stayed at its lower bound 0, i.e. no bleed-through
        detectable in that direction (all of them: the matrix is the identity, and
        :class:`NoBleedThroughWarning` says so).
    """

    implementation: str
    channels: list[int]
    matrix: np.ndarray
    background: np.ndarray
    scale: np.ndarray
    mode: str = "linear"
    output_units: str = "own_channel"
    out_scale: np.ndarray | None = None
    estimated_t: list[int] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)
    converged: list[bool] = field(default_factory=list)
    history: list[list[float]] = field(default_factory=list)
    mixing: np.ndarray | None = None
    fits: list[Any] = field(default_factory=list)
    mixing_se: np.ndarray | None = None
    alpha_mode: str = "reference_t"
    noise_aware: bool = False
    noise_fraction: list[float] = field(default_factory=list)
    non_finite_pixels: list[int] = field(default_factory=list)
    split_sigma: list[float] = field(default_factory=list)
    zero_relations: list[list[list[int]]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (matrices per time point, iterations, convergence)."""
        out = {
            "implementation": self.implementation,
            "channels": self.channels,
            "mode": self.mode,
            "output_units": self.output_units,
            "unmixing_matrix_by_t": self.matrix,
            "background_by_t": self.background,
            "normalization_by_t": self.scale,
            "output_scale_by_t": self.out_scale,
            "estimated_t": self.estimated_t,
            "iterations_run": self.iterations,
            "converged": self.converged,
            "history": [[round(float(v), 6) for v in h] for h in self.history],
        }
        if self.mixing is not None:
            out["mixing_matrix_by_t"] = self.mixing
        if self.mixing_se is not None:
            out["mixing_standard_error_by_t"] = self.mixing_se
        out["alpha_mode"], out["noise_aware"] = self.alpha_mode, self.noise_aware
        out["noise_fraction"], out["split_sigma"] = self.noise_fraction, self.split_sigma
        out["non_finite_pixels_ignored"] = self.non_finite_pixels
        if self.implementation == "source_sink_n" and self.alpha_mode != "fixed":
            out["zero_relations"] = self.zero_relations
        return out

    def to_result(
        self,
        source: str = "",
        *,
        unmixed: Any = None,
        names: Sequence[str] | None = None,
        stacked: bool = False,
        report: dict[str, Any] | None = None,
    ) -> Result:
        """The unmixed channels as layers, the matrices as tables (:class:`~napari_unmix.core.result.Result`).

        ``unmixed`` is the TZCYX output of :func:`apply_picasso` (without it the result
        has tables only); one layer per channel (axes ``TZYX``, named ``names[c]`` or
        ``C<c>``, each with its own colormap, role ``"unmixed"`` for the selected channels
        and ``"passed"`` for the others), or with ``stacked=True`` one ``TZCYX`` layer
        named ``names[0]``. ``report`` defaults to :meth:`summary`.

        Examples
        --------
        >>> res = PicassoResult("source_sink_n", [0, 1], np.tile(np.eye(2), (1, 1, 1)),
        ...                     np.zeros((1, 2)), np.ones((1, 2)))
        >>> out = res.to_result("mix", unmixed=np.zeros((1, 1, 2, 4, 4)), names=["a", "b"])
        >>> out.layer_names(), [ly.colormap for ly in out.layers]
        (['mix · picasso · a', 'mix · picasso · b'], ['green', 'magenta'])
        >>> sorted(out.tables)
        ['unmixing']
        """
        layers: list[ResultLayer] = []
        if unmixed is not None and stacked:
            label = names[0] if names else "unmixed"
            layers.append(ResultLayer(label, unmixed, axes="TZCYX", role="unmixed"))
        elif unmixed is not None:
            for c in range(unmixed.shape[2]):
                layers.append(
                    ResultLayer(
                        names[c] if names else f"C{c}",
                        unmixed[:, :, c],
                        colormap=colormap_for(c),
                        axes="TZYX",
                        role="unmixed" if c in self.channels else "passed",
                    )
                )
        tables = {"unmixing": np.asarray(self.matrix)}
        if self.mixing is not None:
            tables["mixing"] = np.asarray(self.mixing)
        rep = self.summary() if report is None else report
        return Result("picasso", layers, report=rep, source=source, tables=tables)
