"""``python -m bench.latency``: how long ``ffvfx tune`` takes from a change to the picture.

A 1280x720 brightness ramp (frame i is gray 20 + 2 i, 3 s at 30 fps, lossless) plays through
``motion --mode black`` in tune's test player (ffmpeg paced at the clip's rate, writing raw gray
frames to a pipe: the same zmq graph ffplay runs). Measured, ``--repeat`` times each:

- live: a ``--strength`` change (zmq commands to the running graph), from the call to the first
  frame whose gray differs from the frames before it;
- restart: a ``--delay`` change (the graph's shape: the player restarts at the same frame), from
  the call to the new player's first frame.

ffplay's own display adds its picture queue (a frame or two) to both; not measured here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.sources import Source
from ffvfx.pipelines.tune import EFFECTS, Session

W, H, FPS = 1280, 720, 30


def ramp(ffmpeg: str, path: Path) -> Path:
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c=black:s={W}x{H}:r={FPS}:d=3,format=gray,geq=lum='20+2*N'",
                    "-c:v", "ffv1", "-pix_fmt", "gray", str(path)], check=True)
    return path


class Frames:
    """Mean gray and arrival time of every frame the player writes (a new list per player)."""

    def __init__(self, fifo: Path):
        self.fifo = fifo
        self.players: list[list[tuple[float, float]]] = []
        self.stop = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while not self.stop:
            frames: list[tuple[float, float]] = []
            self.players.append(frames)
            with open(self.fifo, "rb") as f:
                while len(b := f.read(W * H)) == W * H:
                    frames.append((time.monotonic(), float(np.frombuffer(b, np.uint8)[::97].mean())))

    def first(self, after: float, player: int, test, timeout: float = 10) -> float:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if player < len(self.players):
                for t, m in list(self.players[player]):
                    if t > after and test(m):
                        return t
            time.sleep(0.002)
        last = [round(m, 1) for p in self.players[-2:] for _, m in p[-5:]]
        raise RuntimeError(f"no such frame came (last: {last})")


def measure(repeat: int) -> list[tuple[str, list[float]]]:
    tools = toolchain.find()
    tmp = Path(tempfile.mkdtemp(prefix="ffvfx-latency-"))
    clip = ramp(tools.ffmpeg, tmp / "ramp.mkv")
    fifo = tmp / "frames.fifo"
    os.mkfifo(fifo)
    t = EFFECTS["motion"]
    values = {p.name: (tuple(p.default) if isinstance(p.default, tuple) else p.default) for p in t.params}
    values.update(mode="black", strength=2.0)
    session = Session(t, values, {"strength": float, "delay": int}, Source(str(clip)), spec=str(clip),
                      sink=str(fifo), tools=tools)
    frames = Frames(fifo)
    session.start()
    live, restart = [], []
    try:
        frames.first(0, 0, lambda m: m > 20)
        time.sleep(0.5)
        for k in range(repeat):
            strength = 3.0 if k % 2 == 0 else 2.0
            base = statistics.median(m for _, m in frames.players[-1][-5:])
            t0 = time.monotonic()
            session.change({"strength": str(strength)})
            live.append(frames.first(t0, len(frames.players) - 1, lambda m, b=base: abs(m - b) > 2) - t0)
            time.sleep(0.3)
        for k in range(repeat):
            player = len(frames.players)
            t0 = time.monotonic()
            session.change({"delay": str(6 if k % 2 == 0 else 8)})
            restart.append(frames.first(t0, player, lambda m: True) - t0)
            time.sleep(0.5)
    finally:
        frames.stop = True
        session.stop()
    return [("live: --strength over zmq", live), ("restart: --delay, same frame", restart)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    rows = measure(args.repeat)
    print(f"ffvfx tune latency, {W}x{H} {FPS} fps, motion --mode black ({args.repeat} runs each)\n")
    print("| change | median ms | min ms | max ms |")
    print("|---|---|---|---|")
    for name, times in rows:
        ms = [1000 * x for x in times]
        print(f"| {name} | {statistics.median(ms):.0f} | {min(ms):.0f} | {max(ms):.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
