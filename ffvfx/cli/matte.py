"""``ffvfx matte``: alpha video(s) of INPUT in a folder, one per model."""

from __future__ import annotations

import click

from ffvfx.cli import declared
from ffvfx.cli.options import DURATION, START, Number
from ffvfx.cli.paths import INPUT_PATH, InputPath
from ffvfx.cli.render import notes
from ffvfx.effects import refine
from ffvfx.effects.refine import Refine
from ffvfx.errors import FfvfxError
from ffvfx.pipelines.matte import MatteSettings, matte_input
from ffvfx.stages.matting.model import DEFAULT_MODEL, ModelOptions
from ffvfx.stages.matting.stream import ALPHA_CODECS, refine_line


def model_options(func):
    """What a user can say about the models (:class:`ModelOptions`; the names are its fields)."""
    options = [
        click.option("--weights", type=INPUT_PATH,
                     help="Local weights (file or folder) instead of the model's default."),
        click.option("--model-id", help="Hub id of a transformers model (segmentation, birefnet)."),
        click.option("--revision", help="Hub revision of --model-id."),
        click.option("--device", default="auto", show_default=True,
                     help="auto (cuda, mps, cpu), cpu, cuda, mps."),
        click.option("--downsample-ratio", type=Number(float, 0, 1, min_open=True),
                     help="rvm: model resolution / frame (default: auto)."),
        click.option("--allow-noncommercial", is_flag=True, help="Allow non-commercial models (rmbg)."),
        click.option("--plate", type=INPUT_PATH, help="difference: the clean background image."),
        click.option("--diff-threshold", "diff_threshold", type=Number(float, 1, 254, unit="levels"),
                     default=40.0, show_default=True,
                     help="difference: 8-bit colour distance that is half foreground."),
        click.option("--key", default="auto", show_default=True,
                     help="chroma: auto, green, blue or 0xRRGGBB."),
        click.option("--similarity", type=Number(float, 0.01, 1), default=0.1, show_default=True,
                     help="chroma: key width (0.01..1)."),
        click.option("--blend", type=Number(float, 0, 1, min_open=True), default=0.05, show_default=True,
                     help="chroma: soft edge (0..1)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command("matte")
@click.argument("input", type=INPUT_PATH)
@click.option("-o", "--output", "outdir", help="Output folder (default: INPUT's name + _matte).")
@click.option("--model", default=None, help="chroma, difference, rvm, selfie (default), segmentation, "
              "birefnet, rmbg.")
@click.option("--compare", help="Several models, e.g. chroma,selfie,rvm: one alpha each and compare.mp4.")
@click.option("--alpha-codec", type=click.Choice(ALPHA_CODECS), default="ffv1", show_default=True,
              help="ffv1: lossless gray .mkv; libx264: near-lossless .mp4.")
@click.option("--foreground", is_flag=True, help="Also write the model's foreground colours.")
@click.option("--composite", "composite", type=InputPath("COLOR"),
              help="Also write a quick look over green, a COLOR or an IMAGE.")
@model_options
@declared.options(refine.PARAMS)
@click.option("--blobs", type=Number(float, 0, 1, max_open=True), default=0.4, show_default=True,
              help="Drop regions smaller than this fraction of the main subject (0: keep all).")
@click.option("--batch", type=Number(int, 1, 64, unit="frames"), default=4, show_default=True,
              help="Frames per model call.")
@click.option("--start", type=START, help="Start this many seconds into the input.")
@click.option("--duration", type=DURATION, help="Matte this many seconds.")
@click.option("--print", "print_graph", is_flag=True, help="Print the clean-up graph; write nothing.")
@click.option("-y", "--overwrite", is_flag=True, help="Replace existing files in the folder.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def matte_command(input: str, outdir: str | None, model: str | None, compare: str | None, alpha_codec: str,
                  foreground: bool, composite: str | None, threshold: float | None, erode: int,
                  dilate: int, smooth: int, feather: float, blobs: float, batch: int, start: float | None,
                  duration: float | None, print_graph: bool, overwrite: bool, quiet: bool,
                  **model_asked) -> None:
    """Matte INPUT: alpha video(s) (white = subject) in a folder, plus a JSON log.

    Frames stream from ffmpeg through the model in batches into an FFV1 encoder, so memory is flat
    whatever the length; stray blobs are dropped, then the clean-up graph (--threshold, --erode,
    --dilate, --smooth, --feather; see --print) runs in the encoder.
    """
    cleanup = Refine(threshold=threshold, erode=erode, dilate=dilate, smooth=smooth, feather=feather)
    if print_graph:
        click.echo(refine_line(cleanup) or "null")
        return
    if compare and model:
        raise FfvfxError("give --model or --compare, not both")
    names = [n.strip() for n in compare.split(",") if n.strip()] if compare else [model or DEFAULT_MODEL]
    settings = MatteSettings(cleanup=cleanup, alpha_codec=alpha_codec, foreground=foreground,
                             composite=composite, blobs=blobs, batch=batch, start=start, duration=duration,
                             overwrite=overwrite, quiet=quiet)
    written = matte_input(input, outdir, names, ModelOptions(**model_asked), settings, say=notes(quiet))
    for path in written:
        click.echo(str(path))
