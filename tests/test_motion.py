"""Pixel tests of the motion effect (ffvfx.effects.motion) against numpy, through real ffmpeg.

Clips are written from numpy frames (lossless FFV1/gbrp, or H.264), rendered through the graph
the library builds (the printed one-liner as ``-vf``, piped out as rawvideo RGB24 so nothing is
lost on the way out) or through the CLI (``--encoder ffv1``), and compared with the definitions
in :mod:`ffvfx.effects.motion`'s docstring, computed in numpy from the *decoded input frames*.
Every mode now ends in yuv420p, so even lossless inputs compare by PSNR (or within +-2 levels on
gray content).
With c the current frame and p the frame ``delay`` earlier (clamped to
frame 0), per RGB channel:

    gray   127.5 + strength * (c - p) / 2          black  |c - p| * strength
    matte  c * clip(|c - p| * strength / 255)      glow   c + gblur(|c - p|, sigma) * strength
    rgb    R, G, B in gray form against delays d0, d1, d2
    bloom  adds gblur(|c - p|, bloom_sigma) * bloom on top; freeze N: p is frame N

The library blurs at 1/2 or 1/4 resolution, so glow/bloom are compared with the ideal
full-resolution blur on smooth content with a PSNR bound rather than exactly.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ffvfx.cli import run_cli
from ffvfx.compiler.graph import Graph, Input
from ffvfx.effects.motion import motion

MIN_PSNR = 35.0
MIN_FRAME_PSNR = 33.0

# -- reference -------------------------------------------------------------------------------
def _blur(stack: np.ndarray, sigma: float) -> np.ndarray:
    return np.stack([cv2.GaussianBlur(x, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
                     for x in stack])


def _past(frames: np.ndarray, delay: int) -> np.ndarray:
    """Frame k - delay for every k, clamped to frame 0."""
    return frames[np.maximum(np.arange(len(frames)) - delay, 0)]


def expected(frames: np.ndarray, mode: str = "gray", delay: int = 8, strength: float = 1.0,
             delays: tuple[int, int, int] = (1, 8, 32), freeze: int | None = None, bloom: float = 0.0,
             bloom_sigma: float = 8.0) -> np.ndarray:
    """The effect's definition (:mod:`ffvfx.effects.motion`) in float64 RGB (N x H x W x 3),
    clipped to 0..255."""
    f = frames.astype(np.float64)
    p = f[[freeze] * len(f)] if freeze is not None else _past(f, delay)
    if mode == "gray":
        out = 127.5 + strength * (f - p) / 2
    elif mode == "black":
        out = np.abs(f - p) * strength
    elif mode == "matte":
        out = f * np.clip(np.abs(f - p) * strength / 255, 0, 1)
    elif mode == "glow":
        out = f + _blur(np.abs(f - p), bloom_sigma) * strength
    elif mode == "rgb":
        p = np.stack([_past(f, d)[..., ch] for ch, d in enumerate(delays)], -1)
        out = 127.5 + strength * (f - p) / 2
    else:
        raise ValueError(mode)
    out = np.clip(out, 0, 255)
    if bloom:
        out = np.clip(out + _blur(np.abs(f - p), bloom_sigma) * bloom, 0, 255)
    return out


def render(media, src, **params) -> np.ndarray:
    """``motion(**params)`` as the printed one-line graph in ``ffmpeg -vf``, piped out as RGB24.

    (The same pixels as an FFV1 file decoded to RGB, in one process instead of two.)
    """
    return media.decode(src, vf=Graph(motion(Input().video, **params)).line())


# -- clips -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def blob_clips(media, scenes, tmp_path_factory):
    """Smooth moving blobs, 128x96, 40 frames at 30 fps: lossless FFV1 mkv and H.264 mp4.

    Returns {kind: (path, decoded RGB frames)}.
    """
    d = tmp_path_factory.mktemp("blobs")
    frames = scenes.blobs(40, 128, 96)
    ffv1 = media.write(d / "blobs.mkv", frames)
    h264 = media.write(d / "blobs.mp4", frames, vcodec="libx264", pix_fmt="yuv420p", args=["-crf", "10"])
    decoded = {"ffv1": media.decode(ffv1), "h264": media.decode(h264)}
    assert np.array_equal(decoded["ffv1"], frames), "FFV1/gbrp must be lossless"
    return {"ffv1": (ffv1, decoded["ffv1"]), "h264": (h264, decoded["h264"])}


CASES = {
    "gray": dict(mode="gray"),
    "black": dict(mode="black"),
    "matte": dict(mode="matte"),
    "glow": dict(mode="glow"),
    "rgb": dict(mode="rgb"),
    "gray-bloom": dict(mode="gray", bloom=1.0),
    "black-bloom": dict(mode="black", bloom=1.0),
    "gray-strength2-delay3": dict(mode="gray", strength=2.0, delay=3),
    "black-strength3": dict(mode="black", strength=3.0),
    "matte-strength4": dict(mode="matte", strength=4.0),
    "glow-sigma3-strength2": dict(mode="glow", bloom_sigma=3.0, strength=2.0),  # full-size blur
    "black-bloom-sigma5": dict(mode="black", bloom=2.0, bloom_sigma=5.0),      # 1/2-size blur
    "rgb-delays-2-5-11": dict(mode="rgb", delays=(2, 5, 11)),
}


BASE_CASES = ("gray", "black", "matte", "glow", "rgb", "gray-bloom", "black-bloom")  # also on H.264


@pytest.mark.parametrize("case,kind", [
    pytest.param(case, kind, id=f"{case}-{kind}")
    for case in CASES for kind in (("ffv1", "h264") if case in BASE_CASES else ("ffv1",))])
def test_mode_matches_definition(media, blob_clips, case, kind, record_property):
    """Every mode (and bloom, strength, sigma variants) within 35 dB of numpy; frame count kept."""
    src, frames = blob_clips[kind]
    params = CASES[case]
    out = render(media, src, **params)
    total, worst = media.psnr_stack(out, expected(frames, **params))
    record_property("psnr", round(total, 2))
    print(f"PSNR {case}/{kind}: {total:.2f} dB (worst frame {worst:.2f})")
    assert total >= MIN_PSNR and worst >= MIN_FRAME_PSNR, f"{case}/{kind}: {total:.2f} dB, worst {worst:.2f}"


@pytest.fixture(scope="module")
def still_clips(media, tmp_path_factory):
    """20 identical frames of a colourful texture: {kind: path} for lossless FFV1 and H.264 mp4."""
    d = tmp_path_factory.mktemp("still")
    rng = np.random.default_rng(3)
    still = cv2.GaussianBlur(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8), (0, 0), 1.0)
    frames = np.repeat(still[None], 20, axis=0)
    clips = {"ffv1": media.write(d / "still.mkv", frames),
             # lossless H.264: lossy P-frames would refine the picture, so the clip would not be static
             "h264": media.write(d / "still.mp4", frames, vcodec="libx264", pix_fmt="yuv420p",
                                 args=["-qp", "0"])}
    for path in clips.values():
        decoded = media.decode(path)
        assert len(decoded) == 20 and np.all(decoded == decoded[0]), "the test clip must not change"
    return clips


@pytest.mark.parametrize("kind", ["ffv1", "h264"])
@pytest.mark.parametrize("params", [dict(mode="gray"), dict(mode="gray", strength=2.0),
                                    dict(mode="gray", bloom=1.0),
                                    dict(mode="rgb")],
                         ids=["gray", "gray-strength2", "gray-bloom", "rgb"])
def test_static_clip_is_flat_gray(media, still_clips, kind, params):
    """No motion, any texture: every pixel of every frame is 127 +- 2 in RGB."""
    out = render(media, still_clips[kind], **params)
    assert len(out) == 20
    assert out.min() >= 125 and out.max() <= 129, (out.min(), out.max())


def test_static_out_of_range_luma_is_flat_gray(media, tmp_path):
    """Static yuv420p input with luma outside 16-235 (left half Y=250, right half Y=8): gray mode
    is still 127 +- 2, as the RGB definition (c == p) says."""
    src = tmp_path / "superwhite.mkv"
    media.run("-f", "lavfi", "-i", "color=c=gray:s=64x48:r=30:d=0.4,format=yuv420p,"
              "geq=lum='if(lt(X,32),250,8)':cb=128:cr=128", "-c:v", "ffv1", "-pix_fmt", "yuv420p", src)
    out = render(media, src, mode="gray")
    assert len(out) == 12
    assert out.min() >= 125 and out.max() <= 129, (out.min(), out.max())


def _square_mask(shape, corner, size):
    mask = np.zeros(shape, bool)
    x, y = corner
    mask[y:y + size, x:x + size] = True
    return mask


@pytest.mark.parametrize("kind", ["ffv1", "h264"])
def test_black_mode_shows_the_square_now_and_then(media, scenes, tmp_path, kind):
    """A square moving (3, 1) px/frame: black mode is nonzero exactly where it is and where it was
    ``delay`` frames ago (the clamped frame 0 for the first frames), zero elsewhere."""
    size, delay, fg, bg = 16, 8, 220, 60
    frames, corners = scenes.square(30, 128, 96, size=size, step=(3, 1), start=(8, 20), bg=bg, fg=fg)
    if kind == "ffv1":
        src = media.write(tmp_path / "square.mkv", frames)
    else:
        src = media.write(tmp_path / "square.mp4", frames, vcodec="libx264", pix_fmt="yuv420p",
                          args=["-crf", "10"])
    out = render(media, src, mode="black", delay=delay)
    assert len(out) == len(frames)
    kernel = np.ones((5, 5), np.uint8)
    for k, o in enumerate(out):
        now = _square_mask(o.shape[:2], corners[k], size)
        then = _square_mask(o.shape[:2], corners[max(k - delay, 0)], size)
        moving = now ^ then  # where both frames show the square, c == p
        if kind == "ffv1":  # gray square on gray: exact but for the effect's yuv420p rounding
            assert np.array_equal(o.max(-1) > 8, moving), f"frame {k}"
            assert np.all(np.abs(o[moving].astype(int) - (fg - bg)) <= 2), f"frame {k}"
            assert o[~moving].max() <= 2, f"frame {k}"
        else:
            m8 = moving.astype(np.uint8)
            core = cv2.erode(m8, kernel).astype(bool)
            near = cv2.dilate(m8, kernel).astype(bool)
            gray = o.mean(-1)
            assert np.all(gray[core] > 120), f"frame {k}: motion missing"
            assert np.all(gray[~near] < 12), f"frame {k}: motion where nothing moved"
        if k >= delay:  # the two squares are apart: check both positions numerically
            ys, xs = np.nonzero(o.mean(-1) > (fg - bg) / 2)
            left = xs < corners[k][0]
            assert (xs[left].min(), ys[left].min()) == corners[k - delay]
            assert (xs[~left].min(), ys[~left].min()) == corners[k]


def _reference_index(media, out_k: np.ndarray, frames: np.ndarray, k: int, candidates) -> tuple[int, float]:
    """Which frame j makes black mode's |c_k - f_j| closest to ``out_k``, and that PSNR."""
    f = frames.astype(np.float64)
    scores = {j: media.psnr(out_k, np.abs(f[k] - f[j])) for j in candidates}
    best = max(scores, key=scores.get)
    return best, scores[best]


