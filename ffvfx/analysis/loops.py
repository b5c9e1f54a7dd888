"""Seamless loops in a video: spans whose last frame leads back into their first.

A loop is the half-open frame range ``[start, end)`` (0-based frame numbers of the decoded input,
``length = end - start`` frames): played over and over, frame ``end - 1`` is followed by frame
``start``, so it is seamless when frame ``start`` looks like frame ``end`` (the frame that really
followed ``end - 1``).

Analysis decodes the input once through ffmpeg at :data:`ANALYSIS_WIDTH` px wide in 8-bit gray
(:func:`ffvfx.analysis.camera.gray_frames`) and keeps, per frame, a perceptual hash (``imagehash``:
phash, dhash, ahash or whash of ``hash_size``\\ :sup:`2` bits), a :data:`THUMB_WIDTH` px thumbnail
and whether the frame is dark or flat. Distances, all in [0, 1]:

- hash distance ``h(i, j)``: normalised Hamming distance of the two hashes (differing bits / bits);
- pixel distance ``p(i, j)``: mean absolute difference of the two thumbnails / 255.

A candidate ``(start, end)`` with ``min_length <= end - start <= max_length`` (frames) is kept when

1. the seam matches: ``seam = mean over k in [-W, W] of h(start + k, end + k)`` is at most
   ``threshold`` (W = :data:`SEAM_WINDOW` frames; pairs falling outside the clip are left out);
2. no frame of the seam window (at either side) is dark or flat: an all-black stretch matches
   itself perfectly and is no loop (dark: 98th percentile below :data:`DARK_LEVEL`; flat: standard
   deviation below :data:`FLAT_STD`, both in 8-bit levels);
3. something happens inside: ``max over start < k < end of h(start, k)`` is at least
   ``min_motion`` (compared with the loop's own start, so loops of 2 periods still pass);
4. no scene cut inside: every step ``h(k - 1, k)`` for ``start < k <= end`` is at most
   ``max_motion``.

Its score is ``1 - (seam + pixel_seam) / 2`` with ``pixel_seam`` the same window mean of ``p``: a
loop whose motion continues smoothly across the seam (all 2W+1 pairs match) ranks above one that
matches in a single frame pair, and the pixel term orders hash ties. The best ``count`` loops that
do not overlap (as frame ranges) are returned best first (ties: the shorter, then the earlier).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import imagehash
import numpy as np
from PIL import Image

from ffvfx.analysis.camera import analysis_size, gray_frames
from ffvfx.errors import FfvfxError
from ffvfx.probe import probe
from ffvfx.toolchain import Toolchain

HASHES = {"phash": imagehash.phash, "dhash": imagehash.dhash, "ahash": imagehash.average_hash,
          "whash": imagehash.whash}
ANALYSIS_WIDTH = 128
"""Width (px) of the gray frames the hashes are computed from."""
THUMB_WIDTH = 32
"""Width (px) of the thumbnails the pixel distance compares."""
SEAM_WINDOW = 2
"""Frames on each side of the seam that are compared too (the window is 2W+1 pairs)."""
DARK_LEVEL = 24
"""A frame whose 98th-percentile gray level is below this (8-bit) is dark."""
FLAT_STD = 4.0
"""A frame whose gray standard deviation is below this (8-bit levels) is flat."""


@dataclass(frozen=True)
class Loop:
    """One loop: frames ``[start, end)`` (0-based), seconds at the input's frame rate, quality."""

    start: int
    end: int
    fps: float
    score: float          # 1 - (seam + pixel_seam) / 2, higher is better
    seam: float           # windowed hash distance at the seam, 0..1
    distance: float       # hash distance of frame start and frame end alone, 0..1

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def start_time(self) -> float:
        return self.start / self.fps

    @property
    def end_time(self) -> float:
        return self.end / self.fps

    def to_json(self) -> dict:
        return asdict(self) | {"length": self.length, "start_time": round(self.start_time, 6),
                               "end_time": round(self.end_time, 6),
                               "duration": round(self.length / self.fps, 6)}


@dataclass
class Frames:
    """Per-frame analysis data: packed hash bits, thumbnails, dark-or-flat flags."""

    bits: np.ndarray      # (n, hash bits) bool
    thumbs: np.ndarray    # (n, h, THUMB_WIDTH) float32, 0..1
    blank: np.ndarray     # (n,) bool: dark or flat
    fps: float

    def __len__(self) -> int:
        return len(self.blank)


def check_params(*, min_length: int, max_length: int, hash_name: str = "phash", hash_size: int = 8,
                 threshold: float = 0.1, min_motion: float = 0.06, max_motion: float = 0.35,
                 count: int = 5) -> None:
    """Raise FfvfxError for parameters no analysis can use (lengths in frames)."""
    if hash_name not in HASHES:
        raise FfvfxError(f"--hash: one of {', '.join(HASHES)} (got {hash_name!r})")
    if not 2 <= hash_size <= 32:
        raise FfvfxError(f"--hash-size: 2..32 (got {hash_size})")
    if hash_name == "whash" and hash_size & (hash_size - 1):
        raise FfvfxError(f"--hash-size for whash must be a power of 2 (got {hash_size})")
    if min_length < 2:
        raise FfvfxError(f"--min-length: at least 2 frames (got {min_length})")
    if max_length < min_length:
        raise FfvfxError(f"--max-length ({max_length} frames) is below --min-length ({min_length})")
    for name, value in (("threshold", threshold), ("min-motion", min_motion),
                        ("max-motion", max_motion)):
        if not 0 <= value <= 1:
            raise FfvfxError(f"--{name}: a distance between 0 and 1 (got {value:g})")
    if count < 1:
        raise FfvfxError(f"--loops: at least 1 (got {count})")


