"""Conformance matrix: every render command at every common (and uncommon) frame rate, container,
constant or variable rate with audio, even and odd size, on brightness-coded frames.

Issue 15's reproductions: trails multiplying frames at 29.75/18/7/90 fps, ``motion --delay 8``
pairing with the frame 9 back, variable-rate input losing audio sync, odd sizes breaking camera
compensation and masks. The cases are the rows of a pairwise covering array built here (each pair
of values of any two factors meets in at least one row), so the matrix stays small enough for CI
on two ffmpeg builds while every rate meets every command, container, timing and size.

Per case: the frame count is the input's (every output frame is one input frame), the output's
timestamps increase evenly, video and audio end within one frame of each other, and the pixels
match the effect's definition computed here in numpy from the decoded input with the exact delay
(or echo spacing), and clearly not with the delay one frame off.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from ffvfx import cli

RATES = ("7", "12.5", "18", "24000/1001", "24", "25", "119/4", "30000/1001", "30", "50",
         "60000/1001", "90", "120")
COMMANDS = ("motion-gray", "motion-black", "motion-matte", "motion-glow", "motion-rgb", "trails",
            "trails-compensated", "trails-mask", "composite", "matte-chroma", "studio", "inpaint",
            "loop")
CONTAINERS = ("mp4", "mkv", "mov", "webm")
TIMINGS = ("cfr", "vfr-audio")
SIZES = ("even", "odd")
N = 24                      # frames per clip
DELAY, DELAYS = 3, (1, 3, 5)
LAYERS, SPACING, DECAY = 3, 2, 0.7
BG = (32, 64, 96)           # composite's background colour
BG_HEX = "0x204060"


def pairwise(factors: dict[str, tuple]) -> list[dict[str, object]]:
    """A small set of rows in which every pair of values of any two factors appears (greedy,
    deterministic): the first factors' pairs seed each row, the rest fill the most new pairs."""
    names = list(factors)
    uncovered = {((a, va), (b, vb)) for a, b in itertools.combinations(names, 2)
                 for va in factors[a] for vb in factors[b]}
    rows = []
    while uncovered:
        (a, va), (b, vb) = min(uncovered, key=lambda p: (names.index(p[0][0]), names.index(p[1][0]),
                                                         factors[p[0][0]].index(p[0][1]),
                                                         factors[p[1][0]].index(p[1][1])))
        row = {a: va, b: vb}
        for name in names:
            if name in row:
                continue
            row[name] = max(factors[name], key=lambda v: sum(
                (((n, row[n]), (name, v)) if names.index(n) < names.index(name)
                 else ((name, v), (n, row[n]))) in uncovered for n in row))
        uncovered -= {((x, row[x]), (y, row[y])) for x, y in itertools.combinations(names, 2)}
        rows.append(row)
    return rows


FACTORS = {"command": COMMANDS, "rate": RATES, "container": CONTAINERS, "timing": TIMINGS,
           "size": SIZES}
CASES = pairwise(FACTORS)


def test_the_matrix_covers_every_pair():
    for a, b in itertools.combinations(FACTORS, 2):
        for va in FACTORS[a]:
            for vb in FACTORS[b]:
                assert any(r[a] == va and r[b] == vb for r in CASES), (a, va, b, vb)
    assert len(CASES) < 200


# -- clips -------------------------------------------------------------------------------------
def coded_frames(n: int, w: int, h: int, seed: int = 7) -> np.ndarray:
    """Gray frames each at its own flat level (a permutation of levels 4 apart) over a static
    ramp: any two frames differ by >= 4 levels everywhere, and nothing moves (camera analysis
    finds no shift)."""
    rng = np.random.default_rng(seed)
    levels = rng.permutation(40 + 4 * np.arange(n)).astype(np.float64)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    ramp = 12 * xx / w + 8 * yy / h
    frames = np.clip(np.rint(levels[:, None, None] + ramp), 0, 255).astype(np.uint8)
    return np.repeat(frames[..., None], 3, axis=-1)


