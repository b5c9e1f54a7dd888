"""``ffvfx loop`` end to end: known periods, no false loops, the written files, the page in a browser.

The periodic clip is the demo scene with a static camera: its subject's motion repeats exactly
every ``P`` frames, so the whole frame does. A scrolling noise field never repeats; a black stretch
and hard cuts between still pictures match themselves but are no loops.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from ffvfx.stages import demo

P = 24
SPEC = demo.DemoSpec(width=320, height=180, seconds=5.0, pan=(0, 0), period=P, seed=3)
RANGE = ("--min-length", "20", "--max-length", "60")


@pytest.fixture(scope="module")
def periodic(tmp_path_factory, ffmpeg) -> Path:
    clip = tmp_path_factory.mktemp("loops") / "periodic.mp4"
    demo.write_demo(clip, SPEC, ffmpeg)
    return clip


@pytest.fixture(scope="module")
def found(periodic, ffvfx_cmd) -> tuple[Path, dict, str]:
    """``loop --loops 3`` on the periodic clip: (output folder, loops.json, stdout)."""
    out = periodic.with_name("out")
    res = ffvfx_cmd("loop", periodic, "-o", out, "--loops", "3", *RANGE, "-q")
    assert res.returncode == 0, res.stderr
    return out, json.loads((out / "loops.json").read_text()), res.stdout


def _gray(frames: np.ndarray) -> np.ndarray:
    return frames.astype(np.float64).mean(axis=-1)


def _seam_ratio(frames: np.ndarray) -> float:
    """|last -> first change| / median frame-to-frame change inside, of the clip played twice."""
    g = _gray(frames)
    inside = np.abs(np.diff(g, axis=0)).mean(axis=(1, 2))
    seam = np.abs(g[0] - g[-1]).mean()
    return float(seam / np.median(inside))


def test_best_loop_is_the_period_and_plays_without_a_seam(found, media):
    out, data, stdout = found
    loops = data["loops"]
    assert len(loops) == 3  # --loops 3, and the clip has room for more
    best = loops[0]
    assert min(abs(best["length"] - k * P) for k in (1, 2)) <= 1, best
    assert best["score"] >= max(x["score"] for x in loops)
    frames = media.decode(out / best["file"])
    assert _seam_ratio(frames) <= 1.5
    assert "loop_0.webm" in stdout


def test_listing_matches_the_files_and_loops_do_not_overlap(found, media):
    out, data, _ = found
    spans = sorted((x["start"], x["end"]) for x in data["loops"])
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end <= start, spans
    assert sorted(p.name for p in out.glob("loop_*")) == sorted(x["file"] for x in data["loops"])
    for x in data["loops"]:
        assert x["end"] - x["start"] == x["length"] == len(media.decode(out / x["file"]))
        assert x["start_time"] == pytest.approx(x["start"] / SPEC.fps, abs=1e-5)
    page = (out / "index.html").read_text()
    assert page.count("<video autoplay loop muted playsinline") == 3
    assert 'href="../periodic.mp4"' in page


def test_crossfade_keeps_the_length_and_the_seam(periodic, ffvfx_cmd, media, tmp_path):
    res = ffvfx_cmd("loop", periodic, "-o", tmp_path / "x", "--loops", "1", "--crossfade", "4",
                    "--min-length", "30", "--max-length", "60", "-q")
    assert res.returncode == 0, res.stderr
    (loop,) = json.loads((tmp_path / "x" / "loops.json").read_text())["loops"]
    assert loop["start"] >= 4 and abs(loop["length"] - 2 * P) <= 1
    frames = media.decode(tmp_path / "x" / loop["file"])
    assert len(frames) == loop["length"]
    assert _seam_ratio(frames) <= 1.5


def test_printed_graph_runs_and_cuts_the_loop(periodic, found, ffvfx_cmd, media):
    _, data, _ = found
    res = ffvfx_cmd("loop", periodic, "--loops", "3", *RANGE, "--print")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 3 and all("trim=start_frame=" in ln for ln in lines)
    first = data["loops"][0]
    assert f"trim=start_frame={first['start']}:end_frame={first['end']}" in lines[0]
    assert len(media.decode(periodic, vf=lines[0])) == first["length"]


def test_alpha_keeps_the_matte(periodic, ffvfx_cmd, media, ffmpeg, tmp_path):
    matte = periodic.with_name("periodic.alpha.mkv")
    out = tmp_path / "a"
    res = ffvfx_cmd("loop", periodic, "-o", out, "--loops", "1", *RANGE, "--alpha", matte, "-q")
    assert res.returncode == 0, res.stderr
    (loop,) = json.loads((out / "loops.json").read_text())["loops"]
    w, h = SPEC.width, SPEC.height
    raw = subprocess.run([ffmpeg, "-v", "error", "-c:v", "libvpx-vp9", "-i", str(out / loop["file"]),
                          "-f", "rawvideo", "-pix_fmt", "yuva420p", "-"], capture_output=True,
                         check=True).stdout
    size = w * h * 5 // 2
    assert len(raw) == size * loop["length"]
    got = np.frombuffer(raw, np.uint8).reshape(loop["length"], size)[:, w * h * 3 // 2:]
    want = media.decode(matte)[loop["start"]:loop["end"], ..., 0].reshape(loop["length"], -1)
    err = np.abs(got.astype(int) - want)
    assert err.mean() < 2 and np.percentile(err, 99.9) < 40, (err.mean(), err.max())


def _noise_scroll(n: int = 120, w: int = 160, h: int = 96, speed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(7)
    field = cv2.GaussianBlur(rng.uniform(0, 255, (h, w + speed * n)).astype(np.float32), (0, 0), 2)
    field = cv2.normalize(field, None, 20, 235, cv2.NORM_MINMAX)
    frames = np.stack([field[:, speed * i: speed * i + w] for i in range(n)])
    return np.repeat(frames.astype(np.uint8)[..., None], 3, axis=-1)


def _stills_and_black(scenes) -> np.ndarray:
    """Picture A, hard cut to B, hard cut back to A (stills, 20 frames each), then 60 black frames."""
    rng = np.random.default_rng(3)
    a = cv2.GaussianBlur(rng.uniform(0, 255, (96, 160, 3)).astype(np.float32), (0, 0), 4)
    a = cv2.normalize(a, None, 20, 235, cv2.NORM_MINMAX).astype(np.uint8)
    b = scenes.blobs(1, 160, 96)[0]
    black = np.zeros_like(a)
    return np.stack([a] * 20 + [b] * 20 + [a] * 20 + [black] * 60)


@pytest.mark.parametrize("kind", ["scrolling-noise", "cuts-and-black"])
def test_no_loop_is_said_plainly(kind, media, scenes, ffvfx_cmd, tmp_path):
    frames = _noise_scroll() if kind == "scrolling-noise" else _stills_and_black(scenes)
    clip = media.write(tmp_path / "in.mkv", frames)
    res = ffvfx_cmd("loop", clip, "-o", tmp_path / "o", "--min-length", "10", "--max-length", "60", "-q")
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "o" / "loops.json").read_text())["loops"] == []
    assert "no seamless loop found" in res.stdout
    assert not list((tmp_path / "o").glob("loop_*"))


def test_existing_loops_are_kept_without_y(found, periodic, ffvfx_cmd):
    out, _, _ = found
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    res = ffvfx_cmd("loop", periodic, "-o", out, *RANGE, "-q")
    lines = res.stderr.splitlines()
    assert res.returncode != 0 and len(lines) == 1 and "exists" in lines[0], res.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.fixture(scope="module")
def bad_dir(media, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("badloop")
    (d / "notes.txt").write_text("hello, this is not a video\n" * 20)
    media.run("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", d / "tone.m4a")
    media.run("-f", "lavfi", "-i", "color=s=64x48:r=30", "-frames:v", "0", "-c:v", "libx264",
              "-movflags", "frag_keyframe+empty_moov", d / "empty.mp4")
    media.run("-f", "lavfi", "-i", "testsrc2=s=64x48:r=30:d=1", "-c:v", "libx264", d / "in.mp4")
    return d


@pytest.mark.parametrize("args,word", [
    (["nothere.mp4"], "no such file"),
    (["notes.txt"], "not a video"),
    (["tone.m4a"], "no video stream"),
    (["empty.mp4"], "no frames"),
    (["in.mp4", "--min-length", "soon"], "min-length"),
    (["in.mp4", "--min-length", "2s", "--max-length", "1s"], "max-length"),
    (["in.mp4", "--threshold", "2"], "threshold"),
    (["in.mp4", "--alpha", "tone.m4a"], "no video stream"),
    (["in.mp4", "--alpha", "in.mp4", "--format", "gif"], "webm"),
])
def test_bad_input_is_one_line_and_writes_nothing(bad_dir, ffvfx_cmd, tmp_path, args, word):
    work = tmp_path / "w"
    shutil.copytree(bad_dir, work)
    res = ffvfx_cmd("loop", *args, cwd=work)
    lines = res.stderr.splitlines()
    assert res.returncode != 0 and len(lines) == 1, res.stderr
    assert lines[0].startswith("ffvfx: error: ") and word in lines[0].lower(), lines[0]
    assert sorted(p.name for p in work.iterdir()) == sorted(p.name for p in bad_dir.iterdir())



# -- seams judged on real pixels ----------------------------------------------------------------------
JP, JN = 24, 80          # the seam clips: period of the disc, frames
SEAM_RANGE = ("--min-length", "16", "--max-length", "40")


def _seam_clip(kind: str) -> np.ndarray:
    """A bright disc orbiting every JP frames over a still texture, 160x96, JN frames, gray.

    The hash sees the disc, which repeats exactly, so spans of JP and 2 JP frames match by hash.
    ``periodic``: nothing else. ``jumps``: a 9 px dark square walks 1 px a frame along the bottom,
    so at every loop point it jumps back JP px. ``drifts``: the texture slides 0.1 px a frame, so
    the camera jumps back 0.1 px per frame of the loop.
    """
    rng = np.random.default_rng(11)
    w, h = 160, 96
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (h + 8, w + 16)).astype(np.float32), (0, 0), 2)
    texture = cv2.normalize(texture, None, 50, 190, cv2.NORM_MINMAX)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for i in range(JN):
        slide = 0.1 * i if kind == "drifts" else 0.0
        shift = np.float32([[1, 0, 4 + slide], [0, 1, 4]])
        img = cv2.warpAffine(texture, shift, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        angle = 2 * np.pi * i / JP
        disc = np.clip(18 - np.hypot(xx - 60 - 30 * np.cos(angle), yy - 34 - 12 * np.sin(angle)), 0, 1)
        img = img * (1 - disc) + 235 * disc
        if kind == "jumps":
            x0 = 20.0 + i
            box = np.minimum(np.minimum(xx - x0 + 0.5, x0 + 8.5 - xx), np.minimum(yy - 73.5, 82.5 - yy))
            square = np.clip(box, 0, 1)
            img = img * (1 - square) + 40 * square
        out.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
    return np.repeat(np.stack(out)[..., None], 3, axis=-1)


def _tile_errors(a: np.ndarray, b: np.ndarray, tile: int = 16) -> np.ndarray:
    """Mean squared difference of two gray frames in each ``tile`` px square (full resolution)."""
    sq = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    h, w = sq.shape[0] // tile * tile, sq.shape[1] // tile * tile
    return sq[:h, :w].reshape(h // tile, tile, w // tile, tile).mean(axis=(1, 3))


def _seam_jump_db(gray: np.ndarray, start: int, end: int) -> float:
    """How much worse (dB) the seam step ``end - 1 -> start`` is than the step it replaces
    (``end - 1 -> end``) in the tile where it is worst; errors below 1 level^2 count as 1."""
    seam = _tile_errors(gray[end - 1], gray[start])
    ordinary = _tile_errors(gray[end - 1], gray[end])
    return float(10 * np.log10(np.maximum(seam, 1) / np.maximum(ordinary, 1)).max())


@pytest.fixture(scope="module")
def seam_clips(tmp_path_factory, media) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("seams")
    return {kind: media.write(d / f"{kind}.mkv", _seam_clip(kind))
            for kind in ("periodic", "jumps", "drifts")}


def _loop_run(ffvfx_cmd, clip: Path, out: Path, *args: str) -> tuple[dict, str]:
    res = ffvfx_cmd("loop", clip, "-o", out, *SEAM_RANGE, "-q", *args)
    assert res.returncode == 0, res.stderr
    return json.loads((out / "loops.json").read_text()), res.stdout


@pytest.mark.parametrize("kind", ["jumps", "drifts"])
def test_a_seam_that_jumps_is_not_seamless(kind, seam_clips, ffvfx_cmd, tmp_path):
    """The hash matches the ends (the disc repeats) but the pixels jump: no loop, and why."""
    gray = _seam_clip(kind)[..., 0]
    data, stdout = _loop_run(ffvfx_cmd, seam_clips[kind], tmp_path / "o")
    assert data["loops"] == [] and not list((tmp_path / "o").glob("loop_*"))
    assert "no seamless loop found" in stdout and "--crossfade" in stdout, stdout
    refused = data["refused"]
    assert refused and data["refusal"] in stdout
    for x in refused:
        assert x["seam"] <= 0.1 and not x["seamless"]  # matched by hash, refused on pixels
        assert x["length"] % JP == 0
        assert _seam_jump_db(gray, x["start"], x["end"]) >= 6  # it does jump, in full-size pixels
        assert x["tile_seam_psnr"] < x["tile_step_psnr"] - 3
        want_drift = 0.1 * x["length"] if kind == "drifts" else 0.0
        assert x["drift"] == pytest.approx(want_drift, abs=0.4), x


def test_a_periodic_clip_still_loops_with_a_clean_seam(seam_clips, ffvfx_cmd, tmp_path):
    gray = _seam_clip("periodic")[..., 0]
    data, stdout = _loop_run(ffvfx_cmd, seam_clips["periodic"], tmp_path / "o", "--loops", "2")
    assert len(data["loops"]) == 2 and data["refusal"] is None
    for x in data["loops"]:
        assert x["length"] % JP == 0 and x["seamless"] and x["score"] >= 0.99, x
        assert _seam_jump_db(gray, x["start"], x["end"]) <= 1
        assert x["seam_psnr"] >= x["step_psnr"] - 3 and x["tile_seam_psnr"] >= x["tile_step_psnr"] - 3
        assert x["drift"] == pytest.approx(0, abs=0.2)
    assert "loop_0.webm" in stdout and "dB" in stdout


def _wrap_jump(loop: np.ndarray, wrap: int) -> float:
    """``loop`` (gray frames) played round: the largest ratio, over the 16 px tiles below the
    disc's reach, of what one of its last ``wrap`` steps (into the first frame) changes in a tile
    to the most any other of its steps changes there (errors under 4 levels^2 count as 4)."""
    frames = np.concatenate([loop, loop[:1]])[:, 64:]
    steps = np.array([_tile_errors(a, b) for a, b in zip(frames, frames[1:], strict=False)])
    seam, other = steps[-wrap:].max(axis=0), steps[:-wrap].max(axis=0)
    return float((np.maximum(seam, 4) / np.maximum(other, 4)).max())


def _crossfaded(frames: np.ndarray, start: int, end: int, fade: int) -> np.ndarray:
    """Frames ``[start, end)`` with the last ``fade`` blended into the ones before ``start``, the
    earlier ones weighted (j + 1) / (fade + 1) (the contract of :mod:`ffvfx.effects.loop`)."""
    body = list(frames[start:end - fade])
    for j in range(fade):
        weight = (j + 1) / (fade + 1)
        body.append(frames[end - fade + j] * (1 - weight) + frames[start - fade + j] * weight)
    return np.array(body)


def test_the_suggested_crossfade_hides_the_jump(seam_clips, ffvfx_cmd, tmp_path):
    """The crossfade the refusal names gives a loop whose walker fades over instead of jumping."""
    data, _ = _loop_run(ffvfx_cmd, seam_clips["jumps"], tmp_path / "o")
    fade = next(x["hide_crossfade"] for x in data["refused"] if x["hide_crossfade"])
    assert f"--crossfade {fade}" in data["refusal"]
    faded, stdout = _loop_run(ffvfx_cmd, seam_clips["jumps"], tmp_path / "f", "--crossfade", str(fade),
                              "--loops", "1")
    (loop,) = faded["loops"]
    assert loop["seamless"] and loop["crossfade"] == fade and loop["length"] % JP == 0
    assert "loop_0.webm" in stdout
    source = _seam_clip("jumps")[..., 0].astype(np.float64)
    start, end = loop["start"], loop["end"]
    assert _wrap_jump(source[start:end], 1) > 4                               # cut, it jumps
    assert _wrap_jump(_crossfaded(source, start, end, fade), fade + 1) <= 2   # blended, it fades

# -- the page in a real browser ---------------------------------------------------------------------
_PROBE = """<pre id="probe">pending</pre><script>
const seen = new Map();
for (const v of document.querySelectorAll('video')) {
  seen.set(v, {times: new Set(), ready: 0});
  v.addEventListener('timeupdate', () => {
    const s = seen.get(v); s.times.add(v.currentTime); s.ready = Math.max(s.ready, v.readyState);
  });
}
setTimeout(() => {
  document.getElementById('probe').textContent = JSON.stringify(Array.from(seen, ([v, s]) => ({
    src: v.getAttribute('src'), ready: Math.max(s.ready, v.readyState), times: s.times.size,
    max: Math.max(0, ...s.times), error: v.error ? v.error.code : 0, paused: v.paused})));
}, 3000);
</script>"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no chromium here (bin/setup test installs Debian's chromium when run as root)")


