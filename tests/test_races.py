"""Outputs under contention and interruption (issue 16 items 4, 9, 10).

(a) Two renders to one output: exactly one wins without ``-y``, the other ends with one line and
    the winner's file is untouched; a file saved at the output mid-render is kept without ``-y``
    (replaced with it).
(b) Folder outputs are all or nothing: Ctrl-C during ``loop`` or ``matte`` leaves no new folder
    and an existing one unchanged.
(c) ``kill -9`` of ffvfx leaves no ffmpeg running, and the next run to that output removes the
    temporary file and segment folder it left.

A render is made slow, at the moment that matters, by pointing ``FFVFX_FFMPEG`` at a wrapper that
marks and sleeps before it runs the real ffmpeg when its output (last argument) contains a given
text.
Linux only: (c) reads /proc.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ffvfx_argv

from ffvfx.stages import demo

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux: /proc, prctl")

W, H, N, FPS = 64, 48, 30, 10
WAIT = 30  # s: the most any step here may take


@pytest.fixture(scope="module")
def clips(media, scenes, tmp_path_factory) -> Path:
    """in.mp4 (64x48, 30 frames, H.264) and loopy.mp4 (a periodic demo clip with several loops)."""
    d = tmp_path_factory.mktemp("races")
    media.write(d / "in.mp4", scenes.blobs(N, W, H), fps=FPS, vcodec="libx264", pix_fmt="yuv420p")
    demo.write_demo(d / "loopy.mp4", demo.DemoSpec(width=128, height=72, seconds=3.0, pan=(0, 0),
                                                   period=12, seed=3), media.ffmpeg)
    return d


@pytest.fixture
def slow(tmp_path, ffmpeg):
    """``slow(match, seconds)``: the environment of an ffvfx whose ffmpeg, when its last argument
    contains ``match``, leaves a marker file and sleeps ``seconds`` first; ``marks()`` counts them."""
    wrapper = tmp_path / "bin" / "ffmpeg"
    wrapper.parent.mkdir()
    wrapper.write_text(f"""#!{sys.executable}
import os, sys, time
match = os.environ.get("RACE_MATCH")
if match and match in sys.argv[-1]:
    open(os.environ["RACE_MARK"] + f".{{os.getpid()}}", "w").close()
    time.sleep(float(os.environ["RACE_SLEEP"]))
os.execv({ffmpeg!r}, [{ffmpeg!r}, *sys.argv[1:]])
""")
    wrapper.chmod(0o755)
    marks = tmp_path / "marks"
    marks.mkdir()

    def env(match: str, seconds: float) -> dict:
        return {**os.environ, "FFVFX_FFMPEG": str(wrapper), "RACE_MATCH": match,
                "RACE_MARK": str(marks / "mark"), "RACE_SLEEP": str(seconds)}
    env.marks = lambda: len(list(marks.iterdir()))
    return env


def _start(args: list, env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([*ffvfx_argv(), *map(str, args)], cwd=cwd, env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _await(condition, what: str) -> None:
    end = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def _one_line(proc: subprocess.Popen) -> str:
    _, err = proc.communicate(timeout=WAIT)
    lines = err.splitlines()
    assert proc.returncode != 0 and len(lines) == 1, f"exit {proc.returncode}: {err}"
    assert lines[0].startswith("ffvfx: error: ") and "Traceback" not in err
    return lines[0]


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _processes(text: str) -> list[int]:
    """Live processes (not this one) whose command line contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path("/proc", entry, "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                found.append(int(entry))
    return found


# -- (a) races on a file output ----------------------------------------------------------------
def test_two_renders_to_one_output_exactly_one_wins(clips, tmp_path, slow, ffvfx_cmd):
    out = tmp_path / "r.mp4"
    late = _start(["motion", clips / "in.mp4", out, "-q"], slow(".part.", 3), tmp_path)
    try:
        _await(lambda: slow.marks() == 1, "the slow render to start")
        mine = _hidden(tmp_path)
        assert len(mine) == 1 and mine[0].endswith(".part.mp4"), mine
        res = ffvfx_cmd("motion", clips / "in.mp4", out, "-q", timeout=WAIT)
        assert res.returncode == 0, res.stderr
        assert _hidden(tmp_path) == mine  # the running render's temporary file was left alone
        winner = out.read_bytes()
        line = _one_line(late)
    finally:
        late.kill()
    assert "appeared while" in line and "-y/--overwrite" in line, line
    assert out.read_bytes() == winner
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_file_saved_at_the_output_mid_render_is_kept_without_y(clips, tmp_path, slow, overwrite):
    out = tmp_path / "r.mp4"
    proc = _start(["motion", clips / "in.mp4", out, "-q", *(["-y"] if overwrite else [])],
                  slow(".part.", 2), tmp_path)
    try:
        _await(lambda: slow.marks() == 1, "the render to start")
        out.write_bytes(b"the user's file")
        if overwrite:
            _, err = proc.communicate(timeout=WAIT)
            assert proc.returncode == 0, err
            assert out.read_bytes() != b"the user's file" and out.stat().st_size > 1000
        else:
            assert "appeared while" in _one_line(proc)
            assert out.read_bytes() == b"the user's file"
    finally:
        proc.kill()
    assert _hidden(tmp_path) == []


# -- (b) folder outputs are all or nothing -------------------------------------------------------
LOOP = ["--loops", "3", "--min-length", "10", "--max-length", "30", "-q"]


@pytest.mark.parametrize("command", ["loop", "matte"])
@pytest.mark.parametrize("earlier", [False, True])
def test_ctrl_c_leaves_no_new_folder_and_an_earlier_one_unchanged(clips, tmp_path, slow, command,
                                                                  earlier):
    out = tmp_path / "out"
    if command == "loop":  # interrupted in the second loop's encode: the first is done
        args, match, marks = ["loop", clips / "loopy.mp4", "-o", out, *LOOP], "loop_", 2
    else:  # interrupted in the quick-look composite: the alpha is done
        args, match, marks = ["matte", clips / "in.mp4", "-o", out, "--model", "chroma",
                              "--composite", "red", "-q"], "composite", 1
    if earlier:
        out.mkdir()
        for name in ("loop_0.webm", "loops.json", "alpha.mkv", "matte.json", "notes.txt"):
            (out / name).write_text(f"earlier {name}\n")
        args.append("-y")
    before = _tree(out) if earlier else None
    proc = _start(args, slow(match, 2), tmp_path)
    try:
        _await(lambda: slow.marks() == marks, f"{command} to reach its step {marks}")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=WAIT)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    if earlier:
        assert _tree(out) == before
    else:
        assert not out.exists()
    assert _hidden(tmp_path) == []


