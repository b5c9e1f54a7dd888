"""End-to-end tests of the ``ffvfx motion`` command: printed graphs, errors, audio, odd inputs.

The installed ``ffvfx`` script runs in a subprocess wherever the exact stdout/stderr/exit code is
the point; ``run_cli`` runs in-process elsewhere (faster, same code path). Outputs are decoded
with the ffmpeg under test (``FFVFX_FFMPEG`` or the system one) and checked frame by frame.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from ffvfx.cli import run_cli

N, FPS, W, H = 60, 30, 96, 64  # the shared clip: 2 s at 30 fps


def gray_expected(frames: np.ndarray, delay: int = 8) -> np.ndarray:
    """The gray-mode definition 0.5*c + 0.5*(255 - p), p = frame k - delay clamped to 0."""
    f = frames.astype(np.float64)
    return 0.5 * f + 0.5 * (255 - f[np.maximum(np.arange(len(f)) - delay, 0)])


def assert_one_line_error(res: subprocess.CompletedProcess) -> str:
    """A user error: non-zero exit, exactly one line on stderr, no traceback/usage, no stdout."""
    lines = res.stderr.splitlines()
    assert res.returncode != 0, f"exit 0; stderr: {res.stderr!r}"
    assert len(lines) == 1, f"stderr has {len(lines)} lines:\n{res.stderr}"
    assert "Traceback" not in res.stderr and "Usage:" not in res.stderr
    assert lines[0].startswith("ffvfx: error: "), lines[0]
    assert res.stdout == ""
    return lines[0]


def leftovers(directory: Path) -> list[str]:
    """Temporary render files (``.NAME.XXXX.part.EXT``) left in ``directory``."""
    return sorted(p.name for p in directory.glob(".*.part*"))


@pytest.fixture(scope="module")
def clips(media, scenes, tmp_path_factory):
    """Shared inputs in one directory (copy them before writing beside them):

    ``av.mp4`` H.264 + AAC sine, 96x64, 60 frames at 30 fps (2 s); ``plain.mkv`` the same frames
    lossless without audio; ``frames`` the decoded RGB frames of ``av.mp4``.
    """
    d = tmp_path_factory.mktemp("cli")
    frames = scenes.blobs(N, W, H, speed=1.0)
    media.write(d / "av.mp4", frames, fps=FPS, vcodec="libx264", pix_fmt="yuv420p",
                args=["-crf", "12"], audio=True)
    media.write(d / "plain.mkv", frames, fps=FPS)
    return {"dir": d, "av": d / "av.mp4", "plain": d / "plain.mkv", "frames": media.decode(d / "av.mp4")}


# -- printing: the one-liner, the script, the full command ----------------------------------------
PRINT_VARIANTS = [
    ["--delay=8", "--bloom"],
    ["--mode", "black"],
    ["--mode", "matte", "--strength", "3"],
    ["--mode", "glow", "--bloom-sigma", "3"],
    ["--mode", "rgb", "--delays", "1,4,9", "--bloom"],
    ["--freeze", "4", "--mode", "black", "--bloom", "--bloom-sigma", "5"],
]


def _frame_hashes(media, src: Path, option: str, graph: str) -> list[str]:
    """MD5 of every output frame of ``ffmpeg -i SRC OPTION GRAPH`` (framemd5 muxer, no file)."""
    res = media.run("-i", src, option, graph, "-fps_mode", "passthrough", "-f", "framemd5", "-")
    return [ln.split(",")[-1].strip() for ln in res.stdout.decode().splitlines()
            if ln and not ln.startswith("#")]


def _printed(capsys, *options: str) -> str:
    """What ``ffvfx motion OPTIONS`` prints (in-process; the subprocess form is checked below)."""
    assert run_cli(["motion", *options]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    return out.out


@pytest.mark.parametrize("options", PRINT_VARIANTS, ids=lambda o: "".join(o).replace("--", "_"))
def test_printed_line_works_verbatim_in_vf_and_filter_complex(capsys, media, clips, options):
    """``ffvfx motion OPTIONS`` (no input) prints one line that ffmpeg runs as -vf and as
    -filter_complex, with the same pictures, every frame kept."""
    printed = _printed(capsys, *options)
    assert printed.endswith("\n") and printed.count("\n") == 1
    line = printed.rstrip("\n")
    vf = _frame_hashes(media, clips["plain"], "-vf", line)
    fc = _frame_hashes(media, clips["plain"], "-filter_complex", line)
    assert len(vf) == N
    assert vf == fc


def test_print_line_subprocess(ffvfx_cmd, capsys):
    """The installed command prints exactly the in-process text, nothing on stderr."""
    res = ffvfx_cmd("motion", "--delay=8", "--bloom")
    assert res.returncode == 0 and res.stderr == ""
    assert res.stdout == _printed(capsys, "--delay=8", "--bloom")
    assert res.stdout == _printed(capsys, "--delay=8", "--bloom", "--print")
    assert res.stdout == _printed(capsys, "--delay=8", "--bloom", "--print=line")


@pytest.mark.parametrize("options", [["--delay=8", "--bloom"], ["--mode", "rgb", "--bloom"]],
                         ids=["gray-bloom", "rgb-bloom"])
def test_printed_script_works_as_filter_script(capsys, media, tools, clips, tmp_path, options):
    """``--print=script`` is a graph file for ``-filter_complex_script`` (5.x) / ``-/filter_complex``
    (>= 7), giving the same pictures as the one-liner."""
    script = _printed(capsys, *options, "--print=script")
    assert script.count("\n") > 2 and "#" not in script
    path = tmp_path / "graph.txt"
    path.write_text(script)
    line = _printed(capsys, *options).rstrip("\n")
    from_file = _frame_hashes(media, clips["plain"], tools.script_option(), str(path))
    assert len(from_file) == N
    assert from_file == _frame_hashes(media, clips["plain"], "-vf", line)


def test_print_cmd_runs_as_printed(ffvfx_cmd, media, clips, tmp_path):
    """``--print=cmd`` prints (and does not run) a shell command that renders the output."""
    src = shutil.copy(clips["av"], tmp_path / "in put's.mp4")  # quoting matters
    res = ffvfx_cmd("motion", src.name, "out.mp4", "--mode", "black", "--print=cmd", cwd=tmp_path)
    assert res.returncode == 0 and res.stderr == ""
    assert not (tmp_path / "out.mp4").exists()
    argv = shlex.split(res.stdout)
    assert len(res.stdout.strip().splitlines()) == 1
    subprocess.run(argv, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    assert len(media.decode(tmp_path / "out.mp4")) == N


def test_delay_in_seconds_uses_the_input_rate(ffvfx_cmd, clips):
    res = ffvfx_cmd("motion", clips["plain"], "--delay-s", "0.3", "--print")
    assert res.returncode == 0, res.stderr
    assert "tpad=start=9:" in res.stdout  # 0.3 s at 30 fps


# -- bad input: one line, non-zero exit, nothing written, input untouched --------------------------
def _zero_frame_mp4(media, path: Path) -> None:
    """An mp4 with a video track and no frames: fragmented, the (empty) moov written up front.

    Plain mp4/mov/nut/mkv writers produce no track or an unreadable file for 0 frames.
    """
    media.run("-f", "lavfi", "-i", "color=s=64x48:r=30", "-frames:v", "0", "-c:v", "libx264",
              "-movflags", "frag_keyframe+empty_moov", path)


BAD = {
    "missing-input": (["motion", "nothere.mp4", "out.mp4"], "no such file"),
    "text-file": (["motion", "notes.txt", "out.mp4"], "not a video"),
    "text-as-mp4": (["motion", "notes.mp4", "out.mp4"], "not a video"),
    "audio-only": (["motion", "tone.m4a", "out.mp4"], "no video stream"),
    "zero-frames": (["motion", "empty.mp4", "out.mp4"], None),
    "output-is-input": (["motion", "in.mp4", "in.mp4"], "input"),
    "output-is-input-y": (["motion", "in.mp4", "./in.mp4", "-y"], "input"),
    "output-exists": (["motion", "in.mp4", "exists.mp4"], "exists"),
    "unknown-mode": (["motion", "in.mp4", "out.mp4", "--mode", "sepia"], "mode"),
    "delay-0": (["motion", "in.mp4", "out.mp4", "--delay", "0"], "delay"),
    "delays-not-numbers": (["motion", "in.mp4", "out.mp4", "--mode", "rgb", "--delays", "1,x,3"], "delays"),
    "delays-two": (["motion", "in.mp4", "out.mp4", "--mode", "rgb", "--delays", "1,2"], "delays"),
    "strength-0": (["motion", "in.mp4", "out.mp4", "--strength", "0"], "strength"),
    "freeze-negative": (["motion", "in.mp4", "out.mp4", "--freeze", "-1"], "freeze"),
    "freeze-past-end": (["motion", "in.mp4", "out.mp4", "--freeze", "500"], "freeze"),
    "no-output": (["motion", "in.mp4"], "output"),
    "output-dir-missing": (["motion", "in.mp4", "nodir/out.mp4"], "does not exist"),
    "delay-s-without-input": (["motion", "--delay-s", "0.5"], "delay-s"),
    "unknown-encoder": (["motion", "in.mp4", "out.mp4", "--encoder", "nosuchenc"], "nosuchenc"),
}
@pytest.fixture(scope="module")
def bad_inputs(media, clips, tmp_path_factory) -> Path:
    """A directory of inputs for the error cases (copied per test)."""
    d = tmp_path_factory.mktemp("bad")
    (d / "notes.txt").write_text("hello, this is not a video\n" * 20)
    shutil.copy(d / "notes.txt", d / "notes.mp4")
    media.run("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", d / "tone.m4a")
    _zero_frame_mp4(media, d / "empty.mp4")
    shutil.copy(clips["av"], d / "in.mp4")
    (d / "exists.mp4").write_bytes(b"precious")
    return d




@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_and_touches_nothing(ffvfx_cmd, bad_inputs, tmp_path, case):
    argv, hint = BAD[case]
    work = tmp_path / "work"
    shutil.copytree(bad_inputs, work)
    before = {p.name: p.read_bytes() for p in work.iterdir()}
    res = ffvfx_cmd(*argv, cwd=work, timeout=60)
    line = assert_one_line_error(res)
    if hint:
        assert hint in line.lower(), line
    after = {p.name: p.read_bytes() for p in work.iterdir()}
    assert after == before, "files were added, removed or changed"
    assert leftovers(work) == []


def test_zero_frame_video_says_it_has_no_frames(ffvfx_cmd, bad_inputs, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(bad_inputs, work)
    line = assert_one_line_error(ffvfx_cmd("motion", "empty.mp4", "out.mp4", cwd=work))
    assert "no frames" in line or "no video frames" in line, line


def test_unwritable_output_is_one_line(ffvfx_cmd, clips, tmp_path):
    """ffmpeg itself failing (here: an output format it cannot guess) is still one line, no leftovers."""
    src = shutil.copy(clips["av"], tmp_path / "in.mp4")
    res = ffvfx_cmd("motion", src, tmp_path / "out.nosuchext", "-q")
    assert_one_line_error(res)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


# -- audio, time range, overwrite ------------------------------------------------------------------
def test_audio_is_copied(ffvfx_cmd, media, clips, tmp_path):
    out = tmp_path / "out.mp4"
    res = ffvfx_cmd("motion", clips["av"], out, "-q")
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert len(media.decode(out)) == N
    a_in, a_out = media.audio_duration(clips["av"]), media.audio_duration(out)
    assert a_in is not None and abs(a_in - N / FPS) < 0.1
    assert a_out is not None and abs(a_out - a_in) <= 0.1


def test_no_audio_drops_it(media, clips, tmp_path):
    out = tmp_path / "out.mp4"
    assert run_cli(["motion", str(clips["av"]), str(out), "--no-audio", "-q"]) == 0
    assert media.audio_duration(out) is None
    assert len(media.decode(out)) == N


def test_start_and_duration(media, clips, tmp_path):
    """--start 0.5 --duration 1: 30 frames, audio 1 s; the range's first frame is its own past."""
    out = tmp_path / "out.mp4"
    assert run_cli(["motion", str(clips["av"]), str(out), "--start", "0.5", "--duration", "1",
                    "-q"]) == 0
    video = media.decode(out)
    assert len(video) == 30
    assert abs(media.audio_duration(out) - 1.0) <= 0.1
    assert np.abs(video[0].astype(int) - 127).max() <= 3  # p clamps to the first frame of the range
    ref = gray_expected(clips["frames"][15:45])
    assert media.psnr(video, ref) >= 35


