"""Difference matte against a clean plate: foreground is what differs from the empty scene.

For a locked-off camera with a plate of the empty set (``ffvfx plate``, or a frame shot before
the subject walked in). Per pixel: ``d = max over R, G, B of |blur(frame) - blur(plate)|``
(8-bit levels, Gaussian sigma 0.7 px against grain and codec noise); alpha ramps linearly from 0
at ``threshold / 2`` to 1 at ``1.5 * threshold``, so a pixel differing by ``threshold`` is half in.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.probe import VideoInfo
from ffvfx.stages.matting.model import Matter, ModelOptions

BLUR = 0.7
"""px: Gaussian sigma on frame and plate (more widens the matte by about as much)."""


class DifferenceMatter(Matter):
    name = "difference"
    licence = "no model (difference against a clean plate)"

    def __init__(self, plate: np.ndarray, threshold: float, source: str = ""):
        self.plate = cv2.GaussianBlur(plate.astype(np.float32), (0, 0), BLUR)
        self.threshold = float(threshold)
        self.source = source

    def process(self, frames: np.ndarray) -> tuple[np.ndarray, None]:
        t = self.threshold
        out = np.empty(frames.shape[:3], np.float32)
        for k, frame in enumerate(frames):
            blurred = cv2.GaussianBlur(frame.astype(np.float32), (0, 0), BLUR)
            d = np.abs(blurred - self.plate).max(axis=2)
            out[k] = np.clip((d - 0.5 * t) / t, 0.0, 1.0)
        return out, None

    def describe(self) -> dict:
        return {"model": self.name, "plate": self.source, "threshold": self.threshold}


def build(options: ModelOptions, info: VideoInfo) -> DifferenceMatter:
    if not options.plate:
        raise FfvfxError("--model difference needs --plate IMAGE (the empty scene; see ffvfx plate)")
    if not 0 < options.diff_threshold < 255:
        raise FfvfxError(f"--diff-threshold takes 8-bit levels 1..254, got {options.diff_threshold:g}")
    if not os.path.isfile(options.plate):
        raise FfvfxError(f"--plate {options.plate}: no such file")
    picture = cv2.imread(options.plate, cv2.IMREAD_COLOR)
    if picture is None:
        raise FfvfxError(f"--plate {options.plate}: not an image file OpenCV can read")
    if picture.shape[:2] != (info.height, info.width):
        raise FfvfxError(f"--plate {options.plate} is {picture.shape[1]}x{picture.shape[0]}, the "
                         f"input is {info.width}x{info.height}")
    return DifferenceMatter(cv2.cvtColor(picture, cv2.COLOR_BGR2RGB), options.diff_threshold,
                            options.plate)
