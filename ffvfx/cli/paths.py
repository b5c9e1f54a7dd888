"""The command line's input slots: one path type for every file a command reads.

INPUT, ALPHA, MASK, ``--alpha``, ``--bg``, ``--plate``, ``--composite``, ``--picks``,
``--weights`` and the models' local folders all take :data:`INPUT_PATH` (or an
:class:`InputPath` naming the words the slot also takes), so every slot follows the same rules:

- the value is the text as typed, a ``str``; an empty name (``''``) or one with a NUL byte is
  refused in one line;
- an existing file is always that file: a word the slot also takes (``auto``, ``demo``,
  ``webcam``, a colour) counts only when no file of that name exists
  (:func:`ffvfx.ffmpeg.sources.keyword`, :func:`ffvfx.ffmpeg.sources.resolve`,
  :func:`ffvfx.effects.composite.background`), and no name is ever a device or a filtergraph
  (those are ``--camera`` and ``--lavfi``);
- ffmpeg, ffprobe and ffplay only ever see it through :mod:`ffvfx.compiler.escape` (``file:``, ``./``,
  ``-pattern_type none``), in what runs and in what ``--print`` shows;
- a name starting with ``-`` is a file after ``--`` (``ffvfx motion -- -clip.mp4 out.mp4``) or
  as an option's value (``--bg -plate.png``).
"""

from __future__ import annotations

import click

from ffvfx.cli.options import Refused


class InputPath(click.ParamType):
    """A file (or, where ``words`` says, a folder, an id or a keyword) a command reads; see the
    module's rules. ``words`` is what the help shows besides ``PATH`` (``auto``, ``COLOR``)."""

    name = "path"

    def __init__(self, words: str = ""):
        self.words = words

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str | None:
        if isinstance(param, click.Argument):
            return None  # arguments keep their own metavar (INPUT, ALPHA|auto)
        return "PATH" + (f"|{self.words}" if self.words else "")

    def convert(self, value, param, ctx):
        text = str(value)
        if not text:
            raise Refused("an empty name names no file (got '')", ctx, param)
        if "\x00" in text:
            raise Refused(f"a file name cannot hold a NUL byte (got {text!r})", ctx, param)
        return text

    def shell_complete(self, ctx, param, incomplete):
        from click.shell_completion import CompletionItem
        return [CompletionItem(incomplete, type="file")]


INPUT_PATH = InputPath()
"""A file a command reads (and nothing else)."""
