"""The public API: every effect in ffmpeg-python code, and options made from the declarations.

(a) Each effect ``ffvfx.X`` given ffmpeg-python streams (main and side inputs) returns one that
ffmpeg-python's own ``.output().run()`` renders with the ffmpeg under test: pixels against numpy
for motion and trails, frame counts (and a composite's halves) for the rest.
(b) ``ffvfx.cli.declared.options(PARAMS)`` gives options equal to the real commands' (help line,
default, type and its range refusals), so the commands can switch to it safely.
"""

from __future__ import annotations

from pathlib import Path

import click
import ffmpeg
import numpy as np
import pytest

import ffvfx
from ffvfx.cli import main
from ffvfx.cli.declared import options
from ffvfx.compiler.graph import Input, Stream
from ffvfx.compiler.params import Param, check, keywords
from ffvfx.effects import composite, motion, refine, trails
from ffvfx.errors import FfvfxError

N, W, H, FPS = 24, 32, 24, 25


def coded(n: int = N) -> np.ndarray:
    """Flat gray frames whose level encodes the index (20, 27, 34 ...): a mispaired frame shows."""
    levels = 20 + 7 * np.arange(n)
    return np.broadcast_to(levels[:, None, None, None], (n, H, W, 3)).astype(np.uint8).copy()


@pytest.fixture(scope="module")
def clip(media, tmp_path_factory) -> Path:
    return media.write(tmp_path_factory.mktemp("api") / "coded.mkv", coded(), fps=FPS)


