"""``ffvfx loop``: seamless loops found in INPUT, written as a folder, printed or previewed."""

from __future__ import annotations

import click

from ffvfx.cli.options import CRF, FRACTION, Length, Number
from ffvfx.cli.paths import INPUT_PATH
from ffvfx.cli.render import notes
from ffvfx.compiler.numbers import MAX_FRAMES_BACK
from ffvfx.effects.loop import FORMATS
from ffvfx.ffmpeg import toolchain
from ffvfx.pipelines import loop
from ffvfx.stages.analysis.loops import HASHES


@click.command("loop")
@click.argument("input", type=INPUT_PATH)
@click.option("-o", "--output", "outdir", help="Output folder (default: INPUT's name + _loops).")
@click.option("--loops", "count", type=Number(int, 1, 100), default=5, show_default=True,
              help="Loops to keep.")
@click.option("--min-length", type=Length(), default="1s", show_default=True,
              help="Shortest loop: 2s, 1.5s or frames.")
@click.option("--max-length", type=Length(), default="6s", show_default=True,
              help="Longest loop: 6s or frames.")
@click.option("--hash", "hash_name", type=click.Choice(tuple(HASHES)), default="phash",
              show_default=True, help="Perceptual hash compared between frames.")
@click.option("--hash-size", type=Number(int, 2, 32), default=8, show_default=True,
              help="Hash side (bits = size^2).")
@click.option("--threshold", type=FRACTION, default=0.1, show_default=True,
              help="Largest seam distance (hash bits differing / bits, over a 5-frame window).")
@click.option("--min-motion", type=FRACTION, default=0.06, show_default=True,
              help="Some frame inside must differ from the start at least this much (hash distance).")
@click.option("--max-motion", type=FRACTION, default=0.35, show_default=True,
              help="Largest hash distance between neighbouring frames: above it is a scene cut.")
@click.option("--crossfade", type=Number(int, 0, MAX_FRAMES_BACK, unit="frames"),
              default=0, show_default=True,
              help="Blend the last N frames into the ones before the start (frames).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="webm",
              show_default=True, help="webm: VP9; mp4: H.264; gif: own palette.")
@click.option("--alpha", "alpha", type=INPUT_PATH,
              help="Matte video (white = opaque): WebM with transparency.")
@click.option("--crf", type=CRF, help="Constant quality (VP9 default 32, x264 18).")
@click.option("--print", "print_graph", is_flag=True, help="Print each loop's graph; write nothing.")
@click.option("--preview", is_flag=True, help="Play the best loop in ffplay, over and over; write nothing.")
@click.option("-y", "--overwrite", is_flag=True, help="Replace existing loop files in the folder.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def loop_command(input: str, outdir: str | None, print_graph: bool, preview: bool, **asked) -> None:
    """Find seamless loops in INPUT and write the best as loop_K.webm, loops.json, index.html.

    Frames are compared by perceptual hash on a small gray copy decoded once; a loop's seam is
    scored over 5 frame pairs around it, then judged on the pixels: a seam step clearly worse
    than the ordinary steps (whole frame or any tile) or a camera drift is refused, with the
    --crossfade that would hide it. Loops never overlap; dark or flat stretches, still
    stretches and scene cuts are not loops. Lengths are in seconds (2s) or frames (45).
    """
    tools = toolchain.find()
    opts = loop.LoopOptions(**asked)  # the options' names are the fields'
    writes = not (print_graph or preview)
    found = loop.search(input, outdir, tools, opts, writes=writes, say=notes(opts.quiet))
    if print_graph:
        for line in loop.graph_lines(found):
            click.echo(line)
        if not found.loops:
            click.echo(f"ffvfx: no seamless loop found: {found.why_none()}", err=True)
    elif preview:
        loop.preview_best(found, tools)
    else:
        _say_written(found, loop.write_folder(found, tools))


def _say_written(found: loop.Search, written: list) -> None:
    """One line per loop file (frames, times, score, seam), or why there is none."""
    if not found.loops:
        click.echo(f"no seamless loop found ({found.min_frames}-{found.max_frames} frames): "
                   f"{found.why_none()}; wrote an empty {found.outdir / loop.LISTING}")
        return
    for one, path in zip(found.loops, written, strict=True):
        click.echo(f"{path}  frames {one.start}-{one.end} ({one.length}), "
                   f"{one.start_time:.2f}-{one.end_time:.2f} s, score {one.score:.3f}, "
                   f"seam {one.pixels.seam_psnr:.1f} dB (ordinary steps {one.pixels.step_psnr:.1f} dB)")
