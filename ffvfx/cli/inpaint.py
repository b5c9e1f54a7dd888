"""``ffvfx inpaint``: the masked region of INPUT changed from a prompt, keyframe by keyframe.

The render-time options (``--feather``, ``--overlay-original``) come from
:data:`ffvfx.effects.patch.PARAMS`; the others select the painting (:data:`PAINTING`) or the carry
(:data:`CARRYING`), shared with ``ffvfx tune inpaint``.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from ffvfx.cli.declared import options
from ffvfx.cli.options import FRAME, GAIN, GUIDANCE, SEED, STEPS, Number, Numbers
from ffvfx.cli.paths import INPUT_PATH, InputPath
from ffvfx.cli.render import notes, render_options, show
from ffvfx.cli.sweep import sweepable
from ffvfx.effects import patch
from ffvfx.pipelines import inpaint_render
from ffvfx.pipelines.delivery import RenderOptions
from ffvfx.pipelines.inpaint import CARRYING, PAINTING, Options

PAINTING_OPTIONS = [
    click.option("--prompt", default="", help="What the masked region should become."),
    click.option("--negative-prompt", "negative", default="", help="What it should not show."),
    click.option("--seed", type=SEED, default=0, show_default=True),
    click.option("--steps", type=STEPS, default=30, show_default=True),
    click.option("--denoise", "strength", type=Number(float, 0, 1, min_open=True), default=0.3,
                 show_default=True,
                 help="Inpainting strength: how far from the original the region may go (0..1)."),
    click.option("--guidance", type=GUIDANCE, default=7.5, show_default=True),
    click.option("--resolution", type=Number(int, 64, 2048, unit="pixels"), default=512, show_default=True,
                 help="Long side of the crop the model paints, px (multiples of 8)."),
    click.option("--model", "model", type=InputPath("ID"), help="Inpainting model id or folder (default: "
                 "stable-diffusion-v1-5/stable-diffusion-inpainting)."),
    click.option("--device", default="auto", show_default=True, help="auto (cuda, mps, cpu), cpu, cuda."),
    click.option("--candidates", type=Number(int, 1, 16), default=2, show_default=True,
                 help="Pictures per keyframe."),
    click.option("--grow", type=Number(int, 0, 64, unit="pixels"), default=8, show_default=True,
                 help="Grow the mask (px)."),
]
"""What paints the keyframes (before ``--feather`` in the help)."""

CARRY_OPTIONS = [
    click.option("--sensitivity", type=GAIN, default=1.0, show_default=True,
                 help="Keyframe sensitivity: higher, more keyframes."),
    click.option("--max-group", type=Number(int, 1, 10000, unit="frames"), default=48, show_default=True,
                 help="Most frames per keyframe."),
    click.option("--keyframes", "keyframes", type=Numbers(FRAME, example="0,24,60"),
                 help="Keyframes to use, e.g. 0,24,60 (no detection)."),
    click.option("--propagate", type=click.Choice(("hold", "flow")), default="flow", show_default=True,
                 help="Carry a keyframe's paint as it is, or along the optical flow."),
    click.option("--blend", type=Number(int, 0, 1000, unit="frames"), default=4, show_default=True,
                 help="Crossfade frames at group starts."),
]
"""Which frames are keyframes and how their paint is carried (before ``--overlay-original``)."""

DROP_BAD = click.option("--drop-bad", is_flag=True,
                        help="Rebuild groups that jump by interpolation (minterpolate).")
PICKS = click.option("--picks", "picks", type=INPUT_PATH,
                     help="picks.json (keyframe: candidate): re-render, no model.")
REDO = click.option("--redo", type=Numbers(FRAME, example="24,60"),
                    help="Paint these keyframes again with new seeds, e.g. 24,60.")

UNSWEPT = {**dict.fromkeys(PAINTING, "selects the painted keyframes: each value would be a "
                           "diffusion run (run ffvfx inpaint once per value)"),
           **dict.fromkeys(CARRYING, "changes the carried patches, not the merge: each value would "
                           "carry the picks through the clip again (run ffvfx inpaint once per value)")}
"""Why ``--sweep`` takes none of the painting and carry options."""


def decorated(func: Callable, decorators: list[Callable]) -> Callable:
    """``func`` under ``decorators`` (the first outermost, as when written above it)."""
    for decorate in reversed(decorators):
        func = decorate(func)
    return func


def painting_options(func: Callable) -> Callable:
    return decorated(func, PAINTING_OPTIONS)


def carry_options(func: Callable) -> Callable:
    return decorated(func, CARRY_OPTIONS)


def options_of(keyframes: tuple[int, ...] | None, redo: tuple[int, ...] | None, **asked) -> Options:
    """The pipeline's options from the parsed ones (their names are its fields)."""
    return Options(keyframes=",".join(map(str, keyframes)) if keyframes else None, redo=list(redo or ()),
                   **asked)


@click.command("inpaint")
@render_options(second=click.argument("mask", required=False, metavar="MASK", type=InputPath("auto")))
@sweepable(patch.PARAMS, UNSWEPT)
@painting_options
@options(patch.PARAMS, ["feather"])
@carry_options
@options(patch.PARAMS, ["overlay_original"])
@DROP_BAD
@PICKS
@REDO
def inpaint_command(render_opts: RenderOptions, mask: str | None, **asked) -> None:
    """Change the region of INPUT where MASK is white (a mask video, or `auto`: the person) from
    --prompt, painting keyframes only and carrying each through its group.

    A work folder OUT-stem_inpaint/ beside OUTPUT keeps keyframes.json, the candidates, picks.json,
    review.html, contact.png, compare.mp4 and inpaint.json. Usage: ffvfx inpaint IN MASK OUT --prompt TEXT.
    """
    opts = options_of(start=render_opts.start, duration=render_opts.duration, **asked)
    show(inpaint_render.render(mask, opts, render_opts, say=notes(render_opts.quiet)), render_opts.quiet)
