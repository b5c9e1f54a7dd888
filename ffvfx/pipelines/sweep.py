"""``--sweep``: variants of one effect side by side, in one graph, each captioned with its settings.

A render command is run once per variant with :attr:`RenderOptions.collect
<ffvfx.pipelines.delivery.RenderOptions.collect>` set (:func:`collect`): it checks that
variant's settings as it always does and, instead of delivering, hands over its build (the effect
for the probed input) and the side files it reads. :func:`render` then delivers the grid of all
the builds (:func:`ffvfx.effects.grid.grid`) as one effect, so everything a render command does
holds for a sweep too: ``--print`` shows the one graph (usable in plain ffmpeg), ``--preview``
plays it, ``--jobs`` renders it in segments, ``--sheet N`` makes a contact sheet of it (one grid
per row, N rows), the output is checked against the input and every variant's side files.

The captions need a font file (drawtext's fontconfig lookup is not in every ffmpeg build):
``$FFVFX_FONT``, else the first of :data:`FONTS` that exists, else what ``fc-match monospace``
names; none of them is one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ffvfx.effects import grid
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.probe import VideoInfo
from ffvfx.ffmpeg.render import Effect
from ffvfx.pipelines.delivery import Build, Delivery, RenderOptions, Say, deliver, silent

FONT_ENV = "FFVFX_FONT"
FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",   # Debian, Ubuntu (fonts-dejavu-core)
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-mono-fonts/DejaVuSansMono.ttf",  # Fedora
    "/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/TTF/DejaVuSansMono.ttf",               # Arch
    "/usr/share/fonts/liberation/LiberationMono-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
    "/System/Library/Fonts/Menlo.ttc",                       # macOS
    "/System/Library/Fonts/Supplemental/Courier New.ttf",
    "C:/Windows/Fonts/consola.ttf",                          # Windows
    "C:/Windows/Fonts/arial.ttf",
)
"""Font files tried in order for the captions (monospaced first: the layout assumes ~0.6 em per
character)."""


@dataclass(frozen=True)
class Variant:
    """One tile of a sweep: the effect for the probed input, the side files it reads, its caption
    (one line per swept setting)."""

    build: Build
    inputs: tuple[str | None, ...]
    caption: tuple[str, ...]


def collect(run: Callable[[RenderOptions], object], render_opts: RenderOptions,
            caption: Sequence[str]) -> Variant:
    """The variant ``run`` (a render command's body, given the render options) would deliver:
    its settings are checked as a single render checks them, nothing is rendered."""
    got: list[tuple[Build, tuple[str | None, ...]]] = []
    run(replace(render_opts, collect=lambda build, inputs: got.append((build, tuple(inputs)))))
    if len(got) != 1:
        raise FfvfxError("this command renders no single graph to sweep")
    return Variant(got[0][0], got[0][1], tuple(caption))


def render(variants: Sequence[Variant], columns: int, render_opts: RenderOptions, *,
           say: Say = silent) -> Delivery:
    """Print, preview or render the grid of ``variants`` (``columns`` to a row, in order) as
    ``render_opts`` ask (:func:`ffvfx.pipelines.delivery.deliver`)."""
    font = find_font()
    captions = [v.caption for v in variants]

    def build(info: VideoInfo | None) -> Effect:
        effects = [v.build(info) for v in variants]
        return grid.grid(effects, captions, columns, font, info.canvas if info else None)
    opts = replace(render_opts, sheet_columns=1) if render_opts.sheet else render_opts
    return deliver(build, opts, [p for v in variants for p in v.inputs], say=say)


def find_font() -> str:
    """A font file for the captions (see the module); one line when there is none."""
    given = os.environ.get(FONT_ENV)
    if given:
        if not os.path.isfile(given):
            raise FfvfxError(f"${FONT_ENV}={given}: no such font file")
        return given
    for path in FONTS:
        if os.path.isfile(path):
            return path
    found = _fc_match()
    if found:
        return found
    raise FfvfxError(f"no font for the --sweep captions: install fonts-dejavu-core (apt) or set "
                     f"${FONT_ENV} to a .ttf file")


def _fc_match() -> str | None:
    """The file fontconfig picks for ``monospace`` (None without fontconfig or a file)."""
    exe = shutil.which("fc-match")
    if not exe:
        return None
    try:
        res = subprocess.run([exe, "--format=%{file}", "monospace"], capture_output=True, text=True,
                             timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    path = res.stdout.strip()
    return path if res.returncode == 0 and os.path.isfile(path) else None
