"""Variants of an effect side by side in one graph, each captioned, and contact sheets of frames.

:func:`grid` is what ``--sweep`` renders: the input is split, each branch goes through one
variant of the effect and is converted to yuv420p exactly as a single render of that variant is
(so a tile's pixels are that render's), then a caption band is added *below* the picture
(``pad``) and the variant's settings are written into the band (``drawtext``, one line each); ``xstack`` puts
the tiles into a grid, variant ``i`` at column ``i % columns``, row ``i // columns``. The picture
area of every tile is never drawn on: the text sits inside the band, with a margin above it.

:func:`sheet` is what ``--sheet N`` renders: the frames numbered ``frames`` (counted from the
first frame the effect outputs) picked *after* the effect (so the effect has seen every frame
before each one) and laid out by ``tile`` into one picture.

Captions are user text: they reach ffmpeg only as escaped option values (never a filter, a
label or an option) and drawtext's own ``%{...}`` expansion is off (``expansion=none``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ffvfx.compiler.graph import Stream, filter
from ffvfx.compiler.windows import Effect, Windowed

MAX_TILES = 16
"""Most variants one grid holds."""
MAX_SHEET = 64
"""Most frames one contact sheet holds."""
DEFAULT_TILE = (1280, 720)
"""The tile size captions are laid out for when the input's size is unknown (a printed graph)."""
_ADVANCE = 0.62
"""A character's width in ems, a little over DejaVu Sans Mono's 0.602 (the font ffvfx prefers)."""
_LINE = 1.2
"""The text's line height in ems (ascender + descender of DejaVu: 1.164)."""


Caption = Sequence[str]
"""A tile's caption: its lines, one per swept setting (``delay=8``, ``bloom-sigma=4``)."""


def caption_layout(captions: Sequence[Caption], size: tuple[int, int] | None) -> tuple[int, int]:
    """``(fontsize, band)`` in pixels for captions under tiles of ``size`` (width, height; None:
    :data:`DEFAULT_TILE`): the longest line fits the tile's width where it can, at 8 px to 1/16 of
    the tile's height (at least 8, at most 64); the band holds the most lines any caption has,
    with a margin above and below, and is an even number of rows (4:2:0 chroma stays aligned)."""
    width, height = size or DEFAULT_TILE
    longest = max((len(line) for c in captions for line in c), default=1) or 1
    lines = max((len(c) for c in captions), default=1) or 1
    fits = (width - 8) / (_ADVANCE * longest)
    fontsize = int(max(8, min(64, fits, height / 16)))
    band = 2 * math.ceil((lines * round(_LINE * fontsize) + fontsize * 0.4 + 4) / 2)
    return fontsize, band


def captioned(tile: Stream, caption: Caption, font: str, fontsize: int, band: int) -> Stream:
    """``tile`` with a black band ``band`` rows high below it and the ``caption``'s lines written
    in it (white, ``fontsize`` px, 4 px from the left, one ``drawtext`` a line, the block centred
    in the band's height); the tile's own rows are left as they are."""
    line = round(_LINE * fontsize)
    top = max(1, (band - len(caption) * line) // 2)
    out = tile.filter("pad", w="iw", h=f"ih+{band}", x=0, y=0, color="black")
    for k, text in enumerate(caption):
        out = out.filter("drawtext", fontfile=font, text=text, expansion="none", fontsize=fontsize,
                         fontcolor="white", x=4, y=f"h-{band - top - k * line}", label="tile")
    return out


def layout(count: int, columns: int) -> str:
    """``xstack``'s layout for ``count`` tiles of one size, ``columns`` to a row, row by row:
    ``0_0|w0_0|0_h0|w0_h0`` (positions in the first tile's width and height, so the graph holds
    for any input size)."""
    def offset(k: int, unit: str) -> str:
        return "+".join([unit] * k) if k else "0"
    return "|".join(f"{offset(i % columns, 'w0')}_{offset(i // columns, 'h0')}" for i in range(count))


def tiles(stream: Stream, effects: Sequence[Effect], captions: Sequence[Caption], columns: int, font: str,
          size: tuple[int, int] | None = None) -> Stream:
    """The grid of ``effects`` applied to ``stream`` (see the module), captioned ``captions``,
    ``columns`` to a row; ``size``: the tiles' size, for the captions' layout."""
    if not effects or len(effects) != len(captions):
        raise ValueError("give one caption per variant")
    if len(effects) > MAX_TILES:
        raise ValueError(f"at most {MAX_TILES} variants in one grid")
    fontsize, band = caption_layout(captions, size)
    out = [captioned(effect(stream).filter("format", "yuv420p", label="variant"), text, font, fontsize, band)
           for effect, text in zip(effects, captions, strict=True)]
    if len(out) == 1:
        return out[0]
    return filter(out, "xstack", inputs=len(out), layout=layout(len(out), columns), label="grid")


def grid(effects: Sequence[Effect], captions: Sequence[Caption], columns: int, font: str,
         size: tuple[int, int] | None = None) -> Effect:
    """:func:`tiles` as an effect; a :class:`~ffvfx.compiler.windows.Windowed` one when any
    variant is (its per-frame values are cut to each segment of a ``--jobs`` render)."""
    effects = list(effects)
    if not any(isinstance(e, Windowed) for e in effects):
        return lambda stream: tiles(stream, effects, captions, columns, font, size)

    def build(first: int, frames: int | None) -> Effect:
        cut = [e.window(first, frames) if isinstance(e, Windowed) else e for e in effects]
        return lambda stream: tiles(stream, cut, captions, columns, font, size)
    return Windowed(build)


def sheet_frames(count: int, n: int) -> list[int]:
    """``n`` frame numbers spread evenly over ``count`` frames, first and last included (one
    frame: the middle one): ``round(i * (count - 1) / (n - 1))``."""
    if not 1 <= n <= count:
        raise ValueError(f"cannot pick {n} of {count} frames")
    if n == 1:
        return [(count - 1) // 2]
    return [round(i * (count - 1) / (n - 1)) for i in range(n)]


def sheet_columns(n: int) -> int:
    """Columns of a contact sheet of ``n`` single frames: about square."""
    return math.ceil(math.sqrt(n))


def sheet(stream: Stream, frames: Sequence[int], columns: int) -> Stream:
    """The frames numbered ``frames`` of ``stream`` (0-based, in order) in one picture, ``columns``
    to a row, row by row, as yuv420p (as a render of the stream is); cells left over are black."""
    if not frames or len(frames) > MAX_SHEET:
        raise ValueError(f"a contact sheet holds 1 to {MAX_SHEET} frames")
    columns = max(1, min(columns, len(frames)))
    rows = math.ceil(len(frames) / columns)
    picked = "+".join(f"eq(n,{k})" for k in frames)
    chosen = stream.filter("format", "yuv420p").filter("select", picked, label="picked")
    # no nb_frames: tile leaves the cells past nb_frames unpainted (green in yuv); without it the
    # last row is completed with black when the stream ends, right after the last pick (the
    # range's last frame: :func:`sheet_frames`) or at once when the picks fill the layout
    return chosen.filter("tile", layout=f"{columns}x{rows}", label="sheet")
