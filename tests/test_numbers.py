"""Number options and numbers handed to ffmpeg.

Every numeric option of every command (found by walking ``ffvfx.cli.main``, so a new option is
covered without touching this file) takes one of the :mod:`ffvfx.cli.options` types; ``nan``,
infinities, ``1e308``, 30-digit counts and values past an option's range are refused in one
``ffvfx: error: --OPTION: ...`` line, before anything is read or written. A property test then
runs every command for real on a tiny clip with extreme values, accepted or not: never a
traceback, and a refusal leaves no output and no temporary file.

Numbers reach ffmpeg through :func:`ffvfx.compiler.numbers.decimal` and
:func:`ffvfx.compiler.numbers.seconds`:
plain fixed-point text that both ffmpeg builds parse (``--start 1e-5`` used to reach ffmpeg as
``1e-05``, which its time parser rejects).
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import click
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ffvfx.cli import main, run_cli
from ffvfx.cli.options import Length, Number, Numbers, Size
from ffvfx.compiler.graph import Graph, Input
from ffvfx.compiler.numbers import decimal, seconds

W, H, N, FPS = 32, 32, 8, 30
NUMBER_TYPES = (Number, Length, Numbers, Size)


def number_options() -> list[tuple[str, click.Option]]:
    """(command, option) for every option of every command whose value is a number or numbers."""
    return [(name, p) for name, cmd in sorted(main.commands.items()) for p in cmd.params
            if isinstance(p, click.Option) and isinstance(p.type, NUMBER_TYPES)]


OPTIONS = number_options()


def long_name(option: click.Option) -> str:
    return next(o for o in option.opts if o.startswith("--"))


def invoke(argv: list[str]) -> tuple[int, str]:
    """``run_cli(argv)`` in-process: (exit code, stderr). A traceback propagates and fails the test."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = run_cli([str(a) for a in argv])
    return code, err.getvalue()


# -- values ---------------------------------------------------------------------------------------
NON_FINITE = ["nan", "inf", "-inf", "NaN", "Infinity", "1e308", "-1e308", "1e999", "9" * 30, "-" + "9" * 30]


def _number_text(kind: type, x: float) -> str:
    return str(int(x)) if kind is int else repr(float(x))


def outside(t: Number) -> list[str]:
    """Values just past each end of ``t``'s range, and forms it does not take."""
    values = []
    if t.min is not None:
        values.append(_number_text(t.kind, t.min if t.min_open else t.min - (1 if t.kind is int else 1e-3)))
    if t.max is not None:
        values.append(_number_text(t.kind, t.max if t.max_open else t.max + (1 if t.kind is int else 1e-3)))
    return values + ["abc", ""] + (["1.5", "1e3"] if t.kind is int else [])


def inside(t: Number) -> str:
    """A value ``t`` takes (its lower end, or just above it)."""
    lo = t.min if t.min is not None else 0
    return _number_text(t.kind, lo + (1 if t.kind is int else 0.25) * t.min_open)


def refused_values(t: click.ParamType) -> list[str]:
    """Values every option of type ``t`` must refuse."""
    if isinstance(t, Number):
        return NON_FINITE + outside(t)
    if isinstance(t, Length):
        return ["nans", "infs", "-infs", "1e308s", "0s", "-1s", "0", "-1", "1.5", "9" * 30, "soon", "s"]
    if isinstance(t, Size):
        return ["nanxnan", "infx16", "0x16", "16x0", "-16x16", "16x99999", "9" * 30 + "x16", "16", "16x"]
    if isinstance(t, Numbers):
        good = inside(t.item)
        n = t.count or 1
        values = [",".join([bad] + [good] * (n - 1)) for bad in NON_FINITE + outside(t.item)]
        values.append(",".join([good] * (n + 1)) if t.count else ",".join([good] * (t.max_count + 1)))
        return values + ([",".join([good] * (n - 1))] if t.count else [])
    raise AssertionError(f"no refused values for {t!r}")


