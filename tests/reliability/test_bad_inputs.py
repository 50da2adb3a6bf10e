"""The bad-input matrix (see matrix.py): every case ends in a clear error or a documented
result - never a traceback from a library's internals, never a silent change of meaning."""

from __future__ import annotations

import json
import shutil
import traceback
import warnings
from pathlib import Path

import numpy as np
import pytest

import napari_unmix
from napari_unmix.io.safety import is_temporary

from .matrix import (
    EXEMPT,
    HINTS,
    all_entries,
    data,
    mutate,
)

_CASES = [(e, cid, cls, value) for e in all_entries() for cid, cls, value in e.cases()]


def _params():
    for entry, cid, cls, value in _CASES:
        marks = []
        if entry.expected(cls) == "open":
            marks.append(pytest.mark.xfail(strict=True, reason=entry.open[cls]))
        yield pytest.param(entry, cls, value, id=cid, marks=marks)


# ----------------------------------------------------------------------------- inputs
@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """One good file of every input kind."""
    nu = napari_unmix
    d = tmp_path_factory.mktemp("good")
    D = data()
    axis = D["axis"]
    files = {
        "hyper": nu.write_image(d / "hyper.ome.tif", D["cube"][None, None],
                                extra={"spectral_axis": axis.tolist(), "spectral_units": "cm-1"}),
        "two": nu.write_image(d / "two.ome.tif", D["stack"]),
        "mix": nu.write_image(d / "mix.ome.tif", D["mix"]),
        "timech": nu.write_image(d / "timech.ome.tif", D["stack"][:, :, :1]),
        "csv": nu.write_spectra_csv(d / "lib.csv", axis, D["H"]),
        "zarr": nu.write_zarr(d / "s.ome.zarr", D["stack"]),
        "npy": d / "ste.npy",
        "json": d / "r.json",
        "rows": d / "rows.csv",
        "envi": d / "cube.hdr",
    }  # fmt: skip
    from spectral import envi

    envi.save_image(str(files["envi"]), np.moveaxis(D["cube"], 0, -1), interleave="bsq")
    np.save(files["npy"], D["ste"])
    files["json"].write_text(json.dumps({"tool": "x"}))
    rows = D["rows"]
    lines = [",".join(f"{v:.6g}" for v in axis)] + [",".join(f"{v:.6g}" for v in r) for r in rows]
    files["rows"].write_text("\n".join(lines) + "\n")
    return files


