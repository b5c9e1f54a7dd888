"""``ffvfx composite``: the demo's subject over new backgrounds, against a numpy composite.

The reference is computed independently from the input's decoded frames, the demo's exact alpha
and the background: ``a/255*fg + (1-a/255)*bg`` in RGB. Outputs are encoded losslessly
(``--qp 0``, still 4:2:0) and decoded through gbrp (swscale's direct yuv420p -> rgb24 path skips
chroma interpolation and would cost ~5 dB on both sides).
"""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from ffvfx.cli import run_cli
from ffvfx.compiler.graph import Input
from ffvfx.effects import composite as composite_effect
from ffvfx.ffmpeg.render import printable_graph
from ffvfx.stages import demo

SPEC = demo.DemoSpec(width=320, height=180, fps=30, seconds=2, pan=(0, 0))
W, H, N = SPEC.width, SPEC.height, SPEC.frames
LOSSLESS = ["--qp", "0", "--preset", "ultrafast", "-q"]


@pytest.fixture(scope="module")
def scene(tmp_path_factory, media, ffmpeg):
    """The static demo with audio (mp4), its exact alpha (mkv), backgrounds, and the truth."""
    d = tmp_path_factory.mktemp("composite")
    demo.write_demo(d / "demo.mp4", SPEC, ffmpeg)
    rgb, alpha = zip(*demo.render_frames(SPEC), strict=True)
    clip = media.write(d / "scene.mp4", np.stack(rgb), fps=SPEC.fps, vcodec="libx264",
                       pix_fmt="yuv420p", args=["-crf", "12"], audio=True)
    other = demo.background_plate(demo.DemoSpec(width=W, height=H, seconds=1, pan=(0, 0), seed=7), 0)
    image = d / "plate.png"
    cv2.imwrite(str(image), other[..., ::-1])
    moving, _ = zip(*demo.render_frames(demo.DemoSpec(width=W, height=H, fps=30, seconds=1,
                                                      pan=(1, 0), seed=11)), strict=True)
    video = media.write(d / "bg video.mp4", np.stack(moving), fps=30, vcodec="libx264",
                        pix_fmt="yuv420p", args=["-crf", "10"])
    return dict(dir=d, clip=clip, alpha=d / "demo.alpha.mkv", alpha_truth=np.stack(alpha),
                fg=media.decode(clip, vf="format=gbrp"), image=image, image_rgb=other, video=video,
                video_rgb=media.decode(video, vf="format=gbrp"))


def reference(fg: np.ndarray, alpha: np.ndarray, bg: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.float64)[..., None] / 255.0
    return np.clip(np.rint(a * fg + (1 - a) * bg), 0, 255).astype(np.uint8)


def run_composite(ffvfx_cmd, scene, out: Path, *args: str):
    res = ffvfx_cmd("composite", scene["clip"], scene["alpha"], out, *args, *LOSSLESS)
    assert res.returncode == 0, res.stderr
    return res


@pytest.mark.parametrize("kind", ["image", "colour", "video"])
def test_composite_equals_numpy(ffvfx_cmd, scene, media, tmp_path, kind):
    """Image, colour and (shorter, looped) video backgrounds: >= 35 dB in every frame, the input's
    frame count, duration and audio."""
    if kind == "image":
        bg_arg, bg = str(scene["image"]), scene["image_rgb"][None]
    elif kind == "colour":
        bg_arg, bg = "#3366cc", np.array([0x33, 0x66, 0xCC], np.uint8)[None, None, None]
    else:  # 30 frames behind 60: frame k shows background frame k mod 30
        bg_arg = str(scene["video"])
        bg = scene["video_rgb"][np.arange(N) % len(scene["video_rgb"])]
    out = tmp_path / "out.mp4"
    run_composite(ffvfx_cmd, scene, out, "--bg", bg_arg)
    got = media.decode(out, vf="format=gbrp")
    assert got.shape == (N, H, W, 3)
    ref = reference(scene["fg"], scene["alpha_truth"], np.broadcast_to(bg, (N, H, W, 3)))
    whole, worst = media.psnr_stack(got, ref)
    assert worst >= 35, (kind, whole, worst)
    times = media.frame_times(out)
    assert len(times) == N and times[-1] == pytest.approx((N - 1) / SPEC.fps, abs=1e-3)
    assert media.audio_duration(out) == pytest.approx(media.audio_duration(scene["clip"]), abs=0.05)


