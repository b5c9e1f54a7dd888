"""``ffvfx inpaint`` end to end: the checks, the mask (given, or ``auto``: the person, computed for
the range), :func:`ffvfx.pipelines.inpaint.run` with the delivery of its graph, then the
comparison video in the work folder.

Kept apart from :mod:`ffvfx.pipelines.inpaint` (keyframes, painting, propagation) so the command
line calls one function and knows nothing of the order of the steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from ffvfx.compiler.graph import Input
from ffvfx.effects.compare import compare
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import sources, toolchain
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.probe import VideoInfo, probe
from ffvfx.ffmpeg.render import Effect, Encoding, Job, run
from ffvfx.ffmpeg.sources import Source
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.pipelines import demo, inpaint
from ffvfx.pipelines.delivery import Delivery, RenderOptions, Say, check_render, deliver, silent
from ffvfx.scale import cluster as ray_cluster
from ffvfx.stages.analysis.alpha import check_alpha
from ffvfx.stages.matting import model as matting
from ffvfx.stages.matting.stream import write_matte

USAGE = "ffvfx inpaint IN MASK|auto OUT --prompt TEXT"


def render(mask: str | None, opts: inpaint.Options, render_opts: RenderOptions, *,
           say: Say = silent) -> Delivery:
    """Inpaint the input where ``mask`` (a mask video, or ``auto``) is white and print, preview or
    render the result; a render also writes ``compare.mp4`` in the work folder."""
    inpaint.check(opts)
    if not render_opts.input or not mask:
        raise FfvfxError(f"give the input, the mask and the output: {USAGE}")
    output = render_opts.output
    if not output:
        raise FfvfxError(f"give an output file: {USAGE}")
    tools = toolchain.find()
    src = demo.resolve(render_opts.input)
    if src.device:
        raise FfvfxError("ffvfx inpaint reads a file; record the camera first")
    inputs = [src.path, mask, opts.picks, opts.model]
    if render_opts.collect is not None:  # one variant of a sweep: the stored patches, no work folder
        return deliver(functools.partial(_stored_effect, mask, opts, None, say), render_opts, inputs,
                       say=say)
    if not (render_opts.print_form or render_opts.preview):
        check_output(output, inputs, render_opts.overwrite)
    check_render(render_opts)
    auto_mask = sources.keyword(mask, "auto") is not None  # a file named auto is that file
    inpaint.check_work_folder(output, inputs, auto_mask=auto_mask, picks=opts.picks)
    info = probe(src.path, tools)
    mask, ranged = _mask(src.path, mask, auto_mask, output, tools, info, render_opts, say)
    delivered: list[Delivery] = []

    def deliver_effect(effect: Effect) -> None:
        delivered.append(deliver(lambda _info: effect, render_opts, say=say))

    cluster = ray_cluster.connect(render_opts.ray) if render_opts.ray and not opts.picks else None
    inpaint.run(src.path, mask, output, tools, info, opts, say=say, quiet=render_opts.quiet,
                render=deliver_effect, mask_ranged=ranged, cluster=cluster)
    if not (render_opts.print_form or render_opts.preview):
        _compare_video(src, output, tools, info, render_opts)
    return delivered[-1] if delivered else Delivery()


def stored(mask: str, opts: inpaint.Options, info: VideoInfo, *, command: str | None = None,
           say: Say = silent) -> Callable[[inpaint.Options], Effect]:
    """For renders of one input, mask and painting that differ only in render-time values
    (``ffvfx tune inpaint``, each variant of a ``--sweep``): the effect for each ``opts``, on the
    patches carried once (:func:`ffvfx.pipelines.inpaint.stored`; ``command``: paint nothing,
    refuse with it when unpainted)."""
    inpaint.check(opts)
    if sources.keyword(mask, "auto") is not None:
        raise FfvfxError("MASK auto computes the person's matte on every run: give the mask file a "
                         "first run wrote (OUT-stem_inpaint/mask.mkv)")
    tools = toolchain.find()
    ranged = check_alpha(mask, info, tools, what="mask", start=opts.start, duration=opts.duration)
    carried = inpaint.stored(info.path, mask, tools, info, opts, say=say, mask_ranged=ranged,
                             command=command)
    return lambda asked: inpaint.effect(carried, info, asked)


def _stored_effect(mask: str, opts: inpaint.Options, command: str | None, say: Say,
                   info: VideoInfo | None) -> Effect:
    if info is None:
        raise FfvfxError(f"give the input file: {USAGE}")
    return stored(mask, opts, info, command=command, say=say)(opts)


def _mask(src: str, mask: str, auto_mask: bool, output: str, tools: Toolchain, info: VideoInfo,
          render_opts: RenderOptions, say: Say) -> tuple[str, bool]:
    """The mask video and whether it covers only the --start/--duration range: ``auto`` computes
    the person's matte for the range into the work folder; a file is checked against the input."""
    span = dict(start=render_opts.start, duration=render_opts.duration)
    if not auto_mask:
        return mask, check_alpha(mask, info, tools, what="mask", **span)
    work = inpaint.work_folder(output)
    work.mkdir(exist_ok=True)
    path = str(work / "mask.mkv")
    say(f"computing the mask with {matting.DEFAULT_MODEL}")
    write_matte(src, tools, matting.build(matting.DEFAULT_MODEL, matting.ModelOptions(), info), path,
                quiet=render_opts.quiet, info=info, **span)
    return path, True


def _compare_video(src: Source, output: str, tools: Toolchain, info: VideoInfo,
                   render_opts: RenderOptions) -> None:
    """``compare.mp4`` in the work folder: the input beside the result, labelled."""
    result = Input(output, label="result")
    run(Job(src, str(inpaint.work_folder(output) / "compare.mp4"),
            lambda s: compare(s, [("result", result.video)], size=(info.width, info.height),
                              labels="drawtext" in tools.filters),
            Encoding(), start=render_opts.start, duration=render_opts.duration, audio=False,
            overwrite=True, quiet=True), tools, info)
