"""Motion extraction (Posy): each frame against a delayed copy of itself, so only change shows.

Per RGB channel, with ``c`` the current frame and ``p`` the frame ``delay`` frames earlier:

- ``gray``  ``0.5*c + 0.5*(255 - p)``: invert, half opacity, offset; still areas are 127.5 gray.
  Computed in 8-bit yuv, where it is exact (negate + average are affine).
- ``black`` ``|c - p| * strength``: movement on black.
- ``matte`` ``c * clip(|c - p| * strength / 255)``: moving parts keep their colour.
- ``glow``  ``c + gblur(|c - p|) * strength``: the scene with its motion glowing.
- ``rgb``   R, G and B each in ``gray`` form against their own delay ("chromatic time").

The last four need planar RGB (done in yuv they turn green). ``freeze`` compares with one fixed
frame instead (long exposure). ``bloom`` adds ``gblur(|c - p|) * bloom`` on top of any mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Stream, filter, filter_multi
from ffvfx.compiler.numbers import MAX_FRAME, MAX_FRAMES_BACK, MAX_SIGMA, decimal
from ffvfx.compiler.params import Param, defaults
from ffvfx.effects import bloom as bloom_layer
from ffvfx.errors import FfvfxError

MODES = ("gray", "black", "matte", "glow", "rgb")

PARAMS = (
    Param("mode", str, "gray", choices=MODES,
          help="gray: Posy's invert+offset; black: |c-p|; matte; glow; rgb: three delays."),
    Param("delay", int, 8, unit="frames", lo=1, hi=MAX_FRAMES_BACK, help="Frames between c and p."),
    Param("delay_s", float, unit="seconds", lo=0, lo_open=True, hi=MAX_FRAMES_BACK, effect=False,
          help="The delay in seconds instead (needs an input)."),
    Param("delays", int, (1, 8, 32), unit="frames", lo=1, hi=MAX_FRAMES_BACK, count=3, example="1,8,32",
          help="rgb mode: R,G,B delays (frames)."),
    Param("strength", float, 1.0, lo=0, lo_open=True, hi=1000, help="Amplify the difference."),
    Param("freeze", int, unit="frames", lo=0, hi=MAX_FRAME,
          help="Compare every frame with this one frame (0-based)."),
    Param("bloom", bool, False, effect=False, help="Add a soft glow of the motion on top."),
    Param("bloom_sigma", float, 8.0, unit="pixels", lo=0, lo_open=True, hi=MAX_SIGMA,
          help="Glow radius (px)."),
    Param("bloom_strength", float, 1.0, lo=0, hi=1000, effect=False, help="Glow gain."),
)
"""What ``ffvfx motion`` takes: ``delay_s`` becomes ``delay`` once the rate is known, and the
``bloom`` flag with ``bloom_strength`` become :func:`motion`'s ``bloom`` (see :func:`keywords`)."""


def keywords(values: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`motion`'s keywords for ``values`` named as in :data:`PARAMS` (unset ones at their
    default). ``delay_s`` is the caller's to turn into ``delay`` frames: only it knows the rate."""
    v = {**defaults(PARAMS), **values}
    if v["delay_s"] is not None:
        raise ValueError("delay_s: give the delay in frames (delay); the rate turns seconds into frames")
    return dict(mode=v["mode"], delay=v["delay"], strength=v["strength"], delays=list(v["delays"]),
                freeze=v["freeze"], bloom=v["bloom_strength"] if v["bloom"] else 0.0,
                bloom_sigma=v["bloom_sigma"])


