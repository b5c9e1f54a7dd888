"""The one exception type users see: its message is the single line the CLI prints."""


class FfvfxError(Exception):
    """A problem the user can fix (bad input, missing tool); printed as one line, exit code 1."""
