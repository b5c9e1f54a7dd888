"""Limits and one-line refusals (issue 16, items 6, 7 and 11).

- Memory bombs: a graph that would hold more decoded frames than ``--max-memory`` /
  ``$FFVFX_MAX_MEMORY`` (default half the RAM) is refused before ffmpeg starts, and the refused run
  allocates nothing big (the peak RSS of the command and its children, measured in a wrapper
  process of its own so no other test's children count); counts past the option types (``--layers
  1000000000``) are refused while parsing.
- Outputs that cannot be written (``/proc``, a read-only folder, simulated with EACCES since the
  tests run as root, which passes permission checks): one line, exit 1, for every command, file
  and folder outputs.
- Bad option values exit 1 like every other user error (they exited 2); a negative ``--start``, a
  ``--delay-s`` under one frame, an unknown ``--preset``, an output container ffvfx does not write,
  and the inpaint/studio options the analysis used to check late are one line, before any work.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import ffvfx_argv

from ffvfx.cli import run_cli
from ffvfx.compiler import memory, timeline
from ffvfx.compiler.graph import Graph, Input
from ffvfx.effects.trails import trails
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import outputs
from ffvfx.pipelines import inpaint as video_inpaint
from ffvfx.pipelines import studio


def invoke(argv: list) -> tuple[int, str]:
    """``run_cli(argv)`` in this process: (exit code, stderr); a traceback fails the test."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = run_cli([str(a) for a in argv])
    return code, err.getvalue()


def peak_run(args: list, env: dict | None = None, cwd: Path | None = None) -> tuple[int, str, float]:
    """Run ``ffvfx ARGS`` from a wrapper Python of its own: (exit code, stderr, peak RSS in MiB of
    the command and every process it started)."""
    probe = ("import json, resource, subprocess, sys; "
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "print(json.dumps([r.returncode, r.stderr, "
             "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
    full = {**os.environ, **(env or {})}
    res = subprocess.run([sys.executable, "-c", probe, *ffvfx_argv(), *map(str, args)],
                         capture_output=True, text=True, env=full, cwd=cwd, timeout=120)
    code, err, kib = json.loads(res.stdout)
    return code, err, kib / 1024


@pytest.fixture(scope="module")
def still(tmp_path_factory, ffmpeg) -> Path:
    """40 s of a flat 640x360 picture at 25 fps (1000 frames, tiny to make and to store): a graph
    delaying it by 1000 frames would hold 330 MiB of it."""
    out = tmp_path_factory.mktemp("still") / "still.mp4"
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "color=gray:s=640x360:r=25:d=40", "-c:v", "libx264", "-preset", "ultrafast",
                    "-pix_fmt", "yuv420p", str(out)], check=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, media, scenes) -> Path:
    """25 frames of 96x64 H.264 and a white alpha for it."""
    d = tmp_path_factory.mktemp("tiny")
    clip = media.write(d / "in.mp4", scenes.blobs(25, 96, 64), fps=25, vcodec="libx264", pix_fmt="yuv420p")
    media.write(d / "alpha.mkv", np.full((25, 64, 96, 3), 255, np.uint8), fps=25, pix_fmt="gray")
    return clip


# -- 6: memory bombs ---------------------------------------------------------------------------
BOMB = ["trails", "--layers", "64", "--spacing", "1000", "--no-compensate"]


@pytest.mark.parametrize("how", ["option", "variable", "segments"])
def test_memory_bomb_is_refused_before_anything_is_allocated(still, tmp_path, how):
    """64 echoes 1000 frames apart hold all 1000 frames (330 MiB, measured 540 MB peak when it
    ran); refused at a 0.1 GiB limit, the whole run peaks far below that."""
    out = tmp_path / "out.mp4"
    args, env = [*BOMB[:1], still, out, *BOMB[1:]], {"FFVFX_CACHE": str(tmp_path / "cache")}
    if how == "variable":
        env["FFVFX_MAX_MEMORY"] = "0.1"
    else:
        args += ["--max-memory", "0.1"] + (["--jobs", "2"] if how == "segments" else [])
    code, err, peak = peak_run(args, env)
    lines = err.splitlines()
    assert code == 1 and len(lines) == 1, err
    assert lines[0].startswith("ffvfx: error: the effect's graph would hold 1000 frames (about 0.32 GiB)")
    assert "--max-memory" in lines[0] and "$FFVFX_MAX_MEMORY" in lines[0]
    if how == "segments":
        assert "in each of 2 segments side by side" in lines[0]
    assert peak < 200, f"a refused bomb peaked at {peak:.0f} MiB"
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] in ([], ["cache"])