def test_delay_longer_than_clip_compares_with_frame_zero(media, blob_clips):
    src, frames = blob_clips["ffv1"]
    out = render(media, src, mode="black", delay=100)
    assert out.shape == frames.shape
    for k in range(1, len(frames)):
        assert _reference_index(media, out[k], frames, k, range(0, 4))[0] == 0, f"frame {k}"
    assert media.psnr(out, expected(frames, mode="black", delay=100)) >= MIN_PSNR


@pytest.mark.parametrize("n", [0, 5, 39])
def test_freeze_compares_every_frame_with_frame_n(media, blob_clips, n):
    """freeze N: black mode is |c - frame N| for every frame (and not |c - frame N +- 1|)."""
    src, frames = blob_clips["ffv1"]
    out = render(media, src, mode="black", freeze=n)
    assert out.shape == frames.shape
    near = [j for j in (n - 2, n - 1, n, n + 1, n + 2) if 0 <= j < len(frames)]
    for k in range(len(frames)):
        if k in near:  # |c - c| = 0 against nearly-0: every candidate is close, skip the ranking
            continue
        best, score = _reference_index(media, out[k], frames, k, near)
        assert best == n and score >= MIN_PSNR, f"frame {k}: best {best} at {score:.1f} dB"
    assert media.psnr(out, expected(frames, mode="black", freeze=n)) >= MIN_PSNR


