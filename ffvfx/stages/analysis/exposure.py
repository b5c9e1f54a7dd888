"""The shot's light, for a generated background to match: exposure curve, light direction, camera height.

All three are read at low resolution (:data:`WIDTH` px wide) from the input and its alpha (gray,
white = subject), frame-accurately through the rawvideo pipe:

- **exposure**: per frame, the mean luma (BT.601, 0..255) of the subject (alpha > 0.5) divided by
  the reference frame's, smoothed by a centred moving average over ``smooth`` frames. Frames with
  no subject hold the last value. A gain of 1.2 means the subject is 20 % brighter than in the
  reference frame, so the background is brightened by the same factor.
- **light direction**: where the luma-weighted centroid of the subject lies against its plain
  centroid in the reference frame; the brighter side faces the light ("lit from the left" when it
  lies left). Within :data:`EVEN` of the subject's size it is "evenly lit". Without a subject the
  whole frame is used.
- **camera height**: for a level camera, things at the camera's height sit on the horizon through
  the frame's centre. The subject's eye line (7 % of its height below its top) above the centre
  means a low camera, below means a high one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.rawvideo import frames
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.stages.analysis.camera import analysis_size

WIDTH = 160
EVEN = 0.04     # centroid shift (fraction of the subject's extent) below which light reads as even
LEVEL = 0.08    # eye line within this fraction of the frame height from the centre: eye level


@dataclass(frozen=True)
class Light:
    gains: list[float]          # per frame, exposure relative to the reference frame
    direction: str              # "left", "right", "above", "below" or "even"
    camera: str                 # "eye-level", "low-angle", "high-angle"
    reference: int              # the reference frame (0-based)

    def words(self) -> str:
        """The prompt words for the light and the camera."""
        lit = "evenly lit" if self.direction == "even" else f"lit from the {self.direction}" \
            if self.direction in ("left", "right") else f"lit from {self.direction}"
        return f"{lit}, {self.camera} shot"


def luma(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def light_direction(y: np.ndarray, weight: np.ndarray | None = None) -> str:
    """Which side of ``y`` (luma, H x W) the light comes from, inside ``weight`` (0..1) if given."""
    h, w = y.shape
    m = np.ones_like(y) if weight is None or weight.sum() < 16 else weight.astype(np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    area = m.sum()
    cx, cy = (xs * m).sum() / area, (ys * m).sum() / area
    lit = m * y
    if lit.sum() <= 0:
        return "even"
    bx, by = (xs * lit).sum() / lit.sum(), (ys * lit).sum() / lit.sum()
    cols, rows = np.nonzero(m.any(axis=0))[0], np.nonzero(m.any(axis=1))[0]
    ex, ey = max(cols[-1] - cols[0] + 1, 1), max(rows[-1] - rows[0] + 1, 1)
    dx, dy = (bx - cx) / ex, (by - cy) / ey
    if max(abs(dx), abs(dy)) < EVEN:
        return "even"
    if abs(dx) >= abs(dy):
        return "left" if dx < 0 else "right"
    return "above" if dy < 0 else "below"


def camera_height(alpha: np.ndarray) -> str:
    """``eye-level``, ``low-angle`` or ``high-angle`` from the subject's eye line (alpha 0..1)."""
    rows = np.nonzero((alpha > 0.5).any(axis=1))[0]
    if len(rows) == 0:
        return "eye-level"
    h = alpha.shape[0]
    eyes = rows[0] + 0.07 * (rows[-1] - rows[0] + 1)
    off = (eyes - h / 2) / h
    if abs(off) <= LEVEL:
        return "eye-level"
    return "low-angle" if off < 0 else "high-angle"


def smooth(values: list[float], window: int) -> list[float]:
    """Centred moving average over ``window`` frames (ends use what exists)."""
    if window <= 1 or len(values) < 2:
        return list(values)
    v = np.asarray(values, np.float64)
    half = window // 2
    c = np.concatenate([[0.0], np.cumsum(v)])
    out = []
    for i in range(len(v)):
        lo, hi = max(0, i - half), min(len(v), i + half + 1)
        out.append(float((c[hi] - c[lo]) / (hi - lo)))
    return out


def analyse(src: str, alpha: str, tools: Toolchain, size: tuple[int, int], *, reference: int = 0,
            window: int = 15, start: float | None = None, duration: float | None = None,
            alpha_ranged: bool = False) -> Light:
    """Exposure gains, light direction and camera height of ``src`` with its ``alpha``.

    ``size``: the input's (w, h); analysis runs at :data:`WIDTH` px wide. ``alpha_ranged``: the
    alpha was made for ``start``/``duration`` (its frame 0 is the range's first), so it is read
    from its start. Raises FfvfxError.
    """
    if window < 1:
        raise FfvfxError(f"--exposure-smooth takes 1 or more frames, got {window}")
    w, h = analysis_size(*size, WIDTH)
    scale = f"scale={w}:{h}:flags=area"
    span = dict(start=start, duration=duration)
    means: list[float | None] = []
    ref_y = ref_a = None
    for k, (rgb, a) in enumerate(zip(frames(src, tools, (w, h), "rgb24", scale, **span),
                                     frames(alpha, tools, (w, h), "gray", scale,
                                            **({} if alpha_ranged else span)),
                                     strict=False)):  # an alpha may run longer
        y, m = luma(rgb), a.astype(np.float32) / 255.0
        inside = m > 0.5
        means.append(float(y[inside].mean()) if inside.sum() >= 4 else None)
        if k == reference:
            ref_y, ref_a = y, m
    if ref_y is None:
        raise FfvfxError(f"--frame {reference}: the input has {len(means)} frames (0-based)")
    ref_mean = means[reference] or float(ref_y.mean()) or 1.0
    gains, last = [], 1.0
    for v in means:
        last = v / ref_mean if v else last
        gains.append(last)
    return Light(smooth(gains, window), light_direction(ref_y, ref_a), camera_height(ref_a),
                 reference)
