"""Synthetic demo scene with exact ground truth: a panning textured background and an orbiting subject.

The demo is the default input of every ffvfx command and the fixture of tests that need known answers
(matting, camera compensation, loop detection), so everything it draws is recorded exactly.

Coordinates are pixels with pixel centres at integer positions: pixel (col x, row y) covers [x-0.5, x+0.5].

Camera convention: ``camera_path(spec)[i] = (ox, oy)`` is how far the camera moved from frame 0, so the
background content appears shifted by ``-(ox, oy)``:  ``frame_i[y, x] == frame_0[y + oy, x + ox]``
(background only).  Offsets are quantised to 1/32 px, the bilinear resolution of OpenCV's warpAffine,
so the reported offsets are exactly the ones rendered (pans that are multiples of 1/32 px are unchanged).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ffvfx.ffmpeg import cache
from ffvfx.ffmpeg.atomic import atomic_path
from ffvfx.ffmpeg.rawvideo import FrameEncoder, encoder_argv

RENDER_VERSION = 1
"""Bump when the rendered pixels change, so cached demos are regenerated."""

_SUBPIXEL = 32
"""OpenCV's INTER_LINEAR sub-pixel resolution (1 / 2**INTER_BITS px); camera offsets are snapped to it."""

_PAD = 2
"""Extra background pixels (each side) beyond the panned area, so bilinear sampling never reads the border."""

_VALUE_RANGE = (20, 235)
"""Background values are clipped here so motion effects never hit 0/255 saturation."""


@dataclass(frozen=True)
class DemoSpec:
    """Parameters of the demo scene; frozen and hashable so it can key caches."""

    width: int = 1280
    height: int = 720
    fps: int = 30
    seconds: float = 4.0
    pan: tuple[float, float] = (2.0, 0.5)
    """Camera pan in pixels per frame (x, y); (0, 0) is a static camera."""
    period: int = 30
    """Frames per cycle of the subject's periodic screen-space motion."""
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "pan", (float(self.pan[0]), float(self.pan[1])))
        if self.width < 16 or self.height < 16 or self.width % 2 or self.height % 2:
            raise ValueError(f"width/height must be even and >= 16 (yuv420p), got {self.width}x{self.height}")
        if self.fps <= 0 or self.seconds <= 0 or self.period < 1:
            raise ValueError("fps and seconds must be > 0 and period >= 1")
        if self.frames < 1:
            raise ValueError("the demo must have at least one frame")

    @property
    def frames(self) -> int:
        """Number of frames: round(fps * seconds)."""
        return round(self.fps * self.seconds)

    @property
    def subject_radius(self) -> float:
        """Radius of the subject disc in pixels (diameter = 1/6 of the frame height)."""
        return self.height / 12.0


DEMO_DEFAULT = DemoSpec()


def camera_path(spec: DemoSpec) -> list[tuple[float, float]]:
    """Per-frame camera offset (x, y) in pixels relative to frame 0: pan * frame index, snapped to 1/32 px."""
    return [
        (round(spec.pan[0] * i * _SUBPIXEL) / _SUBPIXEL, round(spec.pan[1] * i * _SUBPIXEL) / _SUBPIXEL)
        for i in range(spec.frames)
    ]


def subject_path(spec: DemoSpec) -> list[tuple[float, float]]:
    """Per-frame subject centre (x, y) in screen pixels; exactly periodic with `spec.period` frames."""
    w, h = spec.width, spec.height
    centres = []
    for i in range(spec.frames):
        theta = 2.0 * math.pi * (i % spec.period) / spec.period
        x = w / 2 + 0.28 * w * math.cos(theta)
        y = h / 2 + 0.22 * h * math.sin(theta) + 0.04 * h * math.sin(3.0 * theta)
        centres.append((x, y))
    return centres


