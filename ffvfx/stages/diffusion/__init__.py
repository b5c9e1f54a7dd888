"""AI stages (Depth Anything, Stable Diffusion inpainting with ControlNet): model loading shared by them.

torch, transformers and diffusers are imported only when a stage runs (the ``ai`` extra, through
:func:`ffvfx.stages.mldeps.need`). A model is a hub id or a local folder saved with ``save_pretrained``;
before anything loads, :func:`check_model` makes an offline machine without the weights fail in
seconds with one line.
On CUDA models run in fp16 with CPU offload (they fit 4-6 GB of VRAM); on the CPU in fp32, slowly,
and the stage says so. Stages load one model at a time and :func:`free` it before the next.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

from ffvfx.errors import FfvfxError
from ffvfx.stages.mldeps import available, need, torch_device


@dataclass(frozen=True)
class Device:
    name: str           # cuda, mps, cpu
    dtype: object       # torch.float16 on CUDA, else torch.float32

    @property
    def fp16(self) -> bool:
        return self.name == "cuda"


def device(requested: str = "auto") -> Device:
    """The torch device and dtype for ``--device`` (auto: cuda, mps, then cpu)."""
    torch = need("torch")
    name = torch_device(requested)
    return Device(name, torch.float16 if name == "cuda" else torch.float32)


def check_model(model_id: str, option: str, revision: str | None = None) -> None:
    """Fail in seconds when ``model_id`` (given as ``option``) is neither local, cached nor reachable."""
    if available(model_id, revision=revision):
        return
    if model_id.startswith(("/", ".", "~")) or model_id.count("/") != 1:
        raise FfvfxError(f"{option} {model_id}: no such folder (and not a hub id like org/name)")
    raise FfvfxError(
        f"{option} {model_id}: not in the Hugging Face cache and the hub cannot be reached (offline or "
        f"HF_HUB_OFFLINE=1); download it once online (huggingface-cli download {model_id}) or give "
        f"{option} a folder saved with save_pretrained")


def free(*objects: object) -> None:
    """Drop models and give their memory back (GPU memory too) before the next one loads."""
    del objects
    gc.collect()
    try:
        import torch
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except ImportError:
        pass
