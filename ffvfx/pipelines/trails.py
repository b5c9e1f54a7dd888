"""``ffvfx trails``: ghost trails delivered as the render options ask. Camera motion is measured
first (cached) so every echo is shifted back into register; ``mask`` keeps trails on the moving,
in-focus subject; an alpha puts them behind or in front of it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Input
from ffvfx.compiler.windows import Windowed
from ffvfx.effects.mask import apply_mask
from ffvfx.effects.register import EchoRegister, echo_register
from ffvfx.effects.trails import trail_mask, trails
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.probe import VideoInfo, frame_range, probe
from ffvfx.ffmpeg.render import Effect, aligned_input
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.pipelines.delivery import Delivery, RenderOptions, Say, deliver, side_input, silent
from ffvfx.stages.analysis import camera
from ffvfx.stages.analysis import mask as mask_analysis


@dataclass(frozen=True)
class TrailsOptions:
    """The effect's settings as the command line says them (frames, px, 8-bit levels)."""

    layers: int = 6                # echoes
    decay: float = 0.7             # echo k has opacity decay^k
    spacing: int = 5               # frames between echoes
    intensity: float = 1.0
    operator: str = "normal"
    glow_sigma: float = 8.0        # px
    exposure: float = 2.0
    alpha: str | None = None       # matte video (white = subject) for behind/front
    compensate: bool = True        # shift every echo back into register with the camera
    mask: bool = False             # trails only on the moving, in-focus subject
    motion_thresh: int = 10        # --mask: 8-bit levels
    focus_block: int = 31          # --mask: block size (px)

    def params(self) -> dict:
        """The keyword arguments of :func:`ffvfx.effects.trails.trails`."""
        return dict(layers=self.layers, decay=self.decay, spacing=self.spacing, intensity=self.intensity,
                    operator=self.operator, glow_sigma=self.glow_sigma, exposure=self.exposure)


def render(opts: TrailsOptions, render_opts: RenderOptions, *, say: Say = silent) -> Delivery:
    """Print, preview or render the trails (:func:`ffvfx.pipelines.delivery.deliver`)."""
    if opts.mask:
        mask_analysis.check_params(focus_block=opts.focus_block, motion_thresh=opts.motion_thresh)
    return deliver(functools.partial(effect, opts, render_opts, say), render_opts, [opts.alpha], say=say)


def effect(opts: TrailsOptions, render_opts: RenderOptions, say: Say, info: VideoInfo | None) -> Effect:
    """The trails for the input ``info`` describes: analysed (camera path, mask) when it is a file,
    the plain graph for a printed graph; one line for what a camera cannot have."""
    tools = toolchain.find()
    params = opts.params()
    alpha = None
    if opts.alpha:
        alpha = side_input(opts.alpha, info, tools, "alpha", render_opts.start, render_opts.duration)
    trails(Input().video, alpha=Input().video if alpha else None, **params)  # validate early
    if info is None:  # a printed graph or a camera: nothing to analyse
        if render_opts.live and opts.compensate:
            raise FfvfxError("camera compensation analyses a file; use --no-compensate for a camera")
        if opts.mask or alpha is not None:
            raise FfvfxError("--mask and --alpha need an input file")
        return functools.partial(trails, **params)
    register, offsets = _register(opts, render_opts, info, tools, say)
    mask = _mask(opts, render_opts, info, tools, offsets, say) if opts.mask else None

    def build(first: int, frames: int | None) -> Effect:
        hook = register.window(first, frames) if register else None

        def apply(stream):
            out = trails(stream, alpha=alpha.video if alpha else None, register=hook, **params)
            if mask is None:
                return out
            where = trail_mask(mask.video, layers=opts.layers, spacing=opts.spacing, register=hook)
            return apply_mask(timeline.regular(stream), out, where)
        return apply
    return Windowed(build)


def _register(opts: TrailsOptions, render_opts: RenderOptions, info: VideoInfo, tools: Toolchain,
              say: Say) -> tuple[EchoRegister | None, list | None]:
    """The echoes' shifts back into register and the camera path's offsets (None, None without
    --compensate); the path is measured once and cached."""
    if not opts.compensate:
        return None, None
    path = camera.cached_path(info.path, tools, render_opts.start, render_opts.duration, say=say)
    return echo_register(path, opts.spacing, opts.layers), path.offsets


def _mask(opts: TrailsOptions, render_opts: RenderOptions, info: VideoInfo, tools: Toolchain,
          offsets: list | None, say: Say) -> Input:
    """The moving, in-focus subject's mask video (cached), as a side input aligned to the range."""
    found = mask_analysis.cached_mask(info.path, tools, offsets=offsets, start=render_opts.start,
                                      duration=render_opts.duration, motion_thresh=opts.motion_thresh,
                                      focus_block=opts.focus_block, say=say)
    first, _ = frame_range(info, render_opts.start, render_opts.duration)
    return aligned_input(str(found.path), probe(str(found.path), tools), info, "mask", first)
