"""``ffvfx plate``: the static demo's background rebuilt from its frames and exact alpha."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest

from ffvfx.cli import run_cli
from ffvfx.ffmpeg.rawvideo import frames
from ffvfx.stages import demo
from ffvfx.stages.analysis import plate as plate_analysis
from ffvfx.stages.matting.model import Matter

SPEC = demo.DemoSpec(width=320, height=180, fps=30, seconds=2, pan=(0, 0))
W, H = SPEC.width, SPEC.height
TRUTH = demo.background_plate(SPEC, 0)
SQUARE = (slice(20, 50), slice(240, 280))  # a region the "never uncovered" alpha always covers


@pytest.fixture(scope="module")
def scene(tmp_path_factory, ffmpeg):
    d = tmp_path_factory.mktemp("plate")
    demo.write_demo(d / "demo.mp4", SPEC, ffmpeg)
    alphas = np.stack([a for _, a in demo.render_frames(SPEC)])
    covered = alphas.copy()
    covered[:, SQUARE[0], SQUARE[1]] = 255
    hole = d / "alpha-hole.mkv"
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "gray",
                    "-s", f"{W}x{H}", "-framerate", "30", "-i", "pipe:0", "-c:v", "ffv1", "-pix_fmt",
                    "gray", str(hole)], input=covered.tobytes(), check=True, timeout=60)
    return dict(dir=d, clip=d / "demo.mp4", alpha=d / "demo.alpha.mkv", hole=hole, alphas=alphas)


def read_png(path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1]


def plate_cli(capsys, *args) -> tuple[int, str]:
    code = run_cli(["plate", *map(str, args)])
    return code, capsys.readouterr().err


def test_plate_with_true_alpha_rebuilds_the_background(scene, media, tmp_path, capsys):
    """>= 35 dB against the true plate everywhere (every pixel is uncovered at some point)."""
    out = tmp_path / "plate.png"
    code, err = plate_cli(capsys, scene["clip"], scene["alpha"], out)
    assert code == 0, err
    assert media.psnr(read_png(out), TRUTH) >= 35
    assert "every pixel was seen uncovered" in err


def test_never_uncovered_region_is_inpainted_and_reported(scene, media, tmp_path, capsys):
    """An alpha that always covers a 40x30 square: its share (2.08 %) is said and the square is
    filled from its surroundings; the rest still matches the truth."""
    out = tmp_path / "plate.png"
    code, err = plate_cli(capsys, scene["clip"], scene["hole"], out, "--inpaint", "ns",
                          "--inpaint-radius", "3")
    assert code == 0, err
    share = 30 * 40 / (W * H)
    assert f"{100 * share:.2f}% of the pixels were never uncovered" in err
    got = read_png(out)
    outside = np.ones((H, W), bool)
    outside[SQUARE] = False
    assert media.psnr(got[outside], TRUTH[outside]) >= 35
    assert np.abs(got[SQUARE].astype(int) - TRUTH[SQUARE].astype(int)).mean() < 25
    assert got[SQUARE].std() > 1  # filled with something, not a flat 0


def test_tmedian_plate(scene, media, tmp_path, capsys):
    """ffmpeg's tmedian over 31 sampled frames, no alpha: the subject covers each pixel in
    fewer than half of them, so the median is background (46 dB measured)."""
    out = tmp_path / "plate.png"
    code, err = plate_cli(capsys, scene["clip"], out, "--method", "tmedian")
    assert code == 0, err
    assert media.psnr(read_png(out), TRUTH) >= 35


def test_time_range(scene, media, tmp_path, capsys):
    out = tmp_path / "plate.png"
    code, err = plate_cli(capsys, scene["clip"], scene["alpha"], out, "--start", "0.5", "--duration",
                          "1", "--samples", "12")
    assert code == 0, err
    assert media.psnr(read_png(out), TRUTH) >= 35


class TruthMatter(Matter):
    """A stand-in person model: hands back the demo's true alpha frame by frame."""

    name = "truth"

    def __init__(self, alphas: np.ndarray):
        self.alphas = alphas
        self.at = 0

    def process(self, batch):
        out = self.alphas[self.at:self.at + len(batch)].astype(np.float32) / 255
        self.at += len(batch)
        return out, None


