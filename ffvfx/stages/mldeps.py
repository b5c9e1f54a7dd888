"""What the ML stages need beyond the base install, found before anything heavy loads.

Optional packages (torch, diffusers, transformers, onnxruntime, mediapipe) are imported only when a
stage runs, through :func:`need`: a missing one is one line saying how to install it. A model is a
hub id or a local folder; :func:`available` says in seconds whether it can load (a folder, in the
Hugging Face cache, or the hub reachable), so an offline machine without the weights fails at once
rather than after minutes of retries. Used by the matting models and the diffusion stages alike.
"""

from __future__ import annotations

import importlib
import os
import socket
from pathlib import Path

from ffvfx.errors import FfvfxError

AI_INSTALL = "pip install -e '.[ai]' (torch, diffusers, transformers, accelerate)"
"""How to install what the diffusion stages need (the ``ai`` extra)."""


def need(module: str, install: str = AI_INSTALL, user: str = "this stage", *, quiet_logs: bool = False):
    """Import ``module`` or fail with one line: ``USER needs PACKAGE (why): INSTALL``.

    ``quiet_logs``: keep diffusers/transformers to errors only once imported (:func:`quiet`).
    """
    try:
        found = importlib.import_module(module)
    except ImportError as exc:
        raise FfvfxError(f"{user} needs {module.split('.')[0]} ({exc.msg}): {install}") from None
    if quiet_logs and module in ("diffusers", "transformers"):
        quiet()
    return found


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


def torch_device(requested: str = "auto") -> str:
    """``cuda`` -> ``mps`` -> ``cpu`` for ``auto``; a device asked for but absent is an error."""
    import torch

    have = {"cpu": True, "cuda": torch.cuda.is_available(),
            "mps": bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()}
    if requested == "auto":
        return next(d for d in ("cuda", "mps", "cpu") if have[d])
    if requested not in have:
        raise FfvfxError(f"--device {requested}: choose auto, cpu, cuda or mps")
    if not have[requested]:
        raise FfvfxError(f"--device {requested}: no {requested} device here (torch "
                         f"{torch.__version__}); use --device auto or cpu")
    return requested


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers a TCP connect within ``timeout`` seconds."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return False
    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1].split("/")[0]
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


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


def available(model_id: str, files: tuple[str, ...] = ("config.json", "model_index.json"),
              revision: str | None = None) -> bool:
    """Whether ``model_id`` can load now: a folder, cached (:func:`is_cached`), or the hub answers.
    Callers refuse in one line of their own when it cannot."""
    return is_cached(model_id, files, revision) or hub_reachable()


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
