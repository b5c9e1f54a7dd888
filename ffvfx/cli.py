"""The ``ffvfx`` command: parse, call the library, then print, preview or render.

Every render command shares :func:`render_options` and :func:`deliver`; effect commands only turn
their own options into an effect function.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import click

from ffvfx import toolchain
from ffvfx.analysis import camera
from ffvfx.analysis import loops as loop_analysis
from ffvfx.analysis import mask as mask_analysis
from ffvfx.analysis import plate as plate_analysis
from ffvfx.analysis.alpha import check_alpha
from ffvfx.atomic import write_text
from ffvfx.effects import composite as composite_effect
from ffvfx.effects import loop as loop_effect
from ffvfx.effects import timeline
from ffvfx.effects.motion import MODES, motion
from ffvfx.effects.refine import Refine
from ffvfx.effects.register import echo_register
from ffvfx.effects.trails import OPERATORS as TRAIL_OPERATORS
from ffvfx.effects.trails import trail_mask, trails
from ffvfx.errors import FfvfxError
from ffvfx.graph import Input
from ffvfx.matting.model import DEFAULT_MODEL, ModelOptions
from ffvfx.matting.stream import ALPHA_CODECS, refine_line
from ffvfx.probe import VideoInfo, probe
from ffvfx.render import Effect, Encoding, Job, plan_for, print_command, printable_graph, run
from ffvfx.segments import Windowed
from ffvfx.sources import resolve

PRINT_FORMS = ("line", "script", "cmd")


def render_options(func: Callable) -> Callable:
    """The options every render command takes: time range, quality, output safety, preview."""
    options = [
        click.argument("input", required=False),
        click.argument("output", required=False),
        click.option("--print", "print_form", is_flag=False, flag_value="line", default=None,
                     type=click.Choice(PRINT_FORMS),
                     help="Print the graph (line, script) or the full ffmpeg command (cmd)."),
        click.option("--preview", is_flag=True, help="Play through ffplay instead of rendering."),
        click.option("--size", help="Camera capture size for webcam input, e.g. 1280x720."),
        click.option("--fps", type=float, help="Camera capture rate for webcam input."),
        click.option("--start", type=float, help="Start this many seconds into the input."),
        click.option("--duration", type=float, help="Render this many seconds."),
        click.option("--crf", type=float, help="Constant quality (x264/x265; default 18)."),
        click.option("--qp", type=int, help="Constant quantiser instead of --crf."),
        click.option("--preset", help="Encoder preset (x264: ultrafast .. veryslow)."),
        click.option("--encoder", help="Video encoder (default: libx264, libvpx-vp9 for .webm; "
                     "h264_nvenc with --hw cuda, h264_vaapi, h264_qsv)."),
        click.option("--hw", default=lambda: os.environ.get("FFVFX_HW", "cpu"),
                     show_default="cpu, or $FFVFX_HW",
                     help="Where to decode/encode: cpu, auto (probe and pick), cuda[:GPU], "
                     "vaapi[:/dev/dri/renderDN], qsv[:NODE]. The effect's filters run on the CPU."),
        click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Render this many segments side by side (frame-exact: each starts its "
                     "effect's reach earlier); the pieces are joined without re-encoding."),
        click.option("--ray", "ray_address", default=lambda: os.environ.get("RAY_ADDRESS"),
                     show_default="$RAY_ADDRESS",
                     help="Send the segments to this Ray cluster (auto, ray://HOST:10001, local); "
                     "needs the ray extra."),
        click.option("--no-audio", is_flag=True, help="Drop the audio track."),
        click.option("-y", "--overwrite", is_flag=True, help="Replace an existing output."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def deliver(build: Callable[[VideoInfo | None], Effect], common: dict) -> None:
    """Print, preview or render the effect ``build(info)`` as the common options ask.

    ``info`` describes the input file (None for cameras and printed graphs), for options given in
    seconds or checked against the input's length.
    """
    tools = toolchain.find()
    input_spec, output = common["input"], common["output"]
    form = common["print_form"]
    source = resolve(input_spec, common["size"], common["fps"]) if input_spec else None
    info = probe(source.path, tools) if source is not None and not source.device else None
    make = build(info)

    job = Job(source, output or "out.mp4", make,
              Encoding(common["encoder"], common["crf"], common["qp"], common["preset"]),
              start=common["start"], duration=common["duration"], audio=not common["no_audio"],
              overwrite=common["overwrite"], quiet=common["quiet"], hw=common["hw"],
              jobs=common["jobs"], ray=common["ray_address"] or None)
    if source is None or (form in ("line", "script") and not common["preview"]):
        plan = plan_for(job, tools, info, probe=False) if common["hw"] != "cpu" else None
        graph = printable_graph(make, plan)
        if plan is not None and not common["quiet"]:
            for note in plan.notes:
                click.echo(f"ffvfx: {note}", err=True)
            if plan.on_device:
                click.echo(f"ffvfx: graph for --hw {plan.target.name}: {plan.usage()}", err=True)
        click.echo(graph.script() if form == "script" else graph.line(), nl=form != "script")
        return
    if common["preview"]:
        from ffvfx.preview import preview
        if common["hw"] != "cpu":
            _notes(common["quiet"])("--preview decodes and filters on the CPU (ffplay); --hw ignored")
        preview(printable_graph(make), source, tools)
        return
    if not output and form != "cmd":
        raise FfvfxError("give an output file (or --print / --preview)")
    if form == "cmd":
        click.echo(print_command(job, tools, info))
        return
    run(job, tools, info)
    if not common["quiet"]:
        click.echo(f"wrote {output}", err=True)


def _common(kwargs: dict) -> dict:
    keys = ("input", "output", "print_form", "preview", "size", "fps", "start", "duration", "crf",
            "qp", "preset", "encoder", "hw", "jobs", "ray_address", "no_audio", "overwrite", "quiet")
    return {k: kwargs.pop(k) for k in keys}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ffvfx")
def main() -> None:
    """Artistic video effects compiled to ffmpeg filtergraphs."""


@main.command("motion")
@render_options
@click.option("--mode", type=click.Choice(MODES), default="gray", show_default=True,
              help="gray: Posy's invert+offset; black: |c-p|; matte; glow; rgb: three delays.")
@click.option("--delay", type=int, default=8, show_default=True, help="Frames between c and p.")
@click.option("--delay-s", type=float, help="The delay in seconds instead (needs an input).")
@click.option("--delays", default="1,8,32", show_default=True, help="rgb mode: R,G,B delays (frames).")
@click.option("--strength", type=float, default=1.0, show_default=True, help="Amplify the difference.")
@click.option("--freeze", type=int, help="Compare every frame with this one frame (0-based).")
@click.option("--bloom", is_flag=True, help="Add a soft glow of the motion on top.")
@click.option("--bloom-sigma", type=float, default=8.0, show_default=True, help="Glow radius (px).")
@click.option("--bloom-strength", type=float, default=1.0, show_default=True, help="Glow gain.")
def motion_command(**kw) -> None:
    """Motion extraction: each frame against a delayed copy of itself.

    INPUT is a file, `demo`, or a camera (`webcam`, /dev/video0, v4l2:..., avfoundation:...).
    With no INPUT the one-line graph is printed for use in ffmpeg -vf / -filter_complex / ffplay.
    """
    common = _common(kw)
    try:
        delays = [int(x) for x in kw["delays"].split(",")]
    except ValueError:
        raise FfvfxError(f"--delays takes frame counts like 1,8,32 (got {kw['delays']!r})") from None

    def make(info: VideoInfo | None) -> Effect:
        delay = kw["delay"]
        if kw["delay_s"] is not None:
            if info is None:
                raise FfvfxError("--delay-s needs an input file to know its frame rate; use --delay")
            delay = max(1, round(kw["delay_s"] * float(info.fps)))
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
@click.option("--layers", type=int, default=6, show_default=True, help="Number of echoes.")
@click.option("--decay", type=float, default=0.7, show_default=True, help="Echo k has opacity decay^k.")
@click.option("--spacing", type=int, default=5, show_default=True, help="Frames between echoes.")
@click.option("--intensity", type=float, default=1.0, show_default=True, help="Starting intensity.")
@click.option("--ghost", "--operator", "operator", type=click.Choice(TRAIL_OPERATORS), default="normal",
              show_default=True, help="glow: bright trails; shadow: dark; normal: weighted average; "
              "add/max/min/screen/blend; behind/front need --alpha.")
@click.option("--alpha", "alpha_path", help="Matte video (white = subject) for behind/front.")
@click.option("--compensate/--no-compensate", default=True, show_default=True,
              help="Shift every echo back into register with the camera's motion.")
@click.option("--mask", is_flag=True, help="Trails only on the moving, in-focus subject.")
@click.option("--motion-thresh", type=int, default=10, show_default=True, help="--mask: 8-bit levels.")
@click.option("--focus-block", type=int, default=31, show_default=True, help="--mask: block size (px).")
@click.option("--glow-sigma", type=float, default=8.0, show_default=True, help="glow: blur radius (px).")
@click.option("--exposure", type=float, default=2.0, show_default=True,
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
            if common["input"] and kw["compensate"]:
                raise FfvfxError("camera compensation analyses a file; use --no-compensate for a camera")
            if kw["mask"] or alpha is not None:
                raise FfvfxError("--mask and --alpha need an input file")
            return functools.partial(trails, **params)
        say = _notes(common["quiet"])
        register = None
        offsets = None
        if kw["compensate"]:
            say("measuring camera motion (cached for the next run)")
            path = camera.cached_path(info.path, tools, common["start"], common["duration"])
            register = echo_register(path, kw["spacing"], kw["layers"])
            offsets = path.offsets
        mask = None
        if kw["mask"]:
            say("computing the subject mask (cached for the next run)")
            found = mask_analysis.cached_mask(info.path, tools, offsets=offsets, start=common["start"],
                                              duration=common["duration"],
                                              motion_thresh=kw["motion_thresh"],
                                              focus_block=kw["focus_block"])
            mask = Input(str(found.path), label="mask", aligned=True)

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

    deliver(make, common)


def _notes(quiet: bool) -> Callable[[str], None]:
    """Say what a long step is doing on stderr (``ffvfx: ...``), or nothing with -q."""
    return (lambda msg: None) if quiet else (lambda msg: click.echo(f"ffvfx: {msg}", err=True))


def _side_input(path: str, info: VideoInfo | None, common: dict, tools, what: str) -> Input:
    """A side video (matte) the user gave: same size and length as the input, same time range."""
    side = probe(path, tools)
    if info is not None:
        if (side.width, side.height) != (info.width, info.height):
            raise FfvfxError(f"--{what} {path} is {side.width}x{side.height}, the input is "
                             f"{info.width}x{info.height}")
        if side.frames is not None and info.frames is not None and side.frames < info.frames:
            raise FfvfxError(f"--{what} {path} has {side.frames} frames, the input has {info.frames}")
    options = []
    if common["start"]:
        options += ["-ss", f"{common['start']:g}"]
    if common["duration"]:
        options += ["-t", f"{common['duration']:g}"]
    return Input(path, options, label=what, aligned=True)

def _frames(text: str, fps: float, option: str) -> int:
    """A length given as seconds (``2s``, ``1.5s``) or frames (``45``), in frames."""
    try:
        if text.strip().lower().endswith("s"):
            return round(float(text.strip()[:-1]) * fps)
        return int(text)
    except ValueError:
        raise FfvfxError(f"{option} takes seconds like 2s or 1.5s, or frames like 45 (got {text!r})") \
            from None


@main.command("loop")
@click.argument("input")
@click.option("-o", "--output", "outdir", help="Output folder (default: INPUT's name + _loops).")
@click.option("--loops", "count", type=int, default=5, show_default=True, help="Loops to keep.")
@click.option("--min-length", default="1s", show_default=True, help="Shortest loop: 2s, 1.5s or frames.")
@click.option("--max-length", default="6s", show_default=True, help="Longest loop: 6s or frames.")
@click.option("--hash", "hash_name", type=click.Choice(tuple(loop_analysis.HASHES)), default="phash",
              show_default=True, help="Perceptual hash compared between frames.")
@click.option("--hash-size", type=int, default=8, show_default=True, help="Hash side (bits = size^2).")
@click.option("--threshold", type=float, default=0.1, show_default=True,
              help="Largest seam distance (hash bits differing / bits, over a 5-frame window).")
@click.option("--min-motion", type=float, default=0.06, show_default=True,
              help="Some frame inside must differ from the start at least this much (hash distance).")
@click.option("--max-motion", type=float, default=0.35, show_default=True,
              help="Largest hash distance between neighbouring frames: above it is a scene cut.")
@click.option("--crossfade", type=int, default=0, show_default=True,
              help="Blend the last N frames into the ones before the start (frames).")
@click.option("--format", "fmt", type=click.Choice(loop_effect.FORMATS), default="webm",
              show_default=True, help="webm: VP9; mp4: H.264; gif: own palette.")
@click.option("--alpha", "alpha_path", help="Matte video (white = opaque): WebM with transparency.")
@click.option("--crf", type=float, help="Constant quality (VP9 default 32, x264 18).")
@click.option("--print", "print_graph", is_flag=True, help="Print each loop's graph; write nothing.")
@click.option("--preview", is_flag=True, help="Play the best loop in ffplay, over and over; write nothing.")
@click.option("-y", "--overwrite", is_flag=True, help="Replace existing loop files in the folder.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def loop_command(**kw) -> None:
    """Find seamless loops in INPUT and write the best as loop_K.webm, loops.json, index.html.

    Frames are compared by perceptual hash on a small gray copy decoded once; a loop's seam is
    scored over 5 frame pairs around it. Loops never overlap; dark or flat stretches, still
    stretches and scene cuts are not loops. Lengths are in seconds (2s) or frames (45).
    """
    from ffvfx import loop_output
    tools = toolchain.find()
    if kw["crossfade"] < 0:
        raise FfvfxError(f"--crossfade: frames, 0 or more (got {kw['crossfade']})")
    if kw["alpha_path"] and kw["fmt"] != "webm":
        raise FfvfxError("--alpha needs --format webm (VP9 keeps transparency)")
    src = resolve(kw["input"])
    if src.device:
        raise FfvfxError("ffvfx loop analyses a file; record the camera first")
    source = src.path
    info = probe(source, tools)
    fps = float(info.fps)
    lengths = dict(min_length=_frames(kw["min_length"], fps, "--min-length"),
                   max_length=_frames(kw["max_length"], fps, "--max-length"))
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
    if kw["print_graph"]:
        for loop in found:
            click.echo(loop_output.graph_for(loop, source=None, alpha=kw["alpha_path"], fmt=kw["fmt"],
                                             crossfade=kw["crossfade"]).line())
        if not found:
            click.echo("ffvfx: no seamless loop found above the threshold", err=True)
        return
    if kw["preview"]:
        if not found:
            raise FfvfxError(f"no seamless loop found above the threshold {kw['threshold']:g}")
        from ffvfx.preview import preview
        best = loop_output.graph_for(found[0], source=None, alpha=None, fmt="webm",
                                     crossfade=kw["crossfade"])
        preview(best, src, tools)
        return

    outdir = Path(kw["outdir"] or Path(kw["input"]).stem + "_loops")
    if not outdir.parent.exists():
        raise FfvfxError(f"{outdir.parent}: output directory does not exist")
    if outdir.exists() and not outdir.is_dir():
        raise FfvfxError(f"{outdir}: exists and is not a folder")
    ext = kw["fmt"]
    names = [loop_output.loop_name(i, ext) for i in range(len(found))]
    ours = [outdir / n for n in (*names, loop_output.LISTING, loop_output.PAGE)]
    stale = sorted(p for f in loop_effect.FORMATS for p in outdir.glob(f"loop_*.{f}")
                   if p.name not in names) if outdir.is_dir() else []
    existing = [p for p in ours if p.exists()] + stale
    if existing and not kw["overwrite"]:
        raise FfvfxError(f"{existing[0]}: exists; pass -y/--overwrite to replace the loops in {outdir}")
    outdir.mkdir(exist_ok=True)
    for loop, name in zip(found, names, strict=True):
        loop_output.encode(loop, outdir / name, tools, source=source, alpha=kw["alpha_path"],
                           fmt=ext, crossfade=kw["crossfade"], crf=kw["crf"], quiet=kw["quiet"])
    for path in stale:  # -y: loops of an earlier run that this listing does not name
        path.unlink()
    data = loop_output.listing(found, source=str(source), fmt=ext, crossfade=kw["crossfade"],
                               params=dict(hash=kw["hash_name"], hash_size=kw["hash_size"],
                                           **lengths, **params))
    loop_output.write_listing(outdir / loop_output.LISTING, data)
    write_text(outdir / loop_output.PAGE,
                           loop_output.page(data, loop_output.source_href(source, outdir)))
    if not found:
        click.echo(f"no seamless loop found above the threshold {kw['threshold']:g} "
                   f"({lengths['min_length']}-{lengths['max_length']} frames); wrote an empty "
                   f"{outdir / loop_output.LISTING}")
        return
    for loop, name in zip(found, names, strict=True):
        click.echo(f"{outdir / name}  frames {loop.start}-{loop.end} ({loop.length}), "
                   f"{loop.start_time:.2f}-{loop.end_time:.2f} s, score {loop.score:.3f}")


@main.command("plate")
@click.argument("input")
@click.argument("alpha", metavar="ALPHA|auto")
@click.argument("output", required=False, metavar="OUT.png")
@click.option("--method", type=click.Choice(plate_analysis.METHODS), default="median", show_default=True,
              help="median: of the background pixels (needs ALPHA); tmedian: ffmpeg's temporal "
              "median, no alpha (ffvfx plate IN OUT.png --method tmedian).")
@click.option("--threshold", type=float, default=0.1, show_default=True,
              help="A pixel is background where the alpha is below this fraction of full (0..1).")
@click.option("--samples", type=int, default=32, show_default=True,
              help="Frames sampled evenly over the clip (1..255; memory 4 bytes/px each).")
@click.option("--inpaint", type=click.Choice(tuple(plate_analysis.INPAINT)), default="telea",
              show_default=True, help="OpenCV inpainting of pixels never seen uncovered.")
@click.option("--inpaint-radius", type=float, default=5.0, show_default=True, help="Inpainting radius (px).")
@click.option("--start", type=float, help="Start this many seconds into the input.")
@click.option("--duration", type=float, help="Use this many seconds.")
@click.option("-y", "--overwrite", is_flag=True, help="Replace an existing OUT.png.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def plate_command(**kw) -> None:
    """Clean background plate of INPUT as a PNG: the subject taken out.

    Per pixel, the median over sampled frames where ALPHA (a gray matte, white = subject; `auto`
    computes one with the default person model) is below --threshold; pixels never uncovered are
    inpainted, and their share is said on stderr.
    """
    import tempfile

    from ffvfx.matting.model import build
    from ffvfx.matting.stream import write_matte

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
    _check_output(out, [src.path, None if alpha == "auto" else alpha], kw["overwrite"])
    info = probe(src.path, tools)
    say = _notes(kw["quiet"])
    span = dict(start=kw["start"], duration=kw["duration"])
    if alpha is None:
        result = plate_analysis.tmedian_plate(src.path, str(out), tools, info, samples=kw["samples"], **span)
    else:
        options = dict(samples=kw["samples"], threshold=kw["threshold"], inpaint=kw["inpaint"],
                       radius=kw["inpaint_radius"], **span)
        plate_analysis.check_options(samples=kw["samples"], threshold=kw["threshold"],
                                     inpaint=kw["inpaint"], radius=kw["inpaint_radius"])
        with tempfile.TemporaryDirectory(prefix="ffvfx-plate-") as tmp:
            ranged = alpha != "auto"
            if alpha == "auto":
                model = build(DEFAULT_MODEL, ModelOptions(), info)
                say(f"computing the alpha with {DEFAULT_MODEL}"
                    + (f" ({model.licence})" if model.licence else ""))
                alpha = str(Path(tmp) / "alpha.mkv")
                write_matte(src.path, tools, model, alpha, quiet=kw["quiet"], info=info, **span)
            else:
                check_alpha(alpha, info, tools)
            result = plate_analysis.median_plate(src.path, alpha, str(out), tools, info,
                                                 alpha_ranged=ranged, **options)
    say(plate_analysis.say_uncovered(result, kw["inpaint"], kw["inpaint_radius"]))
    click.echo(str(out))


@main.command("composite")
@render_options
@click.argument("alpha_path", required=False, metavar="ALPHA")
@click.option("--bg", required=True, help="Background: an image (looped), a video (looped when shorter) "
              "or a colour (0xRRGGBB, #RRGGBB, a name such as black).")
@click.option("--fit", type=click.Choice(composite_effect.FITS), default="cover", show_default=True,
              help="cover: fill and crop; contain: fit inside and pad; stretch: ignore the aspect.")
@click.option("--pad-color", default="black", show_default=True, help="contain: colour of the bars.")
@click.option("--feather", type=float, default=0.0, show_default=True,
              help="Soften the alpha's edge (Gaussian sigma, px).")
@click.option("--shift-bg", default="0,0", show_default=True,
              help="Move the background x,y px (right, down; negative: left, up).")
def composite_command(**kw) -> None:
    """Put the subject of INPUT (where ALPHA, a gray matte, is white) over a new background.

    One ffmpeg graph: the background fitted to the input's size, the input with ALPHA merged,
    overlaid in RGB; audio kept. --print shows it with ALPHA and the background as movie= sources.
    Usage: ffvfx composite IN ALPHA OUT --bg PLATE|VIDEO|COLOR.
    """
    common = _common(kw)
    try:
        shift = tuple(int(v) for v in kw["shift_bg"].split(","))
        if len(shift) != 2:
            raise ValueError
    except ValueError:
        raise FfvfxError(f"--shift-bg takes whole pixels x,y such as 12,-4 (got {kw['shift_bg']!r})") \
            from None

    def make(info: VideoInfo | None) -> Effect:
        if info is None:
            raise FfvfxError("composite needs an input file and its alpha: "
                             "ffvfx composite IN ALPHA OUT --bg PLATE|VIDEO|COLOR")
        if not kw["alpha_path"]:
            raise FfvfxError("give the alpha: ffvfx composite IN ALPHA OUT --bg PLATE|VIDEO|COLOR")
        tools = toolchain.find()
        check_alpha(kw["alpha_path"], info, tools)
        alpha = _side_input(kw["alpha_path"], info, common, tools, "alpha")
        bg = composite_effect.background(kw["bg"], info)
        # not a picture: one line now, not an ffmpeg error later
        bg_info = probe(bg.value, tools) if bg.kind != "color" else None
        params = dict(bg=bg, size=(info.width, info.height), fps=info.fps, fit=kw["fit"],
                      pad_color=kw["pad_color"], feather=kw["feather"], shift=shift)
        composite_effect.composite(Input().video, Input().video, **params)  # validate early
        if bg.kind != "video":
            return functools.partial(composite_effect.composite, alpha=alpha.video, **params)
        from ffvfx.segments import count_frames
        period = composite_effect.loop_period(count_frames(bg.value, tools.ffmpeg), bg_info.fps,
                                              info.fps) \
            if common["jobs"] > 1 or common["ray_address"] else None
        return Windowed(lambda first, frames: functools.partial(
            composite_effect.composite, alpha=alpha.video, first=first, period=period, **params))

    deliver(make, common)


def _second_argument(command: click.Command, name: str) -> None:
    """Make the argument ``name`` the command's second positional (IN ALPHA OUT)."""
    param = next(p for p in command.params if p.name == name)
    command.params.remove(param)
    command.params.insert(1, param)


