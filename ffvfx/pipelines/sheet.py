"""``--sheet N``: a contact sheet (one PNG) of N frames of a render, instead of the video.

The frames are picked by number *after* the effect (:func:`ffvfx.effects.grid.sheet`), so each
one is exactly the frame a video render would have at that place, delays and echoes included:
the effect has seen every frame before it. The numbers are spread evenly over the rendered range
(the whole input, or ``--start``/``--duration``), from the frame count the probe read from the
packets (:func:`ffvfx.effects.grid.sheet_frames`: first and last included). One ffmpeg pass, the
PNG written under a temporary name and moved into place whole (:mod:`ffvfx.ffmpeg.atomic`), never
over an input, never over an existing file without ``-y``.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

from ffvfx.compiler.graph import Stream
from ffvfx.effects import grid
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.atomic import atomic_path
from ffvfx.ffmpeg.probe import VideoInfo, frame_range
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.render import (
    Effect,
    Encoding,
    Job,
    check_memory,
    check_paths,
    command,
    execute,
    input_notes,
    say,
    script_file,
)
from ffvfx.ffmpeg.toolchain import Toolchain

SUFFIX = ".png"


def picked(info: VideoInfo | None, n: int, start: float | None, duration: float | None) -> list[int]:
    """The frame numbers (0-based in the rendered range) a sheet of ``n`` shows; one line when
    there is no file to count frames in or the range holds fewer than ``n``."""
    if info is None or info.frames is None:
        raise FfvfxError("--sheet picks frames by number: give an input file (not a camera, "
                         "--lavfi or no input)")
    first, end = frame_range(info, start, duration)
    count = end - first
    if count < n:
        where = " in the requested time range" if start or duration else ""
        raise FfvfxError(f"--sheet {n}: the input has {count} frames{where}")
    return grid.sheet_frames(count, n)


def effect(make: Effect, frames: list[int], columns: int | None = None) -> Effect:
    """``make`` followed by the pick of ``frames`` and their layout, ``columns`` to a row (None:
    about square)."""
    across = columns or grid.sheet_columns(len(frames))

    def apply(stream: Stream) -> Stream:
        return grid.sheet(make(stream), frames, across)
    return apply


def check(output: str | None) -> None:
    """Refuse, in one line, a sheet written to anything but a ``.png``."""
    if output is not None and Path(output).suffix.lower() != SUFFIX:
        raise FfvfxError(f"{output}: --sheet writes a picture; give an output ending in {SUFFIX}")


def argv(job: Job, tools: Toolchain, info: VideoInfo, out_path: str,
         script: str | None = None) -> tuple[list[str], object]:
    """The ffmpeg command writing the sheet ``job.effect`` makes to ``out_path``: the render's own
    command (range, side files, graph) with the PNG encoder, no audio, one picture."""
    still = replace(job, encoding=Encoding("png"), audio=False)
    args, graph = command(still, tools, info, out_path, script)
    return [*args[:-1], "-frames:v", "1", "-update", "1", "-f", "image2", args[-1]], graph


def print_command(job: Job, tools: Toolchain, info: VideoInfo) -> str:
    """``--print=cmd`` for a sheet: the command, shell-quoted (no ``-y`` unless asked)."""
    args, _ = argv(job, tools, info, job.output)
    if not job.overwrite:
        args.remove("-y")
    return shlex.join(args)


def render(job: Job, tools: Toolchain, info: VideoInfo) -> None:
    """Write the sheet of ``job`` (whose effect ends in :func:`effect`) to ``job.output``."""
    check(job.output)
    check_paths(job)
    args, graph = argv(job, tools, info, job.output)
    check_memory(job, graph, info)
    tools.require_filters(graph.filter_names())
    tools.require_encoder("png")
    with atomic_path(job.output, overwrite=job.overwrite) as tmp:
        args, graph = argv(job, tools, info, tmp)
        with script_file(graph) as script:
            if script:
                args, graph = argv(job, tools, info, tmp, script)
            say(job, input_notes(info))
            written = execute(args, ProgressBar(Path(job.output).name, 1, enabled=not job.quiet))
        if written == 0:
            raise FfvfxError(f"{job.source.name}: the contact sheet came out empty")