@pytest.fixture(scope="module")
def matte(media, tmp_path_factory) -> Path:
    """White on the left half, black on the right, N frames."""
    frames = np.zeros((N, H, W, 3), np.uint8)
    frames[:, :, : W // 2] = 255
    return media.write(tmp_path_factory.mktemp("api") / "matte.mkv", frames, fps=FPS)


def rendered(stream, tools, path: Path) -> np.ndarray:
    """``stream`` (ffmpeg-python) run by ffmpeg-python itself to raw RGB frames."""
    assert isinstance(stream, ffmpeg.nodes.FilterableStream), type(stream)
    stream.output(str(path), f="rawvideo", pix_fmt="rgb24").run(cmd=tools.ffmpeg, quiet=True,
                                                                 overwrite_output=True)
    data = np.frombuffer(path.read_bytes(), np.uint8)
    return data.reshape(-1, H, W, 3)


def past(frames: np.ndarray, d: int) -> np.ndarray:
    """Frame ``max(n - d, 0)`` for every n."""
    return frames[np.maximum(np.arange(len(frames)) - d, 0)]


# -- (a) ffmpeg-python in, ffmpeg-python out ----------------------------------------------------

def test_motion_pixels(clip, tools, tmp_path):
    out = rendered(ffvfx.motion(ffmpeg.input(str(clip)).video, delay=3), tools, tmp_path / "m.rgb")
    c = coded().astype(np.float64)
    expected = 0.5 * c + 0.5 * (255 - past(c, 3))
    assert out.shape == c.shape
    assert np.abs(out - expected).max() <= 2


def test_trails_pixels(clip, tools, tmp_path):
    params = dict(layers=3, decay=0.5, spacing=2)
    out = rendered(ffvfx.trails(ffmpeg.input(str(clip)).video, **params), tools, tmp_path / "t.rgb")
    c = coded().astype(np.float64)
    w = [0.5**k for k in range(4)]
    expected = sum(wk * past(c, 2 * k) for k, wk in enumerate(w)) / sum(w)
    assert out.shape == c.shape
    assert np.abs(out - expected).max() <= 2


def test_bloom_is_motion_glow(clip, tools, tmp_path):
    a = rendered(ffvfx.bloom(ffmpeg.input(str(clip)).video, delay=2, sigma=4.0, strength=1.5), tools,
                 tmp_path / "b.rgb")
    b = rendered(ffvfx.motion(ffmpeg.input(str(clip)).video, mode="glow", delay=2, bloom_sigma=4.0,
                              strength=1.5), tools, tmp_path / "g.rgb")
    assert len(a) == N and np.array_equal(a, b)


def test_trails_alpha_side_input(clip, matte, tools, tmp_path):
    s = ffvfx.trails(ffmpeg.input(str(clip)).video, operator="behind", layers=2,
                     alpha=ffmpeg.input(str(matte)).video)
    assert len(rendered(s, tools, tmp_path / "a.rgb")) == N


@pytest.mark.parametrize("bg", ["stream", "colour", "image"])
def test_composite_side_inputs(clip, matte, media, tools, tmp_path, bg):
    """alpha and the background as ffmpeg-python streams (or a colour, or a file the effect reads):
    the subject's half is the input, the other half the red background."""
    if bg == "stream":
        background = ffmpeg.input(f"color=c=red:s={W}x{H}:r={FPS}", f="lavfi").video
    elif bg == "image":
        background = str(tmp_path / "red.png")
        media.run("-f", "lavfi", "-i", f"color=c=red:s={W}x{H}", "-frames:v", "1", background)
    else:
        background = "red"
    s = ffvfx.composite(ffmpeg.input(str(clip)).video, ffmpeg.input(str(matte)).video, background,
                        size=(W, H), fps=FPS)
    out = rendered(s, tools, tmp_path / "c.rgb").astype(int)
    assert len(out) == N
    assert np.abs(out[:, :, : W // 2 - 2] - coded()[:, :, : W // 2 - 2]).max() <= 2
    assert np.abs(out[:, :, W // 2 + 2:] - [255, 0, 0]).max() <= 2


def test_the_other_effects_render_in_ffmpeg_python(clip, matte, media, tools, tmp_path):
    video = ffmpeg.input(str(clip)).video
    alpha = ffmpeg.input(str(matte)).video
    cases = {
        "compare": (ffvfx.compare(video, [("matte", alpha)], size=(W, H), scale=1.0, labels=False), N),
        "loop": (ffvfx.loop(video, 4, 14, crossfade=2, fmt="mp4"), 10),
        "refine": (ffvfx.refine(alpha, ffvfx.Refine(erode=1, smooth=3, feather=1.0)), N),
        "expose": (ffvfx.expose(video, [1.0, 1.2, 0.8]), N),
        "patch": (ffvfx.patch(video, video, alpha, grow=1), N),
    }
    layer = tmp_path / "layer.png"
    media.run("-f", "lavfi", "-i", f"color=c=gray:s={W}x{H}", "-frames:v", "1", str(layer))
    still = ffvfx.parallax([ffvfx.Layer(str(layer), 0.0)], [(0.0, 0.0)] * 10, size=(W, H), margin=0,
                           fps=FPS)
    assert isinstance(still, Stream)
    cases["parallax"] = (ffvfx.to_ffmpeg_python(still), 10)
    for name, (stream, frames) in cases.items():
        out = rendered(stream.filter("scale", W, H) if name == "compare" else stream, tools,
                       tmp_path / f"{name}.rgb")
        assert len(out) == frames, name


def test_one_stream_given_twice_is_one_input(clip):
    video = ffmpeg.input(str(clip)).video
    argv = ffvfx.patch(video, video, video).output("out.mp4").compile()
    assert argv.count("-i") == 1


def test_ffvfx_streams_stay_ffvfx():
    assert isinstance(ffvfx.trails(Input().video, layers=2), Stream)
    assert isinstance(ffvfx.composite(Input().video, Input().video, "black", size=(W, H), fps=FPS),
                      Stream)


def test_mixing_kinds_is_refused():
    with pytest.raises(ValueError, match="bind every ffvfx Input"):
        ffvfx.composite(ffmpeg.input("a.mp4").video, Input().video, "black", size=(W, H), fps=FPS)


# -- (b) the declarations -----------------------------------------------------------------------

def test_declarations_check_values():
    check(motion.PARAMS, dict(delay=4, mode="rgb", delays=(1, 2, 3)))
    for bad in (dict(delay=0), dict(delay=2.0), dict(mode="blue"), dict(delays=(1, 2)), dict(nope=1),
                dict(strength=0.0), dict(bloom_sigma=float("nan"))):
        with pytest.raises(FfvfxError):
            check(motion.PARAMS, bad)


def test_keywords_follow_the_declarations():
    assert keywords(trails.PARAMS, dict(layers=3)) == dict(
        layers=3, decay=0.7, spacing=5, intensity=1.0, operator="normal", glow_sigma=8.0, exposure=2.0)
    assert keywords(composite.PARAMS, dict(bg="red"))["shift"] == (0, 0)
    assert motion.keywords(dict(bloom=True, bloom_strength=0.5))["bloom"] == 0.5
    assert motion.keywords({})["bloom"] == 0.0
    with pytest.raises(ValueError, match="delay_s"):
        motion.keywords(dict(delay_s=0.5))


PROBES = ["0", "1", "-1", "0.5", "3", "64", "65", "255", "1000", "1001", "1e308", "nan", "inf", "x", "",
          "1,8,32", "1,2", "0,0", "12,-4", "1,2,3,4", "-16385,0", "gray", "rgb", "cover", "front", "auto"]


def throwaway(params: tuple[Param, ...]) -> click.Command:
    @click.command()
    @options(params)
    def command(**kw):
        pass
    return command


def outcome(param: click.Parameter, ctx: click.Context, value: str):
    """What the option makes of ``value``: the converted value, or its one-line refusal."""
    try:
        return "ok", param.type_cast_value(ctx, value)
    except click.BadParameter as exc:
        return "refused", exc.format_message()


@pytest.mark.parametrize("command, params", [
    ("motion", motion.PARAMS), ("trails", trails.PARAMS), ("composite", composite.PARAMS),
    ("matte", refine.PARAMS)])
def test_declared_options_equal_the_commands(command, params):
    real = main.commands[command]
    mine = throwaway(params)
    ctx, mine_ctx = click.Context(real, info_name=command), click.Context(mine, info_name=command)
    by_option = {o: p for p in real.params for o in getattr(p, "opts", [])}
    theirs = [by_option[p.option] for p in params]
    assert len(set(map(id, theirs))) == len(params)
    if command != "matte":  # the effect's options close the command's list, in the same order
        assert real.params[-len(params):] == theirs
    for decl, a, b in zip(params, mine.params, theirs, strict=True):
        assert a.get_help_record(mine_ctx) == b.get_help_record(ctx), decl.name
        assert (a.opts, a.secondary_opts, a.required, a.is_flag) == \
            (b.opts, b.secondary_opts, b.required, b.is_flag), decl.name
        assert a.get_default(mine_ctx) == b.get_default(ctx), decl.name
        assert type(a.type) is type(b.type)
        for value in PROBES:
            if not a.is_flag:
                assert outcome(a, mine_ctx, value) == outcome(b, ctx, value), (decl.name, value)


HELP_COPY = """
import click
from ffvfx.cli import main
from ffvfx.cli.declared import options
from ffvfx.effects import motion
real = main.commands["motion"]
mine = click.command()(options(motion.PARAMS)(lambda **kw: None))
copy = click.Command("motion", params=real.params[:-len(motion.PARAMS)] + mine.params, help=real.help,
                     context_settings=real.context_settings)
with click.Context(real, info_name="motion", terminal_width=100, max_content_width=100) as a, \\
        click.Context(copy, info_name="motion", terminal_width=100, max_content_width=100) as b:
    print(copy.get_help(b) == real.get_help(a), copy.get_help(b))
"""


def test_help_is_the_same_with_the_declared_options():
    """A copy of ``ffvfx motion`` whose own options come from the declarations prints the same help
    (in a fresh interpreter: other tests in this process invoke and change the commands' state)."""
    import subprocess
    import sys
    res = subprocess.run([sys.executable, "-c", HELP_COPY], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("True "), res.stdout
