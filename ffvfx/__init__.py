"""ffvfx: artistic video effects compiled to ffmpeg filtergraphs.

Every effect takes ffvfx :class:`~ffvfx.compiler.graph.Stream` objects or ffmpeg-python streams
(the main input and side inputs alike) and returns the same kind, so it drops into ffmpeg-python
code::

    import ffmpeg, ffvfx
    clip = ffmpeg.input("a.mp4").video
    ffvfx.trails(clip, layers=4, spacing=3).output("out.mp4").run()

Lengths are frames, sizes and blur radii pixels, unless a name says seconds.

- :func:`motion`: motion extraction, each frame against a delayed copy (``--mode`` gray, black,
  matte, glow, rgb; ``bloom=`` adds a glow).
- :func:`bloom`: the picture plus a soft glow of what changed (motion's glow mode on its own).
- :func:`trails`: echoes of earlier frames (``alpha=`` a matte stream for behind/front;
  ``register=`` a hook such as :func:`echo_register` that keeps the camera's motion out).
- :func:`echo_register`: that hook, from a camera path (``offsets`` per frame, px; e.g. a
  :class:`ffvfx.stages.analysis.camera.CameraPath`).
- :func:`composite`: the subject (where ``alpha`` is white) over ``bg``: a stream, a file or a
  colour (``size`` (w, h) px; ``fps`` for a file or colour).
- :func:`compare`: the picture and named mattes side by side in a labelled grid.
- :func:`loop`: frames ``[start, end)`` as a seamless loop, crossfaded, in an output format.
- :func:`refine`: matte clean-up (threshold, erode, dilate, smooth, feather; see :class:`Refine`).
- :func:`expose`: frame n times ``gains[n]``.
- :func:`patch`: painted patches merged into the original through a mask.
- :func:`parallax`: a moving background from depth-layer images (no input stream: turn it into an
  ffmpeg-python stream with :func:`to_ffmpeg_python`).

Each effect module declares its user-facing parameters once in ``PARAMS``
(:class:`~ffvfx.compiler.params.Param`): the command line, the README tables and the presets come
from them.
"""

from ffvfx.compiler.graph import Graph, Input, Stream
from ffvfx.compiler.interop import accepts_ffmpeg_python, to_ffmpeg_python
from ffvfx.effects import bloom as _bloom
from ffvfx.effects import compare as _compare
from ffvfx.effects import composite as _composite
from ffvfx.effects import exposure as _exposure
from ffvfx.effects import loop as _loop
from ffvfx.effects import motion as _motion
from ffvfx.effects import parallax as _parallax
from ffvfx.effects import patch as _patch
from ffvfx.effects import refine as _refine
from ffvfx.effects import trails as _trails
from ffvfx.effects.composite import Background
from ffvfx.effects.motion import MODES as MOTION_MODES
from ffvfx.effects.parallax import Layer
from ffvfx.effects.refine import Refine
from ffvfx.effects.register import echo_register
from ffvfx.effects.trails import OPERATORS as TRAIL_OPERATORS
from ffvfx.errors import FfvfxError

motion = accepts_ffmpeg_python(_motion.motion)
bloom = accepts_ffmpeg_python(_bloom.bloom)
trails = accepts_ffmpeg_python(_trails.trails)
composite = accepts_ffmpeg_python(_composite.composite)
compare = accepts_ffmpeg_python(_compare.compare)
loop = accepts_ffmpeg_python(_loop.loop_graph)
refine = accepts_ffmpeg_python(_refine.refine)
expose = accepts_ffmpeg_python(_exposure.expose)
patch = accepts_ffmpeg_python(_patch.patch)
parallax = _parallax.parallax

__all__ = [
    "motion", "bloom", "trails", "echo_register", "composite", "compare", "loop", "refine", "expose",
    "patch", "parallax", "to_ffmpeg_python",
    "MOTION_MODES", "TRAIL_OPERATORS", "Background", "Layer", "Refine",
    "Graph", "Input", "Stream", "FfvfxError",
]
