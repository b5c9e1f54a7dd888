"""The command line's number options: finite, inside a range, refused in one line before any work.

Every numeric option of every ``ffvfx`` command takes one of these types, so ``nan``, ``inf``,
``1e308`` or a 30-digit count never reach the code that would overflow on them, allocate for
them, or hand them to ffmpeg. A refusal reads ``--duration: must be a finite number of seconds
> 0 and <= 1000000 (got inf)`` (``ffvfx: error:`` in front, from :func:`ffvfx.cli.run_cli`).

- :class:`Number`: an int or a float with a minimum and a maximum, each closed or open;
- :class:`Length`: a length in seconds (``2s``, ``1.5s``) or frames (``45``), as :class:`Span`;
- :class:`Numbers`: a comma list of :class:`Number` (``1,8,32``), as a tuple;
- :class:`Size`: ``WIDTHxHEIGHT`` in pixels.

Limits shared by several options are in :mod:`ffvfx.compiler.numbers`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import click

from ffvfx.compiler.numbers import (
    MAX_FRAME,
    MAX_FRAMES_BACK,
    MAX_JOBS,
    MAX_SECONDS,
    MAX_SIDE,
    MAX_SIGMA,
    decimal,
    range_text,
)


class Refused(click.BadParameter):
    """A value outside what its option takes: ``--NAME: must be ... (got VALUE)``."""

    def format_message(self) -> str:
        return f"{option_name(self.param)}: {self.message}" if self.param is not None else self.message


def option_name(param: click.Parameter) -> str:
    """The name a message uses for ``param``: its first long option (``--jobs`` for -j/--jobs)."""
    opts = getattr(param, "opts", None) or []
    return next((o for o in opts if o.startswith("--")), opts[0] if opts else param.human_readable_name)


def _shown(value: object) -> str:
    """The value as typed, for ``(got ...)``: quoted when empty or blank, cut after 40 characters."""
    text = str(value)
    return text if text.strip() and len(text) <= 40 else repr(text[:40] + ("..." if len(text) > 40 else ""))


class Number(click.ParamType):
    """A finite number (``kind`` int or float) between ``min`` and ``max``; ``min_open`` or
    ``max_open`` leave that end out (``> 0`` rather than ``>= 0``). ``unit`` names what it counts
    (``seconds``, ``frames``, ``pixels``) in the message and the help's metavar. Ints are written as
    whole numbers (``8``, not ``8.0`` nor ``1e3``)."""

    def __init__(self, kind: type = float, min: float | None = None, max: float | None = None, *,
                 min_open: bool = False, max_open: bool = False, unit: str | None = None):
        if kind not in (int, float):
            raise TypeError("Number takes int or float")
        self.kind, self.min, self.max = kind, min, max
        self.min_open, self.max_open, self.unit = min_open, max_open, unit
        self.name = unit or ("integer" if kind is int else "float")

    def describe(self) -> str:
        """``a finite number of seconds > 0 and <= 1000000``, ``a whole number of frames 1..1000``."""
        noun = "a whole number" if self.kind is int else "a finite number"
        return f"{noun}{f' of {self.unit}' if self.unit else ''} {self.range_text()}".rstrip()

    def range_text(self) -> str:
        return range_text(self.min, self.max, self.min_open, self.max_open)

    def check(self, value: object) -> int | float:
        """``value`` (text or a number) as this type's number; ValueError saying what it takes."""
        fail = ValueError(f"must be {self.describe()} (got {_shown(value)})")
        if isinstance(value, bool):
            raise fail
        if isinstance(value, str):
            text = value.strip()
            try:
                number = int(text) if self.kind is int else float(text)
            except ValueError:
                raise fail from None  # also a whole number of over 4300 digits: out of range anyway
        elif isinstance(value, (int, float)):
            number = value
            if self.kind is int and (isinstance(value, float) and not value.is_integer()):
                raise fail
        else:
            raise fail
        if isinstance(number, float) and not math.isfinite(number):
            raise fail
        if self.min is not None and (number <= self.min if self.min_open else number < self.min):
            raise fail
        if self.max is not None and (number >= self.max if self.max_open else number > self.max):
            raise fail
        return self.kind(number)

    def convert(self, value, param, ctx):
        try:
            return self.check(value)
        except ValueError as exc:
            raise Refused(str(exc), ctx, param) from None

    def __repr__(self) -> str:
        return f"Number({self.kind.__name__}, {self.describe()!r})"


@dataclass(frozen=True)
class Span:
    """A length as given: ``amount`` seconds (``in_seconds``) or ``amount`` frames."""

    amount: float
    in_seconds: bool

    def frames(self, fps: float) -> int:
        """The length in frames at ``fps`` (seconds rounded to the nearest frame)."""
        return round(self.amount * float(fps)) if self.in_seconds else int(self.amount)

    def __str__(self) -> str:
        return f"{decimal(self.amount)}s" if self.in_seconds else str(int(self.amount))


