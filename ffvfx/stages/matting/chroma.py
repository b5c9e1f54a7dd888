"""Chroma key (green/blue screen) through ffmpeg's ``chromakey``: no model, no download.

The key runs inside the decoding ffmpeg (4:4:4, so the edge is not blocky from chroma
subsampling) and hands the alpha over the pipe as gray. ``--key auto`` (the default) takes the
screen colour from the border of the first frame, which is what a real screen is lit like (rarely
pure 0x00FF00).
"""

from __future__ import annotations

import re

import numpy as np

from ffvfx.compiler.graph import Stream
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.probe import VideoInfo
from ffvfx.ffmpeg.rawvideo import frames
from ffvfx.stages.matting.model import Matter, ModelOptions

NAMED = {"green": "0x00FF00", "blue": "0x0000FF"}
"""ffmpeg's own ``green`` is 0x008000 (the CSS colour), not a screen green."""

_HEX = re.compile(r"^(?:0x|#)?([0-9A-Fa-f]{6})$")


class ChromaMatter(Matter):
    name = "chroma"
    licence = "ffmpeg chromakey (LGPL, part of ffmpeg)"
    input_format = "gray"

    def __init__(self, key: str, similarity: float, blend: float):
        self.key, self.similarity, self.blend = key, similarity, blend

    def decode_filter(self, stream: Stream) -> Stream:
        return (stream.filter("format", "yuva444p")
                .filter("chromakey", color=self.key, similarity=self.similarity, blend=self.blend)
                .filter("alphaextract", label="alpha"))

    def process(self, frames: np.ndarray) -> tuple[np.ndarray, None]:
        return frames.astype(np.float32) * np.float32(1 / 255), None

    def describe(self) -> dict:
        return {"model": self.name, "key": self.key, "similarity": self.similarity,
                "blend": self.blend}


def screen_colour(frame: np.ndarray, border: float = 0.04) -> str:
    """The median colour of the outer ``border`` fraction of an RGB frame, as ``0xRRGGBB``."""
    h, w = frame.shape[:2]
    bh, bw = max(1, round(h * border)), max(1, round(w * border))
    ring = np.concatenate([frame[:bh].reshape(-1, 3), frame[-bh:].reshape(-1, 3),
                           frame[:, :bw].reshape(-1, 3), frame[:, -bw:].reshape(-1, 3)])
    r, g, b = (int(v) for v in np.median(ring, axis=0))
    return f"0x{r:02X}{g:02X}{b:02X}"


def key_colour(text: str) -> str:
    """``green``/``blue``/``RRGGBB``/``#RRGGBB``/``0xRRGGBB`` as ffmpeg's ``0xRRGGBB``."""
    if text.lower() in NAMED:
        return NAMED[text.lower()]
    m = _HEX.match(text.strip())
    if not m:
        raise FfvfxError(f"--key {text!r}: give auto, green, blue or a colour like 0x3AB04A")
    return "0x" + m.group(1).upper()


def build(options: ModelOptions, info: VideoInfo) -> ChromaMatter:
    for name in ("similarity", "blend"):
        value = getattr(options, name)
        if not 0 < value <= 1:
            raise FfvfxError(f"--{name} takes 0..1 (a fraction of the largest colour distance), "
                             f"got {value:g}")
    if options.key.lower() == "auto":
        first = next(frames(info.path, toolchain.find(), (info.width, info.height), limit=1), None)
        if first is None:
            raise FfvfxError(f"{info.path}: no frame to read the screen colour from")
        key = screen_colour(first)
    else:
        key = key_colour(options.key)
    return ChromaMatter(key, options.similarity, options.blend)
