"""``ffvfx plate``: a clean background plate of INPUT as a PNG."""

from __future__ import annotations

import click

from ffvfx.cli.options import DURATION, START, Number
from ffvfx.cli.paths import INPUT_PATH, InputPath
from ffvfx.cli.render import notes
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import toolchain
from ffvfx.pipelines import plate
from ffvfx.stages.analysis import plate as plate_analysis


@click.command("plate")
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
def plate_command(input: str, alpha: str, output: str | None, method: str, **asked) -> None:
    """Clean background plate of INPUT as a PNG: the subject taken out.

    Per pixel, the median over sampled frames where ALPHA (a gray matte, white = subject; `auto`
    computes one with the default person model) is below --threshold; pixels never uncovered are
    inpainted, and their share is said on stderr.
    """
    tools = toolchain.find()
    if method == "tmedian":  # no alpha: the second positional is the output
        if output is not None:
            raise FfvfxError("--method tmedian takes no alpha: ffvfx plate IN OUT.png --method tmedian")
        alpha, output = None, alpha
    elif output is None:
        raise FfvfxError("give the alpha and the output: ffvfx plate IN ALPHA|auto OUT.png")
    opts = plate.PlateOptions(**asked)  # the options' names are the fields'
    click.echo(str(plate.write_plate(input, alpha, output, tools, opts, say=notes(opts.quiet))))
