"""The built-in demo scene where a command needs it: as INPUT (``ffvfx motion demo out.mp4``,
rendered once and cached) and as ``ffvfx demo OUT`` (written with its ground truth).

:mod:`ffvfx.ffmpeg.sources` only names the scene (``Source("demo")``); rendering it is a stage
(:mod:`ffvfx.stages.demo`), so it is put in place here, a layer above both.
"""

from __future__ import annotations

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import sources, toolchain
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.sources import Source
from ffvfx.stages import demo


def materialise(source: Source | None) -> Source | None:
    """``source``, or the cached demo scene when it is the keyword ``demo`` (rendered on first use)."""
    if sources.wants_demo(source):
        return Source(str(demo.demo_path(ffmpeg=toolchain.find().ffmpeg)))
    return source


def resolve(spec: str, size: str | None = None, fps: float | None = None) -> Source:
    """:func:`ffvfx.ffmpeg.sources.resolve` with ``demo`` put in place (``size`` WxH, ``fps``: a
    camera's capture size and rate)."""
    return materialise(sources.resolve(spec, size, fps))


def choose(spec: str | None, camera_spec: str | None, graph: str | None, size: str | None = None,
           fps: float | None = None) -> Source | None:
    """:func:`ffvfx.ffmpeg.sources.choose` (INPUT, ``--camera`` or ``--lavfi``; None: none) with
    ``demo`` put in place."""
    return materialise(sources.choose(spec, camera_spec, graph, size, fps))


def write_scene(output: str, *, seconds: float, size: str, fps: int, pan: tuple[float, float],
                overwrite: bool) -> None:
    """``ffvfx demo``: the scene (``size`` WxH px, ``fps``, ``seconds`` long, camera ``pan`` px/frame)
    into ``output``, its alpha video and camera path JSON beside it."""
    check_output(output, [], overwrite)
    try:
        w, h = (int(x) for x in size.lower().split("x"))
        px, py = pan
        spec = demo.DemoSpec(width=w, height=h, fps=fps, seconds=seconds, pan=(px, py))
    except ValueError as exc:
        raise FfvfxError(f"--size takes even WxH (>= 16) and --pan takes X,Y: {exc}") from None
    demo.write_demo(output, spec, toolchain.find().ffmpeg, overwrite=overwrite)
