"""Timing beyond the matrix: printed graphs exact at any rate, a header that disagrees with its
packets, variable rate stated correctly, ``--start/--duration`` frame-exact with and without
``--jobs``, and side files made for a range used for that range (issue 15, items 2, 3, 5, 6)."""

from __future__ import annotations

import re
import subprocess
from fractions import Fraction

import numpy as np
import pytest
from test_conformance import DELAY, LAYERS, SPACING, coded_frames, oracle, write_clip

from ffvfx import cli
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.probe import probe


@pytest.fixture
def ffmpeg_run(media):
    def run(*args, input=None):
        res = subprocess.run([media.ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
                              *map(str, args)], input=input, capture_output=True, timeout=120)
        assert res.returncode == 0, res.stderr.decode(errors="replace")[-2000:]
        return res
    return run


def ffvfx(args, capsys) -> str:
    code = cli.run_cli([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 0, err
    return err


@pytest.mark.parametrize("rate", ["7", "18", "119/4", "90", "120000/1001"])
@pytest.mark.parametrize("effect", ["motion", "trails"])
def test_printed_graph_is_exact_at_any_rate(effect, rate, tmp_path, media, ffmpeg_run, capsys):
    """``ffvfx motion --print`` (no input to look at) pasted into ffmpeg: every frame once, the
    delay exact, at rates where a fixed 1/120000 grid used to multiply frames."""
    rate = Fraction(rate)
    clip = write_clip(ffmpeg_run, tmp_path / "in.mkv", coded_frames(24, 48, 32), rate, False, False)
    args = ["--delay", DELAY] if effect == "motion" else [
        "--layers", LAYERS, "--spacing", SPACING, "--decay", 0.7]
    code = cli.run_cli([effect, *map(str, args), "--print"])
    graph = capsys.readouterr().out.strip()
    assert code == 0 and graph
    out = tmp_path / "out.mkv"
    ffmpeg_run("-i", clip, "-filter_complex", graph, "-c:v", "ffv1", out)
    got = media.decode(out).astype(np.float64)
    src = media.decode(clip)
    assert len(got) == len(src)
    steps = np.diff(media.frame_times(out))
    assert np.ptp(steps) <= 0.0022 and abs(np.median(steps) - 1 / float(rate)) <= 0.0011
    name = "motion-gray" if effect == "motion" else "trails"
    good = media.psnr(got, oracle(name, src))
    assert good >= 34
    for off in (-1, 1):
        assert media.psnr(got, oracle(name, src, d=DELAY + off, spacing=SPACING + off)) < good - 6


def test_a_header_that_disagrees_with_its_packets_is_not_variable_rate(tmp_path, media, ffmpeg_run,
                                                                      capsys):
    """A 25 fps clip whose last frame lasts twice as long: its header's average says 24.749 fps
    (the old rule called it variable); its packets sit on the 25 fps grid."""
    plain = media.write(tmp_path / "plain.mp4", coded_frames(100, 48, 32), fps=25, vcodec="libx264",
                        pix_fmt="yuv420p", args=["-video_track_timescale", "16000"])
    clip = tmp_path / "long-last.mp4"
    ffmpeg_run("-i", plain, "-c", "copy", "-bsf:v", "setts=duration='if(eq(N,99),1290,DURATION)'", clip)
    info = probe(str(clip), toolchain.find())
    assert info.fps == 25 and info.frames == 100 and not info.variable_rate
    err = ffvfx(["motion", clip, tmp_path / "out.mp4"], capsys)
    assert "variable" not in err and "24.7" not in err
    assert len(media.decode(tmp_path / "out.mp4")) == 100


def test_variable_rate_is_retimed_to_the_rate_it_states(tmp_path, media, ffmpeg_run, capsys):
    """A 29.75 fps phone-like clip with jittered frame times and audio: the note names the rate it
    writes (frames - 1 over the span), every frame is kept, audio and video end together."""
    n, rate = 120, Fraction(119, 4)
    clip = write_clip(ffmpeg_run, tmp_path / "vfr.mp4", coded_frames(n, 48, 32), rate, True, True)
    times = media.frame_times(clip)
    stated = (n - 1) / (times[-1] - times[0])
    err = ffvfx(["motion", clip, tmp_path / "out.mp4"], capsys)
    said = re.search(r"re-timed to a constant ([\d.]+) fps", err)
    assert said and abs(float(said.group(1)) - stated) < 0.001, err
    out_times = media.frame_times(tmp_path / "out.mp4")
    assert len(out_times) == n
    written = 1 / np.median(np.diff(out_times))
    assert abs(written - stated) < 0.01
    video = n / written
    assert abs(video - media.audio_duration(tmp_path / "out.mp4")) <= 1 / written + 0.025


@pytest.mark.parametrize("rate,ext", [("119/4", "mp4"), ("30", "mkv"), ("18", "mov")])
@pytest.mark.parametrize("effect", ["motion", "trails"])
def test_jobs_with_a_range_equal_one_pass(effect, rate, ext, tmp_path, media, ffmpeg_run, capsys):
    """``--start 0.5 --duration 3 -j 3`` has exactly the frames of one pass (it had one more)."""
    rate = Fraction(rate)
    clip = write_clip(ffmpeg_run, tmp_path / f"in.{ext}", coded_frames(int(5 * rate), 48, 32), rate,
                      False, True)
    args = [effect, clip, "--start", "0.5", "--duration", "3", "--encoder", "ffv1", "-q"]
    args += ["--layers", LAYERS, "--spacing", SPACING] if effect == "trails" else ["--delay", DELAY]
    one, three = tmp_path / "one.mkv", tmp_path / "three.mkv"
    ffvfx([*args[:2], one, *args[2:]], capsys)
    ffvfx([*args[:2], three, *args[2:], "-j", "3"], capsys)
    a, b = media.decode(one), media.decode(three)
    first = int(np.ceil(0.5 * rate - 1e-6))
    end = int(np.ceil(3.5 * rate - 1e-6))
    assert len(a) == len(b) == end - first
    assert np.array_equal(a, b)
    src = media.decode(clip)[first:end].astype(np.float64)
    if effect == "motion":  # frame 0 of the range compares with itself: nothing before the range
        assert media.psnr(a.astype(np.float64), oracle("motion-gray", src)) >= 34


def test_side_files_made_for_a_range_work_for_that_range(tmp_path, media, ffmpeg_run, capsys):
    """``matte --start/--duration`` writes an alpha for the range; composite and plate take it
    with the same range and pair frame for frame; a file of neither length is refused naming
    both counts."""
    rate = Fraction(25)
    n = 100
    frames = np.zeros((n, 32, 48, 3), np.uint8)
    frames[..., 1] = 200
    xs = [2 + (3 * k) % 30 for k in range(n)]
    for k, x in enumerate(xs):
        frames[k, 8:22, x:x + 14] = 180
    clip = write_clip(ffmpeg_run, tmp_path / "in.mp4", frames, rate, False, True)
    ffvfx(["matte", clip, "-o", tmp_path / "m", "--model", "chroma", "--start", "1", "--duration", "2",
           "-q"], capsys)
    alpha = tmp_path / "m" / "alpha.mkv"
    assert len(media.decode(alpha)) == 50
    out = tmp_path / "comp.mkv"
    ffvfx(["composite", clip, alpha, out, "--bg", "black", "--start", "1", "--duration", "2",
           "--encoder", "ffv1", "-q"], capsys)
    got = media.decode(out)
    assert len(got) == 50
    for k in range(50):  # the square of input frame 25 + k, cut out by its own alpha
        x = xs[25 + k]
        assert got[k, 15, x + 7, 0] > 150 and got[k, 15, x + 7, 1] < 200
        assert got[k, 15, (x + 30) % 46].max() < 40
    ffvfx(["plate", clip, alpha, tmp_path / "p.png", "--start", "1", "--duration", "2", "-q"], capsys)
    code = cli.run_cli(["composite", str(clip), str(alpha), str(tmp_path / "c2.mp4"), "--bg", "black",
                        "--duration", "3"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "has 50 frames, the input has 100 and the --start/--duration range 75" in err
