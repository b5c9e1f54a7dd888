"""``ffvfx trails``: ghost trails, compensated for the camera's motion."""

from __future__ import annotations

import click

from ffvfx.cli.declared import options
from ffvfx.cli.render import notes, render_options, show
from ffvfx.cli.sweep import sweepable
from ffvfx.effects import trails as trails_effect
from ffvfx.pipelines import trails
from ffvfx.pipelines.delivery import RenderOptions


@click.command("trails")
@render_options
@sweepable(trails_effect.PARAMS)
@options(trails_effect.PARAMS)
def trails_command(render_opts: RenderOptions, **asked) -> None:
    """Ghost trails: each frame with LAYERS echoes SPACING frames apart, fading by DECAY.

    Camera motion is measured first (phase correlation at 960 px, kept in the ffvfx cache for the
    next run) so backgrounds stay sharp and only what moves on its own trails. With no INPUT the
    one-line graph (without compensation or mask, which need an input file) is printed.
    """
    opts = trails.TrailsOptions(**asked)  # the options' names are the fields'
    show(trails.render(opts, render_opts, say=notes(render_opts.quiet)), render_opts.quiet)
