"""ffplay: the printed one-liner and ``--preview`` play headless (SDL offscreen, or Xvfb).

ffplay plays in real time, so the clips are short (24 frames at 60 fps). ``ffvfx --preview``
loops a file until the window closes and has no option to stop; its end-to-end test runs the real
command with ``FFVFX_FFMPEG`` pointing at a directory whose ``ffplay`` is a wrapper that records its
argv and appends ``-loop 1 -autoexit`` (later ffplay options win). The imageio-ffmpeg binary has no
ffplay: those tests skip there; the error paths, which need no real ffplay, run everywhere.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import FPS, FRAMES

from ffvfx.effects.motion import motion
from ffvfx.ffmpeg.preview import preview_argv
from ffvfx.ffmpeg.render import printable_graph
from ffvfx.ffmpeg.sources import Source

_PROBLEM = re.compile(r"error|fail|invalid|no such|unable|cannot", re.I)


def played_seconds(stderr: str) -> float:
    """The last master clock ffplay's ``-stats`` line showed (how far it played)."""
    clocks = re.findall(r"(-?\d+\.\d+) M-V:", stderr)
    return max((float(c) for c in clocks), default=0.0)


def assert_played_cleanly(res: subprocess.CompletedProcess) -> None:
    assert res.returncode == 0, res.stderr[-2000:]
    problems = [ln for ln in res.stderr.splitlines() if _PROBLEM.search(ln)]
    assert problems == [], problems
    assert "texture" in res.stderr, "no frame reached the display"  # verbose: 'Created WxH texture'
    assert played_seconds(res.stderr) >= 0.5 * FRAMES / FPS, "played too little"


@pytest.mark.parametrize("options", [["--delay=8", "--bloom"], ["--mode", "black"],
                                     ["--mode", "rgb", "--bloom"], ["--mode", "glow", "--freeze", "3"]],
                         ids=["gray-bloom", "black", "rgb-bloom", "glow-freeze"])
def test_printed_line_plays_in_ffplay(ffvfx_cmd, ffplay, display_env, short_clip, options):
    """``ffplay -vf "$(ffvfx motion OPTIONS)"`` plays the clip to the end and exits 0, no errors."""
    line = ffvfx_cmd("motion", short_clip, *options, "--print").stdout.rstrip("\n")
    assert "fps=60," in line
    res = subprocess.run([ffplay, "-hide_banner", "-loglevel", "verbose", "-stats", "-autoexit", "-an",
                          "-vf", line, "-i", str(short_clip)], env=display_env, capture_output=True,
                         text=True, errors="replace", timeout=60, stdin=subprocess.DEVNULL)
    assert_played_cleanly(res)


def test_preview_argv_plays(tools, ffplay, display_env, short_clip):
    """The argv ``--preview`` builds plays when told to stop at the end (``loop=False`` + -autoexit)."""
    graph = printable_graph(lambda s: motion(s, delay=8, bloom=1.0))
    argv = preview_argv(graph, Source(str(short_clip)), tools, loop=False)
    assert argv[0] == ffplay and "-loop" not in argv
    assert argv[argv.index("-vf") + 1] == graph.line()
    looping = preview_argv(graph, Source(str(short_clip)), tools)
    assert looping[looping.index("-loop") + 1] == "0"
    res = subprocess.run(argv + ["-autoexit", "-an", "-stats", "-loglevel", "verbose"], env=display_env,
                         capture_output=True, text=True, errors="replace", timeout=60,
                         stdin=subprocess.DEVNULL)
    assert_played_cleanly(res)


def _toolchain_dir(tmp_path: Path, tools, ffplay_script: str | None) -> Path:
    """A directory with ``ffmpeg`` (and ffprobe) linked to the real ones and an optional ffplay script."""
    d = tmp_path / "bin"
    d.mkdir()
    (d / "ffmpeg").symlink_to(tools.ffmpeg)
    if tools.ffprobe:
        (d / "ffprobe").symlink_to(tools.ffprobe)
    if ffplay_script is not None:
        (d / "ffplay").write_text(ffplay_script)
        (d / "ffplay").chmod(0o755)
    return d


def test_cli_preview_runs_ffplay_with_the_printed_graph(ffvfx_cmd, tools, ffplay, display_env,
                                                        short_clip, tmp_path):
    """``ffvfx motion CLIP --preview`` runs ffplay on CLIP with -vf equal to the line printed for
    CLIP (on its probed rate, so a variable-rate file plays at its real pace)."""
    script = ("#!/bin/sh\n"
              'printf "%s\\n" "$@" > "$(dirname "$0")/ffplay.args"\n'
              f'exec "{ffplay}" "$@" -loop 1 -autoexit -an\n')
    bindir = _toolchain_dir(tmp_path, tools, script)
    options = ["--mode", "black", "--delay", "4", "--bloom"]
    env = dict(display_env, FFVFX_FFMPEG=str(bindir / "ffmpeg"))
    res = ffvfx_cmd("motion", short_clip, *options, "--preview", env=env, timeout=60)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    args = (bindir / "ffplay.args").read_text().splitlines()
    line = ffvfx_cmd("motion", short_clip, *options, "--print").stdout.rstrip("\n")
    assert "fps=60," in line
    assert args[args.index("-vf") + 1] == line
    assert args[args.index("-i") + 1] == str(short_clip)
    assert args[args.index("-loop") + 1] == "0"  # a file preview loops until closed


def test_preview_without_ffplay_is_one_line(ffvfx_cmd, tools, short_clip, tmp_path):
    bindir = _toolchain_dir(tmp_path, tools, None)
    res = ffvfx_cmd("motion", short_clip, "--preview", env={"FFVFX_FFMPEG": str(bindir / "ffmpeg")})
    assert res.returncode == 1
    assert len(res.stderr.splitlines()) == 1 and "ffplay" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr


def test_ffplay_failure_is_one_line(ffvfx_cmd, tools, short_clip, tmp_path):
    script = "#!/bin/sh\necho 'noise before' >&2\necho 'Could not open the display: no luck' >&2\nexit 1\n"
    bindir = _toolchain_dir(tmp_path, tools, script)
    res = ffvfx_cmd("motion", short_clip, "--preview", env={"FFVFX_FFMPEG": str(bindir / "ffmpeg")})
    assert res.returncode == 1
    assert res.stderr.splitlines() == ["ffvfx: error: ffplay failed: Could not open the display: no luck"]


def test_preview_graph_is_anonymous():
    """The graph --preview hands ffplay has unlabelled ends (the only form ffplay -vf accepts)."""
    graph = printable_graph(lambda s: motion(s, mode="rgb", bloom=1.0))
    assert graph.anonymous
    line = graph.line()
    assert not line.startswith("[") and not line.endswith("]")
    assert "[0:v]" not in line and "[out]" not in line
