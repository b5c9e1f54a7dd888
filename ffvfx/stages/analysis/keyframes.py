"""Keyframes for video inpainting: where the masked region has changed enough to paint it anew.

Read at low resolution (:data:`WIDTH` px wide) with the mask (white = the region to change), each
frame is compared with the most recent keyframe, not the previous frame, so slow drift adds up:

    D(f) = colour(f) + MOTION_WEIGHT * motion(f)

``colour``: mean absolute RGB difference (0..255) inside the mask (the union of both frames' masks);
``motion``: mean optical-flow magnitude inside it (px at the analysis width, OpenCV DIS). Frame f is
a keyframe when ``D(f) > (1 + 1/sensitivity) * mean(D) + FLOOR``, the mean over frames 1..f (so a
sudden change stands out against a calm past, while steady motion keeps raising the bar; a higher
sensitivity, more keyframes), or when its group would pass ``max_group`` frames. Frame 0 is always
one. Changes outside the mask never count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.rawvideo import frames
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.stages.analysis.camera import analysis_size

WIDTH = 160
MOTION_WEIGHT = 4.0
FLOOR = 1.5   # 8-bit levels: noise below this is never a change


@dataclass(frozen=True)
class Keyframes:
    keys: list[int]                 # 0-based, ascending, starting at 0
    scores: list[float]             # D(f) per frame
    thresholds: list[float]         # the threshold each frame was held to
    coverage: list[float]           # masked fraction per frame

    def groups(self, count: int) -> list[tuple[int, int]]:
        """(first, last) frame of each group, last inclusive, for a clip of ``count`` frames."""
        ends = self.keys[1:] + [count]
        return [(k, e - 1) for k, e in zip(self.keys, ends, strict=True)]


def flow(a: np.ndarray, b: np.ndarray):
    """Dense DIS optical flow (H x W x 2, px) from gray ``a`` to gray ``b``:
    ``a[y, x] ~ b[y + fy, x + fx]``."""
    import cv2
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(a, b, None)


def difference(rgb_a, rgb_b, mask, gray_a, gray_b) -> float:
    """D between two frames inside ``mask`` (bool)."""
    if not mask.any():
        return 0.0
    colour = float(np.abs(rgb_a.astype(np.int16) - rgb_b.astype(np.int16))[mask].mean())
    motion = float(np.linalg.norm(flow(gray_a, gray_b)[mask], axis=1).mean())
    return colour + MOTION_WEIGHT * motion


def detect(src: str, mask: str, tools: Toolchain, size: tuple[int, int], *, sensitivity: float = 1.0,
           max_group: int = 48, start: float | None = None, duration: float | None = None,
           mask_span: dict | None = None) -> Keyframes:
    """Keyframes of ``src`` under ``mask`` (a gray video of the same size and length); the mask is
    read over the same ``start``/``duration`` unless ``mask_span`` says otherwise."""
    import cv2
    if sensitivity <= 0:
        raise FfvfxError(f"--sensitivity takes a positive number, got {sensitivity:g}")
    if max_group < 1:
        raise FfvfxError(f"--max-group takes 1 or more frames, got {max_group}")
    w, h = analysis_size(*size, WIDTH)
    vf = f"scale={w}:{h}:flags=area"
    span = dict(start=start, duration=duration)
    keys, scores, thresholds, coverage = [], [], [], []
    key_rgb = key_gray = key_mask = None
    total = 0.0
    for f, (rgb, m) in enumerate(zip(frames(src, tools, (w, h), "rgb24", vf, **span),
                                     frames(mask, tools, (w, h), "gray", vf,
                                            **(span if mask_span is None else mask_span)),
                                     strict=False)):  # a mask may run longer
        inside = m > 127
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        coverage.append(float(inside.mean()))
        if key_rgb is None:
            d, limit, is_key = 0.0, 0.0, True
        else:
            d = difference(key_rgb, rgb, inside | key_mask, key_gray, gray)
            total += d
            limit = (1 + 1 / sensitivity) * total / f + FLOOR  # the mean includes this frame
            is_key = d > limit or f - keys[-1] >= max_group
        scores.append(d)
        thresholds.append(limit)
        if is_key:
            keys.append(f)
            key_rgb, key_gray, key_mask = rgb, gray, inside
    if not keys:
        raise FfvfxError(f"{src}: no video frames")
    return Keyframes(keys, scores, thresholds, coverage)


def parse_keys(text: str, count: int | None) -> list[int]:
    """``--keyframes 0,24,60``: sorted, unique, 0 added, each inside the clip."""
    try:
        keys = sorted({int(x) for x in text.split(",") if x.strip()} | {0})
    except ValueError:
        raise FfvfxError(f"--keyframes takes frame numbers like 0,24,60 (got {text!r})") from None
    if keys[0] < 0 or count is not None and keys[-1] >= count:
        raise FfvfxError(f"--keyframes {text}: frames are 0..{count - 1 if count else '?'}")
    return keys
