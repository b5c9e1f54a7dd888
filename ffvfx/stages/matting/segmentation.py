"""A native transformers semantic-segmentation model as an automatic person mask.

Default ``openmmlab/upernet-convnext-tiny`` (MIT; UperNet + ConvNeXt-T trained on ADE20K, 241 MB,
whose labels include ``person``). Any model that ``AutoModelForSemanticSegmentation`` loads works:
``--model-id``/``--revision`` pick another hub model, ``--weights DIR`` a ``save_pretrained``
folder. The alpha is the softmax probability of the ``person`` label (``extra={"labels": [...]}``
names others; their probabilities add), upsampled bilinearly to the frame size.
"""

from __future__ import annotations

import numpy as np

from ffvfx.errors import FfvfxError
from ffvfx.stages.matting.model import Matter, ModelOptions, check_weights
from ffvfx.stages.mldeps import need, torch_device

DEFAULT_ID = "openmmlab/upernet-convnext-tiny"
INSTALL = "pip install torch transformers (or pip install -e '.[ai]')"


class SegmentationMatter(Matter):
    """Class probabilities of a semantic-segmentation network, summed over the wanted labels."""

    name = "segmentation"

    def __init__(self, model, processor, label_ids: list[int], labels: list[str], device: str,
                 source: str, revision: str | None):
        self.model, self.processor = model, processor
        self.label_ids, self.labels = label_ids, labels
        self.device, self.source, self.revision = device, source, revision
        self.licence = ("MIT (openmmlab/upernet-convnext-tiny)" if source == DEFAULT_ID
                        else f"see the model card of {source}")

    def process(self, frames: np.ndarray) -> tuple[np.ndarray, None]:
        """Alpha N x H x W float32: P(label) per pixel at the frame size."""
        import torch

        n, h, w, _ = frames.shape
        inputs = self.processor(images=list(frames), return_tensors="pt")
        pixels = inputs["pixel_values"].to(self.device, self.model.dtype)
        with torch.inference_mode():
            logits = self.model(pixel_values=pixels).logits.float()
            logits = torch.nn.functional.interpolate(logits, size=(h, w), mode="bilinear",
                                                     align_corners=False)
            probs = logits.softmax(dim=1)[:, self.label_ids].sum(dim=1)
        return probs.clamp(0, 1).cpu().numpy().astype(np.float32), None

    def describe(self) -> dict:
        return {"model": self.name, "model_id": self.source, "revision": self.revision,
                "labels": self.labels, "device": self.device, "dtype": str(self.model.dtype),
                "licence": self.licence}


def build(options: ModelOptions, info) -> SegmentationMatter:
    """Load the model (local folder or hub id, failing in seconds when offline and uncached)."""
    transformers = need("transformers", INSTALL, "--model segmentation")
    need("torch", INSTALL, "--model segmentation")
    import torch

    source = options.weights or options.model_id or DEFAULT_ID
    check_weights(source, "segmentation", options.revision)
    device = torch_device(options.device)
    dtype = torch.float16 if device == "cuda" else torch.float32
    try:
        processor = transformers.AutoImageProcessor.from_pretrained(source, revision=options.revision)
        model = transformers.AutoModelForSemanticSegmentation.from_pretrained(
            source, revision=options.revision, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise FfvfxError(f"--model segmentation: cannot load {source} "
                         f"({str(exc).splitlines()[0]})") from None
    model = model.to(device).eval()
    wanted = [str(x) for x in options.extra.get("labels", ["person"])]
    by_name = {str(label).lower(): int(i) for i, label in model.config.id2label.items()}
    missing = [label for label in wanted if label.lower() not in by_name]
    if missing:
        raise FfvfxError(f"--model segmentation: {source} has no label {', '.join(missing)} "
                         f"(it has {', '.join(sorted(by_name)[:20])}...)")
    return SegmentationMatter(model, processor, [by_name[x.lower()] for x in wanted], wanted,
                              device, source, options.revision)
