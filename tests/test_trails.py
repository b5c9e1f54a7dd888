"""Pixel tests of the trails effect (ffvfx.effects.trails) against numpy, through real ffmpeg.

Clips are written from numpy frames (lossless FFV1/gbrp unless the test is about containers),
rendered through the graph the library builds (the printed one-liner as ``-vf``, or
``-filter_complex`` with a matte as second input), piped out as RGB24, and compared with the
module docstring's definitions computed in numpy from the decoded input frames. With
``c_k`` = frame ``max(n - k*spacing, 0)`` and ``w_k = intensity * decay**k``, per RGB channel:

    normal/blend  sum w_k c_k / sum w_k            add     clip(sum w_k c_k)
    max / min     max_k / min_k clip(w_k c_k)      screen  255 (1 - prod (1 - clip(w_k c_k)/255))
    glow          screen(c_0, up(gblur(g screen_{k>=1} A_k clip(exposure w_k c_k))))  at 1/r size
    shadow        c_0 (255 - up(g screen_{k>=1} A_k S_k)) / 255                      at 1/2 size
                  S_k = 255 clip(w_k (1 - c_k / (255 exposure)), 0, 1)
                  A_k = clip((|c_k - c_0| - 8) / 32, 0, 1), g = 1 - min_{k>=1} A_k
    front         B = c_0; k = layers..1: B += (c_k - B) w_k a_k / 255
    behind        front, then B += (c_0 - B) a_0 / 255

Ghost modes (glow, shadow) keep each echo only where it differs from the current frame (``A_k``),
and not where the current frame differs from every echo (``g``: the subject where it is now). Their
masks and ghosts are computed on frames area-averaged to 1/r size (r = 4 for glow_sigma 8, 2 for
shadow) and brought back up bilinearly (``up``); the oracle does the same in numpy (swscale's
``area`` at a whole ratio is the box mean and its ``bilinear`` matches cv2's INTER_LINEAR within
half a level, measured).

Every operator ends in yuv420p, so the output differs from the definition by yuv rounding
(flat frames: +-2 levels) and 8-bit ``mix``/``blend`` truncation (one level per step at most).
"""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest

from ffvfx.compiler.graph import Graph, Input
from ffvfx.effects.trails import OPERATORS, trails
from ffvfx.errors import FfvfxError

N_FRAMES = 50


# -- reference -------------------------------------------------------------------------------
def _echo(f: np.ndarray, k: int, spacing: int) -> np.ndarray:
    """Frame n - k*spacing for every n, clamped to frame 0."""
    return f[np.maximum(np.arange(len(f)) - k * spacing, 0)]