def render_frames(spec: DemoSpec) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (rgb uint8 HxWx3, alpha uint8 HxW) per frame: rgb = a/255 * subject + (1 - a/255) * plate."""
    for offset, centre in zip(camera_path(spec), subject_path(spec), strict=True):
        rgb = _plate(spec, offset)
        alpha = np.zeros((spec.height, spec.width), np.uint8)
        _composite_subject(rgb, alpha, centre, spec.subject_radius)
        yield rgb, alpha


def background_plate(spec: DemoSpec, index: int) -> np.ndarray:
    """Clean background (uint8 HxWx3, no subject) of frame `index`: the true plate behind the subject."""
    return _plate(spec, camera_path(spec)[index])


def _plate(spec: DemoSpec, offset: tuple[float, float]) -> np.ndarray:
    """Frame-sized window of the static background moved by the camera `offset` (pixels, bilinear)."""
    background, origin = _background(spec)
    shift = np.array([[1.0, 0.0, origin[0] + offset[0]], [0.0, 1.0, origin[1] + offset[1]]])
    return cv2.warpAffine(background, shift, (spec.width, spec.height),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)


@functools.lru_cache(maxsize=2)
def _background(spec: DemoSpec) -> tuple[np.ndarray, tuple[int, int]]:
    """Static RGB background covering the whole pan, and the (x, y) pixel of frame 0's top-left corner.

    Its size depends on the pan extent, so one seed with another pan or length gives a different scene.
    """
    path = camera_path(spec)
    xs, ys = [p[0] for p in path], [p[1] for p in path]
    origin = (math.ceil(-min(xs)) + _PAD, math.ceil(-min(ys)) + _PAD)
    bw = spec.width + origin[0] + math.ceil(max(xs)) + _PAD + 1
    bh = spec.height + origin[1] + math.ceil(max(ys)) + _PAD + 1
    rng = np.random.default_rng(spec.seed)

    corners = rng.uniform(70, 185, size=(4, 3)).astype(np.float32)  # colours at the 4 corners
    u = (np.arange(bw, dtype=np.float32) / bw)[None, :, None]
    v = (np.arange(bh, dtype=np.float32) / bh)[:, None, None]
    img = (corners[0] * (1 - u) * (1 - v) + corners[1] * u * (1 - v)
           + corners[2] * (1 - u) * v + corners[3] * u * v)  # smooth colour gradient, float32 HxWx3

    blob = max(8, spec.height // 16)  # mid-frequency colour blobs, about 1/16 of the frame height across
    coarse = rng.standard_normal(size=(bh // blob + 2, bw // blob + 2, 3), dtype=np.float32)
    img += 20.0 * cv2.resize(coarse, (bw, bh), interpolation=cv2.INTER_CUBIC)[:bh, :bw]

    shapes = np.full((bh, bw, 3), 128, np.uint8)  # 128 = no change; shapes are mostly luma edges
    _draw_shapes(shapes, rng, count=max(12, bw * bh // 6000))
    img += shapes.astype(np.float32) - 128.0

    fine = rng.standard_normal(size=(bh, bw), dtype=np.float32)  # luma-only grain so every patch has texture
    img += 12.0 * cv2.GaussianBlur(fine, (0, 0), 1.2)[..., None]
    out = np.clip(img, *_VALUE_RANGE).astype(np.uint8)
    out.setflags(write=False)
    return out, origin


def _draw_shapes(layer: np.ndarray, rng: np.random.Generator, count: int) -> None:
    """Draw `count` sharp-edged rectangles, circles and lines into an offset layer (128 = unchanged).

    Each shape shifts luma by 25..60 with a small tint, so edges survive 4:2:0 chroma subsampling and
    phase correlation has features to lock on.
    """
    bh, bw = layer.shape[:2]
    size = max(6, min(bw, bh) // 10)  # typical shape extent in pixels
    for _ in range(count):
        luma = float(rng.uniform(25, 60)) * (1 if rng.random() < 0.5 else -1)
        colour = tuple(int(round(128 + luma + t)) for t in rng.uniform(-12, 12, size=3))
        x, y = int(rng.integers(0, bw)), int(rng.integers(0, bh))
        dx, dy = (int(d) for d in rng.integers(size // 4, size, size=2))
        kind = int(rng.integers(0, 3))
        thick = -1 if rng.random() < 0.6 else int(rng.integers(2, 5))
        if kind == 0:
            cv2.rectangle(layer, (x, y), (x + dx, y + dy), colour, thick, cv2.LINE_8)
        elif kind == 1:
            cv2.circle(layer, (x, y), dx // 2, colour, thick, cv2.LINE_AA)
        else:
            sign = 1 if rng.random() < 0.5 else -1
            cv2.line(layer, (x, y), (x + 2 * dx, y + sign * dy), colour, max(thick, 2), cv2.LINE_8)


def _composite_subject(
    rgb: np.ndarray, alpha: np.ndarray, centre: tuple[float, float], radius: float
) -> None:
    """Blend the textured disc into `rgb` in place and write its anti-aliased alpha (uint8) into `alpha`."""
    h, w = alpha.shape
    cx, cy = centre
    x0, x1 = max(0, math.floor(cx - radius - 1)), min(w, math.ceil(cx + radius + 2))
    y0, y1 = max(0, math.floor(cy - radius - 1)), min(h, math.ceil(cy + radius + 2))
    if x0 >= x1 or y0 >= y1:
        return
    dy, dx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx -= np.float32(cx)
    dy -= np.float32(cy)
    dist = np.sqrt(dx * dx + dy * dy)
    a8 = np.rint(np.clip(radius + 0.5 - dist, 0.0, 1.0) * 255.0).astype(np.uint16)

    shade = 1.0 - 0.3 * (dist / radius) ** 2  # radial shading
    stripes = 18.0 * np.sin(dx * (6.0 / radius) + dy * (3.0 / radius))  # texture fixed to the subject
    base = np.array([225.0, 105.0, 60.0], np.float32)  # bright orange, distinct from the background
    subject = np.clip(base * shade[..., None] + stripes[..., None], 25, 240).astype(np.uint16)

    bg = rgb[y0:y1, x0:x1].astype(np.uint16)
    a = a8[..., None]
    rgb[y0:y1, x0:x1] = ((a * subject + (255 - a) * bg + 127) // 255).astype(np.uint8)
    alpha[y0:y1, x0:x1] = a8.astype(np.uint8)


def truth(spec: DemoSpec) -> dict[str, Any]:
    """Ground-truth dict for `spec` (the content of `<stem>.truth.json`, without file names)."""
    return {
        "format": "ffvfx-demo-truth",
        "version": RENDER_VERSION,
        **{f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)},
        "pan": list(spec.pan),
        "frames": spec.frames,
        "subject_radius": spec.subject_radius,
        "coordinates": "pixels; pixel centres at integer (x, y); x right, y down",
        "camera_convention": "camera_offset[i] = (ox, oy): background moved by -(ox, oy) on screen "
        "since frame 0, i.e. frame_i[y, x] == frame_0[y + oy, x + ox] for background pixels",
        "camera_offset": [list(p) for p in camera_path(spec)],
        "subject_center": [list(p) for p in subject_path(spec)],
    }


def write_demo(
    out_path: str | os.PathLike[str], spec: DemoSpec = DEMO_DEFAULT, ffmpeg: str = "ffmpeg", *, crf: int = 16,
    overwrite: bool = True,
) -> dict[str, Any]:
    """Encode the demo to `out_path`, plus `<stem>.alpha.mkv` (FFV1 gray) and `<stem>.truth.json`.

    Returns the json dict. Frames are piped as rawvideo to two ffmpeg processes; outputs appear only
    when complete (temp names, then rename; the video last), replacing files there only with
    `overwrite` (:func:`ffvfx.ffmpeg.atomic.atomic_path`).
    """
    out = Path(out_path)
    alpha_out = out.with_name(out.stem + ".alpha.mkv")
    json_out = out.with_name(out.stem + ".truth.json")
    with contextlib.ExitStack() as stack:  # left in reverse: the video is renamed last
        tmp_video, tmp_alpha, tmp_json = (stack.enter_context(atomic_path(p, overwrite=overwrite))
                                          for p in (out, alpha_out, json_out))
        data = _write_demo(spec, ffmpeg, crf, out, alpha_out, tmp_video, tmp_alpha, tmp_json)
    return data


def _write_demo(spec: DemoSpec, ffmpeg: str, crf: int, out: Path, alpha_out: Path, tmp_video: str,
                tmp_alpha: str, tmp_json: str) -> dict[str, Any]:
    size, rate = (spec.width, spec.height), Fraction(str(spec.fps))
    video_cmd = encoder_argv(ffmpeg, size, rate, "rgb24", tmp_video,
                             [*_video_codec_args(out.suffix, crf), "-an"])
    alpha_cmd = encoder_argv(ffmpeg, size, rate, "gray", tmp_alpha,
                             ["-c:v", "ffv1", "-level", "3", "-pix_fmt", "gray"])
    data = truth(spec) | {"video": out.name, "alpha": alpha_out.name}
    _encode(spec, video_cmd, alpha_cmd)
    Path(tmp_json).write_text(_dumps(data))
    return data


def _dumps(data: dict[str, Any]) -> str:
    """JSON text with one top-level key per line (per-frame lists stay on one line each)."""
    return "{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in data.items()) + "\n}\n"


def _video_codec_args(suffix: str, crf: int) -> list[str]:
    """Encoder arguments for the container named by `suffix`: H.264 yuv420p (BT.601, tagged); VP9 for webm."""
    colour = ["-vf", "scale=out_color_matrix=bt601:out_range=tv,format=yuv420p",
              "-colorspace", "smpte170m", "-color_primaries", "smpte170m", "-color_trc", "smpte170m",
              "-color_range", "tv"]
    if suffix.lower() == ".webm":
        return [*colour, "-c:v", "libvpx-vp9", "-crf", str(crf), "-b:v", "0", "-row-mt", "1"]
    faststart = ["-movflags", "+faststart"] if suffix.lower() in (".mp4", ".mov", ".m4v") else []
    return [*colour, "-c:v", "libx264", "-preset", "medium", "-crf", str(crf), *faststart]


def _encode(spec: DemoSpec, video_cmd: list[str], alpha_cmd: list[str]) -> None:
    """Run both encoders, feed them every rendered frame through stdin, and raise if either fails."""
    encoders = [FrameEncoder(cmd, failure=functools.partial(_encoder_failed, cmd))
                for cmd in (video_cmd, alpha_cmd)]
    try:
        for rgb, alpha in render_frames(spec):
            encoders[0].write(rgb.tobytes())
            encoders[1].write(alpha.tobytes())
        for enc, what in zip(encoders, ("demo video", "demo alpha"), strict=True):
            enc.finish(what)
    except BaseException:
        for enc in encoders:
            enc.kill()
        raise


def _encoder_failed(cmd: list[str], code: int, stderr: str) -> RuntimeError:
    """A demo encoder's failure: its exit code, command and the end of what it said."""
    return RuntimeError(f"ffmpeg failed ({code}): {' '.join(cmd)}\n{stderr[-2000:]}")


def demo_path(
    cache_dir: str | os.PathLike[str] | None = None, *, spec: DemoSpec = DEMO_DEFAULT, ffmpeg: str = "ffmpeg"
) -> Path:
    """Path of the cached demo mp4 for `spec` (rendered once into `$FFVFX_CACHE` or ~/.cache/ffvfx)."""
    root = cache.folder(cache.root(cache_dir))
    video = root / f"demo-{spec_key(spec)}.mp4"
    companions = (video.with_name(video.stem + ".alpha.mkv"), video.with_name(video.stem + ".truth.json"))
    if not (video.exists() and all(p.exists() for p in companions)):
        write_demo(video, spec, ffmpeg)
    return video


def spec_key(spec: DemoSpec) -> str:
    """Short stable hash of the spec and renderer version, used in cache file names."""
    return cache.key({"v": RENDER_VERSION, **dataclasses.asdict(spec)}, 12)
