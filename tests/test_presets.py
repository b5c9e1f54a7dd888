"""The ready filter scripts in filters/: current with the library, and working as documented.

Every documented usage line is run for real: the script file in ffmpeg (system 5.1 and the static
9.x from imageio-ffmpeg, each with its own script option), the ``tr -d '\\n'`` one-liner in
ffplay, and ``bin/ffvfx-webcam`` with a lavfi source standing in for the camera. ffplay exits 0
even when its filtergraph fails, so ffplay runs count as passing only when its status line shows
that the clip played to the end and it printed no error.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ffvfx.effects import motion
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.pipelines import presets

REPO = Path(__file__).resolve().parent.parent
FILTERS = REPO / "filters"
WEBCAM = REPO / "bin" / "ffvfx-webcam"
FRAMES, FPS, SIZE = 45, 30, "160x120"  # 1.5 s; more frames than the longest delay (32)
PLAYED = 1.2  # seconds of the 1.5 s clip ffplay's clock must reach
FFPLAY_SAMPLE = ["motion-gray-d8-bloom", "motion-black-d8", "motion-rgb-1-8-32"]


def _ffmpegs() -> list[Toolchain]:
    """Every distinct ffmpeg here: ffvfx's choice, the one on PATH, imageio-ffmpeg's static 9.x."""
    candidates = []
    try:
        candidates.append(toolchain.find().ffmpeg)
    except FfvfxError:
        pass
    candidates.append(shutil.which("ffmpeg"))
    try:
        import imageio_ffmpeg
        candidates.append(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        pass
    seen, out = set(), []
    for exe in candidates:
        if exe and os.path.realpath(exe) not in seen:
            seen.add(os.path.realpath(exe))
            out.append(Toolchain(exe, None, None, "test"))
    return out


FFMPEGS = _ffmpegs()
FFMPEG_IDS = [f"ffmpeg{t.version}" for t in FFMPEGS]


# -- (a) the committed files are what the library generates now ------------------------------------

def test_committed_filters_are_current():
    bad = presets.stale(FILTERS)
    assert not bad, (f"filters/ is stale ({', '.join(bad)}): run `{presets.REGENERATE}` and commit "
                     "filters/ (a .txt file no preset makes: delete it or add the preset)")


def test_readme_parameter_tables_are_current():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert presets.with_parameter_tables(text) == text, (
        f"README.md's parameter tables differ from the effects' PARAMS: run `{presets.REGENERATE}` "
        "and commit README.md")


def test_readme_tables_show_every_declared_option():
    tables = presets.parameter_tables()
    for _, module, name in presets.PARAMETER_TABLES:
        for p in getattr(module, name):
            assert f"`{p.option}`" in tables and p.help.replace("|", "\\|") in tables


def test_presets_are_declared_values():
    for preset in presets.PRESETS.values():
        assert set(preset.params) <= {p.name for p in motion.PARAMS}
    with pytest.raises(FfvfxError, match="--delay"):
        presets.Preset("motion-bad", "no", dict(delay=0))


def test_write_presets_regenerates_and_prunes(tmp_path):
    (tmp_path / "motion-retired-d9.txt").write_text("null\n")
    (tmp_path / "mine.md").write_text("kept\n")
    written = presets.write_presets(tmp_path)
    assert {p.name for p in written} == set(presets.render_all())
    assert not (tmp_path / "motion-retired-d9.txt").exists()
    assert (tmp_path / "mine.md").read_text() == "kept\n"
    assert presets.stale(tmp_path) == []
    (tmp_path / "motion-gray-d8.txt").write_text("null\n")
    assert presets.stale(tmp_path) == ["motion-gray-d8.txt"]


def test_module_entry_point(tmp_path):
    run = [sys.executable, "-m", "ffvfx.pipelines.presets"]
    assert subprocess.run(run + ["--check", str(tmp_path)], capture_output=True).returncode == 1
    assert subprocess.run(run + [str(tmp_path)], capture_output=True).returncode == 0
    assert subprocess.run(run + ["--check", str(tmp_path)], capture_output=True).returncode == 0
    assert presets.default_directory() == FILTERS


@pytest.mark.parametrize("name", presets.PRESETS)
def test_script_is_the_graph_one_chain_per_line(name):
    text = presets.preset_text(name)
    graph = presets.PRESETS[name].graph()
    assert "#" not in text  # ffmpeg rejects comments in filter scripts
    assert text.endswith("\n") and not text.endswith(";\n")
    lines = text.splitlines()
    assert all(line.endswith(";") for line in lines[:-1])
    assert text.replace("\n", "") == graph.line()  # what `tr -d '\n'` hands to ffplay -vf
    assert graph.anonymous  # one input, one unlabelled output: -vf and ffplay take it


def test_readme_lists_every_preset_with_exact_usage():
    text = (FILTERS / presets.README).read_text(encoding="utf-8")
    for name, preset in presets.PRESETS.items():
        assert f"| `{name}` |" in text and preset.cli() in text
    for line in presets.usage("motion-gray-d8").values():
        assert line in text
    with pytest.raises(KeyError, match="unknown preset"):
        presets.preset_text("motion-nope")


# -- (b) every preset as a script file in real ffmpeg ----------------------------------------------

@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    if not FFMPEGS:
        pytest.skip("no ffmpeg found")
    path = tmp_path_factory.mktemp("presets") / "in.mp4"
    subprocess.run([FFMPEGS[0].ffmpeg, "-v", "error", "-nostdin", "-f", "lavfi", "-i",
                    f"testsrc2=s={SIZE}:r={FPS}", "-frames:v", str(FRAMES), "-pix_fmt", "yuv420p",
                    str(path)], check=True)
    return path


def count_frames(ffmpeg: str, path: Path) -> int:
    out = subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-i", str(path), "-map", "0:v",
                          "-f", "framecrc", "-"], capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines() if line and not line.startswith("#"))


@pytest.mark.parametrize("tools", FFMPEGS, ids=FFMPEG_IDS)
@pytest.mark.parametrize("name", presets.PRESETS)
def test_preset_runs_as_script_file(name, tools, clip, tmp_path):
    tools.require_filters(presets.PRESETS[name].graph().filter_names())
    key = "ffmpeg >= 7" if tools.major >= 7 else "ffmpeg 5.x/6.x"
    argv = shlex.split(presets.usage(name)[key])  # the README's line, as written
    assert argv[0] == "ffmpeg" and tools.script_option() in argv
    out = tmp_path / "out.mp4"
    subst = {"in.mp4": str(clip), "out.mp4": str(out)}
    argv = [tools.ffmpeg, "-v", "error", "-nostdin"] + [subst.get(a, a) for a in argv[1:]]
    res = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"ffmpeg {tools.version}: {res.stderr.strip()}"
    assert count_frames(tools.ffmpeg, out) == FRAMES


# -- (c), (d) ffplay: the one-liner and bin/ffvfx-webcam -------------------------------------------

STATUS = re.compile(r"^\s*(nan|-?\d+(?:\.\d+)?)\s+(?:[AM]-[AV])?\s*:\s*\S+\s+fd=")


def played(stderr: str) -> tuple[float, list[str]]:
    """ffplay's last clock reading (``-stats``) and every other non-empty line (errors)."""
    clock, other = -1.0, []
    for line in re.split(r"[\r\n]", stderr):
        m = STATUS.match(line)
        if m:
            clock = max(clock, float(m.group(1)))  # nan (no clock yet) compares False
        elif line.strip():
            other.append(line.strip())
    return clock, other