@pytest.mark.parametrize("args", [
    ["trails", "{clip}", "{out}", "--layers", "1000000000"],
    ["trails", "{clip}", "{out}", "--spacing", "1000000000"],
    ["inpaint", "{clip}", "{alpha}", "{out}", "--prompt", "x", "--candidates", "1000000000"],
])
def test_count_bombs_are_refused_while_parsing(tiny, tmp_path, args):
    """They grew to 12 GB (trails) and 2.5 GB (inpaint) before any check."""
    args = [a.format(clip=tiny, alpha=tiny.with_name("alpha.mkv"), out=tmp_path / "o.mp4") for a in args]
    code, err, peak = peak_run(args, {"FFVFX_CACHE": str(tmp_path / "cache")})
    assert code == 1 and len(err.splitlines()) == 1 and "must be a whole number" in err, err
    assert peak < 200, peak


def test_the_estimate_counts_shared_frames_once():
    """Echoes cut from one stream share its frames (split passes references): 6 echoes 5 frames
    apart hold 30 frames of the yuv420p stream, not 5 + 10 + ... + 30."""
    main = Input("in.mp4", size=(1920, 1080))
    graph = Graph(trails(timeline.regular(main.video), layers=6, spacing=5), [main])
    found = memory.estimate(graph, (1920, 1080), "yuv420p")
    assert found.frames == 30 and found.bytes == 30 * 1920 * 1080 * 1.5
    # the glow ghosts are delayed at a quarter size in gbrp
    glow = Graph(trails(timeline.regular(main.video), layers=6, spacing=5, operator="glow"), [main])
    assert memory.estimate(glow, (1920, 1080), "yuv420p").bytes == 30 * 480 * 270 * 3
    # no stream holds more than the render reads
    assert memory.estimate(graph, (1920, 1080), "yuv420p", frames=12).frames == 12


def test_the_default_limit_is_half_the_ram_and_the_variable_is_checked(monkeypatch):
    monkeypatch.delenv(memory.ENV, raising=False)
    ram = memory.default_limit() * 2
    assert ram == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    main = Input("in.mp4", size=(3840, 2160))
    bomb = Graph(trails(timeline.regular(main.video), layers=64, spacing=1000), [main])
    with pytest.raises(FfvfxError, match=r"64000 frames \(about 741.6 GiB\), more than the"):
        memory.check(bomb, (3840, 2160), "yuv420p")
    assert memory.check(bomb, (3840, 2160), "yuv420p", given=1000).frames == 64000
    monkeypatch.setenv(memory.ENV, "lots")
    with pytest.raises(FfvfxError, match=r"^\$FFVFX_MAX_MEMORY='lots': must be a number of GiB > 0$"):
        memory.limit()
    monkeypatch.setenv(memory.ENV, "2.5")
    assert memory.limit() == 2.5 * 2**30 and memory.limit(1) == 2**30


@pytest.mark.parametrize("fmt, expected", [("yuv420p", 1.5), ("yuv444p", 3), ("gbrp", 3), ("gbrp16le", 6),
                                           ("gray", 1), ("yuv420p10le", 3), ("yuva420p", 2.5),
                                           ("rgba", 4), ("rgb24", 3), (None, 4)])
def test_bytes_per_pixel(fmt, expected):
    assert memory.bytes_per_pixel(fmt) == expected


