"""A graph that changes while it plays: ffplay (or, for tests and benchmarks, an ffmpeg writing
raw frames) running a graph with a ``zmq`` filter, option changes sent to it as commands, and a
restart at the same place of the file when the graph's shape changes.

What may change at run time is asked of the installed ffmpeg (``ffmpeg -h filter=NAME``: the
options flagged ``T``), never assumed; filters whose change would resize frames mid-stream are
always restarted. Commands reach the graph only by their filter's instance name
(:meth:`ffvfx.compiler.graph.Graph.line` with ``instances=True``) and one option at a time, as
``zmq`` reads them (target, option, value; the value quoted for ffmpeg's tokenizer), so a value
cannot name another filter or add one.

ffplay rebuilds its graph from the ``-vf`` text whenever it seeks, so also at each loop of a file:
the values sent since it started are gone then. :class:`Player` notices (its clock, read off the
status line, goes back) and says so (:attr:`Player.rebuilds`), and the caller sends them again.
"""

from __future__ import annotations

import functools
import math
import re
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ffvfx.compiler import escape
from ffvfx.compiler.graph import Graph, Instance
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import children
from ffvfx.ffmpeg.sources import Source
from ffvfx.ffmpeg.toolchain import Toolchain

RESIZING = frozenset({"scale", "scale2ref", "crop", "pad", "zoompan", "fps", "settb", "setpts",
                      "tpad", "trim", "zmq", "movie", "format", "split"})
"""Filters never changed at run time, whatever ffmpeg says: a change resizes or re-times frames
mid-stream (or is the plumbing itself); a change to them restarts the player."""
_OPTION_LINE = re.compile(r"^\s+-?([A-Za-z0-9_]+)\s+<[^>]+>\s+([.A-Z]+)\s")
_FFPLAY_CLOCK = re.compile(r"^\s*(-?\d+\.\d+)\s+(?:M-V|M-A|A-V|V|A)?\s*:")
_FFMPEG_CLOCK = re.compile(r"time=\s*(-?)(\d+):(\d+):(\d+(?:\.\d+)?)")


class LiveError(FfvfxError):
    """A command the running graph did not take (the caller restarts instead)."""


@dataclass(frozen=True)
class Command:
    """One option of one filter instance, as the ``zmq`` filter takes it."""

    target: str   # blend@f7
    option: str
    value: str    # the option's text as ffmpeg receives it (unescaped)

    def message(self) -> str:
        return f"{self.target} {self.option} {token(self.value)}"


def token(value: str) -> str:
    """``value`` as one token for ffmpeg's tokenizer (``av_get_token``): quoted when it holds a
    blank, a quote or a backslash (``'1 0.7 0.49'``)."""
    if value and not any(c in value for c in " \f\t\n\r'\\"):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


@functools.cache
def runtime_options(ffmpeg: str, name: str) -> frozenset[str]:
    """The options of filter ``name`` this ffmpeg takes as commands while running (flag ``T``)."""
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        return frozenset()
    res = children.run([ffmpeg, "-hide_banner", "-h", f"filter={name}"], capture_output=True,
                       text=True, errors="replace", stdin=subprocess.DEVNULL, timeout=30)
    found = set()
    for line in res.stdout.splitlines():
        m = _OPTION_LINE.match(line)
        if m and "T" in m.group(2):
            found.add(m.group(1))
    return frozenset(found)


def commands(old: Graph, new: Graph, ffmpeg: str) -> list[Command] | None:
    """The commands that turn the running ``old`` graph into ``new`` (empty: the same graph), or
    None when only a restart can: another shape, or a changed option no command reaches."""
    if old.shape() != new.shape():
        return None
    return changes(old.instances(), new.instances(), ffmpeg)


def changes(old: Sequence[Instance], new: Sequence[Instance], ffmpeg: str) -> list[Command] | None:
    """The commands from instances ``old`` to ``new`` of one shape (None: one is not runtime)."""
    out = []
    for before, after in zip(old, new, strict=True):
        for option, value in after.options.items():
            if before.options.get(option) == value:
                continue
            if after.filter in RESIZING or option not in runtime_options(ffmpeg, after.filter):
                return None
            out.append(Command(after.target, option, value))
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def zmq_address(port: int) -> str:
    """The ``zmq`` filter's address: loopback only."""
    return f"tcp://127.0.0.1:{int(port)}"


