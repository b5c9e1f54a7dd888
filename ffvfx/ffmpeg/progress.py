"""A progress bar fed by ffmpeg's ``-progress pipe:1`` key=value stream."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import IO


class ProgressBar:
    """Draws ``label [#####.....] 120/300 frames 45.2 fps`` on a terminal; silent otherwise."""

    def __init__(self, label: str, total: int | None, stream: IO[str] | None = None,
                 enabled: bool = True):
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.frames = 0
        self._start = time.monotonic()
        self._drawn = 0.0

    def feed(self, lines: Iterable[str]) -> None:
        """Consume ffmpeg's progress lines until ``progress=end`` or EOF."""
        for line in lines:
            key, _, value = line.strip().partition("=")
            if key == "frame" and value.isdigit():
                self.frames = int(value)
            elif key == "progress":
                self.draw(final=value == "end")

    def draw(self, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self._drawn < 0.2):
            return
        self._drawn = now
        fps = self.frames / max(now - self._start, 1e-6)
        if self.total:
            done = min(self.frames / self.total, 1.0)
            bar = "#" * int(done * 30)
            text = f"{self.label} [{bar:<30}] {self.frames}/{self.total} frames {fps:.1f} fps"
        else:
            text = f"{self.label} {self.frames} frames {fps:.1f} fps"
        self.stream.write("\r" + text + ("\n" if final else ""))
        self.stream.flush()
