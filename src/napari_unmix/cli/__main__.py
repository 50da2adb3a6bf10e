"""``python -m napari_unmix.cli``."""

from ._engine import main

raise SystemExit(main())
