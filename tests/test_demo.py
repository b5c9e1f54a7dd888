"""Tests of the synthetic demo scene: encoded pixels, exact alpha, camera/subject ground truth, caching."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from ffvfx.stages.demo import (
    DEMO_DEFAULT,
    DemoSpec,
    background_plate,
    camera_path,
    demo_path,
    render_frames,
    subject_path,
    write_demo,
)

FFMPEG = "ffmpeg"
SMALL = DemoSpec(width=320, height=180, fps=30, seconds=1.0, pan=(3.0, 1.0), period=10, seed=7)
"""Small spec with an integer pan (pixels/frame) so background shifts compare exactly."""


def decode(path: Path, spec: DemoSpec, pix_fmt: str = "rgb24") -> np.ndarray:
    """Decode every frame of `path` to uint8 (N, H, W[, 3]) through an ffmpeg rawvideo pipe."""
    argv = [FFMPEG, "-v", "error", "-nostdin", "-i", str(path),
            "-sws_flags", "bicubic+accurate_rnd+full_chroma_int", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"]
    raw = subprocess.run(argv, capture_output=True, check=True).stdout
    shape = (spec.height, spec.width, 3) if pix_fmt == "rgb24" else (spec.height, spec.width)
    return np.frombuffer(raw, np.uint8).reshape(-1, *shape)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two uint8 arrays (inf when equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)


def rendered(spec: DemoSpec) -> tuple[np.ndarray, np.ndarray]:
    """All frames of `spec` as stacked (rgb N x H x W x 3, alpha N x H x W) uint8 arrays."""
    rgbs, alphas = zip(*render_frames(spec), strict=True)
    return np.stack(rgbs), np.stack(alphas)


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The SMALL demo written once to disk, and the dict write_demo returned."""
    out = tmp_path_factory.mktemp("demo") / "scene.mp4"
    return out, write_demo(out, SMALL, FFMPEG)


@pytest.fixture(scope="module")
def small_frames() -> tuple[np.ndarray, np.ndarray]:
    return rendered(SMALL)


def test_outputs_and_frame_counts(small_demo: tuple[Path, dict[str, Any]]) -> None:
    out, _ = small_demo
    alpha_file, json_file = out.with_name("scene.alpha.mkv"), out.with_name("scene.truth.json")
    assert sorted(p.name for p in out.parent.iterdir()) == sorted([out.name, alpha_file.name, json_file.name])
    assert len(decode(out, SMALL)) == SMALL.frames == 30
    assert len(decode(alpha_file, SMALL, "gray")) == SMALL.frames


def test_alpha_video_is_lossless(small_demo: tuple[Path, dict[str, Any]], small_frames: tuple) -> None:
    out, _ = small_demo
    _, alpha = small_frames
    np.testing.assert_array_equal(decode(out.with_name("scene.alpha.mkv"), SMALL, "gray"), alpha)
    assert alpha.max() == 255 and alpha.min() == 0
    assert len(np.unique(alpha)) > 10  # anti-aliased edge, not a hard mask


def test_video_matches_render(small_demo: tuple[Path, dict[str, Any]], small_frames: tuple) -> None:
    out, _ = small_demo
    rgb, _ = small_frames
    video = decode(out, SMALL)
    assert min(psnr(v, r) for v, r in zip(video, rgb, strict=True)) >= 35.0