def _browser(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    argv = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--autoplay-policy=no-user-gesture-required", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def test_page_plays_every_loop_in_a_browser(found, tmp_path):
    exe = _chromium()
    out, data, _ = found
    page = out / "index.html"
    probe = out / "probe-test.html"  # a test-only copy with a script that reports the videos
    probe.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
    try:
        res = _browser(exe, tmp_path / "profile", "--virtual-time-budget=6000", "--dump-dom",
                       probe.as_uri())
    finally:
        probe.unlink()
    start = res.stdout.find('<pre id="probe">')
    assert start >= 0, res.stderr[-2000:]
    report = json.loads(res.stdout[start + 16:res.stdout.index("</pre>", start)])
    assert [v["src"] for v in report] == [x["file"] for x in data["loops"]]
    for v in report:
        assert v["error"] == 0 and not v["paused"], v
        assert v["ready"] >= 2 and v["times"] >= 3 and v["max"] > 0, v  # data there, time advancing
    shot = tmp_path / "shot.png"
    _browser(exe, tmp_path / "profile2", "--window-size=1280,800", "--virtual-time-budget=2000",
             f"--screenshot={shot}", page.as_uri())
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (800, 1280)
    assert image.std() > 10  # the page drew something (not a blank window)


def test_preview_plays_the_best_loop(periodic, found, ffvfx_cmd, tools, tmp_path):
    """``--preview`` hands ffplay the best loop's graph on the input (what --print shows first)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "ffmpeg").symlink_to(tools.ffmpeg)
    if tools.ffprobe:
        (bindir / "ffprobe").symlink_to(tools.ffprobe)
    (bindir / "ffplay").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/ffplay.args"\n')
    (bindir / "ffplay").chmod(0o755)
    env = {"FFVFX_FFMPEG": str(bindir / "ffmpeg"), "FFVFX_CACHE": str(tmp_path / "cache")}
    res = ffvfx_cmd("loop", periodic, "--loops", "3", *RANGE, "--preview", "-q", env=env)
    assert res.returncode == 0, res.stderr
    args = (bindir / "ffplay.args").read_text().splitlines()
    printed = ffvfx_cmd("loop", periodic, "--loops", "3", *RANGE, "--print").stdout.splitlines()[0]
    assert args[args.index("-vf") + 1] == printed
    assert args[args.index("-i") + 1] == str(periodic)


def test_crossfade_weights_follow_the_definition(tmp_path, media, tools):
    """The crossfade's frame j (0-based) is ``(1 - w) * frame(end - N + j) + w * frame(start - N + j)``
    with ``w = (j + 1) / (N + 1)`` (blend's ``N`` counts from 1: it was one step ahead)."""
    from ffvfx.pipelines.loop import encode
    from ffvfx.stages.analysis.loops import Loop
    frames = np.repeat(np.repeat((20 + 9 * np.arange(24))[:, None, None, None], 16, 1), 16, 2)
    frames = np.repeat(frames, 3, -1).astype(np.uint8)
    clip = media.write(tmp_path / "ramp.mkv", frames, fps=24)
    out = tmp_path / "loop.mp4"
    encode(Loop(start=6, end=20, fps=24.0, score=1.0, seam=0.0, distance=0.0), out, tools,
           source=str(clip), alpha=None, fmt="mp4", crossfade=3, crf=0, quiet=True)
    got = media.decode(out)[:, 8, 8, 0].astype(float)
    level = frames[:, 0, 0, 0].astype(float)
    want = list(level[6:17])
    for j in range(3):
        w = (j + 1) / 4
        want.append((1 - w) * level[17 + j] + w * level[3 + j])
    assert len(got) == 14
    assert np.abs(got - np.array(want)).max() <= 2