def analyse(path: str, tools: Toolchain, *, hash_name: str = "phash", hash_size: int = 8,
            width: int = ANALYSIS_WIDTH) -> Frames:
    """Decode ``path`` once at ``width`` px and compute every frame's hash, thumbnail and flags."""
    info = probe(path, tools)
    size = analysis_size(info.width, info.height, width)
    thumb_size = analysis_size(size[0], size[1], THUMB_WIDTH)
    func = HASHES[hash_name]
    bits, thumbs, blank = [], [], []
    for gray in gray_frames(path, tools, size):
        bits.append(func(Image.fromarray(gray), hash_size=hash_size).hash.ravel())
        thumbs.append(cv2.resize(gray, thumb_size, interpolation=cv2.INTER_AREA))
        blank.append(np.percentile(gray, 98) < DARK_LEVEL or gray.std() < FLAT_STD)
    if not bits:
        raise FfvfxError(f"{path}: no video frames to analyse")
    return Frames(bits=np.array(bits, bool), thumbs=np.array(thumbs, np.float32) / 255.0,
                  blank=np.array(blank, bool), fps=float(info.fps))


def find_loops(frames: Frames, *, min_length: int, max_length: int, count: int = 5,
               threshold: float = 0.1, min_motion: float = 0.06, max_motion: float = 0.35,
               margin: int = 0) -> list[Loop]:
    """The best ``count`` non-overlapping loops (see the module docstring), best first.

    Lengths are in frames. ``margin`` frames must exist before ``start`` (a crossfade reads them).
    """
    n = len(frames)
    w = SEAM_WINDOW
    max_length = min(max_length, n - 1)
    if max_length < min_length:
        return []
    reach = max_length + 1
    # Band matrices over offsets d = 1..reach: hd[d][i] = h(i, i + d), for i in 0..n-d-1.
    hd = [None] + [np.mean(frames.bits[:-d] != frames.bits[d:], axis=1) for d in range(1, reach)]
    step = np.concatenate([[0.0], hd[1]])                  # step[k] = h(k - 1, k)
    cuts = np.concatenate([[0], np.cumsum(step[1:] > max_motion)])  # cuts[k]: cuts in steps 1..k
    # running max over the loop's interior of h(start, k), per start, as the length grows
    interior = np.zeros(n)
    found: list[tuple[float, int, int, Loop]] = []
    blank = frames.blank.astype(float)
    for length in range(2, max_length + 1):
        interior[: n - length + 1] = np.maximum(interior[: n - length + 1], hd[length - 1][: n - length + 1])
        if length < min_length:
            continue
        starts = np.arange(margin, n - length)
        if not len(starts):
            break
        ends = starts + length
        seam = _window_mean(hd[length], w)[starts]
        keep = (seam <= threshold) & (interior[starts] >= min_motion) \
            & (cuts[ends] - cuts[starts] == 0)
        if not keep.any():
            continue
        blank_pair = np.maximum(blank[:-length], blank[length:])  # either side of the seam
        keep &= _window_max(blank_pair, w)[starts] == 0
        for s in starts[keep]:
            pix = _pixel_seam(frames.thumbs, int(s), int(s) + length, w)
            score = 1.0 - (float(seam[s - margin]) + pix) / 2.0
            loop = Loop(int(s), int(s) + length, frames.fps, round(score, 6),
                        round(float(seam[s - margin]), 6), round(float(hd[length][s]), 6))
            found.append((-score, length, int(s), loop))
    found.sort(key=lambda c: c[:3])
    taken = np.zeros(n, bool)
    best: list[Loop] = []
    for *_, loop in found:
        if taken[loop.start:loop.end].any():
            continue
        taken[loop.start:loop.end] = True
        best.append(loop)
        if len(best) == count:
            break
    return best


def _window_mean(values: np.ndarray, w: int) -> np.ndarray:
    """Mean of ``values[i - w .. i + w]`` at each i (clipped at the ends)."""
    kernel = np.ones(2 * w + 1)
    total = np.convolve(values, kernel, mode="same")
    counts = np.convolve(np.ones_like(values), kernel, mode="same")
    return total / counts


def _window_max(values: np.ndarray, w: int) -> np.ndarray:
    """Max of ``values[i - w .. i + w]`` at each i (clipped at the ends)."""
    padded = np.pad(values, w, constant_values=0)
    return np.lib.stride_tricks.sliding_window_view(padded, 2 * w + 1).max(axis=1)


def _pixel_seam(thumbs: np.ndarray, start: int, end: int, w: int) -> float:
    """Mean over k in [-w, w] of the thumbnail distance p(start + k, end + k), pairs in the clip."""
    ks = [k for k in range(-w, w + 1) if start + k >= 0 and end + k < len(thumbs)]
    return float(np.mean([np.abs(thumbs[start + k] - thumbs[end + k]).mean() for k in ks]))
