"""Seamless loops in a video: spans whose last frame leads back into their first.

A loop is the half-open frame range ``[start, end)`` (0-based frame numbers of the decoded input,
``length = end - start`` frames): played over and over, frame ``end - 1`` is followed by frame
``start``, so it is seamless when frame ``start`` looks like frame ``end`` (the frame that really
followed ``end - 1``).

Analysis decodes the input once through ffmpeg at :data:`ANALYSIS_WIDTH` px wide in 8-bit gray
(:func:`ffvfx.stages.analysis.camera.gray_frames`) and keeps, per frame, a perceptual hash (``imagehash``:
phash, dhash, ahash or whash of ``hash_size``\\ :sup:`2` bits), a :data:`THUMB_WIDTH` px thumbnail,
whether the frame is dark or flat, the squared error of the step from the frame before (whole
frame and each :data:`TILE` px tile) and the camera's offset since frame 0 (the subject-trimmed
tracker of :mod:`ffvfx.stages.analysis.camera`). The gray copy itself goes to an unnamed temporary file
(about 9 KB per frame of 16:9 video), read back only for the frames a seam is judged on. What
stays in memory grows with the clip, as any search for loops anywhere in it must: about 0.8 KB a
frame of signatures (hash, thumbnail, step errors, camera offset, in flat buffers), 2 bytes a
frame for every frame of ``--max-length`` (hash distances as bit counts) and 32 bytes a candidate
found: 120 s at 30 fps with 6 s loops take about 5 MB.
Distances, all in [0, 1]:

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
matches in a single frame pair, and the pixel term orders hash ties.

A hash sees the frame as a few coarse blobs, so a subject that jumps at the seam or a camera that
drifts a few pixels over the loop goes unseen. Candidates are therefore judged on real pixels too,
best score first, and only seamless ones are kept (:func:`judge_seam`):

5. the seam step as played (frame ``end - 1`` -> frame ``start``; with a crossfade of ``c`` frames,
   each of the ``c + 1`` steps through the blended frames) is at most :data:`SEAM_MARGIN_DB` worse
   in PSNR than the ordinary steps ``k - 1 -> k`` around both ends of the seam (their upper
   quartile, or the step of the loop it stands in for where that is larger), over the whole frame
   and in every tile (a jumping person is a small part of the frame); errors under
   :data:`INVISIBLE_PSNR` count as that floor;
6. the camera drift over the loop (its offset at frame ``end`` against frame ``start``), spread
   over the ``c + 1`` played steps, is at most :data:`DRIFT_MARGIN` times the camera's ordinary
   step near the seam (upper quartile, at least :data:`DRIFT_FLOOR` px).

The best ``count`` seamless loops that do not overlap (as frame ranges) are returned best first
(ties: the shorter, then the earlier), with the best refused candidates and the crossfade that
would hide each one's seam.
"""

from __future__ import annotations

import math
import tempfile
from array import array
from dataclasses import asdict, dataclass

import cv2
import imagehash
import numpy as np
from PIL import Image

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.probe import probe
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.stages.analysis.camera import _Tracker, analysis_size, gray_frames

HASHES = {"phash": imagehash.phash, "dhash": imagehash.dhash, "ahash": imagehash.average_hash,
          "whash": imagehash.whash}
ANALYSIS_WIDTH = 128
"""Width (px) of the gray frames the hashes are computed from and seams are judged on."""
THUMB_WIDTH = 32
"""Width (px) of the thumbnails the pixel distance compares."""
SEAM_WINDOW = 2
"""Frames on each side of the seam that are compared too (the window is 2W+1 pairs)."""
DARK_LEVEL = 24
"""A frame whose 98th-percentile gray level is below this (8-bit) is dark."""
FLAT_STD = 4.0
"""A frame whose gray standard deviation is below this (8-bit levels) is flat."""
TILE = 16
"""Side (px of the analysis copy, about) of the tiles a seam is judged in as well as whole: a
subject a tile wide is most of its tile's error but a few percent of the frame's."""
NEAR_STEPS = 3
"""Ordinary steps taken on each side of each end of the seam as its reference (frames)."""
SEAM_MARGIN_DB = 3.0
"""How much worse (PSNR dB) than the ordinary steps near it a played seam step may be: 3 dB is
twice their squared error. A true match plays the step ``end - 1 -> end`` again, one of those
steps, so it sits inside their spread; a jump reported at 19 dB against 26.7 dB is far outside."""
INVISIBLE_PSNR = 42.0
"""PSNR (dB, 8-bit gray; rms error 2 levels) above which a step's error counts as this floor:
still tiles and noise are not compared as ratios of near-zero errors."""
DRIFT_MARGIN = 2.0
"""The camera may move this many times its ordinary step (upper quartile near the seam) at the seam."""
DRIFT_FLOOR = 0.2
"""Camera step (analysis px) always allowed: twice the tracker's frame-to-frame noise measured on
a still camera with a large moving subject at this size."""
LONGEST_CROSSFADE = 1.0
"""Longest crossfade (s) a refusal suggests: a longer blend is a dissolve rather than a seam."""
PSNR_CAP = 99.0
"""PSNR (dB) reported for identical frames (the JSON listing has no infinity)."""