def test_auto_mattes_first_with_the_default_model(scene, media, tmp_path, capsys, monkeypatch):
    """``auto`` builds the default model and mattes the time range into a temporary alpha."""
    import ffvfx.stages.matting.model as model

    built = []

    def build(name, options, info):
        built.append(name)
        return TruthMatter(scene["alphas"][15:])  # --start 0.5 s = frame 15

    monkeypatch.setattr(model, "build", build)
    out = tmp_path / "plate.png"
    code, err = plate_cli(capsys, scene["clip"], "auto", out, "--start", "0.5", "-q")
    assert code == 0, err
    assert built == [model.DEFAULT_MODEL]
    assert media.psnr(read_png(out), TRUTH) >= 35


def test_samples_are_evenly_spread_and_frame_accurate(media, scenes, tools, tmp_path):
    """select keeps exactly the frames sample_indices names (index-coded lossless clip)."""
    clip = media.write(tmp_path / "coded.mkv", scenes.index_coded(40))
    src = scenes.index_coded(40)
    for n in (1, 7, 16, 40, 64):
        want = plate_analysis.sample_indices(40, n)
        assert len(want) == min(n, 40) and want == sorted(set(want)) and want[0] == 0
        got = np.stack(list(frames(str(clip), tools, (96, 64), "rgb24",
                                   plate_analysis.select_filter(40, n))))
        assert np.array_equal(got, src[want])


def test_masked_median_is_the_median_of_background_values():
    rng = np.random.default_rng(3)
    pics = rng.integers(0, 256, (9, 70, 11, 3), dtype=np.uint8)
    alpha = np.where(rng.random((9, 70, 11)) < 0.4, 255, 0).astype(np.uint8)
    alpha[:, 0, 0] = 255  # never seen
    plate, seen = plate_analysis.masked_median(pics, alpha, 26)
    for y, x in [(0, 0), (0, 1), (33, 5), (69, 10), (64, 3)]:
        bg = pics[alpha[:, y, x] < 26, y, x].astype(float)
        assert seen[y, x] == bool(len(bg))
        if len(bg):
            assert np.array_equal(plate[y, x], np.floor(np.median(bg, axis=0) + 0.5))


@pytest.fixture(scope="module")
def bad_alphas(scene, ffmpeg):
    d = scene["dir"]
    made = {"small": ["-vf", "scale=160:90"], "short": ["-frames:v", "30"],
            "rate": ["-vf", "setpts=N/25/TB", "-r", "25"]}
    paths = {"colour": scene["clip"]}
    for name, args in made.items():
        paths[name] = d / f"alpha-{name}.mkv"
        subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(scene["alpha"]),
                        *args, "-c:v", "ffv1", "-pix_fmt", "gray", str(paths[name])], check=True,
                       timeout=60)
    return paths


@pytest.mark.parametrize("case,word", [
    ("small", "160x90"), ("short", "30 frames"), ("rate", "25.000 fps"), ("colour", "gray matte"),
    ("missing input", "no such file"), ("missing alpha", "no such file"), ("not png", ".png"),
    ("exists", "exists"), ("is input", "output is an input"), ("samples", "--samples"),
    ("threshold", "--threshold"), ("tmedian alpha", "takes no alpha"),
])
def test_bad_input_is_one_line_and_writes_nothing(scene, bad_alphas, tmp_path, capsys, case, word):
    clip, alpha, out = scene["clip"], scene["alpha"], tmp_path / "plate.png"
    extra: list[str] = []
    if case in bad_alphas:
        alpha = bad_alphas[case]
    elif case == "missing input":
        clip = tmp_path / "nope.mp4"
    elif case == "missing alpha":
        alpha = tmp_path / "nope.mkv"
    elif case == "not png":
        out = tmp_path / "plate.jpg"
    elif case == "exists":
        out.write_bytes(b"keep")
    elif case == "is input":
        out = alpha = tmp_path / "same.png"
        alpha.write_bytes(b"x")
    elif case == "samples":
        extra = ["--samples", "0"]
    elif case == "threshold":
        extra = ["--threshold", "2"]
    else:
        extra = ["--method", "tmedian"]
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    code, err = plate_cli(capsys, clip, alpha, out, *extra, "-q")
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("ffvfx: error:") \
        and word in lines[0], err
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before
