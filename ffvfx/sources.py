"""What a user may name as input: a file, ``demo`` (the built-in scene), or a camera.

Cameras: ``webcam`` (the platform's default device), a device path (``/dev/video0``), or an
explicit ``v4l2:``, ``avfoundation:`` or ``dshow:`` spec, with an optional size and rate.
``lavfi:GRAPH`` (e.g. ``lavfi:testsrc2=s=1280x720:r=30``) is a synthetic live source, handy for trying
a preview without a camera.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from ffvfx.errors import FfvfxError
from ffvfx.numbers import decimal

_DEVICE_FORMATS = ("v4l2", "avfoundation", "dshow", "lavfi")


@dataclass(frozen=True)
class Source:
    """An input as ffmpeg/ffplay open it: ``options`` go before the path (``-f v4l2 ...``)."""

    path: str
    options: list[str] = field(default_factory=list)
    device: bool = False

    @property
    def name(self) -> str:
        return self.path


def resolve(spec: str, size: str | None = None, fps: float | None = None) -> Source:
    """Turn what the user typed into a :class:`Source`; ``demo`` is generated once and cached."""
    if spec == "demo":
        from ffvfx import demo, toolchain
        return Source(str(demo.demo_path(ffmpeg=toolchain.find().ffmpeg)))
    fmt, _, target = spec.partition(":")
    if spec == "webcam":
        fmt, target = _default_camera()
    elif spec.startswith("/dev/video"):
        fmt, target = "v4l2", spec
    elif fmt not in _DEVICE_FORMATS or not target:
        return Source(spec)
    options = ["-f", fmt]
    if size:
        options += ["-video_size", size]
    if fps:
        options += ["-framerate", decimal(fps)]
    return Source(target, options, device=True)


def _default_camera() -> tuple[str, str]:
    if sys.platform.startswith("linux"):
        return "v4l2", "/dev/video0"
    if sys.platform == "darwin":
        return "avfoundation", "0"
    if sys.platform.startswith("win"):
        raise FfvfxError("on Windows name the camera: dshow:video=NAME "
                         "(ffmpeg -list_devices true -f dshow -i dummy lists them)")
    raise FfvfxError(f"no default camera on {sys.platform}: give a device spec such as v4l2:/dev/video0")
