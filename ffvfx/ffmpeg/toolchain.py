"""Which ffmpeg, ffplay and ffprobe ffvfx runs, and what the installed ffmpeg can do.

Order: ``$FFVFX_FFMPEG`` (its ffplay/ffprobe are looked up beside it), the ``ffmpeg`` on PATH, then
the static ffmpeg 9.x inside the ``imageio-ffmpeg`` wheel (which has no ffplay or ffprobe, so
nothing else in ffvfx may depend on ffprobe). Capabilities are parsed once per binary and cached.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import cache, children

_CAPS_SCHEMA = 2  # bump when _ask_capabilities learns something new: old caches are not read
_CAPS_SHAPE = {"version": str, "filters": [str], "encoders": [str], "decoders": [str], "hwaccels": [str]}


@dataclass(frozen=True)
class Toolchain:
    """Paths of the ffmpeg tools in use; ``ffplay``/``ffprobe`` may be None."""

    ffmpeg: str
    ffplay: str | None
    ffprobe: str | None
    origin: str

    @functools.cached_property
    def _capabilities(self) -> dict:
        """Version, filters, codecs and hwaccels: asked of ffmpeg once per binary, kept on disk."""
        key = hashlib.sha1(f"{self.identity}|{_CAPS_SCHEMA}".encode())
        entry = cache.root() / f"toolchain-{key.hexdigest()[:16]}.json"
        caps = cache.load(entry, _CAPS_SHAPE)
        if caps is None:
            caps = _ask_capabilities(self.ffmpeg)
            cache.save(entry, caps)  # a read-only cache only costs the next run 0.1 s
        return caps

    @functools.cached_property
    def identity(self) -> str:
        """This binary as a cache key: its real path, size and modification time."""
        return cache.file_identity(self.ffmpeg)

    @property
    def version(self) -> str:
        """``5.1.6`` or ``n9.0.2-...``: the version ffmpeg reports."""
        return self._capabilities["version"]

    @functools.cached_property
    def release(self) -> tuple[int, int]:
        """(major, minor); git builds without a number count as current."""
        m = re.search(r"(\d+)\.(\d+)", self.version)
        return (int(m.group(1)), int(m.group(2))) if m else (99, 0)

    @property
    def major(self) -> int:
        return self.release[0]

    def passthrough_timing(self) -> list[str]:
        """Keep every frame with its own timestamp: ``-fps_mode`` from 5.1, ``-vsync`` before."""
        return ["-fps_mode" if self.release >= (5, 1) else "-vsync", "passthrough"]

    @property
    def filters(self) -> frozenset[str]:
        return frozenset(self._capabilities["filters"])

    @property
    def encoders(self) -> frozenset[str]:
        return frozenset(self._capabilities["encoders"])

    @property
    def decoders(self) -> frozenset[str]:
        return frozenset(self._capabilities["decoders"])

    @property
    def hwaccels(self) -> tuple[str, ...]:
        return tuple(self._capabilities["hwaccels"])

    def script_option(self) -> str:
        """The option that reads a filtergraph from a file on this version."""
        return "-/filter_complex" if self.major >= 7 else "-filter_complex_script"

    def require_filters(self, names: set[str]) -> None:
        """Fail with one line naming the filters this ffmpeg lacks."""
        missing = sorted(n for n in names if n not in self.filters)
        if missing:
            raise FfvfxError(
                f"ffmpeg {self.version} ({self.ffmpeg}) lacks the filter(s) {', '.join(missing)}; "
                "install a fuller ffmpeg or set FFVFX_FFMPEG")

    @functools.cache  # noqa: B019 - a handful of toolchains, alive for the whole process
    def encoder_presets(self, name: str) -> tuple[str, ...]:
        """The ``-preset`` names ``ffmpeg -h encoder=NAME`` lists (empty: none, or no such option)."""
        text = _run([self.ffmpeg, "-hide_banner", "-h", f"encoder={name}"])
        block = re.search(r"^  -preset .*\n((?:     .*\n)*)", text, re.M)
        return tuple(re.findall(r"^     (\S+)", block.group(1), re.M)) if block else ()

    def require_encoder(self, name: str) -> None:
        if name not in self.encoders:
            raise FfvfxError(f"ffmpeg {self.version} ({self.ffmpeg}) has no encoder {name!r}")


def _ask_capabilities(ffmpeg: str) -> dict:
    version = re.search(r"ffmpeg version (\S+)", _run([ffmpeg, "-hide_banner", "-version"]))
    filters = re.finditer(r"^ [.A-Z|]{2,3} +(\w+) +\S+->\S+", _run([ffmpeg, "-hide_banner", "-filters"]),
                          re.M)
    encoders = re.finditer(r"^ [VAS][.A-Z]{5} (\S+)", _run([ffmpeg, "-hide_banner", "-encoders"]), re.M)
    decoders = re.finditer(r"^ V[.A-Z]{5} (\S+)", _run([ffmpeg, "-hide_banner", "-decoders"]), re.M)
    hwaccels = _run([ffmpeg, "-hide_banner", "-hwaccels"]).split("Hardware acceleration methods:", 1)
    return {"version": version.group(1) if version else "unknown",
            "filters": sorted(m.group(1) for m in filters),
            "encoders": sorted(m.group(1) for m in encoders),
            "decoders": sorted(m.group(1) for m in decoders),
            "hwaccels": hwaccels[-1].split() if len(hwaccels) > 1 else []}


def _run(argv: list[str]) -> str:
    try:
        res = children.run(argv, capture_output=True, text=True, errors="replace", timeout=60)
    except OSError as exc:
        raise FfvfxError(f"cannot run {argv[0]}: {exc.strerror}") from None
    return res.stdout + res.stderr


def _beside(ffmpeg: str, name: str) -> str | None:
    p = Path(ffmpeg).with_name(name)
    return str(p) if p.is_file() and os.access(p, os.X_OK) else None


@functools.cache
def _find(env_value: str | None, path_value: str | None) -> Toolchain:
    if env_value:
        exe = shutil.which(env_value) or env_value
        if not (Path(exe).is_file() and os.access(exe, os.X_OK)):
            raise FfvfxError(f"FFVFX_FFMPEG={env_value} is not an executable ffmpeg")
        return Toolchain(exe, _beside(exe, "ffplay"), _beside(exe, "ffprobe"), "FFVFX_FFMPEG")
    exe = shutil.which("ffmpeg", path=path_value)
    if exe:
        return Toolchain(exe, shutil.which("ffplay", path=path_value),
                         shutil.which("ffprobe", path=path_value), "PATH")
    try:
        import imageio_ffmpeg
        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        exe = None
    if exe:
        return Toolchain(exe, None, None, "imageio-ffmpeg")
    raise FfvfxError("no ffmpeg found: install it (apt-get install ffmpeg), "
                     "pip install imageio-ffmpeg, or set FFVFX_FFMPEG")


def find() -> Toolchain:
    """The toolchain for the current environment (cached per ``FFVFX_FFMPEG`` and ``PATH``)."""
    return _find(os.environ.get("FFVFX_FFMPEG") or None, os.environ.get("PATH"))
