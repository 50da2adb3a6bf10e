"""The output-safety layer: inputs are never lost, folders checked first, temporaries cleaned."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys

import numpy as np
import pytest

from napari_unmix.io import safety
from napari_unmix.io.safety import (
    OVERWRITE_HINT,
    OutputIsInputError,
    StaleTemporaryWarning,
    atomic_output,
    check_input,
    clean_stale_temporaries,
    is_temporary,
    plan_outputs,
)


def _entries(folder):
    return sorted(p.name for p in folder.iterdir())


def test_output_equal_to_input_refused_even_with_overwrite(tmp_path):
    src = tmp_path / "in.ome.tif"
    src.write_bytes(b"data")
    with pytest.raises(OutputIsInputError, match="in.ome.tif.*would be lost"):
        plan_outputs([tmp_path / "out.ome.tif", src], inputs=[src], overwrite=True)
    assert src.read_bytes() == b"data"


def test_symlink_and_hard_link_are_the_input(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a")
    (tmp_path / "sym.csv").symlink_to(src)
    os.link(src, tmp_path / "hard.csv")
    for out in ("sym.csv", "hard.csv"):
        with pytest.raises(OutputIsInputError, match=r"it is the input file '.*in\.csv'"):
            plan_outputs([tmp_path / out], inputs=[src], overwrite=True)
    # a symlinked input is the file it points to
    with pytest.raises(OutputIsInputError):
        plan_outputs([src], inputs=[tmp_path / "sym.csv"], overwrite=True)


def test_store_output_may_not_contain_an_input(tmp_path):
    store = tmp_path / "out.ome.zarr"
    store.mkdir()
    (store / ".zattrs").write_text("{}")
    inside = store / "seeds.csv"
    inside.write_text("x")
    with pytest.raises(OutputIsInputError):
        plan_outputs([store], inputs=[inside], overwrite=True, directories=[store])


def test_two_outputs_one_file_and_exists_message(tmp_path):
    with pytest.raises(ValueError, match="same file"):
        plan_outputs([tmp_path / "a.csv", tmp_path / "." / "a.csv"])
    (tmp_path / "a.csv").write_text("x")
    with pytest.raises(FileExistsError) as info:
        plan_outputs([tmp_path / "a.csv"])
    assert OVERWRITE_HINT in str(info.value) and "--overwrite" in str(info.value)
    assert plan_outputs([tmp_path / "a.csv"], overwrite=True)[0].name == "a.csv"


def test_kinds_and_missing_folder(tmp_path):
    (tmp_path / "dir.tif").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        plan_outputs([tmp_path / "dir.tif"], overwrite=True)
    (tmp_path / "file.zarr").write_text("x")
    with pytest.raises(ValueError, match="not a Zarr store"):
        plan_outputs([tmp_path / "file.zarr"], overwrite=True, directories=[tmp_path / "file.zarr"])
    with pytest.raises(FileNotFoundError, match="output folder .* does not exist"):
        plan_outputs([tmp_path / "missing" / "a.csv"])


def test_read_only_folder_refused_before_any_work(readonly_dir):
    with pytest.raises(PermissionError, match="cannot write into the output folder"):
        plan_outputs([readonly_dir / "out.ome.tif"])


def test_free_space_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "_free_bytes", lambda folder: 10 << 20)
    plan_outputs([tmp_path / "small.csv"], expected_bytes=1 << 20)
    with pytest.raises(OSError, match="not enough free space") as info:
        plan_outputs([tmp_path / "big.ome.tif"], expected_bytes=100 << 20)
    assert "100.0 MiB" in str(info.value) or "101.0 MiB" in str(info.value)
    assert _entries(tmp_path) == []


def test_check_input_messages(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        check_input(tmp_path / "none.tif")
    (tmp_path / "x.tif").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        check_input(tmp_path / "x.tif", allow_store=True)
    (tmp_path / "empty.tif").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        check_input(tmp_path / "empty.tif")
    store = tmp_path / "s.ome.zarr"
    store.mkdir()
    assert check_input(store, allow_store=True) == store


def test_atomic_output_failure_leaves_nothing(tmp_path):
    (tmp_path / "keep.csv").write_text("old")
    with pytest.raises(RuntimeError), atomic_output(tmp_path / "keep.csv", overwrite=True) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert (tmp_path / "keep.csv").read_text() == "old"
    assert _entries(tmp_path) == ["keep.csv"]


def test_created_files_follow_the_umask(tmp_path):
    """Reports are as readable as the images (mkstemp's 0600 is not used)."""
    from napari_unmix.io.sidecar import write_json

    old = os.umask(0o022)
    try:
        js = write_json(tmp_path / "r.json", {"a": 1})
        with atomic_output(tmp_path / "d.zarr", directory=True) as tmp:
            (tmp / "x").write_text("1")
    finally:
        os.umask(old)
    assert stat.S_IMODE(js.stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d.zarr").stat().st_mode) == 0o755


def test_map_report_metrics_json_is_not_private(tmp_path):
    """The hyperspectral report folder (figures, metrics.json, report.md): mode 0644."""
    import napari_unmix as nu
    from napari_unmix.core.synthetic import make_two_region_cube

    cube, truth = make_two_region_cube(shape=(10, 10), n_channels=40)
    extra = {"spectral_axis": truth["spectral_axis"].tolist(), "spectral_units": "cm-1"}
    src = nu.write_image(tmp_path / "cube.ome.tif", cube[None, None], extra=extra)
    old = os.umask(0o022)
    try:
        nu.map_report_file(
            src, tmp_path / "maps.ome.tif", target=1655, numerator=1655, denominator=1742,
            n_clusters=2, window=10,
        )  # fmt: skip
    finally:
        os.umask(old)
    written = [tmp_path / "maps.ome.tif.json", *(tmp_path / "maps_report").iterdir()]
    assert any(p.name == "metrics.json" for p in written)
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in written} == {
        p.name: 0o644 for p in written
    }
    assert not [p for p in tmp_path.rglob("*") if is_temporary(p.name)]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_of_dead_processes_removed_with_a_note(tmp_path):
    pid = _dead_pid()
    stale_dir = tmp_path / f"{safety.TEMP_PREFIX}-{pid}-0000abcd-out.ome.zarr"
    stale_dir.mkdir()
    (stale_dir / "chunk").write_bytes(b"x" * 100)
    stale_file = tmp_path / f"{safety.TEMP_PREFIX}-{pid}-0000abce-out.csv"
    stale_file.write_text("half")
    live = tmp_path / f"{safety.TEMP_PREFIX}-{os.getppid()}-0000abcf-other.csv"
    live.write_text("another run, still going")
    (tmp_path / ".hidden-by-user").write_text("not ours")
    with pytest.warns(StaleTemporaryWarning, match="removed 2 temporary"):
        np.testing.assert_equal(len(plan_outputs([tmp_path / "new.csv"])), 1)
    assert _entries(tmp_path) == [".hidden-by-user", live.name]
    assert clean_stale_temporaries(tmp_path) == []


def test_stale_temporary_of_a_reused_pid_removed(tmp_path):
    """A temporary older than the live process that now has its id is stale."""
    t = tmp_path / f"{safety.TEMP_PREFIX}-{os.getpid()}-0000abcd-x.csv"
    t.write_text("old run")
    os.utime(t, (1_000_000, 1_000_000))  # 1970: before this process started
    with pytest.warns(StaleTemporaryWarning):
        assert clean_stale_temporaries(tmp_path) == [t]


_SIGNAL_SCRIPT = """
import os, signal, sys, time
from napari_unmix.io.safety import atomic_output
with atomic_output(sys.argv[1]) as tmp:
    tmp.write_text("partial")
    print("ready", flush=True)
    time.sleep(30)
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_signal_removes_temporaries(tmp_path, sig):
    with subprocess.Popen(
        [sys.executable, "-c", _SIGNAL_SCRIPT, str(tmp_path / "out.csv")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stdout.readline().strip() == "ready"
        assert any(is_temporary(n) for n in os.listdir(tmp_path))
        proc.send_signal(getattr(signal, sig))
        proc.wait(timeout=20)
    assert proc.returncode != 0
    assert _entries(tmp_path) == []


def test_store_moved_aside_by_a_killed_run_is_put_back(tmp_path):
    """Killed between moving the old store aside and renaming the new one: nothing lost."""
    pid = _dead_pid()
    old = tmp_path / f"{safety.TEMP_PREFIX}-{pid}-old0000ab-out.ome.zarr"
    old.mkdir()
    (old / ".zattrs").write_text("{}")
    new = tmp_path / f"{safety.TEMP_PREFIX}-{pid}-0000abcd-out.ome.zarr"
    new.mkdir()
    with pytest.warns(StaleTemporaryWarning, match="restored"):
        clean_stale_temporaries(tmp_path)
    assert _entries(tmp_path) == ["out.ome.zarr"]
    assert (tmp_path / "out.ome.zarr" / ".zattrs").exists()
