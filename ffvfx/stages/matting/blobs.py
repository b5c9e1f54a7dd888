"""Stray blob removal: keep the main subject of a matte, drop specks and far-away false positives.

No ffmpeg filter labels connected regions, so this runs in Python (OpenCV connected components)
between the model and the encoder. A region's size is its soft area (sum of alpha over it), so a
faint halo does not count as much as a solid body.
"""

from __future__ import annotations

import cv2
import numpy as np

SUPPORT = 0.05
"""Alpha above this (0..1) belongs to a region: fringes stay attached to their body."""


def remove_blobs(alpha: np.ndarray, fraction: float = 0.4) -> np.ndarray:
    """``alpha`` (H x W float32, 0..1) with every region smaller than ``fraction`` of the largest
    set to 0. ``fraction=0`` keeps everything; a matte with one region comes back unchanged."""
    if fraction <= 0:
        return alpha
    support = (alpha > SUPPORT).astype(np.uint8)
    count, labels = cv2.connectedComponents(support, connectivity=8)
    if count <= 2:  # background plus at most one region
        return alpha
    area = np.bincount(labels.ravel(), weights=alpha.ravel().astype(np.float64), minlength=count)
    area[0] = 0.0
    keep = area >= fraction * area.max()
    keep[0] = False
    out = alpha.copy()
    out[~keep[labels] & (labels > 0)] = 0.0
    return out
