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
- ``glow``    ``screen(c_0, G)`` with ``G = gblur_sigma(screen_{k>=1} clip(exposure * w_k c_k))``:
  over-exposed echoes screened together, softly bloomed, screened over the current frame
  (bright trails). The echoes and the blur run at 1/2 or 1/4 size like :mod:`bloom` (area
  down, bilinear up), so ``G`` is the full-size definition up to that approximation.
- ``shadow``  ``c_0 * prod_{k>=1} (1 - w_k (1 - c_k/(255 * exposure)))``: each echo
  under-exposed (divided by ``exposure``) and multiply-blended at opacity ``w_k`` (dark trails).
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
add/max/min/screen/shadow, the input's format for glow; front/behind: yuva420p with the echo's
alpha merged) and must return the same size, format and frame timing.
"""

from __future__ import annotations

from collections.abc import Callable

from ffvfx.effects import bloom, timeline
from ffvfx.errors import FfvfxError
from ffvfx.graph import Stream, filter

OPERATORS = ("normal", "blend", "add", "max", "min", "screen", "glow", "shadow", "behind", "front")
GHOSTS = ("glow", "shadow", "normal")  # the ``--ghost`` names of the original script

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
    if operator == "glow":
        return _glow(src, weights, echo, register, spacing, glow_sigma, exposure)

    # blend chains truncate at every 8-bit step (screen up, multiply down): run them in 16 bits
    deep = operator in ("screen", "shadow")
    src = src.filter("format", "gbrp16" if deep else "gbrp", label="src")
    if operator == "add":
        inputs = [src] + [echo(src, k) for k in range(1, layers + 1)]
        out = filter(inputs, "mix", inputs=len(inputs), weights=[_num(w) for w in weights],
                     scale=1, duration="first", label="sum")
    elif operator == "shadow":  # multiply by 255 - w_k * (255 - c_k / exposure)
        out = src
        for k in range(1, layers + 1):
            under = f"val*{_num(_WIDEN / exposure)}"
            dark = _lut(echo(src, k), f"round(maxval-{_num(weights[k])}*(maxval-{under}))",
                        label=f"dark{k}")
            out = filter([out, dark], "blend", all_mode="multiply", shortest=1, label="shade")
    else:
        mode = {"max": "lighten", "min": "darken", "screen": "screen"}[operator]
        out = _gain(src, weights[0], "layer0")
        for k in range(1, layers + 1):
            out = filter([out, _gain(echo(src, k), weights[k], f"layer{k}")], "blend",
                         all_mode=mode, shortest=1, label=operator)
    if deep:  # swscale dithers 16-bit to yuv420p directly (+-3 levels on flat areas); gbrp rounds
        out = out.filter("format", "gbrp")
    return out.filter("format", "yuv420p", label="trails")


def _glow(src: Stream, weights: list[float], echo: Callable[[Stream, int], Stream],
          register: Register | None, spacing: int, sigma: float, exposure: float) -> Stream:
    """``screen(c_0, gblur(screen_k clip(exposure * w_k * c_k)))`` at 1/r size, scaled back up."""
    r = bloom.reduction(sigma)
    src = src.named("src")

    def small(s: Stream) -> Stream:
        if r > 1:
            s = s.filter("scale", w=f"iw/{r}", h=f"ih/{r}", flags="area")
        return s.filter("format", "gbrp16")

    layers = len(weights) - 1
    if register is None:  # delays commute with per-frame scaling: shrink once, delay the small copy
        reduced = small(src).named("small")
        echoes = [timeline.delayed(reduced, k * spacing, label=f"echo{k}")
                  for k in range(1, layers + 1)]
    else:  # the hook works on full-size frames
        echoes = [small(echo(src, k)) for k in range(1, layers + 1)]
    haze = None
    for k, e in enumerate(echoes, start=1):
        lit = _gain(e, exposure * weights[k] * _WIDEN, f"lit{k}")
        haze = lit if haze is None else filter([haze, lit], "blend", all_mode="screen",
                                               shortest=1, label="haze")
    haze = (haze.filter("gblur", sigma=sigma / r, steps=2).filter("lutrgb", **_rgb(f"val/{_num(_WIDEN)}"))
            .filter("format", "gbrp", label="haze"))
    current = src.filter("format", "gbrp", label="current")
    haze, current = bloom.fit(haze, current, r)
    out = filter([current, haze], "blend", all_mode="screen", shortest=1, label="glowing")
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


def _gain(stream: Stream, w: float, label: str) -> Stream:
    """Every RGB channel times ``w``, rounded and clipped; no filter when ``w`` is 1."""
    return stream if w == 1 else _lut(stream, f"round(val*{_num(w)})", label=label)


def _lut(stream: Stream, expr: str, label: str) -> Stream:
    return stream.filter("lutrgb", **_rgb(expr), label=label)


def _num(x: float) -> str:
    """A weight as short decimal text (9 significant digits)."""
    return f"{x:.9g}"


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