_second_argument(composite_command, "alpha_path")


@main.command("matte")
@click.argument("input")
@click.option("-o", "--output", "outdir", help="Output folder (default: INPUT's name + _matte).")
@click.option("--model", default=None, help="chroma, difference, rvm, selfie (default), segmentation, "
              "birefnet, rmbg.")
@click.option("--compare", help="Several models, e.g. chroma,selfie,rvm: one alpha each and compare.mp4.")
@click.option("--alpha-codec", type=click.Choice(ALPHA_CODECS), default="ffv1", show_default=True,
              help="ffv1: lossless gray .mkv; libx264: near-lossless .mp4.")
@click.option("--foreground", is_flag=True, help="Also write the model's foreground colours.")
@click.option("--composite", "composite_bg", help="Also write a quick look over green, a COLOR or an IMAGE.")
@click.option("--weights", help="Local weights (file or folder) instead of the model's default.")
@click.option("--model-id", help="Hub id of a transformers model (segmentation, birefnet).")
@click.option("--revision", help="Hub revision of --model-id.")
@click.option("--device", default="auto", show_default=True, help="auto (cuda, mps, cpu), cpu, cuda, mps.")
@click.option("--downsample-ratio", type=float, help="rvm: model resolution / frame (default: auto).")
@click.option("--allow-noncommercial", is_flag=True, help="Allow non-commercial models (rmbg).")
@click.option("--plate", help="difference: the clean background image.")
@click.option("--diff-threshold", type=float, default=40.0, show_default=True,
              help="difference: 8-bit colour distance that is half foreground.")
