"""``ffvfx composite``: the subject of INPUT over a new background."""

from __future__ import annotations

import click

from ffvfx.cli.declared import options
from ffvfx.cli.paths import INPUT_PATH
from ffvfx.cli.render import notes, render_options, show
from ffvfx.cli.sweep import sweepable
from ffvfx.effects import composite as composite_effect
from ffvfx.pipelines import composite
from ffvfx.pipelines.delivery import RenderOptions


@click.command("composite")
@render_options(second=click.argument("alpha", required=False, metavar="ALPHA", type=INPUT_PATH))
@sweepable(composite_effect.PARAMS)
@options(composite_effect.PARAMS)
def composite_command(render_opts: RenderOptions, **asked) -> None:
    """Put the subject of INPUT (where ALPHA, a gray matte, is white) over a new background.

    One ffmpeg graph: the background fitted to the input's size, the input with ALPHA merged,
    overlaid in RGB; audio kept. --print shows it with ALPHA and the background as movie= sources.
    Usage: ffvfx composite IN ALPHA OUT --bg PLATE|VIDEO|COLOR.
    """
    opts = composite.CompositeOptions.declared(asked)
    show(composite.render(opts, render_opts, say=notes(render_opts.quiet)), render_opts.quiet)