def extreme_values(t: click.ParamType) -> list[str]:
    """Values for the property test: refused ones and accepted extremes (0, 1e-5, the lower end)."""
    common = ["0", "-0", "1", "-1", "1e-5", "0.5", "2"]
    if isinstance(t, Number):
        return NON_FINITE + outside(t) + common + [inside(t)]
    if isinstance(t, Length):
        return refused_values(t) + ["2", "1e-5s", "0.1s", "2s"]
    if isinstance(t, Size):
        return refused_values(t) + ["16x16", "18x16"]
    if isinstance(t, Numbers):
        good = inside(t.item)
        return refused_values(t) + [",".join([good] * (t.count or 2)),
                                    ",".join(["1"] * (t.count or 1))]
    raise AssertionError(f"no values for {t!r}")


# -- every option uses the shared types --------------------------------------------------------------
def test_no_number_option_bypasses_the_shared_types():
    """A plain ``type=float``/``int`` (or click's ranges) would let nan and inf through again."""
    plain = [(name, p.name) for name, cmd in main.commands.items() for p in cmd.params
             if isinstance(p.type, (click.types.FloatParamType, click.types.IntParamType))]
    assert plain == []
    names = {(c, long_name(o)) for c, o in OPTIONS}
    for expected in [("motion", "--start"), ("motion", "--duration"), ("motion", "--delay-s"),
                     ("motion", "--delays"), ("loop", "--min-length"), ("composite", "--shift-bg"),
                     ("inpaint", "--keyframes"), ("inpaint", "--redo"), ("batch", "--jobs"),
                     ("demo", "--size"), ("matte", "--start"), ("plate", "--duration")]:
        assert expected in names


@pytest.mark.parametrize("command,option", OPTIONS, ids=[f"{c}{long_name(o)}" for c, o in OPTIONS])
def test_extreme_values_are_one_line_before_any_work(command, option, tmp_path):
    """Refused while the options are parsed: the input need not even exist, nothing is written."""
    name = long_name(option)
    for value in refused_values(option.type):
        out = tmp_path / "out.mp4"
        argv = ["batch", name, value, "motion", "in.mp4", "-o", tmp_path] if command == "batch" else \
            [command, "in.mp4", out, name, value] if command != "demo" else [command, out, name, value]
        code, err = invoke(argv)
        lines = err.splitlines()
        assert code != 0 and len(lines) == 1, (argv, err)
        assert lines[0].startswith(f"ffvfx: error: {name}: must be "), (argv, err)
        assert list(tmp_path.iterdir()) == [], argv


def test_the_message_names_the_option_and_its_range(tmp_path):
    code, err = invoke(["motion", "in.mp4", tmp_path / "o.mp4", "--duration", "inf"])
    assert code == 1  # a user error like any other (README)
    assert err == "ffvfx: error: --duration: must be a finite number of seconds > 0 and <= 1000000 " \
                  "(got inf)\n"
    code, err = invoke(["trails", "in.mp4", tmp_path / "o.mp4", "-j", "0"])
    assert err == "ffvfx: error: --jobs: must be a whole number 1..256 (got 0)\n"


@pytest.mark.parametrize("argv", [
    ["motion", "-j", "3", "--duration", "0"],
    ["motion", "--duration", "0"],
    ["composite", "--duration", "0"],
    ["matte", "--duration", "0"],
    ["plate", "--duration", "0"],
    ["motion", "--start", "-1"],
])
def test_duration_0_and_negative_start_are_refused(clip, tmp_path, argv):
    """``--duration 0`` used to render the whole clip."""
    command, *options = argv
    out = tmp_path / ("o.png" if command == "plate" else "o.mp4")
    code, err = invoke(base_argv(command, clip, tmp_path)[0] + options)
    assert code != 0 and err.startswith("ffvfx: error: --") and err.count("\n") == 1, err
    assert not out.exists() and list(tmp_path.iterdir()) == []


# -- types ----------------------------------------------------------------------------------------
def test_number_type():
    t = Number(float, 0, 1, min_open=True)
    assert t.check("1") == 1.0 and t.check(" 0.5 ") == 0.5 and t.check(1e-300) == 1e-300
    for bad in ("0", "1.0001", "nan", "-inf", True, None, "1_000x"):
        with pytest.raises(ValueError, match=r"must be a finite number > 0 and <= 1 \(got "):
            t.check(bad)
    i = Number(int, 1, 1000, unit="frames")
    assert i.check("+8") == 8 and isinstance(i.check(8.0), int)
    for bad in ("8.5", "1e3", "0", "1001", "9" * 5000):
        with pytest.raises(ValueError, match=r"whole number of frames 1\.\.1000"):
            i.check(bad)


