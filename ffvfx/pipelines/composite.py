"""``ffvfx composite``: the subject of the input (where its alpha is white) over a new background,
fitted to the input's size, in one graph delivered as the render options ask."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ffvfx.compiler.graph import Input
from ffvfx.compiler.windows import Windowed
from ffvfx.effects import composite as composite_effect
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.probe import VideoInfo, probe
from ffvfx.ffmpeg.rawvideo import check_decodes
from ffvfx.ffmpeg.render import Effect
from ffvfx.pipelines.delivery import Delivery, RenderOptions, Say, deliver, side_input, silent
from ffvfx.scale.segments import count_frames
from ffvfx.stages.analysis.alpha import check_alpha

USAGE = "ffvfx composite IN ALPHA OUT --bg PLATE|VIDEO|COLOR"


@dataclass(frozen=True)
class CompositeOptions:
    """The composite as the command line says it (px)."""

    alpha: str | None              # gray matte video, white = subject
    bg: str                        # an image, a video or a colour
    fit: str = "cover"
    pad_color: str = "black"
    feather: float = 0.0           # Gaussian sigma of the alpha's edge (px)
    shift: tuple[int, int] = (0, 0)  # the background moved x, y (px; right, down)

    @classmethod
    def declared(cls, values: Mapping[str, Any]) -> CompositeOptions:
        """From values named as the effect's ``PARAMS`` (with ``alpha``): ``--shift-bg`` is
        ``shift``; the other names are the fields'."""
        asked = {k: v for k, v in values.items() if k != "shift_bg"}
        return cls(shift=tuple(values["shift_bg"]), **asked)


def render(opts: CompositeOptions, render_opts: RenderOptions, *, say: Say = silent) -> Delivery:
    """Print, preview or render the composite (:func:`ffvfx.pipelines.delivery.deliver`)."""
    return deliver(functools.partial(effect, opts, render_opts), render_opts, [opts.alpha, opts.bg], say=say)


def effect(opts: CompositeOptions, render_opts: RenderOptions, info: VideoInfo | None) -> Effect:
    """The composite over the input ``info`` describes; the alpha and the background are checked
    (one line each) before anything renders."""
    if info is None:
        raise FfvfxError(f"composite needs an input file and its alpha: {USAGE}")
    if not opts.alpha:
        raise FfvfxError(f"give the alpha: {USAGE}")
    tools = toolchain.find()
    check_alpha(opts.alpha, info, tools, start=render_opts.start, duration=render_opts.duration)
    alpha = side_input(opts.alpha, info, tools, "alpha", render_opts.start, render_opts.duration)
    bg = composite_effect.background(opts.bg, info)
    # not a picture, or no frame of it decodes: one line now, not an ffmpeg error (or a
    # -stream_loop that never ends) later
    bg_info = probe(bg.value, tools) if bg.kind != "color" else None
    if bg.kind != "color":
        check_decodes(bg.value, tools, "--bg")
    params = dict(bg=bg, size=(info.width, info.height), fps=info.fps, fit=opts.fit,
                  pad_color=opts.pad_color, feather=opts.feather, shift=opts.shift)
    composite_effect.composite(Input().video, Input().video, **params)  # validate early
    if bg.kind != "video":
        return functools.partial(composite_effect.composite, alpha=alpha.video, **params)
    period = composite_effect.loop_period(count_frames(bg.value, tools.ffmpeg), bg_info.fps, info.fps) \
        if render_opts.jobs > 1 or render_opts.ray else None
    return Windowed(lambda first, frames: functools.partial(
        composite_effect.composite, alpha=alpha.video, first=first, period=period, **params))
