"""``ffvfx generate`` (a new background for one frame) and ``ffvfx studio`` (the background of a
video replaced by a generated scene): they share the diffusion options. ``studio``'s render-time
options come from :data:`ffvfx.pipelines.studio.RENDER_PARAMS`; its generation options are shared
with ``ffvfx tune studio``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace

import click

from ffvfx.cli.declared import options
from ffvfx.cli.options import FRAME, GUIDANCE, SEED, STEPS, Number
from ffvfx.cli.paths import INPUT_PATH, InputPath
from ffvfx.cli.render import notes, render_options, show
from ffvfx.cli.sweep import sweepable
from ffvfx.ffmpeg import toolchain
from ffvfx.pipelines import studio_render
from ffvfx.pipelines.delivery import RenderOptions
from ffvfx.pipelines.studio import GENERATION, RENDER_PARAMS, Options

AI_OPTIONS = [
    click.option("--prompt", default="", help="What the new background should be."),
    click.option("--negative-prompt", "negative", default="", help="What it should not show."),
    click.option("--seed", type=SEED, default=0, show_default=True),
    click.option("--steps", type=STEPS, default=30, show_default=True, help="Diffusion steps."),
    click.option("--strength", type=Number(float, 0, 1, min_open=True), default=0.95, show_default=True,
                 help="How far from the frame the drawing may go (0..1)."),
    click.option("--guidance", type=GUIDANCE, default=7.5, show_default=True, help="Prompt guidance."),
    click.option("--resolution", type=Number(int, 64, 2048, unit="pixels"),
                 help="Long side of the generation, px (snapped to "
                 "multiples of 8; default 768 for sd15, 1024 for sdxl)."),
    click.option("--frame", type=FRAME, default=0, show_default=True,
                 help="The reference frame (0-based)."),
    click.option("--sd-model", type=click.Choice(("sd15", "sdxl")), default="sd15", show_default=True),
    click.option("--model", "model", type=InputPath("ID"),
                 help="Inpainting model id or folder (default: "
                 "stable-diffusion-v1-5/stable-diffusion-inpainting for sd15)."),
    click.option("--device", default="auto", show_default=True, help="auto (cuda, mps, cpu), cpu, cuda."),
]
"""The options ``generate`` and ``studio`` share: prompt, diffusion settings, models."""
AI_NAMES = ("prompt", "negative", "seed", "steps", "strength", "guidance", "resolution", "frame", "sd_model",
            "model", "device")
"""Their names (fields of :class:`~ffvfx.pipelines.studio.Options`)."""


def ai_options(func: Callable) -> Callable:
    """:data:`AI_OPTIONS` on a command, which is called with them as one
    :class:`~ffvfx.pipelines.studio.Options` after any arguments before it."""

    @functools.wraps(func)
    def command(*args, **kw):
        asked = Options(**{name: kw.pop(name) for name in AI_NAMES})
        return func(*args, asked, **kw)

    for option in reversed(AI_OPTIONS):
        command = option(command)
    return command


@click.command("generate")
@click.argument("input", type=INPUT_PATH)
@click.argument("alpha", type=INPUT_PATH)
@click.argument("output")
@ai_options
@click.option("-y", "--overwrite", is_flag=True, help="Replace an existing OUT.png.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes.")
def generate_command(opts: Options, input: str, alpha: str, output: str, overwrite: bool,
                     quiet: bool) -> None:
    """A new background for one frame of INPUT: the subject (white in ALPHA) kept, the rest drawn by
    Stable Diffusion inpainting from --prompt; written as OUTPUT (.png).
    """
    tools = toolchain.find()
    out = studio_render.generate(input, alpha, output, tools, opts, overwrite=overwrite, quiet=quiet,
                                 say=notes(quiet))
    click.echo(str(out))


STUDIO_OPTIONS = [
    click.option("--controlnet", type=InputPath("ID"), help="Depth ControlNet id or folder (default: "
                 "lllyasviel/control_v11f1p_sd15_depth for sd15)."),
    click.option("--depth-model", type=InputPath("ID"), help="Depth model id or folder (default: "
                 "depth-anything/Depth-Anything-V2-Small-hf)."),
    click.option("--bg-margin", type=Number(int, 0, 4096, unit="pixels"), default=0, show_default=True,
                 help="Extra canvas round the frame, px (0: from the camera path's extent)."),
]
"""``studio``'s generation options besides :func:`ai_options`' (they select the cached background)."""
NO_LIGHT_PROMPT = click.option("--no-light-prompt", is_flag=True,
                               help="Do not add the light direction to the prompt.")
UNSWEPT = dict.fromkeys(GENERATION, "selects the generated background: each value would be a "
                        "diffusion run (run ffvfx studio once per value)")
"""Why ``--sweep`` takes none of the generation options."""


def studio_options(func: Callable) -> Callable:
    """:data:`STUDIO_OPTIONS` on ``func``."""
    for option in reversed(STUDIO_OPTIONS):
        func = option(func)
    return func


@click.command("studio")
@render_options(second=click.argument("alpha", required=False, metavar="ALPHA", type=INPUT_PATH))
@sweepable(RENDER_PARAMS, UNSWEPT)
@ai_options
@studio_options
@options(RENDER_PARAMS, ["depth_scale", "layers", "exposure_smooth"])
@NO_LIGHT_PROMPT
@options(RENDER_PARAMS, ["feather", "blobs"])
def studio_command(render_opts: RenderOptions, opts: Options, alpha: str | None, no_light_prompt: bool,
                   **asked) -> None:
    """Replace the background of INPUT (subject: white in ALPHA) with a generated scene that moves
    with the camera in depth layers and follows the shot's exposure; one ffmpeg graph renders it.

    Generated assets are cached (a changed --depth-scale, --layers or encoder re-renders in seconds);
    a studio/ folder beside OUTPUT keeps depth.png, background.png, the layers, graph.txt and
    studio.json. Usage: ffvfx studio IN ALPHA OUT --prompt TEXT.
    """
    opts = replace(opts, light_prompt=not no_light_prompt, start=render_opts.start,
                   duration=render_opts.duration, **asked)  # the other options' names are the fields'
    show(studio_render.render(alpha, opts, render_opts, say=notes(render_opts.quiet)), render_opts.quiet)
