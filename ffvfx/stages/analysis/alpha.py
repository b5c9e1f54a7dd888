"""Is this video the alpha of that one? Same size, frame count and rate, and gray.

An alpha (white = subject) is read frame for frame beside its input, so a matte of another clip,
another length or another rate would pair the wrong frames; each is refused with one line before
any work. A gray matte may come as a gray format (FFV1 ``gray``) or in the luma of a yuv video
with neutral chroma (``ffvfx matte --alpha-codec libx264``), so colour is judged on pixels: a few
frames decoded small as RGB, whose channels must agree.
"""

from __future__ import annotations

import numpy as np

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.probe import VideoInfo, frame_range, probe, side_origin
from ffvfx.ffmpeg.rawvideo import frames
from ffvfx.ffmpeg.toolchain import Toolchain

COLOUR_SPREAD = 12
"""8-bit levels: a pixel whose max-min channel spread is above this is coloured."""

COLOUR_FRACTION = 0.01
"""A matte with more than this fraction of coloured pixels (in the frames looked at) is a colour video."""


def check_alpha(path: str, info: VideoInfo, tools: Toolchain, *, exact_length: bool = True,
                what: str = "alpha", start: float | None = None,
                duration: float | None = None) -> bool:
    """``path`` probed and checked as the alpha of ``info``; raises FfvfxError (one line).

    ``exact_length``: the frame counts must be equal (else the alpha may be longer, never shorter).
    An alpha made for the range ``start``/``duration`` (``ffvfx matte --start/--duration``: one
    frame per frame of the range) is accepted for that range. Returns True for such a ranged
    alpha (its frame 0 is the range's first frame), False for one of the whole input.
    """
    side = probe(path, tools)
    if side.fps and info.fps and abs(float(side.fps) / float(info.fps) - 1) > 1e-3:
        raise FfvfxError(f"{what} {path} runs at {float(side.fps):.3f} fps, the input at "
                         f"{float(info.fps):.3f} fps: an alpha must have the input's frame rate")
    origin = side_fits(path, side, info, what, start, duration, exact_length)
    if not side.pix_fmt.startswith(("gray", "ya", "y8", "y16")) and _coloured(path, side, tools):
        raise FfvfxError(f"{what} {path} is a colour video ({side.pix_fmt} with coloured pixels); "
                         "it should be a gray matte (white = subject), e.g. from ffvfx matte")
    return origin != 0


def side_fits(path: str, side: VideoInfo, info: VideoInfo, what: str, start: float | None,
              duration: float | None, exact_length: bool = False) -> int:
    """The frame of ``info`` that the side file ``path`` (probed as ``side``) starts at (see
    :func:`~ffvfx.ffmpeg.probe.side_origin`), after checking it has the input's size and one frame per
    input frame or per frame of the range; raises FfvfxError (one line). ``exact_length``: a
    whole-input side file may not be longer either."""
    if (side.width, side.height) != (info.width, info.height):
        raise FfvfxError(f"{what} {path} is {side.width}x{side.height}, the input is "
                         f"{info.width}x{info.height}: an alpha must be the input's size")
    origin = side_origin(side, info, start, duration)
    if origin is None or exact_length and origin == 0 and side.frames is not None \
            and info.frames is not None and side.frames != info.frames:
        first, end = frame_range(info, start, duration)
        ranged = f" and the --start/--duration range {end - first}" if start or duration else ""
        raise FfvfxError(f"{what} {path} has {side.frames} frames, the input has {info.frames}"
                         f"{ranged}: an alpha must have one frame per input frame"
                         + (" or per frame of the range" if ranged else ""))
    return origin


def _coloured(path: str, side: VideoInfo, tools: Toolchain, looks: int = 3) -> bool:
    """The first ``looks`` frames, decoded at 64 px wide as RGB, have coloured pixels."""
    w = 64
    h = max(2, round(side.height * w / side.width / 2) * 2)
    spread = [np.ptp(f.astype(np.int16), axis=-1) for f in
              frames(path, tools, (w, h), "rgb24", f"scale={w}:{h}", limit=looks)]
    if not spread:
        return False
    return float(np.mean(np.stack(spread) > COLOUR_SPREAD)) > COLOUR_FRACTION
