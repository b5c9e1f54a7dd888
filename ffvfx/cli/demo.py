"""``ffvfx demo``: the built-in demo scene and its ground truth."""

from __future__ import annotations

import click

from ffvfx.cli.options import Number, Numbers, Size
from ffvfx.pipelines.demo import write_scene


@click.command("demo")
@click.argument("output")
@click.option("--seconds", type=Number(float, 0, 600, min_open=True, unit="seconds"), default=4.0,
              show_default=True)
@click.option("--size", type=Size(), default="1280x720", show_default=True)
@click.option("--fps", type=Number(int, 1, 240, unit="fps"), default=30, show_default=True)
@click.option("--pan", type=Numbers(Number(float, -1000, 1000, unit="pixels"), 2, example="2,0.5"),
              default="2,0.5", show_default=True, help="Camera pan, px/frame x,y.")
@click.option("-y", "--overwrite", is_flag=True)
def demo_command(output: str, seconds: float, size: str, fps: int, pan: tuple[float, float],
                 overwrite: bool) -> None:
    """Write the built-in demo scene and its ground truth (alpha video, camera path JSON)."""
    write_scene(output, seconds=seconds, size=size, fps=fps, pan=pan, overwrite=overwrite)
    click.echo(f"wrote {output} (+ ground truth beside it)", err=True)
