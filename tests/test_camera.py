"""Camera compensation: the measured path against the demo's known pan, the side-file cache, the
per-frame expressions through real ffmpeg, and registration by pixels (PSNR on the background).

Sign convention under test (ffvfx.stages.demo): ``off[i] = (ox, oy)`` with
``frame_i[y, x] == frame_0[y + oy, x + ox]`` for background pixels.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time

import numpy as np
import pytest

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Graph, Input, filter
from ffvfx.effects import register
from ffvfx.stages import demo
from ffvfx.stages.analysis.camera import CameraPath, cached_path, measure_path, side_file

SPECS = {
    "half": demo.DemoSpec(width=480, height=270, seconds=2.0, pan=(1.5, 0.5), seed=3),
    "odd": demo.DemoSpec(width=320, height=180, seconds=2.0, pan=(-0.73, 1.27), seed=4),
}
DELAY = 10
EDGE = 24  # px left out at the frame edges (revealed by DELAY frames of pan) and around the subject


@pytest.fixture(scope="module")
def clips(tmp_path_factory, ffmpeg):
    d = tmp_path_factory.mktemp("camera")
    out = {}
    for name, spec in SPECS.items():
        path = d / f"{name}.mp4"
        demo.write_demo(path, spec, ffmpeg)
        out[name] = path
    return out


@pytest.fixture(scope="module")
def paths(clips, tools):
    return {name: measure_path(str(p), tools) for name, p in clips.items()}


@pytest.mark.parametrize("name", list(SPECS))
def test_path_matches_truth(paths, name):
    truth = np.array(demo.camera_path(SPECS[name]))
    got = np.array(paths[name].offsets)
    assert got.shape == truth.shape
    err = np.abs(got - truth).max()
    assert err <= 0.5, f"max error {err:.3f} px"
    assert paths[name].offsets[0] == (0.0, 0.0)
    assert paths[name].size == (SPECS[name].width, SPECS[name].height)


def test_path_range_and_flat_input(clips, tools, media, tmp_path):
    spec = SPECS["half"]
    part = measure_path(str(clips["half"]), tools, start=0.5, duration=1.0)
    truth = np.array(demo.camera_path(spec))
    assert len(part) == 30
    rel = truth[15:45] - truth[15]  # frame 15 is the new frame 0
    assert np.abs(np.array(part.offsets) - rel).max() <= 0.5
    flat = media.write(tmp_path / "flat.mkv", np.full((8, 64, 64, 3), 90, np.uint8))
    assert measure_path(str(flat), tools).offsets == [(0.0, 0.0)] * 8


def test_side_file_round_trip_and_cache(clips, tools, tmp_path):
    src = tmp_path / "clip.mp4"
    shutil.copy(clips["odd"], src)
    first = cached_path(src, tools, cache_dir=tmp_path / "cache")
    side = side_file(src, cache_dir=tmp_path / "cache")
    assert side.exists()
    assert CameraPath.load(side).offsets == first.offsets
    stamp = side.stat().st_mtime_ns
    time.sleep(0.01)
    again = cached_path(src, tools, cache_dir=tmp_path / "cache")
    assert again.offsets == first.offsets and side.stat().st_mtime_ns == stamp  # reused
    other_range = cached_path(src, tools, start=0.5, cache_dir=tmp_path / "cache")
    assert len(other_range) == len(first) - 15
    shutil.copy(clips["half"], src)  # the input changed: size and mtime differ
    os.utime(src, ns=(stamp + 10**9, stamp + 10**9))
    changed = cached_path(src, tools, cache_dir=tmp_path / "cache")
    assert changed.size == (480, 270) and changed.offsets != first.offsets


def evaluate(expr: str, **variables: float) -> float:
    """Evaluate a :func:`register.per_frame` expression in Python: ``if``, ``lt``, numbers."""
    env = {"f_if": lambda c, a, b: a if c else b, "f_lt": lambda a, b: float(a < b),
           **{f"v_{k}": v for k, v in variables.items()}}
    text = re.sub(r"\b([A-Za-z_]\w*)\b(\()?", lambda m: ("f_" if m.group(2) else "v_") + m.group(0), expr)
    return float(eval(text, {"__builtins__": {}}, env))  # noqa: S307


@pytest.mark.parametrize("count", [1, 2, 97, 1000])
def test_per_frame_python(count):
    rng = np.random.default_rng(count)
    values = np.round(rng.uniform(-50, 50, count), 3).tolist()
    if count > 2:
        values[5:9] = [values[4]] * 4  # runs collapse
    expr = register.per_frame(values)
    for n in list(range(count)) + [-3, count, count + 5]:
        assert evaluate(expr, n=n) == pytest.approx(values[min(max(n, 0), count - 1)], abs=1e-4)
    expr1 = register.per_frame(values, var="in", first=1)
    assert evaluate(expr1, **{"in": 1}) == pytest.approx(values[0], abs=1e-4)


@pytest.mark.parametrize("count", [2, 97, 1000])
def test_per_frame_through_ffmpeg(tc, tmp_path, count):
    """crop (n from 0) and perspective (in from 1) read the same per-frame values, frame-exact."""
    w, h = 96, 16
    frames = count if count < 200 else 200
    rng = np.random.default_rng(count)
    xs = rng.integers(0, 40, count).tolist()
    ramp = np.tile(np.arange(w, dtype=np.uint8) * 2, (h, 1))
    raw = np.repeat(ramp[None], frames, axis=0).tobytes()
    base = [tc.ffmpeg, "-v", "error", "-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{w}x{h}", "-i", "-"]
    crop = filter(Input().video, "crop", w=48, h=h, x=register.per_frame(xs), y=0)
    shifted = register.shift(Input().video, [float(x) for x in xs], [0.0] * count)
    for graph, width in ((Graph(crop), 48), (Graph(shifted), w)):
        script = tmp_path / "graph.txt"
        script.write_text(graph.script())
        res = subprocess.run([*base, tc.script_option(), str(script), "-f", "rawvideo", "-pix_fmt", "gray",
                              "-"], input=raw, capture_output=True, timeout=60)
        assert res.returncode == 0, res.stderr.decode()[-1000:]
        out = np.frombuffer(res.stdout, np.uint8).reshape(-1, h, width)
        assert len(out) == frames
        assert [int(f[4, 0]) // 2 for f in out] == xs[:frames]


def _background_psnr(media, got, ref, alphas):
    """PSNR over pixels away from the edges and from the subject in this and the delayed frame."""
    import cv2

    n, h, w = got.shape[:3]
    mask = np.zeros((n, h, w), bool)
    kernel = np.ones((2 * EDGE + 1, 2 * EDGE + 1), np.uint8)
    for i in range(n):
        subject = np.maximum(alphas[i], alphas[max(i - DELAY, 0)])
        mask[i] = cv2.dilate((subject > 0).astype(np.uint8), kernel) == 0
    mask[:, :EDGE] = mask[:, -EDGE:] = False
    mask[:, :, :EDGE] = mask[:, :, -EDGE:] = False
    return media.psnr(got[mask], ref[mask])


@pytest.mark.parametrize("name", list(SPECS))
def test_registered_echo_keeps_background(clips, paths, media, name):
    src = clips[name]
    frames = media.decode(src)
    alphas = media.decode(src.with_name(src.stem + ".alpha.mkv"))[..., 0]

    def trail(hook):
        inp = Input().video
        past = timeline.delayed(hook.prepare(inp) if hook is not None else inp, DELAY)
        if hook is not None:
            past = hook(past, 1)
        out = filter([inp, past], "mix", inputs=2, weights="1 1", duration="first")
        return media.decode(src, vf=Graph(out).line())

    registered = trail(register.echo_register(paths[name], DELAY, layers=1))
    plain = trail(None)
    assert registered.shape == frames.shape
    good = _background_psnr(media, registered, frames, alphas)
    bad = _background_psnr(media, plain, frames, alphas)
    assert good >= 35, f"registered background {good:.1f} dB"
    assert bad < 30, f"unregistered background {bad:.1f} dB"
