"""Subject mask: the in-focus, moving part of a video, written as a lossless gray mask video.

Issue 3 (``--mask --motion-thresh=10 --focus-block=31``): only masked pixels receive the effect
(``maskedmerge``); static and out-of-focus (bokeh) regions stay exactly as they were.

Algorithm (all at the analysis size, about ``width`` px wide, gray, float32):

1. **Decode** the input once through an ffmpeg rawvideo pipe (``scale=...:flags=area,format=gray``,
   every frame, timestamps passed through). Frames are streamed: at any time only three analysis
   frames (previous, current, next) and ``smooth`` binary masks are held, so memory is flat in
   clip length.
2. **Focus**: ``L = Laplacian(gray)`` (3x3 aperture); its local standard deviation over a box of
   ``focus_block`` full-resolution pixels (scaled to the analysis size, odd, >= 3):
   ``std = sqrt(box(L^2) - box(L)^2)``. Normalised per frame against the sharp end of the frame:
   ``focus = clip(std / (p99(std) / 8), 0, 1)``; a block at least 1/8 as sharp as the sharpest
   1 % of the frame counts fully, defocused (bokeh) and flat regions get less.
3. **Motion** (camera compensated): every frame is lightly blurred (sigma max(0.6, width/960)
   px) to tame grain, codec noise and resampling; the previous and the next frame are shifted
   onto the current one by the difference of their camera offsets (``offsets``, full-res px,
   convention of :mod:`ffvfx.stages.demo`: ``frame_i[y, x] == frame_0[y + oy, x + ox]``), bilinear;
   ``diff = |cur - neighbour'|`` in 8-bit levels.
4. **Combine and clean**, separately for the previous-frame and the next-frame difference:
   ``moving = diff > motion_thresh and focus >= 0.5`` (motion weighted by focus: a pixel counts
   where it moved and its block is at least half as sharp as the reference); morphological open
   (3x3 ellipse: drops single-pixel specks); close (disc of radius ~width/48 px, done with two
   distance transforms so the cost does not grow with the radius: joins the outline of one
   subject); fill holes (flood fill from the border). Each filled region is the union of the
   subject's positions in the two frames; their intersection (a *double difference* on filled
   regions) is the subject's position in the current frame, not the union of its positions.
   Where a shifted neighbour does not cover a pixel (the edge the camera pan reveals), the other
   neighbour decides; the first frame uses only the next frame, the last only the previous one,
   and a one-frame clip gives an empty mask.
5. **Temporal smoothing** (centred, ``smooth`` frames): majority vote of the cleaned masks of the
   frames ``i - smooth//2 .. i + (smooth-1)//2`` (truncated at the clip ends; a tie keeps frame
   ``i``'s own value). It removes one-frame flicker and fills one-frame holes without smearing the
   subject along its path. ``smooth=1`` turns it off. Output lags input by 1 + (smooth-1)//2
   frames; only ``smooth`` binary masks and three analysis frames are held.
6. **Soft edges**: dilate (ellipse of ~width/64 px, >= 3: a margin of ~7 px at 960 wide),
   Gaussian blur (sigma width/320 px, >= 0.8), uint8 0..255.
7. **Coverage** of each frame: mean mask value / 255 at the analysis size.
8. **Write**: ffmpeg scales the mask to the input's full size (bilinear, so 0 stays 0 away from
   the subject) and encodes FFV1 ``gray`` in Matroska at the input's frame rate, one mask frame
   per decoded input frame. Written under a temporary name and renamed on success.

:func:`ffvfx.effects.mask.apply_mask` is the graph side: ``maskedmerge`` of the original and the
effected stream through the mask.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import cache
from ffvfx.ffmpeg.atomic import atomic_path
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.probe import frame_times, probe
from ffvfx.ffmpeg.rawvideo import FrameEncoder, encoder_argv
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.stages.analysis.camera import gray_frames

MASK_VERSION = 1
"""Bump when the mask pixels change, so cached masks are recomputed."""

_INVALID = np.float32(1e9)
"""Motion evidence of pixels a shifted neighbour does not cover (the minimum ignores them)."""


@dataclass(frozen=True)
class MaskInfo:
    """A written mask video: where it is, its frames, and the masked fraction of each frame."""

    path: Path
    frames: int
    coverage: tuple[float, ...]
    """Per frame: mean mask value / 255 (for a hard mask, the fraction of masked pixels)."""
    width: int
    height: int
    fps: Fraction
    analysis_size: tuple[int, int]
    """(width, height) the mask was computed at before upscaling."""


def check_params(*, motion_thresh: float = 10, focus_block: int = 31, width: int = 960,
                 smooth: int = 3) -> None:
    """Raise FfvfxError (one line) for parameters :func:`write_mask` cannot use."""
    if not isinstance(focus_block, (int, np.integer)) or isinstance(focus_block, bool) \
            or focus_block < 3 or focus_block % 2 == 0:
        raise FfvfxError(f"--focus-block must be an odd whole number of pixels >= 3, got {focus_block!r}")
    try:
        thresh = float(motion_thresh)
    except (TypeError, ValueError):
        thresh = math.nan
    if not 0 <= thresh <= 255:
        raise FfvfxError(f"--motion-thresh must be between 0 and 255 (8-bit levels), got {motion_thresh!r}")
    if not isinstance(width, (int, np.integer)) or isinstance(width, bool) or width < 16:
        raise FfvfxError(f"mask analysis width must be a whole number >= 16, got {width!r}")
    if not isinstance(smooth, (int, np.integer)) or isinstance(smooth, bool) or smooth < 1:
        raise FfvfxError(f"mask temporal smoothing must be a whole number of frames >= 1, got {smooth!r}")


def _odd(x: float, minimum: int = 3) -> int:
    n = max(minimum, int(round(x)))
    return n if n % 2 else n + 1


class _Analyser:
    """Per-frame mask computation at one analysis size (kernels and scales fixed up front)."""

    def __init__(self, size: tuple[int, int], scale: float, motion_thresh: float, focus_block: int):
        self.size = size
        self.scale = scale  # analysis px per full-res px
        self.thresh = np.float32(motion_thresh)
        aw = size[0]
        self.block = _odd(focus_block * scale)
        self.sigma = max(0.6, aw / 1920.0)
        ell = cv2.MORPH_ELLIPSE
        self.k_open = cv2.getStructuringElement(ell, (3, 3))
        self.close_radius = _odd(aw / 24.0) // 2
        self.k_dilate = cv2.getStructuringElement(ell, (_odd(aw / 64.0),) * 2)
        self.soft_sigma = max(0.8, aw / 320.0)

    def prepare(self, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(blurred float frame for motion, focus weight 0..1)."""
        g = gray.astype(np.float32)
        lap = cv2.Laplacian(g, cv2.CV_32F, ksize=3)
        box = (self.block, self.block)
        mean = cv2.boxFilter(lap, -1, box, borderType=cv2.BORDER_REFLECT)
        sq = cv2.boxFilter(lap * lap, -1, box, borderType=cv2.BORDER_REFLECT)
        std = np.sqrt(np.maximum(sq - mean * mean, 0.0))
        ref = float(np.percentile(std[::4, ::4], 99)) / 8.0
        focus = np.clip(std * np.float32(1.0 / max(ref, 1e-3)), 0.0, 1.0)
        blurred = cv2.GaussianBlur(g, (0, 0), self.sigma)
        return blurred, focus

    def _difference(self, cur: np.ndarray, other: np.ndarray, shift: tuple[float, float]) -> np.ndarray:
        """|cur - other shifted onto cur|; _INVALID where the shifted frame has no pixels."""
        dx, dy = shift
        h, w = cur.shape
        if dx or dy:
            m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float64)
            moved = cv2.warpAffine(other, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                   borderMode=cv2.BORDER_REPLICATE)
        else:
            moved = other
        diff = cv2.absdiff(cur, moved)
        # moved(y, x) = other(y + dy, x + dx): rows/columns sampled outside `other` are unknown.
        mx, my = math.ceil(abs(dx)) + (1 if dx % 1 else 0), math.ceil(abs(dy)) + (1 if dy % 1 else 0)
        if dx > 0:
            diff[:, max(w - mx, 0):] = _INVALID
        elif dx < 0:
            diff[:, :mx] = _INVALID
        if dy > 0:
            diff[max(h - my, 0):, :] = _INVALID
        elif dy < 0:
            diff[:my, :] = _INVALID
        return diff

    def raw_mask(self, cur, prev, nxt, off_cur, off_prev, off_next) -> np.ndarray:
        """Cleaned binary mask (uint8 0/1) of the current frame from its neighbours (None: absent)."""
        regions, uncovered = [], []
        for frame, off in ((prev, off_prev), (nxt, off_next)):
            if frame is None:
                continue
            shift = ((off_cur[0] - off[0]) * self.scale, (off_cur[1] - off[1]) * self.scale)
            diff = self._difference(cur[0], frame[0], shift)
            moving = ((diff > self.thresh) & (diff < _INVALID) & (cur[1] >= 0.5)).astype(np.uint8)
            moving = cv2.morphologyEx(moving, cv2.MORPH_OPEN, self.k_open)
            regions.append(_fill_holes(_close(moving, self.close_radius)))
            uncovered.append(diff >= _INVALID)
        if not regions:
            return np.zeros(cur[0].shape, np.uint8)
        if len(regions) == 1:
            return regions[0]
        # where one shifted neighbour has no pixels (the edge a pan reveals), the other decides
        only0, only1 = uncovered[0] & ~uncovered[1], uncovered[1] & ~uncovered[0]
        return (regions[0] | only0) & (regions[1] | only1)

    def finish(self, binary: np.ndarray) -> np.ndarray:
        """Dilated, soft-edged uint8 0..255 mask."""
        out = cv2.dilate(binary * np.uint8(255), self.k_dilate)
        return cv2.GaussianBlur(out, (0, 0), self.soft_sigma)


