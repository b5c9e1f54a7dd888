"""Composite: the subject (the input where its alpha is white) over a new background.

Per RGB channel, 8-bit: ``out = a/255 * fg + (1 - a/255) * bg``, with ``a`` the gray alpha
(optionally feathered by a Gaussian of ``feather`` px), ``fg`` the input frame and ``bg`` the
background fitted to the input's size and moved by ``shift`` px. The blend is ``overlay`` in
planar RGB (``format=gbrp``): done in yuv420p the alpha would be subsampled with the chroma and
the subject's edge would bleed colour.

Backgrounds (:func:`background` reads what the user typed):

- a colour (``0xRRGGBB``, ``#RRGGBB`` or one of ffmpeg's colour names): the ``color`` source;
- an image: decoded once and repeated for the whole length (``loop`` over one frame);
- a video: read from its start, numbered frame by frame at its own rate, re-timed to the input's
  rate (``fps``: frames repeated or dropped), and looped when it is shorter than the input
  (``-stream_loop -1``; ``movie=...:loop=0`` in printed graphs).

Fits: ``cover`` scales to fill the frame and crops the centre, ``contain`` scales to fit inside
and pads with ``pad_color``, ``stretch`` scales to the frame ignoring the aspect ratio.

Every stream is put on the regular time grid first (:func:`ffvfx.compiler.timeline.regular`):
``alphamerge`` and ``overlay`` pair frames by timestamp, and a Matroska alpha has 1 ms ticks.
The output has the input's frame count: the background never ends, the overlay stops with the
foreground (``shortest=1``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Input, Stream, filter, source
from ffvfx.compiler.params import Param
from ffvfx.errors import FfvfxError

FITS = ("cover", "contain", "stretch")

PARAMS = (
    Param("bg", Path, words="COLOR", required=True,
          help="Background: an image (looped), a video (looped when shorter) "
          "or a colour (0xRRGGBB, #RRGGBB, a name such as black)."),
    Param("fit", str, "cover", choices=FITS,
          help="cover: fill and crop; contain: fit inside and pad; stretch: ignore the aspect."),
    Param("pad_color", str, "black", help="contain: colour of the bars."),
    Param("feather", float, 0.0, unit="pixels", lo=0, hi=100,
          help="Soften the alpha's edge (Gaussian sigma, px)."),
    Param("shift_bg", int, (0, 0), unit="pixels", lo=-16384, hi=16384, count=2, example="12,-4",
          keyword="shift", help="Move the background x,y px (right, down; negative: left, up)."),
)
"""What ``ffvfx composite`` takes besides its ALPHA argument: :func:`composite`'s keywords."""

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm",
                            ".tga", ".exr", ".jxl"})
"""Files read as a still background; anything else is read as a video."""

COLOUR_NAMES = frozenset("""
aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet
brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson cyan
darkblue darkcyan darkgoldenrod darkgray darkgreen darkkhaki darkmagenta darkolivegreen
darkorange darkorchid darkred darksalmon darkseagreen darkslateblue darkslategray darkturquoise
darkviolet deeppink deepskyblue dimgray dodgerblue firebrick floralwhite forestgreen fuchsia
gainsboro ghostwhite gold goldenrod gray green greenyellow honeydew hotpink indianred indigo
ivory khaki lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan
lightgoldenrodyellow lightgreen lightgrey lightpink lightsalmon lightseagreen lightskyblue
lightslategray lightsteelblue lightyellow lime limegreen linen magenta maroon mediumaquamarine
mediumblue mediumorchid mediumpurple mediumseagreen mediumslateblue mediumspringgreen
mediumturquoise mediumvioletred midnightblue mintcream mistyrose moccasin navajowhite navy
oldlace olive olivedrab orange orangered orchid palegoldenrod palegreen paleturquoise
palevioletred papayawhip peachpuff peru pink plum powderblue purple red rosybrown royalblue
saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue slateblue slategray snow
springgreen steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow
yellowgreen""".split())
"""The colour names ffmpeg knows (``ffmpeg -colors``, the same list in 5.1 and 9.0)."""