def test_a_refused_matte_leaves_no_folder(clips, tmp_path, ffvfx_cmd):
    out = tmp_path / "out"
    res = ffvfx_cmd("matte", clips / "in.mp4", "-o", out, "--model", "chroma", "--start", "100",
                    "-q", timeout=WAIT)
    assert res.returncode != 0 and len(res.stderr.splitlines()) == 1, res.stderr
    assert not out.exists() and _hidden(tmp_path) == []


# -- (c) kill -9: no orphans, leftovers cleaned by the next run ----------------------------------
def test_kill_9_leaves_no_ffmpeg_and_the_next_run_cleans_up(clips, tmp_path, slow, ffvfx_cmd):
    out = tmp_path / "r.mp4"
    try:
        # segments (their folder is left), then one pass (its .part file; the folder is cleaned)
        for jobs, match, marks, left in ((3, "segment0", 3, ".r.mp4.segments."),
                                         (1, ".part.", 4, ".part.mp4")):
            proc = _start(["motion", clips / "in.mp4", out, "--jobs", jobs, "-q"], slow(match, 20),
                          tmp_path)
            _await(lambda m=marks: slow.marks() == m, f"--jobs {jobs} to start its ffmpeg")
            proc.kill()
            proc.wait(timeout=WAIT)
            proc.stdout.close()
            proc.stderr.close()
            end = time.monotonic() + 5
            while _processes(str(tmp_path)) and time.monotonic() < end:
                time.sleep(0.05)
            assert _processes(str(tmp_path)) == [], "ffmpeg outlived ffvfx"
            assert [left in n for n in _hidden(tmp_path)] == [True], _hidden(tmp_path)
        res = ffvfx_cmd("motion", clips / "in.mp4", out, "-q", timeout=WAIT)
        assert res.returncode == 0, res.stderr
        assert _hidden(tmp_path) == [] and out.stat().st_size > 1000
    finally:
        for pid in _processes(str(tmp_path)):  # without the fix: do not leave them behind
            os.kill(pid, signal.SIGKILL)


def test_a_live_runs_temporaries_are_not_cleaned(tmp_path):
    """Leftovers are only those of dead owners: by pid, and by the lock a live owner holds."""
    from ffvfx.ffmpeg.atomic import atomic_path, clear_leftovers
    out = tmp_path / "r.mp4"
    with atomic_path(out, overwrite=False) as mine:
        Path(mine).write_bytes(b"x")
        dead = tmp_path / ".r.999999999.abcdefgh.part.mp4"  # no such pid
        dead.write_bytes(b"old")
        clear_leftovers(out)
        assert Path(mine).exists() and not dead.exists()
    assert out.read_bytes() == b"x"
    # a live owner this process cannot see by pid (another pid namespace) still holds its lock
    holder = subprocess.Popen([sys.executable, "-c", f"""
import fcntl, os, sys, time
fd = os.open({str(tmp_path / '.r.999999998.abcdefgh.part.mp4')!r}, os.O_CREAT | os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(30)
"""], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        clear_leftovers(out)
        assert (tmp_path / ".r.999999998.abcdefgh.part.mp4").exists()
    finally:
        holder.kill()
        holder.wait()
    clear_leftovers(out)
    assert _hidden(tmp_path) == []
