"""The napari-unmix command line: sub-commands from the registry, help, progress, errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_unmix import cli
from napari_unmix.io.omio_io import read_image, write_image

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def stack_file(tmp_path):
    rng = np.random.default_rng(0)
    data = (rng.random((2, 3, 2, 24, 24)) * 1000).astype(np.uint16)
    return write_image(tmp_path / "in.ome.tif", data, physical_size=(2.0, 0.5, 0.5))


@pytest.mark.parametrize("name", sorted(cli.REGISTRY))
def test_help_on_every_subcommand(name, capsys):
    assert cli.main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert f"usage: napari-unmix {name}" in out and "input_path" in out


@pytest.mark.parametrize(
    ("argv", "shape"),
    [
        (["filter", "--filters", "median", "gaussian", "--median-size", "5"], (2, 3, 2, 24, 24)),
        (["match-histograms", "--reference-t", "1"], (2, 3, 2, 24, 24)),
        (["max-z", "--zrange", "1", "3"], (2, 1, 2, 24, 24)),
        (
            ["z-drift", "--reference-mode", "first", "--registration-channel", "1"],
            (2, 3, 2, 24, 24),
        ),
        (["register", "--registration-channel", "1", "--zrange", "0", "2"], (2, 3, 2, 24, 24)),
    ],
)
@pytest.mark.filterwarnings("ignore:.*no clear translation:RuntimeWarning")  # random data
def test_stack_subcommands_write_file_and_report(argv, shape, stack_file, tmp_path, capsys):
    out = tmp_path / "out.ome.tif"
    assert cli.main([argv[0], str(stack_file), str(out), *argv[1:]]) == 0
    assert read_image(out)[0].shape == shape
    rep = json.loads(Path(str(out) + ".json").read_text())
    assert rep["tool"] == f"stack_tools.{argv[0]}"
    err = capsys.readouterr().err
    assert "100%" in err and "wrote" in err  # progress on stderr


def test_options_map_to_api_keywords(stack_file, tmp_path):
    out = tmp_path / "f.ome.tif"
    argv = [
        "filter",
        str(stack_file),
        str(out),
        "--3d",
        "--gaussian-sigma",
        "0.5",
        "--filters",
        "gaussian",
    ]
    assert cli.main([*argv, "--quiet"]) == 0
    params = json.loads(Path(str(out) + ".json").read_text())["parameters"]
    given = {"tool": "filter", "apply_3d": True, "gaussian_sigma": 0.5, "filters": ["gaussian"]}
    assert {k: params[k] for k in given} == given
    assert params["median_size"] == 3  # the report records every setting, defaults included


def test_bad_input_is_one_line_and_nonzero(stack_file, tmp_path, capsys):
    assert cli.main(["max-z", str(tmp_path / "missing.tif"), str(tmp_path / "o.ome.tif")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(
        "napari-unmix max-z: error: no such file"
    ) and "Traceback" not in "".join(err)
    code = cli.main(
        [
            "register",
            str(stack_file),
            str(tmp_path / "o.ome.tif"),
            "--registration-channel",
            "7",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "registration_channel=7 is out of range" in err[0]
    assert cli.main(["max-z", str(stack_file), str(stack_file), "--quiet"]) == 1
    assert "is the input file" in capsys.readouterr().err
    assert cli.main(["max-z", str(stack_file)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "required" in err[0]
    assert cli.main([]) == 2
    capsys.readouterr()
    code = cli.main(["convert-time-to-channels", str(stack_file), str(tmp_path / "c.ome.tif")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and "error: expected a single-channel stack" in err[-1]


def test_registry_entry_is_all_a_new_command_needs(tmp_path, capsys):
    registry = {
        "echo": cli.Command(
            "test command",
            "napari_unmix.api.stack_tools:apply_stack_tool_file",
            (cli.opt("--reference-t", "time point", type=int),),
            prefix=("match-histograms",),
            keywords={"reference_t": 0},
        )
    }
    data = np.random.default_rng(0).random((2, 1, 1, 8, 8)).astype(np.float32)
    src = write_image(tmp_path / "a.ome.tif", data)
    assert (
        cli.main(
            ["echo", str(src), str(tmp_path / "b.ome.tif"), "--reference-t", "1"], registry=registry
        )
        == 0
    )
    rep = json.loads((tmp_path / "b.ome.tif.json").read_text())
    assert rep["parameters"]["reference_t"] == 1


def test_convert_and_python_m_subprocess(tmp_path):
    data = np.arange(3 * 8 * 8, dtype=np.uint16).reshape(3, 1, 1, 8, 8)
    src = write_image(tmp_path / "t.ome.tif", data)
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "napari_unmix.cli",
            "convert-time-to-channels",
            str(src),
            str(tmp_path / "c.ome.tif"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert run.returncode == 0, run.stderr
    assert read_image(tmp_path / "c.ome.tif")[0].shape == (1, 1, 3, 8, 8)
    assert "wrote" in run.stderr and "Traceback" not in run.stderr


def test_console_script_declared():
    import tomllib

    meta = tomllib.loads((Path(SRC).parent / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["napari-unmix"] == "napari_unmix.cli:main"


def test_unmix_subcommand_maps_options_and_quiet(tmp_path, capsys):
    from napari_unmix.core.synthetic import make_bleedthrough_stack

    data, _ = make_bleedthrough_stack(n_t=1, n_z=2, shape=(32, 32))
    src = write_image(tmp_path / "bt.ome.tif", data)
    out = tmp_path / "bt_unmixed.ome.tif"
    argv = ["unmix", str(src), str(out), "--alpha", "0.35", "--no-clip-negative", "--quiet"]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""  # --quiet: verbose=False
    back, _ = read_image(out)
    np.testing.assert_allclose(back[:, :, 1], data[:, :, 1] - 0.35 * data[:, :, 0], atol=1e-5)
    params = json.loads(Path(str(out) + ".json").read_text())["parameters"]
    assert params["alpha"] == 0.35 and params["clip_negative"] is False
    assert cli.main(["unmix", str(src), str(tmp_path / "x.ome.tif"), "--method", "bogus"]) == 2
    assert cli.main(["unmix", str(src), str(tmp_path / "y.ome.tif"), "--target-channel", "4"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("napari-unmix unmix: error:") and "Traceback" not in "".join(err)


def test_picasso_subcommand_runs_on_the_sample(tmp_path, capsys):
    from napari_unmix.core.synthetic import make_picasso_mix

    data, _ = make_picasso_mix(n_channels=3, shape=(64, 64))
    src = write_image(tmp_path / "mix.ome.tif", data)
    out = tmp_path / "mix_unmixed.ome.tif"
    argv = ["picasso", str(src), str(out), "--max-iter", "3", "--pixel-bin-size", "4"]
    assert cli.main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "[picasso] wrote" in captured.err  # API prints -> stderr
    assert read_image(out)[0].shape == data.shape
    params = json.loads(Path(str(out) + ".json").read_text())["parameters"]
    assert params["max_iter"] == 3 and params["pixel_bin_size"] == 4
    assert cli.main(["picasso", str(src), str(out), "--quiet"]) == 1  # never overwrites
    assert "exists" in capsys.readouterr().err


def test_progress_says_where_an_early_stop_ended(capsys):
    from napari_unmix.cli._engine import _Progress

    for last in (20, 27):  # on a 10 % line and between two
        p = _Progress("x", quiet=False)
        for i in range(1, last + 1):
            p(i, 200)
        p.finish()
        lines = capsys.readouterr().err.splitlines()
        assert lines[-1] == f"x: stopped at {last} of at most 200"
    p = _Progress("x", quiet=False)
    for i in range(1, 201):
        p(i, 200)
    p.finish()
    assert capsys.readouterr().err.splitlines()[-1] == "x: 200/200 (100%)"
