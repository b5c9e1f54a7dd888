"""Side-by-side comparison: the input and one or more mattes in a labelled grid (``xstack``).

Tiles are the input's size scaled by ``scale`` (rounded to even px); a grid of ``cols`` columns,
as square as the tile count allows, unused cells black. Labels are ``drawtext`` (a user's model
name is escaped like every value, so it can never add a filter); without drawtext in the
installed ffmpeg the tiles go unlabelled.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Stream, filter


def compare(picture: Stream, mattes: Sequence[tuple[str, Stream]], *, size: tuple[int, int],
            scale: float = 0.5, labels: bool = True) -> Stream:
    """``picture`` then each (name, gray matte) as tiles of one yuv420p frame, labelled by name."""
    tw, th = (max(2, int(round(v * scale / 2)) * 2) for v in size)
    tiles = [("input", picture)] + list(mattes)
    cols = math.ceil(math.sqrt(len(tiles)))
    out = []
    for k, (name, s) in enumerate(tiles):
        tile = timeline.regular(s).filter("format", "yuv420p").filter(
            "scale", w=tw, h=th, flags="area")
        if labels:
            tile = tile.filter("drawtext", text=name, x=8, y=8, fontsize=max(12, th // 14),
                               fontcolor="white", box=1, boxcolor="black@0.6", boxborderw=4)
        out.append(tile.named(f"tile{k + 1}" if k else "picture"))
    layout = "|".join(f"{(k % cols) * tw}_{(k // cols) * th}" for k in range(len(tiles)))
    if len(tiles) == 1:
        return out[0]
    return filter(out, "xstack", inputs=len(tiles), layout=layout, fill="black", shortest=1,
                  label="grid")
