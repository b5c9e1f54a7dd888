"""Outputs that appear whole or not at all: built under a temporary name, renamed on success.

A reader (a player, another command, a second run's cache lookup) never sees a half-written file
or folder, and a failure or Ctrl-C leaves nothing behind.

The last step never replaces what appeared at the output while ffvfx worked (a second run to the
same output, a file the user saved there) unless replacing was asked for (``-y``): the rename is
``renameat2(RENAME_NOREPLACE)`` where the kernel has it, else a hard link (which cannot replace
either) then the temporary name's removal, else a check at the last moment. A lost race is one
line and the temporary file is removed.

Temporaries carry their owner's pid in the name and the owner holds a lock on them
(``flock``) while it runs: ``.NAME.PID.XXXXXXXX.part.EXT`` for a file,
``.NAME.KIND.PID.XXXXXXXX`` for a folder (``partdir``: a folder output being built;
``segments``: :mod:`ffvfx.scale.segments`). One left by a run that was killed (``kill -9``, a crash, a
power cut) is removed by the next run to the same output; one whose owner still runs -- by pid
on this machine, by its lock from anywhere that shares the lock -- is left alone, so two runs to
one output never delete each other's files.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import functools
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ffvfx.errors import FfvfxError

if TYPE_CHECKING:
    import numpy as np

try:
    import fcntl
except ImportError:  # not POSIX: the owner's pid is the only sign of life
    fcntl = None

PathLike = str | os.PathLike[str]

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_PARTS = (".part", ".tmp")
"""The ``part`` markers of :func:`atomic_path`'s temporary names (leftovers are found by them)."""
_FOLDER_KINDS = ("partdir", "segments")
"""The kinds of :func:`scratch_folder` (leftovers are found by them)."""


def appeared(out: PathLike) -> FfvfxError:
    """The one line for an output that appeared while ffvfx was writing it."""
    return FfvfxError(f"{out}: appeared while ffvfx was writing it; pass -y/--overwrite to replace it")


@contextmanager
def atomic_path(out: PathLike, part: str = ".part", *, overwrite: bool) -> Iterator[str]:
    """A temporary path beside ``out`` (same extension, so ffmpeg picks the same muxer).

    When the block succeeds it becomes ``out``, with the permissions a plain new file gets under
    the umask (mkstemp's 0600 would make results private); ``overwrite``: replacing a file that is
    there, else one that appeared meanwhile is kept and the block's work is refused with one line
    (FfvfxError). On failure or Ctrl-C the temporary file is removed. Leftovers of killed runs to
    ``out`` are removed first.
    """
    out = Path(out)
    clear_leftovers(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.stem}.{os.getpid()}.", suffix=f"{part}{out.suffix}",
                               dir=out.parent)
    try:
        _lock(fd)
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        publish(tmp, out, overwrite)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.close(fd)


def publish(tmp: PathLike, out: PathLike, overwrite: bool) -> None:
    """Rename the finished file or folder ``tmp`` to ``out``: replacing a file there only with
    ``overwrite`` (a folder is never replaced); one line (FfvfxError) otherwise."""
    try:
        if overwrite and not os.path.isdir(tmp):
            os.replace(tmp, out)
        else:
            _rename_noreplace(tmp, out)
    except FileExistsError:
        raise appeared(out) from None
    except OSError as exc:
        raise FfvfxError(f"{out}: cannot put the result there ({exc.strerror})") from None


def write_text(path: PathLike, text: str, *, overwrite: bool) -> None:
    """Write ``text`` to ``path`` atomically (``overwrite``: as :func:`atomic_path`)."""
    with atomic_path(path, ".tmp", overwrite=overwrite) as tmp, open(tmp, "w") as f:
        f.write(text)


def write_png(path: PathLike, image: np.ndarray, *, overwrite: bool,
              failure: str = "cannot write the image") -> None:
    """RGB(A) or gray uint8, or gray uint16, as the PNG ``path``, atomically (``overwrite``: as
    :func:`atomic_path`); ``failure`` says what went wrong in the one line when it cannot be encoded."""
    import cv2  # lazy: most commands write no picture, and cv2 takes a while to import

    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise FfvfxError(f"{path}: {failure}")
    with atomic_path(path, ".tmp", overwrite=overwrite) as tmp, open(tmp, "wb") as f:
        f.write(data.tobytes())


@contextmanager
def scratch_folder(out: PathLike, kind: str) -> Iterator[Path]:
    """A hidden folder beside ``out`` (``.NAME.KIND.PID.XXXXXXXX``: same disk as the result), owned
    by this run while the block runs and removed after it; leftovers of killed runs to ``out``
    are removed first. ``kind`` is one of :data:`_FOLDER_KINDS`."""
    assert kind in _FOLDER_KINDS
    out = Path(out)
    clear_leftovers(out)
    path = Path(tempfile.mkdtemp(prefix=f".{out.name}.{kind}.{os.getpid()}.",
                                 dir=out.absolute().parent))
    fd = os.open(path, os.O_RDONLY)
    try:
        _lock(fd)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


