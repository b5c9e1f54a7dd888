"""Escaping of user strings for the two levels of ffmpeg's filtergraph syntax.

ffmpeg reads a filtergraph twice: the graph parser splits filters on ``[ ] , ;`` and the option
parser splits ``key=value`` pairs on ``:``. Both levels unescape ``\\`` and single quotes and both
trim unescaped whitespace at the ends of a token, so a value is escaped for the option level first
and the whole option string again for the graph level. Escaped this way no user string can close a
filter, open a new one or add a source.

Paths go to ffmpeg, ffprobe and ffplay by one rule (:func:`media_path`, :func:`input_args`,
:func:`movie_options`), in what runs and in what ``--print`` shows: a relative name with a colon
gets ``file:`` (never a protocol: ``concat:``, ``subfile,,...:``), a name starting with ``-``
gets ``./`` (never an option: ``-report``), and a name the image2 demuxer would read as a
pattern (``im%d.png``, ``a*.png``) is opened as that one file (``-f image2 -pattern_type none``).
"""

from __future__ import annotations

import os
import re

OPTION_SPECIALS = "\\':="
GRAPH_SPECIALS = "\\'[],;"
_WHITESPACE = " \n\t\r"


def _backslash(text: str, specials: str) -> str:
    """Backslash-escape ``specials`` and any whitespace at either end (ffmpeg trims it)."""
    out = [("\\" + ch) if ch in specials else ch for ch in text]
    for i, ch in enumerate(text):
        if ch not in _WHITESPACE:
            break
        out[i] = "\\" + ch
    for i in range(len(text) - 1, -1, -1):
        if text[i] not in _WHITESPACE:
            break
        out[i] = "\\" + text[i]
    return "".join(out)


def option_value(value: str) -> str:
    """Escape one option value for the filter's own ``key=value:key=value`` parser.

    ``=`` is escaped too: in a positional value ffmpeg would read ``a=b`` as option ``a``.
    """
    return _backslash(value, OPTION_SPECIALS) if value else "''"


def filter_args(args: str) -> str:
    """Escape a filter's whole option string for the graph parser."""
    return _backslash(args, GRAPH_SPECIALS)


def media_path(path: str) -> str:
    """A path ffmpeg opens as a local file, never as a protocol (``concat:``, ``http:``,
    ``subfile:``) nor as an option (``-report``), in argv and in ``movie=``; for inputs and
    outputs alike."""
    if os.name == "nt" and re.match(r"^[A-Za-z]:[\\/]", path):
        return path
    if ":" in path and not os.path.isabs(path):
        return "file:" + path
    if path.startswith("-"):
        return "./" + path
    return path


# Extensions the image2 demuxer claims (libavformat/img2.c, ff_img_tags; matched after the last
# dot of the whole path, case-insensitively). Such a path with a pattern character is read as a
# sequence (``%d``) or a glob by default.
IMAGE2_EXTENSIONS = frozenset("""
jpeg jpg jps mpo ljpg jls png pns mng ppm pnm pgm pgmyuv pbm pam pfm phm cri pix dds mpg1-img
mpg2-img mpg4-img y raw bmp tga tiff tif dng sgi ptx pcd pcx pic pct pict sun ras rs im1 im8
im24 im32 sunras svg svgz j2c jp2 jpc j2k dpx exr yuv10 webp xbm xpm xface xwd img ximg timg vbn
jxl qoi hdr wbmp""".split())
_PATTERN_CHARS = "%*?[]{}"


def literal_image(path: str) -> bool:
    """ffmpeg would read ``path`` as an image2 pattern (``im%d.png`` as im0.png, im1.png ...,
    ``a*.png`` as a glob) rather than as the one file of that name."""
    ext = path.rsplit(".", 1)[1].lower() if "." in path else ""
    return ext in IMAGE2_EXTENSIONS and any(c in path for c in _PATTERN_CHARS)


def open_options(path: str) -> list[str]:
    """Input options (before ``-i``) that make ffmpeg, ffprobe and ffplay read ``path`` as the
    one file it names: ``-f image2 -pattern_type none`` for a pattern-like image name, else none
    (an unused demuxer option would be an error, so they are given only where image2 reads)."""
    return ["-f", "image2", "-pattern_type", "none"] if literal_image(path) else []


def input_args(path: str) -> list[str]:
    """``[options] -i PATH`` for the file ``path``: exactly that file, whatever its name."""
    return [*open_options(path), "-i", media_path(path)]


def movie_options(path: str) -> dict[str, str]:
    """The ``movie=`` filter's options (beside ``filename``) that read ``path`` as the one file
    it names, as :func:`open_options` does on the command line."""
    return {"f": "image2", "format_opts": "pattern_type=none"} if literal_image(path) else {}
