"""``ffvfx composite``: the subject of INPUT over a new background."""

from __future__ import annotations

import click

from ffvfx.cli.options import FEATHER, Number, Numbers
from ffvfx.cli.paths import INPUT_PATH, InputPath
from ffvfx.cli.render import notes, render_options, show
from ffvfx.effects.composite import FITS
from ffvfx.pipelines import composite
from ffvfx.pipelines.delivery import RenderOptions


@click.command("composite")
@render_options(second=click.argument("alpha", required=False, metavar="ALPHA", type=INPUT_PATH))
@click.option("--bg", required=True, type=InputPath("COLOR"),
              help="Background: an image (looped), a video (looped when shorter) "
              "or a colour (0xRRGGBB, #RRGGBB, a name such as black).")
@click.option("--fit", type=click.Choice(FITS), default="cover", show_default=True,
              help="cover: fill and crop; contain: fit inside and pad; stretch: ignore the aspect.")
@click.option("--pad-color", default="black", show_default=True, help="contain: colour of the bars.")
@click.option("--feather", type=FEATHER, default=0.0, show_default=True,
              help="Soften the alpha's edge (Gaussian sigma, px).")
@click.option("--shift-bg", "shift",
              type=Numbers(Number(int, -16384, 16384, unit="pixels"), 2, example="12,-4"), default="0,0",
              show_default=True,
              help="Move the background x,y px (right, down; negative: left, up).")
def composite_command(render_opts: RenderOptions, **asked) -> None:
    """Put the subject of INPUT (where ALPHA, a gray matte, is white) over a new background.

    One ffmpeg graph: the background fitted to the input's size, the input with ALPHA merged,
    overlaid in RGB; audio kept. --print shows it with ALPHA and the background as movie= sources.
    Usage: ffvfx composite IN ALPHA OUT --bg PLATE|VIDEO|COLOR.
    """
    opts = composite.CompositeOptions(**asked)  # the parameters' names are the fields'
    show(composite.render(opts, render_opts, say=notes(render_opts.quiet)), render_opts.quiet)