class Length(click.ParamType):
    """A length as seconds with an ``s`` (``2s``, ``1.5s``: > 0 and <= ``max_seconds``) or whole
    frames (``45``: 1..``max_frames``), as a :class:`Span`; turned into frames once the input's
    rate is known (:meth:`Span.frames`)."""

    name = "length"

    def __init__(self, max_seconds: float = MAX_SECONDS, max_frames: int = MAX_FRAME):
        self.in_seconds = Number(float, 0, max_seconds, min_open=True)
        self.in_frames = Number(int, 1, max_frames)

    def convert(self, value, param, ctx):
        if isinstance(value, Span):
            return value
        text = str(value).strip()
        try:
            if text.lower().endswith("s"):
                return Span(self.in_seconds.check(text[:-1]), True)
            return Span(self.in_frames.check(text), False)
        except ValueError:
            raise Refused(f"must be seconds like 2s or 1.5s ({self.in_seconds.range_text()}) or "
                          f"whole frames like 45 ({self.in_frames.range_text()}) (got {_shown(value)})",
                          ctx, param) from None


class Numbers(click.ParamType):
    """Comma-separated numbers, each a ``item`` (:class:`Number`), as a tuple: exactly ``count``
    of them, or 1..``max_count``. ``example`` shows the form in the message (``1,8,32``)."""

    def __init__(self, item: Number, count: int | None = None, *, max_count: int = 1000,
                 example: str = "1,2"):
        self.item, self.count, self.max_count, self.example = item, count, max_count, example
        self.name = "list"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value)
        many = f"{self.count}" if self.count else f"1..{self.max_count}"
        what = (f"must be {many} comma-separated numbers, each {self.item.describe()}, like "
                f"{self.example} (got {_shown(value)})")
        parts = text.split(",")
        if self.count is None and len(parts) > self.max_count \
                or self.count is not None and len(parts) != self.count:
            raise Refused(what, ctx, param)
        try:
            return tuple(self.item.check(p) for p in parts)
        except ValueError:
            raise Refused(what, ctx, param) from None


class Size(click.ParamType):
    """``WIDTHxHEIGHT`` in whole pixels, each 1..``max_side``; kept as the text ``WxH``."""

    name = "WxH"

    def __init__(self, max_side: int = MAX_SIDE):
        self.side = Number(int, 1, max_side, unit="pixels")

    def convert(self, value, param, ctx):
        text = str(value).strip().lower()
        m = re.fullmatch(r"(\d+)x(\d+)", text)
        try:
            if m is None:
                raise ValueError
            w, h = (self.side.check(g) for g in m.groups())
        except ValueError:
            raise Refused(f"must be WIDTHxHEIGHT, each {self.side.describe()}, like 1280x720 "
                          f"(got {_shown(value)})", ctx, param) from None
        return f"{w}x{h}"


# The types several commands share.
START = Number(float, 0, MAX_SECONDS, unit="seconds")
"""--start: seconds into the input, 0 or more."""
DURATION = Number(float, 0, MAX_SECONDS, min_open=True, unit="seconds")
"""--duration: seconds, more than 0 (0 would be the whole clip, which is no option at all)."""
FRACTION = Number(float, 0, 1)
"""A weight, threshold or distance 0..1."""
FRAME = Number(int, 0, MAX_FRAME, unit="frames")
"""A frame number (0-based) or a count of frames that may be 0."""
FRAMES_BACK = Number(int, 1, MAX_FRAMES_BACK, unit="frames")
"""Frames an effect reaches back (a delay, an echo spacing)."""
SIGMA = Number(float, 0, MAX_SIGMA, min_open=True, unit="pixels")
"""A blur radius (Gaussian sigma), px."""
FEATHER = Number(float, 0, 100, unit="pixels")
"""An edge softening (Gaussian sigma), px: what ffvfx.effects.refine and composite take."""
CRF = Number(float, 0, 63)
"""--crf: x264/x265 take 0..51, VP9 0..63."""
QP = Number(int, 0, 69)
"""--qp: x264 takes 0..51 at 8 bits, up to 69 at 10 bits; hardware encoders 0..51."""
JOBS = Number(int, 1, MAX_JOBS)
"""--jobs: processes side by side."""
SEED = Number(int, 0, 2**32 - 1)
"""A random seed: what every generator (numpy, torch) takes."""
STEPS = Number(int, 1, 1000)
"""Diffusion steps."""
GUIDANCE = Number(float, 0, 100)
"""Classifier-free guidance scale (typical 5..12)."""
GAIN = Number(float, 0, 1000, min_open=True)
"""A multiplier more than 0."""
