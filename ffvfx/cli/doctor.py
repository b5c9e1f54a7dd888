"""``ffvfx doctor``: which ffmpeg ffvfx uses and what it can do."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version

import click

from ffvfx.effects.motion import MODES, motion
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.render import printable_graph
from ffvfx.ffmpeg.targets import probe as hw_probe
from ffvfx.scale.cluster import INSTALL

ENCODERS = ("libx264", "libx265", "libvpx-vp9", "h264_nvenc", "hevc_nvenc", "h264_vaapi")
"""The encoders the doctor looks for."""


@click.command("doctor")
def doctor_command() -> None:
    """Which ffmpeg ffvfx uses and what it can do, one line each."""
    tools = toolchain.find()
    click.echo(f"ffmpeg    {tools.version} ({tools.ffmpeg}, from {tools.origin})")
    click.echo(f"ffplay    {tools.ffplay or 'missing: no --preview'}")
    click.echo(f"ffprobe   {tools.ffprobe or 'missing: probing reads ffmpeg -i instead'}")
    click.echo(f"script    {tools.script_option()} FILE")
    for mode in MODES:
        for bloom in (0.0, 1.0):
            needed = printable_graph(functools.partial(motion, mode=mode, bloom=bloom)).filter_names()
            missing = sorted(needed - tools.filters)
            name = f"motion --mode={mode}" + (" --bloom" if bloom else "")
            click.echo(f"effect    {name:<28} {'ok' if not missing else 'missing ' + ', '.join(missing)}")
    for enc in ENCODERS:
        click.echo(f"encoder   {enc:<28} {'ok' if enc in tools.encoders else 'missing'}")
    click.echo(f"hwaccels  {' '.join(tools.hwaccels) or 'none'}")
    for name in hw_probe.AUTO_ORDER:
        click.echo(f"--hw      {name:<28} {hw_probe.describe(tools, name)}")
    try:
        ray = f"ray {version('ray')}"
    except PackageNotFoundError:
        ray = f"missing: {INSTALL}"
    click.echo(f"--ray     {ray}")
