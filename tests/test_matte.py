"""Matting stage (issue 5): runner, chroma and difference mattes, clean-up graph, blobs, the CLI.

Ground truth is the demo scene's exact subject alpha; every alpha is decoded back losslessly.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from ffvfx.effects.refine import Refine
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.probe import probe
from ffvfx.ffmpeg.rawvideo import frames
from ffvfx.stages.demo import DemoSpec, background_plate, render_frames
from ffvfx.stages.matting import model as models
from ffvfx.stages.matting.blobs import remove_blobs
from ffvfx.stages.matting.model import Matter, ModelOptions
from ffvfx.stages.matting.stream import write_matte

SPEC = DemoSpec(width=480, height=270, fps=30, seconds=1.0, pan=(0.0, 0.0), period=30, seed=4)
SCREEN = np.array([44, 177, 72], np.float32)
"""A lit green screen's colour (not pure 0x00FF00: --key auto must find it)."""


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a >= 128, b >= 128
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.fixture(scope="module")
def scene(tmp_path_factory, media):
    """The static demo (textured set) and the same subject over a green screen, with the truth."""
    root = tmp_path_factory.mktemp("matte")
    rgb, alpha = zip(*render_frames(SPEC), strict=True)
    rgb, alpha = np.stack(rgb), np.stack(alpha)
    a = alpha[..., None].astype(np.float32) / 255.0
    subject_only = np.where(alpha[..., None] > 0, rgb, 0).astype(np.float32)
    # rgb = a*subject + (1-a)*plate, so the subject colour is (rgb - (1-a)*plate) / a where a > 0
    plate = background_plate(SPEC, 0).astype(np.float32)
    subject = np.where(a > 0, (rgb - (1 - a) * plate) / np.maximum(a, 1e-6), subject_only)
    green = np.clip(np.rint(a * subject + (1 - a) * SCREEN), 0, 255).astype(np.uint8)
    scene = {
        "set": media.write(root / "set.mp4", rgb, SPEC.fps, vcodec="libx264", pix_fmt="yuv420p",
                           args=["-crf", "12"]),
        "green": media.write(root / "green.mp4", green, SPEC.fps, vcodec="libx264",
                             pix_fmt="yuv420p", args=["-crf", "12"]),
        "plate": root / "plate.png", "alpha": alpha, "root": root,
    }
    cv2.imwrite(str(scene["plate"]), cv2.cvtColor(background_plate(SPEC, 0), cv2.COLOR_RGB2BGR))
    return scene


def read_alpha(tools, path: Path) -> np.ndarray:
    return np.stack(list(frames(str(path), tools, (SPEC.width, SPEC.height), "gray")))


@pytest.mark.parametrize("name", ["chroma", "difference"])
def test_model_free_mattes_match_the_truth(name, scene, tools, tmp_path):
    clip = scene["green" if name == "chroma" else "set"]
    info = probe(str(clip), tools)
    matter = models.build(name, ModelOptions(plate=str(scene["plate"])), info)
    done = write_matte(str(clip), tools, matter, tmp_path / "alpha.mkv", info=info)
    got = read_alpha(tools, done.alpha)
    assert got.shape == scene["alpha"].shape and done.frames == SPEC.frames
    worst = min(iou(g, t) for g, t in zip(got, scene["alpha"], strict=True))
    assert worst >= 0.95, f"{name}: worst frame IoU {worst:.3f}"
    assert probe(str(done.alpha), tools).pix_fmt == "gray"


def test_chroma_auto_key_finds_the_screen(scene, tools):
    matter = models.build("chroma", ModelOptions(), probe(str(scene["green"]), tools))
    r, g, b = (int(matter.key[i:i + 2], 16) for i in (2, 4, 6))
    assert np.abs(np.array([r, g, b]) - SCREEN).max() <= 4


class IndexModel(Matter):
    """Test double: alpha = the frame's mean brightness / 255 and a call counter in its state."""

    name = "index"

    def reset(self) -> None:
        self.seen = 0
        self.calls = 0

    def process(self, batch):
        self.calls += 1
        self.seen += len(batch)
        level = batch.reshape(len(batch), -1).mean(axis=1) / 255.0
        return np.broadcast_to(level[:, None, None], batch.shape[:3]).astype(np.float32), None


