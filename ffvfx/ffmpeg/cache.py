"""The ffvfx cache: where it is, and entries that are written whole and used only when sound.

Where: ``$FFVFX_CACHE``, else ``~/.cache/ffvfx`` (:func:`root`). It keeps what saves time on the
next run: each ffmpeg binary's capabilities (``toolchain-*.json``), hardware probe answers
(``hw-probe.json``), camera paths (``camera/``), subject masks (``mask-KEY.mkv`` + ``.json``),
studio generations (``studio/``), inpainting candidates (``inpaint/``) and the demo clip.

An entry is named by :func:`key` (a hash of what changes it, each file it reads by its
:func:`file_identity`), so an edited input is simply a miss. It is a JSON file written whole
(:func:`save`: a temporary file renamed over it, so a reader never sees half of one). It is used
only when it has the shape its reader expects (:func:`matches`: required keys and their types)
and the files it names are sound: each file in
its manifest (``cache_files``, written by :func:`save`) is there with the byte size recorded and,
for a video, the frame count recorded. Anything else -- truncated JSON, the wrong JSON type, a
missing key, a missing, truncated or replaced file -- is damage: one line on stderr (``ffvfx:
cache entry PATH was damaged; rebuilt``), the entry is removed and its reader rebuilds it, so a
damaged cache never makes a command fail nor has to be deleted by hand.

A cache that cannot be written costs only time (:func:`save` says False), except where the result
must be a file ffmpeg reads (a mask, generated pictures): :func:`folder` then refuses in one line.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ffvfx.errors import FfvfxError

FILES = "cache_files"
"""The key of an entry's manifest: ``{name beside the entry: {"bytes": N, "frames": N or null}}``."""


class Table:
    """The shape of a JSON object with any keys (strings), every value of shape ``values``."""

    def __init__(self, values: object):
        self.values = values


class Array:
    """The shape of a JSON list, every item of shape ``item``; ``length``: exactly that many."""

    def __init__(self, item: object, length: int | None = None):
        self.item, self.length = item, length


_MANIFEST = Table({"bytes": int, "frames": (int, None)})


def matches(value: Any, shape: object) -> bool:
    """``value`` (parsed JSON) has ``shape``.

    Shapes: ``str``, ``int`` (not bool), ``float`` (a finite int or float), ``bool``, ``None``;
    a literal string or int (that value exactly: a format name, a version); a tuple (any one of
    its shapes); ``[S]`` or :class:`Array` (a list of S); a dict (an object with at least those
    keys, each of its shape); :class:`Table` (an object with any keys); a function (a predicate).
    """
    if shape is None:
        return value is None
    if shape is bool:
        return isinstance(value, bool)
    if shape is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if shape is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if isinstance(shape, type):
        return isinstance(value, shape)
    if callable(shape):
        return bool(shape(value))
    if isinstance(shape, (str, int)):
        return type(value) is type(shape) and value == shape
    if isinstance(shape, tuple):
        return any(matches(value, s) for s in shape)
    if isinstance(shape, list):
        shape = Array(shape[0])
    if isinstance(shape, Array):
        return isinstance(value, list) and (shape.length is None or len(value) == shape.length) \
            and all(matches(v, shape.item) for v in value)
    if isinstance(shape, Table):
        return isinstance(value, dict) and all(matches(v, shape.values) for v in value.values())
    if isinstance(shape, dict):
        return isinstance(value, dict) and all(k in value and matches(value[k], s) for k, s in shape.items())
    raise TypeError(f"not a shape: {shape!r}")


def root(override: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``override`` when given (a caller's own), else ``$FFVFX_CACHE``, else
    ``~/.cache/ffvfx``. Not created here."""
    return Path(override or os.environ.get("FFVFX_CACHE") or Path.home() / ".cache" / "ffvfx")


def key(payload: Mapping[str, Any], digits: int = 16) -> str:
    """The name of the entry for ``payload`` (JSON: what changes the result, a
    :func:`file_identity` for each file read): ``digits`` hex digits of the sha256 of it, keys sorted."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:digits]


def file_identity(path: str | os.PathLike[str]) -> str:
    """``path`` as it is now, for a :func:`key`: ``REALPATH|BYTES|MTIME_NS``; a file edited or
    replaced gets a new identity, so its entries are missed and rebuilt. OSError when it is not there."""
    st = os.stat(path)
    return f"{os.path.realpath(path)}|{st.st_size}|{st.st_mtime_ns}"


def folder(path: str | os.PathLike[str]) -> Path:
    """The cache folder ``path``, made when missing, for results that must be files; one line
    (FfvfxError) when it cannot be made or written in (a read-only disk, a file in the way)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, test = tempfile.mkstemp(prefix=".ffvfx-write-test.", dir=path)
        os.close(fd)
        os.unlink(test)
    except OSError as exc:
        raise FfvfxError(f"cannot write the ffvfx cache at {path} ({exc.strerror}); set FFVFX_CACHE "
                         "to a writable folder") from None
    return path


def save(path: str | os.PathLike[str], data: Any, files: Mapping[str, int | None] | None = None) -> bool:
    """Write ``data`` as the JSON entry ``path`` whole (temporary file, then rename); False, and
    nothing left behind, when the cache cannot be written.

    ``files``: the files this entry stands for, named relative to its folder, each with its frame
    count (a video) or None; their byte sizes are read now and recorded with them in the entry's
    manifest, so :func:`load` uses the entry only while each is as it was written. ``data`` must
    then be a JSON object.
    """
    path = Path(path)
    if files is not None:
        try:
            manifest = {name: {"bytes": (path.parent / name).stat().st_size, "frames": frames}
                        for name, frames in files.items()}
        except OSError:
            return False
        data = {**data, FILES: manifest}
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False


def load(path: str | os.PathLike[str], shape: object, *,
         frames: Callable[[Path], int] | None = None) -> Any | None:
    """The entry ``path`` when it is there and sound (see the module docstring), without its
    manifest; None when it is not there, or was damaged (then said on stderr and removed).

    ``frames(file)``: counts a video's frames, for the files whose manifest records a count
    (raising FfvfxError or OSError counts as damage).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (FileNotFoundError, NotADirectoryError):
        return None  # not cached (or the cache folder is not there, or is a file)
    except (OSError, UnicodeDecodeError):
        damaged(path)
        return None
    try:
        data = json.loads(text)
    except ValueError:
        damaged(path)
        return None
    if not matches(data, shape) or not _files_sound(path, data, frames):
        damaged(path)
        return None
    if isinstance(data, dict):
        data.pop(FILES, None)
    return data


def _files_sound(path: Path, data: Any, frames: Callable[[Path], int] | None) -> bool:
    """Every file the entry's manifest names is as it was written (no manifest: nothing to check)."""
    if not isinstance(data, dict) or FILES not in data:
        return True
    manifest = data[FILES]
    if not matches(manifest, _MANIFEST):
        return False
    for name, recorded in manifest.items():
        file = path.parent / name
        if file.parent != path.parent:
            return False  # a manifest names files beside its entry only
        try:
            if file.stat().st_size != recorded["bytes"]:
                return False
            if recorded["frames"] is not None and (frames is None or frames(file) != recorded["frames"]):
                return False
        except (OSError, FfvfxError):
            return False
    return True


def damaged(path: str | os.PathLike[str]) -> None:
    """Say on stderr that the cache entry ``path`` was damaged and is rebuilt; remove it (a
    read-only cache keeps it, and says so again next time)."""
    print(f"ffvfx: cache entry {path} was damaged; rebuilt", file=sys.stderr)
    with contextlib.suppress(OSError):
        os.unlink(path)
