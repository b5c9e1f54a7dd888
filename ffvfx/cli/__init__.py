"""The ``ffvfx`` command: parse, call the library, then print, preview or render.

Every render command shares :func:`render_options` and :func:`deliver`; effect commands only turn
their own options into an effect function.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click

from ffvfx import scale
from ffvfx.cli.options import (
    CRF,
    DURATION,
    FEATHER,
    FRACTION,
    FRAME,
    FRAMES_BACK,
    GAIN,
    GUIDANCE,
    JOBS,
    QP,
    SEED,
    SIGMA,
    START,
    STEPS,
    Length,
    Number,
    Numbers,
    Size,
)
from ffvfx.cli.paths import INPUT_PATH, InputPath
from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Input
from ffvfx.compiler.numbers import MAX_FRAMES_BACK, MAX_JOBS, decimal
from ffvfx.compiler.windows import Windowed
from ffvfx.effects import composite as composite_effect
from ffvfx.effects import loop as loop_effect
from ffvfx.effects.motion import MODES, motion
from ffvfx.effects.refine import Refine
from ffvfx.effects.register import echo_register
from ffvfx.effects.trails import OPERATORS as TRAIL_OPERATORS
from ffvfx.effects.trails import trail_mask, trails
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import sources, toolchain
from ffvfx.ffmpeg.atomic import atomic_folder, write_text
from ffvfx.ffmpeg.encoders import check_preset
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.probe import VideoInfo, frame_range, probe
from ffvfx.ffmpeg.rawvideo import check_decodes
from ffvfx.ffmpeg.render import (
    Effect,
    Encoding,
    Job,
    aligned_input,
    check_container,
    plan_for,
    print_command,
    printable_graph,
    run,
)
from ffvfx.ffmpeg.sources import resolve
from ffvfx.stages.analysis import camera
from ffvfx.stages.analysis import loops as loop_analysis
from ffvfx.stages.analysis import mask as mask_analysis
from ffvfx.stages.analysis import plate as plate_analysis
from ffvfx.stages.analysis.alpha import check_alpha, side_fits
from ffvfx.stages.matting.model import DEFAULT_MODEL, ModelOptions
from ffvfx.stages.matting.stream import ALPHA_CODECS, refine_line

PRINT_FORMS = ("line", "script", "cmd")


def render_options(func: Callable) -> Callable:
    """The options every render command takes: time range, quality, output safety, preview."""
    options = [
        click.argument("input", required=False, type=INPUT_PATH),
        click.argument("output", required=False),
        click.option("--camera", metavar="SPEC",
                     help="Read a camera instead of INPUT: webcam, /dev/video0, v4l2:DEVICE, "
                     "avfoundation:INDEX, dshow:video=NAME (never a file)."),
        click.option("--lavfi", metavar="GRAPH",
                     help="Read a synthetic lavfi source instead of INPUT, e.g. "
                     "testsrc2=s=1280x720:r=30 (never a file)."),
        click.option("--print", "print_form", is_flag=False, flag_value="line", default=None,
                     type=click.Choice(PRINT_FORMS),
                     help="Print the graph (line, script) or the full ffmpeg command (cmd)."),
        click.option("--preview", is_flag=True, help="Play through ffplay instead of rendering."),
        click.option("--size", help="Camera capture size (webcam, /dev/video0, --camera), "
                     "e.g. 1280x720."),
        click.option("--fps", type=Number(float, 0, 1000, min_open=True, unit="fps"),
                     help="Camera capture rate (webcam, /dev/video0, --camera)."),
        click.option("--start", type=START, help="Start this many seconds into the input."),
        click.option("--duration", type=DURATION, help="Render this many seconds."),
        click.option("--crf", type=CRF, help="Constant quality (x264/x265; default 18)."),
        click.option("--qp", type=QP, help="Constant quantiser instead of --crf."),
        click.option("--preset", help="Encoder preset (x264: ultrafast .. veryslow)."),
        click.option("--encoder", help="Video encoder (default: libx264, libvpx-vp9 for .webm; "
                     "h264_nvenc with --hw cuda, h264_vaapi, h264_qsv)."),
        click.option("--hw", default=lambda: os.environ.get("FFVFX_HW", "cpu"),
                     show_default="cpu, or $FFVFX_HW",
                     help="Where to decode/encode: cpu, auto (probe and pick), cuda[:GPU], "
                     "vaapi[:/dev/dri/renderDN], qsv[:NODE]. The effect's filters run on the CPU."),
        click.option("--jobs", "-j", type=JOBS, default=1, show_default=True,
                     help="Render this many segments side by side (frame-exact: each starts its "
                     "effect's reach earlier); the pieces are joined without re-encoding."),
        click.option("--ray", "ray_address", default=lambda: os.environ.get("RAY_ADDRESS"),
                     show_default="$RAY_ADDRESS",
                     help="Send the segments to this Ray cluster (auto, ray://HOST:10001, local); "
                     "needs the ray extra."),
        click.option("--max-memory", type=Number(float, 0, 1e6, min_open=True, unit="GiB"),
                     show_default="$FFVFX_MAX_MEMORY, else half the RAM",
                     help="Most memory the effect's delayed frames may take (GiB); a graph that "
                     "would hold more is refused before it runs."),
        click.option("--no-audio", is_flag=True, help="Drop the audio track."),
        click.option("-y", "--overwrite", is_flag=True, help="Replace an existing output."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def deliver(build: Callable[[VideoInfo | None], Effect], common: dict,
            inputs: Sequence[str | None] = ()) -> None:
    """Print, preview or render the effect ``build(info)`` as the common options ask.

    ``info`` describes the input file (None for cameras and printed graphs), for options given in
    seconds or checked against the input's length. ``inputs``: the side files the command reads
    (alpha, mask, background ...); a render's output is checked against them and the input before
    ``build`` analyses anything.
    """
    tools = toolchain.find()
    input_spec, output = common["input"], common["output"]
    form = common["print_form"]
    source = sources.choose(input_spec, common["camera"], common["lavfi"], common["size"], common["fps"])
    if source is not None and output and not form and not common["preview"]:
        check_output(output, [None if source.device else source.path, *inputs], common["overwrite"])
    _check_render(common)
    info = probe(source.path, tools) if source is not None and not source.device else None
    make = build(info)

    job = Job(source, output or "out.mp4", make,
              Encoding(common["encoder"], common["crf"], common["qp"], common["preset"]),
              start=common["start"], duration=common["duration"], audio=not common["no_audio"],
              overwrite=common["overwrite"], quiet=common["quiet"], hw=common["hw"],
              jobs=common["jobs"], ray=common["ray_address"] or None, max_memory=common["max_memory"])
    if source is None or (form in ("line", "script") and not common["preview"]):
        plan = plan_for(job, tools, info, probe=False) if common["hw"] != "cpu" else None
        graph = printable_graph(make, plan, info)
        if plan is not None and not common["quiet"]:
            for note in plan.notes:
                click.echo(f"ffvfx: {note}", err=True)
            if plan.on_device:
                click.echo(f"ffvfx: graph for --hw {plan.target.name}: {plan.usage()}", err=True)
        click.echo(graph.script() if form == "script" else graph.line(), nl=form != "script")
        return
    if common["preview"]:
        from ffvfx.ffmpeg.preview import preview
        if common["hw"] != "cpu":
            _notes(common["quiet"])("--preview decodes and filters on the CPU (ffplay); --hw ignored")
        preview(printable_graph(make, info=info), source, tools)
        return
    if not output and form != "cmd":
        raise FfvfxError("give an output file (or --print / --preview)")
    if form == "cmd":
        click.echo(print_command(job, tools, info))
        return
    scale.render(job, tools, info)
    if not common["quiet"]:
        click.echo(f"wrote {output}", err=True)


def _check_render(common: dict) -> None:
    """The output's container and the --preset, refused in one line before any analysis."""
    output = common["output"]
    if output and not common["print_form"] and not common["preview"]:
        check_container(output)
    if common["preset"] and (common["encoder"] or common["hw"] == "cpu"):
        check_preset(common["encoder"] or Encoding().resolved(output or "out.mp4"), common["preset"])


