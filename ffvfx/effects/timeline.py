"""Time plumbing shared by temporal effects: regular timestamps, delayed and frozen copies.

ffmpeg's ``blend``/``mix``/``mergeplanes`` pair frames by timestamp, so a delayed copy only lines
up with the current frame when timestamps lie on an exact grid. Containers that round frame times
(Matroska's 1 ms) or variable-rate input break that; :func:`regular` puts frames on a grid first.
"""

from __future__ import annotations

from ffvfx.graph import Stream

# 1/120000 s divides the frame duration of 12.5, 15, 24, 25, 30, 50, 60, 120 fps and the NTSC
# rates (24000/1001, 30000/1001, 60000/1001) exactly, so delayed copies keep integer timestamps.
GRID_TIMEBASE = "1/120000"
_GRID_PTS = "round(N/FRAME_RATE/TB)"


def regular(stream: Stream) -> Stream:
    """Frame n at time n/frame_rate exactly (frame count kept, rounding and VFR jitter removed).

    Idempotent: a stream already put on the grid here is returned as it is.
    """
    if _on_grid(stream):
        return stream
    return stream.filter("settb", GRID_TIMEBASE).filter("setpts", _GRID_PTS)


def _on_grid(stream: Stream) -> bool:
    """``stream`` is the output of :func:`regular` (read off the graph, no extra state)."""
    node = stream.node
    return (getattr(node, "name", "") == "setpts" and getattr(node, "args", None) == [_GRID_PTS]
            and getattr(node.inputs[0].node, "args", None) == [GRID_TIMEBASE])


def delayed(stream: Stream, frames: int, label: str = "past") -> Stream:
    """The frame ``frames`` frames earlier; the first frames repeat frame 0 (clamped)."""
    return stream.filter("tpad", start=frames, start_mode="clone", label=label)


def frozen(stream: Stream, frame: int, label: str = "ref") -> Stream:
    """Frame number ``frame`` (0-based) repeated for the whole length, on the same time grid."""
    return (stream.filter("trim", start_frame=frame, end_frame=frame + 1)
            .filter("loop", loop=-1, size=1)
            .filter("setpts", _GRID_PTS, label=label))