def _bad_input(kind: str, cls: str, good, tmp: Path) -> Path:
    src = good[kind]
    name = src.name
    if cls == "missing":
        return tmp / name
    if cls == "folder":
        (tmp / name).mkdir()
        return tmp / name
    if cls == "empty_file":
        (tmp / name).write_bytes(b"")
        return tmp / name
    if cls == "truncated":
        raw = src.read_bytes()
        (tmp / name).write_bytes(raw[: max(1, len(raw) // 3)])
        return tmp / name
    if cls == "mislabelled":  # another kind's content under this name
        if kind == "zarr":
            (tmp / name).write_text("not a store")
        elif kind in ("csv", "rows", "json"):
            shutil.copy(good["npy"], tmp / name)
        else:
            shutil.copy(good["csv"], tmp / name)
        return tmp / name
    raise KeyError(cls)


# ----------------------------------------------------------------------------- checks
def _assert_clear(err: BaseException, cls: str, words: tuple[str, ...] = ()) -> None:
    """Our exception, or a built-in raised by our code, whose message says what is wrong."""
    assert isinstance(err, Exception), f"not an error: {err!r}"
    mod = type(err).__module__
    assert mod == "builtins" or mod.startswith("napari_unmix"), (
        f"a library's exception type leaked: {type(err).__module__}.{type(err).__name__}: {err}"
    )
    frames = traceback.extract_tb(err.__traceback__)
    origin = frames[-1].filename if frames else ""
    assert "napari_unmix" in origin.replace("\\", "/"), (
        f"raised inside a library ({origin}:{frames[-1].lineno}): {type(err).__name__}: {err}"
    )
    msg = str(err).strip()
    assert msg, f"{type(err).__name__} without a message"
    hints = (*HINTS.get(cls.split("=")[0], ()), *words)
    if hints:
        assert any(h.lower() in msg.lower() for h in hints), (
            f"the message does not say what is wrong (expected one of {hints}): {msg}"
        )


def _run(entry, cls, call, x):
    # an open case is run against what it should do (the documented result or an error)
    expected = "documented" if cls in entry.documented else "error"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # warnings are allowed; results are checked
            result = call()
    except Exception as err:
        if expected == "documented":
            pytest.fail(f"documented result ({entry.documented[cls]}) but raised {err!r}")
        opt = cls.split("=")[0]
        words = (opt,) if "=" in cls else ()
        if "=" in cls:  # a bad option: the message names it
            _assert_clear(err, "", (opt, opt.replace("_", " "), opt.replace("_", "-")))
        else:
            _assert_clear(err, cls, words)
        return
    if expected == "error":
        pytest.fail(
            f"accepted silently: {cls} gave {type(result).__name__} (no error, not documented)"
        )
    if entry.check is not None:
        entry.check(result, x)


# ----------------------------------------------------------------------------- the matrix
@pytest.mark.parametrize(("entry", "cls", "value"), list(_params()))
def test_bad_input(entry, cls, value, good, tmp_path, readonly_dir):
    if entry.kind == "array":
        _array_case(entry, cls, value, tmp_path)
    elif entry.kind == "file":
        _file_case(entry, cls, value, good, tmp_path, readonly_dir)
    elif entry.kind == "cli":
        _cli_case(entry, cls, value, good, tmp_path, readonly_dir)
    else:
        _hook_case(entry, cls, good, tmp_path, readonly_dir)
    if readonly_dir.is_relative_to(tmp_path):
        assert not list(readonly_dir.iterdir())
    left = [p for p in tmp_path.rglob("*") if is_temporary(p.name)]
    assert not left, f"temporaries left behind: {left}"


def _array_case(entry, cls, value, tmp):
    base = data()[entry.data] if entry.data else None
    if value is not None or "=" in cls:
        opt = cls.split("=")[0]
        x = base
        _run(entry, cls, lambda: entry.call(x, tmp, **{opt: value}), x)
        return
    x = mutate(base, cls)
    before = np.array(x, copy=True)
    _run(entry, cls, lambda: entry.call(x, tmp), x)
    if x.dtype != object:
        np.testing.assert_array_equal(x, before)  # never modified in place


def _file_case(entry, cls, value, good, tmp, readonly_dir):
    kind = entry.data
    inp = good.get(kind)
    kw = {}
    if entry.name in ("nnls_unmix_file", "seeded_nnmf_file", "nnmf_file"):
        kw["second_path"] = good["csv"]
    if "=" in cls:
        kw[cls.split("=")[0]] = value
        if cls.startswith("output_format") and value == "ome-zarr":
            kw["out"] = tmp / "out.ome.zarr"
    elif cls in ("missing", "empty_file", "truncated", "mislabelled", "folder"):
        inp = _bad_input(kind, cls, good, tmp)
    elif cls == "out_is_input":
        kw.update(out=inp, overwrite=True)
    elif cls == "out_readonly":
        kw["out"] = readonly_dir / "out.ome.tif"
    elif cls == "out_folder_missing":
        kw["out"] = tmp / "no" / "out.ome.tif"
    elif cls == "out_exists":
        (tmp / "out.ome.tif").write_bytes(b"a previous result")
    elif cls == "second_missing":
        kw["second_path"] = tmp / "none.csv"
    elif cls == "second_folder":
        (tmp / "lib.csv").mkdir()
        kw["second_path"] = tmp / "lib.csv"
    elif cls == "out_is_second":
        kw["second_path"] = shutil.copy(good["csv"], tmp / "out_spectra.csv")
        kw["overwrite"] = True
    words = {
        "out_is_input": ("input",), "out_is_second": ("input",), "out_exists": ("--overwrite",),
        "out_readonly": ("cannot write",), "out_folder_missing": ("does not exist",),
        "second_missing": ("none.csv",), "second_folder": ("folder",),
    }.get(cls, (Path(inp).name,) if inp is not None else ())  # fmt: skip
    before = {p: p.read_bytes() for p in tmp.rglob("*") if p.is_file()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = entry.call(inp, tmp, **kw)
    except Exception as err:
        if "=" in cls:
            opt = cls.split("=")[0]
            _assert_clear(err, "", (opt,))
        else:
            _assert_clear(err, "", words)
        after = {p: p.read_bytes() for p in tmp.rglob("*") if p.is_file() and p in before}
        assert after == before, "an error must leave every existing file as it was"
        return
    if entry.expected(cls) != "documented":
        pytest.fail(f"accepted silently: {cls} wrote {result}")


def _cli_case(entry, cls, value, good, tmp, readonly_dir):
    from napari_unmix.cli import main

    from .matrix import CLI_COMMANDS

    name = entry.name.split(" ", 1)[1]
    kind, extra, _ = CLI_COMMANDS[name]
    inp, out = good[kind], tmp / "out.ome.tif"
    argv_extra = [str(good[k]) for k in extra]
    opts = {"nnmf": ["--k", "2", "--max-iter", "3"], "stnmf": ["--num-iter", "3", "--no-figure"],
            "maps": ["--target", "2850", "--numerator", "2850", "--denominator", "2950",
                     "--n-clusters", "2", "--no-report"], "picasso": ["--max-iter", "3"],
            "unmix": ["--n-bootstrap", "0"]}.get(name, [])  # fmt: skip
    flags = ["--quiet"]
    if "=" in cls:
        flag = cls.split("=")[0]
        opts = [o for i, o in enumerate(opts) if o != flag and (i == 0 or opts[i - 1] != flag)]
        opts += [flag, str(value)]
    elif cls in ("missing", "folder", "mislabelled"):
        inp = _bad_input(kind, cls, good, tmp)
    elif cls == "out_is_input":
        inp = shutil.copy(inp, tmp / inp.name)
        out, flags = inp, [*flags, "--overwrite"]
    elif cls == "out_exists":
        out.write_bytes(b"a previous result")
    elif cls == "out_readonly":
        out = readonly_dir / "out.ome.tif"
    before = {p: p.read_bytes() for p in tmp.rglob("*") if p.is_file()}
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main([name, str(inp), str(out), *argv_extra, *opts, *flags])
    text = err.getvalue().strip()
    assert code != 0, f"{cls}: exit code 0"
    assert "Traceback" not in text
    lines = [ln for ln in text.splitlines() if "error" in ln]
    assert len(lines) == 1, f"one error line expected, got: {text}"
    if code == 1:  # the API's message: names the file or the option
        word = {"out_exists": "--overwrite", "out_is_input": "input",
                "out_readonly": "cannot write"}.get(cls, Path(inp).name)  # fmt: skip
        if "=" in cls:
            word = cls.split("=")[0].lstrip("-").replace("-", "_")
        assert word.lower() in lines[0].lower(), lines[0]
    after = {p: p.read_bytes() for p in tmp.rglob("*") if p.is_file() and p in before}
    assert after == before


def _hook_case(entry, cls, good, tmp, readonly_dir):
    from napari_unmix import _reader, _writer

    if entry.name in ("get_reader", "get_zarr_reader"):
        hook = getattr(_reader, entry.name)
        path = str(_bad_input(entry.data, cls, good, tmp))

        def call():
            reader = hook(path)
            return None if reader is None else reader(path)

        _run(entry, cls, call, path)
        return
    out = str(tmp / "out.ome.tif")
    if cls == "out_readonly":
        out = str(readonly_dir / "out.ome.tif")
    elif cls == "out_folder_missing":
        out = str(tmp / "no" / "out.ome.tif")
    elif cls == "out_exists":
        Path(out).write_bytes(b"a previous result")
    if entry.name == "write_image_layer":
        x = data()["cube"]
        attrs = {"name": "cube", "metadata": {"axes": "CYX"}}
        if cls in ("ndim", "empty", "complex", "object", "bool", "float16"):
            x = mutate(x, cls)
            attrs["metadata"] = {}
        elif cls == "rgb":
            attrs["rgb"] = True

        def call():
            return _writer.write_image_layer(out, x, attrs)

    else:
        out = out.replace(".ome.tif", ".csv")
        if cls == "out_exists":
            Path(out).write_bytes(b"a previous result")
        shapes = [np.zeros((3, 2)), np.ones((4, 2))]
        attrs = {"shape_type": ["polygon", "polygon"]}
        if cls == "short_types":
            attrs["shape_type"] = ["polygon"]
        elif cls == "short_features":
            import pandas as pd

            attrs["features"] = pd.DataFrame({"component": ["a"]})
        elif cls == "ragged":
            shapes = [np.zeros((3, 2)), np.ones((4, 3))]

        def call():
            return _writer.write_shapes_layer(out, shapes, attrs)

    word = {"out_exists": ("--overwrite",), "out_readonly": ("cannot write",),
            "out_folder_missing": ("does not exist",), "rgb": ("RGB",),
            "short_types": ("shape types",), "short_features": ("features",),
            "ragged": ("vertices",)}.get(cls, ())  # fmt: skip
    if word:
        with pytest.raises(Exception) as info:
            call()
        _assert_clear(info.value, "", word)
    else:
        _run(entry, cls, call, None)


def test_every_export_is_in_the_matrix():
    covered = {e.name for e in all_entries()}
    missing = sorted(set(napari_unmix._EXPORTS) - covered - set(EXEMPT))
    assert not missing, f"public functions without bad-input cases: {missing}"
    assert not set(EXEMPT) & covered