# -- 7: outputs that cannot be written ---------------------------------------------------------
def _outputs(tiny: Path) -> dict[str, list]:
    alpha = tiny.with_name("alpha.mkv")
    return {
        "motion": ["motion", tiny, "{out}.mp4"],
        "trails": ["trails", tiny, "{out}.mp4", "--mask"],
        "composite": ["composite", tiny, alpha, "{out}.mp4", "--bg", "red"],
        "studio": ["studio", tiny, alpha, "{out}.mp4", "--prompt", "a room"],
        "inpaint": ["inpaint", tiny, alpha, "{out}.mp4", "--prompt", "a wall"],
        "plate": ["plate", tiny, alpha, "{out}.png"],
        "tmedian": ["plate", tiny, "{out}.png", "--method", "tmedian"],
        "generate": ["generate", tiny, alpha, "{out}.png", "--prompt", "a room"],
        "demo": ["demo", "{out}.mp4", "--seconds", "0.2", "--size", "64x48"],
        "loop": ["loop", tiny, "-o", "{out}"],
        "matte": ["matte", tiny, "-o", "{out}", "--model", "chroma"],
        "batch": ["batch", "motion", tiny, "-o", "{out}"],
    }


COMMANDS = ["motion", "trails", "composite", "studio", "inpaint", "plate", "tmedian", "generate",
            "demo", "loop", "matte", "batch"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("where", ["proc", "proc-sub"])
def test_outputs_under_proc_are_one_line(tiny, tmp_path, command, where):
    """A file or folder output in /proc (no file can be made there, not even by root)."""
    base = "/proc/ffvfx-out" if where == "proc" else "/proc/self/ffvfx-out"
    argv = [str(a).replace("{out}", base) for a in _outputs(tiny)[command]]
    res = subprocess.run([*ffvfx_argv(), *argv], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "FFVFX_CACHE": str(tmp_path / "cache"),
                              "HF_HUB_OFFLINE": "1"})
    lines = res.stderr.splitlines()
    assert res.returncode != 0 and "Traceback" not in res.stderr, res.stderr
    assert len(lines) == 1 and lines[0].startswith("ffvfx:") and "/proc" in lines[0], res.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_read_only_folders_are_one_line(tiny, tmp_path, monkeypatch, command):
    """A folder where making a file fails with EACCES (what a read-only folder gives a user who is
    not root): one line naming it, nothing written anywhere."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.mkstemp

    def refuse(*args, **kwargs):
        folder = Path(kwargs.get("dir") or "")
        if folder.resolve() == locked.resolve() or locked.resolve() in folder.resolve().parents:
            raise PermissionError(13, "Permission denied")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setenv("FFVFX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    argv = [str(a).replace("{out}", str(locked / "out")) for a in _outputs(tiny)[command]]
    code, err = invoke(argv)
    assert code != 0 and len(err.splitlines()) == 1, err
    assert err.startswith("ffvfx: error:") and "Permission denied" in err and str(locked) in err, err
    assert list(locked.iterdir()) == []


def test_a_cache_that_is_a_file_is_one_line_where_a_file_must_be_cached(tiny, tmp_path, monkeypatch):
    """FFVFX_CACHE naming a regular file: mkdir fails. Caches that only save time are skipped; the
    subject mask, which must be a file, is one line."""
    blocked = tmp_path / "cache"
    blocked.write_text("not a folder")
    monkeypatch.setenv("FFVFX_CACHE", str(blocked))
    code, err = invoke(["motion", tiny, tmp_path / "m.mp4", "-q"])
    assert code == 0 and err == "", err
    code, err = invoke(["trails", tiny, tmp_path / "t.mp4", "-q"])  # camera path: not kept
    assert code == 0 and err == "", err
    code, err = invoke(["trails", tiny, tmp_path / "mask.mp4", "--mask", "-q"])
    assert code == 1 and err == f"ffvfx: error: cannot write the ffvfx cache at {blocked} (File exists); " \
                                "set FFVFX_CACHE to a writable folder\n"
    assert not (tmp_path / "mask.mp4").exists()


def test_a_read_only_cache_is_one_line_where_a_file_must_be_cached(tiny, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    real = tempfile.mkstemp

    def refuse(*args, **kwargs):
        if Path(kwargs.get("dir") or "").resolve() == cache.resolve():
            raise PermissionError(13, "Permission denied")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    monkeypatch.setenv("FFVFX_CACHE", str(cache))
    code, err = invoke(["trails", tiny, tmp_path / "t.mp4", "--mask", "-q"])
    assert code == 1 and err == f"ffvfx: error: cannot write the ffvfx cache at {cache} (Permission " \
                                "denied); set FFVFX_CACHE to a writable folder\n"


def test_an_os_error_late_in_a_run_is_one_line(tiny, tmp_path, monkeypatch):
    """What no check can foresee (the disk fills, a folder vanishes): one line, exit 1."""
    monkeypatch.setenv("FFVFX_CACHE", str(tmp_path / "cache"))

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "out.mp4"))

    monkeypatch.setattr("ffvfx.ffmpeg.render.execute", full)
    code, err = invoke(["motion", tiny, tmp_path / "out.mp4"])
    assert (code, err) == (1, f"ffvfx: error: {tmp_path / 'out.mp4'}: No space left on device\n")


def test_writable_tries_a_real_file(tmp_path):
    outputs.writable(tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FfvfxError, match=r"^/proc: cannot write there"):
        outputs.writable("/proc")


# -- 11: smaller ---------------------------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    (["--start", "-1"], "--start: must be a finite number of seconds 0..1000000 (got -1)"),
    (["--duration", "-1"], "--duration: must be a finite number of seconds > 0"),
    (["--delay-s", "0"], "--delay-s: must be a finite number of seconds > 0"),
    (["--delay-s", "-1"], "--delay-s: must be a finite number of seconds > 0"),
    (["--delay-s", "0.001"], "--delay-s 0.001: under one frame at 25 fps; give at least one frame, 0.04 s"),
    (["--bloom", "--bloom-sigma", "inf"], "--bloom-sigma: must be a finite number of pixels"),
    (["--preset", "nope"], "--preset nope: libx264 knows ultrafast, superfast, veryfast, faster, fast, "
                           "medium, slow, slower, veryslow, placebo"),
    (["--encoder", "libvpx-vp9", "--preset", "fast"], "--preset fast: libvpx-vp9 has no presets"),
    (["--no-such-option"], "No such option '--no-such-option'"),
])
def test_bad_values_are_one_line_and_exit_1(tiny, tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("FFVFX_CACHE", str(tmp_path / "cache"))
    code, err = invoke(["motion", tiny, tmp_path / "out.mp4", *args])
    assert code == 1 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("name", ["o.gif", "o.png", "o.wav", "o.y4m", "o", "o.mp4 ", "o.avi"])
@pytest.mark.parametrize("command", ["motion", "inpaint"])
def test_unsupported_output_containers_are_refused_up_front(tiny, tmp_path, monkeypatch, name, command):
    """They failed after the work with ffmpeg's "Invalid argument" naming the temporary file."""
    monkeypatch.setenv("FFVFX_CACHE", str(tmp_path / "cache"))
    out = tmp_path / name
    extra = [tiny.with_name("alpha.mkv"), out, "--prompt", "x"] if command == "inpaint" else [out]
    code, err = invoke([command, tiny, *extra])
    assert code == 1 and err == f"ffvfx: error: {out}: give an output ending in .mp4, .m4v, .mov, " \
                                ".mkv, .webm (the video containers ffvfx writes)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("field, value, message", [
    ("overlay_original", 2.0, "--overlay-original takes 0..1"),
    ("sensitivity", float("inf"), "--sensitivity takes more than 0"),
    ("sensitivity", 0.0, "--sensitivity takes more than 0"),
    ("feather", float("nan"), "--feather takes 0..100 px"),
    ("guidance", -1.0, "--guidance takes 0..100"),
    ("candidates", 10**9, "--candidates takes 1..16"),
])
def test_inpaint_options_are_checked_before_the_analysis(field, value, message):
    opts = video_inpaint.Options(prompt="a wall", **{field: value})
    with pytest.raises(FfvfxError, match=message):
        video_inpaint.check(opts)


@pytest.mark.parametrize("field, value, message", [
    ("guidance", float("inf"), "--guidance takes 0..100"),
    ("depth_scale", float("nan"), "--depth-scale takes 0..100"),
    ("feather", 101.0, "--feather takes 0..100 px"),
])
def test_studio_options_are_checked_before_the_analysis(field, value, message):
    with pytest.raises(FfvfxError, match=message):
        studio.check(studio.Options(prompt="a room", **{field: value}))
