"""``ffvfx studio`` and ``ffvfx generate`` end to end: the checks, then :mod:`ffvfx.pipelines.studio`
(generation, depth layers, exposure) and the delivery of its graph; the studio folder beside the
video is written once the video is.

Kept apart from :mod:`ffvfx.pipelines.studio` (the assets and the effect) so the command line
calls one function per command and knows nothing of the order of the steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.probe import VideoInfo, probe
from ffvfx.ffmpeg.render import Effect, printable_graph
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.pipelines import demo, studio
from ffvfx.pipelines.delivery import Delivery, RenderOptions, Say, deliver, silent
from ffvfx.stages.analysis.alpha import check_alpha


def generate(spec: str, alpha: str, output: str, tools: Toolchain, opts: studio.Options, *,
             overwrite: bool = False, quiet: bool = False, say: Say = silent) -> Path:
    """``ffvfx generate``: a new background for one frame of INPUT ``spec`` (subject: white in
    ``alpha``) into ``output`` (.png); returns its path."""
    studio.check(opts)
    out = Path(output)
    if out.suffix.lower() != ".png":
        raise FfvfxError(f"{out}: the result is a PNG image; give an output ending in .png")
    check_output(out, [spec, alpha, opts.model], overwrite)
    src = demo.resolve(spec)
    if src.device:
        raise FfvfxError("ffvfx generate reads a file; record the camera first")
    info = probe(src.path, tools)
    studio.check(opts, info)
    check_alpha(alpha, info, tools)
    studio.generate(src.path, alpha, str(out), tools, info, opts, say=say, quiet=quiet, overwrite=overwrite)
    return out


def render(alpha: str | None, opts: studio.Options, render_opts: RenderOptions, *,
           say: Say = silent) -> Delivery:
    """``ffvfx studio``: the background of the input replaced (subject: white in ``alpha``), printed,
    previewed or rendered; with a render, the studio folder is written after the video."""
    studio.check(opts)
    if render_opts.input and not (render_opts.output or render_opts.print_form or render_opts.preview):
        raise FfvfxError("give an output file (or --print / --preview)")  # before any generation
    folder: list[Callable[[], object]] = []  # the studio folder, written once the video is
    models = [opts.model, opts.controlnet, opts.depth_model]
    make = functools.partial(_effect, alpha, opts, render_opts, [alpha, *models], folder, say)
    delivery = deliver(make, render_opts, [alpha, *models], say=say)
    for write in folder:
        write()
    return delivery


def _effect(alpha: str | None, opts: studio.Options, render_opts: RenderOptions, inputs: list,
            folder: list[Callable[[], object]], say: Say, info: VideoInfo | None) -> Effect:
    """The studio effect for the input ``info`` describes, its assets prepared (generated or
    cached); with a render, how to write the folder goes into ``folder``."""
    if info is None or not alpha:
        raise FfvfxError("studio needs an input file and its alpha: ffvfx studio IN ALPHA OUT "
                         "--prompt TEXT")
    tools = toolchain.find()
    studio.check(opts, info)
    opts.alpha_ranged = check_alpha(alpha, info, tools, start=opts.start, duration=opts.duration)
    output = render_opts.output
    folder_too = render_opts.renders and render_opts.collect is None  # a sweep's variant: no folder
    if folder_too:  # the output itself was checked by deliver, before this analysis
        studio.check_folder(output, render_opts.overwrite, [info.path, *inputs], layers=opts.layers)
    assets = studio.prepare(info.path, alpha, tools, info, opts, say=say, quiet=render_opts.quiet)
    apply = studio.effect(assets, info, opts)
    if folder_too:  # self-contained: the assets are movie= sources (-/filter_complex graph.txt)
        folder.append(lambda: studio.write_folder(output, assets, printable_graph(apply, info=info).script(),
                                                  render_opts.overwrite))
    return apply


def stored(alpha: str, opts: studio.Options, info: VideoInfo, *, command: str,
           say: Say = silent) -> Callable[[studio.Options], Effect]:
    """For ``ffvfx tune studio``: the studio effect for each ``opts`` that differ from these only in
    render-time values (:data:`~ffvfx.pipelines.studio.RENDER_PARAMS`), on the cached generation;
    without it, one line saying to run ``command`` once first (no model runs here)."""
    tools = toolchain.find()
    studio.check(opts, info)
    opts = replace(opts, alpha_ranged=check_alpha(alpha, info, tools, start=opts.start,
                                                  duration=opts.duration))
    kept = studio.Stored(info.path, alpha, tools, info, opts, command=command, say=say)

    def make(asked: studio.Options) -> Effect:
        asked = replace(asked, alpha_ranged=opts.alpha_ranged)
        return studio.effect(kept.assets(asked), info, asked)
    return make
