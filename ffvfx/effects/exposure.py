"""Exposure per frame: every RGB value times a gain ``g(n)``, the gains as an expression of ``n``.

``eq`` in limited-range yuv444p with per-frame expressions: contrast g about 0.5 plus brightness
(g-1)(0.5-16/255) is ``Y' = 16 + g (Y - 16)``, saturation g scales chroma alike, together ``g * RGB``.
gamma 1.0001 sends eq to its float LUT: with gamma 1 it takes a fixed-point path whose brightness
moves in 1 % steps (up to 5 % off). Per-frame values are ``if(lt(n,K),...)`` trees, not sendcmd,
so each lands on its exact frame.
"""

from __future__ import annotations

from collections.abc import Sequence

from ffvfx.compiler.graph import Stream
from ffvfx.compiler.numbers import MAX_FRAMES_BACK
from ffvfx.compiler.params import Param
from ffvfx.effects.register import per_frame

PARAMS = (
    Param("exposure_smooth", int, 15, unit="frames", lo=1, hi=MAX_FRAMES_BACK, effect=False,
          help="Frames the exposure curve is averaged over."),
)
"""How the gains :func:`expose` takes are made (``ffvfx studio``: the measured curve averaged
over that many frames); not a keyword of :func:`expose`."""


def needed(gains: Sequence[float] | None) -> bool:
    """Some gain is not 1: the exposure must run (decide on the whole clip's gains, not on a
    segment's: ``eq``'s round trip through yuv444p changes pixels even where a gain is 1)."""
    return bool(gains) and any(abs(g - 1) > 1e-4 for g in gains)


def expose(stream: Stream, gains: Sequence[float] | None, label: str = "exposed") -> Stream:
    """``stream`` with frame n scaled by ``gains[n]`` (the last gain holds after the end), planar
    RGB out; unchanged without gains (see :func:`needed`)."""
    if not gains:
        return stream
    g = per_frame(list(gains))
    return (stream.filter("format", "yuv444p")
            .filter("eq", contrast=g, brightness=f"({g}-1)*{0.5 - 16 / 255:.6f}", saturation=g,
                    gamma=1.0001, eval="frame")
            .filter("format", "gbrp", label=label))