def motion(stream: Stream, *, mode: str = "gray", delay: int = 8, strength: float = 1.0,
           delays: Sequence[int] = (1, 8, 32), freeze: int | None = None, bloom: float = 0.0,
           bloom_sigma: float = 8.0) -> Stream:
    """The motion picture of ``stream``. ``delay``/``delays``/``freeze`` in frames, sigma in pixels."""
    _check(mode, delay, strength, delays, freeze, bloom, bloom_sigma)
    src = timeline.regular(stream)
    if mode == "gray":
        src = src.filter("format", "yuv420p", label="src")
    else:
        src = src.filter("format", "gbrp", label="src")

    if freeze is not None:
        def reference(s: Stream) -> Stream:
            return timeline.frozen(s, freeze)
    elif mode == "rgb":
        def reference(s: Stream) -> Stream:
            return _chromatic_past(s, delays)
    else:
        def reference(s: Stream) -> Stream:
            return timeline.delayed(s, delay)

    if mode in ("gray", "rgb"):
        out = _gray(src, reference(src), strength, yuv=mode == "gray")
    elif mode == "glow":  # the scene plus its glow; a bloom on top is the same layer again
        out = bloom_layer.add_bloom(src, src, reference, bloom_sigma, strength + bloom, rgb=True)
        return _yuv(out)
    else:
        diff = bloom_layer.gain(bloom_layer.difference(src, reference(src)), strength, label="diff")
        out = diff if mode == "black" else filter([src, diff], "blend", all_mode="multiply")
    if bloom:
        out = bloom_layer.add_bloom(out, src, reference, bloom_sigma, bloom, rgb=mode != "gray")
    return out.named("motion") if mode == "gray" else _yuv(out)


def _yuv(picture: Stream) -> Stream:
    """End planar-RGB modes in yuv420p: pasted into ``ffmpeg -vf`` they must not give 4:4:4 H.264."""
    return picture.filter("format", "yuv420p", label="motion")


def _gray(current: Stream, past: Stream, strength: float, yuv: bool) -> Stream:
    """``127.5 + strength * (c - p) / 2``: average of the current and the inverted past frame."""
    if yuv:
        # RGB negation in limited-range yuv is Y' = 235 + 16 - Y, U' = 240 + 16 - U (not 255 - x);
        # written out rather than as negval, which clips to 16..235 first and breaks the cancellation.
        inverse = past.filter("lutyuv", y="251-val", u="256-val", v="256-val", label="inverse")
    else:
        inverse = past.filter("negate", label="inverse")
    out = filter([current, inverse], "blend", all_mode="average", shortest=1, label="motion")
    if strength != 1:
        s = decimal(strength, 6)
        if yuv:
            out = out.filter("lutyuv", y=f"125.5+(val-125.5)*{s}", u=f"128+(val-128)*{s}",
                             v=f"128+(val-128)*{s}")
        else:
            expr = f"127.5+(val-127.5)*{s}"
            out = out.filter("lutrgb", r=expr, g=expr, b=expr)
    return out


def _chromatic_past(stream: Stream, delays: Sequence[int]) -> Stream:
    """One gbrp frame whose R, G, B planes come from ``delays[0]``, ``[1]``, ``[2]`` frames ago."""
    red, green, blue = (timeline.delayed(stream, d, label=f"past{d}") for d in delays)
    # gbrp planes are G, B, R. mapping 0xAaBbCc: output plane i <- input (A, B, C), plane (a, b, c);
    # a 3-plane format reads only the low three bytes.
    return filter_multi([red, green, blue], "mergeplanes", 1, mapping="0x102102",
                        format="gbrp", labels=["past"])[0]


def _check(mode, delay, strength, delays, freeze, bloom, bloom_sigma) -> None:
    if mode not in MODES:
        raise FfvfxError(f"unknown motion mode {mode!r}: choose one of {', '.join(MODES)}")
    if not isinstance(delay, int) or delay < 1:
        raise FfvfxError(f"delay must be a whole number of frames >= 1 (got {delay})")
    if len(delays) != 3 or any(not isinstance(d, int) or d < 1 for d in delays):
        raise FfvfxError(f"delays must be three whole numbers of frames >= 1 (got {list(delays)})")
    if freeze is not None and (freeze < 0 or mode == "rgb"):
        raise FfvfxError("freeze takes a frame number >= 0 and does not combine with mode rgb")
    if strength <= 0 or bloom < 0 or bloom_sigma <= 0:
        raise FfvfxError("strength and bloom-sigma must be > 0, bloom >= 0")
