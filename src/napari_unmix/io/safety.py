"""The one output-safety layer every writer goes through.

A call that writes files first names *all* the paths it will write (the image, its
``<output>.json`` sidecar, companions such as ``<stem>_spectra.csv``, figures) and its
inputs, and :func:`plan_outputs` checks them before any computation:

* no output is an input - compared resolved (symlinks) and by device and inode (hard
  links); an output folder (a Zarr store) may not contain an input either. This is refused
  even with ``overwrite=True``, with a message naming the input that would be lost;
* no two outputs are the same file;
* an existing output is replaced only with ``overwrite=True``;
* every output folder exists, is writable and has room for ``expected_bytes``.

Writers then write under a temporary name with one recognisable prefix
(:data:`TEMP_PREFIX`, carrying the writer's process id) in the destination folder and
rename the finished file or store to its final name (:func:`atomic_output`), so a final
name never holds a partial file. Temporaries are removed when the write fails, at
interpreter exit and on SIGTERM / SIGINT (the handlers chain to the previous ones);
temporaries left by a killed process (SIGKILL, power loss) are removed by the next
:func:`plan_outputs` or write into that folder, with a :class:`StaleTemporaryWarning`.
Files are created with the user's normal permissions (``0666`` less the umask), the
sidecars and reports included.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> src = d / "cells.ome.tif"
>>> _ = src.write_bytes(b"image")
>>> [p.name for p in plan_outputs([d / "out.ome.tif", d / "out.ome.tif.json"], inputs=[src])]
['out.ome.tif', 'out.ome.tif.json']
>>> plan_outputs([src], inputs=[src], overwrite=True)
Traceback (most recent call last):
...
napari_unmix.io.safety.OutputIsInputError: refusing to write ...cells.ome.tif': it is the input file ...
>>> with atomic_output(d / "notes.txt") as tmp:
...     _ = tmp.write_text("done")
>>> (d / "notes.txt").read_text(), sorted(p.name for p in d.iterdir())
('done', ['cells.ome.tif', 'notes.txt'])
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from ._temporary import (
    TEMP_PREFIX,
    StaleTemporaryWarning,
    _discard,
    _new_temp,
    _temp_name,
    clean_stale_temporaries,
    is_temporary,
    temporary_dir,
    track,
    untrack,
)

__all__ = [
    "OVERWRITE_HINT",
    "TEMP_PREFIX",
    "OutputIsInputError",
    "StaleTemporaryWarning",
    "atomic_output",
    "check_input",
    "clean_stale_temporaries",
    "commit",
    "exists_message",
    "is_temporary",
    "plan_outputs",
    "temporary_dir",
]

#: How to allow replacing a file, for scripts and the command line alike.
OVERWRITE_HINT = "pass overwrite=True (--overwrite on the command line)"
#: Extra room asked for on top of ``expected_bytes`` (file-system metadata, sidecars).
SPACE_MARGIN = 1 << 20


class OutputIsInputError(ValueError):
    """An output path is (or contains) one of the call's inputs: refused even with overwrite."""


def exists_message(path: str | os.PathLike) -> str:
    """The one "output exists" message.

    Examples
    --------
    >>> exists_message("out.ome.tif")
    "'out.ome.tif' exists; choose another name or pass overwrite=True (--overwrite on the command line)"
    """
    return f"{str(path)!r} exists; choose another name or {OVERWRITE_HINT}"


# ----------------------------------------------------------------------------- inputs
def _looks_like_store(path: Path) -> bool:
    name = path.name.lower()
    if name.endswith((".zarr", ".ome.zarr")):
        return True
    return any((path / n).exists() for n in (".zattrs", "zarr.json", ".zarray", ".zgroup"))


def check_input(path: str | os.PathLike, *, what: str = "input", allow_store: bool = False) -> Path:
    """Check that an input file exists, is a file (or a Zarr store) and is not empty.

    Parameters
    ----------
    path : str or PathLike
        The input.
    what : str
        How the message names it ("input", "spectra file", ...).
    allow_store : bool
        Accept a folder that is a Zarr store (``*.zarr`` or holding Zarr metadata).

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    IsADirectoryError
        The path is a folder (and not an accepted Zarr store).
    ValueError
        The file is empty (0 bytes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "x.tif").mkdir()
    >>> check_input(d / "x.tif")
    Traceback (most recent call last):
    ...
    IsADirectoryError: input ...x.tif' is a folder, not a file; give an image file
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r} ({what})")
    if path.is_dir():
        if allow_store and _looks_like_store(path):
            return path
        alt = " or an OME-Zarr store (*.ome.zarr)" if allow_store else ""
        kind = "an image file" if what == "input" else "a file"
        raise IsADirectoryError(f"{what} {str(path)!r} is a folder, not a file; give {kind}{alt}")
    if path.stat().st_size == 0:
        raise ValueError(f"{what} {str(path)!r} is empty (0 bytes); is the file complete?")
    return path


# ----------------------------------------------------------------------------- outputs
def _same_file(a: Path, b: Path) -> bool:
    """Same file: equal resolved paths, or one inode (hard links, bind mounts)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samestat(a.stat(), b.stat())
    except OSError:
        return False


def _inside(inner: Path, outer: Path) -> bool:
    try:
        inner.resolve().relative_to(outer.resolve())
    except ValueError:
        return False
    return True


