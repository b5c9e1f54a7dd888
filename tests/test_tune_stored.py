"""``ffvfx tune studio|inpaint`` and ``--sweep``/``--sheet`` on them (issue 19): the render-time
parameters on the assets a first run stored, with tiny random-weight diffusion models (no
download; assets made once per module on a tiny clip).

- tune refuses, in one line and without loading a model, when the assets for these inputs and
  generation options are not stored yet;
- a change in tune (the test player: ffmpeg writing raw gray frames, as in ``test_tune.py``)
  shows frames equal to ``ffvfx studio|inpaint ... --PARAM V``'s (PSNR >= 40 dB), a side file
  (ALPHA, MASK) cut to the frame the restarted player starts at, and at the end of the file the
  session goes on with the next pass from frame 0;
- each tile of a sweep equals the single render of its variant (PSNR >= 40 dB);
- a sweep of a generation option (``seed``) is refused with the reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tune_session import Tuner

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

import tiny_models  # noqa: E402

from ffvfx.effects import grid  # noqa: E402

W, H, FPS = 160, 96, 30


def gray(media, path: Path) -> np.ndarray:
    return media.decode(path, vf="format=gray")[..., 0]


def tile(frames: np.ndarray, index: int, columns: int, band: int) -> np.ndarray:
    r, c = divmod(index, columns)
    return frames[:, r * (H + band):r * (H + band) + H, c * W:(c + 1) * W]


def check_restart_matches(player: Tuner, reply: dict, reference: np.ndarray, media) -> None:
    """The restarted player's frames are the reference's from the frame it started at."""
    assert reply["how"] == "restart", reply
    first = round(reply["state"]["player"]["at"] * FPS)
    assert 0 <= first < len(reference)
    shown = player.played(1, len(reference) - first)
    assert len(shown) >= 5
    for j, frame in enumerate(shown):
        assert media.psnr(frame, reference[first + j]) >= 40, (first, j)
    again = player.played(2, 5)  # the end of the file: the next pass from frame 0, as ffplay loops
    assert len(again) == 5 and player.proc.poll() is None
    for j, frame in enumerate(again):
        assert media.psnr(frame, reference[j]) >= 40, j


# -- studio ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def studio_assets(tmp_path_factory, ffvfx_cmd):
    """The demo scene (3 s, panning) and a first studio run that stored its background."""
    from ffvfx.stages.mldeps import quiet
    quiet()
    d = tmp_path_factory.mktemp("studio")
    res = ffvfx_cmd("demo", d / "in.mp4", "--seconds", "3", "--size", f"{W}x{H}")
    assert res.returncode == 0, res.stderr
    models = ["--model", tiny_models.sd_inpaint(d / "sd"), "--controlnet", tiny_models.controlnet(d / "cn"),
              "--depth-model", tiny_models.depth_anything(d / "depth"), "--resolution", "64", "--steps", "2"]
    env = {"FFVFX_CACHE": str(d / "cache")}
    args = [d / "in.mp4", d / "in.alpha.mkv", "--prompt", "a wooden hall", *models, "--seed", "7"]
    res = ffvfx_cmd("studio", args[0], args[1], d / "first.mkv", *args[2:], "--encoder", "ffv1", "-q",
                    env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    return d, args, env


def rerender(command: str, ffvfx_cmd, media, assets, name: str, *options: str) -> np.ndarray:
    """``ffvfx COMMAND IN SIDE NAME.mkv ... OPTIONS`` on the stored assets (no new generation):
    its frames in gray."""
    d, args, env = assets
    out = d / f"{name}.mkv"
    res = ffvfx_cmd(command, args[0], args[1], out, *args[2:], *options, "--encoder", "ffv1", "-q",
                    "-y", env=env)
    assert res.returncode == 0, res.stderr
    assert "generating" not in res.stderr
    return gray(media, out)


def test_tune_studio_refuses_without_stored_assets(studio_assets, ffvfx_cmd, tmp_path):
    _, args, env = studio_assets
    res = ffvfx_cmd("tune", "studio", *args[:-2], "--seed", "8", "--no-browser", "--sink",
                    tmp_path / "x.raw", env=env, timeout=60)
    assert res.returncode != 0
    error = [line for line in res.stderr.splitlines() if "error" in line]
    assert len(error) == 1 and "run `ffvfx studio " in error[0] and "--seed=8" in error[0], res.stderr
    assert "tune runs no model" in error[0] and "generating" not in res.stderr
    assert not (tmp_path / "x.raw").exists()


def test_tune_studio_change_equals_the_render(studio_assets, ffvfx_cmd, media, tmp_path):
    d, args, env = studio_assets
    reference = rerender("studio", ffvfx_cmd, media, studio_assets, "deep", "--depth-scale", "0.8",
                              "--feather", "2")
    player = Tuner(["studio", *args, "--feather", "2"], tmp_path, (W, H), env)
    try:
        player.played(0, 3)
        reply = player.set(depth_scale="0.8")
        assert "--depth-scale=0.8" in reply["state"]["ffvfx"] and "--seed=7" in reply["state"]["ffvfx"]
        check_restart_matches(player, reply, reference, media)
        names = [p["name"] for p in reply["state"]["params"] if p["tunable"]]
        assert names == ["depth_scale", "layers", "exposure_smooth", "feather", "blobs"]
    finally:
        out, err = player.terminate()
    assert player.proc.returncode == 0, err
    command = out.splitlines()[0]
    assert command.startswith(f"ffvfx studio {args[0]} {args[1]} in-studio.mp4 '--prompt=a wooden hall'")
    assert command.endswith("--depth-scale=0.8 --feather=2")


def test_studio_sweep_tiles_equal_single_renders(studio_assets, ffvfx_cmd, media):
    d, args, env = studio_assets
    out = d / "grid.mkv"
    res = ffvfx_cmd("studio", args[0], args[1], out, *args[2:], "--sweep", "layers=2,3", "--sweep",
                    "exposure-smooth=1,15", "--depth-scale", "0.6", "--encoder", "ffv1", "-q", env=env)
    assert res.returncode == 0, res.stderr
    frames = gray(media, out)
    captions = [[f"layers={la}", f"exposure-smooth={e}"] for e in (1, 15) for la in (2, 3)]
    _, band = grid.caption_layout(captions, (W, H))
    assert frames.shape == (90, 2 * (H + band), 2 * W)
    for i, (layers, smooth) in enumerate([(2, 1), (3, 1), (2, 15), (3, 15)]):
        single = rerender("studio", ffvfx_cmd, media, studio_assets, f"single{i}", "--depth-scale", "0.6",
                               "--layers", str(layers), "--exposure-smooth", str(smooth))
        assert media.psnr(tile(frames, i, 2, band), single) >= 40, (layers, smooth)


def test_studio_sweep_of_a_generation_option_is_refused(studio_assets, ffvfx_cmd):
    d, args, env = studio_assets
    res = ffvfx_cmd("studio", args[0], args[1], d / "seeds.mkv", *args[2:], "--sweep", "seed=1,2",
                    env=env)
    assert res.returncode != 0 and not (d / "seeds.mkv").exists()
    assert "--sweep seed=1,2: seed selects the generated background: each value would be a " \
           "diffusion run" in res.stderr
    assert res.stderr.count("\n") == 1


# -- inpaint -------------------------------------------------------------------------------------
BOX = (slice(24, 72), slice(48, 112))


@pytest.fixture(scope="module")
def inpaint_assets(tmp_path_factory, ffvfx_cmd, media):
    """75 frames whose masked box changes texture at 25 and 50, painted once (keyframes 0, 25, 50)."""
    import cv2

    from ffvfx.stages.mldeps import quiet
    quiet()
    d = tmp_path_factory.mktemp("inpaint")
    rng = np.random.default_rng(3)

    def smooth():
        return cv2.resize((rng.random((9, 15, 3)) * 200 + 25).astype(np.uint8), (W, H),
                          interpolation=cv2.INTER_CUBIC)
    back, inside = smooth(), [smooth() for _ in range(3)]
    frames = []
    for f in range(75):
        frame = np.roll(back, f, axis=1)
        frame[BOX] = inside[f // 25][BOX]
        frames.append(frame)
    mask = np.zeros((75, H, W, 3), np.uint8)
    mask[:, BOX[0], BOX[1]] = 255
    media.write(d / "in.mkv", np.stack(frames), pix_fmt="yuv420p", fps=FPS)
    media.write(d / "mask.mkv", mask, fps=FPS)
    env = {"FFVFX_CACHE": str(d / "cache")}
    args = [d / "in.mkv", d / "mask.mkv", "--prompt", "a brick wall", "--model",
            tiny_models.sd_inpaint(d / "sd"), "--resolution", "64", "--steps", "4", "--denoise", "0.9",
            "--keyframes", "0,25,50", "--propagate", "hold", "--blend", "3", "--candidates", "1"]
    res = ffvfx_cmd("inpaint", args[0], args[1], d / "first.mkv", *args[2:], "--encoder", "ffv1", "-q",
                    env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    return d, args, env


def test_tune_inpaint_refuses_without_painted_keyframes(inpaint_assets, ffvfx_cmd, tmp_path):
    _, args, env = inpaint_assets
    res = ffvfx_cmd("tune", "inpaint", *args, "--seed", "5", "--no-browser", "--sink", tmp_path / "x.raw",
                    env=env, timeout=60)
    assert res.returncode != 0
    error = [line for line in res.stderr.splitlines() if "error" in line]
    assert len(error) == 1 and "run `ffvfx inpaint " in error[0] and "--seed=5" in error[0], res.stderr
    res = ffvfx_cmd("tune", "inpaint", args[0], "auto", *args[2:], "--no-browser", env=env, timeout=60)
    assert res.returncode != 0 and "MASK auto" in res.stderr


def test_tune_inpaint_change_equals_the_render(inpaint_assets, ffvfx_cmd, media, tmp_path):
    _, args, env = inpaint_assets
    reference = rerender("inpaint", ffvfx_cmd, media, inpaint_assets, "mixed", "--overlay-original", "0.5")
    player = Tuner(["inpaint", *args], tmp_path, (W, H), env)
    try:
        player.played(0, 3)
        reply = player.set(overlay_original="0.5")
        check_restart_matches(player, reply, reference, media)
        names = [p["name"] for p in reply["state"]["params"] if p["tunable"]]
        assert names == ["feather", "overlay_original"]
    finally:
        out, err = player.terminate()
    assert player.proc.returncode == 0, err
    assert out.splitlines()[0].endswith("--candidates=1 --keyframes=0,25,50 --propagate=hold --blend=3 "
                                        "--overlay-original=0.5")


def test_inpaint_sweep_tiles_equal_single_renders_and_seed_is_refused(inpaint_assets, ffvfx_cmd, media):
    d, args, env = inpaint_assets
    out = d / "grid.mkv"
    res = ffvfx_cmd("inpaint", args[0], args[1], out, *args[2:], "--sweep", "overlay-original=0,0.5",
                    "--sweep", "feather=0,3", "--encoder", "ffv1", "-q", env=env)
    assert res.returncode == 0, res.stderr
    frames = gray(media, out)
    captions = [[f"overlay-original={o}", f"feather={f}"] for f in (0, 3) for o in (0, 0.5)]
    _, band = grid.caption_layout(captions, (W, H))
    for i, (overlay, feather) in enumerate([("0", "0"), ("0.5", "0"), ("0", "3"), ("0.5", "3")]):
        single = rerender("inpaint", ffvfx_cmd, media, inpaint_assets, f"single{i}", "--overlay-original",
                                overlay, "--feather", feather)
        assert media.psnr(tile(frames, i, 2, band), single) >= 40, (overlay, feather)
    for swept, why in (("seed=1,2", "selects the painted keyframes: each value would be a diffusion run"),
                       ("blend=2,4", "changes the carried patches")):
        res = ffvfx_cmd("inpaint", args[0], args[1], d / "refused.mkv", *args[2:], "--sweep", swept, env=env)
        assert res.returncode != 0 and why in res.stderr and not (d / "refused.mkv").exists()
