"""The PICASSO dock (:class:`PicassoWidget`): blind unmixing of the channels of one image.

- :mod:`.dock` — the dock on the shared skeleton (form, run, results, layers);
- :mod:`._channels` — which channel layers to unmix, and the source → sink grid;
- :mod:`._summary` — the results panel's matrices;
- :mod:`._manual` — manual alphas on the displayed slice.
"""

from .dock import DockRun, PicassoWidget

__all__ = ["DockRun", "PicassoWidget"]