@dataclass(frozen=True)
class Seam:
    """How the seam of ``[start, end)`` plays, on real pixels (see :func:`judge_seam`).

    PSNRs in dB of the analysis copy (8-bit gray); ``tile_*`` are the same two numbers in the tile
    where the seam stands out most; drifts in input px.
    """

    seam_psnr: float       # the seam step as played (its worst step with a crossfade)
    step_psnr: float       # the ordinary steps near the seam (upper quartile of their error)
    tile_seam_psnr: float
    tile_step_psnr: float
    drift: float           # camera shift from frame start to frame end
    step_drift: float      # the camera's ordinary step near the seam (upper quartile)
    crossfade: int         # frames the seam was judged blended over
    seamless: bool

    def describe(self) -> str:
        """The numbers in words, for one line of output."""
        return (f"seam {self.seam_psnr:.1f} dB against {self.step_psnr:.1f} dB for ordinary steps, "
                f"{self.tile_seam_psnr:.1f} against {self.tile_step_psnr:.1f} dB in its worst tile, "
                f"camera drift {self.drift:.1f} px against {self.step_drift:.1f} px a frame")


@dataclass(frozen=True)
class Loop:
    """One loop: frames ``[start, end)`` (0-based), seconds at the input's frame rate, quality."""

    start: int
    end: int
    fps: float
    score: float          # 1 - (seam + pixel_seam) / 2, higher is better
    seam: float           # windowed hash distance at the seam, 0..1
    distance: float       # hash distance of frame start and frame end alone, 0..1
    pixels: Seam | None = None  # the seam judged on real pixels (None: a loop given, not found)
    hide_crossfade: int | None = None  # refused loops: the smallest crossfade (frames) that hides the seam

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
        data = asdict(self)
        data |= data.pop("pixels") or {}
        if self.pixels is None or self.pixels.seamless:
            del data["hide_crossfade"]
        return data | {"length": self.length, "start_time": round(self.start_time, 6),
                       "end_time": round(self.end_time, 6),
                       "duration": round(self.length / self.fps, 6)}


class LoopSearch(list):
    """The seamless loops found (a list of :class:`Loop`, best first) and ``refused``: the best
    non-overlapping candidates whose ends match by hash but whose seam shows in the pixels."""

    def __init__(self, loops: list[Loop], refused: list[Loop], min_length: int = 2):
        super().__init__(loops)
        self.refused = refused
        self.min_length = min_length  # frames: a crossfade may be at most half of it

    def refusal(self) -> str | None:
        """One line on why no candidate is seamless and what crossfade would hide a seam, or None
        when no span's ends even matched by hash."""
        if not self.refused:
            return None
        fixable = [x for x in self.refused if x.hide_crossfade is not None]
        worst = (fixable or self.refused)[0]
        text = (f"frames {worst.start}-{worst.end} match by hash but jump at the seam "
                f"({worst.pixels.describe()})")
        if not fixable:
            return text + f"; no crossfade up to {LONGEST_CROSSFADE:g} s that fits in the loop hides it"
        fade = worst.hide_crossfade
        longer = f" with --min-length {2 * fade}" if 2 * fade > self.min_length else ""
        return text + f"; --crossfade {fade}{longer} blends it away"


