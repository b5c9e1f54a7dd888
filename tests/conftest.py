"""Shared test fixtures: the ffmpeg under test, clip writing/decoding helpers, the ffvfx command.

Everything here uses the ffmpeg that ffvfx itself would use (``ffvfx.ffmpeg.toolchain.find()``), so the
whole suite runs once with the system ffmpeg and once more with ``FFVFX_FFMPEG`` pointing at
another binary (the static 9.x inside imageio-ffmpeg, which has no ffplay/ffprobe):

    pytest                                                   # system ffmpeg
    FFVFX_FFMPEG=$(python -c 'import imageio_ffmpeg as m; print(m.get_ffmpeg_exe())') pytest

Fixtures (all session-scoped unless noted):

- ``tools``: the :class:`ffvfx.ffmpeg.toolchain.Toolchain` in use (skips everything if none is found).
- ``ffmpeg``: its ffmpeg path; ``ffplay``: its ffplay path (skips the test when there is none).
- ``media``: a :class:`Media` helper: write numpy RGB frames to a clip, decode a clip to numpy,
  measure audio, run ffmpeg, PSNR, file hashes.
- ``scenes``: :class:`Scenes`, deterministic synthetic frame stacks (smooth moving blobs, a
  moving square, per-frame index brightness codes).
- ``ffvfx_cmd``: run the installed ``ffvfx`` command in a subprocess.
- ``short_clip``: 24 frames at 60 fps, 96x64; ``display_env``: an environment in which ffplay can open
  a window (SDL offscreen, else a private Xvfb; skips when neither works).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import toolchain

_PPM_HEADER = re.compile(rb"P6\s+(\d+)\s+(\d+)\s+255\s")


class Media:
    """Write and read small clips with one ffmpeg binary (real pixels, lossless where asked)."""

    def __init__(self, ffmpeg: str):
        self.ffmpeg = ffmpeg

    # -- running ffmpeg ------------------------------------------------------------------------
    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """``ffmpeg -hide_banner -nostdin -y -loglevel error ARGS``; raises with stderr on failure."""
        argv = [self.ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *map(str, args)]
        res = subprocess.run(argv, capture_output=True, timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError(f"ffmpeg failed ({res.returncode}): {' '.join(argv)}\n"
                                 + res.stderr.decode(errors="replace")[-3000:])
        return res

    # -- writing -------------------------------------------------------------------------------
    def write(self, path: str | os.PathLike, frames: np.ndarray | Iterable[np.ndarray],
              fps: float | str | Fraction = 30, vcodec: str = "ffv1", pix_fmt: str = "gbrp",
              args: Sequence[str] = (), audio: bool = False, out_args: Sequence[str] = ()) -> Path:
        """Encode RGB uint8 frames (N x H x W x 3) to ``path``.

        Defaults give a lossless RGB clip (FFV1 in gbrp: decodes back to exactly ``frames``).
        ``vcodec="libx264", pix_fmt="yuv420p"`` gives an ordinary H.264 clip. ``args`` go after
        the video codec (e.g. ``["-crf", "10"]``), ``out_args`` just before the output path
        (e.g. ``["-vf", "setpts=..."]``). ``audio`` adds a 440 Hz sine track of the clip's length
        (AAC in mp4/mov/m4v, else FLAC). Returns ``Path(path)``.
        """
        frames = np.ascontiguousarray(np.asarray(frames, dtype=np.uint8))
        n, h, w, c = frames.shape
        assert c == 3, "frames must be RGB"
        rate = Fraction(str(fps)) if not isinstance(fps, Fraction) else fps
        argv = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                "-framerate", str(rate), "-i", "pipe:0"]
        if audio:
            seconds = float(n / rate)
            argv += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds:.6f}"]
        argv += ["-map", "0:v"]
        if vcodec == "libx264":
            argv += ["-preset", "ultrafast"]
        argv += ["-c:v", vcodec, "-pix_fmt", pix_fmt, *args]
        if audio:
            ext = Path(path).suffix.lower()
            argv += ["-map", "1:a", "-c:a", "aac" if ext in (".mp4", ".mov", ".m4v") else "flac"]
        argv += [*out_args, str(path)]
        full = [self.ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *argv]
        res = subprocess.run(full, input=frames.tobytes(), capture_output=True, timeout=120)
        if res.returncode != 0:
            raise AssertionError("ffmpeg failed: " + " ".join(full) + "\n"
                                 + res.stderr.decode(errors="replace")[-3000:])
        return Path(path)

    # -- reading -------------------------------------------------------------------------------
    def decode(self, path: str | os.PathLike, *input_args: str, vf: str | None = None) -> np.ndarray:
        """Every decoded frame of ``path`` as RGB uint8 (N x H x W x 3), frame for frame.

        Timestamps are passed through (no frame is duplicated or dropped, even for variable-rate
        input); the display rotation is applied as ffmpeg applies it by default. ``input_args``
        go before ``-i`` (e.g. ``-display_rotation``), ``vf`` is an optional filter before the
        RGB conversion. Uses a PPM pipe so no ffprobe is needed to know the frame size.
        """
        argv = [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", *input_args,
                "-i", str(path), "-map", "0:v:0"]
        if vf:
            argv += ["-vf", vf]
        argv += ["-fps_mode", "passthrough", "-f", "image2pipe", "-c:v", "ppm", "-pix_fmt", "rgb24",
                 "pipe:1"]
        res = subprocess.run(argv, capture_output=True, timeout=120)
        if res.returncode != 0:
            raise AssertionError(f"cannot decode {path}: " + res.stderr.decode(errors="replace")[-2000:])
        data = res.stdout
        if not data:
            return np.zeros((0, 0, 0, 3), np.uint8)
        m = _PPM_HEADER.match(data)
        assert m, f"unexpected decoder output for {path}"
        w, h = int(m.group(1)), int(m.group(2))
        frame = m.end() + w * h * 3
        assert len(data) % frame == 0, f"{path}: frames of varying size"
        n = len(data) // frame
        buf = np.frombuffer(data, np.uint8).reshape(n, frame)
        return buf[:, m.end():].reshape(n, h, w, 3).copy()

    def audio_duration(self, path: str | os.PathLike) -> float | None:
        """Seconds of decoded audio in the first audio stream (sample count / rate); None if none."""
        res = subprocess.run(
            [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
             "-map", "0:a:0?", "-ac", "1", "-ar", "48000", "-f", "s16le", "pipe:1"],
            capture_output=True, timeout=120)
        if res.returncode != 0 or not res.stdout:
            return None
        return len(res.stdout) / 2 / 48000

    def frame_times(self, path: str | os.PathLike) -> list[float]:
        """Presentation time (s) of every decoded video frame, in decode output order (showinfo)."""
        res = subprocess.run(
            [self.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "info", "-i", str(path),
             "-map", "0:v:0", "-vf", "showinfo", "-fps_mode", "passthrough", "-f", "null", "-"],
            capture_output=True, text=True, errors="replace", timeout=120)
        assert res.returncode == 0, res.stderr[-2000:]
        return [float(t) for t in re.findall(r"\] n: *\d+ .*?pts_time:(-?[\d.]+)", res.stderr)]

    # -- measuring -----------------------------------------------------------------------------
    @staticmethod
    def psnr(a: np.ndarray, b: np.ndarray) -> float:
        """Peak signal-to-noise ratio in dB of two 8-bit images/stacks (inf when equal)."""
        a = np.asarray(a, np.float64)
        b = np.asarray(b, np.float64)
        assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
        mse = float(np.mean((a - b) ** 2))
        return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)

    @classmethod
    def psnr_stack(cls, out: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
        """(PSNR of the whole stack, PSNR of its worst frame) in dB; shapes must match."""
        assert out.shape == ref.shape, f"shape {out.shape} != {ref.shape}"
        return cls.psnr(out, ref), min(cls.psnr(o, r) for o, r in zip(out, ref, strict=True))

    @staticmethod
    def sha256(path: str | os.PathLike) -> str:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class Scenes:
    """Deterministic synthetic RGB frame stacks (uint8, N x H x W x 3) for temporal tests."""

    @staticmethod
    def blobs(n: int = 40, w: int = 128, h: int = 96, speed: float = 2.0) -> np.ndarray:
        """Smooth content: three coloured gaussian blobs moving ``speed`` px/frame over a gradient.

        No hard edges anywhere, so blurred/downscaled intermediate results stay close to the
        full-resolution definitions.
        """
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        base = np.stack([40 + 80 * x / w, 60 + 60 * y / h, 110 - 50 * x / w + 30 * y / h], -1)
        blobs = [  # (x0, y0, vx, vy, sigma, rgb)
            (0.25 * w, 0.4 * h, 1.0, 0.35, 0.09 * w, (150, 40, 90)),
            (0.7 * w, 0.3 * h, -0.8, 0.6, 0.11 * w, (30, 140, 60)),
            (0.5 * w, 0.75 * h, 0.5, -0.7, 0.07 * w, (70, 80, 130)),
        ]
        out = np.empty((n, h, w, 3), np.uint8)
        for i in range(n):
            img = base.copy()
            for x0, y0, vx, vy, s, rgb in blobs:
                cx, cy = x0 + vx * speed * i, y0 + vy * speed * i
                g = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s))
                img += g[..., None] * np.array(rgb, np.float64)
            out[i] = np.clip(np.rint(img), 0, 255)
        return out

    @staticmethod
    def square(n: int = 30, w: int = 128, h: int = 96, size: int = 16, step: tuple[int, int] = (3, 1),
               start: tuple[int, int] = (8, 20), bg: int = 60, fg: int = 220) -> tuple[np.ndarray, list]:
        """A flat ``fg`` square moving ``step`` px/frame over a flat ``bg`` background.

        Returns the frames and the square's top-left corner (x, y) in every frame.
        """
        frames = np.full((n, h, w, 3), bg, np.uint8)
        corners = []
        for i in range(n):
            x, y = start[0] + step[0] * i, start[1] + step[1] * i
            assert 0 <= x and x + size <= w and 0 <= y and y + size <= h, "square leaves the frame"
            frames[i, y:y + size, x:x + size] = fg
            corners.append((x, y))
        return frames, corners

    @staticmethod
    def index_coded(n: int = 40, w: int = 96, h: int = 64, seed: int = 5) -> np.ndarray:
        """Gray frames that each carry their own index, so a mispaired frame shows at once.

        Frame k has a flat level (a random permutation of levels 3 apart, from 20), a gentle
        gradient, and an 8x8 block 40 levels brighter at a position no other frame uses. Any two
        frames differ by at least 3 levels everywhere and by a block elsewhere.
        """
        rng = np.random.default_rng(seed)
        spots = [(x, y) for y in range(4, h - 8, 10) for x in range(4, w - 8, 10)]
        assert n <= len(spots) and 20 + 3 * (n - 1) + 18 <= 255, "clip too long for this size"
        levels = rng.permutation(20 + 3 * np.arange(n)).astype(np.float64)
        order = rng.permutation(len(spots))[:n]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        ramp = 10 * xx / w + 8 * yy / h
        frames = np.empty((n, h, w), np.float64)
        for k in range(n):
            frames[k] = levels[k] + ramp
            x, y = spots[order[k]]
            frames[k, y:y + 8, x:x + 8] += 40
        frames = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
        return np.repeat(frames[..., None], 3, axis=-1)


@pytest.fixture(scope="session")
def tools() -> toolchain.Toolchain:
    """The toolchain ffvfx uses here (honours ``$FFVFX_FFMPEG``)."""
    try:
        return toolchain.find()
    except FfvfxError as exc:
        pytest.skip(f"no usable ffmpeg: {exc}")


@pytest.fixture(scope="session")
def ffmpeg(tools: toolchain.Toolchain) -> str:
    """Path of the ffmpeg ffvfx uses; make and decode test clips with it."""
    return tools.ffmpeg


@pytest.fixture(scope="session")
def ffplay(tools: toolchain.Toolchain) -> str:
    """Path of the matching ffplay; skips the test where there is none (imageio-ffmpeg's binary)."""
    if not tools.ffplay:
        pytest.skip(f"no ffplay beside {tools.ffmpeg} ({tools.origin}); "
                    "imageio-ffmpeg ships ffmpeg only")
    return tools.ffplay


@pytest.fixture(scope="session")
def media(ffmpeg: str) -> Media:
    """Clip writer/decoder bound to the ffmpeg under test (see :class:`Media`)."""
    return Media(ffmpeg)


@pytest.fixture(scope="session")
def scenes() -> Scenes:
    """Synthetic frame stacks (see :class:`Scenes`)."""
    return Scenes()


def ffvfx_argv() -> list[str]:
    """The installed ``ffvfx`` console script beside this Python, else an equivalent ``-c``."""
    exe = Path(sys.executable).with_name("ffvfx")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("ffvfx")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from ffvfx.cli import entry; sys.argv[0] = 'ffvfx'; entry()"]


@pytest.fixture(scope="session")
def ffvfx_cmd():
    """``ffvfx_cmd(*args, cwd=None, env=None, timeout=120)``: run the ``ffvfx`` command.

    Returns the CompletedProcess (text mode, stdout/stderr captured). ``env`` entries are added
    to the current environment (so ``FFVFX_FFMPEG`` is inherited unless overridden); a value of
    None removes the variable.
    """
    def run(*args: str, cwd: str | os.PathLike | None = None, env: dict | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        full_env = dict(os.environ)
        for k, v in (env or {}).items():
            if v is None:
                full_env.pop(k, None)
            else:
                full_env[k] = v
        return subprocess.run([*ffvfx_argv(), *map(str, args)], capture_output=True, text=True,
                              cwd=cwd, env=full_env, timeout=timeout, stdin=subprocess.DEVNULL)
    return run


def _binaries() -> list[str]:
    """Distinct ffmpeg executables available here (by real path): $FFVFX_FFMPEG, PATH, imageio."""
    candidates = [os.environ.get("FFVFX_FFMPEG"), shutil.which("ffmpeg")]
    try:
        import imageio_ffmpeg

        candidates.append(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        pass
    found: dict[str, str] = {}
    for exe in candidates:
        if exe and os.path.isfile(exe) and os.access(exe, os.X_OK):
            found.setdefault(os.path.realpath(exe), exe)
    return list(found.values())


@pytest.fixture(scope="module", params=[toolchain.Toolchain(exe, None, None, "test") for exe in _binaries()],
                ids=lambda tc: "ffmpeg" + re.sub(r"^n?(\d+\.\d+).*", r"\1", tc.version))
def tc(request: pytest.FixtureRequest) -> toolchain.Toolchain:
    """Every distinct ffmpeg binary here (system 5.x and the imageio 9.x), for syntax-level tests."""
    return request.param


# -- ffplay under a display (preview tests) -------------------------------------------------
FRAMES, FPS = 24, 60


@pytest.fixture(scope="session")
def short_clip(media, scenes, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("preview")
    return media.write(d / "short clip.mp4", scenes.blobs(FRAMES, 96, 64), fps=FPS, vcodec="libx264",
                       pix_fmt="yuv420p")


@pytest.fixture(scope="session")
def display_env(ffplay, short_clip):
    """Environment under which ffplay can open a window: SDL offscreen, else a private Xvfb."""
    base = dict(os.environ, SDL_AUDIODRIVER="dummy")
    offscreen = dict(base, SDL_VIDEODRIVER="offscreen")
    probe = [ffplay, "-hide_banner", "-loglevel", "error", "-autoexit", "-an", "-i", str(short_clip)]
    if subprocess.run(probe, env=offscreen, capture_output=True, timeout=60).returncode == 0:
        yield offscreen
        return
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        pytest.skip("ffplay cannot use SDL offscreen here and Xvfb is not installed")
    display = f":{90 + os.getpid() % 100}"
    proc = subprocess.Popen([xvfb, display, "-screen", "0", "320x240x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        env = dict(base, DISPLAY=display)
        env.pop("SDL_VIDEODRIVER", None)
        for _ in range(50):
            if subprocess.run(probe, env=env, capture_output=True, timeout=60).returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.skip("ffplay fails under Xvfb too")
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=10)
