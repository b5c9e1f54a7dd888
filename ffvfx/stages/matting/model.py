"""The matting model interface, the registry of models, and what every model needs to load.

A model (:class:`Matter`) takes batches of frames in display order and returns one alpha per
frame; recurrent models (RVM) keep their state on the object between calls, so a clip is one
sequence whatever the batch size. Models live one per file (``chroma.py``, ``rvm.py`` ...) and are
imported only when asked for, so the base install never imports torch or onnxruntime.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ffvfx.errors import FfvfxError
from ffvfx.stages.mldeps import available

if TYPE_CHECKING:
    from ffvfx.compiler.graph import Stream
    from ffvfx.ffmpeg.probe import VideoInfo

MODELS: dict[str, str] = {
    "chroma": "ffvfx.stages.matting.chroma",
    "difference": "ffvfx.stages.matting.difference",
    "rvm": "ffvfx.stages.matting.rvm",
    "selfie": "ffvfx.stages.matting.selfie",
    "segmentation": "ffvfx.stages.matting.segmentation",
    "birefnet": "ffvfx.stages.matting.birefnet",
    "rmbg": "ffvfx.stages.matting.birefnet",
}
"""Model name -> module; each module has ``build(options, info) -> Matter``."""

DEFAULT_MODEL = "selfie"
"""The automatic person/foreground model (Apache-2.0, ships its weights in its wheel)."""


@dataclass
class ModelOptions:
    """What a user can say about a model; each model reads the fields it understands."""

    weights: str | None = None            # a local weights file or folder instead of the default
    model_id: str | None = None           # a hub id (transformers models) instead of the default
    revision: str | None = None           # hub revision (branch, tag or commit)
    device: str = "auto"                  # auto | cpu | cuda | mps
    downsample_ratio: float | None = None  # RVM: None picks one so the model sees 256-512 px
    allow_noncommercial: bool = False     # RMBG-2.0 / MatAnyone are non-commercial
    plate: str | None = None              # difference: the clean background image
    key: str = "auto"                     # chroma: the screen colour (auto, name or 0xRRGGBB)
    similarity: float = 0.1               # chroma: how far from the key still keys (0..1)
    blend: float = 0.05                   # chroma: soft edge width (0..1)
    diff_threshold: float = 40.0          # difference: colour distance (8-bit) that is half foreground
    extra: dict = field(default_factory=dict)


class Matter:
    """A matting model: batches of frames in order in, alpha in 0..1 (and foreground) out.

    ``input_format`` is what the runner decodes for :meth:`process`: ``rgb24`` (N x H x W x 3
    uint8) or ``gray`` (N x H x W uint8). :meth:`decode_filter` is the ffmpeg part of the model
    that runs before the pipe (the chroma key keys there, in ffmpeg, and hands the alpha over).
    """

    name = "model"
    licence = ""
    """Printed once when the model is used (``GPL-3.0 (Robust Video Matting)``)."""
    input_format = "rgb24"

    def decode_filter(self, stream: Stream) -> Stream:
        """ffmpeg filters the decoded frames go through before the pipe (none by default)."""
        return stream

    def reset(self) -> None:
        """Start a new clip: forget any recurrent state."""

    def process(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Alpha (N x H x W float32, 0..1) and foreground (N x H x W x 3 uint8, or None)."""
        raise NotImplementedError

    def describe(self) -> dict:
        """What the JSON log records of this model (ids, revision, device, settings)."""
        return {"model": self.name}


def build(name: str, options: ModelOptions, info: VideoInfo) -> Matter:
    """The model ``name`` set up for ``info`` (an input's size and rate); one clear line on error."""
    module = MODELS.get(name)
    if module is None:
        raise FfvfxError(f"--model {name}: unknown model; choose from {', '.join(MODELS)}")
    return importlib.import_module(module).build(options, info)


def check_weights(model_id: str, model: str, revision: str | None = None) -> None:
    """Fail in seconds, not minutes, when ``model_id`` is neither a folder, cached, nor reachable."""
    if available(model_id, ("config.json",), revision):
        return
    raise FfvfxError(
        f"--model {model}: {model_id} is not in the Hugging Face cache and the hub cannot be reached "
        f"(offline or HF_HUB_OFFLINE=1); download it once online (huggingface-cli download {model_id}), "
        "or pass --weights DIR with a saved copy")