def test_overwrite_replaces_existing_output(ffvfx_cmd, media, clips, tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"old junk")
    res = ffvfx_cmd("motion", clips["av"], out, "-y", "--mode", "black")
    assert res.returncode == 0, res.stderr
    assert res.stderr.strip().splitlines() == [f"wrote {out}"]
    assert len(media.decode(out)) == N
    assert leftovers(tmp_path) == []


def test_output_has_ordinary_permissions(clips, tmp_path):
    out = tmp_path / "out.mp4"
    assert run_cli(["motion", str(clips["av"]), str(out), "-q", "--duration", "0.2"]) == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


# -- awkward inputs: odd size, 10-bit, rotation ----------------------------------------------------
@pytest.fixture(scope="module")
def odd_render(media, scenes, ffvfx_cmd, tmp_path_factory):
    """A 97x65 lossless clip (30 frames) rendered by the CLI: (frames, result, stderr)."""
    d = tmp_path_factory.mktemp("odd")
    frames = scenes.blobs(30, 97, 65)
    src = media.write(d / "odd.mkv", frames)  # lossless RGB keeps 97x65
    out = d / "out.mp4"
    res = ffvfx_cmd("motion", src, out)
    assert res.returncode == 0, res.stderr
    return frames, media.decode(out), res.stderr


