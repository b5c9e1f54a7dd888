"""ffvfx: artistic video effects compiled to ffmpeg filtergraphs.

Effects take an ffvfx :class:`~ffvfx.compiler.graph.Stream` or an ffmpeg-python stream and return the same
kind, so ``ffvfx.motion(ffmpeg.input("a.mp4").video, delay=8)`` drops into ffmpeg-python code.
"""

from ffvfx.compiler.graph import Graph, Input, Stream
from ffvfx.compiler.interop import accepts_ffmpeg_python
from ffvfx.effects.motion import MODES as MOTION_MODES
from ffvfx.effects.motion import motion as _motion
from ffvfx.errors import FfvfxError

motion = accepts_ffmpeg_python(_motion)

__all__ = ["motion", "MOTION_MODES", "Graph", "Input", "Stream", "FfvfxError"]
