"""AI stages (Depth Anything, Stable Diffusion inpainting with ControlNet): model loading shared by them.

torch, transformers and diffusers are imported only here and only when a stage runs (the ``ai``
extra). A model is a hub id or a local folder saved with ``save_pretrained``; before anything loads,
:func:`check_model` makes an offline machine without the weights fail in seconds with one line.
On CUDA models run in fp16 with CPU offload (they fit 4-6 GB of VRAM); on the CPU in fp32, slowly,
and the stage says so. Stages load one model at a time and :func:`free` it before the next.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from pathlib import Path

from ffvfx.errors import FfvfxError

INSTALL = "pip install -e '.[ai]' (torch, diffusers, transformers, accelerate)"


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
    from ffvfx.stages.matting.model import torch_device
    name = torch_device(requested)
    return Device(name, torch.float16 if name == "cuda" else torch.float32)


def quiet() -> None:
    """Keep diffusers/transformers to errors only: no loading bars, no deprecation chatter."""
    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*(torch_dtype|steps_offset|deprecated).*")
    for name in ("diffusers", "transformers"):
        try:
            logging = __import__(f"{name}.utils.logging", fromlist=["logging"])
        except ImportError:
            continue
        logging.set_verbosity_error()
        logging.disable_progress_bar()


def need(module: str):
    """Import ``module`` or fail with one line saying how to install the AI extra."""
    import importlib
    try:
        found = importlib.import_module(module)
    except ImportError as exc:
        raise FfvfxError(f"this stage needs {module.split('.')[0]} ({exc.msg}): {INSTALL}") from None
    if module in ("diffusers", "transformers"):
        quiet()
    return found


def is_cached(model_id: str, files: tuple[str, ...] = ("config.json", "model_index.json"),
              revision: str | None = None) -> bool:
    """Whether ``model_id`` is a local folder or one of ``files`` is in the Hugging Face cache."""
    if os.path.isdir(model_id):
        return True
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    for name in files:
        try:
            if isinstance(try_to_load_from_cache(model_id, name, revision=revision), str):
                return True
        except Exception:  # noqa: BLE001 - a malformed id is reported by the caller's message
            return False
    return False


def check_model(model_id: str, option: str, revision: str | None = None) -> None:
    """Fail in seconds when ``model_id`` (given as ``option``) is neither local, cached nor reachable."""
    from ffvfx.stages.matting.model import hub_reachable
    if is_cached(model_id, revision=revision) or hub_reachable():
        return
    if model_id.startswith(("/", ".", "~")) or model_id.count("/") != 1:
        raise FfvfxError(f"{option} {model_id}: no such folder (and not a hub id like org/name)")
    raise FfvfxError(
        f"{option} {model_id}: not in the Hugging Face cache and the hub cannot be reached (offline or "
        f"HF_HUB_OFFLINE=1); download it once online (huggingface-cli download {model_id}) or give "
        f"{option} a folder saved with save_pretrained")


def revision(model_id: str) -> str:
    """The commit of a cached hub model (``local`` for a folder, ``unknown`` if not found)."""
    if os.path.isdir(model_id):
        return "local"
    try:
        from huggingface_hub import try_to_load_from_cache
        for name in ("model_index.json", "config.json"):
            found = try_to_load_from_cache(model_id, name)
            if isinstance(found, str):
                return Path(found).parent.name
    except Exception:  # noqa: BLE001
        pass
    return "unknown"


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