@contextmanager
def atomic_folder(out: PathLike, *, overwrite: bool, remove: Iterable[str] = ()) -> Iterator[Path]:
    """A folder output, all or nothing: the block writes into a hidden folder beside ``out``
    (:func:`scratch_folder`); when it succeeds that folder is renamed to ``out``, and on failure,
    Ctrl-C or a refused option it is removed, so no new folder and no half-written file appear.

    When ``out`` is there (before or by the end) its other files stay: each file the block wrote
    is moved in, replacing one of the same name only with ``overwrite`` -- without it, one that
    appeared meanwhile refuses the lot (one line; what was moved in is taken out again) -- and
    then the names in ``remove`` (stale files the command owns, such as an earlier run's extra
    loops) are removed. Swapping whole folders would drop files the command does not own (the
    user's notes, another model's alpha), so files move one by one, each whole; the slow work is
    all done before the first moves.
    """
    out = Path(out)
    remove = list(remove)
    with scratch_folder(out, "partdir") as build:
        yield build
        if not out.exists() and not out.is_symlink():
            try:
                os.chmod(build, 0o777 & ~_umask())
                _rename_noreplace(build, out)
                _remove(out, remove)
                return
            except FileExistsError:
                pass  # made meanwhile: files are moved into it
            except OSError as exc:
                raise FfvfxError(f"{out}: cannot put the folder there ({exc.strerror})") from None
        if not out.is_dir():
            raise FfvfxError(f"{out}: exists and is not a folder")
        _merge(build, out, overwrite)
        _remove(out, remove)


def _merge(build: Path, out: Path, overwrite: bool) -> None:
    """Every file under ``build`` moved to the same place under ``out`` (see :func:`atomic_folder`)."""
    files = sorted(p.relative_to(build) for p in build.rglob("*") if not p.is_dir())
    if not overwrite:
        taken = next((out / rel for rel in files if os.path.lexists(out / rel)), None)
        if taken is not None:
            raise appeared(taken)
    moved: list[Path] = []
    try:
        for rel in files:
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            publish(build / rel, out / rel, overwrite)
            moved.append(out / rel)
    except BaseException:
        if not overwrite:  # each was put where nothing was: taking it out again loses nothing
            for path in moved:
                with contextlib.suppress(OSError):
                    os.replace(path, build / path.relative_to(out))
        raise


def _remove(folder: Path, names: Iterable[str]) -> None:
    for name in names:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(folder / name)


def clear_leftovers(out: PathLike) -> None:
    """Remove the temporaries (:func:`atomic_path`, :func:`scratch_folder`) beside ``out`` left by
    runs that no longer run; those of live runs stay."""
    out = Path(out)
    folder = out.absolute().parent
    file = re.compile(rf"\.{re.escape(out.stem)}\.(\d+)\.[a-z0-9_]+"
                      rf"(?:{'|'.join(map(re.escape, _PARTS))}){re.escape(out.suffix)}")
    scratch = re.compile(rf"\.{re.escape(out.name)}\.(?:{'|'.join(_FOLDER_KINDS)})\.(\d+)\.[a-z0-9_]+")
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(f".{out.stem}.")]
    except OSError:
        return
    for entry in entries:
        match = file.fullmatch(entry.name) or scratch.fullmatch(entry.name)
        if match is None or not _abandoned(entry.path, int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)


def _abandoned(path: str, pid: int) -> bool:
    """No process owns the temporary ``path`` any more: its pid is gone and nobody holds its lock."""
    if pid == os.getpid() or _alive(pid):
        return False
    if fcntl is None:
        return True
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # held: its owner runs (under a pid this machine cannot see)
    finally:
        os.close(fd)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process (or a number no process can have: leave it)
    return True


def _lock(fd: int) -> None:
    """Hold ``fd``'s lock while this run owns the temporary (released by the kernel if it dies)."""
    if fcntl is not None:
        with contextlib.suppress(OSError):  # a file system without locks: the pid still says
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's ``renameat2`` (Linux, glibc 2.28+), None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _rename_noreplace(src: PathLike, dst: PathLike) -> None:
    """Rename ``src`` to ``dst``; FileExistsError when something is at ``dst``, never replaced."""
    rename = _renameat2()
    if rename is not None:
        if rename(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), os.fspath(dst))
    # no renameat2 here, or not on this file system
    if not os.path.isdir(src):
        try:
            os.link(src, dst)  # a hard link cannot replace either
        except FileExistsError:
            raise
        except OSError:
            pass  # a file system without hard links: checked at the last moment below
        else:
            os.unlink(src)
            return
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(dst))
    os.rename(src, dst)
