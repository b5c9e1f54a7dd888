"""The memory a render's filtergraph holds, estimated and refused past a limit before ffmpeg starts.

ffmpeg's temporal filters keep decoded frames: a ``tpad`` that delays its branch by N frames makes
N frames of the stream it reads wait in front of it, ``tmix`` keeps its last ``frames`` frames,
``loop`` its ``size`` frames. Branches cut from one stream share those frames (``split`` hands
each branch a reference, not a copy), so a stream delayed by 5, 10 and 30 frames holds 30 of its
frames, not 45 (measured with ffmpeg 5.1 and 9: a 640x360 stream delayed 200, 400 and 600 frames
peaks at the memory of one branch delayed 600). The estimate is therefore, over every stream a
temporal filter reads, the most frames any of them holds of it times the bytes of one of its
frames: its size and pixel format at that point of the graph (the ``scale``/``pad``/``crop`` and
``format`` filters between it and its input), the input's where the graph does not say. No
stream holds more frames than the render reads (a 1 s clip delayed by 1000 frames holds 1 s).

``trails --layers 64 --spacing 1000`` holds 64000 frames: 400 GB of 1080p. Such a graph is
refused in one line naming the estimate and the limit: ``--max-memory GIB``, else
``$FFVFX_MAX_MEMORY`` (GiB), else half of this machine's RAM (8 GiB where it cannot be read).
Segments rendered side by side (``--jobs``) each hold the graph's frames, so they count once each.
"""

from __future__ import annotations

import ast
import math
import operator
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from ffvfx.compiler.graph import Filter, Graph, Input, Stream
from ffvfx.errors import FfvfxError

GIB = 2**30
ENV = "FFVFX_MAX_MEMORY"
FALLBACK_LIMIT = 8 * GIB
"""The limit (bytes) where the machine's RAM cannot be read."""

# Frames a filter holds of the stream it reads, from its options.
_HOLDS: dict[str, Callable[[dict], int]] = {
    "tpad": lambda o: int(o.get("start", 0)),
    "tmix": lambda o: int(o.get("frames", 3)),
    "loop": lambda o: int(o.get("size", 0)),
}
# Samples per pixel of pixel formats by name prefix (longest first), 4:2:0 chroma counted as 0.5.
_SAMPLES = (("yuva444", 4), ("yuva422", 3), ("yuva420", 2.5), ("yuvj444", 3), ("yuv444", 3),
            ("yuvj440", 2), ("yuv440", 2), ("yuvj422", 2), ("yuv422", 2), ("yuyv422", 2),
            ("uyvy422", 2), ("nv16", 2), ("yuvj420", 1.5), ("yuv420", 1.5), ("nv12", 1.5),
            ("nv21", 1.5), ("p010", 1.5), ("p016", 1.5), ("yuv411", 1.5), ("yuv410", 1.125),
            ("gbrap", 4), ("gbrp", 3), ("rgba64", 4), ("bgra64", 4), ("rgb48", 3), ("bgr48", 3),
            ("rgb24", 3), ("bgr24", 3), ("ya", 2), ("gray", 1), ("y", 1))
UNKNOWN_BYTES_PER_PIXEL = 4
"""Bytes per pixel assumed where the pixel format is not known (RGBA: as much as any 8-bit one)."""


def bytes_per_pixel(pix_fmt: str | None) -> float:
    """Bytes one pixel of ``pix_fmt`` takes in a decoded frame (``yuv420p``: 1.5, ``gbrp16``: 6)."""
    if not pix_fmt:
        return UNKNOWN_BYTES_PER_PIXEL
    name = pix_fmt.lower()
    samples = next((n for prefix, n in _SAMPLES if name.startswith(prefix)), None)
    if samples is None:  # rgba, bgra, argb, 0rgb ... and anything not listed
        return UNKNOWN_BYTES_PER_PIXEL * (2 if "64" in name else 1)
    if "f32" in name:
        return samples * 4
    deep = re.search(r"(9|10|12|14|16)(le|be)?$", name) or name.startswith(("p01", "rgb48", "bgr48",
                                                                           "rgba64", "bgra64"))
    return samples * (2 if deep else 1)


@dataclass(frozen=True)
class Estimate:
    """What a graph holds: ``frames`` decoded frames in all, ``bytes`` of memory for them."""

    frames: int
    bytes: float

    def text(self) -> str:
        return f"{self.frames} frames (about {gib(self.bytes)} GiB)"