def test_length_type():
    t = Length()
    assert t.convert("2s", None, None).frames(30) == 60
    assert t.convert("1.5S", None, None).frames(25) == 38
    assert t.convert("45", None, None).frames(30) == 45
    assert str(t.convert("0.00001s", None, None)) == "0.00001s"
    with pytest.raises(click.BadParameter, match="seconds like 2s"):
        t.convert("infs", None, None)


def test_numbers_and_size_types():
    t = Numbers(Number(int, -5, 5), 2, example="1,-2")
    assert t.convert("3,-4", None, None) == (3, -4)
    for bad in ("3", "3,4,5", "3;4", "3,6", "nan,1"):
        with pytest.raises(click.BadParameter, match="2 comma-separated numbers"):
            t.convert(bad, None, None)
    assert Size().convert("1280X720", None, None) == "1280x720"
    with pytest.raises(click.BadParameter, match="WIDTHxHEIGHT"):
        Size().convert("99999x2", None, None)


# -- the formatter --------------------------------------------------------------------------------
def test_decimal_and_seconds_never_write_an_exponent():
    assert seconds(1e-5) == "0.00001" and seconds(0.5) == "0.5" and seconds(3) == "3"
    assert seconds(1e6) == "1000000" and seconds(1 / 3) == "0.333333" and seconds(1e-7) == "0"
    assert decimal(1e-5) == "0.00001" and decimal(1.5e20) == "150000000000000000000"
    assert decimal(-2.5) == "-2.5" and decimal(-0.0) == "0" and decimal(1 / 3) == "0.3333333333"
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError):
            seconds(bad)
        with pytest.raises(ValueError):
            decimal(bad)


@given(st.floats(min_value=0, max_value=1e6))
def test_seconds_is_fixed_point_to_the_microsecond(t):
    text = seconds(t)
    assert re.fullmatch(r"\d+(\.\d{1,6})?", text), text
    assert abs(Decimal(text) - Decimal(t)) <= Decimal("0.0000005")


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e30, max_value=1e30))
def test_decimal_is_fixed_point_and_keeps_ten_digits(x):
    text = decimal(x)
    assert re.fullmatch(r"-?\d+(\.\d+)?", text), text
    assert math.isclose(float(text), x, rel_tol=1e-9, abs_tol=0)


def test_graph_options_are_never_in_exponent_form():
    inp = Input()
    out = inp.video.filter("lutrgb", r="val").filter("eq", brightness=1e-5, contrast=np.float32(2e-7),
                                                     gamma=1e12)
    line = Graph(out, [inp]).line()
    assert "brightness=0.00001" in line and "contrast=0.0000002" in line and "gamma=1000000000000" in line
    assert not re.search(r"\de[-+]?\d", line)