def chroma_frames(n: int, w: int, h: int) -> tuple[np.ndarray, list[int]]:
    """A gray square on a green screen, at a column that codes the frame index."""
    frames = np.zeros((n, h, w, 3), np.uint8)
    frames[..., 1] = 200
    frames[..., 0] = frames[..., 2] = 30
    xs = [2 + (7 * k) % (w - 18) for k in range(n)]
    for k, x in enumerate(xs):
        frames[k, h // 4:h // 4 + 14, x:x + 14] = 180
    return frames, xs


def alpha_levels(n: int, seed: int = 3) -> np.ndarray:
    """Per-frame flat alpha levels (a permutation), so an alpha paired with the wrong frame shows."""
    return np.random.default_rng(seed).permutation(np.linspace(30, 225, n).round()).astype(np.uint8)


_CODECS = {"mp4": ("libx264", "yuv444p", ["-qp", "0"]), "mov": ("libx264", "yuv444p", ["-qp", "0"]),
           "mkv": ("ffv1", "gbrp", []), "webm": ("libvpx-vp9", "yuv444p", ["-lossless", "1"])}
_AUDIO = {"mp4": "aac", "mov": "aac", "mkv": "flac", "webm": "libopus"}


def write_clip(ffmpeg_run, path: Path, frames: np.ndarray, rate: Fraction, vfr: bool,
               audio: bool) -> Path:
    """Encode ``frames`` losslessly at ``rate``; ``vfr``: frame times jittered by up to 0.35 of a
    frame (so the rate is variable), with a sine audio track as long as the video."""
    n, h, w, _ = frames.shape
    ext = path.suffix[1:]
    vcodec, pix_fmt, extra = _CODECS[ext]
    argv = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", str(rate),
            "-i", "pipe:0"]
    seconds = float(n / rate)
    if audio:
        argv += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds:.6f}"]
    argv += ["-map", "0:v"]
    if vfr:
        jitter = "0.35*eq(mod(N,3),1)-0.3*eq(mod(N,5),2)"
        argv += ["-vf", f"settb=1/90000,setpts='(N+{jitter})/({rate.numerator}/{rate.denominator})/TB'",
                 "-fps_mode", "passthrough", "-enc_time_base", "1/90000"]
    argv += ["-c:v", vcodec, "-pix_fmt", pix_fmt, *extra]
    if audio:
        argv += ["-map", "1:a", "-c:a", _AUDIO[ext]]
    ffmpeg_run(*argv, str(path), input=frames.tobytes())
    return path


# -- oracles -----------------------------------------------------------------------------------
def past(frames: np.ndarray, d: int) -> np.ndarray:
    idx = np.maximum(np.arange(len(frames)) - d, 0)
    return frames[idx].astype(np.float64)


def oracle(command: str, src: np.ndarray, d: int = DELAY, spacing: int = SPACING) -> np.ndarray:
    c = src.astype(np.float64)
    if command == "motion-gray":
        return 0.5 * c + 0.5 * (255 - past(src, d))
    if command == "motion-black":
        return np.abs(c - past(src, d))
    if command == "motion-matte":
        return c * np.clip(np.abs(c - past(src, d)) * 4 / 255, 0, 1)
    if command == "motion-glow":  # the difference is flat on these frames: its blur is itself
        return np.clip(c + np.abs(c - past(src, d)), 0, 255)
    if command == "motion-rgb":
        shift = d - DELAY
        out = np.empty_like(c)
        for ch, delay in enumerate(DELAYS):
            out[..., ch] = 0.5 * c[..., ch] + 0.5 * (255 - past(src, delay + shift)[..., ch])
        return out
    if command.startswith("trails"):
        weights = [DECAY**k for k in range(LAYERS + 1)]
        total = sum(w * past(src, k * spacing) for k, w in enumerate(weights))
        return total / sum(weights)
    raise AssertionError(command)


