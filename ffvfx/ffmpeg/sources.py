"""What a user may name as input: a file, ``demo`` (the built-in scene), a camera or a lavfi graph.

INPUT (a command's positional argument) is a file whenever something other than a folder exists
under that name, so no file is ever taken for a device, a keyword or a filtergraph, whatever it is
called (``lavfi:testsrc2,metadata=print:file=x``, ``webcam``, ``demo``). Only when nothing
exists there does ``demo`` name the built-in scene, ``webcam`` the platform's default camera, and
``/dev/videoN`` (a device node, never a regular file) a V4L2 camera. This module only names the
scene (:func:`wants_demo`); the layer that can render it (:mod:`ffvfx.pipelines.demo`) puts the
cached scene in its place.

Every other camera, and every synthetic source, takes an option that no file name can reach:
``--camera SPEC`` (``webcam``, ``/dev/video0``, ``v4l2:/dev/video1``, ``avfoundation:0``,
``dshow:video=NAME``), with an optional capture size and rate, and ``--lavfi GRAPH``
(``testsrc2=s=1280x720:r=30``), handy for trying a preview without a camera. An INPUT written
the old way (``v4l2:...``, ``lavfi:...``) that names no file is refused with a pointer to them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from ffvfx.compiler import escape
from ffvfx.compiler.numbers import decimal
from ffvfx.errors import FfvfxError

DEMO = "demo"
"""The keyword INPUT that names the built-in demo scene (when no file has that name)."""
CAMERA_FORMATS = ("v4l2", "avfoundation", "dshow")
"""ffmpeg input devices ``--camera FORMAT:DEVICE`` opens."""
_OLD_FORMS = (*CAMERA_FORMATS, "lavfi")


@dataclass(frozen=True)
class Source:
    """An input as ffmpeg/ffplay open it: ``options`` go before the path (``-f v4l2 ...``);
    ``device``: a camera or a lavfi graph (no file to probe, ``path`` handed over as it is)."""

    path: str
    options: list[str] = field(default_factory=list)
    device: bool = False

    @property
    def name(self) -> str:
        return self.path

    def input_args(self) -> list[str]:
        """``OPTIONS -i PATH`` for ffmpeg and ffplay: a device or graph as given, a file by the
        one rule for files (:func:`ffvfx.compiler.escape.input_args`: that file, whatever its name)."""
        if self.device:
            return [*self.options, "-i", self.path]
        return [*self.options, *escape.input_args(self.path)]


def names_a_file(spec: str) -> bool:
    """Something other than a folder exists at ``spec`` (a file, a link, a fifo): it is read
    as that file, whatever it is called."""
    return os.path.lexists(spec) and not os.path.isdir(spec)


def keyword(spec: str | None, *words: str) -> str | None:
    """``spec`` when it is one of ``words`` (``auto``, ``demo``) and no file of that name exists,
    else None: an existing file is always a file."""
    return spec if spec in words and not names_a_file(spec) else None


def wants_demo(source: Source | None) -> bool:
    """``source`` is the keyword ``demo`` (no file of that name): the built-in scene, still to be
    put in place (:func:`ffvfx.pipelines.demo.materialise`)."""
    return source is not None and not source.device and keyword(source.path, DEMO) is not None


def resolve(spec: str, size: str | None = None, fps: float | None = None) -> Source:
    """INPUT as typed: a file, or (no file of that name) ``demo``, ``webcam``, ``/dev/videoN``.

    ``demo`` comes back as ``Source("demo")`` (:func:`wants_demo`); the scene is rendered and cached
    a layer up. ``size`` (``WxH``) and ``fps`` are a camera's capture size and rate.
    """
    if spec.startswith("/dev/video") and not os.path.isfile(spec):
        return _device("v4l2", spec, size, fps)
    if names_a_file(spec):
        return Source(spec)
    if spec == DEMO:
        return Source(spec)  # the built-in scene: wants_demo
    if spec == "webcam":
        return _device(*_default_camera(), size, fps)
    if os.path.isdir(spec):
        return Source(spec)  # probing says it is a folder
    fmt, sep, _ = spec.partition(":")
    if sep and fmt in _OLD_FORMS:
        raise FfvfxError(f"{spec}: no such file (a camera is --camera SPEC, a synthetic source "
                         "--lavfi GRAPH)")
    return Source(spec)


def camera(spec: str, size: str | None = None, fps: float | None = None) -> Source:
    """``--camera SPEC``: ``webcam``, a device path (``/dev/video0``) or ``FORMAT:DEVICE`` with
    FORMAT one of :data:`CAMERA_FORMATS`; never a file."""
    if spec == "webcam":
        fmt, target = _default_camera()
    elif spec.startswith("/dev/"):
        fmt, target = "v4l2", spec
    else:
        fmt, sep, target = spec.partition(":")
        if not sep or fmt not in CAMERA_FORMATS or not target:
            raise FfvfxError(f"--camera {spec}: give webcam, a device such as /dev/video0, or "
                             "v4l2:DEVICE, avfoundation:INDEX, dshow:video=NAME")
    if target.startswith("-"):
        raise FfvfxError(f"--camera {spec}: a device name cannot start with -")
    return _device(fmt, target, size, fps)


def lavfi(graph: str, size: str | None = None, fps: float | None = None) -> Source:
    """``--lavfi GRAPH``: a synthetic live source (``testsrc2=s=1280x720:r=30``)."""
    if not graph.strip():
        raise FfvfxError("--lavfi: give a source graph such as testsrc2=s=1280x720:r=30")
    if graph.startswith("-"):
        raise FfvfxError(f"--lavfi {graph}: a graph cannot start with -")
    if size or fps:
        raise FfvfxError("--size and --fps go with --camera; a --lavfi graph sets its own "
                         "(testsrc2=s=1280x720:r=30)")
    return Source(graph, ["-f", "lavfi"], device=True)


def choose(spec: str | None, camera_spec: str | None, graph: str | None, size: str | None = None,
           fps: float | None = None) -> Source | None:
    """The one input a render command was given: INPUT, ``--camera`` or ``--lavfi`` (None: none,
    a printed graph)."""
    given = [x for x in (spec, camera_spec, graph) if x is not None]
    if len(given) > 1:
        raise FfvfxError("give one input: INPUT, --camera SPEC or --lavfi GRAPH")
    if camera_spec is not None:
        return camera(camera_spec, size, fps)
    if graph is not None:
        return lavfi(graph, size, fps)
    return resolve(spec, size, fps) if spec is not None else None


def _device(fmt: str, target: str, size: str | None, fps: float | None) -> Source:
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
        raise FfvfxError("on Windows name the camera: --camera dshow:video=NAME "
                         "(ffmpeg -list_devices true -f dshow -i dummy lists them)")
    raise FfvfxError(f"no default camera on {sys.platform}: give --camera, such as "
                     "--camera v4l2:/dev/video0")
