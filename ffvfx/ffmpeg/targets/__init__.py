"""Render targets (``--hw``): where frames are decoded, filtered and encoded.

ffmpeg has no GPU version of the temporal filters ffvfx is made of (tpad, mix, blend, lagfun), so
a GPU graph is: hardware decode, a download to system memory, the effect on the CPU, an upload,
hardware encode; filters that have an exact GPU twin (``scale``) run on the GPU where they sit
next to the decoder or the encoder. :mod:`ffvfx.ffmpeg.targets.lower` rewrites the logical graph that
way; :mod:`ffvfx.ffmpeg.targets.probe` finds out what works on this machine and builds the
:class:`Plan`. The interface is :class:`~ffvfx.ffmpeg.targets.target.Target`; one file per target
(``cuda.py``, ``vaapi.py``, ``qsv.py``) holds its ffmpeg names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.probe import VideoInfo
from ffvfx.ffmpeg.targets.cuda import CUDA
from ffvfx.ffmpeg.targets.qsv import QSV
from ffvfx.ffmpeg.targets.target import CPU, Target
from ffvfx.ffmpeg.targets.vaapi import VAAPI

HW_CHOICES = ("auto", "cpu", "cuda", "vaapi", "qsv")

# 4:2:0 layouts every hardware decoder here outputs, and the format its frames download as.
_DECODABLE = {"yuv420p": "nv12", "nv12": "nv12", "yuv420p10le": "p010le", "p010le": "p010le"}

_TEN_BIT_CODECS = frozenset({"hevc", "vp9", "av1"})

TIMING_FILTERS = frozenset({"settb", "setpts", "null", "trim", "fps", "setsar", "setdar"})
"""Filters that touch timestamps or metadata only: they take hardware frames as they are."""


def registry() -> dict[str, Target]:
    """Every target by its ``--hw`` name."""
    return {"cpu": CPU, "cuda": CUDA, "vaapi": VAAPI, "qsv": QSV}


def parse(spec: str) -> tuple[str, str | None]:
    """``--hw`` text as (name, device): ``cuda``, ``cuda:1``, ``vaapi:/dev/dri/renderD129``, ``auto``."""
    name, _, device = (spec or "cpu").strip().partition(":")
    name = name.lower()
    if name not in HW_CHOICES:
        raise FfvfxError(f"--hw {spec}: choose {', '.join(HW_CHOICES)} (cuda:1, vaapi:/dev/dri/renderD129 "
                         "name a device)")
    if device and name in ("auto", "cpu"):
        raise FfvfxError(f"--hw {spec}: {name} takes no device")
    return name, device or None


@dataclass(frozen=True)
class Plan:
    """How one render runs: the target, whether the main input is decoded on the device, whether
    the encoder takes device frames, and the notes said on stderr about the choice."""

    target: Target = CPU
    device: str | None = None
    decode: bool = False          # main input decoded to device frames
    encode: bool = False          # upload before the encoder
    encoder: str | None = None    # None: the Encoding's own choice
    sw_format: str = "nv12"       # what downloaded frames are (p010le for 10-bit input)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def on_device(self) -> bool:
        return self.decode or self.encode

    def global_args(self) -> list[str]:
        return self.target.global_args(self.device) if self.on_device else []

    def input_args(self, codec: str | None) -> list[str]:
        return self.target.input_args(self.device, codec) if self.decode else []

    def usage(self) -> str:
        """How to run a printed device graph: what decodes into it, what encodes out of it."""
        parts = []
        if self.decode:
            parts.append("decode with " + " ".join(self.target.input_args(self.device, None)))
        if self.encode:
            parts.append(f"encode with -c:v {self.encoder}")
        if self.global_args():
            parts.append("and " + " ".join(self.global_args()) + " before the inputs")
        return ", ".join(parts)


def decode_problem(target: Target, info: VideoInfo | None, decoders: frozenset[str],
                   device_source: bool = False) -> str | None:
    """Why the main input is decoded on the CPU under ``target`` (None: on the device).

    ``info`` None is a printed graph for no particular file: 8-bit 4:2:0 is assumed.
    """
    if target.hwaccel is None:
        return "the CPU target decodes on the CPU"
    if device_source:
        return "a camera is decoded on the CPU"
    if info is None:
        return None
    if info.rotation:
        return "rotated input: hardware-decoded frames are not turned upright by ffmpeg"
    if info.width % 2 or info.height % 2:
        return f"odd size {info.width}x{info.height}"
    if info.pix_fmt not in _DECODABLE:
        return f"{info.pix_fmt} input (the GPU path takes 8- or 10-bit 4:2:0)"
    if info.bit_depth > 8 and info.codec not in _TEN_BIT_CODECS:
        return f"10-bit {info.codec or 'input'} has no hardware decoder (10-bit HEVC, VP9, AV1 have)"
    return target.decoder_problem(info, decoders)


def download_format(info: VideoInfo | None) -> str:
    """The system-memory format hardware-decoded frames of ``info`` download as."""
    return _DECODABLE.get(info.pix_fmt, "nv12") if info is not None else "nv12"
