"""``ffvfx motion``: each frame against a delayed copy of itself."""

from __future__ import annotations

import click

from ffvfx.cli.options import FRAME, FRAMES_BACK, GAIN, SIGMA, Number, Numbers
from ffvfx.cli.render import notes, render_options, show
from ffvfx.compiler.numbers import MAX_FRAMES_BACK
from ffvfx.effects.motion import MODES
from ffvfx.pipelines import motion
from ffvfx.pipelines.delivery import RenderOptions


@click.command("motion")
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
def motion_command(render_opts: RenderOptions, mode: str, delay: int, delay_s: float | None,
                   delays: tuple[int, ...], strength: float, freeze: int | None, bloom: bool,
                   bloom_sigma: float, bloom_strength: float) -> None:
    """Motion extraction: each frame against a delayed copy of itself.

    INPUT is a file; when no file has the name, `demo`, `webcam` or /dev/videoN. Other cameras
    and synthetic sources: --camera SPEC, --lavfi GRAPH. A file named -x.mp4 goes after --.
    With no input the one-line graph is printed for use in ffmpeg -vf / -filter_complex / ffplay.
    """
    opts = motion.MotionOptions(mode=mode, delay=delay, delay_s=delay_s, delays=delays, strength=strength,
                                freeze=freeze, bloom=bloom_strength if bloom else 0.0,
                                bloom_sigma=bloom_sigma)
    show(motion.render(opts, render_opts, say=notes(render_opts.quiet)), render_opts.quiet)
