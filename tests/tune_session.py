"""``ffvfx tune ...`` in a subprocess for the tests (``test_tune.py``, ``test_tune_stored.py``): its
page's address and requests, and with ``sink`` the frames its test player writes (``--sink FIFO``:
ffmpeg, paced like ffplay, raw gray frames of ``size``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from conftest import ffvfx_argv


class Tuner:
    """``frames``: (arrival time, player number, gray frame H x W) as the sink received them."""

    def __init__(self, args: list, tmp: Path, size: tuple[int, int], env: dict | None = None,
                 sink: bool = True, cwd: Path | None = None):
        self.size = size
        self.fifo = tmp / "frames.fifo" if sink else None
        if self.fifo:
            os.mkfifo(self.fifo)
        extra = ["--sink", str(self.fifo)] if sink else []
        self.proc = subprocess.Popen([*ffvfx_argv(), "tune", *map(str, args), "--no-browser", *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})}, cwd=cwd)
        self.url = self._address()
        self.base, self.token = self.url.split("/?t=")
        self.frames: list[tuple[float, int, np.ndarray]] = []
        if self.fifo:
            threading.Thread(target=self._read, daemon=True).start()

    def _address(self) -> str:
        for line in self.proc.stderr:
            m = re.search(r"(http://127\.0\.0\.1:\d+/\?t=\S+)", line)
            if m:
                return m.group(1)
        raise AssertionError("no page address: " + self.proc.stderr.read())

    def _read(self) -> None:
        w, h = self.size
        player = 0
        while self.proc.poll() is None:
            with open(self.fifo, "rb") as f:
                while len(b := f.read(w * h)) == w * h:
                    self.frames.append((time.monotonic(), player, np.frombuffer(b, np.uint8).reshape(h, w)))
            player += 1

    def means(self, player: int) -> list[float]:
        """Mean gray of every frame player ``player`` showed so far."""
        return [f.mean() for _, n, f in list(self.frames) if n == player]

    def request(self, path: str, body: object = None, token: str | None = None,
                headers: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}{path}?t={self.token if token is None else token}",
                                     data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    def state(self) -> dict:
        return self.request("/state")[1]

    def set(self, **values: object) -> dict:
        code, reply = self.request("/set", values)
        assert code == 200, reply
        return reply

    def wait_value(self, value: float, after: float, timeout: float = 5.0, tol: float = 0.6) -> float:
        """Arrival time of the first frame after ``after`` whose mean gray is ``value``."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for t, _, frame in list(self.frames):
                if t > after and abs(frame.mean() - value) <= tol:
                    return t
            time.sleep(0.01)
        recent = [round(f.mean(), 1) for _, _, f in self.frames[-10:]]
        raise AssertionError(f"no frame of {value} after the change; last frames {recent}")

    def played(self, player: int, count: int, timeout: float = 30) -> list[np.ndarray]:
        """The first ``count`` frames of player ``player`` (fewer if it ends first)."""
        end = time.monotonic() + timeout
        got: list[np.ndarray] = []
        while time.monotonic() < end:
            got = [f for _, n, f in list(self.frames) if n == player]
            if len(got) >= count or (self.proc.poll() is not None and got):
                return got[:count]
            time.sleep(0.05)
        raise AssertionError(f"player {player} showed {len(got)} frames")

    def quit(self) -> tuple[str, str]:
        """The page's Quit; what tune printed."""
        if self.proc.poll() is None:
            self.request("/quit", {})
        return self.proc.communicate(timeout=20)

    def terminate(self) -> tuple[str, str]:
        """SIGTERM, as a desktop's close does; what tune printed."""
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.communicate(timeout=20)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)
