"""BiRefNet (MIT) for sharp foreground masks, and RMBG-2.0 (BRIA, non-commercial) on the same code.

Both are ``AutoModelForImageSegmentation`` with ``trust_remote_code=True`` (their modelling code
lives on the hub beside the weights), take a 1024 x 1024 ImageNet-normalised RGB image and return
the mask logits as their last output; the alpha is its sigmoid, resized to the frame.
``birefnet`` is ``ZhengPeng7/BiRefNet`` (MIT). ``rmbg`` is ``briaai/RMBG-2.0`` under CC BY-NC 4.0:
refused unless ``allow_noncommercial`` (``--allow-noncommercial``). ``--model-id``/``--revision``/
``--weights DIR`` override the source; offline and uncached fails in seconds (check_weights).
"""

from __future__ import annotations

import numpy as np

from ffvfx.errors import FfvfxError
from ffvfx.stages.matting.model import Matter, ModelOptions, check_weights
from ffvfx.stages.mldeps import need, torch_device

SOURCES = {
    "birefnet": ("ZhengPeng7/BiRefNet", "MIT (BiRefNet, ZhengPeng7/BiRefNet)"),
    "rmbg": ("briaai/RMBG-2.0", "CC BY-NC 4.0, non-commercial use only (BRIA RMBG-2.0)"),
}
NONCOMMERCIAL = {"rmbg"}
INSTALL = "pip install torch transformers (or pip install -e '.[ai]')"
SIZE = 1024
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


class BiRefNetMatter(Matter):
    """A dichotomous image segmentation network, one frame at a time at 1024 x 1024."""

    def __init__(self, name: str, model, device: str, half: bool, source: str, revision, licence: str):
        self.name, self.model, self.device, self.half = name, model, device, half
        self.source, self.revision, self.licence = source, revision, licence

    def process(self, frames: np.ndarray) -> tuple[np.ndarray, None]:
        """Alpha N x H x W float32: sigmoid of the network's final mask logits at the frame size."""
        import cv2
        import torch

        n, h, w, _ = frames.shape
        alpha = np.empty((n, h, w), np.float32)
        for i, frame in enumerate(frames):
            x = (cv2.resize(frame, (SIZE, SIZE), interpolation=cv2.INTER_AREA) / 255.0 - MEAN) / STD
            t = torch.from_numpy(x.transpose(2, 0, 1)[None].astype(np.float32)).to(self.device)
            with torch.inference_mode():
                out = self.model(t.half() if self.half else t)
                logits = out[-1] if isinstance(out, (list, tuple)) else getattr(out, "logits", out)
                mask = logits.float().sigmoid()[0, 0].cpu().numpy()
            alpha[i] = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.clip(alpha, 0, 1), None

    def describe(self) -> dict:
        return {"model": self.name, "model_id": self.source, "revision": self.revision,
                "device": self.device, "fp16": self.half, "licence": self.licence}


def build(options: ModelOptions, info) -> BiRefNetMatter:
    """``birefnet`` or ``rmbg`` (``options.extra['name']``); non-commercial ones need the opt-in."""
    name = options.extra.get("name", "birefnet")
    if name not in SOURCES:
        raise FfvfxError(f"--model {name}: this module serves {', '.join(SOURCES)}")
    default_id, licence = SOURCES[name]
    if name in NONCOMMERCIAL and not options.allow_noncommercial:
        raise FfvfxError(f"--model {name}: {default_id} is licensed {licence}; "
                         "pass --allow-noncommercial to use it")
    transformers = need("transformers", INSTALL, f"--model {name}")
    need("torch", INSTALL, f"--model {name}")
    source = options.weights or options.model_id or default_id
    check_weights(source, name, options.revision)
    device = torch_device(options.device)
    try:
        model = transformers.AutoModelForImageSegmentation.from_pretrained(
            source, revision=options.revision, trust_remote_code=True)
    except (OSError, ValueError, ImportError) as exc:
        raise FfvfxError(f"--model {name}: cannot load {source} ({str(exc).splitlines()[0]})") from None
    half = device == "cuda"
    model = model.to(device).eval()
    if half:
        model = model.half()
    return BiRefNetMatter(name, model, device, half, source,
                          options.revision, licence if source == default_id else f"see {source}")
