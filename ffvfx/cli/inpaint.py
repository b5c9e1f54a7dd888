"""``ffvfx inpaint``: the masked region of INPUT changed from a prompt, keyframe by keyframe."""

from __future__ import annotations

import click

from ffvfx.cli.options import FEATHER, FRACTION, FRAME, GAIN, GUIDANCE, SEED, STEPS, Number, Numbers
from ffvfx.cli.paths import INPUT_PATH, InputPath
from ffvfx.cli.render import notes, render_options, show
from ffvfx.pipelines import inpaint_render
from ffvfx.pipelines.delivery import RenderOptions
from ffvfx.pipelines.inpaint import Options


@click.command("inpaint")
@render_options(second=click.argument("mask", required=False, metavar="MASK", type=InputPath("auto")))
@click.option("--prompt", default="", help="What the masked region should become.")
@click.option("--negative-prompt", "negative", default="", help="What it should not show.")
@click.option("--seed", type=SEED, default=0, show_default=True)
@click.option("--steps", type=STEPS, default=30, show_default=True)
@click.option("--denoise", "strength", type=Number(float, 0, 1, min_open=True), default=0.3,
              show_default=True,
              help="Inpainting strength: how far from the original the region may go (0..1).")
@click.option("--guidance", type=GUIDANCE, default=7.5, show_default=True)
@click.option("--resolution", type=Number(int, 64, 2048, unit="pixels"), default=512, show_default=True,
              help="Long side of the crop the model paints, px (multiples of 8).")
@click.option("--model", "model", type=InputPath("ID"), help="Inpainting model id or folder (default: "
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
@click.option("--keyframes", "keyframes", type=Numbers(FRAME, example="0,24,60"),
              help="Keyframes to use, e.g. 0,24,60 (no detection).")
@click.option("--propagate", type=click.Choice(("hold", "flow")), default="flow", show_default=True,
              help="Carry a keyframe's paint as it is, or along the optical flow.")
@click.option("--blend", type=Number(int, 0, 1000, unit="frames"), default=4, show_default=True,
              help="Crossfade frames at group starts.")
@click.option("--overlay-original", type=FRACTION, default=0.0, show_default=True,
              help="Mix the original back in at this weight (0..1), for realism.")
@click.option("--drop-bad", is_flag=True, help="Rebuild groups that jump by interpolation (minterpolate).")
@click.option("--picks", "picks", type=INPUT_PATH,
              help="picks.json (keyframe: candidate): re-render, no model.")
@click.option("--redo", type=Numbers(FRAME, example="24,60"),
              help="Paint these keyframes again with new seeds, e.g. 24,60.")
def inpaint_command(render_opts: RenderOptions, mask: str | None, keyframes: tuple[int, ...] | None,
                    redo: tuple[int, ...] | None, **asked) -> None:
    """Change the region of INPUT where MASK is white (a mask video, or `auto`: the person) from
    --prompt, painting keyframes only and carrying each through its group.

    A work folder OUT-stem_inpaint/ beside OUTPUT keeps keyframes.json, the candidates, picks.json,
    review.html, contact.png, compare.mp4 and inpaint.json. Usage: ffvfx inpaint IN MASK OUT --prompt TEXT.
    """
    opts = Options(keyframes=",".join(map(str, keyframes)) if keyframes else None, redo=list(redo or ()),
                   start=render_opts.start, duration=render_opts.duration,
                   **asked)  # the other options' names are the fields'
    show(inpaint_render.render(mask, opts, render_opts, say=notes(render_opts.quiet)), render_opts.quiet)
