"""The command engine: parser, progress and warning printers, single runs and batches."""

from __future__ import annotations

import argparse
import contextlib
import inspect
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from importlib import import_module
from pathlib import Path
from typing import Any

from ._spec import PROG, Command, opt
from .commands import REGISTRY

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (and exit code 2)."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


#: Options of the hyperspectral sub-commands (``Command(spectral=True)``).
SPECTRAL_OPTIONS = (
    opt(
        "--spectral-axis",
        "the image's spectral axis when the file lacks it (wins over the file): a file "
        "(wavelength.json, one-column CSV/TXT, ENVI .hdr) or start:stop:n",
        metavar="FILE|start:stop:n",
    ),
    opt("--spectral-units", "units of the spectral axis, e.g. cm-1 or nm"),
)


def _usage(name: str, cmd: Command) -> str:
    extra = "".join(f" {a}" for a, _ in cmd.args)
    return (
        f"{PROG} {name} [options] input_path output_path{extra}\n"
        f"       {PROG} {name} [options] input_path [input_path ...] --output-dir DIR{extra}"
    )


def _add_arguments(p: argparse.ArgumentParser, cmd: Command) -> None:
    """A sub-command's positionals, its options and the engine's common options."""
    extras = "".join(f"; then {a}: {h}" for a, h in cmd.args)
    p.add_argument(
        "paths",
        nargs="+",
        metavar="input_path",
        help=f"{cmd.input_help}; then output_path: {cmd.output_help}{extras}. With "
        "--output-dir: one or more inputs (files, folders, glob patterns), no output_path",
    )
    for o in (*cmd.options, *(SPECTRAL_OPTIONS if cmd.spectral else ())):
        p.add_argument(
            o.flag, dest=o.dest, help=o.help, **{"default": argparse.SUPPRESS, **o.kwargs}
        )
    p.add_argument(
        "--output-dir",
        metavar="DIR",
        help="batch: write DIR/<input stem>_<command>.ome.tif for every input; existing "
        "outputs are skipped (unless --overwrite), failures reported at the end",
    )
    p.add_argument(
        "--from-report",
        metavar="SIDECAR",
        help="re-apply the parameters and estimated coefficients (alpha, PICASSO matrix, "
        "H spectra) of an earlier run's JSON report; options given here win",
    )
    if cmd.overwrite:
        p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--debug", action="store_true", help="show the traceback on errors")


