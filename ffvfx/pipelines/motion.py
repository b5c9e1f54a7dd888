"""``ffvfx motion``: motion extraction (each frame against a delayed copy of itself) delivered as
the render options ask; the delay may be given in seconds, converted at the input's frame rate."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ffvfx.compiler.graph import Input
from ffvfx.compiler.numbers import MAX_FRAMES_BACK, decimal
from ffvfx.effects.motion import motion
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.probe import VideoInfo
from ffvfx.ffmpeg.render import Effect
from ffvfx.pipelines.delivery import Delivery, RenderOptions, Say, deliver, silent


@dataclass(frozen=True)
class MotionOptions:
    """The effect's settings as the command line says them (frames, seconds, px)."""

    mode: str = "gray"
    delay: int = 8                            # frames between c and p
    delay_s: float | None = None              # the delay in seconds instead (needs an input)
    delays: tuple[int, ...] = (1, 8, 32)      # rgb mode: R, G, B delays (frames)
    strength: float = 1.0
    freeze: int | None = None                 # compare every frame with this one (0-based)
    bloom: float = 0.0                        # glow gain (0: no glow)
    bloom_sigma: float = 8.0                  # glow radius (px)

    @classmethod
    def declared(cls, values: Mapping[str, Any]) -> MotionOptions:
        """From values named as the effect's ``PARAMS``: the ``bloom`` flag and ``bloom_strength``
        become one gain."""
        return cls(mode=values["mode"], delay=values["delay"], delay_s=values["delay_s"],
                   delays=tuple(values["delays"]), strength=values["strength"], freeze=values["freeze"],
                   bloom=values["bloom_strength"] if values["bloom"] else 0.0,
                   bloom_sigma=values["bloom_sigma"])


def render(opts: MotionOptions, render_opts: RenderOptions, *, say: Say = silent) -> Delivery:
    """Print, preview or render the motion effect (:func:`ffvfx.pipelines.delivery.deliver`)."""
    return deliver(functools.partial(effect, opts), render_opts, say=say)


def effect(opts: MotionOptions, info: VideoInfo | None) -> Effect:
    """The motion effect for the input ``info`` describes (None: no file), checked before any file
    is touched; one line for a delay or a frozen frame the input cannot have."""
    delay = opts.delay
    if opts.delay_s is not None:
        if info is None:
            raise FfvfxError("--delay-s needs an input file to know its frame rate; use --delay")
        delay = round(opts.delay_s * float(info.fps))
        if delay < 1:
            raise FfvfxError(f"--delay-s {decimal(opts.delay_s)}: under one frame at "
                             f"{decimal(float(info.fps), 6)} fps; give at least one frame, "
                             f"{decimal(1 / float(info.fps), 6)} s")
        if delay > MAX_FRAMES_BACK:
            raise FfvfxError(f"--delay-s {decimal(opts.delay_s)}: {delay} frames at "
                             f"{decimal(float(info.fps), 6)} fps; at most {MAX_FRAMES_BACK}")
    if opts.freeze is not None and info is not None and info.frames is not None \
            and opts.freeze >= info.frames:
        raise FfvfxError(f"--freeze {opts.freeze}: the input has {info.frames} frames (0-based)")
    params = dict(mode=opts.mode, delay=delay, strength=opts.strength, delays=list(opts.delays),
                  freeze=opts.freeze, bloom=opts.bloom, bloom_sigma=opts.bloom_sigma)
    motion(Input().video, **params)  # validate before any file is touched
    return functools.partial(motion, **params)
