"""Depth Anything (through transformers) on one frame, and the depth a generated room is built on.

``estimate`` returns relative nearness in 0..1 (1 nearest) at the frame's size: Depth Anything V2
predicts relative inverse depth, min-max normalised here. ``without_subject`` takes the person out
of it (their region filled from the surroundings, then a heavy Gaussian blur), so the ControlNet
follows the room's floor, walls and vanishing points and draws no person. ``bands`` cuts it into
layers for the parallax (:mod:`ffvfx.effects.parallax`).
"""

from __future__ import annotations

import numpy as np

from ffvfx.stages.diffusion import Device, free
from ffvfx.stages.mldeps import need

DEFAULT_DEPTH_MODEL = "depth-anything/Depth-Anything-V2-Small-hf"  # Apache-2.0


def estimate(image: np.ndarray, model_id: str, dev: Device) -> np.ndarray:
    """Nearness (float32 H x W, 0 far .. 1 near) of an RGB uint8 image."""
    transformers = need("transformers", quiet_logs=True)
    torch = need("torch")
    from PIL import Image

    dtype = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
    pipe = transformers.pipeline("depth-estimation", model=model_id, device=dev.name,
                                 **{dtype: dev.dtype})
    try:
        out = pipe(Image.fromarray(image))
        pred = out["predicted_depth"]
        pred = pred if pred.dim() == 4 else pred.reshape(1, 1, *pred.shape[-2:])
        h, w = image.shape[:2]
        pred = torch.nn.functional.interpolate(pred.float(), size=(h, w), mode="bicubic",
                                               align_corners=False)[0, 0].cpu().numpy()
    finally:
        free(pipe)
    lo, hi = float(pred.min()), float(pred.max())
    return ((pred - lo) / (hi - lo) if hi > lo else np.zeros_like(pred)).astype(np.float32)


def without_subject(depth: np.ndarray, alpha: np.ndarray, blur: float | None = None) -> np.ndarray:
    """``depth`` with the subject (``alpha`` 0..1 > 0.1, grown a little) filled in and blurred
    with a Gaussian of ``blur`` px (default 2.5 % of the diagonal)."""
    import cv2

    h, w = depth.shape
    hole = (alpha > 0.1).astype(np.uint8)
    grow = max(3, round(0.01 * max(h, w)))
    hole = cv2.dilate(hole, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    filled = cv2.inpaint(depth.astype(np.float32), hole, max(3, grow), cv2.INPAINT_TELEA) \
        if hole.any() and not hole.all() else depth.astype(np.float32)
    sigma = blur if blur is not None else 0.025 * float(np.hypot(h, w))
    out = cv2.GaussianBlur(filled, (0, 0), sigmaX=max(sigma, 0.1))
    return np.clip(out, 0, 1).astype(np.float32)


def bands(depth: np.ndarray, count: int, soft: float = 0.02) -> list[tuple[np.ndarray, float]]:
    """``count`` layers far to near: (alpha 0..1, nearness of the layer). Layer 0 is opaque; layer
    k keeps what is nearer than the k-th quantile (soft over ``soft`` of the depth range)."""
    if count < 1:
        raise ValueError("at least one layer")
    edges = np.quantile(depth, np.linspace(0, 1, count + 1))
    layers = []
    for k in range(count):
        lo, hi = float(edges[k]), float(edges[k + 1])
        inside = depth >= lo if k < count - 1 else depth >= lo - 1e-6
        nearness = float(depth[inside & (depth <= hi + 1e-6)].mean()) if inside.any() else hi
        if k == 0:
            alpha = np.ones_like(depth)
        else:
            alpha = np.clip((depth - lo) / max(soft, 1e-6) + 0.5, 0, 1)
        layers.append((alpha.astype(np.float32), nearness))
    return layers
