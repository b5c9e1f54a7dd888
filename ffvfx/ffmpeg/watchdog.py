"""No ffmpeg or ffprobe runs without bound: one that makes no progress for a while is stopped.

Progress is what a process shows: a new frame count, output size or output time in ffmpeg's
``-progress`` report, or bytes arriving on a pipe that ffvfx is waiting on. A process that shows
none for :func:`stall_seconds` (default :data:`STALL_SECONDS`, or ``$FFVFX_STALL_SECONDS``) is
killed and the caller raises :class:`Stalled`, one line. Why: some inputs make ffmpeg spin
forever without output (a looped background whose packets never decode: ``-stream_loop -1``
re-reads it endlessly), and an analysis reading a pipe would wait on it forever.

Only time spent waiting on the process counts: a pipe reader pauses the clock while its consumer
works on a frame (a slow model), so a long analysis is never mistaken for a stall.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import children

STALL_SECONDS = 60.0
"""Seconds an ffmpeg process may go without progress before it is stopped."""
ENV = "FFVFX_STALL_SECONDS"
"""Environment variable overriding :data:`STALL_SECONDS` (seconds, above 0)."""

_PROGRESS_KEYS = ("frame", "total_size", "out_time_us")
"""``-progress`` keys whose change is progress (repeated identical reports are not)."""


class Stalled(FfvfxError):
    """A process made no progress for the stall bound and was stopped."""


def stall_seconds() -> float:
    """The stall bound in seconds: ``$FFVFX_STALL_SECONDS`` when set, else :data:`STALL_SECONDS`."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return STALL_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise FfvfxError(f"{ENV}={text!r}: give the seconds ffmpeg may go without progress (above 0)")
    return value


class Watchdog:
    """Kills ``proc`` when, while armed, :meth:`kick` was not called for ``seconds``.

    Armed from the start unless ``armed=False``; :meth:`pause` stops the clock while the caller is
    busy with something else than waiting on the process, :meth:`kick` restarts (and arms) it.
    Use as a context manager (or :meth:`start` / :meth:`stop`); afterwards :attr:`fired` says
    whether it killed the process.
    """

    def __init__(self, proc: subprocess.Popen, seconds: float | None = None, armed: bool = True):
        self.proc = proc
        self.seconds = stall_seconds() if seconds is None else seconds
        self.fired = False
        self._since: float | None = time.monotonic() if armed else None
        self._seen: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="ffvfx-watchdog")

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self) -> Watchdog:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def kick(self) -> None:
        """Progress (or the start of a wait): the stall clock starts again."""
        self._since = time.monotonic()

    def pause(self) -> None:
        """Not waiting on the process: no stall is counted until the next :meth:`kick`."""
        self._since = None

    def progress(self, lines: Iterable[str]) -> Iterator[str]:
        """ffmpeg's ``-progress`` lines, passed through; a new frame count, size or time kicks."""
        for line in lines:
            key, _, value = line.strip().partition("=")
            if key in _PROGRESS_KEYS and self._seen.get(key) != value:
                self._seen[key] = value
                self.kick()
            yield line

    def message(self, what: str, detail: str = "") -> str:
        """The one line for a stop: ``what`` (``ffmpeg decoding in.mp4``) stalled, with the
        process's last words when there are any."""
        tail = f" ({detail})" if detail else ""
        return (f"{what} made no progress for {self.seconds:g} s and was stopped{tail}; "
                f"{ENV} sets how long to wait")

    def _watch(self) -> None:
        while not self._stop.wait(min(0.25, self.seconds / 4)):
            since = self._since
            if since is not None and time.monotonic() - since > self.seconds:
                self.fired = True
                with contextlib.suppress(OSError):
                    self.proc.kill()
                return


def run(argv: Sequence[str], what: str, *, progress: bool = True, seconds: float | None = None,
        text: bool = True, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess:
    """``subprocess.run(argv, capture_output=True)``, never without bound; raises :class:`Stalled`.

    ``progress``: ``argv`` is an ffmpeg command, given ``-progress`` on a pipe of its own and
    stopped after ``seconds`` (default :func:`stall_seconds`) without a new frame, size or time;
    otherwise (ffprobe) the whole run may take ``seconds``. ``what`` names the job in the error
    (``ffmpeg joining the segments``).
    """
    limit = stall_seconds() if seconds is None else seconds
    encoding = dict(text=True, errors="replace") if text else {}
    if not progress:
        try:
            return children.run(argv, capture_output=True, stdin=stdin, timeout=limit, **encoding)
        except subprocess.TimeoutExpired:
            raise Stalled(f"{what} gave no answer in {limit:g} s and was stopped; {ENV} sets how "
                          "long to wait") from None
        except OSError as exc:
            raise FfvfxError(f"cannot run {argv[0]}: {exc.strerror}") from None
    read_fd, write_fd = os.pipe()
    try:
        proc = children.popen([argv[0], "-progress", f"pipe:{write_fd}", "-nostats", *argv[1:]],
                              stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              pass_fds=(write_fd,), **encoding)
    except OSError as exc:
        os.close(read_fd)
        raise FfvfxError(f"cannot run {argv[0]}: {exc.strerror}") from None
    finally:
        os.close(write_fd)
    dog = Watchdog(proc, limit)
    errors = Lines()
    with open(read_fd, errors="replace") as report, dog:
        readers = [threading.Thread(target=_drain, args=(dog.progress(report),), daemon=True),
                   threading.Thread(target=errors.read, args=(proc.stderr,), daemon=True)]
        for reader in readers:
            reader.start()
        try:
            out = proc.stdout.read()
            proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        for reader in readers:
            reader.join(timeout=5)
    err = errors.text() if text else errors.text().encode()
    if dog.fired:
        raise Stalled(dog.message(what, errors.last()))
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


class Lines:
    """A process's stderr, bounded: its first :attr:`HEAD` and last :attr:`TAIL` lines (a decoder
    that fails on every packet can print a million lines a minute)."""

    HEAD = 20
    TAIL = 100

    def __init__(self) -> None:
        self.head: list[str] = []
        self.tail: deque[str] = deque(maxlen=self.TAIL)
        self.dropped = 0

    def read(self, stream: Iterable[str | bytes]) -> None:
        """Keep ``stream``'s lines (text, or bytes decoded) until it ends."""
        for line in stream:
            text = line if isinstance(line, str) else line.decode(errors="replace")
            if len(self.head) < self.HEAD:
                self.head.append(text)
            else:
                if len(self.tail) == self.TAIL:
                    self.dropped += 1
                self.tail.append(text)

    def lines(self) -> list[str]:
        return [*self.head, *self.tail]

    def text(self) -> str:
        return "".join(self.lines())

    def last(self) -> str:
        """The last non-blank line, stripped ("" when there is none)."""
        return next((ln.strip() for ln in reversed(self.lines()) if ln.strip()), "")


def _drain(lines: Iterable[str]) -> None:
    for _ in lines:
        pass
