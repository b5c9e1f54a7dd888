"""Live preview through ffplay: a file, the demo scene or a camera, with the graph as ``-vf``.

ffplay takes one input and a simple graph; a graph with one input and one output prints with
unlabelled ends, so the same text ``--print`` shows is what ffplay runs.
"""

from __future__ import annotations

import subprocess

from ffvfx.compiler.graph import Graph
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import children
from ffvfx.ffmpeg.sources import Source
from ffvfx.ffmpeg.toolchain import Toolchain


def preview_argv(graph: Graph, source: Source, tools: Toolchain, loop: bool = True) -> list[str]:
    """ffplay argv playing ``source`` through ``graph`` (files loop until the window closes)."""
    if not tools.ffplay:
        raise FfvfxError(f"no ffplay beside {tools.ffmpeg}: install ffmpeg's ffplay "
                         "(apt-get install ffmpeg) to preview")
    tools.require_filters(graph.filter_names())
    if not graph.anonymous:
        raise FfvfxError("this graph has several inputs; preview needs them as movie= sources")
    argv = [tools.ffplay, "-hide_banner", "-loglevel", "error", "-window_title", "ffvfx preview"]
    argv += ["-vf", graph.line()]
    if not source.device and loop:
        argv += ["-loop", "0"]
    return argv + source.input_args()


def preview(graph: Graph, source: Source, tools: Toolchain) -> None:
    """Play until the user closes the window or presses q; ffplay's own errors become one line."""
    proc = children.run(preview_argv(graph, source, tools), stdin=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True, errors="replace")
    # ffplay exits 0 even when the graph or the input failed: any error line counts.
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    if proc.returncode not in (0, 123) or lines:
        raise FfvfxError("ffplay failed: " + (lines[-1] if lines else f"exit {proc.returncode}"))
