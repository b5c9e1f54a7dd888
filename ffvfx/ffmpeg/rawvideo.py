"""Frame-accurate decoding into numpy: every frame of a video through an ffmpeg rawvideo pipe.

Not ``cv2.VideoCapture``, which drops frames at the ends: ffmpeg decodes, scales or filters, and
writes raw frames to stdout with their own timing (``passthrough``), one frame read at a time, so
memory holds one frame whatever the length. Used by every analysis and AI stage.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator

import numpy as np

from ffvfx.compiler import escape
from ffvfx.compiler.numbers import seconds
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import children
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.ffmpeg.watchdog import Stalled, Watchdog


def decode_argv(src: str, tools: Toolchain, pix_fmt: str, vf: str | None = None, *,
                start: float | None = None, duration: float | None = None,
                limit: int | None = None) -> list[str]:
    """ffmpeg argv writing the frames of ``src`` (upright, as decoded; at most ``limit``) as raw
    ``pix_fmt`` on stdout."""
    argv = [tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error"]
    if start:
        argv += ["-ss", seconds(start)]
    if duration:
        argv += ["-t", seconds(duration)]
    argv += [*escape.input_args(src), "-map", "0:v:0", "-an", "-sn"]
    if vf:
        argv += ["-vf", vf]
    if limit:
        argv += ["-frames:v", str(limit)]
    return argv + [*tools.passthrough_timing(), "-f", "rawvideo", "-pix_fmt", pix_fmt, "pipe:1"]


def frames(src: str, tools: Toolchain, size: tuple[int, int], pix_fmt: str = "rgb24",
           vf: str | None = None, *, start: float | None = None, duration: float | None = None,
           limit: int | None = None) -> Iterator[np.ndarray]:
    """Frames of ``src`` at ``size`` (w, h) as uint8 arrays (H x W x 3 for rgb24, H x W for gray).

    A wait for the next frame longer than :func:`ffvfx.ffmpeg.watchdog.stall_seconds` stops ffmpeg
    (:class:`~ffvfx.ffmpeg.watchdog.Stalled`); the time the caller spends on each frame does not count.
    """
    w, h = size
    channels = {"rgb24": 3, "gray": 1}[pix_fmt]
    frame_bytes = w * h * channels
    shape = (h, w, 3) if channels == 3 else (h, w)
    argv = decode_argv(src, tools, pix_fmt, vf, start=start, duration=duration, limit=limit)
    with tempfile.TemporaryFile() as err:
        try:
            proc = children.popen(argv, stdout=subprocess.PIPE, stderr=err,
                                  stdin=subprocess.DEVNULL, bufsize=frame_bytes * 2)
        except OSError as exc:
            raise FfvfxError(f"cannot run {argv[0]}: {exc.strerror}") from None
        assert proc.stdout is not None
        dog = Watchdog(proc)
        try:
            with dog:
                while True:
                    dog.kick()
                    buf = proc.stdout.read(frame_bytes)
                    dog.pause()  # the caller's work on the frame is no stall
                    if len(buf) < frame_bytes:
                        break
                    yield np.frombuffer(buf, np.uint8).reshape(shape)
        finally:
            proc.stdout.close()
            if proc.poll() is None:
                proc.kill()
            code = proc.wait()
        if dog.fired:
            err.seek(0)
            tail = [ln for ln in err.read().decode(errors="replace").splitlines() if ln.strip()]
            raise Stalled(dog.message(f"ffmpeg decoding {src}", tail[-1].strip() if tail else ""))
        if code not in (0, -9):
            err.seek(0)
            tail = [ln for ln in err.read().decode(errors="replace").splitlines() if ln.strip()]
            raise FfvfxError(f"{src}: decoding failed ({tail[-1] if tail else code})")


def check_decodes(src: str, tools: Toolchain, what: str) -> None:
    """Refuse, with one line, a file of which no frame decodes (packets that are not pictures).

    Such a file read once gives an empty render; looped (``-stream_loop -1``, a background video)
    ffmpeg would re-read it forever waiting for a frame. ``what`` names it (``--bg``).
    """
    try:
        with contextlib.closing(frames(src, tools, (16, 16), "gray", "scale=16:16", limit=1)) as it:
            first = next(it, None)
    except FfvfxError:
        first = None
    if first is None:
        raise FfvfxError(f"{what} {src}: no frame of it decodes")