def test_alpha_is_the_compositing_alpha(small_frames: tuple) -> None:
    """rgb = a/255 * subject + (1 - a/255) * plate: same subject over two different plates (seeds)."""
    rgb_a, alpha = small_frames
    other = dataclasses.replace(SMALL, seed=8)
    rgb_b, alpha_b = rendered(other)
    np.testing.assert_array_equal(alpha, alpha_b)  # the subject does not depend on the seed
    for i in (0, 5):
        a = alpha[i].astype(np.float64)[..., None]
        plate_a, plate_b = background_plate(SMALL, i), background_plate(other, i)
        clear = alpha[i] == 0
        assert np.array_equal(rgb_a[i][clear], plate_a[clear])
        assert np.array_equal(rgb_b[i][clear], plate_b[clear])
        opaque = alpha[i] == 255
        assert opaque.sum() > 0.5 * np.pi * SMALL.subject_radius**2
        assert np.array_equal(rgb_a[i][opaque], rgb_b[i][opaque])
        solid = alpha[i] >= 64  # recover the subject from each composite; rounding error <= 0.5 * 255 / a
        subject_a = (255.0 * rgb_a[i] - (255.0 - a) * plate_a) / np.maximum(a, 1)
        subject_b = (255.0 * rgb_b[i] - (255.0 - a) * plate_b) / np.maximum(a, 1)
        assert np.all(np.abs(subject_a - subject_b)[solid] <= (255.0 / np.maximum(a, 1))[solid] + 1e-9)


def background_mask(alpha_a: np.ndarray, alpha_b: np.ndarray, margin: int = 3) -> np.ndarray:
    """Pixels at least `margin` px away from the subject in both frames."""
    touched = ((alpha_a > 0) | (alpha_b > 0)).astype(np.uint8)
    return cv2.dilate(touched, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) == 0


@pytest.mark.parametrize("i", [1, 7, 29])
def test_background_follows_camera(
    small_demo: tuple[Path, dict[str, Any]], small_frames: tuple, i: int
) -> None:
    """frame_i[y, x] == frame_0[y + oy, x + ox] off the subject: exact when rendered, >= 30 dB decoded."""
    out, data = small_demo
    rgb, alpha = small_frames
    ox, oy = (int(v) for v in data["camera_offset"][i])
    assert (ox, oy) == (3 * i, i)
    h, w = SMALL.height - oy, SMALL.width - ox  # overlap of frame i with frame 0, in frame i coordinates
    keep = background_mask(alpha[i][:h, :w], alpha[0][oy:, ox:])
    assert keep.mean() > 0.5
    assert np.array_equal(rgb[i][:h, :w][keep], rgb[0][oy:, ox:][keep])
    video = decode(out, SMALL)
    assert psnr(video[i][:h, :w][keep], video[0][oy:, ox:][keep]) >= 30.0


def test_subpixel_pan_is_exact_on_the_pixel_grid() -> None:
    """Half/quarter-pixel pans land on whole pixels every 4 frames; the bilinear render must agree exactly."""
    spec = DemoSpec(width=160, height=96, seconds=0.2, pan=(0.5, -0.25), period=6, seed=3)
    assert camera_path(spec)[4] == (2.0, -1.0)
    rgb, alpha = rendered(spec)
    keep = background_mask(alpha[4][1:, :-2], alpha[0][:-1, 2:])
    # offset (2, -1): frame4[y, x] == frame0[y - 1, x + 2]
    assert np.array_equal(rgb[4][1:, :-2][keep], rgb[0][:-1, 2:][keep])
    assert psnr(rgb[2][:, :-1], rgb[0][:, 1:]) < 40  # a 1 px, 0.5 px-row shift is not an integer shift


def test_subject_is_periodic(small_demo: tuple[Path, dict[str, Any]], small_frames: tuple) -> None:
    _, data = small_demo
    _, alpha = small_frames
    centres = data["subject_center"]
    for i in range(SMALL.frames - SMALL.period):
        assert centres[i] == centres[i + SMALL.period]
        np.testing.assert_array_equal(alpha[i], alpha[i + SMALL.period])
    assert centres[0] != centres[1]
    for i in (0, 3, 8):  # the alpha's centroid is the recorded centre
        ys, xs = np.nonzero(alpha[i])
        weights = alpha[i][ys, xs].astype(np.float64)
        centroid = (np.average(xs, weights=weights), np.average(ys, weights=weights))
        assert np.allclose(centroid, centres[i], atol=0.05)