# -- running -----------------------------------------------------------------------------------
def case_id(case: dict) -> str:
    rate = case["rate"].replace("/", "_")
    return f"{case['command']}-{rate}-{case['container']}-{case['timing']}-{case['size']}"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """Tiny random-weight models for studio and inpaint (built once, loaded per case from disk)."""
    pytest.importorskip("diffusers")
    pytest.importorskip("transformers")
    import tiny_models

    from ffvfx.stages.mldeps import quiet
    quiet()
    d = tmp_path_factory.mktemp("tiny")
    return {"sd": str(tiny_models.sd_inpaint(d / "sd")), "cn": str(tiny_models.controlnet(d / "cn")),
            "depth": str(tiny_models.depth_anything(d / "depth"))}


def run(args: list[str], capsys) -> None:
    code = cli.run_cli([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 0, f"ffvfx {' '.join(map(str, args))} failed: {err}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_conformance(case, tmp_path, media, capsys, request, monkeypatch):
    monkeypatch.setenv("FFVFX_CACHE", str(tmp_path / "cache"))
    command, rate = case["command"], Fraction(case["rate"])
    w, h = (64, 48) if case["size"] == "even" else (65, 49)
    vfr = case["timing"] == "vfr-audio"
    ext = case["container"]
    out_ext = "mkv" if ext == "webm" else ext
    lossless = ["--encoder", "ffv1"] if out_ext == "mkv" else ["--encoder", "libx264", "--qp", "0"]

    def ffmpeg_run(*args, input=None):
        import subprocess
        res = subprocess.run([media.ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
                              *args], input=input, capture_output=True, timeout=120)
        assert res.returncode == 0, res.stderr.decode(errors="replace")[-2000:]

    if command == "matte-chroma":
        frames, xs = chroma_frames(N, w, h)
    else:
        frames = coded_frames(N, w, h)
    clip = write_clip(ffmpeg_run, tmp_path / f"in.{ext}", frames, rate, vfr, audio=vfr)
    src = media.decode(clip)
    assert len(src) == N
    out = tmp_path / f"out.{out_ext}"
    alpha = None
    if command in ("composite", "studio", "inpaint"):
        levels = alpha_levels(N)
        if command == "composite":
            mattes = np.repeat(levels[:, None, None, None], 3, -1) * np.ones((1, h, w, 1), np.uint8)
        else:  # a box: subject (studio) or region to paint (inpaint)
            mattes = np.zeros((N, h, w, 3), np.uint8)
            mattes[:, h // 4:3 * h // 4, w // 4:3 * w // 4] = 255
        alpha = write_clip(ffmpeg_run, tmp_path / "alpha.mkv", mattes, rate, False, audio=False)

    if command.startswith("motion"):
        mode = command.split("-")[1]
        extra = ["--delays", ",".join(map(str, DELAYS))] if mode == "rgb" else []
        extra += ["--strength", "4"] if mode == "matte" else []
        run(["motion", clip, out, "--mode", mode, "--delay", DELAY, *extra, *lossless, "-q"], capsys)
    elif command.startswith("trails"):
        extra = ["--no-compensate"] if command == "trails" else []
        extra += ["--mask"] if command == "trails-mask" else []
        run(["trails", clip, out, "--layers", LAYERS, "--spacing", SPACING, "--decay", DECAY, *extra,
             *lossless, "-q"], capsys)
    elif command == "composite":
        run(["composite", clip, alpha, out, "--bg", BG_HEX, *lossless, "-q"], capsys)
    elif command == "matte-chroma":
        run(["matte", clip, "-o", tmp_path / "matte", "--model", "chroma", "--key", "auto", "-q"],
            capsys)
        out = tmp_path / "matte" / "alpha.mkv"
    elif command == "studio":
        models = request.getfixturevalue("tiny")
        run(["studio", clip, alpha, out, "--prompt", "a beach", "--model", models["sd"], "--controlnet",
             models["cn"], "--depth-model", models["depth"], "--resolution", "64", "--steps", "2",
             "--layers", "2", "--blobs", "0", *lossless, "-q"], capsys)
    elif command == "inpaint":
        models = request.getfixturevalue("tiny")
        run(["inpaint", clip, alpha, out, "--prompt", "a wall", "--model", models["sd"],
             "--resolution", "64", "--steps", "4", "--denoise", "0.5", "--keyframes", "0",
             "--candidates", "1",
             "--propagate", "hold", "--grow", "0", "--feather", "0", "--blend", "0", *lossless, "-q"],
            capsys)
    elif command == "loop":
        from ffvfx.ffmpeg import toolchain
        from ffvfx.ffmpeg.probe import probe
        from ffvfx.pipelines.loop import encode
        from ffvfx.stages.analysis.loops import Loop
        tools = toolchain.find()
        info = probe(str(clip), tools)
        out = tmp_path / "loop.webm"
        loop = Loop(start=4, end=20, fps=float(info.fps), score=1.0, seam=0.0, distance=0.0)
        encode(loop, out, tools, source=str(clip), alpha=None, fmt="webm", crossfade=0, crf=None,
               quiet=True, rate=info.fps)

    got = media.decode(out)
    want_frames = 16 if command == "loop" else N
    assert len(got) == want_frames, f"{len(got)} frames, want {want_frames}"
    times = media.frame_times(out)
    steps = np.diff(times)
    assert (steps > 0).all(), "timestamps must increase"
    rounding = 0.0011 if out.suffix in (".mkv", ".webm") else 1e-4
    assert np.ptp(steps) <= 2 * rounding, f"uneven frame steps {steps.min():.6f}..{steps.max():.6f}"
    frame = float(np.median(steps))
    if not vfr:
        assert abs(frame - 1 / float(rate)) <= rounding, f"frame step {frame}, want {1 / float(rate)}"
    if vfr and command not in ("matte-chroma", "loop"):
        video = len(got) * frame
        audio = media.audio_duration(out)
        assert audio is not None, "the audio track was lost"
        assert abs(video - audio) <= frame + 0.025, f"video {video:.3f} s, audio {audio:.3f} s"

    crop = (slice(0, h), slice(0, w))
    got = got[:, crop[0], crop[1]].astype(np.float64)
    if command.startswith(("motion", "trails")):
        want = oracle(command, src)
        good = media.psnr(got, np.clip(want, 0, 255))
        if command == "trails-mask":  # where the mask is set, the trails; elsewhere the input
            lo, hi = np.minimum(src, want) - 3, np.maximum(src, want) + 3
            assert ((got >= lo) & (got <= hi)).mean() > 0.99
        else:
            assert good >= 34, f"{good:.1f} dB against the definition"
            for off in (-1, 1):  # the delay (or echo spacing) one frame off
                wrong = oracle(command, src, d=DELAY + off, spacing=SPACING + off)
                bad = media.psnr(got, np.clip(wrong, 0, 255))
                assert bad < good - 6, f"off by {off} frame fits as well ({bad:.1f} vs {good:.1f} dB)"
    elif command == "composite":
        a = alpha_levels(N).astype(np.float64)[:, None, None, None] / 255
        want = a * src + (1 - a) * np.array(BG, np.float64)
        assert media.psnr(got, want) >= 34
        assert media.psnr(got, np.roll(want, 1, axis=0)) < media.psnr(got, want) - 6
    elif command == "matte-chroma":
        for k, x in enumerate(xs):
            row = got[k, h // 4 + 7, :, 0]
            far = x + 7 + 24 if x + 7 + 24 < w else x + 7 - 24
            assert row[x + 7] > 200 and row[far] < 50, f"frame {k}: the square is not at x={x}"
    elif command in ("studio", "inpaint"):
        box = np.zeros((h, w), bool)
        box[h // 4:3 * h // 4, w // 4:3 * w // 4] = True
        keep = box if command == "studio" else ~box
        if command == "studio":  # the subject's edge may be softened: its inner part is the input
            keep[h // 4:h // 4 + 2] = keep[3 * h // 4 - 2:3 * h // 4] = False
            keep[:, w // 4:w // 4 + 2] = keep[:, 3 * w // 4 - 2:3 * w // 4] = False
        good = media.psnr(got[:, keep], src[:, keep].astype(np.float64))
        assert good >= 34, f"{good:.1f} dB on the kept region"
        assert media.psnr(got[:, keep], np.roll(src, 1, axis=0)[:, keep]) < good - 6
    elif command == "loop":
        assert media.psnr(got, src[4:20].astype(np.float64)) >= 34
