"""Trails (echo / ghost): the current frame combined with ``layers`` earlier copies of itself.

Per RGB channel, 8-bit, for output frame ``n``: ``c_k`` is frame ``max(n - k*spacing, 0)`` for
``k = 0..layers`` (``c_0`` the current frame, first frames clamped to frame 0) and
``w_k = intensity * decay**k``. As in After Effects' Echo, the starting intensity applies to the
current frame too (``w_0 = intensity``) for the echo operators; the ghost modes (``glow``,
``shadow``) and the alpha composites (``behind``, ``front``) keep the current frame as it is and
weight only the echoes ``k >= 1``. ``screen(a, b) = 255 - (255 - a)(255 - b)/255``.

- ``normal``/``blend``  ``sum_k w_k c_k / sum_k w_k`` (weighted average, colours kept; intensity
  cancels out). Affine, so it runs in 8-bit yuv420p: one ``mix`` over delayed copies.
- ``add``     ``clip(sum_k w_k c_k)``                       (gbrp ``mix``, scale 1)
- ``max``     ``max_k clip(w_k c_k)``                        (gbrp, ``lutrgb`` + ``blend=lighten``)
- ``min``     ``min_k clip(w_k c_k)``                        (gbrp, ``lutrgb`` + ``blend=darken``)
- ``screen``  ``255 * (1 - prod_k (1 - clip(w_k c_k)/255))`` (gbrp, ``blend=screen``)
- ``glow``    ``screen(c_0, G)``, ``G = up(gblur_{sigma/r}(g * screen_{k>=1} A_k clip(exposure w_k c_k)))``:
  each echo over-exposed, kept only where it differs from the current frame (``A_k``), the
  ghosts screened together, softly bloomed and screened over the current frame: bright trails.
- ``shadow``  ``c_0 * (255 - up(D)) / 255`` with ``D = g * screen_{k>=1} A_k S_k`` and
  ``S_k = 255 clip(w_k (1 - c_k / (255 * exposure)), 0, 1)``: each echo under-exposed (divided
  by ``exposure``) into a darkness ``S_k`` at opacity ``w_k``, kept only where it differs from
  the current frame, and multiplied onto it: dark trails. (Without the masks this is the
  multiply chain ``c_0 prod_k (1 - S_k/255)``.)

  The ghosts are of what moved: ``A_k = ramp(|c_k - c_0|)``, ``ramp(d) = clip((d - 8) / 32, 0, 1)``
  (under 8 levels is noise, from 40 a full ghost), is 0 wherever echo ``k`` matches the current
  frame, so a static scene (after ``register``) comes out as it went in at any brightness; a glow
  of every echo repainted the whole frame (a 182-mean static shot went to 252, 86 % clipped).
  ``g = 1 - min_{k>=1} A_k`` is 0 where the current frame differs from every echo, i.e. on the
  subject where it is now, which the echoes there (background) must not repaint; along its
  past path some echo shows the same background as the current frame and ``g`` is 1. (Where a
  slow subject overlaps its own recent echoes, deeper echoes still lay their background on it.)

  Both work at 1/r size (``r`` = 4 from ``glow_sigma`` 8, 2 from 4, else 1, as :mod:`bloom`;
  ``r`` = 2 for shadow): every ``c_k`` inside ``A_k``, ``g``, the ghosts and ``D`` is the frame
  area-averaged to 1/r size in 8-bit RGB, and ``up`` is the 8-bit bilinear scale back to full
  size; ``c_0`` outside ``up`` is the full-size frame. Averaging also shrinks sensor noise and
  the residue of whole-pixel camera compensation below the ramp's 8 levels. Per echo at 1/r
  size: one ``lut2`` (8-bit pair in, 16-bit ghost out), a 16-bit ``screen``, an 8-bit difference
  and ``darken``; full size: one RGB conversion, the scale up and one 8-bit ``blend``.
- ``front``   ``B = c_0``; for ``k = layers..1`` (oldest first, nearest on top)
  ``B = B + (c_k - B) * w_k a_k / 255``: echoes composited over the current frame where their own
  alpha ``a_k`` (the matte of frame ``n - k*spacing``) is set.
- ``behind``  ``front`` followed by ``B = B + (c_0 - B) * a_0 / 255``: the current subject stays
  in front of its echoes; the echoes lie over the current background.

``front``/``behind`` are lerps, affine, so they run in yuv420p (``alphamerge`` + ``overlay``;
chroma uses the 2x2-subsampled alpha). Every result ends in yuv420p: a printed one-liner pasted
into ``ffmpeg -vf`` must not give 4:4:4 H.264. 8-bit ``mix`` truncates (``mix`` results sit up to
one level low); ``lutrgb`` weights are rounded.

``register(stream, k)`` is a hook applied to every echo ``k >= 1`` right after its delay (camera
compensation: shift echo ``k`` into register with the current frame). A hook with a
``prepare(stream)`` method gets the undelayed stream first, once, and its echoes are delayed from
what it returns (the camera hook pads once there and crops each echo). It receives the echo at
full size in the operator's working format (yuv420p for normal/blend/front/behind, gbrp for
add/max/min/screen, the input's format for glow/shadow; front/behind: yuva420p with the echo's
alpha merged) and must return the same size, format and frame timing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Stream, filter
from ffvfx.compiler.numbers import MAX_FRAMES_BACK, MAX_SIGMA, decimal
from ffvfx.compiler.params import Param
from ffvfx.effects import bloom
from ffvfx.errors import FfvfxError

OPERATORS = ("normal", "blend", "add", "max", "min", "screen", "glow", "shadow", "behind", "front")

PARAMS = (
    Param("layers", int, 6, unit="echoes", lo=1, hi=64, help="Number of echoes."),
    Param("decay", float, 0.7, lo=0, lo_open=True, hi=1, help="Echo k has opacity decay^k."),
    Param("spacing", int, 5, unit="frames", lo=1, hi=MAX_FRAMES_BACK, help="Frames between echoes."),
    Param("intensity", float, 1.0, lo=0, lo_open=True, hi=1000, help="Starting intensity."),
    Param("operator", str, "normal", choices=OPERATORS, flags=("--ghost", "--operator"),
          help="glow: bright trails; shadow: dark; normal: weighted average; add/max/min/screen/blend; "
          "behind/front need --alpha."),
    Param("alpha", Path, effect=False, help="Matte video (white = subject) for behind/front."),
    Param("compensate", bool, True, effect=False,
          help="Shift every echo back into register with the camera's motion."),
    Param("mask", bool, False, effect=False, help="Trails only on the moving, in-focus subject."),
    Param("motion_thresh", int, 10, unit="levels", lo=0, hi=255, effect=False, help="--mask: 8-bit levels."),
    Param("focus_block", int, 31, unit="pixels", lo=3, hi=999, effect=False,
          help="--mask: block size (px)."),
    Param("glow_sigma", float, 8.0, unit="pixels", lo=0, lo_open=True, hi=MAX_SIGMA,
          help="glow: blur radius (px)."),
    Param("exposure", float, 2.0, lo=0, lo_open=True, hi=1000,
          help="glow: echo gain; shadow: echo darkening."),
)
"""What ``ffvfx trails`` takes. Not :func:`trails`' own keywords: ``alpha`` (a file, opened as the
matte stream), ``compensate`` (the camera path measured into a ``register`` hook) and the
``--mask`` analysis settings (:func:`trail_mask` over the mask it finds)."""

Register = Callable[[Stream, int], Stream]


def trails(stream: Stream, *, layers: int = 6, decay: float = 0.7, spacing: int = 5,
           intensity: float = 1.0, operator: str = "normal", alpha: Stream | None = None,
           register: Register | None = None, glow_sigma: float = 8.0,
           exposure: float = 2.0) -> Stream:
    """``stream`` with ``layers`` echoes ``spacing`` frames apart (see the module docstring).

    ``alpha``: a gray matte stream of the same size and length (``behind``/``front`` only).
    ``exposure``: echo gain for ``glow`` (times) and ``shadow`` (divided by). Reach:
    ``layers * spacing`` frames.
    """
    _check(layers, decay, spacing, intensity, operator, alpha, glow_sigma, exposure)
    weights = [intensity * decay**k for k in range(layers + 1)]
    src = timeline.regular(stream)

    prepared: dict[Stream, Stream] = {}

    def echo(s: Stream, k: int) -> Stream:
        """Echo ``k`` of ``s`` (``k*spacing`` frames earlier, clamped), registered."""
        if register is None:
            return timeline.delayed(s, k * spacing, label=f"echo{k}")
        if s not in prepared:
            prepared[s] = _prepare(register, s)
        return register(timeline.delayed(prepared[s], k * spacing, label=f"echo{k}"), k)

    if operator in ("normal", "blend"):
        src = src.filter("format", "yuv420p", label="src")
        inputs = [src] + [echo(src, k) for k in range(1, layers + 1)]
        return filter(inputs, "mix", inputs=len(inputs), weights=[_num(w) for w in weights],
                      scale=_num(1 / sum(weights)), duration="first", label="trails")
    if operator in ("behind", "front"):
        return _composite(src, alpha, weights, echo, behind=operator == "behind")
    if operator in ("glow", "shadow"):
        return _ghosts(src, weights, echo, register, spacing, glow_sigma, exposure,
                       glow=operator == "glow")

    # blend chains truncate at every 8-bit step (screen goes up): run them in 16 bits
    deep = operator == "screen"
    src = src.filter("format", "gbrp16" if deep else "gbrp", label="src")
    if operator == "add":
        inputs = [src] + [echo(src, k) for k in range(1, layers + 1)]
        out = filter(inputs, "mix", inputs=len(inputs), weights=[_num(w) for w in weights],
                     scale=1, duration="first", label="sum")
    else:
        mode = {"max": "lighten", "min": "darken", "screen": "screen"}[operator]
        out = _gain(src, weights[0], "layer0")
        for k in range(1, layers + 1):
            out = filter([out, _gain(echo(src, k), weights[k], f"layer{k}")], "blend",
                         all_mode=mode, shortest=1, label=operator)
    if deep:  # swscale dithers 16-bit to yuv420p directly (+-3 levels on flat areas); gbrp rounds
        out = out.filter("format", "gbrp")
    return out.filter("format", "yuv420p", label="trails")


# The ghost mask ramp(d) = clip((d - MOVED[0]) / (MOVED[1] - MOVED[0]), 0, 1) of the absolute
# 8-bit difference d between an echo and the current frame at 1/r size: under MOVED[0] levels
# nothing moved (noise, compensation residue), from MOVED[1] the echo is a full ghost.
MOVED = (8, 40)
SHADOW_REDUCTION = 2
"""Shadow runs at 1/2 size: no blur hides the scale there, and silhouettes keep their shape."""


def _ghosts(src: Stream, weights: list[float], echo: Callable[[Stream, int], Stream],
            register: Register | None, spacing: int, sigma: float, exposure: float,
            glow: bool) -> Stream:
    """``glow``/``shadow`` (module docstring): masked ghosts at 1/r size, one full-size blend.

    Per echo at 1/r size: one ``lut2`` of (c_0, c_k), 8-bit in, 16-bit out, for the masked ghost
    ``A_k * L_k`` (screened together in 16 bits), and an 8-bit ``|c_k - c_0|`` (SIMD ``blend``)
    folded into ``min_k |c_k - c_0|``, from which one ``lut2`` makes ``g`` (``ramp`` is
    monotonic, so ``min_k A_k = ramp(min_k |c_k - c_0|)``).
    """
    r = bloom.reduction(sigma) if glow else SHADOW_REDUCTION
    src = src.named("src")

    def small(s: Stream) -> Stream:
        if r > 1:
            s = s.filter("scale", w=f"iw/{r}", h=f"ih/{r}", flags="area")
        return s.filter("format", "gbrp")

    layers = len(weights) - 1
    now = small(src).named("small")
    if register is None:  # delays commute with per-frame scaling: shrink once, delay the small copy
        echoes = [timeline.delayed(now, k * spacing, label=f"echo{k}") for k in range(1, layers + 1)]
    else:  # the hook works on full-size frames
        echoes = [small(echo(src, k)) for k in range(1, layers + 1)]
    lo, hi = MOVED
    ramp = f"clip((abs(x-y)-{lo})/{hi - lo},0,1)"  # A_k; lut2's x is c_0, y is c_k (8-bit)
    haze = nearest = None
    for k, e in enumerate(echoes, start=1):
        if glow:  # A_k * clip(exposure * w_k * c_k)
            ghost = f"min({_num(exposure * weights[k])}*y,255)"
        else:  # A_k * S_k, S_k = 255 * clip(w_k * (1 - c_k / (255 * exposure)), 0, 1)
            ghost = f"clip({_num(weights[k])}*(255-y/{_num(exposure)}),0,255)"
        lit = filter([now, e], "lut2", **_planes(f"round(257*{ramp}*{ghost})"), d=16, shortest=1,
                     label=f"ghost{k}")
        haze = lit if haze is None else filter([haze, lit], "blend", all_mode="screen", shortest=1,
                                               label="ghosts")
        apart = filter([now, e], "blend", all_mode="difference", shortest=1, label=f"apart{k}")
        nearest = apart if nearest is None else filter([nearest, apart], "blend", all_mode="darken",
                                                       shortest=1, label="nearest")
    # g * ghosts, g = 1 - ramp(min_k |c_k - c_0|): nothing laid on the subject where it is now
    calm = filter([nearest, nearest], "lut2", **_planes(f"round(65535*(1-clip((x-{lo})/{hi - lo},0,1)))"),
                  d=16, label="calm")
    haze = filter([haze, calm], "blend", all_mode="multiply", shortest=1, label="haze")
    if glow:
        haze = haze.filter("gblur", sigma=sigma / r, steps=2)
        narrow = f"val/{_num(_WIDEN)}"
    else:  # the factor 255 - D multiplies c_0
        narrow = f"(65535-val)/{_num(_WIDEN)}"  # lutrgb's 16-bit maxval is 65280
    haze = haze.filter("lutrgb", **_rgb(narrow)).filter("format", "gbrp", label="haze")
    current = src.filter("format", "gbrp", label="current")
    haze, current = bloom.fit(haze, current, r)
    out = filter([current, haze], "blend", all_mode="screen" if glow else "multiply", shortest=1,
                 label="glowing" if glow else "shaded")
    return out.filter("format", "yuv420p", label="trails")


def _composite(src: Stream, alpha: Stream, weights: list[float],
               echo: Callable[[Stream, int], Stream], behind: bool) -> Stream:
    """Echoes (alpha ``w_k * a_k``) over the current frame, oldest first; ``behind``: c_0 on top."""
    base = src.filter("format", "yuv420p", label="src")
    matte = timeline.regular(alpha).filter("format", "gray", label="matte")
    cutout = filter([base, matte], "alphamerge", label="cutout")
    out = base
    for k in range(len(weights) - 1, 0, -1):
        layer = echo(cutout, k)
        layer = layer.filter("lut", y="val", u="val", v="val", a=f"round(val*{_num(weights[k])})",
                             label=f"ghost{k}")
        out = filter([out, layer], "overlay", format="yuv420", shortest=1, label="echoes")
    if behind:
        out = filter([out, cutout], "overlay", format="yuv420", shortest=1, label="subject")
    return out.filter("format", "yuv420p", label="trails")


# swscale widens 8-bit to 16 as v*256 (+-8) and narrows as round(v/256): luts that see 16-bit
# data from a format conversion scale by 257/256 so that white is 65535 in the 16-bit maths.
_WIDEN = 257 / 256


def _rgb(expr: str) -> dict[str, str]:
    return {"r": expr, "g": expr, "b": expr}


def _planes(expr: str) -> dict[str, str]:
    """``lut2``'s expression for each of gbrp's three planes."""
    return {"c0": expr, "c1": expr, "c2": expr}


def _gain(stream: Stream, w: float, label: str) -> Stream:
    """Every RGB channel times ``w``, rounded and clipped; no filter when ``w`` is 1."""
    return stream if w == 1 else _lut(stream, f"round(val*{_num(w)})", label=label)


def _lut(stream: Stream, expr: str, label: str) -> Stream:
    return stream.filter("lutrgb", **_rgb(expr), label=label)


def _num(x: float) -> str:
    """A weight as short decimal text (9 significant digits)."""
    return decimal(x, 9)


def _check(layers, decay, spacing, intensity, operator, alpha, glow_sigma, exposure) -> None:
    if operator not in OPERATORS:
        raise FfvfxError(f"unknown trails operator {operator!r}: choose one of {', '.join(OPERATORS)}")
    if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
        raise FfvfxError(f"layers must be a whole number of echoes >= 1 (got {layers})")
    if isinstance(spacing, bool) or not isinstance(spacing, int) or spacing < 1:
        raise FfvfxError(f"spacing must be a whole number of frames >= 1 (got {spacing})")
    if not 0 < decay <= 1:
        raise FfvfxError(f"decay must be in (0, 1]: each echo's opacity is decay times the "
                         f"previous one's (got {decay})")
    if not intensity > 0:
        raise FfvfxError(f"intensity must be > 0 (got {intensity})")
    if not glow_sigma > 0 or not exposure > 0:
        raise FfvfxError(f"glow sigma and exposure must be > 0 (got {glow_sigma}, {exposure})")
    if operator in ("behind", "front") and alpha is None:
        raise FfvfxError(f"trails operator {operator!r} needs --alpha FILE (a matte video: "
                         "white where the subject is)")


def trail_mask(mask: Stream, *, layers: int, spacing: int, register: Register | None = None) -> Stream:
    """Where the subject is now or was in any echo: the max of a gray mask and its echoes.

    With it, ``maskedmerge`` keeps trails along the subject's whole path and leaves everything
    else exactly as in the input (a mask of the current position alone would cut them off).
    """
    m = timeline.regular(mask).filter("format", "gray", label="mask")
    out = m
    base = _prepare(register, m) if register is not None else m
    for k in range(1, layers + 1):
        e = timeline.delayed(base, k * spacing, label=f"maskecho{k}")
        if register is not None:
            e = register(e, k)
        out = filter([out, e], "blend", all_mode="lighten", shortest=1, label="trailmask")
    return out


def _prepare(register: Register, stream: Stream) -> Stream:
    """The stream echoes are delayed from: a hook may pad it once for all echoes (``prepare``)."""
    prepare = getattr(register, "prepare", None)
    return prepare(stream) if prepare is not None else stream