def _close(binary: np.ndarray, radius: float) -> np.ndarray:
    """Morphological closing by a disc of ``radius`` px, via two distance transforms (cost
    independent of the radius), computed only around the set pixels."""
    if not binary.any():
        return binary
    h, w = binary.shape
    x, y, bw, bh = cv2.boundingRect(binary)
    m = int(math.ceil(radius)) + 2
    x0, y0, x1, y1 = max(x - m, 0), max(y - m, 0), min(x + bw + m, w), min(y + bh + m, h)
    part = binary[y0:y1, x0:x1]
    grown = (cv2.distanceTransform(1 - part, cv2.DIST_L2, 5) <= radius).astype(np.uint8)
    out = np.zeros_like(binary)
    out[y0:y1, x0:x1] = cv2.distanceTransform(grown, cv2.DIST_L2, 5) > radius
    return out


def _fill_holes(binary: np.ndarray) -> np.ndarray:
    """Set to 1 every 0-region of ``binary`` that does not touch the border."""
    if not binary.any():
        return binary
    h, w = binary.shape
    flood = np.zeros((h + 2, w + 2), np.uint8)
    flood[1:-1, 1:-1] = binary
    cv2.floodFill(flood, None, (0, 0), 2)  # the padding ring connects every border pixel
    return (flood[1:-1, 1:-1] != 2).astype(np.uint8)


