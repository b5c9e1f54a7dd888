"""Carrying a keyframe's painted region to the other frames of its group.

``hold`` repeats the keyframe's result. ``flow`` warps it along the OpenCV DIS optical flow from the
frame to the keyframe (both originals, gray), so a painted shirt follows the shirt: frame f's pixel
p takes the keyframe result at ``p + flow(p)``. Only the masked region is used downstream, so the
flow outside it does not matter.
"""

from __future__ import annotations

import numpy as np

from ffvfx.stages.analysis.keyframes import flow as dis_flow


def warp(result: np.ndarray, key_gray: np.ndarray, frame_gray: np.ndarray) -> np.ndarray:
    """``result`` (the keyframe's painted RGB) moved to where the frame's content is."""
    import cv2
    h, w = frame_gray.shape
    f = dis_flow(frame_gray, key_gray)
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(result, xs + f[..., 0], ys + f[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def carry(result: np.ndarray, key_gray: np.ndarray, frame_gray: np.ndarray, mode: str) -> np.ndarray:
    """The keyframe ``result`` as it should look on the frame (``mode``: hold or flow); the
    keyframe's and the frame's originals come as gray (each converted once by the caller)."""
    return result if mode == "hold" else warp(result, key_gray, frame_gray)