def _common(kwargs: dict) -> dict:
    keys = ("input", "output", "camera", "lavfi", "print_form", "preview", "size", "fps", "start",
            "duration", "crf", "qp", "preset", "encoder", "hw", "jobs", "ray_address", "no_audio",
            "overwrite", "quiet", "max_memory")
    common = {k: kwargs.pop(k) for k in keys}
    if (common["camera"] is not None or common["lavfi"] is not None) and common["output"] is None:
        # --camera/--lavfi take INPUT's place: the one positional is the output
        common["input"], common["output"] = None, common["input"]
    return common


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ffvfx")
def main() -> None:
    """Artistic video effects compiled to ffmpeg filtergraphs."""


@main.command("motion")
@render_options
@click.option("--mode", type=click.Choice(MODES), default="gray", show_default=True,
              help="gray: Posy's invert+offset; black: |c-p|; matte; glow; rgb: three delays.")
@click.option("--delay", type=FRAMES_BACK, default=8, show_default=True, help="Frames between c and p.")
@click.option("--delay-s", type=Number(float, 0, MAX_FRAMES_BACK, min_open=True, unit="seconds"),
              help="The delay in seconds instead (needs an input).")
@click.option("--delays", type=Numbers(FRAMES_BACK, 3, example="1,8,32"), default="1,8,32", show_default=True,
              help="rgb mode: R,G,B delays (frames).")
@click.option("--strength", type=GAIN, default=1.0, show_default=True, help="Amplify the difference.")
@click.option("--freeze", type=FRAME, help="Compare every frame with this one frame (0-based).")
@click.option("--bloom", is_flag=True, help="Add a soft glow of the motion on top.")
@click.option("--bloom-sigma", type=SIGMA, default=8.0, show_default=True, help="Glow radius (px).")
@click.option("--bloom-strength", type=Number(float, 0, 1000), default=1.0, show_default=True,
              help="Glow gain.")
def motion_command(**kw) -> None:
    """Motion extraction: each frame against a delayed copy of itself.

    INPUT is a file; when no file has the name, `demo`, `webcam` or /dev/videoN. Other cameras
    and synthetic sources: --camera SPEC, --lavfi GRAPH. A file named -x.mp4 goes after --.
    With no input the one-line graph is printed for use in ffmpeg -vf / -filter_complex / ffplay.
    """
    common = _common(kw)
    delays = list(kw["delays"])

    def make(info: VideoInfo | None) -> Effect:
        delay = kw["delay"]
        if kw["delay_s"] is not None:
            if info is None:
                raise FfvfxError("--delay-s needs an input file to know its frame rate; use --delay")
            delay = round(kw["delay_s"] * float(info.fps))
            if delay < 1:
                raise FfvfxError(f"--delay-s {decimal(kw['delay_s'])}: under one frame at "
                                 f"{decimal(float(info.fps), 6)} fps; give at least one frame, "
                                 f"{decimal(1 / float(info.fps), 6)} s")
            if delay > MAX_FRAMES_BACK:
                raise FfvfxError(f"--delay-s {decimal(kw['delay_s'])}: {delay} frames at "
                                 f"{decimal(float(info.fps), 6)} fps; at most {MAX_FRAMES_BACK}")
        if kw["freeze"] is not None and info is not None and info.frames is not None \
                and kw["freeze"] >= info.frames:
            raise FfvfxError(f"--freeze {kw['freeze']}: the input has {info.frames} frames (0-based)")
        params = dict(mode=kw["mode"], delay=delay, strength=kw["strength"], delays=delays,
                      freeze=kw["freeze"], bloom=kw["bloom_strength"] if kw["bloom"] else 0.0,
                      bloom_sigma=kw["bloom_sigma"])
        motion(Input().video, **params)  # validate before any file is touched
        return functools.partial(motion, **params)

    deliver(make, common)


@main.command("trails")
@render_options
@click.option("--layers", type=Number(int, 1, 64, unit="echoes"), default=6, show_default=True,
              help="Number of echoes.")
@click.option("--decay", type=Number(float, 0, 1, min_open=True), default=0.7, show_default=True,
              help="Echo k has opacity decay^k.")
@click.option("--spacing", type=FRAMES_BACK, default=5, show_default=True, help="Frames between echoes.")
@click.option("--intensity", type=GAIN, default=1.0, show_default=True, help="Starting intensity.")
@click.option("--ghost", "--operator", "operator", type=click.Choice(TRAIL_OPERATORS), default="normal",
              show_default=True, help="glow: bright trails; shadow: dark; normal: weighted average; "
              "add/max/min/screen/blend; behind/front need --alpha.")
@click.option("--alpha", "alpha_path", type=INPUT_PATH,
              help="Matte video (white = subject) for behind/front.")
@click.option("--compensate/--no-compensate", default=True, show_default=True,
              help="Shift every echo back into register with the camera's motion.")
@click.option("--mask", is_flag=True, help="Trails only on the moving, in-focus subject.")
@click.option("--motion-thresh", type=Number(int, 0, 255, unit="levels"), default=10, show_default=True,
              help="--mask: 8-bit levels.")
@click.option("--focus-block", type=Number(int, 3, 999, unit="pixels"), default=31, show_default=True,
              help="--mask: block size (px).")
@click.option("--glow-sigma", type=SIGMA, default=8.0, show_default=True, help="glow: blur radius (px).")
@click.option("--exposure", type=GAIN, default=2.0, show_default=True,
              help="glow: echo gain; shadow: echo darkening.")
