"""Numbers as ffmpeg reads them, and the limits ffvfx puts on the numbers it is given.

ffmpeg parses a time (``-ss``, ``-t``, a filter's duration option) with ``av_parse_time``, which
takes ``[-]S+[.m...]`` only: ``1e-05`` is "Invalid duration specification", and Python's ``:g``
or ``str()`` writes small and large floats that way. Every number ffvfx hands to ffmpeg (argv, a
filter option, an expression) is therefore written by :func:`decimal` or :func:`seconds`: plain
fixed-point text that both ffmpeg's time parser and its number/expression parser accept.

The limits are what the command line accepts (:mod:`ffvfx.cli.options`); they keep every value
finite and small enough that nothing downstream overflows, allocates without bound, or hands
ffmpeg a number it cannot parse.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Context, Decimal

from ffvfx.errors import FfvfxError

MAX_SECONDS = 1_000_000.0
"""Longest time accepted (--start, --duration ...), seconds: about 11.5 days; at microsecond
precision it stays well inside a double's exact digits and ffmpeg's 64-bit microsecond times."""
MAX_FRAME = 10_000_000
"""Largest frame number or frame count accepted: 46 hours at 60 fps."""
MAX_FRAMES_BACK = 1000
"""Most frames an effect may reach back (--delay, --delays, --spacing): each is a decoded frame
held in memory (1000 frames of 1080p are 6 GB)."""
MAX_SIGMA = 1024.0
"""Largest blur radius (Gaussian sigma, px): ffmpeg's ``gblur`` limit."""
MAX_JOBS = 256
"""Most ffmpeg processes or files run side by side (--jobs)."""
MAX_SIDE = 4096
"""Largest picture side a generated picture may have, px (``demo --size``)."""

_MICROSECOND = Decimal("0.000001")
_WIDE = Context(prec=400)  # every finite double to the microsecond


def decimal(x: float, significant: int = 10) -> str:
    """``x`` as plain decimal text (``0.00001``, ``1500000``, never ``1e-05``) with ``significant``
    significant digits, for a filter option or an expression; whole numbers have no point.

    Raises ValueError for nan and infinities, which no ffmpeg option takes.
    """
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{x} is not a finite number")
    if x == 0:
        return "0"
    text = format(Decimal(f"{x:.{significant}g}"), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def seconds(t: float) -> str:
    """A time in seconds as ffmpeg's time syntax takes it: fixed-point, rounded to the microsecond
    (ffmpeg's own time unit, far below a frame), no exponent, no trailing zeros (``0.00001``).

    Raises ValueError for nan and infinities.
    """
    t = float(t)
    if not math.isfinite(t):
        raise ValueError(f"{t} s is not a finite time")
    text = format(Decimal(t).quantize(_MICROSECOND, rounding=ROUND_HALF_EVEN, context=_WIDE), "f")
    text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def within(option: str, value: float, lo: float, hi: float, unit: str = "") -> None:
    """Refuse, in one line naming ``option`` and its range, a ``value`` outside ``lo..hi`` (or not
    finite): the library's own check of a setting, for callers that bypass the command line."""
    if not (math.isfinite(value) and lo <= value <= hi):
        raise FfvfxError(f"{option} takes {decimal(lo)}..{decimal(hi)}{' ' + unit if unit else ''}, "
                         f"got {value:g}")


def range_text(lo: float | None, hi: float | None, lo_open: bool = False, hi_open: bool = False) -> str:
    """A range as help and errors write it: ``1..1000``, ``> 0 and <= 1000``, ``>= 0``; empty when
    unbounded (the CLI's option types and the effects' declarations share it)."""
    if lo is not None and hi is not None and not lo_open and not hi_open:
        return f"{decimal(lo)}..{decimal(hi)}"
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {decimal(lo)}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {decimal(hi)}")
    return " and ".join(parts)