@pytest.mark.parametrize("batch", [1, 3, 4, 64])
def test_runner_keeps_order_count_and_size(batch, media, scenes, tools, tmp_path):
    clip = scenes.index_coded(n=23, w=96, h=64)
    src = media.write(tmp_path / "coded.mkv", clip)
    model = IndexModel()
    done = write_matte(str(src), tools, model, tmp_path / "a.mkv", batch=batch, blobs=0)
    got = np.stack(list(frames(str(done.alpha), tools, (96, 64), "gray")))
    expected = np.rint(clip.reshape(23, -1).mean(axis=1)).astype(np.int16)
    assert got.shape == (23, 64, 96) and model.seen == 23
    assert model.calls == -(-23 // batch)
    assert np.abs(got[:, 0, 0].astype(np.int16) - expected).max() <= 1


def test_cleanup_graph_matches_numpy(media, tools, tmp_path):
    """threshold -> erode -> dilate -> centred temporal mean, against the same maths in numpy."""
    rng = np.random.default_rng(1)
    n, h, w = 9, 48, 64
    clip = (rng.random((n, h, w)) * 255).astype(np.uint8)
    src = media.write(tmp_path / "noise.mkv", np.repeat(clip[..., None], 3, axis=-1))
    settings = Refine(threshold=0.5, erode=1, dilate=2, smooth=3)

    class Gray(IndexModel):
        def process(self, batch):
            return batch[..., 1].astype(np.float32) / 255.0, None

    done = write_matte(str(src), tools, Gray(), tmp_path / "a.mkv", blobs=0, cleanup=settings)
    got = np.stack(list(frames(str(done.alpha), tools, (w, h), "gray"))).astype(np.float64)
    hard = np.where(clip >= 128, 255, 0).astype(np.uint8)
    square = np.ones((3, 3), np.uint8)
    shaped = np.stack([cv2.dilate(cv2.erode(f, square, borderType=cv2.BORDER_REPLICATE), square,
                                  iterations=2, borderType=cv2.BORDER_REPLICATE) for f in hard])
    padded = np.concatenate([shaped[:1], shaped, shaped[-1:]]).astype(np.float64)  # ends clamped
    want = np.stack([padded[i:i + 3].mean(axis=0) for i in range(n)])
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 1.0


def test_blobs_keep_the_subject_and_drop_specks():
    alpha = np.zeros((60, 80), np.float32)
    alpha[10:40, 10:40] = 1.0          # the subject: 900 px
    alpha[50:55, 60:70] = 1.0          # 50 px: under 40 % of the subject
    alpha[5:25, 50:75] = 0.9           # 450 px at 0.9 = 405: 45 %, kept
    out = remove_blobs(alpha, 0.4)
    assert out[20, 20] == 1.0 and out[52, 65] == 0.0 and out[10, 60] == pytest.approx(0.9)
    assert np.array_equal(remove_blobs(alpha, 0.0), alpha)


def test_matte_command_writes_folder_and_comparison(scene, ffvfx_cmd, media, tools, tmp_path):
    out = tmp_path / "cmp"
    res = ffvfx_cmd("matte", scene["green"], "-o", out, "--compare", "chroma,difference", "--plate",
                    scene["plate"], "-q")
    assert res.returncode == 0, res.stderr
    log = json.loads((out / "matte.json").read_text())
    assert [m["name"] for m in log["models"]] == ["chroma", "difference"]
    assert all(m["frames"] == SPEC.frames for m in log["models"])
    grid = media.decode(out / "compare.mp4")
    tw, th = 240, 136  # half size, rounded to even
    assert grid.shape == (SPEC.frames, 2 * th, 2 * tw, 3)
    # the chroma tile (top right) shows the matte: compare with the truth, downscaled
    tile = grid[:, :th, tw:, 1].astype(np.float32)
    truth = np.stack([cv2.resize(a, (tw, th), interpolation=cv2.INTER_AREA)
                      for a in scene["alpha"]]).astype(np.float32)
    tile[:, :30, :120] = truth[:, :30, :120]  # the drawtext label
    assert media.psnr(tile, truth) > 22
    before = (out / "alpha-chroma.mkv").read_bytes()
    refused = ffvfx_cmd("matte", scene["green"], "-o", out, "--model", "chroma")  # matte.json exists
    assert refused.returncode == 1 and "matte.json: exists" in refused.stderr
    assert "Traceback" not in refused.stderr and not (out / "alpha.mkv").exists()
    again = ffvfx_cmd("matte", scene["green"], "-o", out, "--model", "chroma", "-y", "-q")
    assert again.returncode == 0 and (out / "alpha.mkv").exists()
    assert (out / "alpha-chroma.mkv").read_bytes() == before


@pytest.mark.parametrize("args, message", [
    (["--model", "nosuch"], "unknown model"),
    (["--model", "difference"], "needs --plate"),
    (["--model", "chroma", "--key", "red;movie=x"], "--key"),
    (["--model", "chroma", "--alpha-codec", "ffv1", "--smooth", "0"], "--smooth"),
])
def test_matte_bad_options_one_line_nothing_written(args, message, scene, ffvfx_cmd, tmp_path):
    out = tmp_path / "bad"
    res = ffvfx_cmd("matte", scene["green"], "-o", out, *args)
    assert res.returncode != 0
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not out.exists()


def test_difference_plate_of_another_size(scene, tools, tmp_path):
    small = tmp_path / "small.png"
    cv2.imwrite(str(small), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(FfvfxError, match="is 10x10, the input is 480x270"):
        models.build("difference", ModelOptions(plate=str(small)), probe(str(scene["set"]), tools))


def test_print_shows_the_cleanup_graph(ffvfx_cmd, media, tmp_path):
    res = ffvfx_cmd("matte", "unused.mp4", "--print", "--threshold", "0.5", "--feather", "2")
    assert res.returncode == 0
    line = res.stdout.strip()
    # the printed graph runs as -vf on a gray clip and gives a hard, then feathered, matte
    src = media.write(tmp_path / "ramp.mkv", np.repeat(np.tile(np.arange(64, dtype=np.uint8) * 4,
                                                                 (8, 32, 1))[..., None], 3, -1))
    media.run("-i", src, "-vf", line, "-c:v", "ffv1", "-pix_fmt", "gray", tmp_path / "p.mkv")
    got = media.decode(tmp_path / "p.mkv")[..., 0]
    assert got[0, 16, 2] == 0 and got[0, 16, 60] == 255 and 0 < got[0, 16, 32] < 255