@dataclass
class Frames:
    """Per-frame analysis data: hashes, thumbnails, flags, steps, and the gray copies themselves."""

    bits: np.ndarray        # (n, hash bits) bool
    thumbs: np.ndarray      # (n, h, THUMB_WIDTH) uint8
    blank: np.ndarray       # (n,) bool: dark or flat
    fps: float
    gray: np.ndarray        # (n, H, W) uint8 analysis copies (memory-mapped from a temporary file)
    step_error: np.ndarray  # (n, 1 + tiles) float32: squared error of step k-1 -> k, whole frame then
                            # each tile (8-bit levels^2); row 0 is nan
    camera: np.ndarray      # (n, 2) float32: content offset since frame 0 (analysis px)
    scale: float            # input px per analysis px

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
    """Decode ``path`` once at ``width`` px and compute every frame's hash, thumbnail, flags and
    step from the frame before; the gray copies go to a temporary file (see the module docstring)."""
    info = probe(path, tools)
    size = analysis_size(info.width, info.height, width)
    thumb_size = analysis_size(size[0], size[1], THUMB_WIDTH)
    grid = _tile_grid(size)
    tracker = _Tracker(size)
    func = HASHES[hash_name]
    # flat buffers, not lists of small arrays: a few hundred bytes a frame and no copy at the end
    bits, thumbs, blank = bytearray(), bytearray(), bytearray()
    errors, camera = array("f"), array("f")
    n = 0
    prev = None
    full = "no room in the temporary folder for the gray copies the seam check reads"
    try:
        store = tempfile.TemporaryFile(prefix="ffvfx-loop-")
    except OSError as exc:
        raise FfvfxError(f"{full} ({exc.strerror})") from None
    with store:
        for gray in gray_frames(path, tools, size):
            n += 1
            bits += func(Image.fromarray(gray), hash_size=hash_size).hash.astype(np.uint8).tobytes()
            thumbs += cv2.resize(gray, thumb_size, interpolation=cv2.INTER_AREA).tobytes()
            blank.append(bool(np.percentile(gray, 98) < DARK_LEVEL or gray.std() < FLAT_STD))
            try:
                store.write(gray.tobytes())
            except OSError as exc:
                raise FfvfxError(f"{path}: {full} ({exc.strerror})") from None
            cur = gray.astype(np.float32)
            errors.extend(np.full(1 + grid[0] * grid[1], np.nan) if prev is None
                          else _step_error(prev, cur, grid))
            prev = cur
            motion = tracker.push(gray)
            camera.extend((0.0, 0.0) if motion is None else motion[0])
        if not n:
            raise FfvfxError(f"{path}: no video frames to analyse")
        try:
            store.flush()
            copies = np.memmap(store, np.uint8, "r", shape=(n, size[1], size[0]))
        except OSError as exc:
            raise FfvfxError(f"{path}: {full} ({exc.strerror})") from None
    return Frames(bits=np.frombuffer(bits, bool).reshape(n, -1),
                  thumbs=np.frombuffer(thumbs, np.uint8).reshape(n, thumb_size[1], thumb_size[0]),
                  blank=np.frombuffer(blank, bool), fps=float(info.fps), gray=copies,
                  step_error=np.frombuffer(errors, np.float32).reshape(n, -1),
                  camera=np.frombuffer(camera, np.float32).reshape(n, 2), scale=info.width / size[0])


def find_loops(frames: Frames, *, min_length: int, max_length: int, count: int = 5,
               threshold: float = 0.1, min_motion: float = 0.06, max_motion: float = 0.35,
               margin: int = 0) -> LoopSearch:
    """The best ``count`` non-overlapping seamless loops (see the module docstring), best first.

    Lengths are in frames. ``margin`` is the crossfade (frames) the loops will be written with:
    that many frames must exist before ``start``, and the seam is judged blended over them.
    """
    max_length = min(max_length, len(frames) - 1)
    if max_length < min_length:
        return LoopSearch([], [], min_length)
    score, lengths, begins, seams, distances = _candidate_columns(
        frames, min_length, max_length, threshold, min_motion, max_motion, margin)
    order = np.lexsort((begins, lengths, score))  # best score, then the shorter, then the earlier
    candidates = ((float(score[i]), int(lengths[i]), int(begins[i]), float(seams[i]), float(distances[i]))
                  for i in order)
    best, refused = _take_loops(frames, candidates, count, margin)
    refused = [_with_hiding_crossfade(frames, x, margin) for x in refused]
    return LoopSearch(best, refused, min_length)


