"""2.5D parallax background: depth layers of one still, each moving with the camera by its depth.

The layers are images of the same oversized canvas (the frame plus ``margin`` px on every side):
layer 0 is the whole background, opaque; layer k > 0 keeps only what is nearer than its band (its
alpha). Per frame n, layer k is cropped at ``(margin + ox(n) * s_k, margin + oy(n) * s_k)`` with
``s_k = depth_scale * depth_k`` (``depth_k`` in 0..1, 1 nearest): with the camera convention of
:mod:`ffvfx.stages.analysis.camera` (``offsets[n]`` is how far the camera moved since frame 0), near layers
slide further than far ones. The layers are stacked far to near; the exposure gain per frame then
scales the result (:mod:`ffvfx.effects.exposure`). Per-frame values are expressions of ``n``
(balanced ``if(lt(n,K),...)`` trees), not ``sendcmd``, so they land on the exact frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Input, Stream, filter
from ffvfx.compiler.params import Param
from ffvfx.effects.exposure import expose
from ffvfx.effects.register import per_frame
from ffvfx.errors import FfvfxError

PARAMS = (
    Param("depth_scale", float, 0.3, lo=0, hi=100,
          help="Parallax: a layer moves by camera path x its nearness (0..1) x this."),
    Param("layers", int, 3, unit="layers", lo=1, hi=8, effect=False, help="Depth layers (1..8)."),
)
"""The parallax's render-time parameters (``ffvfx studio``): :func:`parallax`'s ``depth_scale``,
and how many depth layers the background is cut into (the command makes the :class:`Layer` list)."""


@dataclass(frozen=True)
class Layer:
    """One depth layer: an RGBA (or, for the farthest, RGB) image of the canvas and its nearness."""

    path: str
    depth: float    # 0 (far) .. 1 (near)


def shifts(offsets: Sequence[tuple[float, float]], depth: float, depth_scale: float) \
        -> tuple[list[int], list[int]]:
    """Per-frame integer crop shifts (x, y) of a layer at ``depth``."""
    s = depth_scale * depth
    return [round(ox * s) for ox, _ in offsets], [round(oy * s) for _, oy in offsets]


def needed_margin(offsets: Sequence[tuple[float, float]], depth_scale: float) -> int:
    """The margin (px) the nearest layer (depth 1) needs so no border is ever uncovered."""
    extent = max((max(abs(ox), abs(oy)) for ox, oy in offsets), default=0.0)
    return math.ceil(extent * depth_scale)


def parallax(layers: Sequence[Layer], offsets: Sequence[tuple[float, float]], *, size: tuple[int, int],
             margin: int, fps: Fraction, depth_scale: float = 0.3,
             gains: Sequence[float] | None = None) -> Stream:
    """The moving background at ``size`` (w, h), one frame per entry of ``offsets``, planar RGB."""
    if not layers:
        raise FfvfxError("parallax needs at least one layer")
    if depth_scale < 0:
        raise FfvfxError(f"--depth-scale takes 0 or more, got {depth_scale:g}")
    need = needed_margin(offsets, depth_scale * max(layer.depth for layer in layers))
    if need > margin:
        raise FfvfxError(f"--depth-scale {depth_scale:g} moves the nearest layer {need} px, more than "
                         f"the background's margin of {margin} px; lower it or regenerate with "
                         f"--bg-margin {need}")
    w, h = size
    rate = str(Fraction(fps).limit_denominator(1001000))
    stack: Stream | None = None
    for k, layer in enumerate(layers):
        still = Input(layer.path, label=f"layer{k}").video.filter("loop", loop=-1, size=1)
        moving = timeline.regular(still.filter("fps", fps=rate))
        moving = moving.filter("format", "gbrp" if k == 0 else "gbrap")
        dx, dy = shifts(offsets, layer.depth, depth_scale)
        moving = moving.filter("crop", w=w, h=h, x=_plus(margin, per_frame(dx)),
                               y=_plus(margin, per_frame(dy)), exact=1, label=f"depth{k}")
        stack = moving if stack is None else filter([stack, moving], "overlay", format="gbrp",
                                                    label="layered")
    assert stack is not None
    if gains is not None:
        stack = expose(stack, gains)
    return stack.filter("trim", end_frame=len(offsets), label="background")


def _plus(margin: int, expr: str) -> str:
    return str(margin) if expr == "0" else f"{margin}+{expr}"
