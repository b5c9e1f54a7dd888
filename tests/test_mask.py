"""Subject mask (issue 3): pixels of the demo scene's known subject, real ffmpeg, lossless decodes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from ffvfx.compiler.graph import Graph, Input
from ffvfx.effects.mask import apply_mask
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.probe import probe
from ffvfx.stages.analysis import mask as maskmod
from ffvfx.stages.analysis.mask import cached_mask, mask_key, write_mask
from ffvfx.stages.demo import DemoSpec, background_plate, camera_path, render_frames, write_demo

STATIC = DemoSpec(width=320, height=180, fps=30, seconds=2.0, pan=(0.0, 0.0), period=60, seed=3)
PAN = DemoSpec(width=320, height=180, fps=30, seconds=2.0, pan=(2.0, 0.5), period=60, seed=3)
SPECS = {"static": STATIC, "pan": PAN}
GT_MARGIN = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
"""The ground truth is dilated by 3 px: the mask is deliberately a little larger than the subject."""


def decode_gray(ffmpeg: str, path: Path, w: int, h: int) -> np.ndarray:
    """Every frame of ``path`` as uint8 gray (N, H, W), frame for frame."""
    argv = [ffmpeg, "-v", "error", "-nostdin", "-i", str(path), "-fps_mode", "passthrough",
            "-f", "rawvideo", "-pix_fmt", "gray", "-"]
    raw = subprocess.run(argv, capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w)


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("maskdemo")
    out = {}
    for name, spec in SPECS.items():
        out[name] = root / f"{name}.mp4"
        write_demo(out[name], spec, ffmpeg)
    return out


@pytest.mark.parametrize("name", ["static", "pan"])
def test_mask_covers_the_moving_subject(name, demos, tools, ffmpeg, tmp_path):
    spec = SPECS[name]
    offsets = camera_path(spec) if name == "pan" else None
    info = write_mask(demos[name], tmp_path / "mask.mkv", tools, offsets=offsets)
    assert info.path == tmp_path / "mask.mkv" and info.path.exists()
    assert info.frames == spec.frames and len(info.coverage) == spec.frames
    assert (info.width, info.height) == (spec.width, spec.height)
    assert not [p for p in tmp_path.iterdir() if p.name != "mask.mkv"], "temporary file left behind"

    mask = decode_gray(ffmpeg, info.path, spec.width, spec.height)
    assert mask.shape[0] == spec.frames
    alpha = np.stack([a for _, a in render_frames(spec)])
    subject = alpha >= 128
    near = np.stack([cv2.dilate(s.astype(np.uint8), GT_MARGIN) > 0 for s in subject])
    hard = mask >= 128

    iou = (hard & near).sum() / (hard | near).sum()
    recall = (hard & subject).sum() / subject.sum()
    false_pos = (mask[~near] > 0).mean()  # any effect at all outside the subject's margin
    per_frame_recall = (hard & subject).sum(axis=(1, 2)) / subject.sum(axis=(1, 2))
    assert iou >= 0.5, f"IoU {iou:.3f}"
    assert recall >= 0.8, f"recall {recall:.3f}"
    assert false_pos <= 0.02, f"false positives {false_pos:.4f}"
    assert (per_frame_recall >= 0.5).mean() >= 0.9, per_frame_recall.round(2)
    # coverage is the mean mask value per frame: about the (dilated) subject's share of the frame
    cov = np.array(info.coverage)
    assert np.allclose(cov, mask.reshape(spec.frames, -1).mean(axis=1) / 255, atol=0.01)
    assert 0.5 * subject.mean() < cov.mean() < 3 * subject.mean()


def test_mask_is_lossless_gray_ffv1(demos, tools, tmp_path):
    info = write_mask(demos["static"], tmp_path / "m.mkv", tools)
    probed = probe(str(info.path), tools)
    assert probed.pix_fmt == "gray"
    banner = subprocess.run([tools.ffmpeg, "-hide_banner", "-i", str(info.path)], capture_output=True,
                            text=True).stderr
    assert "ffv1" in banner
    assert probed.fps == STATIC.fps


def test_compensated_pan_without_subject_gives_an_empty_mask(media, tools, ffmpeg, tmp_path):
    """A textured panning background alone: nothing moves once the camera offsets are applied."""
    spec = DemoSpec(width=320, height=180, fps=30, seconds=1.0, pan=(-3.0, 1.25), seed=5)
    plates = np.stack([background_plate(spec, i) for i in range(spec.frames)])
    clip = media.write(tmp_path / "plate.mp4", plates, fps=30, vcodec="libx264", pix_fmt="yuv420p",
                       args=["-crf", "16"])
    info = write_mask(clip, tmp_path / "m.mkv", tools, offsets=camera_path(spec))
    mask = decode_gray(ffmpeg, info.path, spec.width, spec.height)
    assert mask.shape[0] == spec.frames
    assert max(info.coverage) < 0.005, max(info.coverage)
    # without the offsets the pan itself is motion
    moving = write_mask(clip, tmp_path / "m2.mkv", tools)
    assert np.mean(moving.coverage) > 0.2


def test_time_range_and_short_offsets(demos, tools, tmp_path):
    info = write_mask(demos["static"], tmp_path / "r.mkv", tools, start=0.5, duration=1.0)
    assert info.frames == 30
    with pytest.raises(FfvfxError, match="offsets cover 10 frames"):
        write_mask(demos["pan"], tmp_path / "s.mkv", tools, offsets=camera_path(PAN)[:10])
    assert not list(tmp_path.glob("*s.*")), "no partial mask after a failure"


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv444p"])
def test_apply_mask_keeps_unmasked_pixels(pix_fmt, tools, ffmpeg, tmp_path):
    """negate as the effect: mask 0 -> original exactly, 255 -> negated, 128 -> average."""
    w, h, n = 64, 48, 12
    rng = np.random.default_rng(1)
    frames = rng.integers(20, 236, (n, h, w, 3), np.uint8)
    run = [ffmpeg, "-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-s", f"{w}x{h}", "-framerate", "30"]
    subprocess.run([*run, "-pix_fmt", "rgb24", "-i", "-", "-c:v", "libx264", "-qp", "0", "-pix_fmt", pix_fmt,
                    str(tmp_path / "o.mp4")], input=frames.tobytes(), check=True)
    m = np.zeros((n, h, w), np.uint8)
    m[:, :, 32:] = 255
    m[:, :24, 16:32] = 128
    subprocess.run([*run, "-pix_fmt", "gray", "-i", "-", "-c:v", "ffv1", "-pix_fmt", "gray",
                    str(tmp_path / "m.mkv")], input=m.tobytes(), check=True)

    orig, msk = Input(str(tmp_path / "o.mp4")), Input(str(tmp_path / "m.mkv"))
    out = apply_mask(orig.video, orig.video.filter("negate"), msk.video, pix_fmt=pix_fmt, rate=30)
    graph = Graph(out.filter("format", pix_fmt), [orig, msk], labelled=True)
    tools.require_filters(graph.filter_names())

    def planes(*args: str) -> list[np.ndarray]:
        raw = subprocess.run([ffmpeg, "-v", "error", "-nostdin", *args, "-fps_mode", "passthrough",
                              "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"],
                             capture_output=True, check=True).stdout
        sub = 2 if pix_fmt == "yuv420p" else 1
        sizes = [(h, w), (h // sub, w // sub), (h // sub, w // sub)]
        per = sum(a * b for a, b in sizes)
        data = np.frombuffer(raw, np.uint8).reshape(-1, per)
        out, pos = [], 0
        for a, b in sizes:
            out.append(data[:, pos:pos + a * b].reshape(-1, a, b).astype(int))
            pos += a * b
        return out

    got = planes("-i", str(tmp_path / "o.mp4"), "-i", str(tmp_path / "m.mkv"),
                 "-filter_complex", graph.line(), "-map", "[out]")
    ref = planes("-i", str(tmp_path / "o.mp4"))
    assert got[0].shape[0] == n
    for p, (g, r) in enumerate(zip(got, ref, strict=True)):
        s = 2 if (p and pix_fmt == "yuv420p") else 1
        assert np.array_equal(g[:, :, :16 // s], r[:, :, :16 // s]), f"plane {p}: mask 0 changed pixels"
        assert np.abs(g[:, :, 32 // s:] - (255 - r[:, :, 32 // s:])).max() <= 1, f"plane {p}: mask 255"
        half = g[:, :24 // s, 16 // s:32 // s]
        assert np.abs(half - 127.5).max() <= 1, f"plane {p}: mask 128 is not an even blend"


def test_apply_mask_rejects_packed_formats():
    s = Input("x.mp4").video
    with pytest.raises(FfvfxError, match="pix_fmt"):
        apply_mask(s, s, s, pix_fmt="rgb24")


def test_cached_mask_is_reused(demos, tools, tmp_path, monkeypatch):
    first = cached_mask(demos["static"], tools, cache_dir=tmp_path, smooth=1)
    stamp = first.path.stat().st_mtime_ns

    def fail(*a, **k):
        raise AssertionError("recomputed a cached mask")

    monkeypatch.setattr(maskmod, "write_mask", fail)
    again = cached_mask(demos["static"], tools, cache_dir=tmp_path, smooth=1)
    assert again == first and again.path.stat().st_mtime_ns == stamp
    monkeypatch.undo()

    other = cached_mask(demos["static"], tools, cache_dir=tmp_path, smooth=1, motion_thresh=20)
    assert other.path != first.path and other.path.exists()
    assert mask_key(demos["static"], smooth=1) != mask_key(demos["static"], smooth=1, start=0.5)
    before = mask_key(demos["static"])
    os.utime(demos["static"], ns=(stamp, stamp + 10**9))
    assert mask_key(demos["static"]) != before, "a changed input must not reuse the mask"
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".json", ".mkv", ".mkv"]


@pytest.mark.parametrize("params, words", [
    ({"focus_block": 2}, "--focus-block"),
    ({"focus_block": 30}, "--focus-block"),
    ({"focus_block": 1}, "--focus-block"),
    ({"focus_block": 31.0}, "--focus-block"),
    ({"motion_thresh": -1}, "--motion-thresh"),
    ({"motion_thresh": 256}, "--motion-thresh"),
    ({"motion_thresh": "x"}, "--motion-thresh"),
    ({"smooth": 0}, "smoothing"),
    ({"width": 8}, "width"),
])
def test_bad_parameters_are_one_clear_line(params, words, demos, tools, tmp_path):
    for call in (lambda: write_mask(demos["static"], tmp_path / "m.mkv", tools, **params),
                 lambda: cached_mask(demos["static"], tools, cache_dir=tmp_path, **params)):
        with pytest.raises(FfvfxError, match=words) as err:
            call()
        assert "\n" not in str(err.value)
    assert not list(tmp_path.iterdir())


def test_missing_input(tools, tmp_path):
    with pytest.raises(FfvfxError, match="no such file"):
        write_mask(tmp_path / "nope.mp4", tmp_path / "m.mkv", tools)