def test_freeze_gray_with_bloom(media, blob_clips):
    src, frames = blob_clips["h264"]
    params = dict(mode="gray", freeze=12, bloom=1.0)
    out = render(media, src, **params)
    assert out.shape == frames.shape
    assert media.psnr(out, expected(frames, **params)) >= MIN_PSNR


# -- timing: the pairing of frame k with frame k - delay must survive any container ------------
def _best_pairing(out_k: np.ndarray, frames: np.ndarray, k: int, delay: int, mode: str, media):
    """(best past index among k-delay-2 .. k-delay+2, its PSNR, PSNR of the expected pairing)."""
    f = frames.astype(np.float64)
    want = max(k - delay, 0)
    scores = {}
    for j in sorted({min(max(k - delay + o, 0), len(f) - 1) for o in range(-2, 3)}):
        ref = 127.5 + (f[k] - f[j]) / 2 if mode == "gray" else np.abs(f[k] - f[j])
        scores[j] = media.psnr(out_k, ref)
    best = max(scores, key=scores.get)
    return best, scores[best], scores[want]


@pytest.fixture(scope="module")
def coded_clips(media, scenes, tmp_path_factory):
    """``get(container, fps)``: an index-coded H.264 clip (48 frames) and its decoded frames, cached."""
    d = tmp_path_factory.mktemp("coded")
    frames = scenes.index_coded(48, 96, 64)
    cache = {}

    def get(container: str, fps: str):
        if (container, fps) not in cache:
            src = media.write(d / f"coded-{fps.replace('/', '_')}.{container}", frames, fps=fps,
                              vcodec="libx264", pix_fmt="yuv420p", args=["-crf", "8"])
            cache[container, fps] = src, media.decode(src)
        return cache[container, fps]
    return get


