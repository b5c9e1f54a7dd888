"""A subject mask applied: the effect only where the mask is white, the original elsewhere.

``maskedmerge`` of the original and the effected stream with the gray mask copied into every plane
(a gray mask converted to yuv would carry neutral 128 chroma, i.e. a half mask in the chroma
planes). The mask itself is computed by :mod:`ffvfx.stages.analysis.mask`.
"""

from __future__ import annotations

from fractions import Fraction

from ffvfx.compiler.graph import Stream, filter
from ffvfx.errors import FfvfxError

_PLANAR = ("yuv420p", "yuv444p", "gbrp")


def apply_mask(original: Stream, effected: Stream, mask: Stream, *, pix_fmt: str = "yuv420p",
               size: tuple[int, int] | None = None, rate: Fraction | str | None = None) -> Stream:
    """``effected`` where the mask is 255, ``original`` where it is 0, blended in between.

    ``maskedmerge`` of the three streams in ``pix_fmt`` (``yuv420p``, ``yuv444p`` or ``gbrp``):
    the gray mask goes into every plane (for yuv420p the chroma planes get the mask averaged
    2x2), so mask 0 gives the original exactly and 255 the effected within 1 level
    (``((256 - m) * a + m * b + 128) >> 8``). ``size`` = (w, h) scales the mask to the frame size
    when it differs. ``rate``: put all three streams on one exact timeline (``settb=1/rate``,
    ``setpts=N``) before merging; needed when their timestamps are rounded differently (a Matroska
    mask has 1 ms ticks: 0, 33, 67 ms against 66.67 ms), else frames are paired by timestamp and
    some are duplicated or dropped. ``effected`` should be computed from ``original``'s frames.
    """
    if pix_fmt not in _PLANAR:
        raise FfvfxError(f"apply_mask: pix_fmt must be one of {', '.join(_PLANAR)}, got {pix_fmt!r}")

    def timed(s: Stream) -> Stream:
        if rate is None:
            return s
        r = Fraction(rate)
        return s.filter("settb", f"{r.denominator}/{r.numerator}").filter("setpts", "N")

    m = timed(mask).filter("format", "gray")
    if size is not None:
        m = m.filter("scale", w=int(size[0]), h=int(size[1]), flags="bilinear")
    m = m.named("mask")
    if pix_fmt == "yuv420p":
        half = m.filter("scale", w="trunc((iw+1)/2)", h="trunc((ih+1)/2)", flags="area", label="maskc")
        planes = [m, half, half]
    else:
        planes = [m, m, m]
    full = filter(planes, "mergeplanes", format=pix_fmt, map0s=0, map0p=0, map1s=1, map1p=0,
                  map2s=2, map2p=0, label="maskp")
    base = timed(original).filter("format", pix_fmt, label="base")
    over = timed(effected).filter("format", pix_fmt, label="over")
    return filter([base, over, full], "maskedmerge", label="masked")
