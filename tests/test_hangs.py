"""No command runs without bound (issue 16, item 5): a range past the end, a stopped segment under
``--jobs``, and an ffmpeg that never answers each end within a bounded time with one line."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest


@pytest.fixture(scope="module")
def short(tmp_path_factory, media):
    """A 3 s clip (75 frames at 25 fps) with its all-white alpha, and a video background."""
    d = tmp_path_factory.mktemp("hangs")
    frames = np.full((75, 32, 48, 3), 90, np.uint8)
    frames[:, :, ::7] = 200
    media.write(d / "clip.mp4", frames, fps=25, vcodec="libx264", pix_fmt="yuv420p", audio=True)
    media.write(d / "alpha.mkv", np.full((75, 32, 48, 3), 255, np.uint8), fps=25, pix_fmt="gray")
    media.write(d / "bg.mp4", np.full((20, 32, 48, 3), 30, np.uint8), fps=25, vcodec="libx264",
                pix_fmt="yuv420p")
    media.write(d / "bg.png", np.full((1, 32, 48, 3), 30, np.uint8), vcodec="png", pix_fmt="rgb24",
                out_args=["-frames:v", "1"])
    return d


def _one_line(res) -> str:
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert res.returncode != 0 and len(lines) == 1 and lines[0].startswith("ffvfx: error:"), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


@pytest.mark.parametrize("start", ["10", "2.99"])
@pytest.mark.parametrize("bg", ["bg.mp4", "bg.png", "red"])
def test_a_range_past_the_end_ends_at_once(ffvfx_cmd, short, tmp_path, start, bg):
    """``composite --start 10`` on a 3 s clip ran forever at 130 % CPU (the looped background
    never ends and the input has no frame to end it)."""
    bg_arg = str(short / bg) if bg != "red" else bg
    began = time.monotonic()
    res = ffvfx_cmd("composite", short / "clip.mp4", short / "alpha.mkv", tmp_path / "o.mp4", "--bg", bg_arg,
                    "--start", start, timeout=60)
    assert time.monotonic() - began < 30
    assert "no video frames to render in the requested time range" in _one_line(res)
    assert not list(tmp_path.iterdir())


def _wrapper(tmp_path, ffmpeg: str, body: str) -> str:
    script = tmp_path / "ffmpeg-wrapper.sh"
    script.write_text(f"#!/bin/sh\n{body}\nexec '{ffmpeg}' \"$@\"\n")
    script.chmod(0o755)
    return str(script)


def test_a_stopped_segment_does_not_stall_jobs(ffvfx_cmd, short, tmp_path, ffmpeg):
    """A segment's ffmpeg that stops (SIGSTOP: a suspended or wedged process) is killed after the
    stall bound, retried once, then named; the render ends with one line and leaves nothing."""
    wrapper = _wrapper(tmp_path, ffmpeg, 'case "$*" in *segment0001*) kill -STOP $$;; esac')
    out = tmp_path / "out" / "o.mp4"
    out.parent.mkdir()
    began = time.monotonic()
    res = ffvfx_cmd("motion", short / "clip.mp4", out, "-j", "3", "-q",
                    env={"FFVFX_FFMPEG": wrapper, "FFVFX_STALL_SECONDS": "2"}, timeout=120)
    assert time.monotonic() - began < 60
    line = _one_line(res)
    assert "segment 2" in line and "failed twice" in line, line
    assert not list(out.parent.iterdir())


def test_an_ffmpeg_that_never_answers_is_bounded(ffvfx_cmd, short, tmp_path, ffmpeg):
    """``FFVFX_FFMPEG`` pointing at a program that hangs: ffvfx stops it after the stall bound."""
    hang = tmp_path / "hang.sh"
    hang.write_text("#!/bin/sh\nsleep 1000\n")
    hang.chmod(0o755)
    began = time.monotonic()
    res = ffvfx_cmd("motion", short / "clip.mp4", tmp_path / "o.mp4", timeout=120,
                    env={"FFVFX_FFMPEG": str(hang), "FFVFX_STALL_SECONDS": "2",
                         "FFVFX_CACHE": str(tmp_path / "cache")})
    assert time.monotonic() - began < 60
    _one_line(res)
    assert not (tmp_path / "o.mp4").exists()
    assert not any(p.name.endswith(".part.mp4") for p in tmp_path.iterdir())
    leftover = [pid for pid in os.listdir("/proc") if pid.isdigit()
                and _cmdline(pid).startswith(f"/bin/sh {hang}")]
    assert not leftover, "the hanging program was left running"


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