def blocks_image(path: Path, w: int, h: int, block: int) -> np.ndarray:
    """Vertical colour blocks ``block`` px wide, each its own colour; written as PNG."""
    colours = np.array([[40 + 25 * k, 220 - 22 * k, 60 + 90 * (k % 2)] for k in range(w // block)],
                       np.uint8)
    img = np.repeat(colours, block, axis=0)[None].repeat(h, axis=0)
    cv2.imwrite(str(path), img[..., ::-1])
    return colours


def clear_of_subject(alpha: np.ndarray, margin: int = 4) -> np.ndarray:
    """Pixels at least ``margin`` px from the subject (4:2:0 chroma bleeds its colour ~2 px)."""
    return cv2.erode((alpha == 0).astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)) > 0


@pytest.mark.parametrize("fit", ["cover", "contain", "stretch"])
def test_fit_geometry(ffvfx_cmd, scene, media, tmp_path, fit):
    """A 640x180 background (32:9) behind a 320x180 input: cover crops the centre 320 columns,
    contain halves it into a band 90 rows high between bars of --pad-color, stretch squeezes it."""
    colours = blocks_image(tmp_path / "wide.png", 640, 180, 80)
    out = tmp_path / "out.mp4"
    run_composite(ffvfx_cmd, scene, out, "--bg", tmp_path / "wide.png", "--fit", fit,
                  "--pad-color", "0x102030", "--duration", "0.1")
    got = media.decode(out, vf="format=gbrp")[0].astype(int)
    clear = clear_of_subject(scene["alpha_truth"][0])
    x = np.arange(W)
    if fit == "cover":
        block, width, rows = (x + 160) // 80, 80, (0, H)
    else:
        block, width, rows = x // 40, 40, ((45, 135) if fit == "contain" else (0, H))
    inner = np.abs((x + (160 if fit == "cover" else 0)) % width - width / 2) < width / 2 - 4
    for y in range(rows[0] + 4, rows[1] - 4, 7):
        for xi in x[inner & clear[y]]:
            assert np.abs(got[y, xi] - colours[block[xi]]).max() <= 6, (fit, y, xi)
    if fit == "contain":
        bars = np.concatenate([got[:41], got[139:]])[np.concatenate([clear[:41], clear[139:]])]
        assert np.abs(bars - [0x10, 0x20, 0x30]).max() <= 4


def test_shift_bg_moves_the_background(ffvfx_cmd, scene, media, tmp_path):
    """--shift-bg 7,-4: output (y, x) shows background (y+4, x-7); the strips it uncovers repeat
    the edge."""
    out = tmp_path / "out.mp4"
    run_composite(ffvfx_cmd, scene, out, "--bg", scene["image"], "--shift-bg", "7,-4", "--duration", "0.1")
    got = media.decode(out, vf="format=gbrp")[0]
    bg = scene["image_rgb"]
    shifted = np.empty_like(bg)
    shifted[: H - 4, 7:] = bg[4:, : W - 7]
    shifted[: H - 4, :7] = bg[4:, :1]
    shifted[H - 4:] = shifted[H - 5]
    clear = scene["alpha_truth"][0] == 0
    assert media.psnr(got[clear], shifted[clear]) >= 35
    assert media.psnr(got[clear], bg[clear]) < 25  # it really moved


def test_feather_softens_the_edge(ffvfx_cmd, scene, media, tmp_path):
    """--feather 2 blurs the alpha: the composite matches a numpy composite with a Gaussian
    (sigma 2 px) of the alpha better than one with the hard alpha."""
    out = tmp_path / "out.mp4"
    run_composite(ffvfx_cmd, scene, out, "--bg", "black", "--feather", "2", "--duration", "0.1")
    got = media.decode(out, vf="format=gbrp")[:3]
    soft = np.stack([cv2.GaussianBlur(a.astype(np.float64), (0, 0), 2.0) for a in scene["alpha_truth"][:3]])
    black = np.zeros_like(got)
    edge = np.abs(soft - scene["alpha_truth"][:3]) > 16  # where feathering changes the alpha
    to_soft = media.psnr(got[edge], reference(scene["fg"][:3], soft, black)[edge])
    to_hard = media.psnr(got[edge], reference(scene["fg"][:3], scene["alpha_truth"][:3], black)[edge])
    assert to_soft >= 30 and to_soft > to_hard + 6, (to_soft, to_hard)


def test_printed_graph_has_alpha_and_background_as_movies(ffvfx_cmd, scene, media, tmp_path, ffmpeg):
    """--print shows readable labels and movie= sources; the line runs as ``ffmpeg -vf`` with one
    input and gives the rendered picture (the video background loops there too)."""
    res = ffvfx_cmd("composite", scene["clip"], scene["alpha"], "--bg", scene["video"], "--print")
    assert res.returncode == 0, res.stderr
    line = res.stdout.strip()
    for part in ("[alpha]", "[fg]", "[bg]", "movie=", ":loop=0", "alphamerge", "overlay=format=gbrp"):
        assert part in line, part
    out = tmp_path / "printed.mkv"
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-i", str(scene["clip"]), "-vf", line,
                    "-c:v", "ffv1", str(out)], check=True, cwd=scene["dir"], timeout=60)
    got = media.decode(out)
    bg = scene["video_rgb"][np.arange(N) % len(scene["video_rgb"])]
    assert len(got) == N
    assert media.psnr_stack(got, reference(scene["fg"], scene["alpha_truth"], bg))[1] >= 35