def _candidate_columns(frames: Frames, min_length: int, max_length: int, threshold: float,
                       min_motion: float, max_motion: float, margin: int) -> tuple[np.ndarray, ...]:
    """Every (start, length) that passes the hash tests, as columns: negated score, length, start,
    seam and distance (arrays of equal length, in no particular order)."""
    n = len(frames)
    w = SEAM_WINDOW
    reach = max_length + 1
    nbits = frames.bits.shape[1]
    # Band matrices over offsets d = 1..reach, as counts of differing bits (2 bytes each, not 8):
    # hd[d][i] * nbits = h(i, i + d), for i in 0..n-d-1.
    hd = [None] + [np.count_nonzero(frames.bits[:-d] != frames.bits[d:], axis=1).astype(np.uint16)
                   for d in range(1, reach)]
    step = np.concatenate([[0.0], hd[1] / nbits])          # step[k] = h(k - 1, k)
    cuts = np.concatenate([[0], np.cumsum(step[1:] > max_motion)])  # cuts[k]: cuts in steps 1..k
    # running max over the loop's interior of h(start, k), per start, as the length grows
    interior = np.zeros(n)
    # the candidates as columns (score, length, start, seam, distance: 32 bytes each, not a tuple
    # of Python numbers), one array of each per length
    columns: list[tuple[np.ndarray, ...]] = []
    blank = frames.blank.astype(float)
    for length in range(2, max_length + 1):
        interior[: n - length + 1] = np.maximum(interior[: n - length + 1],
                                                hd[length - 1][: n - length + 1] / nbits)
        if length < min_length:
            continue
        starts = np.arange(margin, n - length)
        if not len(starts):
            break
        ends = starts + length
        seam = _window_mean(hd[length] / nbits, w)[starts]
        keep = (seam <= threshold) & (interior[starts] >= min_motion) \
            & (cuts[ends] - cuts[starts] == 0)
        if not keep.any():
            continue
        blank_pair = np.maximum(blank[:-length], blank[length:])  # either side of the seam
        keep &= _window_max(blank_pair, w)[starts] == 0
        kept = starts[keep]
        pix = np.array([_pixel_seam(frames.thumbs, int(s), int(s) + length, w) for s in kept])
        seams = seam[kept - margin]
        columns.append((-(1.0 - (seams + pix) / 2.0), np.full(len(kept), length, np.int32),
                        kept.astype(np.int32), seams, hd[length][kept] / nbits))
    return tuple(np.concatenate(c) for c in zip(*columns, strict=True)) if columns else (np.zeros(0),) * 5


def _take_loops(frames: Frames, candidates, count: int, margin: int) -> tuple[list[Loop], list[Loop]]:
    """Up to ``count`` non-overlapping loops whose pixels are seamless, in ``candidates``' order,
    and up to ``count`` non-overlapping ones refused for a visible seam."""
    n = len(frames)
    taken = np.zeros(n, bool)
    shown = np.zeros(n, bool)
    best: list[Loop] = []
    refused: list[Loop] = []
    for neg_score, length, s, seam_value, distance in candidates:
        e = s + length
        if taken[s:e].any():
            continue
        pixels = judge_seam(frames, s, e, margin)
        loop = Loop(s, e, frames.fps, round(-neg_score, 6), round(seam_value, 6), round(distance, 6),
                    pixels)
        if pixels.seamless:
            taken[s:e] = True
            best.append(loop)
            if len(best) == count:
                break
        elif len(refused) < count and not shown[s:e].any():
            shown[s:e] = True
            refused.append(loop)
    return best, refused


