"""Stable Diffusion inpainting (diffusers), with or without a depth ControlNet.

``generate`` inpaints where the mask is white: the subject kept, the background drawn from the
prompt. ``studio`` adds a depth ControlNet so the drawn room follows the real one. SD 1.5 by
default (``stable-diffusion-v1-5/stable-diffusion-inpainting``: the ``runwayml/*`` ids were removed
from the hub; ControlNet ``lllyasviel/control_v11f1p_sd15_depth``), SDXL with ``--sd-model sdxl``.
Widths and heights are multiples of 8 (the VAE's factor). The seed drives a CPU generator, so a seed
gives the same picture on any device with the same dtype.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ffvfx.stages.diffusion import Device
from ffvfx.stages.mldeps import need

MODELS = {
    "sd15": ("stable-diffusion-v1-5/stable-diffusion-inpainting", "lllyasviel/control_v11f1p_sd15_depth"),
    "sdxl": ("diffusers/stable-diffusion-xl-1.0-inpainting-0.1", "diffusers/controlnet-depth-sdxl-1.0"),
}
"""--sd-model -> (inpainting model, depth ControlNet)."""


@dataclass
class Settings:
    """One inpainting run. ``strength`` (0..1): how far from the starting image the result may go,
    ``steps x strength`` denoising steps (``--strength`` of studio/generate, ``--denoise`` of inpaint)."""

    prompt: str
    negative: str = ""
    seed: int = 0
    steps: int = 30
    strength: float = 0.95
    guidance: float = 7.5


@dataclass
class Result:
    image: np.ndarray                     # RGB uint8 at the requested size
    step_seconds: list[float] = field(default_factory=list)


def generation_size(w: int, h: int, resolution: int) -> tuple[int, int]:
    """(w, h) px scaled so the long side is ``resolution``, both snapped to multiples of 8 (>= 8):
    the sizes the VAE takes."""
    scale = resolution / max(w, h)
    return max(8, round(w * scale / 8) * 8), max(8, round(h * scale / 8) * 8)


def load(model_id: str, dev: Device, *, controlnet: str | None = None, sdxl: bool = False):
    """The inpainting pipeline (ControlNet-inpaint when ``controlnet`` is given) on ``dev``."""
    diffusers = need("diffusers", quiet_logs=True)
    kw = {"torch_dtype": dev.dtype}
    if not sdxl:
        kw.update(safety_checker=None, requires_safety_checker=False)
    if controlnet:
        net = diffusers.ControlNetModel.from_pretrained(controlnet, torch_dtype=dev.dtype)
        cls = diffusers.StableDiffusionXLControlNetInpaintPipeline if sdxl \
            else diffusers.StableDiffusionControlNetInpaintPipeline
        pipe = cls.from_pretrained(model_id, controlnet=net, **kw)
    else:
        cls = diffusers.StableDiffusionXLInpaintPipeline if sdxl else diffusers.StableDiffusionInpaintPipeline
        pipe = cls.from_pretrained(model_id, **kw)
    if dev.name == "cuda":
        pipe.enable_model_cpu_offload()  # one sub-model on the GPU at a time: fits 4-6 GB
    else:
        pipe.to(dev.name)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run(pipe, image: np.ndarray, mask: np.ndarray, settings: Settings, *,
        control: np.ndarray | None = None, on_step: Callable[[int, int], None] | None = None) -> Result:
    """Inpaint ``image`` (RGB uint8, H x W multiples of 8) where ``mask`` (H x W, 0..1) is 1."""
    torch = need("torch")
    from PIL import Image

    h, w = image.shape[:2]
    if h % 8 or w % 8:
        raise ValueError(f"{w}x{h}: sizes must be multiples of 8")
    marks = [time.perf_counter()]
    total = max(1, int(settings.steps * settings.strength))

    def step_end(pipe_, i, _t, kwargs):
        marks.append(time.perf_counter())
        if on_step:
            on_step(i + 1, getattr(pipe_, "num_timesteps", None) or total)
        return kwargs

    args = dict(prompt=settings.prompt, negative_prompt=settings.negative or None,
                image=Image.fromarray(image), mask_image=Image.fromarray(
                    np.rint(np.clip(mask, 0, 1) * 255).astype(np.uint8)),
                width=w, height=h, num_inference_steps=settings.steps, strength=settings.strength,
                guidance_scale=settings.guidance,
                generator=torch.Generator("cpu").manual_seed(settings.seed),
                callback_on_step_end=step_end, output_type="np")
    if control is not None:
        args["control_image"] = Image.fromarray(control)
    with torch.inference_mode():
        out = pipe(**args).images[0]
    picture = np.rint(np.clip(out, 0, 1) * 255).astype(np.uint8)
    return Result(picture, [b - a for a, b in zip(marks, marks[1:], strict=False)])