def test_preview_plays(ffvfx_cmd, scene, tools, ffplay, tmp_path):
    """--preview runs ffplay with the printed graph (a wrapper stops it after one pass)."""
    d = tmp_path / "bin"
    d.mkdir()
    (d / "ffmpeg").symlink_to(tools.ffmpeg)
    if tools.ffprobe:
        (d / "ffprobe").symlink_to(tools.ffprobe)
    (d / "ffplay").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/args"\n'
                              f'exec "{ffplay}" "$@" -loop 1 -autoexit -an\n')
    (d / "ffplay").chmod(0o755)
    env = {"FFVFX_FFMPEG": str(d / "ffmpeg"), "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy"}
    res = ffvfx_cmd("composite", scene["clip"], scene["alpha"], "--bg", scene["image"], "--preview",
                    env=env, timeout=60)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    args = (d / "args").read_text().splitlines()
    printed = ffvfx_cmd("composite", scene["clip"], scene["alpha"], "--bg", scene["image"], "--print")
    assert args[args.index("-vf") + 1] == printed.stdout.strip()


def test_colour_string_cannot_add_a_filter(ffmpeg, scene):
    """Even past the CLI's colour check, a colour lands in the graph as one escaped value: ffmpeg
    reads the whole string as a colour and fails, no drawbox or second source appears."""
    evil = "red,drawbox=c=blue:t=fill[x];color=green[y]"
    graph = printable_graph(lambda s: composite_effect.composite(
        s, Input(str(scene["alpha"]), label="alpha").video, composite_effect.Background("color", evil),
        size=(64, 36), fps=Fraction(30)))
    line = graph.line()
    assert "drawbox" in line and graph.filter_names() >= {"color", "overlay"}
    assert "drawbox" not in graph.filter_names()
    res = subprocess.run([ffmpeg, "-hide_banner", "-f", "lavfi", "-i", "testsrc2=s=64x36:d=0.1",
                          "-filter_complex", line, "-f", "null", "-"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode != 0 and f"Cannot find color '{evil}'" in res.stderr, res.stderr[-500:]


@pytest.fixture(scope="module")
def bad_alphas(scene, ffmpeg):
    d = scene["dir"]
    a = str(scene["alpha"])
    made = {"small": ["-vf", "scale=160:90"], "short": ["-frames:v", "30"],
            "rate": ["-vf", "setpts=N/25/TB", "-r", "25"]}
    paths = {}
    for name, args in made.items():
        paths[name] = d / f"alpha-{name}.mkv"
        subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", a, *args, "-c:v", "ffv1",
                        "-pix_fmt", "gray", str(paths[name])], check=True, timeout=60)
    paths["colour"] = scene["clip"]
    return paths


@pytest.mark.parametrize("case,word", [
    ("small", "160x90"), ("short", "30 frames"), ("rate", "25.000 fps"), ("colour", "gray matte"),
    ("missing input", "no such file"), ("missing alpha", "no such file"), ("missing bg", "no such file"),
    ("inject", "not a colour"), ("pad inject", "not a colour"), ("shift", "--shift-bg"),
])
def test_bad_input_is_one_line_and_writes_nothing(capsys, scene, bad_alphas, tmp_path, case, word):
    """Run in-process (``run_cli``): exit code 1, one ``ffvfx: error:`` line, no file written."""
    clip, alpha, bg = scene["clip"], scene["alpha"], "black"
    extra: list[str] = []
    if case in bad_alphas:
        alpha = bad_alphas[case]
    elif case == "missing input":
        clip = tmp_path / "nope.mp4"
    elif case == "missing alpha":
        alpha = tmp_path / "nope.mkv"
    elif case == "missing bg":
        bg = str(tmp_path / "nope.png")
    elif case == "inject":
        bg = "red,drawbox=c=blue:t=fill[x];[x]null"
    elif case == "pad inject":
        extra = ["--fit", "contain", "--pad-color", "black:x=5,negate"]
    else:
        extra = ["--shift-bg", "3;4"]
    out = tmp_path / "out.mp4"
    code = run_cli(["composite", str(clip), str(alpha), str(out), "--bg", bg, *extra, "-q"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("ffvfx: error:") \
        and word in lines[0], err
    assert list(tmp_path.iterdir()) == []
