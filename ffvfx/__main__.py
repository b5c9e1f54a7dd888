"""``python -m ffvfx``: the command line, as the ``ffvfx`` script runs it."""

from ffvfx.cli import entry

entry()