def trails_command(**kw) -> None:
    """Ghost trails: each frame with LAYERS echoes SPACING frames apart, fading by DECAY.

    Camera motion is measured first (phase correlation at 960 px, kept in the ffvfx cache for the
    next run) so backgrounds stay sharp and only what moves on its own trails. With no INPUT the
    one-line graph (without compensation or mask, which need an input file) is printed.
    """
    common = _common(kw)
    params = dict(layers=kw["layers"], decay=kw["decay"], spacing=kw["spacing"],
                  intensity=kw["intensity"], operator=kw["operator"], glow_sigma=kw["glow_sigma"],
                  exposure=kw["exposure"])
    if kw["mask"]:
        mask_analysis.check_params(focus_block=kw["focus_block"], motion_thresh=kw["motion_thresh"])

    def make(info: VideoInfo | None) -> Effect:
        tools = toolchain.find()
        alpha = None
        if kw["alpha_path"]:
            alpha = _side_input(kw["alpha_path"], info, common, tools, "alpha")
        trails(Input().video, alpha=Input().video if alpha else None, **params)  # validate early
        if info is None:  # a printed graph or a camera: nothing to analyse
            live = common["input"] or common["camera"] is not None or common["lavfi"] is not None
            if live and kw["compensate"]:
                raise FfvfxError("camera compensation analyses a file; use --no-compensate for a camera")
            if kw["mask"] or alpha is not None:
                raise FfvfxError("--mask and --alpha need an input file")
            return functools.partial(trails, **params)
        say = _notes(common["quiet"])
        register = None
        offsets = None
        if kw["compensate"]:
            path = camera.cached_path(info.path, tools, common["start"], common["duration"], say=say)
            register = echo_register(path, kw["spacing"], kw["layers"])
            offsets = path.offsets
        mask = None
        if kw["mask"]:
            found = mask_analysis.cached_mask(info.path, tools, offsets=offsets, start=common["start"],
                                              duration=common["duration"],
                                              motion_thresh=kw["motion_thresh"],
                                              focus_block=kw["focus_block"], say=say)
            first, _ = frame_range(info, common["start"], common["duration"])
            mask = aligned_input(str(found.path), probe(str(found.path), tools), info, "mask", first)

        def build(first: int, frames: int | None) -> Effect:
            hook = register.window(first, frames) if register else None

            def effect(stream):
                out = trails(stream, alpha=alpha.video if alpha else None, register=hook, **params)
                if mask is None:
                    return out
                where = trail_mask(mask.video, layers=kw["layers"], spacing=kw["spacing"], register=hook)
                return mask_analysis.apply_mask(timeline.regular(stream), out, where)
            return effect
        return Windowed(build)

    deliver(make, common, [kw["alpha_path"]])


def _notes(quiet: bool) -> Callable[[str], None]:
    """Say what a long step is doing on stderr (``ffvfx: ...``), or nothing with -q."""
    return (lambda msg: None) if quiet else (lambda msg: click.echo(f"ffvfx: {msg}", err=True))


def _side_input(path: str, info: VideoInfo | None, common: dict, tools, what: str) -> Input:
    """A side video (matte) the user gave: the input's size, one frame per input frame (or per
    frame of the --start/--duration range, when it was made for that range)."""
    side = probe(path, tools)
    if info is None:
        return Input(path, label=what, aligned=True)
    origin = side_fits(path, side, info, f"--{what}", common["start"], common["duration"])
    return aligned_input(path, side, info, what, origin)


@main.command("loop")
@click.argument("input", type=INPUT_PATH)
@click.option("-o", "--output", "outdir", help="Output folder (default: INPUT's name + _loops).")
@click.option("--loops", "count", type=Number(int, 1, 100), default=5, show_default=True,
              help="Loops to keep.")
@click.option("--min-length", type=Length(), default="1s", show_default=True,
              help="Shortest loop: 2s, 1.5s or frames.")
@click.option("--max-length", type=Length(), default="6s", show_default=True,
              help="Longest loop: 6s or frames.")
@click.option("--hash", "hash_name", type=click.Choice(tuple(loop_analysis.HASHES)), default="phash",
              show_default=True, help="Perceptual hash compared between frames.")
@click.option("--hash-size", type=Number(int, 2, 32), default=8, show_default=True,
              help="Hash side (bits = size^2).")
@click.option("--threshold", type=FRACTION, default=0.1, show_default=True,
              help="Largest seam distance (hash bits differing / bits, over a 5-frame window).")
@click.option("--min-motion", type=FRACTION, default=0.06, show_default=True,
              help="Some frame inside must differ from the start at least this much (hash distance).")
@click.option("--max-motion", type=FRACTION, default=0.35, show_default=True,
              help="Largest hash distance between neighbouring frames: above it is a scene cut.")
@click.option("--crossfade", type=Number(int, 0, MAX_FRAMES_BACK, unit="frames"),
              default=0, show_default=True,
              help="Blend the last N frames into the ones before the start (frames).")
@click.option("--format", "fmt", type=click.Choice(loop_effect.FORMATS), default="webm",
              show_default=True, help="webm: VP9; mp4: H.264; gif: own palette.")
@click.option("--alpha", "alpha_path", type=INPUT_PATH,
              help="Matte video (white = opaque): WebM with transparency.")
