"""``ffvfx trails`` end to end on the demo scene with a known pan: compensation, mask, alpha, errors.

Background pixels (away from the subject's path over the trail window and from the frame edges,
which a pan reveals) must equal the input with compensation and must not without it; with
``--mask`` everything outside the subject's path equals the input.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from ffvfx.stages import demo

SPEC = demo.DemoSpec(width=320, height=180, seconds=2.0, pan=(1.5, 0.5), seed=5)
LAYERS, SPACING = 3, 4
EDGE = 24


@pytest.fixture(scope="module")
def scene(tmp_path_factory, ffmpeg, media):
    d = tmp_path_factory.mktemp("trailscli")
    clip = d / "pan.mp4"
    demo.write_demo(clip, SPEC, ffmpeg)
    frames = media.decode(clip)
    alpha = media.decode(clip.with_name("pan.alpha.mkv"))[..., 0]
    return clip, frames, alpha


def _path_mask(alpha: np.ndarray) -> np.ndarray:
    """True where neither the subject nor its echoes nor the revealed edges can be."""
    n = len(alpha)
    keep = np.ones(alpha.shape, bool)
    kernel = np.ones((2 * 6 + 1, 2 * 6 + 1), np.uint8)
    for i in range(n):
        seen = np.max([alpha[max(i - k * SPACING, 0)] for k in range(LAYERS + 1)], axis=0)
        keep[i] = cv2.dilate((seen > 0).astype(np.uint8), kernel) == 0
    keep[:, :EDGE] = keep[:, -EDGE:] = False
    keep[:, :, :EDGE] = keep[:, :, -EDGE:] = False
    return keep


def _render(ffvfx_cmd, clip: Path, out: Path, *args: str, cache: Path) -> None:
    res = ffvfx_cmd("trails", clip, out, "--layers", str(LAYERS), "--spacing", str(SPACING), "-q",
                    *args, env={"FFVFX_CACHE": str(cache)})
    assert res.returncode == 0, res.stderr


def test_compensation_keeps_the_background(ffvfx_cmd, scene, media, tmp_path):
    clip, frames, alpha = scene
    keep = _path_mask(alpha)
    _render(ffvfx_cmd, clip, tmp_path / "on.mp4", cache=tmp_path / "c")
    _render(ffvfx_cmd, clip, tmp_path / "off.mp4", "--no-compensate", cache=tmp_path / "c")
    on, off = media.decode(tmp_path / "on.mp4"), media.decode(tmp_path / "off.mp4")
    assert on.shape == off.shape == frames.shape
    good, bad = media.psnr(on[keep], frames[keep]), media.psnr(off[keep], frames[keep])
    assert good >= 35, f"compensated background {good:.1f} dB"
    assert bad < 30, f"uncompensated background {bad:.1f} dB"
    # The subject does trail: where its echo was (and it is not now) the picture differs.
    i = 40
    echo_only = (alpha[i - SPACING] > 200) & (alpha[i] == 0)
    assert np.abs(on[i][echo_only].astype(int) - frames[i][echo_only]).mean() > 5


def test_camera_path_side_file_is_reused(ffvfx_cmd, scene, tmp_path):
    clip, _, _ = scene
    cache = tmp_path / "c"
    _render(ffvfx_cmd, clip, tmp_path / "a.mp4", cache=cache)
    (side,) = (cache / "camera").glob("*.json")
    before = side.stat().st_mtime_ns
    _render(ffvfx_cmd, clip, tmp_path / "b.mp4", cache=cache)
    assert side.stat().st_mtime_ns == before


def test_mask_leaves_everything_outside_the_subject_path(ffvfx_cmd, scene, media, tmp_path):
    clip, frames, alpha = scene
    _render(ffvfx_cmd, clip, tmp_path / "m.mp4", "--mask", cache=tmp_path / "c")
    out = media.decode(tmp_path / "m.mp4")
    keep = _path_mask(alpha)
    assert out.shape == frames.shape
    assert media.psnr(out[keep], frames[keep]) >= 40


def test_front_with_alpha_and_bad_alpha(ffvfx_cmd, scene, media, tmp_path, ffmpeg):
    clip, frames, _ = scene
    matte = clip.with_name("pan.alpha.mkv")
    out = tmp_path / "front.mp4"
    _render(ffvfx_cmd, clip, out, "--ghost", "front", "--alpha", str(matte), cache=tmp_path / "c")
    assert media.decode(out).shape == frames.shape
    small = tmp_path / "small.mkv"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(matte), "-vf", "scale=160:90", "-c:v", "ffv1",
                    str(small)], check=True)
    short = tmp_path / "short.mkv"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(matte), "-frames:v", "10", "-c:v", "ffv1",
                    str(short)], check=True)
    for bad, word in ((small, "160x90"), (short, "10 frames")):
        target = tmp_path / f"bad-{bad.stem}.mp4"
        res = ffvfx_cmd("trails", clip, target, "--ghost", "behind", "--alpha", bad, "-q")
        lines = res.stderr.splitlines()
        assert res.returncode != 0 and len(lines) == 1 and word in lines[0], res.stderr
        assert not target.exists()


@pytest.mark.parametrize("args,word", [
    (["--spacing", "0"], "spacing"),
    (["--decay", "0"], "decay"),
    (["--decay", "1.5"], "decay"),
    (["--layers", "0"], "layers"),
    (["--ghost", "behind"], "--alpha"),
    (["--mask", "--focus-block", "4"], "focus"),
])
def test_bad_parameters_are_one_line_and_write_nothing(ffvfx_cmd, scene, tmp_path, args, word):
    clip, _, _ = scene
    work = tmp_path / "w"
    work.mkdir()
    shutil.copy(clip, work / "in.mp4")
    res = ffvfx_cmd("trails", "in.mp4", "out.mp4", *args, cwd=work, env={"FFVFX_CACHE": str(tmp_path)})
    lines = res.stderr.splitlines()
    assert res.returncode != 0 and len(lines) == 1, res.stderr
    assert lines[0].startswith("ffvfx: error: ") and word in lines[0], lines[0]
    assert sorted(p.name for p in work.iterdir()) == ["in.mp4"]


def test_printed_graph_with_mask_runs_as_single_input(ffvfx_cmd, scene, media, tmp_path, ffmpeg):
    """--print with an input shows the graph with its side files as movie= sources: it runs as
    ``ffmpeg -i IN -vf LINE`` (the form ffplay needs) and gives the rendered picture."""
    clip, frames, _ = scene
    res = ffvfx_cmd("trails", clip, "--mask", "--print", env={"FFVFX_CACHE": str(tmp_path)})
    assert res.returncode == 0, res.stderr
    line = res.stdout.strip()
    assert "movie=" in line and "\n" not in line
    got = media.decode(clip, vf=line)
    assert got.shape == frames.shape