def _screen(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 255 - (255 - a) * (255 - b) / 255


def _blur(stack: np.ndarray, sigma: float) -> np.ndarray:
    return np.stack([cv2.GaussianBlur(x, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
                     for x in stack])


def _down(stack: np.ndarray, r: int) -> np.ndarray:
    """Each frame area-averaged to 1/r size (r x r box mean) and rounded to 8-bit."""
    if r == 1:
        return stack
    n, h, w, ch = stack.shape
    assert h % r == 0 and w % r == 0, "test frames must divide by the reduction"
    return np.rint(stack.reshape(n, h // r, r, w // r, r, ch).mean(axis=(2, 4)))


def _up(stack: np.ndarray, r: int) -> np.ndarray:
    """8-bit frames scaled back up r times, bilinear (pixel centres aligned), rounded."""
    if r == 1:
        return np.rint(stack)
    n, h, w, _ = stack.shape
    return np.stack([np.rint(cv2.resize(np.rint(x).astype(np.float32), (w * r, h * r),
                                        interpolation=cv2.INTER_LINEAR)) for x in stack])


def _ghosts(f: np.ndarray, c: list[np.ndarray], w: list[float], glow: bool, exposure: float,
            glow_sigma: float) -> np.ndarray:
    """glow / shadow: masked ghosts of the echoes at 1/r size, laid on the full-size frame."""
    r = (4 if glow_sigma >= 8 else 2 if glow_sigma >= 4 else 1) if glow else 2
    small = [_down(ck, r) for ck in c]
    moved = [np.clip((np.abs(ck - small[0]) - 8) / 32, 0, 1) for ck in small[1:]]
    g = 1 - np.min(moved, axis=0)
    layer = np.zeros_like(small[0])
    for k, (ck, ak) in enumerate(zip(small[1:], moved, strict=True), start=1):
        if glow:
            ghost = np.clip(exposure * w[k] * ck, 0, 255)
        else:
            ghost = 255 * np.clip(w[k] * (1 - ck / (255 * exposure)), 0, 1)
        layer = _screen(layer, ak * ghost)
    layer = g * layer
    if glow:
        return _screen(f, _up(_blur(layer, glow_sigma / r), r))
    return f * _up(255 - layer, r) / 255


def expected(frames: np.ndarray, operator: str = "normal", layers: int = 6, decay: float = 0.7,
             spacing: int = 5, intensity: float = 1.0, exposure: float = 2.0,
             glow_sigma: float = 8.0, alpha: np.ndarray | None = None) -> np.ndarray:
    """The definition in float64 RGB (N x H x W x 3), clipped to 0..255."""
    f = frames.astype(np.float64)
    c = [_echo(f, k, spacing) for k in range(layers + 1)]
    w = [intensity * decay**k for k in range(layers + 1)]
    if operator in ("normal", "blend"):
        out = sum(wk * ck for wk, ck in zip(w, c, strict=True)) / sum(w)
    elif operator == "add":
        out = sum(wk * ck for wk, ck in zip(w, c, strict=True))
    elif operator in ("max", "min", "screen"):
        layer = [np.clip(wk * ck, 0, 255) for wk, ck in zip(w, c, strict=True)]
        if operator == "max":
            out = np.max(layer, axis=0)
        elif operator == "min":
            out = np.min(layer, axis=0)
        else:
            out = 255 * (1 - np.prod([1 - x / 255 for x in layer], axis=0))
    elif operator in ("glow", "shadow"):
        out = _ghosts(f, c, w, operator == "glow", exposure, glow_sigma)
    elif operator in ("front", "behind"):
        a = [_echo(alpha.astype(np.float64) / 255, k, spacing)[..., None] for k in range(layers + 1)]
        out = f.copy()
        for k in range(layers, 0, -1):
            out += (c[k] - out) * w[k] * a[k]
        if operator == "behind":
            out += (f - out) * a[0]
    else:
        raise ValueError(operator)
    return np.clip(out, 0, 255)


def render(media, src, alpha_path=None, ffmpeg=None, **params) -> np.ndarray:
    """``trails(**params)`` as the printed graph, piped out as RGB24 frames.

    One input: the one-liner as ``-vf``. With ``alpha_path``: ``-filter_complex`` with the matte
    as the second input.
    """
    if alpha_path is None:
        return media.decode(src, vf=Graph(trails(Input().video, **params)).line())
    main, matte = Input(str(src)), Input(str(alpha_path))
    g = Graph(trails(main.video, alpha=matte.video, **params), inputs=[main, matte])
    argv = [ffmpeg or media.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
            "-i", str(src), "-i", str(alpha_path), "-filter_complex", g.line(),
            "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    res = subprocess.run(argv, capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr.decode(errors="replace")[-2000:]
    h, w = media.decode(src).shape[1:3]
    return np.frombuffer(res.stdout, np.uint8).reshape(-1, h, w, 3)


# -- clips -----------------------------------------------------------------------------------
def coded_frames(n: int = N_FRAMES, w: int = 32, h: int = 24, colour: bool = True) -> np.ndarray:
    """Flat frames whose level encodes the frame index.

    ``colour``: R rises 4 levels a frame, G falls 4 a frame, B jumps around (30 + 37*i mod 200),
    so a frame paired with the wrong echo shows in every channel. Otherwise gray at the B level
    (yuv420p keeps gray exact up to luma rounding).
    """
    i = np.arange(n)
    jump = 30 + (37 * i) % 200
    rgb = np.stack([20 + 4 * i, 230 - 4 * i, jump] if colour else [jump] * 3, -1).astype(np.uint8)
    return np.broadcast_to(rgb[:, None, None, :], (n, h, w, 3)).copy()


@pytest.fixture(scope="module")
def coded(media, tmp_path_factory):
    """{"gray"/"colour": (path, frames)}: index-coded flat clips, lossless FFV1/gbrp."""
    d = tmp_path_factory.mktemp("coded")
    clips = {}
    for kind in ("gray", "colour"):
        frames = coded_frames(colour=kind == "colour")
        path = media.write(d / f"{kind}.mkv", frames)
        assert np.array_equal(media.decode(path), frames), "FFV1/gbrp must be lossless"
        clips[kind] = path, frames
    return clips


@pytest.fixture(scope="module")
def blobs(media, scenes, tmp_path_factory):
    """(path, frames) of smooth moving blobs, 128x96, 40 frames, lossless."""
    frames = scenes.blobs(40, 128, 96)
    return media.write(tmp_path_factory.mktemp("blobs") / "blobs.mkv", frames), frames


# -- the definitions ---------------------------------------------------------------------------
ECHO_CASES = {
    "normal": dict(operator="normal"),
    "blend": dict(operator="blend", layers=3, decay=0.5, spacing=7),
    "normal-decay1": dict(operator="normal", layers=4, decay=1.0, spacing=3),
    "add": dict(operator="add", intensity=0.35),
    "add-clipping": dict(operator="add", layers=2, decay=0.9, spacing=4),
    "max": dict(operator="max"),
    "min": dict(operator="min", intensity=1.3, decay=0.8),
    "screen": dict(operator="screen", intensity=0.5),
    "glow": dict(operator="glow", layers=4, intensity=0.3),
    "shadow": dict(operator="shadow", layers=4, decay=0.6),
}


@pytest.mark.parametrize("kind", ["gray", "colour"])
@pytest.mark.parametrize("case", ECHO_CASES)
def test_echo_weights_match_definition(media, coded, case, kind, record_property):
    """On flat index-coded frames every operator equals numpy frame for frame: gray within +-2
    levels (glow/shadow 3), colour within +-4 (5) and 40 dB (the yuv420p output alone moves
    saturated flat colours by up to 3.2 levels through swscale, and 8-bit chroma truncation is
    amplified ~1.6x in RGB)."""
    src, frames = coded[kind]
    params = ECHO_CASES[case]
    out = render(media, src, **params)
    assert out.shape == frames.shape, "frame count or size changed"
    ref = expected(frames, **params)
    err = np.abs(out.astype(np.float64) - ref)
    worst = np.unravel_index(np.argmax(err), err.shape)
    psnr = media.psnr(out, ref)
    record_property("psnr", round(psnr, 2))
    print(f"{case}/{kind}: max error {err.max():.2f} at frame {worst[0]}, PSNR {psnr:.2f} dB")
    ghost = params["operator"] in ("glow", "shadow")  # 16-bit maths between 8-bit conversions
    tolerance = (2 if kind == "gray" else 4) + ghost
    assert err.max() <= tolerance, (f"{case}: frame {worst[0]} channel {worst[3]}: "
                                    f"{out[worst]} vs {ref[worst]:.2f}")
    assert psnr >= 40


@pytest.mark.parametrize("operator", ["glow", "shadow", "normal", "screen"])
def test_smooth_content_matches_definition(media, blobs, operator, record_property):
    """Moving blobs: glow's reduced-size blur and the rest stay >= 35 dB from the definition."""
    src, frames = blobs
    params = dict(operator=operator, layers=4, spacing=3, intensity=0.6)
    out = render(media, src, **params)
    total, worst = media.psnr_stack(out, expected(frames, **params))
    record_property("psnr", round(total, 2))
    print(f"{operator} on blobs: {total:.2f} dB (worst frame {worst:.2f})")
    assert total >= 35 and worst >= 33, f"{operator}: {total:.2f} dB, worst frame {worst:.2f}"


# -- ghosts are of what moved (glow, shadow) ---------------------------------------------------
def textured(n: int, w: int, h: int, level: float, seed: int = 3, world_w: int | None = None,
             pan: int = 0) -> np.ndarray:
    """A static coloured texture (std 30 levels around ``level``) with fresh sensor noise (std 2)
    in every frame. ``pan``: the camera moves ``pan`` px/frame right over a ``world_w``-wide
    texture, so frame i shows world columns ``i*pan ..`` (offsets ``(i*pan, 0)``)."""
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.normal(0, 1, (h, world_w or w, 3)), (0, 0), 1.5)
    tex = tex / tex.std() * 30 + level
    frames = np.stack([tex[:, i * pan:i * pan + w] for i in range(n)])
    return np.clip(np.rint(frames + rng.normal(0, 2, frames.shape)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("level", [182, 128])
@pytest.mark.parametrize("operator", ["glow", "shadow"])
def test_ghosts_leave_a_static_scene_alone(media, tmp_path, operator, level, record_property):
    """Nothing moves: the default ghosts (6 echoes, 5 apart) leave the picture as it came in at any
    brightness: mean within 10 levels, no more than 2 % of pixels newly clipped (a glow of every
    echo took a 182-mean shot to 252 with 86 % clipped; shadow took it to ~37)."""
    frames = textured(36, 96, 64, level)
    src = media.write(tmp_path / "static.mkv", frames)
    out = render(media, src, operator=operator)
    assert out.shape == frames.shape
    shift = out.mean() - frames.mean()
    edge = 255 if operator == "glow" else 0
    clipped = np.mean((out == edge) & (frames != edge))
    plain = media.decode(src, vf="format=yuv420p")  # what the yuv420p output alone does
    psnr = media.psnr(out, plain)
    record_property("psnr", round(psnr, 2))
    print(f"{operator} on a static {level}-level scene: mean {shift:+.2f} levels, "
          f"{100 * clipped:.2f} % newly clipped, {psnr:.2f} dB against the yuv420p round trip")
    assert abs(shift) <= 10 and clipped <= 0.02, (shift, clipped)
    assert psnr >= 45


def _trail_scene(n: int, w: int, h: int, level: float, size: int, fg: int, start: tuple[int, int],
                 step: int, pan: int = 0) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A flat ``fg`` square moving ``step`` px/frame right (frame coordinates) over ``textured``."""
    frames = textured(n, w, h, level, world_w=w + pan * n, pan=pan)
    corners = [(start[0] + step * i, start[1]) for i in range(n)]
    for f, (x, y) in zip(frames, corners, strict=True):
        assert x + size <= w
        f[y:y + size, x:x + size] = fg
    return frames, corners


def _patch(stack: np.ndarray, n: int, corner: tuple[int, int], size: int, inset: int = 2) -> float:
    x, y = corner
    return float(stack[n, y + inset:y + size - inset, x + inset:x + size - inset].astype(float).mean())


@pytest.mark.parametrize("operator", ["glow", "shadow"])
def test_ghost_trails_follow_a_moving_subject(media, tmp_path, operator, record_property):
    """A bright square crossing a static textured background: where each echo had it the output
    is clearly brighter (glow) / darker (shadow) than the input; the square where it is now and
    the background away from its path stay as they came in; the whole matches the oracle."""
    layers, spacing, size = 3, 4, 12
    frames, corners = _trail_scene(36, 128, 96, 110, size, 230, start=(4, 42), step=3)
    src = media.write(tmp_path / "subject.mkv", frames)
    params = dict(operator=operator, layers=layers, spacing=spacing)
    out = render(media, src, **params)
    assert out.shape == frames.shape
    # the definition, then the same yuv420p output step (it alone costs the colour texture ~10 dB)
    ref = media.write(tmp_path / "ref.mkv", np.rint(expected(frames, **params)).astype(np.uint8))
    total, worst = media.psnr_stack(out, media.decode(ref, vf="format=yuv420p"))
    record_property("psnr", round(total, 2))
    plain = media.decode(src, vf="format=yuv420p").astype(float)
    sign = 1 if operator == "glow" else -1
    contrast = []
    for n in range(layers * spacing, len(frames)):
        for k in range(1, layers + 1):  # echo k: 12k px behind, no overlap with the square now
            contrast.append(sign * (_patch(out, n, corners[n - k * spacing], size)
                                    - _patch(plain, n, corners[n - k * spacing], size)))
        now = _patch(out, n, corners[n], size) - _patch(plain, n, corners[n], size)
        assert abs(now) <= 12, f"frame {n}: the square where it is now moved {now:+.1f} levels"
        far = np.abs(out[n, :12].astype(float) - plain[n, :12]).max()  # 30 px above its path
        assert far <= 2, f"frame {n}: background away from the path changed by {far} levels"
    contrast = np.reshape(contrast, (-1, layers))
    print(f"{operator}: {total:.2f} dB against the oracle (worst frame {worst:.2f}); trail "
          f"contrast per echo {np.round(contrast.mean(axis=0), 1)} levels (min {contrast.min():.1f})")
    assert total >= 40 and worst >= 38, (total, worst)
    # echo 1 alone: glow screens 255 on (blurred), shadow multiplies by 1 - 0.7 (1 - 230/510)
    assert contrast[:, 0].mean() >= 30 and contrast.min() >= 12, \
        "the trail must be clearly brighter (glow) / darker (shadow) than the input"


@pytest.mark.parametrize("operator", ["glow", "shadow"])
def test_ghosts_with_camera_compensation(media, tmp_path, operator):
    """A 2 px/frame pan with a square moving 3 px/frame on screen: with the camera hook the
    background stays as it came in and the square's trail lies where it was in the world
    (echo k at ``x_{n-d} - 2d`` on screen, ``d = k*spacing``); without it the pan itself ghosts."""
    from ffvfx.effects.register import echo_register
    from ffvfx.stages.analysis.camera import CameraPath

    layers, spacing, size, pan, n_frames = 3, 3, 12, 2, 24
    frames, corners = _trail_scene(n_frames, 160, 96, 110, size, 230, start=(64, 42), step=3, pan=pan)
    src = media.write(tmp_path / "pan.mkv", frames)
    path = CameraPath(fps=30.0, offsets=[(float(pan * i), 0.0) for i in range(n_frames)], size=(160, 96))
    params = dict(operator=operator, layers=layers, spacing=spacing, glow_sigma=4.0)
    registered = render(media, src, register=echo_register(path, spacing, layers), **params)
    unregistered = render(media, src, **params)
    plain = media.decode(src, vf="format=yuv420p")
    assert registered.shape == frames.shape
    # background: rows away from the square's path, columns away from the revealed (smeared) edge
    reach, halo = pan * layers * spacing, 12
    inner = (slice(layers * spacing, None), slice(0, 42 - halo), slice(reach + halo, -reach - halo))
    good = media.psnr(registered[inner], plain[inner])
    bad = media.psnr(unregistered[inner], plain[inner])
    print(f"{operator}: background {good:.2f} dB registered, {bad:.2f} dB without the hook")
    assert good >= 45 and bad < 30, (good, bad)
    sign = 1 if operator == "glow" else -1
    for n in range(layers * spacing, n_frames):
        for k in range(1, layers + 1):
            d = k * spacing
            x, y = corners[n - d]
            where = (x - pan * d, y)  # echo k's square, registered with the background
            lift = sign * (_patch(registered, n, where, size) - _patch(plain, n, where, size))
            assert lift >= 12, f"frame {n}, echo {k}: trail contrast {lift:.1f} levels"


# -- alpha composites --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def matted(media, tmp_path_factory):
    """Index-coded flat frames with a matte: a 16x16 square moving (4, 2) px/frame, opaque at
    255 with a half-transparent (128) 8x8 corner. Even coordinates so that yuv420 chroma alpha
    equals the full-size alpha. Returns (video path, matte path, frames, alpha)."""
    d = tmp_path_factory.mktemp("matte")
    n, w, h = 24, 128, 64
    frames = coded_frames(n, w, h)
    alpha = np.zeros((n, h, w), np.uint8)
    for i in range(n):
        x, y = 4 + 4 * i, 8 + 2 * (i % 8)
        alpha[i, y:y + 16, x:x + 16] = 255
        alpha[i, y:y + 8, x:x + 8] = 128
    video = media.write(d / "video.mkv", frames)
    matte = media.write(d / "matte.mkv", np.repeat(alpha[..., None], 3, -1), pix_fmt="gray")
    return video, matte, frames, alpha


@pytest.mark.parametrize("operator", ["front", "behind"])
def test_alpha_composites_match_definition(media, matted, operator):
    video, matte, frames, alpha = matted
    params = dict(operator=operator, layers=3, spacing=4, decay=0.6, intensity=0.9)
    out = render(media, video, alpha_path=matte, **params)
    assert out.shape == frames.shape
    ref = expected(frames, alpha=alpha, **params)
    err = np.abs(out.astype(np.float64) - ref)
    psnr = media.psnr(out, ref)
    print(f"{operator}: max error {err.max():.2f}, PSNR {psnr:.2f} dB")
    # colour frames through yuv420p: +-4 as in the echo test
    assert err.max() <= 4 and psnr >= 40, (np.unravel_index(np.argmax(err), err.shape), psnr)
    # the echoes really show: a pixel where only echo 1 of frame 20 has the opaque square
    x, y = 4 + 4 * 16 + 12, 8 + 2 * (16 % 8) + 12
    assert alpha[20, y, x] == 0 and alpha[16, y, x] == 255
    want = frames[20, y, x] + (frames[16, y, x].astype(float) - frames[20, y, x]) * 0.9 * 0.6
    assert np.all(np.abs(out[20, y, x] - want) <= 4), (out[20, y, x], want)


# -- echoes of a moving square -----------------------------------------------------------------
@pytest.mark.parametrize("operator", ["normal", "max"])
def test_moving_square_leaves_echoes_behind(media, scenes, tmp_path, operator):
    """A 12x12 square moving 3 px/frame: at frame n >= layers*spacing, echo k sits k*spacing*3 px
    behind it (no overlap), with the level the operator gives a lone echo over background."""
    layers, spacing, decay, size, fg, bg = 4, 5, 0.7, 12, 240, 40
    frames, corners = scenes.square(36, 128, 48, size=size, step=(3, 0), start=(4, 18), bg=bg, fg=fg)
    src = media.write(tmp_path / "square.mkv", frames)
    out = render(media, src, operator=operator, layers=layers, spacing=spacing, decay=decay)
    assert len(out) == len(frames)
    w = [decay**k for k in range(layers + 1)]
    for n in range(layers * spacing, len(frames)):
        for k in range(layers + 1):
            x, y = corners[n - k * spacing]
            patch = out[n, y + 2:y + size - 2, x + 2:x + size - 2].astype(float)
            if operator == "normal":
                want = (w[k] * fg + (sum(w) - w[k]) * bg) / sum(w)
            else:
                want = max(w[k] * fg, bg)  # the current frame's background (w_0 = 1) wins elsewhere
            assert np.all(np.abs(patch - want) <= 2), (n, k, patch.mean(), want)
        # outside all echoes: background as the operator leaves it
        assert np.all(np.abs(out[n, :, :2].astype(float) - bg) <= 2)


# -- containers, binaries, frame count ---------------------------------------------------------
@pytest.mark.parametrize("container", ["mp4", "mkv"])
@pytest.mark.parametrize("operator", ["normal", "screen", "glow"])
def test_frame_count_and_pairing_on_containers(tc, media, scenes, tmp_path, container, operator):
    """H.264 in mp4 (exact time base) and mkv (1 ms rounding), with every ffmpeg binary: frame
    count kept and each output frame built from the right echoes."""
    media = type(media)(tc.ffmpeg)  # the conftest Media helper, bound to this binary
    frames = scenes.index_coded(48, 96, 64)
    src = media.write(tmp_path / f"coded.{container}", frames, vcodec="libx264",
                      pix_fmt="yuv420p", args=["-crf", "8"])
    decoded = media.decode(src)
    assert len(decoded) == 48
    params = dict(operator=operator, layers=4, spacing=3)
    g = Graph(trails(Input().video, **params))
    tc.require_filters(g.filter_names())
    out = media.decode(src, vf=g.line())
    assert len(out) == 48, f"{len(out)} frames out of 48"
    ref = expected(decoded, **params)
    for n in range(48):
        psnr = media.psnr(out[n], ref[n])
        assert psnr >= 35, f"frame {n}: {psnr:.2f} dB"
    # and through a filter script, the same frames
    script = tmp_path / "graph.txt"
    script.write_text(g.script())
    res = subprocess.run([tc.ffmpeg, "-v", "error", "-nostdin", "-i", str(src), tc.script_option(),
                          str(script), "-f", "framemd5", "-"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert sum(1 for ln in res.stdout.splitlines() if ln and not ln.startswith("#")) == 48


@pytest.mark.parametrize("operator", OPERATORS)
def test_every_operator_runs_on_every_binary(tc, tmp_path, operator):
    """Syntax level: each operator's graph runs on ffmpeg 5.1 and 9.x and keeps 12 frames."""
    main = Input("main")
    matte = Input("matte") if operator in ("behind", "front") else None
    out = trails(main.video, operator=operator, layers=3, spacing=2,
                 alpha=matte.video if matte else None, register=lambda s, k: s.filter("null"))
    g = Graph(out, inputs=[main] + ([matte] if matte else []))
    tc.require_filters(g.filter_names())
    argv = [tc.ffmpeg, "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=30:d=0.4"]
    if matte:
        argv += ["-f", "lavfi", "-i", "testsrc2=s=64x48:r=30:d=0.4,format=gray"]
    argv += ["-filter_complex", g.line(), "-f", "framemd5", "-"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"{g.line()}\n{res.stderr[-2000:]}"
    assert sum(1 for ln in res.stdout.splitlines() if ln and not ln.startswith("#")) == 12


# -- graph structure -----------------------------------------------------------------------------
@pytest.mark.parametrize("operator", OPERATORS)
@pytest.mark.parametrize("layers,spacing", [(6, 5), (1, 1), (3, 12)])
def test_reach_is_layers_times_spacing(operator, layers, spacing):
    alpha = Input("matte").video if operator in ("behind", "front") else None
    out = trails(Input().video, operator=operator, layers=layers, spacing=spacing, alpha=alpha)
    assert Graph(out).reach() == layers * spacing


def test_normal_is_one_mix_over_delayed_copies_in_yuv():
    text = Graph(trails(Input().video)).line()
    assert text.count("mix=") == 1 and "tmix" not in text and "gbrp" not in text
    assert "mix=inputs=7:weights=1 0.7 0.49" in text and "duration=first" in text
    assert all(f"[echo{k}]" in text for k in range(1, 7))
    for k in range(1, 7):
        assert f"tpad=start={5 * k}:start_mode=clone" in text


@pytest.mark.parametrize("operator", OPERATORS)
def test_output_is_yuv420p(operator):
    alpha = Input("matte").video if operator in ("behind", "front") else None
    text = Graph(trails(Input().video, operator=operator, alpha=alpha)).line()
    assert text.endswith("format=yuv420p") or text.endswith("duration=first"), text


def test_register_hook_sees_every_echo_once():
    seen = []

    def register(stream, k):
        seen.append(k)
        return stream.filter("scroll", h=0, label=f"reg{k}")

    text = Graph(trails(Input().video, layers=4, register=register)).line()
    assert seen == [1, 2, 3, 4]
    assert text.count("scroll=") == 4
    for operator in ("glow", "shadow"):
        seen.clear()
        trails(Input().video, layers=3, operator=operator, register=register)
        assert sorted(seen) == [1, 2, 3]


# -- validation ----------------------------------------------------------------------------------
@pytest.mark.parametrize("params,message", [
    (dict(spacing=0), "spacing must be a whole number of frames >= 1"),
    (dict(spacing=2.5), "spacing must be a whole number"),
    (dict(decay=0), r"decay must be in \(0, 1\]"),
    (dict(decay=1.5), r"decay must be in \(0, 1\]"),
    (dict(decay=-0.2), r"decay must be in \(0, 1\]"),
    (dict(layers=0), "layers must be a whole number of echoes >= 1"),
    (dict(layers=True), "layers must be a whole number"),
    (dict(intensity=0), "intensity must be > 0"),
    (dict(operator="difference"), "unknown trails operator 'difference': choose one of normal, blend"),
    (dict(operator="behind"), "trails operator 'behind' needs --alpha FILE"),
    (dict(operator="front"), "trails operator 'front' needs --alpha FILE"),
    (dict(operator="glow", glow_sigma=0), "glow sigma and exposure must be > 0"),
])
def test_bad_parameters_raise_one_clear_line(params, message):
    with pytest.raises(FfvfxError, match=message) as info:
        trails(Input().video, **params)
    assert "\n" not in str(info.value)