@click.option("--crf", type=CRF, help="Constant quality (VP9 default 32, x264 18).")
@click.option("--print", "print_graph", is_flag=True, help="Print each loop's graph; write nothing.")
@click.option("--preview", is_flag=True, help="Play the best loop in ffplay, over and over; write nothing.")
@click.option("-y", "--overwrite", is_flag=True, help="Replace existing loop files in the folder.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def loop_command(**kw) -> None:
    """Find seamless loops in INPUT and write the best as loop_K.webm, loops.json, index.html.

    Frames are compared by perceptual hash on a small gray copy decoded once; a loop's seam is
    scored over 5 frame pairs around it, then judged on the pixels: a seam step clearly worse
    than the ordinary steps (whole frame or any tile) or a camera drift is refused, with the
    --crossfade that would hide it. Loops never overlap; dark or flat stretches, still
    stretches and scene cuts are not loops. Lengths are in seconds (2s) or frames (45).
    """
    from ffvfx.pipelines import loop as loop_output
    tools = toolchain.find()
    if kw["alpha_path"] and kw["fmt"] != "webm":
        raise FfvfxError("--alpha needs --format webm (VP9 keeps transparency)")
    src = resolve(kw["input"])
    if src.device:
        raise FfvfxError("ffvfx loop analyses a file; record the camera first")
    source = src.path
    outdir = Path(kw["outdir"] or Path(kw["input"]).stem + "_loops")
    ext = kw["fmt"]
    if not (kw["print_graph"] or kw["preview"]):  # every loop file there is replaced or removed
        earlier = [p.name for f in loop_effect.FORMATS for p in outdir.glob(f"loop_*.{f}")]
        check_output(outdir, [source, kw["alpha_path"]], kw["overwrite"],
                     files=sorted({*earlier, loop_output.LISTING, loop_output.PAGE}))
    info = probe(source, tools)
    fps = float(info.fps)
    lengths = dict(min_length=kw["min_length"].frames(fps), max_length=kw["max_length"].frames(fps))
    params = dict(threshold=kw["threshold"], min_motion=kw["min_motion"], max_motion=kw["max_motion"],
                  count=kw["count"])
    loop_analysis.check_params(hash_name=kw["hash_name"], hash_size=kw["hash_size"], **lengths, **params)
    if kw["crossfade"] and 2 * kw["crossfade"] > lengths["min_length"]:
        raise FfvfxError(f"--crossfade {kw['crossfade']}: at most half of --min-length "
                         f"({lengths['min_length']} frames)")
    if kw["alpha_path"]:
        _side_input(kw["alpha_path"], info, {"start": None, "duration": None}, tools, "alpha")
    say = _notes(kw["quiet"])
    say(f"analysing {info.frames or 'all'} frames")
    frames = loop_analysis.analyse(source, tools, hash_name=kw["hash_name"], hash_size=kw["hash_size"])
    found = loop_analysis.find_loops(frames, **lengths, **params, margin=kw["crossfade"])
    why_none = found.refusal() or f"no span's ends match within the hash threshold {kw['threshold']:g}"
    if kw["print_graph"]:
        for loop in found:
            click.echo(loop_output.graph_for(loop, source=None, alpha=kw["alpha_path"], fmt=kw["fmt"],
                                             crossfade=kw["crossfade"]).line())
        if not found:
            click.echo(f"ffvfx: no seamless loop found: {why_none}", err=True)
        return
    if kw["preview"]:
        if not found:
            raise FfvfxError(f"no seamless loop found: {why_none}")
        from ffvfx.ffmpeg.preview import preview
        best = loop_output.graph_for(found[0], source=None, alpha=None, fmt="webm",
                                     crossfade=kw["crossfade"])
        preview(best, src, tools)
        return

    names = [loop_output.loop_name(i, ext) for i in range(len(found))]
    # -y: loops of an earlier run that this listing does not name go once the new ones are in
    stale = sorted(p.name for f in loop_effect.FORMATS for p in outdir.glob(f"loop_*.{f}")
                   if p.name not in names) if outdir.is_dir() else []
    data = loop_output.listing(found, source=str(source), fmt=ext, crossfade=kw["crossfade"],
                               params=dict(hash=kw["hash_name"], hash_size=kw["hash_size"],
                                           **lengths, **params))
    # all or nothing: built beside the folder, put in place when every loop is encoded
    with atomic_folder(outdir, overwrite=kw["overwrite"], remove=stale) as staging:
        for loop, name in zip(found, names, strict=True):
            loop_output.encode(loop, staging / name, tools, source=source, alpha=kw["alpha_path"],
                               fmt=ext, crossfade=kw["crossfade"], crf=kw["crf"], quiet=kw["quiet"],
                               rate=info.fps)
        loop_output.write_listing(staging / loop_output.LISTING, data)
        write_text(staging / loop_output.PAGE,
                   loop_output.page(data, loop_output.source_href(source, outdir)), overwrite=False)
    if not found:
        click.echo(f"no seamless loop found ({lengths['min_length']}-{lengths['max_length']} frames): "
                   f"{why_none}; wrote an empty "
                   f"{outdir / loop_output.LISTING}")
        return
    for loop, name in zip(found, names, strict=True):
        click.echo(f"{outdir / name}  frames {loop.start}-{loop.end} ({loop.length}), "
                   f"{loop.start_time:.2f}-{loop.end_time:.2f} s, score {loop.score:.3f}, "
                   f"seam {loop.pixels.seam_psnr:.1f} dB (ordinary steps {loop.pixels.step_psnr:.1f} dB)")


@main.command("plate")
@click.argument("input", type=INPUT_PATH)
@click.argument("alpha", metavar="ALPHA|auto", type=InputPath("auto"))
@click.argument("output", required=False, metavar="OUT.png")
@click.option("--method", type=click.Choice(plate_analysis.METHODS), default="median", show_default=True,
              help="median: of the background pixels (needs ALPHA); tmedian: ffmpeg's temporal "
              "median, no alpha (ffvfx plate IN OUT.png --method tmedian).")
@click.option("--threshold", type=Number(float, 0, 1, min_open=True), default=0.1, show_default=True,
              help="A pixel is background where the alpha is below this fraction of full (0..1).")
@click.option("--samples", type=Number(int, 1, plate_analysis.MAX_SAMPLES, unit="frames"),
              default=32, show_default=True,
              help="Frames sampled evenly over the clip (1..255; memory 4 bytes/px each).")
@click.option("--inpaint", type=click.Choice(tuple(plate_analysis.INPAINT)), default="telea",
              show_default=True, help="OpenCV inpainting of pixels never seen uncovered.")
@click.option("--inpaint-radius", type=Number(float, 0, 100, min_open=True, unit="pixels"),
              default=5.0, show_default=True, help="Inpainting radius (px).")
@click.option("--start", type=START, help="Start this many seconds into the input.")
@click.option("--duration", type=DURATION, help="Use this many seconds.")
@click.option("-y", "--overwrite", is_flag=True, help="Replace an existing OUT.png.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def plate_command(**kw) -> None:
    """Clean background plate of INPUT as a PNG: the subject taken out.

    Per pixel, the median over sampled frames where ALPHA (a gray matte, white = subject; `auto`
    computes one with the default person model) is below --threshold; pixels never uncovered are
    inpainted, and their share is said on stderr.
    """
    import tempfile

    from ffvfx.stages.matting.model import build
    from ffvfx.stages.matting.stream import write_matte

    tools = toolchain.find()
    alpha, output = kw["alpha"], kw["output"]
    if kw["method"] == "tmedian":
        if output is not None:
            raise FfvfxError("--method tmedian takes no alpha: ffvfx plate IN OUT.png --method tmedian")
        alpha, output = None, alpha
    elif output is None:
        raise FfvfxError("give the alpha and the output: ffvfx plate IN ALPHA|auto OUT.png")
    src = resolve(kw["input"])
    if src.device:
        raise FfvfxError("ffvfx plate reads a file; record the camera first")
    out = Path(output)
    if out.suffix.lower() != ".png":
        raise FfvfxError(f"{output}: the plate is a PNG image; give an output ending in .png")
    check_output(out, [src.path, alpha], kw["overwrite"])
    info = probe(src.path, tools)
    say = _notes(kw["quiet"])
    span = dict(start=kw["start"], duration=kw["duration"])
    if alpha is None:
        result = plate_analysis.tmedian_plate(src.path, str(out), tools, info, samples=kw["samples"],
                                              overwrite=kw["overwrite"], **span)
    else:
        options = dict(samples=kw["samples"], threshold=kw["threshold"], inpaint=kw["inpaint"],
                       radius=kw["inpaint_radius"], **span)
        plate_analysis.check_options(samples=kw["samples"], threshold=kw["threshold"],
                                     inpaint=kw["inpaint"], radius=kw["inpaint_radius"])
        with tempfile.TemporaryDirectory(prefix="ffvfx-plate-") as tmp:
            auto = sources.keyword(alpha, "auto") is not None  # a file named auto is that file
            seeked = not auto  # the alpha covers the whole input: seek it like the input
            if auto:
                model = build(DEFAULT_MODEL, ModelOptions(), info)
                say(f"computing the alpha with {DEFAULT_MODEL}"
                    + (f" ({model.licence})" if model.licence else ""))
                alpha = str(Path(tmp) / "alpha.mkv")
                write_matte(src.path, tools, model, alpha, quiet=kw["quiet"], info=info, **span)
            else:
                seeked = not check_alpha(alpha, info, tools, **span)
            result = plate_analysis.median_plate(src.path, alpha, str(out), tools, info,
                                                 alpha_ranged=seeked, overwrite=kw["overwrite"],
                                                 **options)
    say(plate_analysis.say_uncovered(result, kw["inpaint"], kw["inpaint_radius"]))
    click.echo(str(out))


@main.command("composite")
@render_options
@click.argument("alpha_path", required=False, metavar="ALPHA", type=INPUT_PATH)
@click.option("--bg", required=True, type=InputPath("COLOR"),
              help="Background: an image (looped), a video (looped when shorter) "
              "or a colour (0xRRGGBB, #RRGGBB, a name such as black).")
@click.option("--fit", type=click.Choice(composite_effect.FITS), default="cover", show_default=True,
              help="cover: fill and crop; contain: fit inside and pad; stretch: ignore the aspect.")
@click.option("--pad-color", default="black", show_default=True, help="contain: colour of the bars.")
@click.option("--feather", type=FEATHER, default=0.0, show_default=True,
              help="Soften the alpha's edge (Gaussian sigma, px).")
@click.option("--shift-bg", type=Numbers(Number(int, -16384, 16384, unit="pixels"), 2, example="12,-4"),
              default="0,0", show_default=True,
              help="Move the background x,y px (right, down; negative: left, up).")
def composite_command(**kw) -> None:
    """Put the subject of INPUT (where ALPHA, a gray matte, is white) over a new background.

    One ffmpeg graph: the background fitted to the input's size, the input with ALPHA merged,
    overlaid in RGB; audio kept. --print shows it with ALPHA and the background as movie= sources.
    Usage: ffvfx composite IN ALPHA OUT --bg PLATE|VIDEO|COLOR.
    """
    common = _common(kw)
    shift = kw["shift_bg"]

    def make(info: VideoInfo | None) -> Effect:
        if info is None:
            raise FfvfxError("composite needs an input file and its alpha: "
                             "ffvfx composite IN ALPHA OUT --bg PLATE|VIDEO|COLOR")
        if not kw["alpha_path"]:
            raise FfvfxError("give the alpha: ffvfx composite IN ALPHA OUT --bg PLATE|VIDEO|COLOR")
        tools = toolchain.find()
        check_alpha(kw["alpha_path"], info, tools, start=common["start"], duration=common["duration"])
        alpha = _side_input(kw["alpha_path"], info, common, tools, "alpha")
        bg = composite_effect.background(kw["bg"], info)
        # not a picture, or no frame of it decodes: one line now, not an ffmpeg error (or a
        # -stream_loop that never ends) later
        bg_info = probe(bg.value, tools) if bg.kind != "color" else None
        if bg.kind != "color":
            check_decodes(bg.value, tools, "--bg")
        params = dict(bg=bg, size=(info.width, info.height), fps=info.fps, fit=kw["fit"],
                      pad_color=kw["pad_color"], feather=kw["feather"], shift=shift)
        composite_effect.composite(Input().video, Input().video, **params)  # validate early
        if bg.kind != "video":
            return functools.partial(composite_effect.composite, alpha=alpha.video, **params)
        from ffvfx.scale.segments import count_frames
        period = composite_effect.loop_period(count_frames(bg.value, tools.ffmpeg), bg_info.fps,
                                              info.fps) \
            if common["jobs"] > 1 or common["ray_address"] else None
        return Windowed(lambda first, frames: functools.partial(
            composite_effect.composite, alpha=alpha.video, first=first, period=period, **params))

    deliver(make, common, [kw["alpha_path"], kw["bg"]])


def _second_argument(command: click.Command, name: str) -> None:
    """Make the argument ``name`` the command's second positional (IN ALPHA OUT)."""
    param = next(p for p in command.params if p.name == name)
    command.params.remove(param)
    command.params.insert(1, param)


_second_argument(composite_command, "alpha_path")


@main.command("matte")
@click.argument("input", type=INPUT_PATH)
@click.option("-o", "--output", "outdir", help="Output folder (default: INPUT's name + _matte).")
@click.option("--model", default=None, help="chroma, difference, rvm, selfie (default), segmentation, "
              "birefnet, rmbg.")
@click.option("--compare", help="Several models, e.g. chroma,selfie,rvm: one alpha each and compare.mp4.")
@click.option("--alpha-codec", type=click.Choice(ALPHA_CODECS), default="ffv1", show_default=True,
              help="ffv1: lossless gray .mkv; libx264: near-lossless .mp4.")
@click.option("--foreground", is_flag=True, help="Also write the model's foreground colours.")
@click.option("--composite", "composite_bg", type=InputPath("COLOR"),
              help="Also write a quick look over green, a COLOR or an IMAGE.")
@click.option("--weights", type=INPUT_PATH,
              help="Local weights (file or folder) instead of the model's default.")
@click.option("--model-id", help="Hub id of a transformers model (segmentation, birefnet).")
@click.option("--revision", help="Hub revision of --model-id.")
@click.option("--device", default="auto", show_default=True, help="auto (cuda, mps, cpu), cpu, cuda, mps.")
@click.option("--downsample-ratio", type=Number(float, 0, 1, min_open=True),
              help="rvm: model resolution / frame (default: auto).")
@click.option("--allow-noncommercial", is_flag=True, help="Allow non-commercial models (rmbg).")
@click.option("--plate", type=INPUT_PATH, help="difference: the clean background image.")
@click.option("--diff-threshold", type=Number(float, 1, 254, unit="levels"), default=40.0, show_default=True,
              help="difference: 8-bit colour distance that is half foreground.")
@click.option("--key", default="auto", show_default=True, help="chroma: auto, green, blue or 0xRRGGBB.")
@click.option("--similarity", type=Number(float, 0.01, 1), default=0.1, show_default=True,
              help="chroma: key width (0.01..1).")
@click.option("--blend", type=Number(float, 0, 1, min_open=True), default=0.05, show_default=True,
              help="chroma: soft edge (0..1).")
@click.option("--threshold", type=FRACTION, help="Clean-up: hard matte at this alpha (0..1).")
@click.option("--erode", type=Number(int, 0, 64, unit="pixels"), default=0, show_default=True,
              help="Clean-up: shrink (px).")
@click.option("--dilate", type=Number(int, 0, 64, unit="pixels"), default=0, show_default=True,
              help="Clean-up: grow (px).")
@click.option("--smooth", type=Number(int, 1, 31, unit="frames"), default=1, show_default=True,
              help="Clean-up: centred average (frames).")
@click.option("--feather", type=FEATHER, default=0.0, show_default=True, help="Clean-up: soft edge (px).")
@click.option("--blobs", type=Number(float, 0, 1, max_open=True), default=0.4, show_default=True,
              help="Drop regions smaller than this fraction of the main subject (0: keep all).")
@click.option("--batch", type=Number(int, 1, 64, unit="frames"), default=4, show_default=True,
              help="Frames per model call.")
@click.option("--start", type=START, help="Start this many seconds into the input.")
@click.option("--duration", type=DURATION, help="Matte this many seconds.")
@click.option("--print", "print_graph", is_flag=True, help="Print the clean-up graph; write nothing.")
@click.option("-y", "--overwrite", is_flag=True, help="Replace existing files in the folder.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def matte_command(**kw) -> None:
    """Matte INPUT: alpha video(s) (white = subject) in a folder, plus a JSON log.

    Frames stream from ffmpeg through the model in batches into an FFV1 encoder, so memory is flat
    whatever the length; stray blobs are dropped, then the clean-up graph (--threshold, --erode,
    --dilate, --smooth, --feather; see --print) runs in the encoder.
    """
    from ffvfx.pipelines import matte as folder
    cleanup = Refine(threshold=kw["threshold"], erode=kw["erode"], dilate=kw["dilate"],
                     smooth=kw["smooth"], feather=kw["feather"])
    if kw["print_graph"]:
        click.echo(refine_line(cleanup) or "null")
        return
    if kw["compare"] and kw["model"]:
        raise FfvfxError("give --model or --compare, not both")
    names = [n.strip() for n in kw["compare"].split(",") if n.strip()] if kw["compare"] \
        else [kw["model"] or DEFAULT_MODEL]
    if not 0 <= kw["blobs"] < 1:
        raise FfvfxError(f"--blobs takes a fraction 0..1 of the main subject, got {kw['blobs']:g}")
    options = ModelOptions(weights=kw["weights"], model_id=kw["model_id"], revision=kw["revision"],
                           device=kw["device"], downsample_ratio=kw["downsample_ratio"],
                           allow_noncommercial=kw["allow_noncommercial"], plate=kw["plate"],
                           key=kw["key"], similarity=kw["similarity"], blend=kw["blend"],
                           threshold=kw["diff_threshold"])
    src = resolve(kw["input"])
    if src.device:
        raise FfvfxError("ffvfx matte reads a file; record the camera first")
    outdir = Path(kw["outdir"] or Path(kw["input"]).stem + "_matte")
    written = folder.matte_folder(  # all or nothing: a failure leaves no folder
        src.path, outdir, toolchain.find(), names, options, cleanup=cleanup,
        alpha_codec=kw["alpha_codec"], foreground=kw["foreground"], composite=kw["composite_bg"],
        blobs=kw["blobs"], batch=kw["batch"], start=kw["start"], duration=kw["duration"],
        overwrite=kw["overwrite"], say=_notes(kw["quiet"]), quiet=kw["quiet"])
    for path in written:
        click.echo(str(path))


def ai_options(func: Callable) -> Callable:
    """The options ``generate`` and ``studio`` share: prompt, diffusion settings, models."""
    options = [
        click.option("--prompt", default="", help="What the new background should be."),
        click.option("--negative-prompt", "negative", default="", help="What it should not show."),
        click.option("--seed", type=SEED, default=0, show_default=True),
        click.option("--steps", type=STEPS, default=30, show_default=True, help="Diffusion steps."),
        click.option("--strength", type=Number(float, 0, 1, min_open=True), default=0.95, show_default=True,
                     help="How far from the frame the drawing may go (0..1)."),
        click.option("--guidance", type=GUIDANCE, default=7.5, show_default=True, help="Prompt guidance."),
        click.option("--resolution", type=Number(int, 64, 2048, unit="pixels"),
                     help="Long side of the generation, px (snapped to "
                     "multiples of 8; default 768 for sd15, 1024 for sdxl)."),
        click.option("--frame", type=FRAME, default=0, show_default=True,
                     help="The reference frame (0-based)."),
        click.option("--sd-model", type=click.Choice(("sd15", "sdxl")), default="sd15", show_default=True),
        click.option("--model", "model_id", type=InputPath("ID"),
                     help="Inpainting model id or folder (default: "
                     "stable-diffusion-v1-5/stable-diffusion-inpainting for sd15)."),
        click.option("--device", default="auto", show_default=True, help="auto (cuda, mps, cpu), cpu, cuda."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _studio_options(kw: dict, start=None, duration=None):
    from ffvfx.pipelines.studio import Options
    return Options(prompt=kw.pop("prompt"), negative=kw.pop("negative"), seed=kw.pop("seed"),
                   steps=kw.pop("steps"), strength=kw.pop("strength"), guidance=kw.pop("guidance"),
                   resolution=kw.pop("resolution"), frame=kw.pop("frame"), sd_model=kw.pop("sd_model"),
                   model=kw.pop("model_id"), device=kw.pop("device"), controlnet=kw.pop("controlnet", None),
                   depth_model=kw.pop("depth_model", None), bg_margin=kw.pop("bg_margin", 0),
                   depth_scale=kw.pop("depth_scale", 0.3), layers=kw.pop("layers", 3),
                   exposure_smooth=kw.pop("exposure_smooth", 15),
                   light_prompt=not kw.pop("no_light_prompt", False), feather=kw.pop("feather", 0.0),
                   blobs=kw.pop("blobs", 0.4), start=start, duration=duration)


@main.command("generate")
@click.argument("input", type=INPUT_PATH)
@click.argument("alpha", type=INPUT_PATH)
@click.argument("output")
@ai_options
@click.option("-y", "--overwrite", is_flag=True, help="Replace an existing OUT.png.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def generate_command(**kw) -> None:
    """A new background for one frame of INPUT: the subject (white in ALPHA) kept, the rest drawn by
    Stable Diffusion inpainting from --prompt; written as OUTPUT (.png).
    """
    from ffvfx.pipelines import studio
    tools = toolchain.find()
    opts = _studio_options(kw)
    studio.check(opts)
    out = Path(kw["output"])
    if out.suffix.lower() != ".png":
        raise FfvfxError(f"{out}: the result is a PNG image; give an output ending in .png")
    check_output(out, [kw["input"], kw["alpha"], opts.model], kw["overwrite"])
    src = resolve(kw["input"])
    if src.device:
        raise FfvfxError("ffvfx generate reads a file; record the camera first")
    info = probe(src.path, tools)
    studio.check(opts, info)
    check_alpha(kw["alpha"], info, tools)
    studio.generate(src.path, kw["alpha"], str(out), tools, info, opts, say=_notes(kw["quiet"]),
                    quiet=kw["quiet"], overwrite=kw["overwrite"])
    click.echo(str(out))


@main.command("studio")
@render_options
@click.argument("alpha_path", required=False, metavar="ALPHA", type=INPUT_PATH)
@ai_options
@click.option("--controlnet", type=InputPath("ID"), help="Depth ControlNet id or folder (default: "
              "lllyasviel/control_v11f1p_sd15_depth for sd15).")
@click.option("--depth-model", type=InputPath("ID"), help="Depth model id or folder (default: "
              "depth-anything/Depth-Anything-V2-Small-hf).")
@click.option("--bg-margin", type=Number(int, 0, 4096, unit="pixels"), default=0, show_default=True,
              help="Extra canvas round the frame, px (0: from the camera path's extent).")
@click.option("--depth-scale", type=Number(float, 0, 100), default=0.3, show_default=True,
              help="Parallax: a layer moves by camera path x its nearness (0..1) x this.")
@click.option("--layers", type=Number(int, 1, 8, unit="layers"), default=3, show_default=True,
              help="Depth layers (1..8).")
@click.option("--exposure-smooth", type=Number(int, 1, MAX_FRAMES_BACK, unit="frames"),
              default=15, show_default=True,
              help="Frames the exposure curve is averaged over.")
@click.option("--no-light-prompt", is_flag=True, help="Do not add the light direction to the prompt.")
@click.option("--feather", type=FEATHER, default=0.0, show_default=True, help="Soften the alpha's edge (px).")
@click.option("--blobs", type=Number(float, 0, 1, max_open=True), default=0.4, show_default=True,
              help="Drop alpha regions smaller than this fraction of the main subject (0: keep all).")
def studio_command(**kw) -> None:
    """Replace the background of INPUT (subject: white in ALPHA) with a generated scene that moves
    with the camera in depth layers and follows the shot's exposure; one ffmpeg graph renders it.

    Generated assets are cached (a changed --depth-scale, --layers or encoder re-renders in seconds);
    a studio/ folder beside OUTPUT keeps depth.png, background.png, the layers, graph.txt and
    studio.json. Usage: ffvfx studio IN ALPHA OUT --prompt TEXT.
    """
    from ffvfx.pipelines import studio
    common = _common(kw)
    alpha = kw.pop("alpha_path")
    opts = _studio_options(kw, common["start"], common["duration"])
    studio.check(opts)
    if common["input"] and not (common["output"] or common["print_form"] or common["preview"]):
        raise FfvfxError("give an output file (or --print / --preview)")  # before any generation

    def make(info: VideoInfo | None) -> Effect:
        if info is None or not alpha:
            raise FfvfxError("studio needs an input file and its alpha: ffvfx studio IN ALPHA OUT "
                             "--prompt TEXT")
        tools = toolchain.find()
        studio.check(opts, info)
        opts.alpha_ranged = check_alpha(alpha, info, tools, start=opts.start, duration=opts.duration)
        output = common["output"]
        renders = output and not common["print_form"] and not common["preview"]
        if renders:  # the output itself was checked by deliver, before this analysis
            studio.check_folder(output, common["overwrite"], [info.path, alpha, *models],
                                layers=opts.layers)
        assets = studio.prepare(info.path, alpha, tools, info, opts, say=_notes(common["quiet"]),
                                quiet=common["quiet"])
        apply = studio.effect(assets, info, opts)
        if renders:  # self-contained: the assets are movie= sources (-/filter_complex graph.txt)
            folder.append(lambda: studio.write_folder(output, assets,
                                                      printable_graph(apply, info=info).script(),
                                                      common["overwrite"]))
        return apply

    folder: list[Callable[[], object]] = []  # the studio folder, written once the video is
    models = [opts.model, opts.controlnet, opts.depth_model]
    deliver(make, common, [alpha, *models])
    for write in folder:
        write()


_second_argument(studio_command, "alpha_path")


@main.command("inpaint")
@render_options
@click.argument("mask_path", required=False, metavar="MASK", type=InputPath("auto"))
@click.option("--prompt", default="", help="What the masked region should become.")
@click.option("--negative-prompt", "negative", default="", help="What it should not show.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--steps", type=STEPS, default=30, show_default=True)
@click.option("--denoise", type=Number(float, 0, 1, min_open=True), default=0.3, show_default=True,
              help="Inpainting strength: how far from the original the region may go (0..1).")
@click.option("--guidance", type=GUIDANCE, default=7.5, show_default=True)
@click.option("--resolution", type=Number(int, 64, 2048, unit="pixels"), default=512, show_default=True,
              help="Long side of the crop the model paints, px (multiples of 8).")
@click.option("--model", "model_id", type=InputPath("ID"), help="Inpainting model id or folder (default: "
              "stable-diffusion-v1-5/stable-diffusion-inpainting).")
@click.option("--device", default="auto", show_default=True, help="auto (cuda, mps, cpu), cpu, cuda.")
@click.option("--candidates", type=Number(int, 1, 16), default=2, show_default=True,
              help="Pictures per keyframe.")
@click.option("--grow", type=Number(int, 0, 64, unit="pixels"), default=8, show_default=True,
              help="Grow the mask (px).")
@click.option("--feather", type=FEATHER, default=4.0, show_default=True, help="Soften its edge (px).")
@click.option("--sensitivity", type=GAIN, default=1.0, show_default=True,
              help="Keyframe sensitivity: higher, more keyframes.")
@click.option("--max-group", type=Number(int, 1, 10000, unit="frames"), default=48, show_default=True,
              help="Most frames per keyframe.")
@click.option("--keyframes", "keyframe_list", type=Numbers(FRAME, example="0,24,60"),
              help="Keyframes to use, e.g. 0,24,60 (no detection).")
@click.option("--propagate", type=click.Choice(("hold", "flow")), default="flow", show_default=True,
              help="Carry a keyframe's paint as it is, or along the optical flow.")
@click.option("--blend", type=Number(int, 0, 1000, unit="frames"), default=4, show_default=True,
              help="Crossfade frames at group starts.")
@click.option("--overlay-original", type=FRACTION, default=0.0, show_default=True,
              help="Mix the original back in at this weight (0..1), for realism.")
@click.option("--drop-bad", is_flag=True, help="Rebuild groups that jump by interpolation (minterpolate).")
@click.option("--picks", "picks_path", type=INPUT_PATH,
              help="picks.json (keyframe: candidate): re-render, no model.")
@click.option("--redo", type=Numbers(FRAME, example="24,60"),
              help="Paint these keyframes again with new seeds, e.g. 24,60.")
def inpaint_command(**kw) -> None:
    """Change the region of INPUT where MASK is white (a mask video, or `auto`: the person) from
    --prompt, painting keyframes only and carrying each through its group.

    A work folder OUT-stem_inpaint/ beside OUTPUT keeps keyframes.json, the candidates, picks.json,
    review.html, contact.png, compare.mp4 and inpaint.json. Usage: ffvfx inpaint IN MASK OUT --prompt TEXT.
    """
    from ffvfx.effects.compare import compare
    from ffvfx.ffmpeg.render import Encoding as Enc
    from ffvfx.pipelines import inpaint as video_inpaint
    common = _common(kw)
    mask = kw.pop("mask_path")
    redo = list(kw["redo"] or ())
    opts = video_inpaint.Options(
        prompt=kw["prompt"], negative=kw["negative"], seed=kw["seed"], steps=kw["steps"],
        denoise=kw["denoise"], guidance=kw["guidance"], resolution=kw["resolution"], model=kw["model_id"],
        device=kw["device"], candidates=kw["candidates"], grow=kw["grow"], feather=kw["feather"],
        sensitivity=kw["sensitivity"], max_group=kw["max_group"],
        keyframes=",".join(map(str, kw["keyframe_list"])) if kw["keyframe_list"] else None,
        propagate=kw["propagate"], blend=kw["blend"], overlay_original=kw["overlay_original"],
        drop_bad=kw["drop_bad"], picks=kw["picks_path"], redo=redo, start=common["start"],
        duration=common["duration"])
    video_inpaint.check(opts)
    if not common["input"] or not mask:
        raise FfvfxError("give the input, the mask and the output: "
                         "ffvfx inpaint IN MASK|auto OUT --prompt TEXT")
    output = common["output"]
    if not output:
        raise FfvfxError("give an output file: ffvfx inpaint IN MASK|auto OUT --prompt TEXT")
    tools = toolchain.find()
    src = resolve(common["input"])
    if src.device:
        raise FfvfxError("ffvfx inpaint reads a file; record the camera first")
    inputs = [src.path, mask, opts.picks, opts.model]
    if not (common["print_form"] or common["preview"]):
        check_output(output, inputs, common["overwrite"])
    _check_render(common)
    auto_mask = sources.keyword(mask, "auto") is not None  # a file named auto is that file
    video_inpaint.check_work_folder(output, inputs, auto_mask=auto_mask, picks=opts.picks)
    info = probe(src.path, tools)
    say = _notes(common["quiet"])
    ranged = auto_mask  # auto computes the mask for the range only
    if ranged:
        from ffvfx.stages.matting.model import build
        from ffvfx.stages.matting.stream import write_matte
        work = video_inpaint.work_folder(output)
        work.mkdir(exist_ok=True)
        mask = str(work / "mask.mkv")
        say(f"computing the mask with {DEFAULT_MODEL}")
        write_matte(src.path, tools, build(DEFAULT_MODEL, ModelOptions(), info), mask,
                    quiet=common["quiet"], info=info, start=common["start"], duration=common["duration"])
    else:
        ranged = check_alpha(mask, info, tools, what="mask", start=common["start"],
                             duration=common["duration"])

    def render(effect: Effect) -> None:
        deliver(lambda _info: effect, common)

    cluster = None
    if common["ray_address"] and not opts.picks:
        from ffvfx.scale import cluster as ray_cluster
        cluster = ray_cluster.connect(common["ray_address"])
    video_inpaint.run(src.path, mask, output, tools, info, opts, say=say, quiet=common["quiet"],
                      render=render, mask_ranged=ranged, cluster=cluster)
    if not (common["print_form"] or common["preview"]):
        work = video_inpaint.work_folder(output)
        result = Input(output, label="result")
        run(Job(src, str(work / "compare.mp4"),
                lambda s: compare(s, [("result", result.video)], size=(info.width, info.height),
                                  labels="drawtext" in tools.filters),
                Enc(), start=common["start"], duration=common["duration"], audio=False,
                overwrite=True, quiet=True), tools, info)


_second_argument(inpaint_command, "mask_path")


@main.command("batch", context_settings={"ignore_unknown_options": True,
                                         "allow_interspersed_args": False})
@click.option("--jobs", "-j", type=JOBS,
              default=lambda: min(MAX_JOBS, max(1, (os.cpu_count() or 2) // 2)), show_default="half the CPUs",
              help="Files rendered at a time (a --jobs after COMMAND is each file's segments).")
@click.option("--ray", "ray_address", default=lambda: os.environ.get("RAY_ADDRESS"),
              show_default="$RAY_ADDRESS", help="Run each file as a task on this Ray cluster.")
@click.option("-q", "--quiet", is_flag=True, help="Only failures and the summary.")
@click.argument("command")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def batch_command(jobs, ray_address, quiet, command, args) -> None:
    """Run COMMAND over many FILES into a folder: ffvfx batch COMMAND [options] FILES... -o DIR.

    Outputs are named after the inputs (DIR/clip.mp4; matte and loop: DIR/clip_matte/); DIR is
    made when missing. A file that fails fails alone; the exit code is the number of files that
    failed (0: all done).
    """
    from ffvfx.scale import batch
    args = list(args)
    outdir = None
    for flag in ("-o", "--output-dir", "--output"):
        while flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                raise FfvfxError(f"{flag} needs the output folder")
            outdir = args[i + 1]
            del args[i:i + 2]
    if outdir is None:
        raise FfvfxError("give the output folder: ffvfx batch COMMAND [options] FILES... -o DIR")
    sub = main.commands.get(command)
    if sub is None:
        raise FfvfxError(f"batch {command}: no such command")
    runs = batch.plan(command, sub, args, Path(outdir))
    failed = batch.execute(runs, Path(outdir), jobs, quiet, ray_address or None)
    if failed:
        raise click.exceptions.Exit(min(failed, 100))


@main.command("demo")
@click.argument("output")
@click.option("--seconds", type=Number(float, 0, 600, min_open=True, unit="seconds"), default=4.0,
              show_default=True)
@click.option("--size", type=Size(), default="1280x720", show_default=True)
@click.option("--fps", type=Number(int, 1, 240, unit="fps"), default=30, show_default=True)
@click.option("--pan", type=Numbers(Number(float, -1000, 1000, unit="pixels"), 2, example="2,0.5"),
              default="2,0.5", show_default=True, help="Camera pan, px/frame x,y.")
@click.option("-y", "--overwrite", is_flag=True)
def demo_command(output, seconds, size, fps, pan, overwrite) -> None:
    """Write the built-in demo scene and its ground truth (alpha video, camera path JSON)."""
    from ffvfx.stages import demo
    check_output(output, [], overwrite)
    try:
        w, h = (int(x) for x in size.lower().split("x"))
        px, py = pan
        spec = demo.DemoSpec(width=w, height=h, fps=fps, seconds=seconds, pan=(px, py))
    except ValueError as exc:
        raise FfvfxError(f"--size takes even WxH (>= 16) and --pan takes X,Y: {exc}") from None
    demo.write_demo(output, spec, toolchain.find().ffmpeg, overwrite=overwrite)
    click.echo(f"wrote {output} (+ ground truth beside it)", err=True)


@main.command("doctor")
def doctor_command() -> None:
    """Which ffmpeg ffvfx uses and what it can do, one line each."""
    tools = toolchain.find()
    click.echo(f"ffmpeg    {tools.version} ({tools.ffmpeg}, from {tools.origin})")
    click.echo(f"ffplay    {tools.ffplay or 'missing: no --preview'}")
    click.echo(f"ffprobe   {tools.ffprobe or 'missing: probing reads ffmpeg -i instead'}")
    click.echo(f"script    {tools.script_option()} FILE")
    for mode in MODES:
        for bloom in (0.0, 1.0):
            needed = printable_graph(functools.partial(motion, mode=mode, bloom=bloom)).filter_names()
            missing = sorted(needed - tools.filters)
            name = f"motion --mode={mode}" + (" --bloom" if bloom else "")
            click.echo(f"effect    {name:<28} {'ok' if not missing else 'missing ' + ', '.join(missing)}")
    for enc in ("libx264", "libx265", "libvpx-vp9", "h264_nvenc", "hevc_nvenc", "h264_vaapi"):
        click.echo(f"encoder   {enc:<28} {'ok' if enc in tools.encoders else 'missing'}")
    click.echo(f"hwaccels  {' '.join(tools.hwaccels) or 'none'}")
    from ffvfx.ffmpeg.targets import probe as hw_probe
    for name in hw_probe.AUTO_ORDER:
        status = hw_probe.describe(tools, name)
        click.echo(f"--hw      {name:<28} {status}")
    from importlib.metadata import PackageNotFoundError, version
    try:
        ray = f"ray {version('ray')}"
    except PackageNotFoundError:
        from ffvfx.scale.cluster import INSTALL
        ray = f"missing: {INSTALL}"
    click.echo(f"--ray     {ray}")


def _quiet_opencv() -> None:
    """OpenCV's own log lines (``[ WARN:0@...] findDecoder imread_...``) off: ffvfx says what went
    wrong in its one line."""
    import cv2
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def run_cli(argv: list[str] | None = None) -> int:
    """Entry point: one line on stderr and a non-zero exit for every user error, no traceback."""
    _quiet_opencv()
    try:
        code = main.main(args=argv, prog_name="ffvfx", standalone_mode=False)
        if isinstance(code, int):  # click returns an Exit's code when not standalone
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:  # a bad option or argument: a user error like any other
        click.echo(f"ffvfx: error: {exc.format_message()}", err=True)
        return 1
    except click.Abort:
        click.echo("ffvfx: interrupted", err=True)
        return 130
    except FfvfxError as exc:
        click.echo(f"ffvfx: error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("ffvfx: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 1
    except OSError as exc:  # a file or folder that cannot be made or read (read-only, /proc, full)
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"ffvfx: error: {where}{exc.strerror or exc}", err=True)
        return 1
    return 0


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C: ffmpeg stopped, partial output removed


def entry() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(run_cli())