def test_odd_size_is_padded_to_even(odd_render):
    frames, video, stderr = odd_render
    assert "odd size 97x65: padded to 98x66" in stderr
    assert video.shape == (30, 66, 98, 3)


def test_odd_size_keeps_last_row_and_column(media, odd_render):
    frames, video, _ = odd_render
    ref = gray_expected(frames)
    assert media.psnr(video[:, :65, 96], ref[:, :, 96]) >= 30  # the picture's own last column
    assert media.psnr(video[:, 64, :97], ref[:, 64]) >= 30
    assert media.psnr(video[:, :65, :97], ref) >= 35
    # the padding repeats the last column/row
    assert media.psnr(video[:, :65, 97], video[:, :65, 96]) >= 30
    assert media.psnr(video[:, 65, :97], video[:, 64, :97]) >= 30


def test_odd_size_interior_matches(media, odd_render):
    frames, video, _ = odd_render
    assert media.psnr(video[:, :64, :96], gray_expected(frames)[:, :64, :96]) >= 35


def test_ten_bit_input(ffvfx_cmd, media, scenes, tmp_path):
    frames = scenes.blobs(30, 96, 64)
    src = media.write(tmp_path / "ten.mkv", frames, pix_fmt="yuv420p10le")
    decoded = media.decode(src)
    out = tmp_path / "out.mp4"
    res = ffvfx_cmd("motion", src, out)
    assert res.returncode == 0, res.stderr
    assert "10-bit input (yuv420p10le)" in res.stderr
    video = media.decode(out)
    assert video.shape == (30, 64, 96, 3)
    assert media.psnr(video, gray_expected(decoded)) >= 35