class ZmqClient:
    """Sends commands to a graph's ``zmq`` filter on 127.0.0.1 and reads its replies."""

    def __init__(self, port: int, timeout: float = 1.5):
        import zmq  # pyzmq: needed by `ffvfx tune` only
        self._zmq = zmq
        self.context = zmq.Context.instance()
        self.address = zmq_address(port)
        self.timeout = timeout

    def send(self, cmds: Sequence[Command]) -> None:
        """Every command, one reply each; LiveError when one is refused or no reply comes."""
        zmq = self._zmq
        for cmd in cmds:
            sock = self.context.socket(zmq.REQ)  # fresh each time: a graph rebuilt drops its peer
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.RCVTIMEO, int(self.timeout * 1000))
            sock.setsockopt(zmq.SNDTIMEO, int(self.timeout * 1000))
            try:
                sock.connect(self.address)
                sock.send_string(cmd.message())
                reply = sock.recv_string()
            except zmq.ZMQError as exc:
                raise LiveError(f"{cmd.target}: no reply from the running graph ({exc})") from None
            finally:
                sock.close()
            if not reply.startswith("0 "):
                raise LiveError(f"{cmd.target} {cmd.option}: {reply}")


@dataclass(frozen=True)
class Launch:
    """What a player runs: ``source`` through the graph text, from ``start`` seconds (files)."""

    source: Source
    graph: str
    start: float = 0.0
    sink: str | None = None   # a path for raw gray frames (ffmpeg, paced) instead of a window
    loop: bool = True         # the sink loops its input in one process; False: one pass of the file
    title: str = "ffvfx tune"


def argv(launch: Launch, tools: Toolchain) -> list[str]:
    """ffplay's argv (files loop, no audio), or with a ``sink`` ffmpeg's writing gray frames.

    ffplay builds its graph again at each loop of a file; ffmpeg's ``-stream_loop`` loops the input
    under the same graph, which is right only for a graph that reads no side file and numbers no
    frames: any other plays one pass (``loop`` False) and its caller starts the next."""
    src = launch.source
    seek = ["-ss", f"{launch.start:.6f}"] if launch.start > 0 and not src.device else []
    if launch.sink is None:
        if not tools.ffplay:
            raise FfvfxError(f"no ffplay beside {tools.ffmpeg}: install ffmpeg's ffplay "
                             "(apt-get install ffmpeg) to tune")
        loop = [] if src.device else ["-loop", "0"]
        return [tools.ffplay, "-hide_banner", "-loglevel", "error", "-stats", "-an",
                "-window_title", launch.title, *loop, *seek, "-vf", launch.graph, *src.input_args()]
    loop = ["-stream_loop", "-1"] if launch.loop and not src.device else []
    return [tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-stats",
            "-stats_period", "0.05", "-re", *loop, *seek, "-an", *src.input_args(),
            "-vf", launch.graph, "-f", "rawvideo", "-pix_fmt", "gray", "-y",
            escape.media_path(launch.sink)]


class Player:
    """One running player; its clock read off its status line, the position in the file kept.

    Start and stop it from one thread that lives as long as it does (children die with the thread
    that started them). ``duration``: the file's length (None: a camera).
    """

    def __init__(self, launch: Launch, tools: Toolchain, duration: float | None):
        self.launch = launch
        self.duration = duration
        self.rebuilds = 0          # times the player rebuilt its graph (a loop, a seek)
        self.errors: list[str] = []
        self._clock = math.nan
        self._base = launch.start  # where the clock's zero is in the file
        self._lock = threading.Lock()
        self.proc = children.popen(argv(launch, tools), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.started = time.monotonic()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def ended_cleanly(self) -> bool:
        """It exited by itself with status 0 and said no error (a one-pass player at its end)."""
        return self.proc.poll() == 0 and not self.errors

    def playing(self) -> bool:
        """Frames are being shown (the clock has started)."""
        with self._lock:
            return math.isfinite(self._clock)

    def position(self) -> float:
        """Seconds into the file now (0 for a camera or before the first frame)."""
        with self._lock:
            if self.duration is None or not math.isfinite(self._clock):
                return self.launch.start if self.duration else 0.0
            return (self._base + max(0.0, self._clock)) % self.duration if self.duration > 0 else 0.0

    def _read(self) -> None:
        buf = b""
        while chunk := self.proc.stderr.read1(4096):
            buf += chunk
            *lines, buf = re.split(rb"[\r\n]", buf)
            for raw in lines:
                self._line(raw.decode(errors="replace"))

    def _line(self, line: str) -> None:
        m = _FFPLAY_CLOCK.match(line) or _FFMPEG_CLOCK.search(line)
        if m is None:
            if line.strip() and "nan" not in line:
                self.errors.append(line.strip())
            return
        clock = _seconds(m)
        if not math.isfinite(clock):
            return
        with self._lock:
            if math.isfinite(self._clock) and clock < self._clock - 0.3:
                self.rebuilds += 1   # looped or sought: ffplay built its graph again
                self._base = 0.0
            self._clock = clock

    def stop(self) -> None:
        """End the player and wait for it (SIGTERM, then SIGKILL after 2 s)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=2)


def _seconds(m: re.Match) -> float:
    if m.re is _FFPLAY_CLOCK:
        return float(m.group(1))
    sign = -1 if m.group(1) else 1
    return sign * (int(m.group(2)) * 3600 + int(m.group(3)) * 60 + float(m.group(4)))
