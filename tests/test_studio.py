"""``ffvfx generate`` / ``ffvfx studio`` with tiny random-weight models (no download), the parallax
and exposure maths against numpy, light direction on synthetic gradients, and bad input."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

import tiny_models  # noqa: E402

from ffvfx.compiler.graph import Graph  # noqa: E402
from ffvfx.effects.parallax import Layer, needed_margin, parallax, shifts  # noqa: E402
from ffvfx.errors import FfvfxError  # noqa: E402
from ffvfx.stages.analysis import exposure  # noqa: E402
from ffvfx.stages.diffusion.inpaint import generation_size  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from ffvfx.stages.mldeps import quiet
    quiet()
    d = tmp_path_factory.mktemp("tiny")
    return {"sd": str(tiny_models.sd_inpaint(d / "sd")), "cn": str(tiny_models.controlnet(d / "cn")),
            "depth": str(tiny_models.depth_anything(d / "depth"))}


@pytest.fixture(scope="module")
def shot(tmp_path_factory, ffvfx_cmd):
    """The demo scene (320x180, 2 s, panning) with its exact alpha and camera path."""
    d = tmp_path_factory.mktemp("shot")
    res = ffvfx_cmd("demo", str(d / "in.mp4"), "--seconds", "2", "--size", "320x180")
    assert res.returncode == 0, res.stderr
    return d


def _model_args(models, studio=True):
    args = ["--model", models["sd"], "--resolution", "64", "--steps", "2"]
    if studio:
        args += ["--controlnet", models["cn"], "--depth-model", models["depth"]]
    return args


def _subject(media, shot, n=None):
    alpha = media.decode(shot / "in.alpha.mkv")[..., 0]
    return alpha if n is None else alpha[n]


def test_generation_sizes_are_multiples_of_8():
    assert generation_size(1920, 1080, 768) == (768, 432)
    assert generation_size(1000, 333, 513) == (512, 168)
    for w, h in (generation_size(321, 179, 100), generation_size(77, 1031, 777)):
        assert w % 8 == 0 and h % 8 == 0


def test_generate_keeps_the_subject(ffvfx_cmd, media, shot, models, tmp_path):
    out = tmp_path / "bg.png"
    res = ffvfx_cmd("generate", shot / "in.mp4", shot / "in.alpha.mkv", out, "--prompt",
                    "a sunny beach", *_model_args(models, studio=False), "--frame", "5", "-q",
                    env={"FFVFX_CACHE": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr
    still = media.decode(out)[0]
    frame = media.decode(shot / "in.mp4")[5]
    alpha = _subject(media, shot, 5)
    assert still.shape == frame.shape
    inside = alpha == 255
    assert inside.sum() > 100
    assert media.psnr(still[inside], frame[inside]) >= 40
    assert np.abs(still[~inside].astype(int) - frame[~inside]).mean() > 5, "the background was redrawn"


@pytest.fixture(scope="module")
def studio_run(ffvfx_cmd, shot, models, tmp_path_factory):
    d = tmp_path_factory.mktemp("studio")
    cache = d / "cache"
    res = ffvfx_cmd("studio", shot / "in.mp4", shot / "in.alpha.mkv", d / "out.mp4", "--prompt",
                    "a wooden hall", *_model_args(models), "--seed", "7", "--crf", "10",
                    env={"FFVFX_CACHE": str(cache)}, timeout=300)  # crf 10: the graph under test, not x264
    assert res.returncode == 0, res.stderr
    return d, cache, res


def test_studio_renders_every_frame_with_the_subject_intact(studio_run, media, shot):
    d, _, _ = studio_run
    out, src = media.decode(d / "out.mp4"), media.decode(shot / "in.mp4")
    assert out.shape == src.shape == (60, 180, 320, 3)
    import cv2
    alpha = _subject(media, shot)
    # 3 px inside the edge: 4:2:0 chroma there mixes subject and background in both clips
    inside = np.stack([cv2.erode((a == 255).astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
                       for a in alpha])
    assert inside.sum() > 60 * 200
    assert media.psnr(out[inside], src[inside]) >= 40
    assert np.abs(out[alpha == 0].astype(int) - src[alpha == 0]).mean() > 5


def test_studio_folder_and_log(studio_run, models, shot):
    d, cache, res = studio_run
    folder = d / "studio"
    for name in ("depth.png", "background.png", "control.png", "layer-0.png", "layer-1.png",
                 "layer-2.png", "graph.txt", "studio.json"):
        assert (folder / name).is_file(), name
    log = json.loads((folder / "studio.json").read_text())
    assert log["models"]["inpaint"] == {"id": models["sd"], "revision": "local"}
    assert log["models"]["depth"]["id"] == models["depth"]
    assert log["settings"]["seed"] == 7 and log["prompt"] == "a wooden hall"
    assert log["final_prompt"].startswith("a wooden hall, ") and "shot" in log["final_prompt"]
    assert log["cache"] == "miss" and 1 <= len(log["step_s"]) <= 2  # 2 steps x strength 0.95
    path = json.loads((shot / "in.truth.json").read_text())["camera_offset"]
    assert log["margin"] >= needed_margin([tuple(p) for p in path], 1.0)
    assert log["canvas"] == [320 + 2 * log["margin"], 180 + 2 * log["margin"]]
    graph = (folder / "graph.txt").read_text()
    assert "layer-0.png" in graph and "layer-2.png" in graph and graph.count("crop=") == 3
    assert "no GPU: the models run on the CPU" in res.stderr


def test_rerender_with_another_depth_scale_runs_no_model(studio_run, shot, monkeypatch, media):
    d, cache, _ = studio_run
    from ffvfx import cli
    from ffvfx.stages.diffusion import depth, inpaint

    def refuse(*a, **k):
        raise AssertionError("a model was loaded")
    monkeypatch.setattr(inpaint, "load", refuse)
    monkeypatch.setattr(depth, "estimate", refuse)
    monkeypatch.setenv("FFVFX_CACHE", str(cache))
    out = d / "again.mp4"
    ids = json.loads((d / "studio" / "studio.json").read_text())["models"]
    code = cli.run_cli(["studio", str(shot / "in.mp4"), str(shot / "in.alpha.mkv"), str(out), "--prompt",
                        "a wooden hall", "--model", ids["inpaint"]["id"], "--controlnet",
                        ids["controlnet"]["id"], "--depth-model", ids["depth"]["id"], "--resolution", "64",
                        "--steps", "2", "--seed", "7", "--depth-scale", "0.5", "-y", "-q"])
    assert code == 0
    assert json.loads((d / "studio" / "studio.json").read_text())["cache"] == "hit"
    assert len(media.decode(out)) == 60


def test_jobs_rerender_equals_one_pass(studio_run, shot, monkeypatch, media):
    """--jobs 3 from the cached assets: parallax crops and gains windowed per segment, the alpha
    seeked with the input; lossless renders are identical frame for frame."""
    d, cache, _ = studio_run
    from ffvfx import cli
    monkeypatch.setenv("FFVFX_CACHE", str(cache))
    ids = json.loads((d / "studio" / "studio.json").read_text())["models"]
    outs = [d / f"jobs{j}.mkv" for j in (1, 3)]
    for j, out in zip((1, 3), outs, strict=True):
        assert cli.run_cli(["studio", str(shot / "in.mp4"), str(shot / "in.alpha.mkv"), str(out),
                            "--prompt", "a wooden hall", "--model", ids["inpaint"]["id"],
                            "--controlnet", ids["controlnet"]["id"], "--depth-model", ids["depth"]["id"],
                            "--resolution", "64", "--steps", "2", "--seed", "7", "--encoder", "libx264",
                            "--qp", "0", "--jobs", str(j), "-y", "-q"]) == 0
    one, three = (media.decode(o) for o in outs)
    assert one.shape == (60, 180, 320, 3) and np.array_equal(one, three)


# -- the parallax maths -----------------------------------------------------------------------
def test_layers_shift_by_depth_scale_times_the_path(media, tmp_path, shot, tools):
    """Two layers of known textures: each frame equals, pixel for pixel, the far texture cropped at
    margin + path x 0.3 x depth_far with the near one over it at margin + path x 0.3 x depth_near."""
    truth = json.loads((shot / "in.truth.json").read_text())
    offsets = [tuple(p) for p in truth["camera_offset"]]
    w, h, scale = 320, 180, 0.3
    far_d, near_d = 0.25, 1.0
    margin = needed_margin(offsets, scale) + 2
    rng = np.random.default_rng(3)
    cw, ch = w + 2 * margin, h + 2 * margin
    far = (rng.random((ch, cw, 3)) * 255).astype(np.uint8)
    near = (rng.random((ch, cw, 3)) * 255).astype(np.uint8)
    near_alpha = np.zeros((ch, cw), np.uint8)
    near_alpha[ch // 2:, :] = 255
    import cv2
    cv2.imwrite(str(tmp_path / "far.png"), cv2.cvtColor(far, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(tmp_path / "near.png"), cv2.cvtColor(np.dstack([near, near_alpha]), cv2.COLOR_RGBA2BGRA))
    layers = [Layer(str(tmp_path / "far.png"), far_d), Layer(str(tmp_path / "near.png"), near_d)]
    bg = parallax(layers, offsets, size=(w, h), margin=margin, fps=Fraction(30), depth_scale=scale)
    graph = Graph(bg, labelled=True)
    argv = []
    for inp in graph.inputs:
        argv += ["-i", inp.path]
    media.run(*argv, "-filter_complex", graph.line(), "-map", "[out]", "-c:v", "ffv1",
              "-pix_fmt", "gbrp", str(tmp_path / "bg.mkv"))
    got = media.decode(tmp_path / "bg.mkv")
    assert len(got) == len(offsets)
    fx, fy = shifts(offsets, far_d, scale)
    nx, ny = shifts(offsets, near_d, scale)
    for n, (ox, oy) in enumerate(offsets):
        assert abs(fx[n] - ox * scale * far_d) <= 0.5 and abs(ny[n] - oy * scale * near_d) <= 0.5
        want = far[margin + fy[n]:margin + fy[n] + h, margin + fx[n]:margin + fx[n] + w].copy()
        cut = near_alpha[margin + ny[n]:margin + ny[n] + h, margin + nx[n]:margin + nx[n] + w] > 0
        want[cut] = near[margin + ny[n]:margin + ny[n] + h, margin + nx[n]:margin + nx[n] + w][cut]
        assert (got[n] == want).all(), f"frame {n}: not the expected crops (uncovered or shifted)"
    assert max(abs(x) for x in nx) > 5, "the near layer really moves"


def test_a_margin_too_small_for_the_depth_scale_is_refused(tmp_path):
    offsets = [(0.0, 0.0), (40.0, 0.0)]
    with pytest.raises(FfvfxError, match=r"--depth-scale 1 moves the nearest layer 40 px.*--bg-margin 40"):
        parallax([Layer("x.png", 1.0)], offsets, size=(64, 64), margin=20, fps=Fraction(30),
                 depth_scale=1.0)


# -- exposure and light -----------------------------------------------------------------------
def test_background_follows_an_exposure_ramp(media, tmp_path, tools):
    n, w, h = 30, 160, 96
    ramp = np.linspace(0.6, 1.2, n)
    rng = np.random.default_rng(1)
    texture = 60 + rng.random((h, w, 3)) * 120
    frames = np.stack([np.clip(texture * g, 0, 255) for g in ramp]).astype(np.uint8)
    alpha = np.zeros((n, h, w, 3), np.uint8)
    alpha[:, 20:76, 50:110] = 255
    media.write(tmp_path / "ramp.mkv", frames)
    media.write(tmp_path / "ramp.alpha.mkv", alpha)
    light = exposure.analyse(str(tmp_path / "ramp.mkv"), str(tmp_path / "ramp.alpha.mkv"), tools, (w, h),
                             reference=10, window=1)
    expected = ramp / ramp[10]
    assert np.allclose(light.gains, expected, rtol=0.02)
    # the background layer (flat 128 gray) through the exposure of the render
    import cv2
    cv2.imwrite(str(tmp_path / "flat.png"), np.full((h + 8, w + 8, 3), 128, np.uint8))
    bg = parallax([Layer(str(tmp_path / "flat.png"), 0.5)], [(0.0, 0.0)] * n, size=(w, h), margin=4,
                  fps=Fraction(30), gains=light.gains)
    graph = Graph(bg, labelled=True)
    media.run("-i", graph.inputs[0].path, "-filter_complex", graph.line(), "-map", "[out]", "-c:v",
              "ffv1", "-pix_fmt", "gbrp", str(tmp_path / "lit.mkv"))
    lit = media.decode(tmp_path / "lit.mkv").reshape(n, -1).mean(axis=1)
    assert np.allclose(lit / lit[10], expected, rtol=0.015), (lit / lit[10], expected)


@pytest.mark.parametrize("side, direction", [("left", "left"), ("right", "right"), ("top", "above"),
                                             ("bottom", "below")])
def test_light_direction_on_gradients(side, direction):
    h, w = 90, 120
    ramp_x = np.linspace(1.0, 0.2, w)[None, :].repeat(h, 0)
    ramp_y = np.linspace(1.0, 0.2, h)[:, None].repeat(w, 1)
    y = {"left": ramp_x, "right": ramp_x[:, ::-1], "top": ramp_y, "bottom": ramp_y[::-1]}[side] * 255
    subject = np.zeros((h, w), np.float32)
    subject[15:75, 30:90] = 1
    assert exposure.light_direction(y, subject) == direction
    assert exposure.light_direction(y) == direction  # no subject: the whole frame
    assert exposure.light_direction(np.full((h, w), 128.0), subject) == "even"


def test_camera_height_from_the_eye_line():
    a = np.zeros((100, 100), np.float32)
    a[45:100, 40:60] = 1
    assert exposure.camera_height(a) == "eye-level"
    a[:] = 0
    a[5:100, 40:60] = 1
    assert exposure.camera_height(a) == "low-angle"
    a[:] = 0
    a[70:100, 40:60] = 1
    assert exposure.camera_height(a) == "high-angle"


# -- bad input ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def wrong_alphas(shot, media, tmp_path_factory):
    d = tmp_path_factory.mktemp("wrong")
    alpha = media.decode(shot / "in.alpha.mkv")
    media.write(d / "small.mkv", alpha[:, :90, :160])
    media.write(d / "short.mkv", alpha[:30])
    return d


@pytest.mark.parametrize("case, args, message", [
    ("size", ["{wrong}/small.mkv"], "is 160x90, the input is 320x180"),
    ("length", ["{wrong}/short.mkv"], "30 frames"),
    ("prompt", ["{shot}/in.alpha.mkv", "--prompt", "  "], "--prompt is empty"),
    ("resolution", ["{shot}/in.alpha.mkv", "--resolution", "4096"], "--resolution: must be"),
    ("frame", ["{shot}/in.alpha.mkv", "--frame", "60"], "--frame 60: the input has 60 frames"),
    ("model", ["{shot}/in.alpha.mkv", "--model", "nobody/no-such-inpainting-model"],
     "nobody/no-such-inpainting-model: not in the Hugging Face cache"),
    ("folder", ["{shot}/in.alpha.mkv", "--depth-model", "./no/such/dir"], "no such folder"),
])
@pytest.mark.parametrize("command", ["studio", "generate"])
def test_bad_input_is_one_line_and_writes_nothing(ffvfx_cmd, shot, wrong_alphas, models, tmp_path,
                                                  command, case, args, message):
    if command == "generate" and case == "folder":
        args = [args[0], "--model", "./no/such/dir"]
    args = [a.format(shot=shot, wrong=wrong_alphas) for a in args]
    out = tmp_path / ("out.png" if command == "generate" else "out.mp4")
    model_args = _model_args(models, studio=command == "studio")
    for flag in args[1::2]:  # the bad value replaces the tiny model's setting
        if flag in model_args:
            i = model_args.index(flag)
            del model_args[i:i + 2]
    full = [command, shot / "in.mp4", args[0], out]
    if "--prompt" not in args:
        full += ["--prompt", "a room"]
    res = ffvfx_cmd(*full, *args[1:], *model_args, env={"HF_HUB_OFFLINE": "1",
                                                        "FFVFX_CACHE": str(tmp_path / "cache")})
    assert res.returncode == 1, res.stderr  # an option's range too: a user error like any other
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("ffvfx: error")]
    assert len(lines) == 1 and message in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == []


def test_print_cmd_shows_the_assets_as_inputs_even_for_a_gpu(studio_run, ffvfx_cmd, shot, models):
    d, cache, _ = studio_run
    res = ffvfx_cmd("studio", shot / "in.mp4", shot / "in.alpha.mkv", d / "out.mp4", "--prompt",
                    "a wooden hall", *_model_args(models), "--seed", "7", "--hw", "cuda", "--print=cmd",
                    env={"FFVFX_CACHE": str(cache)})
    assert res.returncode == 0, res.stderr  # an existing output does not stop a printed command
    assert "-hwaccel cuda" in res.stdout and res.stdout.count("layer-") == 3
    assert "generated background from the cache" in res.stderr


def test_printed_studio_graph_plays_in_ffplay(studio_run, ffvfx_cmd, shot, models, ffplay, display_env):
    """``ffplay -vf "$(ffvfx studio IN ALPHA --print ...)" IN``: the assets come in as movie= sources."""
    import subprocess
    d, cache, _ = studio_run
    res = ffvfx_cmd("studio", shot / "in.mp4", shot / "in.alpha.mkv", "--prompt", "a wooden hall",
                    *_model_args(models), "--seed", "7", "--print", "-q", env={"FFVFX_CACHE": str(cache)})
    assert res.returncode == 0, res.stderr
    line = res.stdout.strip()
    assert line.count("movie=") == 4  # three layers and the alpha
    play = subprocess.run([ffplay, "-hide_banner", "-loglevel", "error", "-autoexit", "-an", "-vf", line,
                           "-i", str(shot / "in.mp4")], env=display_env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert play.returncode == 0 and play.stderr.strip() == "", play.stderr
