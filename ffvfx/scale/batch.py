"""``ffvfx batch COMMAND [options] FILES... -o DIR``: one command over many files.

Each file is one ``ffvfx COMMAND`` process (a file that fails, or crashes, fails alone), ``jobs``
at a time, or one Ray task each with ``--ray``. Outputs are named after the inputs inside DIR
(``clip.mp4`` -> ``DIR/clip.mp4``; folder commands: ``DIR/clip_matte/``, ``DIR/clip_loops/``).
One progress line counts files; each result is said as it arrives and a summary closes the run.

FILES are existing regular files only: never a camera, ``demo`` or a graph, whatever they are
called. Each is handed to its command after ``--``, so a name starting with ``-`` (given after
``--`` on the batch line) is read as the file it is.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.outputs import check_output, same_file
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.render import CORES_VARIABLE, cores
from ffvfx.scale import cluster

FILE_COMMANDS = ("motion", "trails")
"""Commands that read INPUT and write OUTPUT (a video)."""
FOLDER_COMMANDS = {"matte": "_matte", "loop": "_loops"}
"""Commands that read INPUT and write a folder (``-o``), with the suffix of its default name."""
AI_COMMANDS = ("matte",)
"""Commands that want a GPU each on a cluster."""
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".webm", ".m4v")


@dataclass
class Run:
    """One file of the batch: its ``ffvfx`` arguments (``{out}`` stands for the output folder),
    what it writes, and how it went."""

    source: str
    argv: list[str]
    target: Path
    rc: int | None = None
    message: str = ""
    seconds: float = 0.0


def split_args(command: Any, args: list[str]) -> tuple[list[str], list[str]]:
    """``args`` after COMMAND as (the command's options with their values, the input files), read
    with the command's own option table (``command``: the CLI's click command, read by duck typing
    so that scale/ knows nothing of click) so ``--delay 8`` is not taken for a file."""
    takes_value = {}
    for param in command.params:
        if param.param_type_name == "option":
            for name in (*param.opts, *param.secondary_opts):
                takes_value[name] = 0 if (param.is_flag or param.count) else param.nargs
    options, files = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            files += args[i + 1:]
            break
        if arg.startswith("-") and arg != "-":
            name = arg.split("=", 1)[0]
            if name in ("-h", "--help"):
                raise FfvfxError(f"batch {command.name}: its options are in `ffvfx {command.name} --help`")
            if name not in takes_value:
                raise FfvfxError(f"batch {command.name}: no such option {name}")
            if name in ("--print", "--preview"):
                raise FfvfxError(f"batch {command.name}: {name} shows one file; run it without batch")
            n = 0 if "=" in arg else takes_value[name]
            options += args[i:i + 1 + n]
            i += 1 + n
            continue
        files.append(arg)
        i += 1
    return options, files


def plan(name: str, command: Any, args: list[str], outdir: Path) -> list[Run]:
    """The runs of ``ffvfx batch NAME ARGS -o OUTDIR``; one line when the batch makes no sense."""
    if name not in FILE_COMMANDS and name not in FOLDER_COMMANDS:
        raise FfvfxError(f"batch runs commands that read one file: "
                         f"{', '.join((*FILE_COMMANDS, *FOLDER_COMMANDS))} (not {name})")
    options, files = split_args(command, args)
    if not files:
        raise FfvfxError(f"batch {name}: give the input files")
    # option values (--delay inf) are refused once here, in one line, not once per file
    command.make_context(name, [*options, "--", files[0]])
    check_output(outdir, [], True, files=[])  # a folder, or one to make in an existing folder
    overwrite = any(o in ("-y", "--overwrite") for o in options)
    runs, taken = [], {}
    for src in files:
        path = Path(src)
        if name in FOLDER_COMMANDS:
            out = f"{path.stem}{FOLDER_COMMANDS[name]}"
            argv = [name, *options, "-o", f"{{out}}/{out}", "--", src]
        else:
            out = path.stem + (path.suffix.lower() if path.suffix.lower() in VIDEO_SUFFIXES else ".mp4")
            argv = [name, *options, "--", src, f"{{out}}/{out}"]
        if out in taken:
            raise FfvfxError(f"{src} and {taken[out]} would both write {outdir / out}; rename one")
        taken[out] = src
        run = Run(src, argv, outdir / out)
        if same_file(run.target, src):
            run.rc, run.message = 1, f"{run.target}: output is an input; choose another output folder"
        elif run.target.exists() and not overwrite:
            run.rc, run.message = 1, f"{run.target}: exists; pass -y/--overwrite to replace it"
        elif not path.is_file():  # files only: never a camera, a keyword (demo) or a folder
            run.rc, run.message = 1, (f"{src}: not a regular file" if os.path.lexists(src)
                                      else f"{src}: no such file")
        runs.append(run)
    return runs


def quiet_argv(run: Run) -> list[str]:
    """The run's ``ffvfx`` arguments with ``-q`` after the command name, before the ``--`` that
    ends its options (after it ``-q`` would be a file)."""
    return [run.argv[0], "-q", *run.argv[1:]]


class Display:
    """The batch's one progress line (files done of all) and its per-file result lines."""

    def __init__(self, runs: list[Run], quiet: bool):
        self.runs, self.quiet = runs, quiet
        self.bar = ProgressBar("batch", len(runs), enabled=not quiet)
        self.lock = threading.Lock()

    def done(self, run: Run) -> None:
        with self.lock:
            self.bar.frames += 1
            if not self.quiet:
                if self.bar.enabled:
                    sys.stderr.write("\r\x1b[K")
                message = run.message or f"exit code {run.rc}"
                status = (f"ok    {run.source} -> {run.target} ({run.seconds:.1f} s)" if run.rc == 0
                          else f"FAIL  {message}" if message.startswith(run.source)
                          else f"FAIL  {run.source}: {message}")
                print(status, file=sys.stderr)
                self.bar.draw(final=self.bar.frames == len(self.runs))


