"""``ffvfx motion``: each frame against a delayed copy of itself."""

from __future__ import annotations

import click

from ffvfx.cli.declared import options
from ffvfx.cli.render import notes, render_options, show
from ffvfx.cli.sweep import sweepable
from ffvfx.effects import motion as motion_effect
from ffvfx.pipelines import motion
from ffvfx.pipelines.delivery import RenderOptions


@click.command("motion")
@render_options
@sweepable(motion_effect.PARAMS)
@options(motion_effect.PARAMS)
def motion_command(render_opts: RenderOptions, **declared) -> None:
    """Motion extraction: each frame against a delayed copy of itself.

    INPUT is a file; when no file has the name, `demo`, `webcam` or /dev/videoN. Other cameras
    and synthetic sources: --camera SPEC, --lavfi GRAPH. A file named -x.mp4 goes after --.
    With no input the one-line graph is printed for use in ffmpeg -vf / -filter_complex / ffplay.
    """
    opts = motion.MotionOptions.declared(declared)  # the names are motion_effect.PARAMS'
    show(motion.render(opts, render_opts, say=notes(render_opts.quiet)), render_opts.quiet)
