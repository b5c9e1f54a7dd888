"""Outputs that appear whole or not at all: write under a temporary name, rename on success.

A reader (a player, another command, a second run's cache lookup) never sees a half-written file,
and a failure or Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(out: str | os.PathLike[str], part: str = ".part") -> Iterator[str]:
    """A temporary path beside ``out`` (same extension, so ffmpeg picks the same muxer).

    When the block succeeds it is renamed to ``out`` with the permissions a plain new file gets
    under the umask (mkstemp's 0600 would make results private); otherwise it is removed.
    """
    out = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f"{part}{out.suffix}", dir=out.parent)
    os.close(fd)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path, ".tmp") as tmp, open(tmp, "w") as f:
        f.write(text)