def share_env(jobs: int) -> dict[str, str]:
    """The environment that gives each of ``jobs`` renders side by side its share of the cores
    (``$FFVFX_CORES``, read by :func:`ffvfx.ffmpeg.render.thread_share`); none for one at a time."""
    if jobs <= 1:
        return {}
    return {CORES_VARIABLE: str(max(1, cores() // jobs))}


def execute(runs: list[Run], outdir: Path, jobs: int, quiet: bool, ray: str | None = None) -> int:
    """Run the batch; returns how many files failed (each said on stderr, then the summary)."""
    outdir.mkdir(exist_ok=True)  # like matte and loop make theirs
    display = Display(runs, quiet)
    todo = [r for r in runs if r.rc is None]
    for r in runs:
        if r.rc is not None:
            display.done(r)

    def finish(run: Run, rc: int, message: str, seconds: float) -> None:
        run.rc, run.message, run.seconds = rc, message, seconds
        display.done(run)

    if ray:
        ray_cluster = cluster.connect(ray)
        gpu = bool(todo) and todo[0].argv[0] in AI_COMMANDS
        ray_cluster.batch([(quiet_argv(r), r.source, outdir) for r in todo],
                          lambda i, rc, msg, s: finish(todo[i], rc, msg, s), gpu)
    else:
        running: list = []
        env = share_env(jobs)

        def one(run: Run) -> None:
            finish(run, *cluster.run_cli(quiet_argv(run), str(outdir), running, env))

        pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="ffvfx-batch")
        try:
            for future in [pool.submit(one, r) for r in todo]:
                future.result()
        except BaseException:
            for proc in list(running):
                proc.terminate()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    failed = [r for r in runs if r.rc != 0]
    if not quiet or failed:
        names = f" ({', '.join(Path(r.source).name for r in failed)})" if failed else ""
        print(f"batch: {len(runs) - len(failed)} of {len(runs)} done, {len(failed)} failed{names}",
              file=sys.stderr)
    return len(failed)
