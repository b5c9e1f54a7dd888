"""The matting runner: ffmpeg rawvideo pipe -> model in batches -> ffmpeg encoder pipe.

Memory is flat in clip length: at any time one batch of frames and its alphas are held. The model
sees every frame once, in order, after one :meth:`~ffvfx.stages.matting.model.Matter.reset`, so recurrent
state (RVM) runs across batch boundaries as if the clip were one sequence. Stray blobs are removed
in Python (:mod:`ffvfx.stages.matting.blobs`); the rest of the clean-up (:mod:`ffvfx.effects.refine`) is
an ffmpeg graph inside the alpha encoder. Outputs are written under temporary names and renamed
when everything succeeded.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ffvfx.compiler.graph import Graph, Input
from ffvfx.effects.refine import Refine, refine
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.atomic import atomic_path
from ffvfx.ffmpeg.probe import VideoInfo, probe
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.rawvideo import FrameEncoder, encoder_argv, frames
from ffvfx.ffmpeg.render import expected_frames
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.stages.matting.blobs import remove_blobs
from ffvfx.stages.matting.model import Matter

ALPHA_CODECS = ("ffv1", "libx264")
"""ffv1: lossless gray Matroska (default); libx264: near-lossless, in the luma of an mp4."""


@dataclass(frozen=True)
class MatteInfo:
    """A written matte: where, how many frames, and how long the model took (seconds)."""

    alpha: Path
    frames: int
    width: int
    height: int
    fps: Fraction
    foreground: Path | None = None
    model_seconds: float = 0.0
    coverage: tuple[float, ...] = field(default=(), repr=False)
    """Per frame: mean alpha (0..1) after blob removal."""


def _batches(it: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    batch: list[np.ndarray] = []
    for frame in it:
        batch.append(frame)
        if len(batch) == size:
            yield np.stack(batch)
            batch = []
    if batch:
        yield np.stack(batch)


def alpha_codec_args(codec: str, out: Path) -> list[str]:
    """Encoder options of an alpha video; FFV1 needs Matroska, x264 keeps the alpha in its luma."""
    if codec not in ALPHA_CODECS:
        raise FfvfxError(f"--alpha-codec {codec}: choose {' or '.join(ALPHA_CODECS)}")
    if codec == "ffv1":
        if out.suffix.lower() not in (".mkv", ".nut", ".avi"):
            raise FfvfxError(f"{out}: a lossless FFV1 alpha needs .mkv; use --alpha-codec libx264 "
                             "for .mp4")
        return ["-c:v", "ffv1", "-level", "3", "-pix_fmt", "gray"]
    return ["-c:v", "libx264", "-crf", "4", "-pix_fmt", "yuv420p"]


def refine_line(settings: Refine) -> str | None:
    """The clean-up graph as one line for ``-vf`` (None when it changes nothing)."""
    if settings.empty:
        return None
    return Graph(refine(Input().video, settings)).line()


def _matte_frames(model: Matter, decoded: Iterator[np.ndarray], batch: int, blobs: float,
                  encoders: list[FrameEncoder], bar: ProgressBar) -> tuple[list[float], float]:
    """Every decoded frame through ``model``, ``batch`` at a time, its alpha (blobs removed) to
    ``encoders[0]`` and its foreground to ``encoders[1]`` when there is one; returns the coverage
    of each frame (mean alpha, 0..1) and the seconds the model took."""
    coverage: list[float] = []
    model_seconds = 0.0
    for chunk in _batches(decoded, batch):
        began = time.perf_counter()
        alpha, fg = model.process(chunk)
        model_seconds += time.perf_counter() - began
        if alpha.shape != chunk.shape[:3]:
            raise FfvfxError(f"model {model.name} returned alpha of shape {alpha.shape} for "
                             f"frames of {chunk.shape[:3]}")
        for k in range(len(chunk)):
            a = remove_blobs(np.clip(alpha[k], 0.0, 1.0).astype(np.float32), blobs)
            coverage.append(float(a.mean()))
            encoders[0].write(np.rint(a * 255.0).astype(np.uint8).tobytes())
            if len(encoders) > 1:
                picture = fg[k] if fg is not None else chunk[k]
                encoders[1].write(np.ascontiguousarray(picture, np.uint8).tobytes())
        bar.frames = len(coverage)
        bar.draw()
    return coverage, model_seconds


def write_matte(src: str, tools: Toolchain, model: Matter, alpha_out: str | Path, *,
                foreground_out: str | Path | None = None, start: float | None = None,
                duration: float | None = None, batch: int = 4, blobs: float = 0.4,
                cleanup: Refine = Refine(), alpha_codec: str = "ffv1", quiet: bool = True,
                info: VideoInfo | None = None, overwrite: bool = True) -> MatteInfo:
    """Matte ``src`` with ``model`` into ``alpha_out`` (gray, white = subject, same size, rate and
    frame count as the input), and its foreground into ``foreground_out`` if given.

    ``batch``: frames per model call. ``blobs``: regions smaller than this fraction of the largest
    are dropped (0 keeps all). ``cleanup``: the ffmpeg clean-up graph. ``overwrite``: a file at
    an output is replaced (a work or cache file); False: one that appeared meanwhile is kept and
    the matte refused (:func:`ffvfx.ffmpeg.atomic.atomic_path`). Raises FfvfxError.
    """
    if batch < 1:
        raise FfvfxError(f"--batch takes 1 or more frames, got {batch}")
    info = info or probe(src, tools)
    size = (info.width, info.height)
    alpha_path = Path(alpha_out)
    codec = alpha_codec_args(alpha_codec, alpha_path)
    fg_path = Path(foreground_out) if foreground_out else None
    decode_vf = Graph(model.decode_filter(Input().video)).line() if model.input_format == "gray" \
        else None
    bar = ProgressBar(alpha_path.name, expected_frames(info, start, duration), enabled=not quiet)
    with contextlib.ExitStack() as stack:
        tmp_alpha = stack.enter_context(atomic_path(alpha_path, overwrite=overwrite))
        tmp_fg = stack.enter_context(atomic_path(fg_path, overwrite=overwrite)) if fg_path else None
        encoders = [FrameEncoder(encoder_argv(tools.ffmpeg, size, info.fps, "gray", tmp_alpha, codec,
                                          refine_line(cleanup)))]
        if tmp_fg:
            encoders.append(FrameEncoder(encoder_argv(
                tools.ffmpeg, size, info.fps, "rgb24", tmp_fg,
                ["-c:v", "libx264", "-crf", "16", "-pix_fmt", "yuv420p"])))
        try:
            model.reset()
            decoded = frames(src, tools, size, model.input_format, decode_vf, start=start,
                             duration=duration)
            coverage, model_seconds = _matte_frames(model, decoded, batch, blobs, encoders, bar)
            encoders[0].finish("alpha")
            if tmp_fg:
                encoders[1].finish("foreground")
        except BaseException:
            for enc in encoders:
                enc.kill()
            raise
        if not coverage:
            raise FfvfxError(f"{src}: no video frames to matte"
                             + (" in the requested time range" if start or duration else ""))
        bar.draw(final=True)
    return MatteInfo(alpha_path, len(coverage), size[0], size[1], info.fps, fg_path, model_seconds,
                     tuple(coverage))

