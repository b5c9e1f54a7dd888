"""Finding ffmpeg, what it can do, and the progress bar fed by its ``-progress`` output."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.progress import ProgressBar


@pytest.fixture(scope="module")
def clip(media, scenes, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tc")
    return media.write(d / "clip.mp4", scenes.blobs(45, 96, 64), vcodec="libx264", pix_fmt="yuv420p")


def _one_line_error(res: subprocess.CompletedProcess) -> str:
    lines = res.stderr.splitlines()
    assert res.returncode != 0 and len(lines) == 1, res.stderr
    assert lines[0].startswith("ffvfx: error: ") and "Traceback" not in res.stderr
    return lines[0]


def test_missing_filter_is_one_line_naming_it(ffvfx_cmd, ffmpeg, clip, tmp_path):
    """An ffmpeg without ``tpad`` (faked by hiding it from ``-filters``): one line naming the
    filter and the ffmpeg version, and nothing written."""
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text(f"""#!/bin/sh
case " $* " in
  *" -filters "*) "{ffmpeg}" "$@" | grep -v ' tpad '; exit 0 ;;
esac
exec "{ffmpeg}" "$@"
""")
    fake.chmod(0o755)
    out = tmp_path / "out.mp4"
    env = {"FFVFX_FFMPEG": str(fake), "FFVFX_CACHE": str(tmp_path / "cache")}
    line = _one_line_error(ffvfx_cmd("motion", clip, out, env=env))
    version = toolchain.find().version
    assert "tpad" in line and version in line, line
    assert not out.exists() and not list(tmp_path.glob(".*part*"))


def test_bogus_ffvfx_ffmpeg_is_one_line(ffvfx_cmd, clip, tmp_path):
    line = _one_line_error(ffvfx_cmd("motion", clip, tmp_path / "o.mp4",
                                     env={"FFVFX_FFMPEG": str(tmp_path / "nope")}))
    assert "FFVFX_FFMPEG" in line


def test_no_ffmpeg_on_path_falls_back_to_imageio(ffvfx_cmd, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    empty = tmp_path / "empty"
    empty.mkdir()
    res = ffvfx_cmd("doctor", env={"FFVFX_FFMPEG": None, "PATH": str(empty),
                                    "FFVFX_CACHE": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr
    first = res.stdout.splitlines()[0]
    assert "imageio-ffmpeg" in first and "ffplay    missing" in res.stdout


def test_capabilities_are_cached_per_binary(ffmpeg, tmp_path, monkeypatch):
    monkeypatch.setenv("FFVFX_CACHE", str(tmp_path))
    tools = toolchain.Toolchain(ffmpeg, None, None, "test")
    assert {"tpad", "blend", "lutyuv"} <= tools.filters and "libx264" in tools.encoders
    (cached,) = tmp_path.glob("toolchain-*.json")
    data = json.loads(cached.read_text())
    assert data["version"] == tools.version and "tpad" in data["filters"]
    # A second Toolchain for the same binary reads the file instead of asking ffmpeg.
    monkeypatch.setattr(toolchain, "_ask_capabilities", lambda exe: pytest.fail("asked again"))
    assert toolchain.Toolchain(ffmpeg, None, None, "test").filters == tools.filters


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_parses_ffmpeg_progress():
    out = _Tty()
    bar = ProgressBar("out.mp4", 60, stream=out)
    bar.feed(["frame=30\n", "fps=12.0\n", "progress=continue\n", "frame=60\n", "progress=end\n"])
    assert bar.frames == 60
    assert "60/60 frames" in out.getvalue() and out.getvalue().endswith("\n")
    assert "#" * 30 in out.getvalue()


def test_progress_bar_is_silent_off_a_terminal_and_when_quiet():
    for stream, enabled in ((io.StringIO(), True), (_Tty(), False)):
        bar = ProgressBar("x", 10, stream=stream, enabled=enabled)
        bar.feed(["frame=10\n", "progress=end\n"])
        assert bar.frames == 10 and stream.getvalue() == ""


def test_render_on_a_terminal_draws_the_bar(clip, tmp_path):
    """A real render with stderr on a pseudo-terminal shows frames counting up to the total."""
    out = tmp_path / "out.mp4"
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", "from ffvfx.cli import entry; entry()", "motion",
                             str(clip), str(out)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=slave)
    os.close(slave)
    text = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        text += chunk
    proc.wait(timeout=60)
    os.close(master)
    assert proc.returncode == 0, text
    assert b"45/45 frames" in text and out.exists()


@pytest.mark.parametrize("spec,expected", [
    ("/dev/video2", ["-f", "v4l2", "-video_size", "640x480", "-framerate", "15", "-i", "/dev/video2"]),
    ("v4l2:/dev/video1", ["-f", "v4l2", "-video_size", "640x480", "-framerate", "15", "-i", "/dev/video1"]),
    ("avfoundation:0", ["-f", "avfoundation", "-video_size", "640x480", "-framerate", "15", "-i", "0"]),
    ("dshow:video=Cam", ["-f", "dshow", "-video_size", "640x480", "-framerate", "15", "-i", "video=Cam"]),
])
def test_camera_specs_become_ffplay_device_inputs(spec, expected, tools):
    """A camera (``--camera SPEC``) is opened with its device format, size and rate, played live
    (no -loop)."""
    if not tools.ffplay:
        pytest.skip("no ffplay")
    from ffvfx.compiler.graph import Graph, Input
    from ffvfx.ffmpeg.preview import preview_argv
    from ffvfx.ffmpeg.sources import camera
    argv = preview_argv(Graph(Input().video.filter("negate")), camera(spec, "640x480", 15), tools)
    assert argv[-len(expected):] == expected and "-loop" not in argv
    assert argv[argv.index("-vf") + 1] == "negate"


def test_render_from_a_live_source(ffvfx_cmd, media, tmp_path):
    """A device-style input (no probe, no known length) renders for --duration seconds."""
    out = tmp_path / "live.mp4"
    res = ffvfx_cmd("motion", "--lavfi", "testsrc2=s=96x64:r=30", out, "--duration", "1", "--delay", "3")
    assert res.returncode == 0, res.stderr
    assert len(media.decode(out)) == 30