def build_parser(registry: dict[str, Command] | None = None) -> argparse.ArgumentParser:
    """The argument parser with one sub-parser per registry entry."""
    registry = REGISTRY if registry is None else registry
    parser = _Parser(
        prog=PROG,
        description="Unmixing and stack tools for microscopy files (OME-TIFF, TIFF, LSM, CZI, "
        "ENVI, OME-Zarr), one file or a batch.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, cmd in registry.items():
        p = sub.add_parser(name, help=cmd.help, description=cmd.help, usage=_usage(name, cmd))
        _add_arguments(p, cmd)
    return parser


def _parse(argv: list[str], registry: dict[str, Command]) -> dict[str, Any]:
    """Parsed arguments; positionals may follow options (``in --output-dir d lib.csv``)."""
    if argv and argv[0] in registry:
        name, cmd = argv[0], registry[argv[0]]
        p = _Parser(prog=f"{PROG} {name}", description=cmd.help, usage=_usage(name, cmd))
        _add_arguments(p, cmd)
        return {"command": name, **vars(p.parse_intermixed_args(argv[1:]))}
    return vars(build_parser(registry).parse_args(argv))


class _Progress:
    """``progress(done, total)`` printer: a line every 10 %, and the true end.

    A fit that stops early (converged after 28 of at most 500 iterations) ends with
    "stopped at 28 of at most 500", never with a made-up "500/500".
    """

    def __init__(self, label: str, quiet: bool) -> None:
        self.label, self.quiet = label, quiet
        self.reset()

    def reset(self) -> None:
        self.last_pct, self.seen, self.shown = -1, None, None

    def __call__(self, done: Any, total: int | None = None) -> None:
        """``(done, total)`` or one :class:`~napari_unmix.core.progress.Progress` event."""
        if total is None:  # a Progress event
            if not done.total:
                return
            done, total = done.done, done.total
        self.seen = (int(done), int(total))
        pct = int(100 * done / max(total, 1))
        if not self.quiet and (pct // 10 > self.last_pct // 10 or done == total):
            print(f"{self.label}: {done}/{total} ({pct}%)", file=sys.stderr, flush=True)
            self.last_pct, self.shown = pct, self.seen

    def finish(self) -> None:
        """Print where the work really ended, if the last line did not say so."""
        if self.quiet or self.seen is None:
            return
        done, total = self.seen
        if done < total:  # also when the last line happened to fall on this step
            print(
                f"{self.label}: stopped at {done} of at most {total}", file=sys.stderr, flush=True
            )
        elif self.seen != self.shown:
            print(f"{self.label}: {done}/{total} (100%)", file=sys.stderr, flush=True)


def _progress_printer(name: str, quiet: bool) -> _Progress:
    return _Progress(f"{PROG} {name}", quiet)


def _warning_printer(name: str) -> Callable[..., None]:
    """``warnings.showwarning`` replacement: one line on stderr, no source excerpt."""

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message).strip().splitlines()[0] if str(message).strip() else category.__name__
        print(f"{PROG} {name}: warning: {text}", file=sys.stderr, flush=True)

    return show


def _cli_text(message: str) -> str:
    """An API message in the command line's words (``overwrite=True`` -> ``--overwrite``)."""
    return message.replace("pass overwrite=True", "pass --overwrite").replace(
        "overwrite=True", "--overwrite"
    )


def _one_line(err: BaseException) -> str:
    msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return _cli_text(msg)


class _UsageError(Exception):
    """Wrong positional arguments (exit code 2)."""


def _failed(name: str, err: BaseException, debug: bool) -> int:
    """Print the error of a command in one line (with ``--debug`` the traceback first);
    exit status 1."""
    if debug:
        traceback.print_exc()
    print(f"{PROG} {name}: error: {_one_line(err)}", file=sys.stderr)
    return 1


def _split_paths(
    paths: list[str], cmd: Command, *, batch: bool, given: dict[str, Any]
) -> tuple[list[str], str | None, list[Any]]:
    """(inputs, output or None, extra positionals) from the positional paths."""
    wanted = [a for a, _ in cmd.args if a not in given]
    n_extra = len(wanted)
    if batch:
        if len(paths) < 1 + n_extra:
            missing = ["input_path", *wanted][len(paths) :]
            raise _UsageError(f"the following arguments are required: {', '.join(missing)}")
        inputs, tail = paths[: len(paths) - n_extra], paths[len(paths) - n_extra :]
        out = None
    else:
        need = ["input_path", "output_path", *wanted]
        if len(paths) < len(need):
            missing = need[len(paths) :]
            raise _UsageError(f"the following arguments are required: {', '.join(missing)}")
        if len(paths) > len(need):
            raise _UsageError(
                f"{len(paths)} paths given for {' '.join(need)}; to process several inputs "
                "give --output-dir DIR (and no output_path)"
            )
        inputs, out, tail = [paths[0]], paths[1], paths[2:]
    tail_iter = iter(tail)
    extras = [given[a] if a in given else next(tail_iter) for a, _ in cmd.args]
    return inputs, out, extras


def _report_plan(path: str, name: str, cmd: Command, registry: dict[str, Command]):
    """Keywords and positionals from ``--from-report``, checked against the command."""
    from ..api.reapply import reapply_plan

    plan = reapply_plan(path)
    if plan.target != cmd.target or tuple(plan.prefix) != tuple(cmd.prefix):
        fits = [
            n for n, c in registry.items() if c.target == plan.target and c.prefix == plan.prefix
        ]
        hint = f"use `{PROG} {fits[0]} --from-report ...`" if fits else "no command re-applies it"
        raise ValueError(f"the report is of {plan.tool!r}, not of {name!r}; {hint}")
    return plan


def main(argv: list[str] | None = None, *, registry: dict[str, Command] | None = None) -> int:
    """Run the command line; returns the exit code (0 on success)."""
    registry = REGISTRY if registry is None else registry
    try:
        args = _parse(list(sys.argv[1:] if argv is None else argv), registry)
    except SystemExit as stop:  # --help (0) or a usage error (2)
        return int(stop.code or 0)
    name = args.pop("command")
    if name is None:
        build_parser(registry).print_help(sys.stderr)
        return 2
    cmd = registry[name]
    quiet, debug = args.pop("quiet"), args.pop("debug")
    paths, out_dir, from_report = args.pop("paths"), args.pop("output_dir"), args.pop("from_report")
    kwargs = {
        k: (tuple(v) if isinstance(v, list) and k in ("zrange", "image_shape") else v)
        for k, v in args.items()
    }
    if cmd.overwrite and not kwargs.get("overwrite"):
        kwargs.pop("overwrite", None)
    try:
        plan = None if from_report is None else _report_plan(from_report, name, cmd, registry)
        given = {} if plan is None else dict(plan.args)
        inputs, out, extras = _split_paths(paths, cmd, batch=out_dir is not None, given=given)
    except _UsageError as err:
        print(f"{PROG} {name}: error: {err} (see {PROG} {name} --help)", file=sys.stderr)
        return 2
    except Exception as err:
        return _failed(name, err, debug)
    kwargs = {**cmd.keywords, **({} if plan is None else plan.keywords), **kwargs}
    progress = _progress_printer(name, quiet)
    if cmd.progress:
        kwargs["progress"] = progress
    if cmd.verbose:
        kwargs[cmd.verbose] = not quiet and out_dir is None
    t0 = time.perf_counter()
    try:
        module, _, attr = cmd.target.partition(":")
        func = getattr(import_module(module), attr)
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            # API messages are progress (stderr); warnings are one line each
            warnings.showwarning = _warning_printer(name)
            if out_dir is not None:
                return _run_batch(name, cmd, func, inputs, out_dir, extras, kwargs, progress, quiet)
            if not quiet:
                print(f"{PROG} {name}: {inputs[0]} -> {out}", file=sys.stderr, flush=True)
            written = func(*cmd.prefix, inputs[0], out, *extras, **kwargs)
    except KeyboardInterrupt:
        print(f"{PROG} {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        return _failed(name, err, debug)
    progress.finish()
    if not quiet:
        dt = time.perf_counter() - t0
        if isinstance(written, dict):  # several files: name them all
            written = ", ".join(str(v) for v in written.values())
        print(f"{PROG} {name}: wrote {written} in {dt:.1f} s", file=sys.stderr, flush=True)
    return 0


def _run_batch(
    name: str,
    cmd: Command,
    func: Callable[..., Any],
    inputs: list[str],
    out_dir: str,
    extras: list[Any],
    kwargs: dict[str, Any],
    progress: _Progress,
    quiet: bool,
) -> int:
    """``--output-dir``: every input in this process; a summary; 1 if any failed."""
    from ..api.batch import expand_inputs, is_image_input, run_batch

    def accept(p: Any) -> bool:
        return is_image_input(p) or str(p).lower().endswith(cmd.input_extensions)

    label = f"{PROG} {name}"
    try:
        files = expand_inputs(inputs, accept=accept)
    except ValueError as err:
        print(f"{label}: error: {_one_line(err)}", file=sys.stderr)
        return 1
    fmt = str(kwargs.get("output_format", "ome-tiff")).lower().replace("_", "-")

    def on_start(i: int, n: int, inp: Path, out: Path) -> None:
        progress.reset()
        progress.label = f"{label} [{i}/{n}]"
        if not quiet:
            print(f"{progress.label} {inp} -> {out}", file=sys.stderr, flush=True)

    def on_item(item: Any) -> None:
        item.message = _cli_text(item.message)
        if item.status == "done":
            progress.finish()
        if not quiet:
            why = f": {item.message}" if item.message else ""
            print(
                f"{progress.label} {item.status} in {item.seconds:.1f} s{why}",
                file=sys.stderr,
                flush=True,
            )

    overwrite = bool(kwargs.pop("overwrite", False))
    if "verbose" in kwargs and "verbose" in inspect.signature(func).parameters:
        kwargs["verbose"] = False
    summary = run_batch(
        func,
        files,
        out_dir,
        prefix=cmd.prefix,
        args=tuple(extras),
        kwargs=kwargs,
        suffix="_" + name.replace("-", "_"),
        extension=".ome.zarr" if fmt == "ome-zarr" else ".ome.tif",
        overwrite=overwrite,
        pass_overwrite=cmd.overwrite,
        overwrite_hint="--overwrite",
        on_start=on_start,
        on_item=on_item,
    )
    head, *reasons = summary.lines()
    for line in reasons:  # the skipped / failed inputs, then the total as the last line
        print(line, file=sys.stderr)
    print(f"{label}: {head}", file=sys.stderr, flush=True)
    return 0 if summary.ok else 1
