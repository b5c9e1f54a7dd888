"""The encode graph of one loop: cut frames ``[start, end)``, optionally crossfade, format.

Frame numbers are 0-based counts of decoded frames (``trim=start_frame/end_frame`` counts frames,
not time, so the cut is frame-exact whatever the container's timestamps); the frames are put on a
regular time grid first (:func:`ffvfx.compiler.timeline.regular`) and the loop starts at time 0.

Crossfade over ``N`` frames keeps the loop ``end - start`` frames long: its last N frames blend
the frames ``end - N .. end - 1`` into the N frames that come just before ``start``
(``start - N .. start - 1``), with the weight of the earlier frames rising (j + 1) / (N + 1) for
j = 0..N-1, so the last frame shown leads into frame ``start`` as frame ``start - 1`` did. It needs
``start >= N`` (the analysis keeps that margin).
"""

from __future__ import annotations

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Stream, filter

FORMATS = ("webm", "mp4", "gif")


def segment(stream: Stream, start: int, end: int, crossfade: int = 0, name: str = "loop") -> Stream:
    """Frames ``[start, end)`` of ``stream`` from time 0, the last ``crossfade`` blended (frames)."""
    if not 0 <= start < end:
        raise ValueError(f"loop frames [{start}, {end}) are empty")
    if crossfade < 0 or crossfade > start or 2 * crossfade > end - start:
        raise ValueError(f"crossfade of {crossfade} frames needs start >= {crossfade} and a loop of "
                         f"at least {2 * crossfade} frames (got [{start}, {end}))")
    grid = timeline.regular(stream)
    if not crossfade:
        return _cut(grid, start, end, name)
    body = _cut(grid, start, end - crossfade, f"{name}_body")
    tail = _cut(grid, end - crossfade, end, f"{name}_tail")
    head = _cut(grid, start - crossfade, start, f"{name}_lead")
    weight = f"N/{crossfade + 1}"  # blend's N counts from 1 (5.1 and 9.0): (j + 1) / (N + 1)
    mixed = filter([tail, head], "blend", all_expr=f"A*(1-{weight})+B*{weight}", shortest=1,
                   label=f"{name}_fade")
    joined = filter([body, mixed], "concat", n=2, v=1, a=0)
    return timeline.regular(joined).named(name)  # concat restarts timestamps: back on the grid


def _cut(stream: Stream, start: int, end: int, label: str) -> Stream:
    return (stream.filter("trim", start_frame=start, end_frame=end)
            .filter("setpts", "PTS-STARTPTS", label=label))


def loop_graph(stream: Stream, start: int, end: int, *, crossfade: int = 0, fmt: str = "webm",
               alpha: Stream | None = None) -> Stream:
    """The whole encode graph of one loop: segment, then the output format.

    ``webm``/``mp4``: yuv420p; with ``alpha`` (a matte, white = opaque, cut the same way) yuva420p
    for VP9 WebM. ``gif``: a palette computed over the loop itself (palettegen + paletteuse).
    """
    if fmt not in FORMATS:
        raise ValueError(f"format: one of {', '.join(FORMATS)} (got {fmt!r})")
    video = segment(stream, start, end, crossfade)
    if alpha is not None:
        if fmt != "webm":
            raise ValueError("a loop keeps an alpha matte only as WebM (VP9 yuva420p)")
        matte = segment(alpha, start, end, crossfade, name="matte").filter("format", "gray")
        return filter([video.filter("format", "yuv420p"), matte], "alphamerge") \
            .filter("format", "yuva420p", label="out")
    if fmt == "gif":
        palette = video.filter("palettegen", stats_mode="full", label="palette")
        return filter([video, palette], "paletteuse", dither="bayer", label="out")
    return video.filter("format", "yuv420p", label="out")
