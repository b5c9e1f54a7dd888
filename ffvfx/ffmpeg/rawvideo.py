"""Frame pipes both ways: numpy frames out of a video, and into one, through ffmpeg rawvideo pipes.

Decoding (:func:`frames`) is frame-accurate -- not ``cv2.VideoCapture``, which drops frames at the
ends: ffmpeg decodes, scales or filters, and writes raw frames to stdout with their own timing
(``passthrough``), one frame read at a time, so memory holds one frame whatever the length.
Encoding (:class:`FrameEncoder`, :func:`encoder_argv`) is the reverse: raw frames written to an
ffmpeg's stdin become one file. Used by every analysis and AI stage.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from fractions import Fraction

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


def encoder_argv(ffmpeg: str, size: tuple[int, int], fps: Fraction | int, pix_fmt: str, out: str,
                 codec_args: list[str], vf: str | None = None) -> list[str]:
    """ffmpeg argv encoding raw ``pix_fmt`` frames of ``size`` (w, h) px from stdin at ``fps``
    frames/s into ``out`` (replaced), through ``vf`` when given."""
    fps = Fraction(fps)
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{size[0]}x{size[1]}",
            "-framerate", f"{fps.numerator}/{fps.denominator}", "-i", "pipe:0"]
    if vf:
        argv += ["-vf", vf]
    return argv + codec_args + [escape.media_path(str(out))]


Failure = Callable[[int, str], BaseException]
"""What a failed encoder raises, from its exit code and its stderr text."""


class FrameEncoder:
    """An ffmpeg process reading raw frames on stdin and writing one file; errors kept.

    A write or the final wait blocked for :func:`ffvfx.ffmpeg.watchdog.stall_seconds` stops it
    (:class:`~ffvfx.ffmpeg.watchdog.Stalled`); time between writes (the model's) does not count.
    ``failure``: what a failed encoder raises instead of one line naming ``what`` it wrote.
    """

    def __init__(self, argv: list[str], failure: Failure | None = None):
        self.failure = failure
        self.err = tempfile.TemporaryFile()
        try:
            self.proc = children.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       stderr=self.err)
        except OSError as exc:
            self.err.close()
            if failure is not None:  # the caller words its own failures, this one included
                raise
            raise FfvfxError(f"cannot run {argv[0]}: {exc.strerror}") from None
        self.dog = Watchdog(self.proc, armed=False).start()

    def write(self, data: bytes) -> None:
        """One frame's bytes; an encoder that died raises as :meth:`finish` does."""
        assert self.proc.stdin is not None
        self.dog.kick()
        try:
            self.proc.stdin.write(data)
        except BrokenPipeError:
            self.finish("encoding")
        self.dog.pause()

    def finish(self, what: str) -> None:
        """Close stdin, wait, and raise one line when ffmpeg failed writing ``what`` (or stalled)."""
        self.dog.kick()
        if self.proc.stdin and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        code = self.proc.wait()
        self.dog.stop()
        self.err.seek(0)
        text = self.err.read().decode(errors="replace")
        self.err.close()
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if self.dog.fired:
            raise Stalled(self.dog.message(f"ffmpeg writing the {what}", lines[-1] if lines else ""))
        if code != 0:
            if self.failure is not None:
                raise self.failure(code, text)
            raise FfvfxError(f"ffmpeg could not write the {what} ({lines[-1] if lines else code})")

    def kill(self) -> None:
        """Stop ffmpeg now (the caller failed); its output is left to the caller's atomic path."""
        self.dog.stop()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if not self.err.closed:
            self.err.close()
