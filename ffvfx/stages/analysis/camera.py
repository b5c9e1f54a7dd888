"""Camera path of a video: frame-to-frame shifts by phase correlation, integrated per frame.

The video is decoded by ffmpeg (frame-accurate, ``-ss``/``-t`` as input options like the render)
through a rawvideo pipe, scaled to ``width`` px wide (area filter, even height) in 8-bit gray.
Consecutive frames are compared with ``cv2.phaseCorrelate`` (Hanning window) and the shifts are
summed into a cumulative offset per frame in FULL-resolution pixels.

Sign convention (the demo's, ``ffvfx.stages.demo``): ``offsets[i] = (ox, oy)`` is how far the camera moved
since frame 0, so the background appears shifted by ``-(ox, oy)`` on screen::

    frame_i[y, x] == frame_0[y + oy, x + ox]        (background pixels)

A camera panning right gives growing ``ox``. Frames whose correlation peak is weak (``response`` below
:data:`MIN_RESPONSE`: no texture, a cut, a flash) contribute no shift. Only the previous frame is
kept, so memory stays flat for any length.

:func:`cached_path` keeps the result in a JSON side file under ``$FFVFX_CACHE`` (or
``~/.cache/ffvfx``) keyed by the input's absolute path, size, mtime, the time range, the analysis
width and :data:`ANALYSIS_VERSION`; an unchanged input reuses it.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import cache
from ffvfx.ffmpeg.atomic import write_text
from ffvfx.ffmpeg.probe import probe
from ffvfx.ffmpeg.rawvideo import frames
from ffvfx.ffmpeg.toolchain import Toolchain

ANALYSIS_VERSION = 1
"""Bump when measured paths change, so cached side files are recomputed."""

MIN_RESPONSE = 0.05
"""Phase-correlation peak response below which a frame pair is taken as "no measurable shift"."""

FORMAT = "ffvfx-camera-path"

_SIDE_FILE = {"format": FORMAT, "version": ANALYSIS_VERSION, "fps": float,
              "size": (cache.Array(int, 2), None), "offsets": [cache.Array(float, 2)],
              "response": [float], "meta": {"key": dict}}
"""What a cached side file must hold (:func:`cached_path`); anything else is rebuilt."""


@dataclass
class CameraPath:
    """Per-frame camera offsets (x, y) in full-resolution pixels, frame 0 = (0, 0).

    ``response[i]`` is the phase-correlation peak of frames i-1 -> i (``response[0]`` = 1.0);
    ``size`` is the full-resolution (width, height) the offsets refer to.
    """

    fps: float
    offsets: list[tuple[float, float]]
    response: list[float] = field(default_factory=list)
    size: tuple[int, int] | None = None
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.offsets)

    def xs(self) -> list[float]:
        return [p[0] for p in self.offsets]

    def ys(self) -> list[float]:
        return [p[1] for p in self.offsets]

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": ANALYSIS_VERSION, "fps": self.fps,
                "size": list(self.size) if self.size else None,
                "convention": "offsets[i] = (ox, oy): frame_i[y, x] == frame_0[y + oy, x + ox] "
                              "for background pixels; full-resolution pixels",
                "offsets": [list(p) for p in self.offsets], "response": list(self.response),
                "meta": self.meta}

    @classmethod
    def from_json(cls, data: dict) -> CameraPath:
        if data.get("format") != FORMAT:
            raise FfvfxError("not an ffvfx camera path file")
        return cls(fps=float(data["fps"]),
                   offsets=[(float(x), float(y)) for x, y in data["offsets"]],
                   response=[float(r) for r in data.get("response", [])],
                   size=tuple(data["size"]) if data.get("size") else None,
                   meta=dict(data.get("meta") or {}))

    def save(self, json_path: str | os.PathLike[str]) -> Path:
        """Write atomically (temp file + rename); returns the path."""
        out = Path(json_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, json.dumps(self.to_json()), overwrite=True)
        return out

    @classmethod
    def load(cls, json_path: str | os.PathLike[str]) -> CameraPath:
        try:
            return cls.from_json(json.loads(Path(json_path).read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FfvfxError(f"{json_path}: cannot read camera path ({exc})") from None


def analysis_size(width: int, height: int, target: int = 960) -> tuple[int, int]:
    """(w, h) the analysis decodes at: ``target`` wide (never upscaled), aspect kept, both even."""
    w = min(int(target), width)
    w -= w % 2
    h = max(2, int(round(height * w / width / 2.0)) * 2)
    return max(2, w), h


def gray_frames(path: str, tools: Toolchain, size: tuple[int, int], *, start: float | None = None,
                duration: float | None = None) -> Iterator[np.ndarray]:
    """Decoded frames of ``path`` scaled to ``size`` (w, h), gray uint8, one at a time."""
    w, h = size
    return frames(str(path), tools, size, "gray", f"scale={w}:{h}:flags=area,format=gray",
                  start=start, duration=duration)


def measure_path(path: str | os.PathLike[str], tools: Toolchain, *, start: float | None = None,
                 duration: float | None = None, width: int = 960) -> CameraPath:
    """Measure the camera path of ``path`` (optionally ``start``/``duration`` seconds).

    See the module docstring for the sign convention. Raises FfvfxError when nothing decodes.
    """
    info = probe(str(path), tools)
    size = analysis_size(info.width, info.height, width)
    sx, sy = info.width / size[0], info.height / size[1]
    tracker = _Tracker(size)
    offsets: list[tuple[float, float]] = []
    response: list[float] = []
    for frame in gray_frames(str(path), tools, size, start=start, duration=duration):
        motion = tracker.push(frame)
        if motion is None:
            offsets.append((0.0, 0.0))
            response.append(1.0)
            continue
        (dx, dy), r = motion
        # (dx, dy): how far the content moved since frame 0; the camera moved the other way.
        offsets.append((-dx * sx + 0.0, -dy * sy + 0.0))
        response.append(r)
    if not offsets:
        raise FfvfxError(f"{path}: no video frames to analyse"
                         + (" in the requested time range" if start or duration else ""))
    return CameraPath(fps=float(info.fps), offsets=offsets, response=response,
                      size=(info.width, info.height),
                      meta={"analysis_size": list(size), "start": start, "duration": duration})


def cache_key(path: str | os.PathLike[str], start: float | None, duration: float | None,
              width: int = 960) -> dict:
    """What identifies one analysis: the input file as it is now, the range and the method."""
    return {"input": cache.file_identity(path),
            "start": float(start) if start else None, "duration": float(duration) if duration else None,
            "width": int(width), "version": ANALYSIS_VERSION}


def side_file(path: str | os.PathLike[str], start: float | None = None, duration: float | None = None,
              cache_dir: str | os.PathLike[str] | None = None, width: int = 960) -> Path:
    """The JSON side file :func:`cached_path` uses for these arguments."""
    digest = cache.key(cache_key(path, start, duration, width))
    return cache.root(cache_dir) / "camera" / f"{Path(path).stem[:40]}-{digest}.json"


def cached_path(path: str | os.PathLike[str], tools: Toolchain, start: float | None = None,
                duration: float | None = None, cache_dir: str | os.PathLike[str] | None = None,
                *, width: int = 960, say: Callable[[str], None] = lambda msg: None) -> CameraPath:
    """:func:`measure_path`, reusing the side file when the input and range are unchanged;
    ``say`` is told which of the two happens (a measurement takes a while)."""
    if not Path(path).is_file():
        raise FfvfxError(f"{path}: no such file")
    key = cache_key(path, start, duration, width)
    side = side_file(path, start, duration, cache_dir, width)
    data = cache.load(side, _SIDE_FILE)
    if data is not None and data["meta"]["key"] == key:
        say("camera motion: cached")
        return CameraPath.from_json(data)
    say("measuring camera motion (cached for the next run)")
    result = measure_path(path, tools, start=start, duration=duration, width=width)
    result.meta["key"] = key
    cache.save(side, result.to_json())  # a read-only cache only costs the next run the analysis
    return result


class _Tracker:
    """Content motion of every frame since frame 0, anchored to keyframes so errors do not pile up.

    ``cv2.phaseCorrelate`` (Hanning window) between consecutive frames at half the analysis size
    gives a robust coarse shift (1 ms at 480x270 against 14 ms at 960x540); alone it is biased
    towards whole pixels (measured: 1.5 px/frame read as 1.3 or 1.7), which integrates into pixels
    of drift. So each frame is then fitted to the current *anchor* frame by a translational
    Lucas-Kanade at the analysis size (both frames warped half-way, so both carry the same
    interpolation blur; pixels whose residual is far above the mean -- the moving subject,
    revealed borders -- are left out), seeded by the previous fit plus the coarse shift. A new
    anchor is taken when the content has moved more than :attr:`REANCHOR` of the frame or a fit
    fails, so a long pan adds one fit error per anchor instead of one per frame.
    """

    ITERATIONS = 4
    REANCHOR = 0.15

    def __init__(self, size: tuple[int, int]):
        self.size = size
        self.small = (max(16, size[0] // 2), max(16, size[1] // 2))
        self.scale = (size[0] / self.small[0], size[1] / self.small[1])
        self.window = cv2.createHanningWindow(self.small, cv2.CV_32F)
        self.limit = self.REANCHOR * min(size)
        self.prev_small: np.ndarray | None = None
        self.anchor: np.ndarray | None = None
        self.anchor_small: np.ndarray | None = None
        self.base = (0.0, 0.0)   # content motion of the anchor since frame 0
        self.rel = (0.0, 0.0)    # content motion of the previous frame since the anchor
        self.step = (0.0, 0.0)   # last frame-to-frame motion

    def push(self, frame: np.ndarray) -> tuple[tuple[float, float], float] | None:
        """Content motion (dx, dy) of ``frame`` since frame 0 and the correlation response."""
        cur = frame.astype(np.float32)  # a fresh array per frame
        small = cv2.resize(cur, self.small, interpolation=cv2.INTER_AREA)
        prev_small, self.prev_small = self.prev_small, small
        if prev_small is None or self.anchor is None:
            self.anchor, self.anchor_small = cur, small
            return None
        if float(small.std()) < 1.0 or float(prev_small.std()) < 1.0:  # flat: nothing to measure
            return self._restart(cur, small, (0.0, 0.0)), 0.0
        # copies: with a window, phaseCorrelate can modify its inputs in place (DESIGN 7)
        (cx, cy), r = cv2.phaseCorrelate(prev_small.copy(), small.copy(), self.window)
        if not (math.isfinite(cx) and math.isfinite(cy) and math.isfinite(r)) or r < MIN_RESPONSE:
            return self._restart(cur, small, (0.0, 0.0)), (float(r) if math.isfinite(r) else 0.0)
        coarse = (cx * self.scale[0], cy * self.scale[1])
        seed = (self.rel[0] + coarse[0], self.rel[1] + coarse[1])
        alt = (self.rel[0] + self.step[0], self.rel[1] + self.step[1])
        if math.hypot(seed[0] - alt[0], seed[1] - alt[1]) > 0.75:  # a subject may have won the peak
            half = (self.scale[0] / 2, self.scale[1] / 2)
            seed = min((seed, alt), key=lambda d: _residual(self.anchor_small, small,
                                                            (d[0] / 2 / half[0], d[1] / 2 / half[1])))
        fit = _refine(self.anchor, cur, seed, self.ITERATIONS)
        if fit is None or math.hypot(fit[0] - seed[0], fit[1] - seed[1]) > 2.0:
            return self._restart(cur, small, coarse), float(r)
        self.step = (fit[0] - self.rel[0], fit[1] - self.rel[1])
        self.rel = fit
        total = (self.base[0] + fit[0], self.base[1] + fit[1])
        if math.hypot(*fit) > self.limit:
            self.anchor, self.anchor_small, self.base, self.rel = cur, small, total, (0.0, 0.0)
        return total, float(r)

    def _restart(self, cur: np.ndarray, small: np.ndarray, step: tuple[float, float]) -> tuple[float, float]:
        """Take ``cur`` as the new anchor, ``step`` past the previous frame."""
        total = (self.base[0] + self.rel[0] + step[0], self.base[1] + self.rel[1] + step[1])
        self.anchor, self.anchor_small = cur, small
        self.base, self.rel, self.step = total, (0.0, 0.0), step
        return total


def _shifted(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """out[y, x] = img[y - dy, x - dx] (bilinear, edges replicated)."""
    m = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]], np.float32)
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _interior(shape: tuple[int, int], d: tuple[float, float]) -> tuple[slice, slice]:
    """The pixels both half-warped frames really see (revealed borders left out), every 2nd."""
    mx = int(math.ceil(abs(d[0]) / 2)) + 3
    my = int(math.ceil(abs(d[1]) / 2)) + 3
    return slice(my, max(my + 1, shape[0] - my), 2), slice(mx, max(mx + 1, shape[1] - mx), 2)


def _residual(prev: np.ndarray, cur: np.ndarray, d: tuple[float, float]) -> float:
    """Mean absolute difference of the two frames aligned by content motion ``d``."""
    a = _shifted(prev, d[0] / 2, d[1] / 2)
    b = _shifted(cur, -d[0] / 2, -d[1] / 2)
    ys, xs = _interior(prev.shape, d)
    return float(np.abs(b[ys, xs] - a[ys, xs]).mean())


def _refine(prev: np.ndarray, cur: np.ndarray, d: tuple[float, float],
            iterations: int) -> tuple[float, float] | None:
    """Symmetric, outlier-trimmed Lucas-Kanade refinement of the content motion ``d``.

    Both frames are sampled half-way (``prev`` at -d/2, ``cur`` at +d/2) on every 2nd pixel of
    the region both really see: a quarter of the pixels, bilinear at full resolution.
    """
    h, w = prev.shape
    dx, dy = d
    for _ in range(iterations):
        mx, my = int(math.ceil(abs(dx) / 2)) + 2, int(math.ceil(abs(dy) / 2)) + 2
        size = ((w - 2 * mx) // 2, (h - 2 * my) // 2)
        if size[0] < 8 or size[1] < 8:
            return None
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        ma = np.array([[2.0, 0.0, mx - dx / 2], [0.0, 2.0, my - dy / 2]], np.float32)
        mb = np.array([[2.0, 0.0, mx + dx / 2], [0.0, 2.0, my + dy / 2]], np.float32)
        a = cv2.warpAffine(prev, ma, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
        b = cv2.warpAffine(cur, mb, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
        s = cv2.add(a, b)
        inner = (slice(1, -1), slice(1, -1))
        e = cv2.subtract(b, a)[inner].ravel()
        # derivative of the mean image per full-resolution pixel (grid step 2, Sobel gain 8, a + b)
        gx = cv2.Sobel(s, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 32)[inner].ravel()
        gy = cv2.Sobel(s, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 32)[inner].ravel()
        ae = np.abs(e)
        keep = ae <= 3.0 * float(ae.mean()) + 1.0
        e, gx, gy = e[keep], gx[keep], gy[keep]
        sxx, sxy, syy = float(gx @ gx), float(gx @ gy), float(gy @ gy)
        bx, by = float(gx @ e), float(gy @ e)
        det = sxx * syy - sxy * sxy
        if not det > 1e-6 * max(sxx * syy, 1e-12):
            return None
        # e(d + delta) ~ e + g . delta  (b moves by +delta/2, a by -delta/2): least squares.
        ddx = -(syy * bx - sxy * by) / det
        ddy = -(sxx * by - sxy * bx) / det
        dx, dy = dx + ddx, dy + ddy
        if abs(ddx) < 2e-3 and abs(ddy) < 2e-3:
            break
    return dx, dy