def test_static_camera_loops() -> None:
    """With pan (0, 0) the whole frame repeats every `period` frames."""
    spec = DemoSpec(width=160, height=96, seconds=0.5, pan=(0.0, 0.0), period=5, seed=1)
    rgb, _ = rendered(spec)
    np.testing.assert_array_equal(rgb[:-5], rgb[5:])
    assert not np.array_equal(rgb[0], rgb[1])


def test_render_is_deterministic() -> None:
    spec = DemoSpec(width=160, height=96, seconds=0.2, pan=(1.25, 0.5), period=4, seed=11)
    first, again = rendered(spec), rendered(spec)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    other = rendered(dataclasses.replace(spec, seed=12))
    assert not np.array_equal(first[0][0], other[0][0])


def test_values_avoid_clipping(small_frames: tuple) -> None:
    rgb, alpha = small_frames
    bg = rgb[alpha == 0]
    assert bg.min() >= 20 and bg.max() <= 235
    assert float(np.mean((bg < 25) | (bg > 230))) < 0.01
    assert bg.std() > 20  # textured, not flat


def test_truth_json(small_demo: tuple[Path, dict[str, Any]]) -> None:
    out, data = small_demo
    on_disk = json.loads(out.with_name("scene.truth.json").read_text())
    assert on_disk == data
    assert {k: data[k] for k in ("width", "height", "fps", "seconds", "period", "seed")} == {
        "width": 320, "height": 180, "fps": 30, "seconds": 1.0, "period": 10, "seed": 7}
    assert data["pan"] == [3.0, 1.0]
    assert data["frames"] == 30
    assert data["video"] == "scene.mp4" and data["alpha"] == "scene.alpha.mkv"
    assert data["camera_offset"] == [[3.0 * i, 1.0 * i] for i in range(30)]
    assert data["subject_center"] == [list(c) for c in subject_path(SMALL)]
    assert data["subject_radius"] == pytest.approx(15.0)
    fields = {k: (tuple(v) if k == "pan" else v) for k, v in data.items() if k in SMALL.__dataclass_fields__}
    assert DemoSpec(**fields) == SMALL


def test_mkv_container(tmp_path: Path) -> None:
    spec = DemoSpec(width=64, height=36, seconds=0.2, period=3)
    write_demo(tmp_path / "d.mkv", spec, FFMPEG)
    assert len(decode(tmp_path / "d.mkv", spec)) == spec.frames == 6


def test_failure_leaves_nothing(tmp_path: Path) -> None:
    spec = DemoSpec(width=64, height=36, seconds=0.2)
    with pytest.raises(RuntimeError):
        write_demo(tmp_path / "bad.nosuchformat", spec, FFMPEG)
    with pytest.raises(FileNotFoundError):
        write_demo(tmp_path / "d.mp4", spec, str(tmp_path / "no-ffmpeg"))
    assert list(tmp_path.iterdir()) == []


def test_demo_path_caches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FFVFX_CACHE", str(tmp_path / "cache"))
    spec = DemoSpec(width=64, height=36, seconds=0.2, period=3)
    first = demo_path(spec=spec)
    assert first.parent == tmp_path / "cache" and first.suffix == ".mp4"
    assert first.with_name(first.stem + ".alpha.mkv").exists()
    mtime = first.stat().st_mtime_ns
    assert demo_path(spec=spec) == first and first.stat().st_mtime_ns == mtime
    first.with_name(first.stem + ".truth.json").unlink()  # incomplete set: regenerated
    assert demo_path(spec=spec) == first and first.with_name(first.stem + ".truth.json").exists()
    other = demo_path(tmp_path / "cache", spec=DemoSpec(width=64, height=36, seconds=0.2, seed=1))
    assert other != first and other.parent == first.parent
    assert demo_path(tmp_path / "elsewhere", spec=spec).parent == tmp_path / "elsewhere"
    assert DemoSpec() == DEMO_DEFAULT and DEMO_DEFAULT.frames == 120
