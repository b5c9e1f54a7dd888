"""``--sweep`` and ``--sheet`` (issue 19): one graph rendering an effect's variants side by side,
each tile captioned in a band below it, and contact sheets of frames picked after the effect.

Checked on whichever ffmpeg the suite runs with (system 5.x, and ``FFVFX_FFMPEG`` = the static 9.x):

- every tile's picture equals the single render of its variant (lossless FFV1 both ways, the
  caption band left out of the comparison), for motion (with bloom), composite and trails;
- the grid's geometry (columns x tile width, rows x (tile height + band)) and the captions: each
  band equals the caption drawn by a separate, hand-written ``drawtext`` on black, in tile order;
- ``--sheet N`` is a PNG of N frames at exact indices of the single render (whole clip and a
  ``--start``/``--duration`` range), with and without ``--sweep``;
- ``--print`` gives one graph that plain ffmpeg renders to the same pixels;
- bad values, unknown parameters, non-finite numbers, filter syntax in a value, too many tiles, a
  bad sheet size: one line, a non-zero exit, nothing written.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from ffvfx.compiler.graph import Graph, Input
from ffvfx.effects import grid
from ffvfx.pipelines.sweep import find_font

W, H, N, FPS = 96, 64, 40, 25


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("sweep")


@pytest.fixture(scope="module")
def clip(media, scenes, work):
    return media.write(work / "clip.mkv", scenes.blobs(N, W, H), fps=FPS)


@pytest.fixture(scope="module")
def alpha(media, work):
    yy, xx = np.mgrid[0:H, 0:W]
    disc = ((xx - W / 2) ** 2 + (yy - H / 2) ** 2 < (H / 3) ** 2).astype(np.uint8) * 255
    return media.write(work / "alpha.mkv", np.repeat(np.repeat(disc[None, ..., None], N, 0), 3, -1), fps=FPS)


@pytest.fixture(scope="module")
def run(ffvfx_cmd):
    def render(*args):
        res = ffvfx_cmd(*args, "-q", "-y")
        assert res.returncode == 0, res.stderr
        return res
    return render


def lossless(*args):
    return [*args, "--encoder", "ffv1"]


def band_of(captions):
    return grid.caption_layout(captions, (W, H))[1]


def tile(frames, index, columns, band, w=W, h=H):
    """The picture (no band) of tile ``index`` of a grid, from decoded frames (N x rows x cols x 3)."""
    r, c = divmod(index, columns)
    return frames[..., r * (h + band):r * (h + band) + h, c * w:(c + 1) * w, :]


def caption_band(media, work, lines, fontsize, band, name):
    """The caption ``lines`` drawn by drawtext alone (written out here by hand, one drawtext a
    line) on a black tile-and-band: the band's rows (RGB)."""
    out = work / f"{name}.mkv"
    step = round(1.2 * fontsize)
    top = max(1, (band - len(lines) * step) // 2)
    draws = []
    for k, text in enumerate(lines):
        escaped = text.replace("\\", "\\\\").replace("=", "\\=").replace(":", "\\:")
        draws.append(f"drawtext=fontfile={find_font()}:text='{escaped}':expansion=none:fontsize={fontsize}"
                     f":fontcolor=white:x=4:y=h-{band - top - k * step}")
    media.run("-f", "lavfi", "-i", f"color=c=black:s={W}x{H + band}:r={FPS}:d=0.04",
              "-vf", ",".join(["format=yuv420p", *draws]), "-frames:v", "1", "-c:v", "ffv1", out)
    return media.decode(out)[0, H:]


# -- the grid ------------------------------------------------------------------------------------
def test_motion_grid_tiles_equal_single_renders_with_captions_in_order(run, media, clip, work):
    out = work / "grid.mkv"
    run("motion", clip, out, "--bloom", *lossless("--sweep", "delay=2,6", "--sweep", "bloom-sigma=2,4"))
    frames = media.decode(out)
    variants = [("2", "2"), ("6", "2"), ("2", "4"), ("6", "4")]  # columns: delay; rows: sigma
    captions = [[f"delay={d}", f"bloom-sigma={s}"] for d, s in variants]
    fontsize, band = grid.caption_layout(captions, (W, H))
    assert band % 2 == 0 and band >= 2 * fontsize
    assert frames.shape == (N, 2 * (H + band), 2 * W, 3)
    refs = []
    for i, (delay, sigma) in enumerate(variants):
        single = work / f"single{i}.mkv"
        run("motion", clip, single, "--bloom", *lossless("--delay", delay, "--bloom-sigma", sigma))
        assert media.psnr(tile(frames, i, 2, band), media.decode(single)) >= 40, (delay, sigma)
        refs.append(caption_band(media, work, captions[i], fontsize, band, f"caption{i}"))
    for i in range(4):
        r, c = divmod(i, 2)
        got = frames[5, r * (H + band) + H:(r + 1) * (H + band), c * W:(c + 1) * W]
        assert got.std() > 5, "the band holds text"
        own = media.psnr(got, refs[i])
        assert own >= 40, captions[i]
        others = [media.psnr(got, refs[j]) for j in range(4) if j != i]
        assert all(o < min(own, 40) for o in others), f"captions in tile order: {own}, {others}"
    blank = caption_band(media, work, [], fontsize, band, "blank")
    assert (blank == blank[0, 0]).all(), "a band without text is uniform"


def test_printed_grid_runs_in_plain_ffmpeg_to_the_same_pixels(ffvfx_cmd, run, media, clip, work):
    res = ffvfx_cmd("motion", clip, "--sweep", "delay=3,5,9", "--print")
    assert res.returncode == 0, res.stderr
    graph = res.stdout.strip()
    assert "\n" not in graph and graph.count("xstack") == 1 and graph.count("drawtext") == 3
    assert "text='delay\\=9'" in graph and "expansion=none" in graph
    plain = work / "plain.mkv"
    media.run("-i", clip, "-filter_complex", graph, "-c:v", "ffv1", plain)
    ours = work / "ours.mkv"
    run("motion", clip, ours, *lossless("--sweep", "delay=3,5,9"))
    a, b = media.decode(plain), media.decode(ours)
    band = band_of([["delay=3"], ["delay=5"], ["delay=9"]])
    assert a.shape == b.shape == (N, H + band, 3 * W, 3)
    assert media.psnr(a, b) >= 40


def test_composite_sweeps_its_required_background(run, media, clip, alpha, work):
    out = work / "composite.mkv"
    run("composite", clip, alpha, out, *lossless("--sweep", "bg=red,0x2040c0", "--sweep", "feather=0,3"))
    frames = media.decode(out)
    band = band_of([["bg=0x2040c0", "feather=3"]])
    assert frames.shape == (N, 2 * (H + band), 2 * W, 3)
    for i, (bg, feather) in enumerate([("red", "0"), ("0x2040c0", "0"), ("red", "3"), ("0x2040c0", "3")]):
        single = work / f"composite{i}.mkv"
        run("composite", clip, alpha, single, *lossless("--bg", bg, "--feather", feather))
        assert media.psnr(tile(frames, i, 2, band), media.decode(single)) >= 40, (bg, feather)


def test_a_required_option_is_given_by_its_sweep_or_still_missing(ffvfx_cmd, clip, alpha, work):
    out = work / "missing.mkv"
    res = ffvfx_cmd("composite", clip, alpha, out, "--sweep", "feather=0,2")
    assert res.returncode == 1 and res.stderr.strip() == "ffvfx: error: Missing option '--bg'."
    assert not out.exists()
    printed = ffvfx_cmd("composite", clip, alpha, "--sweep", "bg=red,blue", "--print")
    assert printed.returncode == 0, printed.stderr
    assert "text='bg\\=red'" in printed.stdout and "text='bg\\=blue'" in printed.stdout


def test_printed_grid_without_input_uses_the_streams_own_rate(ffvfx_cmd):
    res = ffvfx_cmd("motion", "--sweep", "delay=2,4", "--sweep", "bloom=on,off", "--print")
    assert res.returncode == 0, res.stderr
    graph = res.stdout.strip()
    assert "FRAME_RATE" in graph and "layout=0_0|w0_0|0_h0|w0_h0" in graph
    assert graph.count("scale2ref") == 2 and "text='bloom\\=off'" in graph


def test_trails_sweep_in_segments_equals_single_renders(run, media, clip, work):
    out = work / "trails.mkv"
    run("trails", clip, out, "--jobs", "2", *lossless("--sweep", "ghost=normal,max", "--sweep", "layers=2,3"))
    frames = media.decode(out)
    band = band_of([["ghost=normal", "layers=2"]])
    assert frames.shape == (N, 2 * (H + band), 2 * W, 3)
    for i, (ghost, layers) in enumerate([("normal", "2"), ("max", "2"), ("normal", "3"), ("max", "3")]):
        single = work / f"trails{i}.mkv"
        run("trails", clip, single, *lossless("--ghost", ghost, "--layers", layers))
        assert media.psnr(tile(frames, i, 2, band), media.decode(single)) >= 40, (ghost, layers)


# -- contact sheets --------------------------------------------------------------------------------
def test_sheet_frames_are_the_single_renders_frames_at_exact_indices(run, media, clip, work):
    single = work / "sheet-single.mkv"
    run("motion", clip, single, *lossless("--delay", "5"))
    ref = media.decode(single)
    out = work / "sheet.png"
    run("motion", clip, out, "--delay", "5", "--sheet", "5")
    sheet = media.decode(out)[0]
    assert sheet.shape == (2 * H, 3 * W, 3)  # 5 frames: 3 columns, 2 rows
    picked = grid.sheet_frames(N, 5)
    assert picked == [0, 10, 20, 29, 39]
    for i, k in enumerate(picked):
        r, c = divmod(i, 3)
        cell = sheet[r * H:(r + 1) * H, c * W:(c + 1) * W]
        assert media.psnr(cell, ref[k]) >= 40, k
        assert all(media.psnr(cell, ref[j]) < media.psnr(cell, ref[k]) for j in (k - 1, k + 1) if 0 <= j < N)
    assert (sheet[H:, 2 * W:] == 0).all()  # the sixth cell is empty


def test_sheet_of_a_range_with_a_sweep(run, media, clip, work):
    """Frames 10..29 (--start 0.4 --duration 0.8 at 25 fps): picks 0, 10, 19 of that range, each a
    whole variant grid, one grid per row; the delay reaches back only inside the range, as a
    single render of the range does."""
    out = work / "range.png"
    run("motion", clip, out, "--start", "0.4", "--duration", "0.8", "--sweep", "delay=2,7", "--sheet", "3")
    sheet = media.decode(out)[0]
    band = band_of([["delay=2"], ["delay=7"]])
    assert sheet.shape == (3 * (H + band), 2 * W, 3)
    for v, delay in enumerate(("2", "7")):
        single = work / f"range{delay}.mkv"
        run("motion", clip, single, "--start", "0.4", "--duration", "0.8", *lossless("--delay", delay))
        ref = media.decode(single)
        assert len(ref) == 20
        for row, k in enumerate([0, 10, 19]):
            cell = sheet[row * (H + band):row * (H + band) + H, v * W:(v + 1) * W]
            assert media.psnr(cell, ref[k]) >= 40, (delay, k)


def test_printed_sheet_picks_after_the_effect(ffvfx_cmd, clip):
    res = ffvfx_cmd("motion", clip, "--delay", "4", "--sheet", "4", "--print")
    assert res.returncode == 0, res.stderr
    graph = res.stdout.strip()
    assert graph.index("tpad=start=4") < graph.index("select=") < graph.index("tile=")
    assert "eq(n,0)+eq(n,13)+eq(n,26)+eq(n,39)" in graph and "tile=layout=2x2" in graph


# -- refusals --------------------------------------------------------------------------------------
REFUSED = {
    "zero delay": (["--sweep", "delay=4,0"], "--delay: must be a whole number"),
    "nan": (["--sweep", "bloom-sigma=nan"], "finite"),
    "inf": (["--sweep", "strength=2,inf"], "finite"),
    "filter syntax": (["--sweep", "delay=4,8[x];movie=/etc/passwd"], "--delay"),
    "unknown": (["--sweep", "crf=4,8"], "sweep one of mode, delay, delay-s"),
    "an input": (["--sweep", "input=a.mp4,b.mp4"], "not a parameter"),
    "no values": (["--sweep", "delay"], "PARAM=V1,V2"),
    "empty value": (["--sweep", "delay=4,,8"], "empty value"),
    "bad choice": (["--sweep", "mode=gray,purple"], "purple"),
    "list needs /": (["--sweep", "delays=1,8,32,2,4,16"], "separate its variants with /"),
    "twice": (["--sweep", "delay=2", "--sweep", "delay=3"], "swept twice"),
    "too many": (["--sweep", "delay=1,2,3,4,5", "--sweep", "strength=1,2,3,4"], "at most 16"),
    "sheet 0": (["--sheet", "0"], "--sheet"),
    "sheet too big": (["--sheet", "41"], "the input has 40 frames"),
}


@pytest.mark.parametrize("args,said", REFUSED.values(), ids=REFUSED.keys())
def test_refused_in_one_line_writing_nothing(ffvfx_cmd, clip, work, args, said):
    out = work / ("refused.png" if "--sheet" in args else "refused.mkv")
    res = ffvfx_cmd("motion", clip, out, *args)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ffvfx: error:"), res.stderr
    assert said in lines[0] and "Traceback" not in res.stderr
    assert not out.exists() and not list(work.glob(".refused*"))


def test_sheet_output_rules(ffvfx_cmd, clip, work):
    video = ffvfx_cmd("motion", clip, work / "sheet.mp4", "--sheet", "2")
    assert video.returncode == 1 and "ending in .png" in video.stderr
    existing = work / "existing.png"
    existing.write_bytes(b"keep")
    kept = ffvfx_cmd("motion", clip, existing, "--sheet", "2")
    assert kept.returncode == 1 and existing.read_bytes() == b"keep"
    onto_input = ffvfx_cmd("motion", clip, clip, "--sheet", "2", "-y")
    assert onto_input.returncode == 1 and clip.stat().st_size > 1000
    jobs = ffvfx_cmd("motion", clip, work / "jobs.png", "--sheet", "2", "--jobs", "2")
    assert jobs.returncode == 1 and "one pass" in jobs.stderr


def test_sweep_help_lists_the_sweepable_names(ffvfx_cmd):
    res = ffvfx_cmd("trails", "--help")
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    assert "--sweep PARAM=V1,V2,..." in text and "--sheet N" in text
    names = text.split("PARAM: one of")[1].split(".")[0]
    assert names.startswith(" layers, decay, spacing") and "alpha" not in names  # a side file: not swept


def test_no_font_is_one_line(ffvfx_cmd, clip, work, tmp_path):
    res = ffvfx_cmd("motion", clip, work / "nofont.mkv", "--sweep", "delay=2,3",
                    env={"FFVFX_FONT": str(tmp_path / "missing.ttf")})
    assert res.returncode == 1 and "FFVFX_FONT" in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_drawtext_is_in_both_builds(tc):
    assert "drawtext" in tc.filters and "xstack" in tc.filters and "tile" in tc.filters


def test_caption_text_cannot_add_a_filter(media, tmp_path):
    """A caption full of graph syntax stays one drawtext's text (composite's --pad-color is free
    text): ffmpeg parses exactly format, pad and drawtext."""
    main = Input()
    text = "red'[x];movie=/etc/passwd,%{pts}:\\"
    out = grid.tiles(main.video, [lambda s: s], [[text]], 1, find_font(), (W, H))
    line = Graph(out, [main]).line()
    src = tmp_path / "src.mkv"
    media.run("-f", "lavfi", "-i", f"color=c=gray:s={W}x{H}:r={FPS}:d=0.08", "-c:v", "ffv1", src)
    res = subprocess.run([media.ffmpeg, "-hide_banner", "-loglevel", "debug", "-i", str(src),
                          "-filter_complex", line, "-f", "null", "-"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert set(re.findall(r"Parsed_([a-z]+)_\d", res.stderr)) == {"format", "pad", "drawtext"}


def test_studio_and_inpaint_render_options_from_declarations_are_the_hand_written_ones():
    """The render-time options of ``studio`` and ``inpaint`` come from their declarations
    (``studio.RENDER_PARAMS``, ``patch.PARAMS``) with the help, defaults and types the hand-written
    options had; ``--sweep`` names exactly those."""
    import click

    from ffvfx.cli import main
    from ffvfx.cli.options import FEATHER, FRACTION, Number
    from ffvfx.compiler.numbers import MAX_FRAMES_BACK
    written = {
        "studio": [
            click.option("--depth-scale", type=Number(float, 0, 100), default=0.3, show_default=True,
                         help="Parallax: a layer moves by camera path x its nearness (0..1) x this."),
            click.option("--layers", type=Number(int, 1, 8, unit="layers"), default=3, show_default=True,
                         help="Depth layers (1..8)."),
            click.option("--exposure-smooth", type=Number(int, 1, MAX_FRAMES_BACK, unit="frames"),
                         default=15, show_default=True, help="Frames the exposure curve is averaged over."),
            click.option("--feather", type=FEATHER, default=0.0, show_default=True,
                         help="Soften the alpha's edge (px)."),
            click.option("--blobs", type=Number(float, 0, 1, max_open=True), default=0.4, show_default=True,
                         help="Drop alpha regions smaller than this fraction of the main subject "
                         "(0: keep all)."),
        ],
        "inpaint": [
            click.option("--feather", type=FEATHER, default=4.0, show_default=True,
                         help="Soften its edge (px)."),
            click.option("--overlay-original", type=FRACTION, default=0.0, show_default=True,
                         help="Mix the original back in at this weight (0..1), for realism."),
        ],
    }
    for name, decorators in written.items():
        command = lambda **kw: None  # noqa: E731
        for decorate in reversed(decorators):
            command = decorate(command)
        hand, real = click.command()(command), main.commands[name]
        a, b = click.Context(hand, info_name=name), click.Context(real, info_name=name)
        by_option = {o: p for p in real.params for o in getattr(p, "opts", [])}
        for mine in hand.params:
            theirs = by_option[mine.opts[0]]
            assert mine.get_help_record(a) == theirs.get_help_record(b), mine.name
            assert mine.get_default(a) == theirs.get_default(b) and mine.name == theirs.name
            for value in ("0", "0.5", "1", "-1", "nan", "1e999", "9"):
                got = [p.type.convert(value, None, None) if _ok(p, value) else "refused"
                       for p in (mine, theirs)]
                assert got[0] == got[1], (mine.name, value)
        sweep = by_option["--sweep"].help
        assert sweep.endswith("PARAM: one of " + ", ".join(o.opts[0][2:] for o in hand.params) + ".")


def _ok(param, value) -> bool:
    import click
    try:
        param.type.convert(value, None, None)
        return True
    except click.BadParameter:
        return False
