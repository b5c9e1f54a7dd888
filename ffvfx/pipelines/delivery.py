"""Deliver an effect the way a render command was asked: print its graph or its ffmpeg command,
preview it in ffplay, or render it (:func:`ffvfx.scale.render`: one pass or ``--jobs`` segments).

:class:`RenderOptions` is what every render command shares (input, time range, quality, output
safety, preview); :func:`deliver` refuses a bad output before the effect analyses anything, and
hands back a :class:`Delivery` for the command line to print.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ffvfx import scale
from ffvfx.compiler.graph import Input
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.encoders import check_preset
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.preview import preview
from ffvfx.ffmpeg.probe import VideoInfo, probe
from ffvfx.ffmpeg.render import (
    Effect,
    Encoding,
    Job,
    aligned_input,
    check_container,
    plan_for,
    print_command,
    printable_graph,
)
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.pipelines import demo, sheet
from ffvfx.stages.analysis.alpha import side_fits

Say = Callable[[str], None]
"""Where a pipeline says what a long step is doing (one line, no ``ffvfx:`` prefix)."""
Build = Callable[[VideoInfo | None], Effect]
"""The effect for the probed input (None: a camera, a lavfi graph or a printed graph)."""
Collect = Callable[[Build, Sequence[str | None]], None]
"""Where :func:`deliver` hands a build and its side files instead of delivering them (a sweep
gathers its variants this way: :mod:`ffvfx.pipelines.sweep`)."""


def silent(message: str) -> None:
    """A :data:`Say` that says nothing."""


@dataclass(frozen=True)
class RenderOptions:
    """What every render command was asked besides its effect (the names are the options')."""

    input: str | None = None          # INPUT as typed: a file, demo, webcam, /dev/videoN
    output: str | None = None
    camera: str | None = None         # --camera SPEC
    lavfi: str | None = None          # --lavfi GRAPH
    print_form: str | None = None     # line, script or cmd
    preview: bool = False
    size: str | None = None           # camera capture WxH
    fps: float | None = None          # camera capture rate
    start: float | None = None        # seconds into the input
    duration: float | None = None     # seconds
    crf: float | None = None
    qp: float | None = None
    preset: str | None = None
    encoder: str | None = None
    hw: str = "cpu"
    jobs: int = 1                     # segments rendered side by side
    ray: str | None = None            # Ray cluster address for the segments
    no_audio: bool = False
    overwrite: bool = False
    quiet: bool = False
    max_memory: float | None = None   # GiB
    sheet: int | None = None          # --sheet N: a PNG of N frames instead of the video
    sheet_columns: int | None = None  # frames to a row of the sheet (None: about square)
    collect: Collect | None = field(default=None, compare=False, repr=False)
    """Set by a sweep: :func:`deliver` hands it the build and side files and delivers nothing."""

    @property
    def renders(self) -> bool:
        """An output file will be written (not --print, not --preview)."""
        return bool(self.output) and not self.print_form and not self.preview

    @property
    def live(self) -> bool:
        """An input was named that is not known to be a file yet (INPUT, --camera or --lavfi)."""
        return bool(self.input) or self.camera is not None or self.lavfi is not None


@dataclass(frozen=True)
class Delivery:
    """What a render command has to print: the graph or ffmpeg command (``text``, a newline after it
    unless ``newline`` is False) on stdout, or the file it ``wrote``; all None after a preview."""

    text: str | None = None
    newline: bool = True
    wrote: str | None = None


def deliver(build: Build, opts: RenderOptions, inputs: Sequence[str | None] = (), *,
            say: Say = silent) -> Delivery:
    """Print, preview or render the effect ``build(info)`` as ``opts`` ask.

    ``info`` describes the input file (None for cameras and printed graphs), for options given in
    seconds or checked against the input's length. ``inputs``: the side files the command reads
    (alpha, mask, background ...); a render's output is checked against them and the input before
    ``build`` analyses anything. With ``opts.sheet`` the render is a contact sheet
    (:mod:`ffvfx.pipelines.sheet`); with ``opts.collect`` nothing is delivered: the build and the
    side files are handed to it.
    """
    if opts.collect is not None:
        opts.collect(build, tuple(inputs))
        return Delivery()
    tools = toolchain.find()
    source = demo.choose(opts.input, opts.camera, opts.lavfi, opts.size, opts.fps)
    if source is not None and opts.output and not opts.print_form and not opts.preview:
        check_output(opts.output, [None if source.device else source.path, *inputs], opts.overwrite)
    check_render(opts)
    info = probe(source.path, tools) if source is not None and not source.device else None
    make = build(info)
    if opts.sheet:
        frames = sheet.picked(info, opts.sheet, opts.start, opts.duration)
        make = sheet.effect(make, frames, opts.sheet_columns)

    job = Job(source, opts.output or "out.mp4", make, Encoding(opts.encoder, opts.crf, opts.qp, opts.preset),
              start=opts.start, duration=opts.duration, audio=not opts.no_audio,
              overwrite=opts.overwrite, quiet=opts.quiet, hw=opts.hw, jobs=opts.jobs,
              ray=opts.ray or None, max_memory=opts.max_memory)
    form = opts.print_form
    if source is None or (form in ("line", "script") and not opts.preview):
        return _printed(job, tools, info, opts, say)
    if opts.preview:
        if opts.hw != "cpu":
            say("--preview decodes and filters on the CPU (ffplay); --hw ignored")
        preview(printable_graph(make, info=info), source, tools)
        return Delivery()
    if not opts.output and form != "cmd":
        raise FfvfxError("give an output file (or --print / --preview)")
    if opts.sheet:
        if form == "cmd":
            return Delivery(sheet.print_command(job, tools, info))
        sheet.render(job, tools, info)
        return Delivery(wrote=opts.output)
    if form == "cmd":
        return Delivery(print_command(job, tools, info))
    scale.render(job, tools, info)
    return Delivery(wrote=opts.output)


def _printed(job: Job, tools: Toolchain, info: VideoInfo | None, opts: RenderOptions, say: Say) -> Delivery:
    """The graph as ``--print`` (or no input) asks: one line or a script, lowered for ``--hw``."""
    form = opts.print_form
    plan = plan_for(job, tools, info, probe=False) if opts.hw != "cpu" and not opts.sheet else None
    graph = printable_graph(job.effect, plan, info)
    if plan is not None:
        for note in plan.notes:
            say(note)
        if plan.on_device:
            say(f"graph for --hw {plan.target.name}: {plan.usage()}")
    return Delivery(graph.script() if form == "script" else graph.line(), newline=form != "script")


def check_render(opts: RenderOptions) -> None:
    """The output's container and the --preset (for a ``--sheet``: a ``.png``, one pass, no
    preview), refused in one line before any analysis."""
    if opts.sheet:
        if opts.preview:
            raise FfvfxError("--sheet writes a picture; leave out --preview")
        if opts.jobs > 1 or opts.ray:
            raise FfvfxError("--sheet renders in one pass; leave out --jobs and --ray")
        if opts.renders:
            sheet.check(opts.output)
        return
    if opts.renders:
        check_container(opts.output)
    if opts.preset and (opts.encoder or opts.hw == "cpu"):
        check_preset(opts.encoder or Encoding().resolved(opts.output or "out.mp4"), opts.preset)


def side_input(path: str, info: VideoInfo | None, tools: Toolchain, what: str,
               start: float | None = None, duration: float | None = None) -> Input:
    """A side video (matte) the user gave: the input's size, one frame per input frame (or per
    frame of the ``start``/``duration`` range in seconds, when it was made for that range)."""
    side = probe(path, tools)
    if info is None:
        return Input(path, label=what, aligned=True)
    origin = side_fits(path, side, info, f"--{what}", start, duration)
    return aligned_input(path, side, info, what, origin)
