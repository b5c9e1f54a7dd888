"""``ffvfx trails``: ghost trails, compensated for the camera's motion."""

from __future__ import annotations

import click

from ffvfx.cli.options import FRAMES_BACK, GAIN, SIGMA, Number
from ffvfx.cli.paths import INPUT_PATH
from ffvfx.cli.render import notes, render_options, show
from ffvfx.effects.trails import OPERATORS
from ffvfx.pipelines import trails
from ffvfx.pipelines.delivery import RenderOptions


@click.command("trails")
@render_options
@click.option("--layers", type=Number(int, 1, 64, unit="echoes"), default=6, show_default=True,
              help="Number of echoes.")
@click.option("--decay", type=Number(float, 0, 1, min_open=True), default=0.7, show_default=True,
              help="Echo k has opacity decay^k.")
@click.option("--spacing", type=FRAMES_BACK, default=5, show_default=True, help="Frames between echoes.")
@click.option("--intensity", type=GAIN, default=1.0, show_default=True, help="Starting intensity.")
@click.option("--ghost", "--operator", "operator", type=click.Choice(OPERATORS), default="normal",
              show_default=True, help="glow: bright trails; shadow: dark; normal: weighted average; "
              "add/max/min/screen/blend; behind/front need --alpha.")
@click.option("--alpha", "alpha", type=INPUT_PATH,
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
def trails_command(render_opts: RenderOptions, **asked) -> None:
    """Ghost trails: each frame with LAYERS echoes SPACING frames apart, fading by DECAY.

    Camera motion is measured first (phase correlation at 960 px, kept in the ffvfx cache for the
    next run) so backgrounds stay sharp and only what moves on its own trails. With no INPUT the
    one-line graph (without compensation or mask, which need an input file) is printed.
    """
    opts = trails.TrailsOptions(**asked)  # the options' names are the fields'
    show(trails.render(opts, render_opts, say=notes(render_opts.quiet)), render_opts.quiet)
