"""napari's theme colours for dock plots and tables, so figures match the viewer.

:func:`theme_colors` reads the current napari theme (dark, light or a custom one) and
:func:`style_axes` applies it to a matplotlib figure and its axes: background, text, spines,
ticks, legend. A plot redraws with the new colours when the user switches themes.

Examples
--------
>>> from matplotlib.figure import Figure
>>> fig = Figure()
>>> ax = fig.add_subplot(111)
>>> colors = {"background": "#262930", "text": "#f0f1f2", "line": "#888888"}
>>> style_axes(fig, colors)
>>> ax.get_facecolor()[:3] == fig.get_facecolor()[:3]
True
"""

from __future__ import annotations

from typing import Any

__all__ = ["style_axes", "theme_colors"]

_FALLBACK = {"background": "#262930", "text": "#f0f1f2", "line": "#5a626c", "accent": "#7e868f"}


def theme_colors(viewer: Any = None) -> dict[str, str]:
    """``background``, ``text``, ``line`` and ``accent`` colours (hex) of the viewer's theme."""
    try:
        from napari.settings import get_settings
        from napari.utils.theme import get_theme

        name = getattr(viewer, "theme", None) or get_settings().appearance.theme
        if name == "system":
            name = "dark"
        theme = get_theme(name)
        return {
            "background": theme.background.as_hex(),
            "text": theme.text.as_hex(),
            "line": theme.foreground.as_hex(),
            "accent": theme.highlight.as_hex(),
        }
    except (ImportError, KeyError, ValueError, AttributeError):
        return dict(_FALLBACK)


def style_axes(figure: Any, colors: dict[str, str]) -> None:
    """Colour ``figure`` and all its axes (and legends) with ``colors``."""
    figure.set_facecolor(colors["background"])
    for ax in figure.axes:
        ax.set_facecolor(colors["background"])
        for spine in ax.spines.values():
            spine.set_color(colors["line"])
        ax.tick_params(colors=colors["text"], labelsize=7)
        ax.xaxis.label.set_color(colors["text"])
        ax.yaxis.label.set_color(colors["text"])
        ax.title.set_color(colors["text"])
        legend = ax.get_legend()
        if legend is not None:
            legend.get_frame().set_alpha(0)
            for text in legend.get_texts():
                text.set_color(colors["text"])