@click.option("--key", default="auto", show_default=True, help="chroma: auto, green, blue or 0xRRGGBB.")
@click.option("--similarity", type=float, default=0.1, show_default=True, help="chroma: key width (0..1).")
@click.option("--blend", type=float, default=0.05, show_default=True, help="chroma: soft edge (0..1).")
@click.option("--threshold", type=float, help="Clean-up: hard matte at this alpha (0..1).")
@click.option("--erode", type=int, default=0, show_default=True, help="Clean-up: shrink (px).")
@click.option("--dilate", type=int, default=0, show_default=True, help="Clean-up: grow (px).")
@click.option("--smooth", type=int, default=1, show_default=True, help="Clean-up: centred average (frames).")
@click.option("--feather", type=float, default=0.0, show_default=True, help="Clean-up: soft edge (px).")
@click.option("--blobs", type=float, default=0.4, show_default=True,
              help="Drop regions smaller than this fraction of the main subject (0: keep all).")
@click.option("--batch", type=int, default=4, show_default=True, help="Frames per model call.")
@click.option("--start", type=float, help="Start this many seconds into the input.")
@click.option("--duration", type=float, help="Matte this many seconds.")
@click.option("--print", "print_graph", is_flag=True, help="Print the clean-up graph; write nothing.")
@click.option("-y", "--overwrite", is_flag=True, help="Replace existing files in the folder.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def matte_command(**kw) -> None:
    """Matte INPUT: alpha video(s) (white = subject) in a folder, plus a JSON log.

    Frames stream from ffmpeg through the model in batches into an FFV1 encoder, so memory is flat
    whatever the length; stray blobs are dropped, then the clean-up graph (--threshold, --erode,
    --dilate, --smooth, --feather; see --print) runs in the encoder.
    """
    from ffvfx.matting import folder
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
    written = folder.matte_folder(
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
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--steps", type=int, default=30, show_default=True, help="Diffusion steps."),
        click.option("--strength", type=float, default=0.95, show_default=True,
                     help="How far from the frame the drawing may go (0..1)."),
        click.option("--guidance", type=float, default=7.5, show_default=True, help="Prompt guidance."),
        click.option("--resolution", type=int, help="Long side of the generation, px (snapped to "
                     "multiples of 8; default 768 for sd15, 1024 for sdxl)."),
        click.option("--frame", type=int, default=0, show_default=True,
                     help="The reference frame (0-based)."),
        click.option("--sd-model", type=click.Choice(("sd15", "sdxl")), default="sd15", show_default=True),
        click.option("--model", "model_id", help="Inpainting model id or folder (default: "
                     "stable-diffusion-v1-5/stable-diffusion-inpainting for sd15)."),
        click.option("--device", default="auto", show_default=True, help="auto (cuda, mps, cpu), cpu, cuda."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _studio_options(kw: dict, start=None, duration=None):
    from ffvfx.studio import Options
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
@click.argument("input")
@click.argument("alpha")
@click.argument("output")
@ai_options
@click.option("-y", "--overwrite", is_flag=True, help="Replace an existing OUT.png.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def generate_command(**kw) -> None:
    """A new background for one frame of INPUT: the subject (white in ALPHA) kept, the rest drawn by
    Stable Diffusion inpainting from --prompt; written as OUTPUT (.png).
    """
    from ffvfx import studio
    tools = toolchain.find()
    opts = _studio_options(kw)
    studio.check(opts)
    out = Path(kw["output"])
    if out.suffix.lower() != ".png":
        raise FfvfxError(f"{out}: the result is a PNG image; give an output ending in .png")
    _check_output(out, [kw["input"], kw["alpha"]], kw["overwrite"])
    src = resolve(kw["input"])
    if src.device:
        raise FfvfxError("ffvfx generate reads a file; record the camera first")
    info = probe(src.path, tools)
    studio.check(opts, info)
    check_alpha(kw["alpha"], info, tools)
    studio.generate(src.path, kw["alpha"], str(out), tools, info, opts, say=_notes(kw["quiet"]),
                    quiet=kw["quiet"])
    click.echo(str(out))


def _check_output(out: Path, inputs: list[str], overwrite: bool) -> None:
    """The output-path rules of every command: not an input, not a folder, -y to replace."""
    for given in inputs:
        if given and Path(given).exists() and out.resolve() == Path(given).resolve():
            raise FfvfxError(f"{out}: output is an input; choose another output name")
    if out.is_dir():
        raise FfvfxError(f"{out}: is a directory; give an output file name")
    if out.exists() and not overwrite:
        raise FfvfxError(f"{out}: exists; pass -y/--overwrite to replace it")
    if not out.resolve().parent.exists():
        raise FfvfxError(f"{out.parent}: output directory does not exist")


@main.command("studio")
@render_options
@click.argument("alpha_path", required=False, metavar="ALPHA")
@ai_options
@click.option("--controlnet", help="Depth ControlNet id or folder (default: "
              "lllyasviel/control_v11f1p_sd15_depth for sd15).")
@click.option("--depth-model", help="Depth model id or folder (default: "
              "depth-anything/Depth-Anything-V2-Small-hf).")
@click.option("--bg-margin", type=int, default=0, show_default=True,
              help="Extra canvas round the frame, px (0: from the camera path's extent).")
@click.option("--depth-scale", type=float, default=0.3, show_default=True,
              help="Parallax: a layer moves by camera path x its nearness (0..1) x this.")
@click.option("--layers", type=int, default=3, show_default=True, help="Depth layers (1..8).")
@click.option("--exposure-smooth", type=int, default=15, show_default=True,
              help="Frames the exposure curve is averaged over.")
@click.option("--no-light-prompt", is_flag=True, help="Do not add the light direction to the prompt.")
@click.option("--feather", type=float, default=0.0, show_default=True, help="Soften the alpha's edge (px).")
@click.option("--blobs", type=float, default=0.4, show_default=True,
              help="Drop alpha regions smaller than this fraction of the main subject (0: keep all).")
def studio_command(**kw) -> None:
    """Replace the background of INPUT (subject: white in ALPHA) with a generated scene that moves
    with the camera in depth layers and follows the shot's exposure; one ffmpeg graph renders it.

    Generated assets are cached (a changed --depth-scale, --layers or encoder re-renders in seconds);
    a studio/ folder beside OUTPUT keeps depth.png, background.png, the layers, graph.txt and
    studio.json. Usage: ffvfx studio IN ALPHA OUT --prompt TEXT.
    """
    from ffvfx import studio
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
        check_alpha(alpha, info, tools)
        output = common["output"]
        renders = output and not common["print_form"] and not common["preview"]
        if renders:
            _check_output(Path(output), [common["input"], alpha], common["overwrite"])
            studio.check_folder(output, common["overwrite"])
        assets = studio.prepare(info.path, alpha, tools, info, opts, say=_notes(common["quiet"]),
                                quiet=common["quiet"])
        apply = studio.effect(assets, info, opts)
        if renders:
            # self-contained: the assets are movie= sources (ffmpeg -i IN -/filter_complex graph.txt)
            studio.write_folder(output, assets, printable_graph(apply).script())
        return apply

    deliver(make, common)


_second_argument(studio_command, "alpha_path")


@main.command("inpaint")
@render_options
@click.argument("mask_path", required=False, metavar="MASK")
@click.option("--prompt", default="", help="What the masked region should become.")
@click.option("--negative-prompt", "negative", default="", help="What it should not show.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--steps", type=int, default=30, show_default=True)
@click.option("--denoise", type=float, default=0.3, show_default=True,
              help="Inpainting strength: how far from the original the region may go (0..1).")
@click.option("--guidance", type=float, default=7.5, show_default=True)
@click.option("--resolution", type=int, default=512, show_default=True,
              help="Long side of the crop the model paints, px (multiples of 8).")
@click.option("--model", "model_id", help="Inpainting model id or folder (default: "
              "stable-diffusion-v1-5/stable-diffusion-inpainting).")
@click.option("--device", default="auto", show_default=True, help="auto (cuda, mps, cpu), cpu, cuda.")
@click.option("--candidates", type=int, default=2, show_default=True, help="Pictures per keyframe.")
@click.option("--grow", type=int, default=8, show_default=True, help="Grow the mask (px).")
@click.option("--feather", type=float, default=4.0, show_default=True, help="Soften its edge (px).")
@click.option("--sensitivity", type=float, default=1.0, show_default=True,
              help="Keyframe sensitivity: higher, more keyframes.")
@click.option("--max-group", type=int, default=48, show_default=True, help="Most frames per keyframe.")
@click.option("--keyframes", "keyframe_list", help="Keyframes to use, e.g. 0,24,60 (no detection).")
@click.option("--propagate", type=click.Choice(("hold", "flow")), default="flow", show_default=True,
              help="Carry a keyframe's paint as it is, or along the optical flow.")
@click.option("--blend", type=int, default=4, show_default=True, help="Crossfade frames at group starts.")
@click.option("--overlay-original", type=float, default=0.0, show_default=True,
              help="Mix the original back in at this weight (0..1), for realism.")
@click.option("--drop-bad", is_flag=True, help="Rebuild groups that jump by interpolation (minterpolate).")
@click.option("--picks", "picks_path", help="picks.json (keyframe: candidate): re-render, no model.")
@click.option("--redo", help="Paint these keyframes again with new seeds, e.g. 24,60.")
def inpaint_command(**kw) -> None:
    """Change the region of INPUT where MASK is white (a mask video, or `auto`: the person) from
    --prompt, painting keyframes only and carrying each through its group.

    A work folder OUT-stem_inpaint/ beside OUTPUT keeps keyframes.json, the candidates, picks.json,
    review.html, contact.png, compare.mp4 and inpaint.json. Usage: ffvfx inpaint IN MASK OUT --prompt TEXT.
    """
    from ffvfx import video_inpaint
    from ffvfx.effects.compare import compare
    from ffvfx.render import Encoding as Enc
    common = _common(kw)
    mask = kw.pop("mask_path")
    try:
        redo = [int(x) for x in (kw["redo"] or "").split(",") if x.strip()]
    except ValueError:
        raise FfvfxError(f"--redo takes keyframe numbers like 24,60 (got {kw['redo']!r})") from None
    opts = video_inpaint.Options(
        prompt=kw["prompt"], negative=kw["negative"], seed=kw["seed"], steps=kw["steps"],
        denoise=kw["denoise"], guidance=kw["guidance"], resolution=kw["resolution"], model=kw["model_id"],
        device=kw["device"], candidates=kw["candidates"], grow=kw["grow"], feather=kw["feather"],
        sensitivity=kw["sensitivity"], max_group=kw["max_group"], keyframes=kw["keyframe_list"],
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
    info = probe(src.path, tools)
    if not (common["print_form"] or common["preview"]):
        _check_output(Path(output), [src.path, mask], common["overwrite"])
    say = _notes(common["quiet"])
    auto = mask == "auto"
    if auto:
        from ffvfx.matting.model import build
        from ffvfx.matting.stream import write_matte
        work = video_inpaint.work_folder(output)
        work.mkdir(exist_ok=True)
        mask = str(work / "mask.mkv")
        say(f"computing the mask with {DEFAULT_MODEL}")
        write_matte(src.path, tools, build(DEFAULT_MODEL, ModelOptions(), info), mask,
                    quiet=common["quiet"], info=info, start=common["start"], duration=common["duration"])
    else:
        check_alpha(mask, info, tools, what="mask")

    def render(effect: Effect) -> None:
        deliver(lambda _info: effect, common)

    cluster = None
    if common["ray_address"] and not opts.picks:
        from ffvfx import cluster as ray_cluster
        cluster = ray_cluster.connect(common["ray_address"])
    video_inpaint.run(src.path, mask, output, tools, info, opts, say=say, quiet=common["quiet"],
                      render=render, mask_ranged=auto, cluster=cluster)
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
@click.option("--jobs", "-j", type=click.IntRange(min=1),
              default=lambda: max(1, (os.cpu_count() or 2) // 2), show_default="half the CPUs",
              help="Files rendered at a time (a --jobs after COMMAND is each file's segments).")
@click.option("--ray", "ray_address", default=lambda: os.environ.get("RAY_ADDRESS"),
              show_default="$RAY_ADDRESS", help="Run each file as a task on this Ray cluster.")
@click.option("-q", "--quiet", is_flag=True, help="Only failures and the summary.")
@click.argument("command")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def batch_command(jobs, ray_address, quiet, command, args) -> None:
    """Run COMMAND over many FILES into a folder: ffvfx batch COMMAND [options] FILES... -o DIR.

    Outputs are named after the inputs (DIR/clip.mp4; matte and loop: DIR/clip_matte/). A file
    that fails fails alone; the exit code is the number of files that failed (0: all done).
    """
    from ffvfx import batch
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
@click.option("--seconds", type=float, default=4.0, show_default=True)
@click.option("--size", default="1280x720", show_default=True)
@click.option("--fps", type=int, default=30, show_default=True)
@click.option("--pan", default="2,0.5", show_default=True, help="Camera pan, px/frame x,y.")
@click.option("-y", "--overwrite", is_flag=True)
def demo_command(output, seconds, size, fps, pan, overwrite) -> None:
    """Write the built-in demo scene and its ground truth (alpha video, camera path JSON)."""
    from ffvfx import demo
    if Path(output).exists() and not overwrite:
        raise FfvfxError(f"{output}: exists; pass -y/--overwrite to replace it")
    try:
        w, h = (int(x) for x in size.lower().split("x"))
        px, py = (float(x) for x in pan.split(","))
        spec = demo.DemoSpec(width=w, height=h, fps=fps, seconds=seconds, pan=(px, py))
    except ValueError as exc:
        raise FfvfxError(f"--size takes even WxH (>= 16) and --pan takes X,Y: {exc}") from None
    demo.write_demo(output, spec, toolchain.find().ffmpeg)
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
    from ffvfx.targets import probe as hw_probe
    for name in hw_probe.AUTO_ORDER:
        status = hw_probe.describe(tools, name)
        click.echo(f"--hw      {name:<28} {status}")
    from importlib.metadata import PackageNotFoundError, version
    try:
        ray = f"ray {version('ray')}"
    except PackageNotFoundError:
        from ffvfx.cluster import INSTALL
        ray = f"missing: {INSTALL}"
    click.echo(f"--ray     {ray}")


def run_cli(argv: list[str] | None = None) -> int:
    """Entry point: one line on stderr and a non-zero exit for every user error, no traceback."""
    try:
        code = main.main(args=argv, prog_name="ffvfx", standalone_mode=False)
        if isinstance(code, int):  # click returns an Exit's code when not standalone
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"ffvfx: error: {exc.format_message()}", err=True)
        return 2
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
    return 0


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C: ffmpeg stopped, partial output removed


def entry() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(run_cli())
