"""Escaping of user strings for the two levels of ffmpeg's filtergraph syntax.

ffmpeg reads a filtergraph twice: the graph parser splits filters on ``[ ] , ;`` and the option
parser splits ``key=value`` pairs on ``:``. Both levels unescape ``\\`` and single quotes and both
trim unescaped whitespace at the ends of a token, so a value is escaped for the option level first
and the whole option string again for the graph level. Escaped this way no user string can close a
filter, open a new one or add a source.
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
    """A path ffmpeg opens as a local file, never as a protocol (``concat:``, ``http:``, ``subfile:``)."""
    if os.name == "nt" and re.match(r"^[A-Za-z]:[\\/]", path):
        return path
    if ":" in path and not os.path.isabs(path):
        return "file:" + path
    return path