def _analysis_size(width: int, height: int, target: int) -> tuple[tuple[int, int], float]:
    aw = min(target, width)
    ah = max(8, int(round(height * aw / width)))
    return (aw, ah), aw / width


def _offsets_at(offsets: Sequence[Sequence[float]] | None, i: int) -> tuple[float, float]:
    if offsets is None:
        return (0.0, 0.0)
    if i >= len(offsets):
        raise FfvfxError(f"camera offsets cover {len(offsets)} frames but the video has more; "
                         "give one (x, y) offset per frame")
    x, y = offsets[i]
    return (float(x), float(y))


def write_mask(path: str | os.PathLike[str], out_path: str | os.PathLike[str], tools: Toolchain, *,
               offsets: Sequence[Sequence[float]] | None = None, start: float | None = None,
               duration: float | None = None, motion_thresh: float = 10, focus_block: int = 31,
               width: int = 960, smooth: int = 3) -> MaskInfo:
    """Compute the subject mask of ``path`` and write it to ``out_path`` (FFV1 gray, .mkv).

    ``offsets``: per-frame camera offsets (x, y) in full-resolution pixels of the frames analysed
    (the first is the first frame of the ``start``/``duration`` range; only differences matter),
    convention of :func:`ffvfx.stages.demo.camera_path`; None means a static camera. ``motion_thresh``
    in 8-bit levels (0..255), ``focus_block`` in full-resolution pixels (odd, >= 3), ``width``
    the analysis width (never above the input's), ``smooth`` the temporal window in frames.
    Raises FfvfxError with one line on bad parameters or unreadable input.
    """
    check_params(motion_thresh=motion_thresh, focus_block=focus_block, width=width, smooth=smooth)
    src = str(path)
    info = probe(src, tools)
    size, scale = _analysis_size(info.width, info.height, width)
    analyser = _Analyser(size, scale, float(motion_thresh), int(focus_block))
    out = Path(out_path)
    check_output(out, [src], overwrite=True)  # a mask is replaced freely, never over its input
    full = (info.width, info.height)
    vf = f"scale={info.width}:{info.height}:flags=bilinear" if size != full else None
    coverage: list[float] = []
    with atomic_path(out, overwrite=True) as tmp:
        enc = FrameEncoder(encoder_argv(tools.ffmpeg, size, info.fps, "gray", tmp,
                                        ["-c:v", "ffv1", "-level", "3", "-pix_fmt", "gray", "-f", "matroska"],
                                        vf), failure=partial(_mask_failed, out))
        try:
            for soft in _masks(gray_frames(src, tools, size, start=start, duration=duration),
                               analyser, offsets, smooth):
                coverage.append(float(soft.mean()) / 255.0)
                enc.write(soft.tobytes())
            enc.finish("mask")
        except BaseException:
            enc.kill()
            raise
        if not coverage:
            raise FfvfxError(f"{src}: no video frames to analyse"
                             + (" in the requested time range" if start or duration else ""))
    return MaskInfo(out, len(coverage), tuple(coverage), info.width, info.height, info.fps, size)


