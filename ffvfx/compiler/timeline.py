"""Time plumbing shared by temporal effects: the frame grid, delayed and frozen copies.

The timing model: every stream an effect combines is first put on one grid, in which frame ``n``
has timestamp ``n`` in a time base of exactly one frame (``1/rate``). ``tpad``'s padded frames,
``mix``/``blend``/``maskedmerge``'s pairing by timestamp and ``trim``'s frame counts then all
agree at any rational rate (7, 12.5, 18, 29.75, 119.88 fps ...): a delay of ``d`` frames is
``d`` ticks, never a rounded time. (A fixed fine grid such as 1/120000 s is not enough: at 29.75
fps a frame is 4033.6 ticks, ``tpad`` pads off the grid and ``mix`` emits a frame per distinct
timestamp.)

The grid is made by ``settb=AVTB`` (microseconds, so re-spacing never collides on a coarse input
time base), ``setpts`` re-spacing frame ``N`` to ``N / rate`` (variable-rate input keeps every
frame, evenly spaced), then ``fps`` at that same rate, which sets the one-frame time base and the
link's frame rate that ``tpad`` reads (it maps frames one to one: each is already on its slot).
``rate`` is the input's rate when known (a rendered job: the probed rate, which for variable-rate
input is frames / duration, so the audio stays in sync); a printed graph with no input uses the
stream's own rate (``FRAME_RATE`` / ``source_fps``) and is exact for any constant rate.
"""

from __future__ import annotations

from fractions import Fraction

from ffvfx.compiler.graph import Input, Stream

_SOURCE_PTS = "N/FRAME_RATE/TB"
_SOURCE_FPS = "source_fps"


def regular(stream: Stream, rate: Fraction | None = None) -> Stream:
    """``stream`` on the frame grid: frame n at tick n of a ``1/rate`` time base, every frame kept.

    ``rate`` (frames per second) defaults to the rate the stream's :class:`Input` was given
    (``Input.rate``: a rendered job's probed rate), else the stream's own. An input that knows
    its size (``Input.size``) and is odd-sized is also padded to even by repeating its last
    column/row, as every yuv420p step needs. Idempotent: a stream already on a grid is returned.
    """
    if _on_grid(stream):
        return stream
    node = stream.node
    if isinstance(node, Input):
        rate = rate or node.rate
        if node.size and (node.size[0] % 2 or node.size[1] % 2):
            stream = even(stream, *node.size)
    if rate is None:
        pts, fps = _SOURCE_PTS, _SOURCE_FPS
    else:
        rate = Fraction(rate)
        scale = f"N*{rate.denominator}" if rate.denominator != 1 else "N"
        pts, fps = f"{scale}/({rate.numerator}*TB)", rate_text(rate)
    return (stream.filter("settb", "AVTB").filter("setpts", pts)
            .filter("fps", fps, label="grid"))


def rate_text(rate: Fraction) -> str:
    """A rate as ffmpeg reads it exactly: ``30000/1001``, ``25``."""
    rate = Fraction(rate)
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def even(stream: Stream, width: int, height: int) -> Stream:
    """A ``width`` x ``height`` stream padded to even size, the last column/row repeated (4:4:4
    first: ``pad`` on odd-sized yuv420p rounds down and would lose them)."""
    return (stream.filter("format", "yuv444p")
            .filter("pad", w=width + width % 2, h=height + height % 2)
            .filter("fillborders", right=width % 2, bottom=height % 2, mode="smear", label="even"))


def _on_grid(stream: Stream) -> bool:
    """``stream`` is the output of :func:`regular` (read off the graph, no extra state)."""
    chain = []
    node = stream.node
    for _ in range(3):
        chain.append((getattr(node, "name", ""), getattr(node, "args", None)))
        if not getattr(node, "inputs", None):
            break
        node = node.inputs[0].node
    return len(chain) == 3 and chain[0][0] == "fps" and chain[1][0] == "setpts" \
        and chain[2] == ("settb", ["AVTB"])


def delayed(stream: Stream, frames: int, label: str = "past") -> Stream:
    """The frame ``frames`` frames earlier; the first frames repeat frame 0 (clamped)."""
    return stream.filter("tpad", start=frames, start_mode="clone", label=label)


def frozen(stream: Stream, frame: int, label: str = "ref") -> Stream:
    """Frame number ``frame`` (0-based) repeated for the whole length, on the same time grid."""
    grid = regular(stream)  # one tick a frame: tick N is frame N
    return (grid.filter("trim", start_frame=frame, end_frame=frame + 1)
            .filter("loop", loop=-1, size=1).filter("setpts", "N", label=label))