def _display_env(ffplay: str):
    """(environment, Xvfb process or None) under which ffplay can open a window, or a skip reason."""
    base = dict(os.environ, SDL_AUDIODRIVER="dummy")
    probe = [ffplay, "-loglevel", "error", "-stats", "-autoexit", "-f", "lavfi", "-i",
             "testsrc2=s=64x48:r=30:d=0.2"]

    def works(env) -> str | None:
        try:
            res = subprocess.run(probe, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True, timeout=20)
        except subprocess.TimeoutExpired:
            return "timed out"
        clock, errors = played(res.stderr)
        return None if clock >= 0 and not errors else "; ".join(errors) or "nothing played"

    env = dict(base, SDL_VIDEODRIVER="offscreen")
    why = works(env)
    if why is None:
        return env, None
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        return f"SDL offscreen failed ({why}) and there is no Xvfb", None
    read, write = os.pipe()
    proc = subprocess.Popen([xvfb, "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0",
                             "640x480x24"], pass_fds=(write,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        display = f.readline().strip()
    base.pop("SDL_VIDEODRIVER", None)
    env = dict(base, DISPLAY=f":{display}")
    why_x = works(env) if display else "Xvfb did not start"
    if why_x is None:
        return env, proc
    proc.terminate()
    proc.wait()
    return f"ffplay cannot open a window: offscreen: {why}; Xvfb: {why_x}", None


@pytest.fixture(scope="module")
def headless_ffplay(ffplay):
    """(ffplay path, environment) for windowless runs; ``ffplay`` (conftest) skips without one."""
    env, xvfb = _display_env(ffplay)
    if isinstance(env, str):
        pytest.skip(env)
    yield ffplay, env
    if xvfb is not None:
        xvfb.terminate()
        xvfb.wait()


@pytest.mark.parametrize("name", FFPLAY_SAMPLE)
def test_ffplay_one_liner(name, headless_ffplay, clip):
    exe, env = headless_ffplay
    line = presets.usage(name)["ffplay"]  # ffplay -vf "$(tr -d '\n' < filters/X.txt)" in.mp4
    assert line.startswith("ffplay ") and line.endswith(" in.mp4")
    cmd = (f"{shlex.quote(exe)} -autoexit -loglevel error -stats "
           + line[len("ffplay "):-len("in.mp4")] + shlex.quote(str(clip)))
    res = subprocess.run(["sh", "-c", cmd], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                         capture_output=True, text=True, timeout=30)
    clock, errors = played(res.stderr)
    assert res.returncode == 0 and not errors, errors
    assert clock >= PLAYED, f"ffplay stopped at {clock} s of {FRAMES / FPS} s"


def webcam(*args: str, env: dict | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([str(WEBCAM), *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("preset", ["motion-glow-d8", "filters/motion-rgb-1-8-32-bloom.txt"])
def test_webcam_script_plays(preset, headless_ffplay, tmp_path):
    exe, env = headless_ffplay
    env = dict(env, FFVFX_FFPLAY=exe, FFVFX_FFPLAY_ARGS="-autoexit -stats",
               FFVFX_WEBCAM_INPUT=f"-f lavfi -i testsrc2=s={SIZE}:r={FPS}:d=1")
    cwd = REPO if "/" in preset else tmp_path  # names resolve beside the script, not in cwd
    res = webcam(preset, env=env, cwd=cwd)
    clock, errors = played(res.stderr)
    assert res.returncode == 0 and not errors, errors
    assert clock >= 0.7


def test_webcam_script_is_posix_sh_and_executable():
    assert WEBCAM.read_text().startswith("#!/bin/sh\n")
    assert os.access(WEBCAM, os.X_OK), "bin/ffvfx-webcam must be executable (chmod +x, git mode 755)"
    assert subprocess.run(["sh", "-n", str(WEBCAM)]).returncode == 0
    if shutil.which("shellcheck"):
        res = subprocess.run(["shellcheck", "-s", "sh", str(WEBCAM)], capture_output=True, text=True)
        assert res.returncode == 0, res.stdout


def test_webcam_list():
    res = webcam("--list")
    assert res.returncode == 0
    rows = dict(line.split(None, 1) for line in res.stdout.splitlines())
    assert sorted(rows) == sorted(presets.PRESETS)
    assert rows["motion-black-d4"].startswith("Motion on black: |current")


def one_error_line(res: subprocess.CompletedProcess) -> str:
    assert res.returncode != 0
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ffvfx-webcam: error: "), res.stderr
    return lines[0]


def test_webcam_errors(tmp_path):
    env = dict(os.environ, FFVFX_WEBCAM_INPUT="-f lavfi -i testsrc2=d=0.1")
    assert "unknown preset 'motion-nope'" in one_error_line(webcam("motion-nope", env=env))
    assert "no filter script at nope/x.txt" in one_error_line(webcam("nope/x.txt", env=env))
    missing = dict(env, FFVFX_FFPLAY="ffvfx-no-such-ffplay")
    assert "no ffvfx-no-such-ffplay on PATH" in one_error_line(webcam("motion-gray-d8", env=missing))
    assert "usage" in webcam(env=env).stderr
    if sys.platform.startswith("linux"):
        env = dict(os.environ, FFVFX_FFPLAY=sys.executable)  # never run: the device check comes first
        env.pop("FFVFX_WEBCAM_INPUT", None)
        line = one_error_line(webcam("motion-gray-d8", str(tmp_path / "video9"), env=env))
        assert f"no camera at {tmp_path / 'video9'}" in line