def _mask_failed(out: Path, code: int, stderr: str) -> FfvfxError:
    """The one line of a mask encoder that failed with exit ``code``."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    return FfvfxError(f"{out}: ffmpeg could not write the mask ({lines[-1] if lines else code})")


def _masks(frames: Iterator[np.ndarray], analyser: _Analyser,
           offsets: Sequence[Sequence[float]] | None, smooth: int) -> Iterator[np.ndarray]:
    """Soft uint8 masks, one per input frame, in order; holds O(smooth) frames."""
    back, ahead = smooth // 2, (smooth - 1) // 2
    prepared: deque = deque(maxlen=3)  # (index, (blurred, focus)) of frames i-1, i, i+1
    binaries: deque = deque(maxlen=smooth)  # (index, binary) of the smoothing window
    next_out = 0

    def emit(upto_final: bool) -> Iterator[np.ndarray]:
        nonlocal next_out
        newest = binaries[-1][0] if binaries else -1
        while binaries and next_out <= newest and (upto_final or newest >= next_out + ahead):
            window = [b for k, b in binaries if next_out - back <= k <= next_out + ahead]
            own = next(b for k, b in binaries if k == next_out)
            votes = np.sum(window, axis=0, dtype=np.uint8) if len(window) > 1 else own
            n = len(window)
            hard = (2 * votes.astype(np.uint16) > n) | ((2 * votes.astype(np.uint16) == n) & (own > 0))
            yield analyser.finish(hard.astype(np.uint8))
            next_out += 1

    def classify(k: int) -> None:
        frames_by = dict(prepared)
        cur = frames_by[k]
        binaries.append((k, analyser.raw_mask(
            cur, frames_by.get(k - 1), frames_by.get(k + 1), _offsets_at(offsets, k),
            _offsets_at(offsets, k - 1) if k > 0 else None,
            _offsets_at(offsets, k + 1) if (k + 1) in frames_by else None)))

    i = -1
    for i, gray in enumerate(frames):
        prepared.append((i, analyser.prepare(gray)))
        if i >= 1:
            classify(i - 1)
            yield from emit(False)
    if i >= 0:
        classify(i)
        yield from emit(True)


# -- cache -------------------------------------------------------------------------------------
def _fraction(text: object) -> bool:
    """``text`` is a rate as :class:`~fractions.Fraction` writes one (``30000/1001``, ``25``), > 0."""
    try:
        return isinstance(text, str) and Fraction(text) > 0
    except (ValueError, ZeroDivisionError):
        return False


_SIDECAR = {"format": "ffvfx-mask", "version": MASK_VERSION, "frames": int, "width": int,
            "height": int, "fps": _fraction, "analysis_size": cache.Array(int, 2),
            "coverage": [float]}
"""What a cached mask's ``mask-KEY.json`` must hold, besides a manifest naming its video."""


