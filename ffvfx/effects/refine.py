"""Matte clean-up as an ffmpeg graph: threshold, erode/dilate, temporal smoothing, feather.

Runs on a gray alpha stream (white = subject) in the matte encoder, so ``ffvfx matte --print``
shows exactly what was applied and a user can tune it on an existing alpha with plain ffmpeg.
Order: threshold -> erode -> dilate -> smooth -> feather (shrink before growing removes specks;
the blur comes last so the edge it softens is the final one).
"""

from __future__ import annotations

from dataclasses import dataclass

from ffvfx.compiler.graph import Stream
from ffvfx.compiler.params import Param
from ffvfx.errors import FfvfxError

PARAMS = (
    Param("threshold", float, lo=0, hi=1, help="Clean-up: hard matte at this alpha (0..1)."),
    Param("erode", int, 0, unit="pixels", lo=0, hi=64, help="Clean-up: shrink (px)."),
    Param("dilate", int, 0, unit="pixels", lo=0, hi=64, help="Clean-up: grow (px)."),
    Param("smooth", int, 1, unit="frames", lo=1, hi=31, help="Clean-up: centred average (frames)."),
    Param("feather", float, 0.0, unit="pixels", lo=0, hi=100, help="Clean-up: soft edge (px)."),
)
"""What ``ffvfx matte`` takes for the clean-up: the fields of :class:`Refine`."""


@dataclass(frozen=True)
class Refine:
    """Clean-up settings; the defaults change nothing."""

    threshold: float | None = None  # 0..1: alpha at or above it becomes 1, below it 0
    erode: int = 0                  # px shrunk (3x3 erosion, repeated)
    dilate: int = 0                 # px grown (3x3 dilation, repeated)
    smooth: int = 1                 # frames averaged, centred (1: off; odd counts stay centred)
    feather: float = 0.0            # px, Gaussian sigma of the soft edge

    def __post_init__(self) -> None:
        if self.threshold is not None and not 0 <= self.threshold <= 1:
            raise FfvfxError(f"--threshold takes 0..1 of full alpha, got {self.threshold:g}")
        for name in ("erode", "dilate"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= 64:
                raise FfvfxError(f"--{name} takes whole pixels 0..64, got {value!r}")
        if not isinstance(self.smooth, int) or not 1 <= self.smooth <= 31:
            raise FfvfxError(f"--smooth takes 1..31 frames, got {self.smooth!r}")
        if not 0 <= self.feather <= 100:
            raise FfvfxError(f"--feather takes 0..100 px, got {self.feather:g}")

    @property
    def empty(self) -> bool:
        return self == Refine()


def refine(alpha: Stream, settings: Refine) -> Stream:
    """``alpha`` cleaned as ``settings`` say; gray in, gray out, same size and frame count."""
    s = alpha.filter("format", "gray")
    if settings.threshold is not None:
        level = round(settings.threshold * 255)
        s = s.filter("lut", c0=f"if(gte(val,{level}),255,0)", label="hard")
    for _ in range(settings.erode):
        s = s.filter("erosion")
    for _ in range(settings.dilate):
        s = s.filter("dilation")
    if settings.smooth > 1:
        # tmix averages the past only (repeating the first frame before the start): pad the end
        # with clones, average, drop the first k, so frame i is the mean of i-k..i+k with the ends
        # clamped, and the frame count is kept.
        k = settings.smooth // 2
        s = (s.filter("tpad", stop=k, stop_mode="clone")
             .filter("tmix", frames=settings.smooth)
             .filter("trim", start_frame=k).filter("setpts", "PTS-STARTPTS", label="steady"))
    if settings.feather > 0:
        s = s.filter("gblur", sigma=settings.feather, label="feathered")
    return s
