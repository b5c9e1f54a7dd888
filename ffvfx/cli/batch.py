"""``ffvfx batch``: one command over many files into a folder."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ffvfx.cli.options import JOBS
from ffvfx.compiler.numbers import MAX_JOBS
from ffvfx.errors import FfvfxError
from ffvfx.scale import batch

OUTPUT_FLAGS = ("-o", "--output-dir", "--output")
"""How the output folder may be named among COMMAND's arguments."""


@click.command("batch", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--jobs", "-j", type=JOBS,
              default=lambda: min(MAX_JOBS, max(1, (os.cpu_count() or 2) // 2)), show_default="half the CPUs",
              help="Files rendered at a time (a --jobs after COMMAND is each file's segments).")
@click.option("--ray", "ray_address", default=lambda: os.environ.get("RAY_ADDRESS"),
              show_default="$RAY_ADDRESS", help="Run each file as a task on this Ray cluster.")
@click.option("-q", "--quiet", is_flag=True, help="Only failures and the summary.")
@click.argument("command")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def batch_command(ctx: click.Context, jobs: int, ray_address: str | None, quiet: bool, command: str,
                  args: tuple[str, ...]) -> None:
    """Run COMMAND over many FILES into a folder: ffvfx batch COMMAND [options] FILES... -o DIR.

    Outputs are named after the inputs (DIR/clip.mp4; matte and loop: DIR/clip_matte/); DIR is
    made when missing. A file that fails fails alone; the exit code is the number of files that
    failed (0: all done).
    """
    args, outdir = _output_folder(list(args))
    group = ctx.parent.command if ctx.parent is not None else None
    sub = group.get_command(ctx.parent, command) if isinstance(group, click.Group) else None
    if sub is None:
        raise FfvfxError(f"batch {command}: no such command")
    runs = batch.plan(command, sub, args, Path(outdir))
    failed = batch.execute(runs, Path(outdir), jobs, quiet, ray_address or None)
    if failed:
        raise click.exceptions.Exit(min(failed, 100))


def _output_folder(args: list[str]) -> tuple[list[str], str]:
    """COMMAND's arguments without ``-o DIR`` (any of :data:`OUTPUT_FLAGS`; the last one counts),
    and DIR."""
    outdir = None
    for flag in OUTPUT_FLAGS:
        while flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                raise FfvfxError(f"{flag} needs the output folder")
            outdir = args[i + 1]
            del args[i:i + 2]
    if outdir is None:
        raise FfvfxError("give the output folder: ffvfx batch COMMAND [options] FILES... -o DIR")
    return args, outdir