def mask_key(path: str | os.PathLike[str], *, offsets: Sequence[Sequence[float]] | None = None,
             start: float | None = None, duration: float | None = None, motion_thresh: float = 10,
             focus_block: int = 31, width: int = 960, smooth: int = 3) -> str:
    """Stable key of a mask: input identity (real path, size, mtime), range, offsets, parameters."""
    try:
        identity = cache.file_identity(path)
    except OSError:
        raise FfvfxError(f"{path}: no such file") from None
    payload = {
        "v": MASK_VERSION, "input": identity,
        "start": start or 0, "duration": duration or 0, "motion_thresh": float(motion_thresh),
        "focus_block": int(focus_block), "width": int(width), "smooth": int(smooth),
        "offsets": None if offsets is None else [[round(float(x) * 1024), round(float(y) * 1024)]
                                                 for x, y in offsets],
    }
    return cache.key(payload)


def cached_mask(path: str | os.PathLike[str], tools: Toolchain, *,
                cache_dir: str | os.PathLike[str] | None = None,
                offsets: Sequence[Sequence[float]] | None = None, start: float | None = None,
                duration: float | None = None, motion_thresh: float = 10, focus_block: int = 31,
                width: int = 960, smooth: int = 3,
                say: Callable[[str], None] = lambda msg: None) -> MaskInfo:
    """:func:`write_mask` into ``$FFVFX_CACHE`` (or ~/.cache/ffvfx), reused while the input and
    every parameter are unchanged: ``mask-<key>.mkv`` plus ``mask-<key>.json`` (written last).
    ``say`` is told whether the mask is computed or reused."""
    params = dict(motion_thresh=motion_thresh, focus_block=focus_block, width=width, smooth=smooth)
    check_params(**params)
    root = cache.root(cache_dir)
    key = mask_key(path, offsets=offsets, start=start, duration=duration, **params)
    video, sidecar = root / f"mask-{key}.mkv", root / f"mask-{key}.json"
    data = cache.load(sidecar, {**_SIDECAR, cache.FILES: {video.name: dict}},
                      frames=lambda p: len(frame_times(str(p), tools.ffmpeg)))
    if data is not None and len(data["coverage"]) != data["frames"]:
        cache.damaged(sidecar)
        data = None
    if data is not None:
        say("subject mask: cached")
        return MaskInfo(video, data["frames"], tuple(data["coverage"]), data["width"], data["height"],
                        Fraction(data["fps"]), tuple(data["analysis_size"]))
    say("computing the subject mask (cached for the next run)")
    cache.folder(root)
    info = write_mask(path, video, tools, offsets=offsets, start=start, duration=duration, **params)
    data = {"format": "ffvfx-mask", "version": MASK_VERSION, "input": os.path.realpath(path),
            "frames": info.frames, "width": info.width, "height": info.height, "fps": str(info.fps),
            "analysis_size": list(info.analysis_size), "motion_thresh": motion_thresh,
            "focus_block": focus_block, "analysis_width": width, "smooth": smooth, "start": start,
            "duration": duration, "coverage": list(info.coverage)}
    cache.save(sidecar, data, files={video.name: info.frames})  # written last: the mask is whole
    return info