def _imageio_ffmpeg() -> str | None:
    """The static ffmpeg 9.x of the imageio-ffmpeg wheel (it can write ``-display_rotation``)."""
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return None


def test_rotated_input_is_rendered_upright(ffvfx_cmd, media, scenes, tmp_path):
    """A 96x64 clip tagged with a 90 degree display rotation renders as 64x96, frames kept."""
    ff9 = _imageio_ffmpeg()
    if ff9 is None:
        pytest.skip("imageio-ffmpeg binary not available to write -display_rotation")
    plain = media.write(tmp_path / "plain.mp4", scenes.blobs(30, 96, 64), vcodec="libx264",
                        pix_fmt="yuv420p", args=["-crf", "10"])
    rot = tmp_path / "rot.mp4"
    made = subprocess.run([ff9, "-hide_banner", "-loglevel", "error", "-y", "-display_rotation", "90",
                           "-i", plain, "-c", "copy", rot], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"{ff9} cannot write a display rotation: {made.stderr.strip()[-200:]}")
    decoded = media.decode(rot)  # ffmpeg applies the rotation when decoding
    assert decoded.shape == (30, 96, 64, 3)
    out = tmp_path / "out.mp4"
    res = ffvfx_cmd("motion", rot, out, "--mode", "black")
    assert res.returncode == 0, res.stderr
    assert "rotated input" in res.stderr
    video = media.decode(out)
    assert video.shape == (30, 96, 64, 3)
    ref = np.abs(decoded.astype(float) - decoded[np.maximum(np.arange(30) - 8, 0)])
    assert media.psnr(video, ref) >= 35