def _free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def _size_text(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def _check_folder(folder: Path, expected_bytes: int) -> None:
    """The folder exists, a file can be created in it, and it has room."""
    if not folder.exists():
        raise FileNotFoundError(
            f"the output folder {str(folder)!r} does not exist; create it first"
        )
    if not folder.is_dir():
        raise NotADirectoryError(f"the output folder {str(folder)!r} is a file, not a folder")
    try:
        probe = _new_temp(folder / "probe", directory=False)
    except OSError as err:
        raise PermissionError(
            errno.EACCES,
            f"cannot write into the output folder {str(folder)!r} ({err.strerror or err}); "
            "choose a folder you can write to",
        ) from err
    _discard(probe)
    free = _free_bytes(folder)
    need = int(expected_bytes) + SPACE_MARGIN if expected_bytes else 0
    if need > free:
        raise OSError(
            errno.ENOSPC,
            f"not enough free space in {str(folder)!r}: the output needs about "
            f"{_size_text(need)}, {_size_text(free)} are free; free some space or choose "
            "another folder",
        )


def plan_outputs(
    outputs: Iterable[str | os.PathLike | None],
    *,
    inputs: Iterable[str | os.PathLike | None] = (),
    overwrite: bool = False,
    expected_bytes: int = 0,
    directories: Iterable[str | os.PathLike] = (),
) -> list[Path]:
    """Check every path a call will write, before any work; returns them as Paths.

    Parameters
    ----------
    outputs : iterable of paths
        All files (and stores) the call writes, companions and sidecars included;
        None entries are skipped.
    inputs : iterable of paths
        All files the call reads; None entries are skipped.
    overwrite : bool
        Allow replacing existing outputs (never an input).
    expected_bytes : int
        About how much the outputs take together; the folder must have that much free.
    directories : iterable of paths
        The outputs that are folders (Zarr stores); the others are files.

    Raises
    ------
    OutputIsInputError
        An output is an input (or an output store contains one), even with overwrite.
    ValueError
        Two outputs are the same file, or an output has the wrong kind (file / folder).
    FileExistsError
        An output exists and ``overwrite`` is False.
    FileNotFoundError, PermissionError, OSError
        The output folder is missing, not writable, or too full.
    """
    outs = [Path(p) for p in outputs if p is not None]
    ins = [Path(p) for p in inputs if p is not None]
    dirs = {Path(p).resolve() for p in directories}
    for i, out in enumerate(outs):
        for inp in ins:
            hit = _same_file(out, inp) or (out.resolve() in dirs and _inside(inp, out))
            if hit or (_inside(out, inp) and inp.is_dir()):
                raise OutputIsInputError(
                    f"refusing to write {str(out)!r}: it is the input file {str(inp)!r}, "
                    "which would be lost; choose another output name (an input is never "
                    "overwritten, even with overwrite=True)"
                )
        for other in outs[:i]:
            if _same_file(out, other):
                raise ValueError(
                    f"two outputs of this call are the same file: {str(other)!r} and "
                    f"{str(out)!r}; choose another output name"
                )
        is_dir = out.resolve() in dirs
        if out.exists():
            if out.is_dir() and not is_dir:
                raise IsADirectoryError(f"output path {str(out)!r} is a folder; give a file name")
            if is_dir and not out.is_dir():
                raise ValueError(f"{str(out)!r} exists and is a file, not a Zarr store")
            if not overwrite:
                raise FileExistsError(exists_message(out))
    for folder in dict.fromkeys(p.parent for p in outs):
        _check_folder(folder, expected_bytes)
        clean_stale_temporaries(folder)
    return outs


def input_bytes(paths: Iterable[str | os.PathLike | None]) -> int:
    """Bytes the inputs take on disk (files, or every file of a store folder).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
    >>> _ = p.write_bytes(b"1234")
    >>> input_bytes([p, None])
    4
    """
    total = 0
    for p in paths:
        if p is None or not Path(p).exists():
            continue
        p = Path(p)
        if p.is_dir():
            total += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        else:
            total += p.stat().st_size
    return total


# ----------------------------------------------------------------------------- committing
def commit(tmp: str | os.PathLike, final: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Rename a finished temporary file or store to ``final``.

    A store replacing an existing one is swapped in: the old store is moved aside under
    a temporary name and removed only after the rename succeeded.
    """
    tmp, final = Path(tmp), Path(final)
    if final.exists() and not overwrite:  # appeared while we were writing
        raise FileExistsError(exists_message(final))
    if tmp.is_dir() and final.exists():
        old = final.with_name(_temp_name(final.name, "old"))
        track(old)
        os.rename(final, old)
        try:
            os.rename(tmp, final)
        except BaseException:
            os.rename(old, final)
            raise
        _discard(old)
    else:
        os.replace(tmp, final)
    untrack(tmp)
    return final


@contextlib.contextmanager
def atomic_output(
    final: str | os.PathLike, *, overwrite: bool = False, directory: bool = False
) -> Iterator[Path]:
    """Write to a temporary path next to ``final`` and rename it when the block succeeds.

    The temporary is an empty file (or folder with ``directory=True``) created with the
    user's normal permissions; on an exception it is removed and ``final`` is untouched.
    """
    final = Path(final)
    clean_stale_temporaries(final.parent)
    tmp = _new_temp(final, directory=directory)
    try:
        yield tmp
        commit(tmp, final, overwrite=overwrite)
    finally:
        _discard(tmp)
