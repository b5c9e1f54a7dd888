"""Where a command may write: the output-path rules every command shares, checked before any work.

An output is never one of the command's inputs (the main input, an alpha, a mask, a background,
a plate, a picks file ...): not by the same spelling, not through ``./``, ``..``, a symlink or a
hard link, and ``-y`` does not change that. Files are compared by identity (device and inode),
which every spelling of one file shares. An existing output is replaced only with ``overwrite``
(and one that appears while the command runs is kept without it: :mod:`ffvfx.ffmpeg.atomic`); the folder
it goes in must exist. A command that writes a folder (``matte``, ``loop``) names
every file it will write (or remove) there, and each is held to the same rules.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ffvfx.errors import FfvfxError

PathLike = str | os.PathLike[str]


def identity(path: PathLike) -> tuple[int, int] | None:
    """``(st_dev, st_ino)`` of the file ``path`` names (symlinks followed), None when there is none."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def same_file(a: PathLike, b: PathLike) -> bool:
    """``a`` and ``b`` are one existing file, however each is spelled."""
    ida = identity(a)
    return ida is not None and ida == identity(b)


def check_output(out: PathLike, inputs: Iterable[PathLike | None], overwrite: bool, *,
                 files: Iterable[PathLike] | None = None) -> None:
    """Refuse, with one line (FfvfxError), an output that would replace an input or an existing
    file (without ``overwrite``), or that cannot be written where it is.

    ``out`` is the output file; with ``files`` it is the output folder and ``files`` (names in it,
    or paths) every file the command will write or remove there. ``inputs`` are every file the
    command reads (None and names of no file, such as colours or ``auto``, are skipped).
    """
    out = Path(out)
    folder = files is not None
    targets = [out / f for f in files] if folder else [out]
    read = {}
    for given in inputs:
        if given is not None and str(given):
            read.setdefault(identity(given), given)
    read.pop(None, None)
    for target in targets:
        hit = read.get(identity(target))
        if hit is not None:
            also = "" if str(hit) == str(target) else f" ({hit})"
            raise FfvfxError(f"{target}: output is an input{also}; choose another output name")
    if folder and out.exists() and not out.is_dir():
        raise FfvfxError(f"{out}: exists and is not a folder")
    for target in targets:
        if target.is_dir():
            raise FfvfxError(f"{target}: is a directory; give an output file name")
    existing = next((t for t in targets if t.exists()), None)
    if existing is not None and not overwrite:
        raise FfvfxError(f"{existing}: exists; pass -y/--overwrite to replace it")
    if not (folder and out.is_dir()) and not out.parent.is_dir():
        raise FfvfxError(f"{out.parent}: output directory does not exist")
    writable(out if folder and out.is_dir() else out.parent)


def writable(folder: PathLike) -> None:
    """Refuse, in one line, a folder no file can be made in (a read-only disk, no permission,
    ``/proc``), before any work: tried by making and removing a file, not guessed from mode bits."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".ffvfx-write-test.", dir=folder)
    except OSError as exc:
        raise FfvfxError(f"{folder}: cannot write there ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)
