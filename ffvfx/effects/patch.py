"""Video inpainting's composite: the original with painted patches merged in through the mask.

``out = original * (1 - m) + patch * m`` per RGB channel (``maskedmerge`` in planar RGB), ``m``
the mask made solid white (any value above 10 % is the region: an imperfect, slightly large mask is
fine) then grown by ``grow`` px and feathered by a Gaussian of ``feather`` px. The patches follow
the frame's light (:mod:`ffvfx.effects.exposure`, one gain per frame); ``overlay_original`` mixes
the original back in at that weight for realism. ``drop`` lists frame ranges (first, last) whose
frames are left out and rebuilt by ``minterpolate`` from the frames around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Stream, filter
from ffvfx.compiler.numbers import decimal
from ffvfx.compiler.params import Param
from ffvfx.effects.exposure import expose
from ffvfx.effects.refine import Refine, refine
from ffvfx.errors import FfvfxError

PARAMS = (
    Param("feather", float, 4.0, unit="pixels", lo=0, hi=100, help="Soften its edge (px)."),
    Param("overlay_original", float, 0.0, lo=0, hi=1,
          help="Mix the original back in at this weight (0..1), for realism."),
)
"""The merge's render-time parameters (``ffvfx inpaint``): :func:`patch`'s keywords that change
only the graph, so a new value re-renders the painted, carried patches as they are."""


def patch(original: Stream, patches: Stream, mask: Stream, *, grow: int = 0, feather: float = 0.0,
          gains: Sequence[float] | None = None, overlay_original: float = 0.0,
          drop: Sequence[tuple[int, int]] = (), fps: Fraction | None = None,
          count: int | None = None) -> Stream:
    """``original`` with ``patches`` where ``mask`` is white; all three the same size and length."""
    if not 0 <= overlay_original < 1:
        raise FfvfxError(f"--overlay-original takes 0..1, got {overlay_original:g}")
    m = refine(timeline.regular(mask), Refine(threshold=0.1, dilate=grow, feather=feather))
    m = m.filter("format", "gbrp", label="region")
    base = timeline.regular(original).filter("format", "gbrp", label="original")
    painted = timeline.regular(patches).filter("format", "gbrp")
    painted = expose(painted, gains).named("painted")
    out = filter([base, painted, m], "maskedmerge", label="merged")
    if overlay_original > 0:
        w = overlay_original
        out = filter([out, base], "mix", inputs=2, weights=f"{decimal(1 - w, 6)} {decimal(w, 6)}",
                     duration="first", label="realism")
    if drop:
        if fps is None or count is None:
            raise ValueError("dropping frames needs the frame rate and the frame count")
        keep = "+".join(f"between(n,{a},{b})" for a, b in drop)
        rate = str(Fraction(fps).limit_denominator(1001000))
        # minterpolate holds back the last frame (it waits for a next one): give it one, then trim
        out = (out.filter("select", f"not({keep})").filter("tpad", stop=1, stop_mode="clone")
               .filter("minterpolate", fps=rate, mi_mode="mci")
               .filter("trim", end_frame=count, label="mended"))
    return out
