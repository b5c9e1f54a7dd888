"""Clean background plate: the scene with the subject taken out, as one RGB image.

``median`` (default): per pixel, the median over sampled frames in which that pixel is background
(alpha below ``threshold``, a fraction of full alpha). ``samples`` frames are taken evenly over
the clip (or the ``start``/``duration`` range), frame-accurately: ffmpeg's ``select`` keeps frame
numbers ``ceil(i*F/N)`` (i = 0..N-1 of F frames) of the video and of its alpha alike, and only
those cross the rawvideo pipe. Pixels that no sample shows uncovered are filled by OpenCV
inpainting (``telea`` or ``ns``, ``radius`` px) and counted in :attr:`PlateInfo.uncovered`.

Memory is bounded by the samples, held as uint8: ``4*N*W*H`` bytes (RGB + alpha), plus one band of
``BAND_ROWS`` rows in uint16 for the masked median (``2*2*3*N*W*BAND_ROWS`` bytes, a copy and its
sort) -- at 1920x1080 with N = 32: 265 MB + 47 MB (measured peak RSS of the whole ``ffvfx plate``
process: 421 MB at N = 32, 743 MB at N = 64). The median runs band by band so the sort never sees
the whole stack.

``tmedian``: ffmpeg's own temporal median (``tmedian``, radius up to 127) over ``2R+1`` frames
sampled the same way, no alpha needed: a quick plate where the subject keeps moving, since a pixel
covered in more than half of the samples keeps the subject.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ffvfx.compiler import escape
from ffvfx.compiler.numbers import seconds
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import watchdog
from ffvfx.ffmpeg.atomic import atomic_path, write_png
from ffvfx.ffmpeg.probe import VideoInfo
from ffvfx.ffmpeg.rawvideo import frames
from ffvfx.ffmpeg.toolchain import Toolchain

METHODS = ("median", "tmedian")
INPAINT = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
BAND_ROWS = 64
"""Rows per band of the masked median (bounds its working memory, see the module docstring)."""
MAX_SAMPLES = 255
"""Most frames sampled (``tmedian`` takes radius <= 127, i.e. 255 frames)."""


@dataclass(frozen=True)
class PlateInfo:
    """A written plate: the file, the frames sampled, and the fraction (0..1) of its pixels that
    were never seen uncovered and so were inpainted (0 for ``tmedian``)."""

    path: Path
    samples: int
    uncovered: float
    method: str


def range_frames(info: VideoInfo, start: float | None, duration: float | None) -> int:
    """Frames of ``info`` inside the ``start``/``duration`` range (seconds)."""
    total = info.frames
    if total is None:
        if info.duration is None:
            raise FfvfxError(f"{info.path}: cannot tell how many frames it has")
        total = round(info.duration * float(info.fps))
    if start:
        total = max(total - round(start * float(info.fps)), 0)
    if duration:
        total = min(total, round(duration * float(info.fps)))
    if total < 1:
        raise FfvfxError(f"{info.path}: no video frames in the requested time range")
    return total


def sample_indices(total: int, samples: int) -> list[int]:
    """The frame numbers :func:`select_filter` keeps: ``ceil(i*total/samples)``, all when fewer."""
    n = min(samples, total)
    return [-(-i * total // n) for i in range(n)]


def select_filter(total: int, samples: int) -> str:
    """``select`` keeping ``samples`` frames evenly spread over ``total`` (see :func:`sample_indices`).

    Frame n is kept when ``n*N mod F < N``: exactly the ``ceil(i*F/N)``; integers, so exact in
    ffmpeg's double arithmetic.
    """
    n = min(samples, total)
    return f"select='lt(mod(n*{n},{total}),{n})'"


def masked_median(pictures: np.ndarray, alpha: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, the median of ``pictures`` (N x H x W x 3 uint8) over the frames where ``alpha``
    (N x H x W uint8) is below ``level``; returns (plate uint8 H x W x 3, seen bool H x W).

    An even count averages the two middle values (rounded half up); unseen pixels are 0.
    """
    n, h, w, _ = pictures.shape
    plate = np.zeros((h, w, 3), np.uint8)
    seen = np.zeros((h, w), bool)
    for r0 in range(0, h, BAND_ROWS):
        r1 = min(h, r0 + BAND_ROWS)
        background = alpha[:, r0:r1] < level                                # N x B x W
        values = np.moveaxis(pictures[:, r0:r1], 0, -1).astype(np.uint16)  # B x W x 3 x N
        values[~np.moveaxis(background, 0, -1)[:, :, None, :].repeat(3, axis=2)] = 0xFFFF
        values.sort(axis=-1)
        count = background.sum(axis=0)                                      # B x W
        lo = np.maximum((count - 1) // 2, 0)[:, :, None, None].repeat(3, axis=2)
        hi = (count // 2)[:, :, None, None].repeat(3, axis=2)
        low = np.take_along_axis(values, lo, axis=-1)[..., 0].astype(np.uint32)
        high = np.take_along_axis(values, np.minimum(hi, n - 1), axis=-1)[..., 0].astype(np.uint32)
        band = (low + high + 1) // 2
        has = count > 0
        plate[r0:r1][has] = band[has].astype(np.uint8)
        seen[r0:r1] = has
    return plate, seen


def median_plate(src: str, alpha: str, out: str | os.PathLike[str], tools: Toolchain, info: VideoInfo,
                 *, samples: int = 32, threshold: float = 0.1, inpaint: str = "telea",
                 radius: float = 5.0, start: float | None = None, duration: float | None = None,
                 alpha_ranged: bool = True, overwrite: bool = False) -> PlateInfo:
    """Write the masked-median plate of ``src`` to ``out`` (PNG, atomically; ``overwrite``:
    replacing a file there, else one that appeared meanwhile is kept, one line).

    ``alpha``: the gray matte, checked beforehand to match ``src``. ``alpha_ranged``: the alpha
    covers the whole input and takes the same ``start``/``duration``; False when it was made for
    the range only (``auto``). ``threshold``: 0..1 of full alpha; below it a pixel is background.
    """
    check_options(samples=samples, threshold=threshold, inpaint=inpaint, radius=radius)
    total = range_frames(info, start, duration)
    select = select_filter(total, samples)
    size = (info.width, info.height)
    level = max(1, math.ceil(threshold * 255))
    n = len(sample_indices(total, samples))
    pictures = np.empty((n, info.height, info.width, 3), np.uint8)
    mattes = np.empty((n, info.height, info.width), np.uint8)
    got = 0
    # via gbrp: swscale's direct yuv420p -> rgb24 path skips chroma interpolation (39 dB against
    # the demo's true frames, 44 dB through gbrp)
    video = frames(src, tools, size, "rgb24", select + ",format=gbrp", start=start,
                   duration=duration)
    matte_frames = frames(alpha, tools, size, "gray", select, start=start if alpha_ranged else None,
                          duration=duration if alpha_ranged else None)
    try:
        for picture in video:
            matte = next(matte_frames, None)
            if matte is None:
                raise FfvfxError(f"{alpha}: the alpha has fewer frames than the input")
            if got == n:
                break
            pictures[got], mattes[got] = picture, matte
            got += 1
    finally:  # stop both decoders now, not when the generators are collected
        video.close()
        matte_frames.close()
    if got == 0:
        raise FfvfxError(f"{src}: no video frames in the requested time range")
    plate, seen = masked_median(pictures[:got], mattes[:got], level)
    del pictures, mattes
    unseen = ~seen
    uncovered = float(unseen.mean())
    if unseen.all():
        raise FfvfxError(f"{alpha}: no pixel is ever background (alpha below {threshold:g}); "
                         "is the matte inverted?")
    if unseen.any():
        plate = cv2.inpaint(plate, unseen.astype(np.uint8) * 255, radius, INPAINT[inpaint])
    write_png(out, plate, overwrite=overwrite, failure="cannot encode the plate as PNG")
    return PlateInfo(Path(out), got, uncovered, "median")


def tmedian_plate(src: str, out: str | os.PathLike[str], tools: Toolchain, info: VideoInfo, *,
                  samples: int = 31, start: float | None = None,
                  duration: float | None = None, overwrite: bool = False) -> PlateInfo:
    """Write ffmpeg's temporal median of ``samples`` frames (odd: 2R+1) of ``src`` to ``out``
    (atomically; ``overwrite`` as :func:`median_plate`)."""
    check_options(samples=samples)
    total = range_frames(info, start, duration)
    n = len(sample_indices(total, samples))
    radius = max(0, (n - 1) // 2)
    n = 2 * radius + 1
    vf = select_filter(total, n) + ",setpts=N/30/TB,format=gbrp"
    if radius:  # tmedian emits a frame once its window is full: the first is the median of all
        vf += f",tmedian=radius={radius}"
    argv = [tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if start:
        argv += ["-ss", seconds(start)]
    if duration:
        argv += ["-t", seconds(duration)]
    argv += [*escape.input_args(src), "-map", "0:v:0", "-an", "-sn", "-vf", vf,
             "-frames:v", "1", "-update", "1", "-pix_fmt", "rgb24"]
    with atomic_path(out, overwrite=overwrite) as tmp:
        # the median's one frame comes after the last sample: ffmpeg shows no progress while it
        # decodes the clip, so the stall bound allows for that decoding (0.05 s a frame)
        res = watchdog.run([*argv, escape.media_path(tmp)], f"ffmpeg making the tmedian plate of {src}",
                           seconds=watchdog.stall_seconds() + 0.05 * total)
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        if res.returncode != 0 or os.path.getsize(tmp) == 0:
            raise FfvfxError(f"{src}: tmedian plate failed ({lines[-1] if lines else res.returncode})")
    return PlateInfo(Path(out), n, 0.0, "tmedian")


def check_options(*, samples: int = 32, threshold: float = 0.1, inpaint: str = "telea",
                  radius: float = 5.0) -> None:
    """One clear line for an option out of range (before any decoding or matting)."""
    if not 1 <= samples <= MAX_SAMPLES:
        raise FfvfxError(f"--samples takes 1..{MAX_SAMPLES} frames, got {samples}")
    if not 0 < threshold <= 1:
        raise FfvfxError(f"--threshold takes a fraction 0..1 of full alpha (above 0), got {threshold:g}")
    if inpaint not in INPAINT:
        raise FfvfxError(f"--inpaint {inpaint}: choose {' or '.join(INPAINT)}")
    if not 0 < radius <= 100:
        raise FfvfxError(f"--inpaint-radius takes 0..100 px (above 0), got {radius:g}")


def say_uncovered(result: PlateInfo, inpaint: str, radius: float) -> str:
    """The stderr line about the inpainted region."""
    if result.method == "tmedian":
        return f"plate: temporal median of {result.samples} frames"
    if result.uncovered == 0:
        return f"plate: median of {result.samples} frames; every pixel was seen uncovered"
    return (f"plate: median of {result.samples} frames; {100 * result.uncovered:.2f}% of the pixels "
            f"were never uncovered and were inpainted ({inpaint}, radius {radius:g} px)")

