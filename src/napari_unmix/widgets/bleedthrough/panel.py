"""The bleed-through dock's results-panel content: alpha, interval, checks, themed plots.

The headline (alpha and its 95 % interval per direction), one figure in napari's theme
colours (the source-vs-target histogram with the mask, the fitted line and its interval,
the estimators side by side), then the details: every estimator on the same mask voxels,
the dependence left, the before/after diagnostics, each warning in plain words.
"""

from __future__ import annotations

import html
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...api.bleedthrough_result import BleedthroughEstimate
from ...core.result import Result
from .._canvas import LazyCanvas
from .._theme import style_axes, theme_colors

__all__ = ["BleedthroughPanel", "summary_lines"]

_WARN = "#ffb74d"  # warnings stand out on dark and light themes alike
_FIT = "#4fc3f7"  # the fitted line, its interval and the chosen estimator


def _estimates(result: Any) -> dict[str, list[Any]]:
    if isinstance(result, BleedthroughEstimate):
        return result.estimates
    if isinstance(result, Result):
        return result.tables.get("estimates") or {}
    return {}


def _direction_line(label: str, part: dict[str, Any], checks: dict[str, Any] | None) -> str:
    a = part["alpha_by_t"]
    src, tgt = part["source_channel"], part["target_channel"]
    head = f"<b>{label}</b> (C{src} → C{tgt}): "
    if len(set(a)) > 1:
        head += "alpha per t " + ", ".join(f"{v:.3f}" for v in a)
    else:
        head += f"<b>alpha = {a[0]:.3f}</b>"
        ci = (part.get("ci95_by_t") or [None])[0]
        if ci:
            head += f", 95% CI {ci[0]:.3f}–{ci[1]:.3f}"
    given = part.get("alpha_source") == "user_provided"
    head += " (given)" if given else f" · {part['method_effective']}"
    if checks:
        head += f", {checks['mask_voxels']} mask voxels"
    return head


def _check_lines(label: str, checks: dict[str, Any]) -> list[str]:
    others = ", ".join(
        f"{m} {v:.3f}" for m, v in sorted(checks["by_method"].items()) if m != checks["method"]
    )
    mi = checks["mi_after_by_method"]
    best = min(mi, key=mi.get)
    return [
        f"{label}, other estimators on the same voxels: {others}",
        f"{label}, dependence left in the mask: MI {mi[checks['method']]:.3f} nats "
        f"(least: {best}, {mi[best]:.3f})",
    ]


def summary_lines(result: Any) -> tuple[list[str], list[str]]:
    """The panel's text as HTML lines: the headline (alpha and interval per direction) and
    the details (other estimators, dependence, before/after, warnings last, highlighted).

    Examples
    --------
    >>> rep = {"forward": {"alpha_by_t": [0.3], "ci95_by_t": [[0.2, 0.4]], "source_channel": 0,
    ...        "target_channel": 1, "method_effective": "mi_min"}, "reverse": None}
    >>> summary_lines(BleedthroughEstimate(rep, {}, {}))[0][0]
    '<b>forward</b> (C0 → C1): <b>alpha = 0.300</b>, 95% CI 0.200–0.400 · mi_min'
    """
    report = result.report
    checks = report.get("checks") or {}
    head, lines = [], []
    for label in ("forward", "reverse"):
        if report.get(label):
            head.append(_direction_line(label, report[label], checks.get(label)))
        if checks.get(label):
            lines += _check_lines(label, checks[label])
    diag = report.get("diagnostics")
    if diag:
        lines.append(
            f"source vs target (sampled voxels): Pearson r {diag['pearson_before']:.3f} → "
            f"{diag['pearson_after']:.3f}, MI {diag['mi_before']:.3f} → {diag['mi_after']:.3f} nats"
        )
    if isinstance(result, BleedthroughEstimate):
        head.append("estimate only: press “Estimate + correct” to add the corrected layer")
    messages = [m for c in checks.values() for m in c["messages"]]
    if not messages and checks:
        lines.append("the estimators agree and no dependence remains beyond the noise")
    lines += [f'<span style="color:{_WARN}">⚠ {html.escape(m)}</span>' for m in messages]
    return head, lines


def _rich(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    return label


class BleedthroughPanel(QWidget):
    """One run's content for the dock's :class:`~napari_unmix.widgets._results_panel.ResultsPanel`."""

    def __init__(self, result: Any, *, viewer: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head, details = summary_lines(result)
        self.head = _rich("<br>".join(head))
        self.text = _rich("<br>".join(details))
        layout.addWidget(self.head)
        self.canvas: LazyCanvas | None = None
        estimates = _estimates(result).get("forward") or []
        checks = (result.report.get("checks") or {}).get("forward")
        if estimates:
            self._plot(estimates[0], checks, theme_colors(viewer))
            layout.addWidget(self.canvas)
        layout.addWidget(self.text)

    @property
    def figure(self) -> Any:
        """The scatter and estimator figure (built now if it has not been shown yet)."""
        if self.canvas is None:
            return None
        self.canvas.ensure_filled()
        return self.canvas.figure

    def plain(self) -> str:
        """All the panel's text (HTML), headline first."""
        return self.head.text() + "<br>" + self.text.text()

    def _plot(self, estimate: Any, checks: dict[str, Any] | None, colors: dict[str, str]) -> None:
        from matplotlib.figure import Figure

        # the artists are built when the panel is first shown (after the run), not here
        self.canvas = LazyCanvas(
            Figure(figsize=(3.6, 4.8)), fill=lambda fig: _fill(fig, estimate, checks, colors)
        )
        self.canvas.setMinimumHeight(420)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.canvas.draw_idle()


def _fill(
    figure: Any, estimate: Any, checks: dict[str, Any] | None, colors: dict[str, str]
) -> None:
    """The alpha scatter (and the estimators compared) in ``figure``."""
    from ...plot.bleedthrough import draw_alpha_scatter, draw_estimator_comparison

    rows = 2 if checks else 1
    grid = figure.add_gridspec(rows, 1, height_ratios=[2.2, 1][:rows])
    ax = figure.add_subplot(grid[0])
    plot_colors = {**colors, "accent": _FIT, "line": colors["text"]}
    draw_alpha_scatter(ax, estimate, cmap="viridis", colors=plot_colors,
                       title=f"{estimate.method} fit (mask in orange)")  # fmt: skip
    ax.get_legend().set_visible(True)
    for text in ax.get_legend().get_texts():
        text.set_fontsize(6)
    if checks:
        draw_estimator_comparison(figure.add_subplot(grid[1]), checks, colors=plot_colors)
    for a in figure.axes:
        a.xaxis.label.set_fontsize(7)
        a.yaxis.label.set_fontsize(7)
        a.title.set_fontsize(8)
    figure.subplots_adjust(left=0.27, right=0.97, top=0.95, bottom=0.09, hspace=0.45)
    style_axes(figure, colors)