def judge_seam(frames: Frames, start: int, end: int, crossfade: int = 0) -> Seam:
    """Whether ``[start, end)`` with a crossfade of ``crossfade`` frames plays without a visible
    seam (rules 5 and 6 of the module docstring)."""
    played = _played_errors(frames, start, end, crossfade)          # (c + 1, 1 + tiles)
    near = _near_steps(len(frames), start, end, crossfade)
    # played step j against the upper quartile of the steps near both ends (the played frames show
    # the content of both), or the step it stands in for where that is larger: end - c + j,
    # inside the loop, so never a cut (rule 4)
    errors = frames.step_error
    ordinary = np.fmax(np.percentile(errors[near], 75, axis=0), errors[end - crossfade: end + 1])
    floor = 255.0 ** 2 / 10 ** (INVISIBLE_PSNR / 10)
    excess = 10 * np.log10(np.maximum(played, floor) / np.maximum(ordinary, floor))
    whole = int(np.argmax(excess[:, 0]))
    # the worst tile: the largest excess, among equals (all under the floor) the largest error
    worst = np.lexsort((played[:, 1:].ravel(), excess[:, 1:].ravel()))[-1]
    step, tile = np.unravel_index(int(worst), excess[:, 1:].shape)
    cam = frames.camera
    step_drift = float(np.percentile(np.hypot(*(cam[near] - cam[near - 1]).T), 75))
    drift = math.hypot(*(cam[end] - cam[start]))
    seamless = float(excess.max()) <= SEAM_MARGIN_DB \
        and drift / (crossfade + 1) <= DRIFT_MARGIN * max(step_drift, DRIFT_FLOOR)
    return Seam(seam_psnr=_psnr(played[whole, 0]), step_psnr=_psnr(ordinary[whole, 0]),
                tile_seam_psnr=_psnr(played[step, 1 + tile]),
                tile_step_psnr=_psnr(ordinary[step, 1 + tile]),
                drift=round(drift * frames.scale, 2),
                step_drift=round(step_drift * frames.scale, 2), crossfade=crossfade,
                seamless=bool(seamless))


def _with_hiding_crossfade(frames: Frames, loop: Loop, crossfade: int) -> Loop:
    """``loop`` (refused) with the smallest crossfade above ``crossfade`` frames that makes its
    seam pass (None: none does); it must fit before the start, in half the loop and in
    :data:`LONGEST_CROSSFADE`."""
    limit = min(loop.start, loop.length // 2, round(LONGEST_CROSSFADE * frames.fps))
    hide = next((c for c in range(crossfade + 1, limit + 1)
                 if judge_seam(frames, loop.start, loop.end, c).seamless), None)
    return Loop(loop.start, loop.end, loop.fps, loop.score, loop.seam, loop.distance, loop.pixels, hide)


def _played_errors(frames: Frames, start: int, end: int, crossfade: int) -> np.ndarray:
    """Squared errors (whole frame, then each tile) of the steps of the played loop that the input
    never had: frame ``end - 1`` -> ``start``, or with a crossfade of c frames the c + 1 steps from
    frame ``end - c - 1`` through the blended frames into ``start`` (as
    :func:`ffvfx.effects.loop.segment` blends them)."""
    gray = frames.gray
    grid = _tile_grid(gray.shape[:0:-1])
    shown = [np.asarray(gray[end - crossfade - 1], np.float32)]
    for j in range(crossfade):
        weight = (j + 1) / (crossfade + 1)
        tail = np.asarray(gray[end - crossfade + j], np.float32)
        lead = np.asarray(gray[start - crossfade + j], np.float32)
        shown.append(tail * (1 - weight) + lead * weight)
    shown.append(np.asarray(gray[start], np.float32))
    return np.array([_step_error(a, b, grid) for a, b in zip(shown, shown[1:], strict=False)])


def _near_steps(n: int, start: int, end: int, crossfade: int) -> np.ndarray:
    """Frame numbers k of the input's own steps k-1 -> k around both ends of the seam (and through
    the frames a crossfade blends before each), the reference a seam step is judged against."""
    around = np.arange(-crossfade - NEAR_STEPS + 1, NEAR_STEPS + 1)
    ks = np.unique(np.concatenate([start + around, end + around]))
    return ks[(ks >= 1) & (ks < n)]


def _tile_grid(size: tuple[int, int]) -> tuple[int, int]:
    """Tiles (columns, rows) of about :data:`TILE` px that cover a frame of ``size`` (w, h)."""
    return max(1, size[0] // TILE), max(1, size[1] // TILE)


def _step_error(a: np.ndarray, b: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Mean squared difference of two float32 frames (8-bit levels^2): whole, then per tile."""
    d = b - a
    sq = d * d
    tiles = cv2.resize(sq, grid, interpolation=cv2.INTER_AREA)
    return np.concatenate([[float(sq.mean())], tiles.ravel()])


def _psnr(mse: float) -> float:
    """PSNR (dB) of an 8-bit mean squared error, :data:`PSNR_CAP` for none, 2 decimals."""
    if mse <= 255.0 ** 2 / 10 ** (PSNR_CAP / 10):
        return PSNR_CAP
    return round(10 * math.log10(255.0 ** 2 / mse), 2)


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
    return float(np.mean([np.abs(thumbs[start + k].astype(np.float32) - thumbs[end + k]).mean()
                          for k in ks])) / 255.0