@pytest.mark.parametrize("container,fps", [("mp4", "30"), ("mkv", "30"), ("mp4", "30000/1001"),
                                           ("mkv", "30000/1001"), ("mkv", "25")],
                         ids=["mp4-30", "mkv-30", "mp4-ntsc", "mkv-ntsc", "mkv-25"])
@pytest.mark.parametrize("mode", ["gray", "black"])
def test_frame_k_pairs_with_k_minus_delay(media, coded_clips, tmp_path, container, fps, mode):
    """Frames carry their index; through the CLI, output frame k must be (k, k-8) on every container
    timing (mp4's exact time base, Matroska's 1 ms rounding, NTSC 30000/1001)."""
    delay = 8
    src, decoded = coded_clips(container, fps)
    assert len(decoded) == 48
    out_path = tmp_path / "out.mkv"
    assert run_cli(["motion", str(src), str(out_path), "--mode", mode, "--delay", str(delay),
                    "--encoder", "ffv1", "-q"]) == 0
    out = media.decode(out_path)
    assert len(out) == len(decoded), "frame count changed"
    for k in range(len(out)):
        best, best_psnr, want_psnr = _best_pairing(out[k], decoded, k, delay, mode, media)
        assert best == max(k - delay, 0), f"frame {k} paired with {best}, not {max(k - delay, 0)}"
        assert want_psnr >= MIN_PSNR, f"frame {k}: {want_psnr:.2f} dB"


def test_variable_frame_rate_input_keeps_every_frame(media, scenes, tmp_path):
    """An mkv at 30 fps then 12 fps, with jitter: every frame is kept and paired by index."""
    delay = 4
    frames = scenes.index_coded(40, 96, 64, seed=11)
    timing = "settb=1/1000,setpts='(if(lt(N,16),N/30,16/30+(N-16)/12)+0.004*mod(N,3))/TB'"
    src = media.write(tmp_path / "vfr.mkv", frames, vcodec="libx264", pix_fmt="yuv420p",
                      args=["-crf", "8", "-enc_time_base", "1:1000"],
                      out_args=["-vf", timing, "-fps_mode", "passthrough"])
    steps = np.diff(media.frame_times(src))
    assert len(steps) == 39 and steps.min() < 0.03 and steps.max() > 0.08, "input is not VFR"
    decoded = media.decode(src)
    assert len(decoded) == 40
    out_path = tmp_path / "out.mkv"
    assert run_cli(["motion", str(src), str(out_path), "--mode", "black", "--delay", str(delay),
                    "--encoder", "ffv1", "-q"]) == 0
    out = media.decode(out_path)
    assert len(out) == 40
    for k in range(len(out)):
        best, _, want_psnr = _best_pairing(out[k], decoded, k, delay, "black", media)
        assert best == max(k - delay, 0) and want_psnr >= MIN_PSNR, f"frame {k}"
