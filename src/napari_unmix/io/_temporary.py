"""Temporary files and folders of the output-safety layer (see :mod:`.safety`).

Names start with :data:`TEMP_PREFIX` and carry the writer's process id; live ones are
registered and removed on failure, at exit and on SIGTERM / SIGINT; stale ones (their
process is gone) are removed by :func:`clean_stale_temporaries`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

#: Every temporary file or folder of napari-unmix starts with this, followed by
#: ``-<pid>-<random>-<final name>``.
TEMP_PREFIX = ".napari-unmix-tmp"


class StaleTemporaryWarning(UserWarning):
    """Temporaries left by an interrupted napari-unmix run were removed."""


_LIVE: set[Path] = set()
_LOCK = threading.Lock()
_PREVIOUS: dict[int, object] = {}


def track(path: Path) -> None:
    """Register a temporary (removed at exit or on a signal unless committed)."""
    with _LOCK:
        _LIVE.add(path)


def untrack(path: Path) -> None:
    """Forget a temporary that was renamed to its final name."""
    with _LOCK:
        _LIVE.discard(path)


def _remove(path: Path) -> None:
    """Remove a file, link or folder that may already be gone."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def is_temporary(name: str) -> bool:
    """True for names made by this layer.

    Examples
    --------
    >>> is_temporary(".napari-unmix-tmp-123-ab12cd34-out.ome.tif"), is_temporary("out.ome.tif")
    (True, False)
    """
    return name.startswith(TEMP_PREFIX + "-")


def _temp_name(final_name: str, kind: str = "") -> str:
    """``kind="old"`` marks a previous store moved aside while its replacement is renamed."""
    return f"{TEMP_PREFIX}-{os.getpid()}-{kind}{uuid.uuid4().hex[:8]}-{final_name}"


def _new_temp(final: Path, *, directory: bool) -> Path:
    """Create (and register) a temporary file or folder next to ``final``."""
    _install_handlers()
    tmp = final.with_name(_temp_name(final.name))
    if directory:
        os.mkdir(tmp, 0o777)  # the umask applies, as for any folder the user makes
    else:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    track(tmp)
    return tmp


def _discard(tmp: Path) -> None:
    """Remove a temporary (retrying briefly: writer threads may still be finishing)."""
    for _ in range(20):
        if not (tmp.exists() or tmp.is_symlink()):
            break
        _remove(tmp)
        if tmp.exists():
            time.sleep(0.02)
    untrack(tmp)


def _discard_all(*_: object) -> None:
    with _LOCK:
        live = list(_LIVE)
    for tmp in live:
        _discard(tmp)


def _on_signal(signum: int, frame: object) -> None:
    _discard_all()
    previous = _PREVIOUS.get(signum)
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _install_handlers() -> None:
    """atexit and SIGTERM / SIGINT clean-up, once, chaining to the previous handlers.

    Signal handlers can only be set from the main thread; a write from another thread
    relies on atexit, its own exception handling and the next write's stale clean-up.
    """
    with _LOCK:
        first, _PREVIOUS[-1] = -1 not in _PREVIOUS, True
        main = threading.current_thread() is threading.main_thread()
        todo = main and -2 not in _PREVIOUS
        if todo:
            _PREVIOUS[-2] = True
    if first:
        atexit.register(_discard_all)
    if not todo:
        return
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError, OSError):
            previous = signal.getsignal(sig)
            if previous is _on_signal or previous is None:
                continue
            _PREVIOUS[sig] = previous
            signal.signal(sig, _on_signal)


@contextlib.contextmanager
def temporary_dir(folder: str | os.PathLike, name: str = "work") -> Iterator[Path]:
    """A registered temporary folder in ``folder``, removed when the block ends."""
    tmp = _new_temp(Path(folder) / name, directory=True)
    try:
        yield tmp
    finally:
        _discard(tmp)


# ----------------------------------------------------------------------------- stale ones
def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("btime"):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def _process_start(pid: int) -> float | None:
    """Start time (epoch seconds) of a live process, or None when unknown (not Linux)."""
    boot = _boot_time()
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        ticks = float(fields[19])  # field 22 of proc(5); fields[0] is field 3
    except (OSError, IndexError, ValueError):
        return None
    if boot is None:
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(entry: Path) -> bool:
    parts = entry.name[len(TEMP_PREFIX) + 1 :].split("-", 2)
    try:
        pid = int(parts[0])
    except (IndexError, ValueError):
        return False
    if pid != os.getpid() and not _alive(pid):
        return True
    with _LOCK:
        if entry in _LIVE:
            return False
    started = _process_start(pid)
    try:
        made = entry.lstat().st_mtime
    except OSError:
        return False
    # a live process with that id started after the temporary was made: the id was reused
    return started is not None and made < started - 2.0


def clean_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove temporaries in ``folder`` left by napari-unmix processes that are gone.

    A temporary is stale when the process named in it is dead, or when a process with
    that id started after the temporary was made. A previous store that a killed run had
    moved aside to replace it is put back when its final name is free. One
    :class:`StaleTemporaryWarning` lists what was removed (and restored).
    """
    folder = Path(folder)
    try:
        entries = [e for e in folder.iterdir() if is_temporary(e.name)]
    except OSError:
        return []
    removed, restored = [], []
    for e in (e for e in entries if _is_stale(e)):
        token, _, final_name = e.name[len(TEMP_PREFIX) + 1 :].split("-", 1)[-1].partition("-")
        if token.startswith("old") and not (folder / final_name).exists():
            # killed between moving the old store aside and renaming the new one: put it back
            with contextlib.suppress(OSError):
                os.rename(e, folder / final_name)
                restored.append(final_name)
                continue
        _remove(e)
        removed.append(e)
    if removed or restored:
        names = ", ".join(sorted(e.name for e in removed)[:5])
        more = f" and {len(removed) - 5} more" if len(removed) > 5 else ""
        back = f"; restored {restored} (moved aside by that run)" if restored else ""
        warnings.warn(
            f"removed {len(removed)} temporary file(s) left in {str(folder)!r} by an "
            f"interrupted napari-unmix run: {names}{more}{back}",
            StaleTemporaryWarning,
            stacklevel=2,
        )
    return removed
