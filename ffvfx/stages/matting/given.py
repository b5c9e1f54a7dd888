"""The user's own alpha video as a "model": its gray frames are the alpha, so the runner's blob
removal and encoder clean it like any model's output (``ffvfx studio`` uses it on ALPHA)."""

from __future__ import annotations

import numpy as np

from ffvfx.stages.matting.model import Matter


class GivenAlpha(Matter):
    name = "given"
    input_format = "gray"

    def process(self, frames: np.ndarray) -> tuple[np.ndarray, None]:
        return frames.astype(np.float32) / 255.0, None