_HEX = re.compile(r"^(?:0x|#)[0-9a-f]{6}$", re.IGNORECASE)


@dataclass(frozen=True)
class Background:
    """What goes behind the subject: ``kind`` is ``color`` (``value`` the colour as ffmpeg reads
    it), ``image`` or ``video`` (``value`` the file's path)."""

    kind: str
    value: str

    def stream(self, size: tuple[int, int], fps: Fraction, first: int = 0,
               period: int | None = None) -> Stream:
        """The background as an endless stream at ``fps`` on the regular grid (not yet fitted).

        ``first``: the output frame it starts at (a segment of the render); a video background
        then starts where one pass would show it, ``first`` frames on (modulo its loop ``period``
        in output frames, when whole).
        """
        rate = _rate_text(fps)
        if self.kind == "color":
            return timeline.regular(source("color", c=self.value, s=f"{size[0]}x{size[1]}", r=rate,
                                           label="canvas"))
        if self.kind == "image":
            still = Input(self.value, label="bgimage").video.filter("loop", loop=-1, size=1)
            return timeline.regular(still.filter("fps", fps=rate))
        clip = Input(self.value, ["-stream_loop", "-1"], label="bgvideo", movie_options={"loop": 0})
        # regular first: movie=...:loop=0 restarts timestamps at 0 on every pass (ffmpeg 5.1),
        # which fps would drop as late frames; frame numbers keep counting.
        moving = timeline.regular(timeline.regular(clip.video).filter("fps", fps=rate))
        skip = first % period if period else first
        if skip:
            moving = timeline.regular(moving.filter("trim", start_frame=skip)
                                      .filter("setpts", "PTS-STARTPTS"))
        return moving


def loop_period(frames: int, bg_fps: Fraction, fps: Fraction) -> int | None:
    """Output frames (at ``fps``) after which a looped ``frames``-frame video background at
    ``bg_fps`` repeats exactly, or None when that is not a whole number."""
    period = Fraction(frames) * Fraction(fps) / Fraction(bg_fps)
    return int(period) if period.denominator == 1 else None


def parse_colour(text: str) -> str | None:
    """``text`` as an ffmpeg colour (``0xRRGGBB``), or None when it is not one."""
    t = text.strip()
    if _HEX.match(t):
        return "0x" + t[-6:].upper()
    if t.lower() in COLOUR_NAMES:
        return t.lower()
    return None


def background(spec: str, info: object = None) -> Background:
    """The background ``spec`` names: an existing image or video file, else a colour.

    Raises FfvfxError (one line) when it is neither; ``info`` (the input) is accepted for callers
    that check a background against their input and is not needed to decide.
    """
    path = Path(spec)
    if spec and path.is_file():
        return Background("image" if path.suffix.lower() in IMAGE_SUFFIXES else "video", spec)
    if spec and path.is_dir():
        raise FfvfxError(f"--bg {spec}: is a directory; give an image, a video or a colour")
    colour = parse_colour(spec)
    if colour is not None:
        return Background("color", colour)
    if path.suffix or "/" in spec:
        raise FfvfxError(f"--bg {spec}: no such file")
    raise FfvfxError(f"--bg {spec!r}: not a file and not a colour (0xRRGGBB, #RRGGBB or a name "
                     "such as black, white, green)")


def fit_background(bg: Stream, size: tuple[int, int], fit: str = "cover",
                   pad_color: str = "black") -> Stream:
    """``bg`` scaled to ``size`` (w, h) as ``fit`` says, in planar RGB."""
    if fit not in FITS:
        raise FfvfxError(f"--fit {fit}: choose {', '.join(FITS)}")
    colour = parse_colour(pad_color)
    if colour is None:
        raise FfvfxError(f"--pad-color {pad_color!r}: not a colour (0xRRGGBB, #RRGGBB or a name)")
    w, h = size
    if fit == "stretch":
        return bg.filter("scale", w=w, h=h).filter("format", "gbrp")
    if fit == "cover":
        return (bg.filter("scale", w=w, h=h, force_original_aspect_ratio="increase")
                .filter("format", "gbrp").filter("crop", w=w, h=h))
    return (bg.filter("scale", w=w, h=h, force_original_aspect_ratio="decrease")
            .filter("format", "gbrp")
            .filter("pad", w=w, h=h, x="(ow-iw)/2", y="(oh-ih)/2", color=colour))


