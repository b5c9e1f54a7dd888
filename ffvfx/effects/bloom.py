"""Bloom: a soft glow of what changed, ``gblur(|c - p|, sigma) * strength``, added on top.

The difference and blur run at 1/2 or 1/4 resolution (area-averaged) when ``sigma`` is large
enough that the blur hides it, and the glow is scaled back up: at 1080p that keeps bloom at a few
percent of the frame time instead of a full-resolution RGB round trip (see the README benchmark).
"""

from __future__ import annotations

from collections.abc import Callable

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Stream, filter, filter_multi
from ffvfx.compiler.numbers import MAX_FRAMES_BACK, MAX_SIGMA, decimal
from ffvfx.compiler.params import Param, check

Reference = Callable[[Stream], Stream]

PARAMS = (
    Param("delay", int, 8, unit="frames", lo=1, hi=MAX_FRAMES_BACK,
          help="Frames between the current frame and the one it is compared with."),
    Param("sigma", float, 8.0, unit="pixels", lo=0, lo_open=True, hi=MAX_SIGMA, help="Glow radius (px)."),
    Param("strength", float, 1.0, lo=0, lo_open=True, hi=1000, help="Glow gain."),
)
"""What :func:`bloom` takes (``ffvfx motion`` spells them ``--delay``, ``--bloom-sigma``, ``--strength``
for ``--mode glow``)."""


def bloom(stream: Stream, *, delay: int = 8, sigma: float = 8.0, strength: float = 1.0) -> Stream:
    """``stream`` plus a soft glow (Gaussian ``sigma`` px, gain ``strength``) of what changed over
    ``delay`` frames, in yuv420p: the picture of ``motion(mode="glow")``."""
    check(PARAMS, dict(delay=delay, sigma=sigma, strength=strength))
    src = timeline.regular(stream).filter("format", "gbrp", label="src")
    out = add_bloom(src, src, lambda s: timeline.delayed(s, delay), sigma, strength, rgb=True)
    return out.filter("format", "yuv420p", label="bloom")


def reduction(sigma: float) -> int:
    """Downscale factor for a blur of ``sigma`` pixels: 4 from sigma 8, 2 from 4, else 1."""
    return 4 if sigma >= 8 else 2 if sigma >= 4 else 1


def gain(stream: Stream, strength: float, label: str | None = None) -> Stream:
    """Every RGB channel times ``strength`` (clipped to 255); no filter when strength is 1."""
    if strength == 1:
        return stream
    expr = f"val*{decimal(strength, 6)}"
    return stream.filter("lutrgb", r=expr, g=expr, b=expr, label=label)


def difference(current: Stream, past: Stream, label: str = "diff") -> Stream:
    """``|c - p|`` per RGB channel (both inputs gbrp), cut to the current stream's length."""
    return filter([current, past], "blend", all_mode="difference", shortest=1, label=label)


def glow(current: Stream, reference: Reference, sigma: float, strength: float,
         yuv: bool = False) -> tuple[Stream, int]:
    """The bloom layer at 1/k size and k: blurred, amplified difference against ``reference``;
    gbrp, or with ``yuv`` a yuv420p layer whose luma is shifted down by 16 (see :func:`add_bloom`)."""
    k = reduction(sigma)
    small = current
    if k > 1:
        small = current.filter("scale", w=f"iw/{k}", h=f"ih/{k}", flags="area")
    small = small.filter("format", "gbrp", label="small")
    diff = difference(small, reference(small))
    if yuv and strength == 1:
        # The blur is linear and the conversion affine, so they commute: blur after converting,
        # where 4:2:0 has half the samples of gbrp (chroma planes at half size, half the sigma).
        layer = _yuv_layer(diff)
        layer = layer.filter("gblur", sigma=sigma / k, steps=2, planes=1)
        return layer.filter("gblur", sigma=sigma / k / 2, steps=2, planes=6, label="haze"), k
    layer = gain(diff.filter("gblur", sigma=sigma / k, steps=2, label="haze"), strength, label="haze")
    return (_yuv_layer(layer) if yuv else layer), k


def _yuv_layer(layer: Stream) -> Stream:
    """A gbrp layer in yuv420p with its luma shifted down by 16 (black is 0, ready to add)."""
    return layer.filter("format", "yuv420p").filter("lutyuv", y="val-16", label="haze")


def add_bloom(picture: Stream, current: Stream, reference: Reference, sigma: float,
              strength: float, rgb: bool) -> Stream:
    """``picture + glow`` (clipped). ``rgb``: picture is gbrp; otherwise 8-bit limited yuv420p."""
    layer, k = glow(current, reference, sigma, strength, yuv=not rgb)
    layer, picture = fit(layer, picture, k)
    if rgb:
        return filter([picture, layer], "blend", all_mode="addition", label="bloom")
    # In limited-range yuv an RGB sum is Y = Ya + Yb - 16 and U = Ua + Ub - 128: the glow's luma
    # is already shifted down by 16 (at the small size, where it is cheap); add luma, grain-merge chroma.
    return filter([picture, layer], "blend", c0_mode="addition",
                  c1_mode="grainmerge", c2_mode="grainmerge", label="bloom")


def fit(layer: Stream, picture: Stream, k: int) -> tuple[Stream, Stream]:
    """Scale the reduced glow back to the picture's exact size (any size, odd ones included)."""
    if k == 1:
        return layer.named("glow"), picture
    glow_full, picture = filter_multi([layer, picture], "scale2ref", 2, w="iw", h="ih",
                                      flags="bilinear", labels=["glow", "picture"])
    return glow_full, picture