def estimate(graph: Graph, size: tuple[int, int] | None, pix_fmt: str | None,
             frames: int | None = None) -> Estimate:
    """The frames ``graph`` holds and their bytes (module docstring). ``size`` (w, h px) and
    ``pix_fmt``: the main input's frames (None: unknown; a side input's own size is its
    ``Input.size``), for the streams whose size or format the graph does not set. ``frames``:
    how many frames the render reads, when known: no stream holds more than it has."""
    held: dict[Stream, int] = {}
    for f in graph.filters:
        rule = _HOLDS.get(f.name)
        if rule is None or not f.inputs:
            continue
        try:
            count = rule(f.opts)
        except (TypeError, ValueError):
            continue
        if frames is not None:
            count = min(count, frames)
        if count > 0:
            held[f.inputs[0]] = max(held.get(f.inputs[0], 0), count)
    main = graph.inputs[0] if graph.inputs else None
    total = 0.0
    for stream, count in held.items():
        w, h, fmt = _frame(stream, main, size, pix_fmt)
        total += count * w * h * bytes_per_pixel(fmt)
    return Estimate(sum(held.values()), total)


def _frame(stream: Stream, main: Input | None, size: tuple[int, int] | None,
           pix_fmt: str | None) -> tuple[float, float, str | None]:
    """(width, height, pixel format) of ``stream``'s frames, followed from its input through the
    filters that change them (the first input of each filter on the way)."""
    chain: list[Filter] = []
    node = stream.node
    while isinstance(node, Filter) and node.inputs:
        chain.append(node)
        node = node.inputs[0].node
    w, h = (node.size if isinstance(node, Input) and node.size else size) or (1920, 1080)
    fmt = pix_fmt if node is main else None
    for f in reversed(chain):
        if f.name in ("scale", "pad", "crop"):
            w, h = _side(f.opts.get("w", f.args[0] if f.args else None), w, h, w), \
                _side(f.opts.get("h", f.args[1] if len(f.args) > 1 else None), w, h, h)
        elif f.name == "format" and (f.args or f.opts.get("pix_fmts")):
            fmt = str(f.args[0] if f.args else f.opts["pix_fmts"]).split("|")[0]
        elif f.name == "extractplanes":
            fmt = "gray16" if fmt and bytes_per_pixel(fmt) > 4 else "gray"
        elif f.name == "mergeplanes" and "format" in f.opts:
            fmt = str(f.opts["format"])
    return max(w, 1), max(h, 1), fmt


def _side(expr: object, iw: float, ih: float, keep: float) -> float:
    """A ``scale``/``pad``/``crop`` width or height (``640``, ``iw/4``, ``iw+32``) for an input of
    ``iw`` x ``ih``; ``keep`` where it is not a plain arithmetic expression of those."""
    if expr is None:
        return keep
    names = {"iw": iw, "in_w": iw, "ih": ih, "in_h": ih}
    try:
        value = _arithmetic(ast.parse(str(expr), mode="eval").body, names)
    except (SyntaxError, ValueError, ZeroDivisionError, KeyError):
        return keep
    return value if math.isfinite(value) and value > 0 else keep


_FUNCTIONS = {"trunc": math.trunc, "floor": math.floor, "ceil": math.ceil, "round": round}
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv}


def _arithmetic(node: ast.AST, names: dict[str, float]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_arithmetic(node.operand, names)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_arithmetic(node.left, names), _arithmetic(node.right, names))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and len(node.args) == 1 \
            and node.func.id in _FUNCTIONS:
        return float(_FUNCTIONS[node.func.id](_arithmetic(node.args[0], names)))
    raise ValueError("not plain arithmetic")


def limit(given: float | None = None) -> float:
    """The most bytes a render's graph may hold: ``given`` GiB (``--max-memory``), else
    ``$FFVFX_MAX_MEMORY`` GiB, else half of this machine's RAM. One line for a bad variable."""
    if given is not None:
        return given * GIB
    text = os.environ.get(ENV, "").strip()
    if text:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise FfvfxError(f"${ENV}={text!r}: must be a number of GiB > 0")
        return value * GIB
    return default_limit()


def default_limit() -> float:
    """Half of this machine's RAM in bytes (``os.sysconf``), or :data:`FALLBACK_LIMIT`."""
    try:
        ram = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return FALLBACK_LIMIT
    return ram / 2 if ram > 0 else FALLBACK_LIMIT


def check(graph: Graph, size: tuple[int, int] | None, pix_fmt: str | None, given: float | None = None,
          processes: int = 1, frames: int | None = None) -> Estimate:
    """Refuse (FfvfxError, one line) a render whose graph, in ``processes`` ffmpeg processes side
    by side, would hold more than :func:`limit` ``given``; returns the estimate of one process.
    ``frames``: the frames the render reads, when known (see :func:`estimate`)."""
    found = estimate(graph, size, pix_fmt, frames)
    cap = limit(given)
    if found.bytes * processes > cap:
        many = f" in each of {processes} segments side by side (about " \
               f"{gib(found.bytes * processes)} GiB in all; fewer --jobs hold less)" if processes > 1 else ""
        raise FfvfxError(f"the effect's graph would hold {found.text()}{many}, more than the "
                         f"{gib(cap)} GiB limit; use fewer or shorter delays, or raise the limit "
                         f"with --max-memory GIB or ${ENV}")
    return found


def gib(n: float) -> str:
    """Bytes as GiB for a message: ``0.05``, ``12.3``, ``7950.0``."""
    value = n / GIB
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"