def shift_background(bg: Stream, size: tuple[int, int], shift: tuple[int, int]) -> Stream:
    """``bg`` (``size``) moved right by ``shift[0]`` and down by ``shift[1]`` px (negative: left,
    up); the strip it uncovers repeats the edge pixels, so no black bar shows."""
    x, y = (int(v) for v in shift)
    if (x, y) == (0, 0):
        return bg
    w, h = size
    if abs(x) >= w or abs(y) >= h:
        raise FfvfxError(f"--shift-bg {x},{y}: more than the frame ({w}x{h} px)")
    padded = bg.filter("pad", w=w + abs(x), h=h + abs(y), x=max(x, 0), y=max(y, 0)).filter(
        "fillborders", left=max(x, 0), right=max(-x, 0), top=max(y, 0), bottom=max(-y, 0),
        mode="smear")
    return padded.filter("crop", w=w, h=h, x=max(-x, 0), y=max(-y, 0))


def composite(picture: Stream, alpha: Stream, bg: Background | Stream | str, *, size: tuple[int, int],
              fps: Fraction | None = None, fit: str = "cover", pad_color: str = "black",
              feather: float = 0.0, shift: tuple[int, int] = (0, 0), first: int = 0,
              period: int | None = None) -> Stream:
    """``picture`` where ``alpha`` is white over ``bg`` where it is black, as planar RGB.

    ``bg``: a :class:`Background`, what ``--bg`` takes (a file or a colour, see :func:`background`)
    or a stream (fitted and shifted as it comes, one frame per frame of ``picture``). ``size``
    (w, h, px) and ``fps`` (frames per second, not needed for a stream) are the input's;
    ``feather``: Gaussian sigma (px) softening the alpha's edge; ``shift``: background offset (px,
    x right, y down); ``first``/``period``: where a segment of the render starts (frames, see
    :meth:`Background.stream`).
    """
    if isinstance(bg, str):
        bg = background(bg)
    if isinstance(bg, Stream):
        behind = timeline.regular(bg)
    elif fps is None:
        raise FfvfxError(f"a {bg.kind} background needs the input's frame rate (fps)")
    else:
        behind = bg.stream(size, fps, first, period)
    behind = fit_background(behind, size, fit, pad_color)
    behind = shift_background(behind, size, shift).named("bg")
    return over(picture, alpha, behind, feather=feather)


def over(picture: Stream, alpha: Stream, behind: Stream, *, feather: float = 0.0) -> Stream:
    """``picture`` where ``alpha`` is white over ``behind`` (a stream of the same size on the
    regular time grid, as planar RGB), frame for frame; the output ends with ``picture``."""
    if not 0 <= feather <= 100:
        raise FfvfxError(f"--feather takes 0..100 px, got {feather:g}")
    matte = timeline.regular(alpha).filter("format", "gray")
    if feather > 0:
        matte = matte.filter("gblur", sigma=feather)
    matte = matte.named("alpha")
    fg = timeline.regular(picture).filter("format", "gbrap", label="fgrgb")
    fg = filter([fg, matte], "alphamerge", label="fg")
    return filter([behind, fg], "overlay", format="gbrp", shortest=1, label="composite")


def _rate_text(fps: Fraction) -> str:
    r = Fraction(fps)
    if r <= 0:
        raise FfvfxError(f"the input's frame rate is {r}; a composite needs a positive rate")
    return str(r.numerator) if r.denominator == 1 else f"{r.numerator}/{r.denominator}"
