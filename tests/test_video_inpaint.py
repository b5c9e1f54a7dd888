"""``ffvfx inpaint`` with a tiny random SD pipeline: keyframes where the masked region changes,
pixels outside the mask untouched, each group showing its keyframe's paint, crossfades, optical
flow carry, ``--picks`` without a model, and bad input."""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest

pytest.importorskip("diffusers")

import tiny_models  # noqa: E402

from ffvfx.stages.analysis import keyframes as kf  # noqa: E402
from ffvfx.stages.analysis.flow import carry  # noqa: E402

W, H, N = 160, 96, 60
BOX = (slice(24, 72), slice(48, 112))  # the masked region (rows, cols)


def smooth(seed: int, h: int = H, w: int = W) -> np.ndarray:
    """A smooth random RGB texture (survives 4:2:0 well)."""
    import cv2
    rng = np.random.default_rng(seed)
    return cv2.resize((rng.random((h // 12 + 1, w // 12 + 1, 3)) * 200 + 25).astype(np.uint8), (w, h),
                      interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from ffvfx.stages.mldeps import quiet
    quiet()
    return str(tiny_models.sd_inpaint(tmp_path_factory.mktemp("tiny") / "sd"))


@pytest.fixture(scope="module")
def clip(tmp_path_factory, media):
    """60 frames: the masked box changes texture at frames 20 and 40; outside it, a change at 30."""
    d = tmp_path_factory.mktemp("clip")
    back, other = smooth(1), smooth(2)
    inside = [smooth(10), smooth(11), smooth(12)]
    frames = []
    for f in range(N):
        frame = (back if f < 30 else other).copy()
        frame[BOX] = inside[f // 20][BOX]
        frames.append(frame)
    mask = np.zeros((N, H, W, 3), np.uint8)
    mask[:, BOX[0], BOX[1]] = 255
    media.write(d / "in.mkv", np.stack(frames), pix_fmt="yuv420p")  # an ordinary 4:2:0 source
    media.write(d / "mask.mkv", mask)
    return d, media.decode(d / "in.mkv")


def luma(rgb):
    rgb = np.asarray(rgb, np.float64)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def test_keyframes_at_the_changes_inside_the_mask_only(clip, tools):
    d, _ = clip
    found = kf.detect(str(d / "in.mkv"), str(d / "mask.mkv"), tools, (W, H))
    assert len(found.keys) == 3
    for got, want in zip(found.keys, (0, 20, 40), strict=True):
        assert abs(got - want) <= 1
    assert not any(28 <= k <= 32 for k in found.keys), "a change outside the mask made a keyframe"


def test_parse_keyframes():
    assert kf.parse_keys("24, 60,24", 100) == [0, 24, 60]
    from ffvfx.errors import FfvfxError
    with pytest.raises(FfvfxError, match="frames are 0..59"):
        kf.parse_keys("0,60", 60)


@pytest.fixture(scope="module")
def painted(clip, model, ffvfx_cmd, tmp_path_factory):
    d, _ = clip
    out_dir = tmp_path_factory.mktemp("out")
    out = out_dir / "out.mkv"
    res = ffvfx_cmd("inpaint", d / "in.mkv", d / "mask.mkv", out, "--prompt", "a brick wall",
                    "--model", model, "--resolution", "64", "--steps", "4", "--denoise", "0.9",
                    "--keyframes", "0,20,40", "--propagate", "hold", "--blend", "3", "--grow", "0",
                    "--feather", "0", "--candidates", "2", "--encoder", "ffv1",
                    env={"FFVFX_CACHE": str(out_dir / "cache")}, timeout=300)
    assert res.returncode == 0, res.stderr
    return out, out_dir / "out_inpaint"


def test_outside_the_mask_is_the_input(painted, clip, media):
    out, _ = painted
    _, src = clip
    got = media.decode(out)
    assert got.shape == src.shape
    outside = np.ones((H, W), bool)
    outside[BOX[0].start - 2:BOX[0].stop + 2, BOX[1].start - 2:BOX[1].stop + 2] = False
    assert media.psnr(got[:, outside], src[:, outside]) >= 45


def _pick(work, key):
    import cv2
    picks = json.loads((work / "picks.json").read_text())
    log = json.loads((work / "inpaint.json").read_text())
    path = f"{log['candidates_folder']}/key{key:05d}-c{picks[str(key)]}.png"
    return cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)


def test_each_group_shows_its_keyframes_paint_and_crossfades(painted, clip, media):
    out, work = painted
    _, src = clip
    got = media.decode(out).astype(np.float64)
    inner = (slice(BOX[0].start + 3, BOX[0].stop - 3), slice(BOX[1].start + 3, BOX[1].stop - 3))
    paint = {k: _pick(work, k).astype(np.float64) for k in (0, 20, 40)}
    assert np.abs(paint[20][inner] - src[20][inner]).mean() > 10, "the region was repainted"
    for f in (5, 19, 30, 39, 50, 59):  # inside groups, away from the crossfades
        k = 40 if f >= 40 else 20 if f >= 20 else 0
        # luma: the paint of a random model is noise, which 4:2:0 chroma cannot keep
        assert media.psnr(luma(got[f][inner]), luma(paint[k][inner])) >= 35, f
    for i in range(3):  # --blend 3: frame 20+i is (1-w) old + w new, w = (i+1)/4
        w = (i + 1) / 4
        want = (1 - w) * paint[0][inner] + w * paint[20][inner]
        here = luma(got[20 + i][inner])
        assert media.psnr(here, luma(want)) >= 35, i
        assert media.psnr(here, luma(paint[20][inner])) < media.psnr(here, luma(want))


def test_work_folder(painted):
    _, work = painted
    for name in ("keyframes.json", "picks.json", "review.html", "contact.png", "compare.mp4",
                 "inpaint.json", "patches.mkv"):
        assert (work / name).is_file(), name
    log = json.loads((work / "inpaint.json").read_text())
    assert log["keyframes"] == [0, 20, 40] and log["groups"] == [[0, 19], [20, 39], [40, 59]]
    assert log["seeds"]["20"] == [0, 1] and log["model_loaded"]
    stats = log["group_stats"]
    assert [(g["first"], g["last"]) for g in stats] == [(0, 19), (20, 39), (40, 59)]
    assert stats[1]["motion_out"] is not None and stats[0]["colour_in"] > 0
    page = (work / "review.html").read_text()
    assert page.count("<figure") == 6 and page.count('class="pick"') == 3


def test_picks_rerender_runs_no_model(painted, clip, model, monkeypatch, media):
    out, work = painted
    d, _ = clip
    from ffvfx import cli
    from ffvfx.stages.diffusion import inpaint

    def refuse(*a, **k):
        raise AssertionError("the pipeline loader was called")
    monkeypatch.setattr(inpaint, "load", refuse)
    monkeypatch.setenv("FFVFX_CACHE", str(out.parent / "cache"))
    picks = work.parent / "mine.json"
    picks.write_text(json.dumps({"0": 0, "20": 1, "40": 0}))
    again = out.parent / "again.mkv"
    code = cli.run_cli(["inpaint", str(d / "in.mkv"), str(d / "mask.mkv"), str(again), "--prompt",
                        "a brick wall", "--model", model, "--resolution", "64", "--steps", "4",
                        "--denoise", "0.9", "--keyframes", "0,20,40", "--propagate", "hold", "--blend",
                        "3", "--grow", "0", "--feather", "0", "--encoder", "ffv1", "--picks", str(picks),
                        "-q"])
    assert code == 0
    log = json.loads((again.parent / "again_inpaint" / "inpaint.json").read_text())
    assert log["picks"] == {"0": 0, "20": 1, "40": 0} and not log["model_loaded"]
    assert len(media.decode(again)) == N


def test_flow_carry_follows_a_moving_texture():
    """A textured square moving 3 px/frame: the keyframe's paint (its negative) carried 5 frames by
    flow matches the moved square's negative far better than holding it does."""
    tex = smooth(5, 200, 200)
    frames = []
    for f in range(6):
        frame = np.full((120, 160, 3), 90, np.uint8)
        frame[30:90, 20 + 3 * f:80 + 3 * f] = tex[:60, :60]
        frames.append(frame)
    paint = 255 - frames[0]
    region = np.zeros((120, 160), bool)
    region[36:84, 26 + 15:74 + 15] = True  # where the square is at frame 5 (inside it)
    ideal = (255 - frames[5]).astype(np.float64)
    import cv2
    key, frame = (cv2.cvtColor(frames[i], cv2.COLOR_RGB2GRAY) for i in (0, 5))
    held = carry(paint, key, frame, "hold").astype(np.float64)
    flowed = carry(paint, key, frame, "flow").astype(np.float64)
    err_hold = np.abs(held - ideal)[region].mean()
    err_flow = np.abs(flowed - ideal)[region].mean()
    assert err_flow < 0.5 * err_hold, (err_flow, err_hold)


# -- bad input ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bad_masks(clip, media, tmp_path_factory):
    d, _ = clip
    b = tmp_path_factory.mktemp("bad")
    media.write(b / "small.mkv", np.zeros((N, 48, 80, 3), np.uint8))
    media.write(b / "short.mkv", np.full((30, H, W, 3), 255, np.uint8))
    media.write(b / "empty.mkv", np.zeros((N, H, W, 3), np.uint8))
    return b


@pytest.mark.parametrize("mask, extra, message", [
    ("small.mkv", [], "is 80x48, the input is 160x96"),
    ("short.mkv", [], "30 frames"),
    ("empty.mkv", [], "the mask is empty"),
    ("empty.mkv", ["--keyframes", "0,30"], "the mask is empty on every keyframe"),
    (None, ["--prompt", ""], "--prompt is empty"),
    (None, ["--steps", "3", "--denoise", "0.3"], "leaves no denoising step"),
])
def test_bad_input_is_one_line_and_writes_nothing(clip, bad_masks, model, ffvfx_cmd, tmp_path, mask,
                                                  extra, message):
    d, _ = clip
    mask_path = bad_masks / mask if mask else d / "mask.mkv"
    args = ["inpaint", d / "in.mkv", mask_path, tmp_path / "out.mp4", "--model", model,
            "--resolution", "64", "--steps", "4", "--denoise", "0.5"]
    if "--prompt" not in extra:
        args += ["--prompt", "a wall"]
    res = ffvfx_cmd(*args, *extra, env={"FFVFX_CACHE": str(tmp_path / "cache")})
    assert res.returncode == 1, res.stderr
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("ffvfx: error")]
    assert len(errors) == 1 and message in errors[0], res.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "cache") == []


def test_dropped_groups_are_rebuilt_by_interpolation(media, tmp_path):
    """Frames 10-14 of the patches jump to white; dropped, they are rebuilt from frames 9 and 15."""
    from fractions import Fraction

    from ffvfx.compiler.graph import Graph, Input
    from ffvfx.effects.patch import patch
    n = 30
    ramp = np.stack([np.full((48, 64, 3), 40 + 4 * f, np.uint8) for f in range(n)])
    bad = ramp.copy()
    bad[10:15] = 255
    media.write(tmp_path / "orig.mkv", ramp)
    media.write(tmp_path / "patches.mkv", bad)
    media.write(tmp_path / "mask.mkv", np.full_like(ramp, 255))
    main, patches, mask = (Input(str(tmp_path / name)) for name in ("orig.mkv", "patches.mkv", "mask.mkv"))
    out = patch(main.video, patches.video, mask.video, drop=[(10, 14)], fps=Fraction(30), count=n)
    graph = Graph(out, [main, patches, mask], labelled=True)
    argv = []
    for inp in graph.inputs:
        argv += ["-i", inp.path]
    media.run(*argv, "-filter_complex", graph.line(), "-map", "[out]", "-c:v", "ffv1", "-pix_fmt", "gbrp",
              str(tmp_path / "mended.mkv"))
    got = media.decode(tmp_path / "mended.mkv").reshape(-1, 48 * 64 * 3).mean(axis=1)
    assert len(got) == n
    assert np.allclose(got[:10], 40 + 4 * np.arange(10), atol=1.5)
    assert np.allclose(got[10:15], 40 + 4 * np.arange(10, 15), atol=4), got[10:15]
    assert np.allclose(got[15:], 40 + 4 * np.arange(15, n), atol=1.5)


def _rerun(clip, model, out, *extra):
    from ffvfx import cli
    d, _ = clip
    return cli.run_cli(["inpaint", str(d / "in.mkv"), str(d / "mask.mkv"), str(out), "--prompt",
                        "a brick wall", "--model", model, "--resolution", "64", "--steps", "4",
                        "--denoise", "0.9", "--keyframes", "0,20,40", "--propagate", "hold", "--blend",
                        "3", "--grow", "0", "--feather", "0", "--encoder", "ffv1", "-q", *extra])


def test_overlay_original_mixes_it_back(painted, clip, model, monkeypatch, media):
    out, work = painted
    _, src = clip
    monkeypatch.setenv("FFVFX_CACHE", str(out.parent / "cache"))
    mixed = out.parent / "mixed.mkv"
    assert _rerun(clip, model, mixed, "--picks", str(work / "picks.json"), "--overlay-original", "0.5") == 0
    a, b = media.decode(out).astype(np.float64), media.decode(mixed).astype(np.float64)
    inner = (slice(BOX[0].start + 3, BOX[0].stop - 3), slice(BOX[1].start + 3, BOX[1].stop - 3))
    want = 0.5 * a[:, inner[0], inner[1]] + 0.5 * src[:, inner[0], inner[1]]
    assert media.psnr(luma(b[:, inner[0], inner[1]]), luma(want)) >= 35


def test_redo_paints_chosen_keyframes_with_new_seeds(painted, clip, model, monkeypatch):
    out, work = painted
    monkeypatch.setenv("FFVFX_CACHE", str(out.parent / "cache"))
    target = out.parent / "redo.mkv"
    assert _rerun(clip, model, target, "--redo", "20") == 0
    log = json.loads((out.parent / "redo_inpaint" / "inpaint.json").read_text())
    assert log["seeds"]["20"] == [1000, 1001] and log["seeds"]["0"] == [0, 1] and log["model_loaded"]
    from ffvfx.errors import FfvfxError  # noqa: F401
    assert _rerun(clip, model, out.parent / "x.mkv", "--redo", "7") == 1  # 7 is not a keyframe


def test_printed_inpaint_graph_plays_in_ffplay(painted, clip, model, ffvfx_cmd, ffplay, display_env):
    """``--print`` gives the one graph with the patches and the mask as movie= sources; it plays."""
    import subprocess
    out, _ = painted
    d, _ = clip
    res = ffvfx_cmd("inpaint", d / "in.mkv", d / "mask.mkv", out, "--prompt", "a brick wall",
                    "--model", model, "--resolution", "64", "--steps", "4", "--denoise", "0.9",
                    "--keyframes", "0,20,40", "--propagate", "hold", "--blend", "3", "--grow", "0",
                    "--feather", "0", "--print", "-q",
                    env={"FFVFX_CACHE": str(out.parent / "cache")})
    assert res.returncode == 0, res.stderr
    line = res.stdout.strip()
    assert line.count("movie=") == 2 and "maskedmerge" in line
    play = subprocess.run([ffplay, "-hide_banner", "-loglevel", "error", "-autoexit", "-an", "-vf", line,
                           "-i", str(d / "in.mkv")], env=display_env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert play.returncode == 0 and play.stderr.strip() == "", play.stderr


def test_jobs_rerender_equals_one_pass(painted, clip, model, monkeypatch, media):
    """--jobs 3 over the cached candidates: the per-frame gains are windowed per segment and the
    patches and mask seeked with the input, so the frames equal one pass exactly."""
    out, work = painted
    d, _ = clip
    from ffvfx import cli
    monkeypatch.setenv("FFVFX_CACHE", str(out.parent / "cache"))
    args = ["inpaint", str(d / "in.mkv"), str(d / "mask.mkv"), "--prompt", "a brick wall", "--model",
            model, "--resolution", "64", "--steps", "4", "--denoise", "0.9", "--keyframes", "0,20,40",
            "--propagate", "hold", "--blend", "3", "--grow", "0", "--feather", "0", "--candidates",
            "2", "--encoder", "ffv1", "--picks", str(work / "picks.json"), "-q", "-y"]
    outs = [out.parent / f"jobs{j}.mkv" for j in (1, 3)]
    for j, o in zip((1, 3), outs, strict=True):
        assert cli.run_cli([*args[:3], str(o), *args[3:], "--jobs", str(j)]) == 0
    one, three = (media.decode(o) for o in outs)
    assert one.shape == (N, H, W, 3) and np.array_equal(one, three)


def test_keyframes_painted_on_ray_actors_match_local_painting(clip, model):
    """The actor path (one per GPU, one here) paints what the local painter paints, seed for seed."""
    ray = pytest.importorskip("ray")
    from ffvfx.pipelines import inpaint as video_inpaint
    from ffvfx.scale import cluster
    d, src = clip
    opts = video_inpaint.Options(prompt="a brick wall", model=model, resolution=64, steps=2, strength=0.9,
                                 device="cpu")
    region = np.zeros((H, W), bool)
    region[BOX] = True
    local = video_inpaint.Painter(opts, say=lambda msg: None)
    want = [local.paint(src[k], region, 5 + k) for k in (0, 20)]
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        got = cluster.connect("local").actors(partial(video_inpaint.Painter, opts, say=print), "paint_timed",
                                              [(src[k], region, 5 + k) for k in (0, 20)], "inpainting")
    finally:
        ray.shutdown()
    for (image, steps), expected in zip(got, want, strict=True):
        assert len(steps) >= 1
        assert np.abs(image.astype(int) - expected).max() <= 1
        assert not np.array_equal(image[region], src[0][region])
