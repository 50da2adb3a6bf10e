"""Options shared by several sub-commands."""

from __future__ import annotations

from .._spec import opt

#: Output options shared by the sub-commands that write unmixed stacks.
COMPRESSION_LEVEL = opt(
    "--compression-level",
    "0 none (default); 1-9 zlib (OME-TIFF) or Blosc zstd (OME-Zarr)",
    type=int,
)
OUTPUT_FORMAT = opt(
    "--output-format",
    "ome-tiff (default) or ome-zarr (read lazily, written chunk by chunk: for "
    "stacks larger than memory; the output must end in .ome.zarr)",
    choices=["ome-tiff", "ome-zarr"],
)