def test_ffmpeg_parses_what_we_write(tc, tmp_path):
    """Both builds take our times (-ss/-t, a filter's duration) and our numbers (filter options,
    expressions) where the ``:g`` forms (``1e-05``) were refused."""
    def run(*args):
        return subprocess.run([tc.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", *args],
                              capture_output=True, text=True)
    res = run("-ss", "1e-05", "-f", "lavfi", "-i", "color=s=16x16:r=10:d=1", "-f", "null", "-")
    assert res.returncode != 0 and "Invalid duration" in res.stderr  # the bug's cause, on this build
    vf = f"trim=start={seconds(1e-5)}:duration={seconds(0.5)},eq=brightness={decimal(1e-5)}," \
         f"lutrgb=r=val*{decimal(1e-7)},setpts=PTS*{decimal(1.5e10)}/{decimal(1.5e10)}"
    res = run("-ss", seconds(1e-5), "-t", seconds(0.55), "-f", "lavfi", "-i", "color=s=16x16:r=10:d=1",
              "-vf", vf, "-f", "null", "-")
    assert res.returncode == 0, res.stderr


# -- renders: the tiny clip, --start 1e-5, and the property test -----------------------------------
@pytest.fixture(scope="module")
def clip(media, scenes, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("numbers")
    media.write(d / "alpha.mkv", np.repeat((scenes.blobs(N, W, H)[..., :1] > 128) * 255, 3, axis=-1),
                fps=FPS, pix_fmt="gray")
    return media.write(d / "clip.mp4", scenes.blobs(N, W, H), fps=FPS, vcodec="libx264", pix_fmt="yuv420p")


def base_argv(command: str, clip: Path, work: Path) -> tuple[list[str], Path]:
    """(argv before the option under test, what it writes) for ``command`` on ``clip`` into ``work``.
    Commands that would load a diffusion model run without --prompt: they stop at its check."""
    alpha = clip.with_name("alpha.mkv")
    out = work / "out.mp4"
    bases = {
        "motion": [clip, out, "-q"],
        "trails": [clip, out, "-q", "--no-compensate"],
        "composite": [clip, alpha, out, "--bg", "black", "-q"],
        "studio": [clip, alpha, out, "-q"],
        "inpaint": [clip, alpha, out, "-q"],
        "generate": [clip, alpha, work / "out.png", "-q"],
        "plate": [clip, alpha, work / "out.png", "-q"],
        "matte": [clip, "-o", work / "out", "--model", "chroma", "-q"],
        "loop": [clip, "-o", work / "out", "-q"],
        "demo": [out, "--size", "16x16", "--fps", "2", "--seconds", "1"],
        "batch": ["-q", "motion", clip, "-o", work],
    }
    assert command in bases, f"add a base command line for `ffvfx {command}` to this test"
    written = {"generate": work / "out.png", "plate": work / "out.png", "matte": work / "out",
               "loop": work / "out", "batch": work / clip.name}.get(command, out)
    return [command, *bases[command]], written


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_start_1e_5_renders_the_frames_after_it(media, clip, tmp_path, jobs):
    """``--start 1e-5``: ffmpeg is told ``-ss 0.00001`` (it refused ``1e-05``), so the render starts
    at the first frame at or after 10 us (frame 1), like a --start anywhere before frame 1."""
    lossless = ["--qp", "0", "--no-audio", "-q", "--delay", "2"]
    code, err = invoke(["motion", clip, tmp_path / "tiny.mp4", "--start", "1e-5", "-j", jobs, *lossless])
    assert code == 0, err
    code, err = invoke(["motion", clip, tmp_path / "ref.mp4", "--start", "0.02", *lossless])
    assert code == 0, err
    got, ref = media.decode(tmp_path / "tiny.mp4"), media.decode(tmp_path / "ref.mp4")
    assert len(got) == N - 1 and np.array_equal(got, ref)


@pytest.mark.parametrize("command", ["trails", "plate", "tmedian", "matte"])
def test_start_1e_5_decodes_in_the_analyses(clip, cache, tmp_path, command):
    """Camera motion (trails), plates and mattes decode the range themselves; they passed ``1e-05``
    to ffmpeg and failed with "Invalid duration specification"."""
    alpha = clip.with_name("alpha.mkv")
    argv, written = {
        "trails": (["trails", clip, tmp_path / "t.mp4"], tmp_path / "t.mp4"),
        "plate": (["plate", clip, alpha, tmp_path / "p.png"], tmp_path / "p.png"),
        "tmedian": (["plate", clip, tmp_path / "p.png", "--method", "tmedian"], tmp_path / "p.png"),
        "matte": (["matte", clip, "-o", tmp_path / "m", "--model", "chroma"], tmp_path / "m" / "matte.json"),
    }[command]
    code, err = invoke([*argv, "--start", "1e-5", "-q"])
    assert code == 0 and written.exists(), err


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FFVFX_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


RUNNABLE = [(c, o) for c, o in OPTIONS]


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_extreme_values_never_give_a_traceback_nor_a_partial_output(clip, cache, tmp_path_factory, data):
    command, option = data.draw(st.sampled_from(RUNNABLE), label="option")
    value = data.draw(st.sampled_from(extreme_values(option.type)), label="value")
    work = tmp_path_factory.mktemp("run")
    argv, written = base_argv(command, clip, work)
    name = long_name(option)
    if command == "batch":  # batch's own options come before its COMMAND
        argv = [argv[0], name, value, *argv[1:]]
    else:
        argv = [*argv, name, value]
    code, err = invoke(argv)
    assert "Traceback" not in err
    leftovers = [p.name for p in work.iterdir() if p.name.startswith(".")]
    assert leftovers == [], (argv, leftovers)
    if code != 0:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("ffvfx: error: "), (argv, err)
        assert not written.exists(), argv
