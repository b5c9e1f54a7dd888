"""``ffvfx generate`` (a new background for one frame) and ``ffvfx studio`` (the background of a
video replaced by a generated scene): they share the diffusion options."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace

import click

from ffvfx.cli.options import FEATHER, FRAME, GUIDANCE, SEED, STEPS, Number
from ffvfx.cli.paths import INPUT_PATH, InputPath
from ffvfx.cli.render import notes, render_options, show
from ffvfx.compiler.numbers import MAX_FRAMES_BACK
from ffvfx.ffmpeg import toolchain
from ffvfx.pipelines import studio_render
from ffvfx.pipelines.delivery import RenderOptions
from ffvfx.pipelines.studio import Options


def ai_options(func: Callable) -> Callable:
    """The options ``generate`` and ``studio`` share: prompt, diffusion settings, models. The
    command is called with them as one :class:`~ffvfx.pipelines.studio.Options` after any
    arguments before it (the options' names are its fields)."""
    options = [
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
    names = ("prompt", "negative", "seed", "steps", "strength", "guidance", "resolution", "frame", "sd_model",
             "model", "device")

    @functools.wraps(func)
    def command(*args, **kw):
        asked = Options(**{name: kw.pop(name) for name in names})
        return func(*args, asked, **kw)

    for option in reversed(options):
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


@click.command("studio")
@render_options(second=click.argument("alpha", required=False, metavar="ALPHA", type=INPUT_PATH))
@ai_options
@click.option("--controlnet", type=InputPath("ID"), help="Depth ControlNet id or folder (default: "
              "lllyasviel/control_v11f1p_sd15_depth for sd15).")
@click.option("--depth-model", type=InputPath("ID"), help="Depth model id or folder (default: "
              "depth-anything/Depth-Anything-V2-Small-hf).")
@click.option("--bg-margin", type=Number(int, 0, 4096, unit="pixels"), default=0, show_default=True,
              help="Extra canvas round the frame, px (0: from the camera path's extent).")
@click.option("--depth-scale", type=Number(float, 0, 100), default=0.3, show_default=True,
              help="Parallax: a layer moves by camera path x its nearness (0..1) x this.")
@click.option("--layers", type=Number(int, 1, 8, unit="layers"), default=3, show_default=True,
              help="Depth layers (1..8).")
@click.option("--exposure-smooth", type=Number(int, 1, MAX_FRAMES_BACK, unit="frames"),
              default=15, show_default=True,
              help="Frames the exposure curve is averaged over.")
@click.option("--no-light-prompt", is_flag=True, help="Do not add the light direction to the prompt.")
@click.option("--feather", type=FEATHER, default=0.0, show_default=True, help="Soften the alpha's edge (px).")
@click.option("--blobs", type=Number(float, 0, 1, max_open=True), default=0.4, show_default=True,
              help="Drop alpha regions smaller than this fraction of the main subject (0: keep all).")
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
