"""The options every render command shares, parsed once into a
:class:`~ffvfx.pipelines.delivery.RenderOptions`, and how a command says what it did.

:func:`render_options` declares INPUT, OUTPUT and the shared options (a command's own second
positional, such as ALPHA, goes between them) and hands the command a ``RenderOptions`` as its
first argument; :func:`show` prints a :class:`~ffvfx.pipelines.delivery.Delivery`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import fields, replace

import click

from ffvfx.cli.options import CRF, DURATION, JOBS, QP, START, Number
from ffvfx.cli.paths import INPUT_PATH
from ffvfx.pipelines.delivery import Delivery, RenderOptions, Say

PRINT_FORMS = ("line", "script", "cmd")

LIVE_SOURCE_OPTIONS = (
    click.option("--camera", metavar="SPEC",
                 help="Read a camera instead of INPUT: webcam, /dev/video0, v4l2:DEVICE, "
                 "avfoundation:INDEX, dshow:video=NAME (never a file)."),
    click.option("--lavfi", metavar="GRAPH",
                 help="Read a synthetic lavfi source instead of INPUT, e.g. "
                 "testsrc2=s=1280x720:r=30 (never a file)."),
    click.option("--size", help="Camera capture size (webcam, /dev/video0, --camera), "
                 "e.g. 1280x720."),
    click.option("--fps", type=Number(float, 0, 1000, min_open=True, unit="fps"),
                 help="Camera capture rate (webcam, /dev/video0, --camera)."),
)
"""--camera, --lavfi (both take INPUT's place), --size, --fps: the render commands' and tune's."""


def notes(quiet: bool) -> Say:
    """Say what a long step is doing on stderr (``ffvfx: ...``), or nothing with -q."""
    return (lambda msg: None) if quiet else (lambda msg: click.echo(f"ffvfx: {msg}", err=True))


def show(delivery: Delivery, quiet: bool) -> None:
    """The printed graph or command on stdout; the file written on stderr (not with -q)."""
    if delivery.text is not None:
        click.echo(delivery.text, nl=delivery.newline)
    if delivery.wrote and not quiet:
        click.echo(f"wrote {delivery.wrote}", err=True)


def render_options(func: Callable | None = None, *, second: Callable | None = None) -> Callable:
    """The options every render command takes: time range, quality, output safety, preview.

    ``second``: a ``click.argument`` that goes between INPUT and OUTPUT (IN ALPHA OUT). The command
    is called with the parsed :class:`RenderOptions` first, then its own parameters.
    """
    if func is None:
        return functools.partial(render_options, second=second)

    @functools.wraps(func)
    def command(**kw):
        return func(_parsed(kw), **kw)

    for option in reversed(_declared(second)):
        command = option(command)
    return command


def _parsed(kw: dict) -> RenderOptions:
    """The shared options, taken out of ``kw`` (the names are the dataclass's fields; those no
    option of this command sets, such as ``--sheet`` on a command without it, keep their default)."""
    opts = RenderOptions(**{f.name: kw.pop(f.name) for f in fields(RenderOptions) if f.name in kw})
    if (opts.camera is not None or opts.lavfi is not None) and opts.output is None:
        # --camera/--lavfi take INPUT's place: the one positional is the output
        opts = replace(opts, input=None, output=opts.input)
    return opts


def _declared(second: Callable | None) -> list[Callable]:
    """The shared parameters as click decorators, in the order the help lists them."""
    return [
        click.argument("input", required=False, type=INPUT_PATH),
        *([second] if second else []),
        click.argument("output", required=False),
        *LIVE_SOURCE_OPTIONS[:2],
        click.option("--print", "print_form", is_flag=False, flag_value="line", default=None,
                     type=click.Choice(PRINT_FORMS),
                     help="Print the graph (line, script) or the full ffmpeg command (cmd)."),
        click.option("--preview", is_flag=True, help="Play through ffplay instead of rendering."),
        *LIVE_SOURCE_OPTIONS[2:],
        click.option("--start", type=START, help="Start this many seconds into the input."),
        click.option("--duration", type=DURATION, help="Render this many seconds."),
        click.option("--crf", type=CRF, help="Constant quality (x264/x265; default 18)."),
        click.option("--qp", type=QP, help="Constant quantiser instead of --crf."),
        click.option("--preset", help="Encoder preset (x264: ultrafast .. veryslow)."),
        click.option("--encoder", help="Video encoder (default: libx264, libvpx-vp9 for .webm; "
                     "h264_nvenc with --hw cuda, h264_vaapi, h264_qsv)."),
        click.option("--hw", default=lambda: os.environ.get("FFVFX_HW", "cpu"),
                     show_default="cpu, or $FFVFX_HW",
                     help="Where to decode/encode: cpu, auto (probe and pick), cuda[:GPU], "
                     "vaapi[:/dev/dri/renderDN], qsv[:NODE]. The effect's filters run on the CPU."),
        click.option("--jobs", "-j", type=JOBS, default=1, show_default=True,
                     help="Render this many segments side by side (frame-exact: each starts its "
                     "effect's reach earlier); the pieces are joined without re-encoding."),
        click.option("--ray", "ray", default=lambda: os.environ.get("RAY_ADDRESS"),
                     show_default="$RAY_ADDRESS",
                     help="Send the segments to this Ray cluster (auto, ray://HOST:10001, local); "
                     "needs the ray extra."),
        click.option("--max-memory", type=Number(float, 0, 1e6, min_open=True, unit="GiB"),
                     show_default="$FFVFX_MAX_MEMORY, else half the RAM",
                     help="Most memory the effect's delayed frames may take (GiB); a graph that "
                     "would hold more is refused before it runs."),
        click.option("--no-audio", is_flag=True, help="Drop the audio track."),
        click.option("-y", "--overwrite", is_flag=True, help="Replace an existing output."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes."),
    ]
