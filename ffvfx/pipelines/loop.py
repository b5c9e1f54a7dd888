"""What ``ffvfx loop`` writes into its output folder: ``loop_K.EXT``, ``loops.json``, ``index.html``.

Each loop is one ffmpeg run of :func:`ffvfx.effects.loop.loop_graph`, written under a temporary name
beside the target and renamed when ffmpeg succeeded (the discipline of :mod:`ffvfx.ffmpeg.render`); the
folder itself is all or nothing (:func:`ffvfx.ffmpeg.atomic.atomic_folder`, in ``ffvfx loop``). The
page is plain static HTML with no scripts from elsewhere and no server: it plays every loop muted
in a loop, with its frames, times and score, and links the source by a relative path.
"""

from __future__ import annotations

import html
import json
import os
from fractions import Fraction
from pathlib import Path
from urllib.parse import quote

from ffvfx.compiler.escape import input_args, media_path
from ffvfx.compiler.graph import Graph, Input
from ffvfx.effects.loop import loop_graph
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.atomic import atomic_path, write_text
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.render import Encoding, execute
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.stages.analysis.loops import Loop, LoopSearch

JSON_FORMAT = "ffvfx-loops"
PAGE = "index.html"
LISTING = "loops.json"
_MIME = {"webm": "video/webm", "mp4": "video/mp4"}


def loop_name(index: int, fmt: str) -> str:
    return f"loop_{index}.{fmt}"


def graph_for(loop: Loop, *, source: str | None, alpha: str | None, fmt: str,
              crossfade: int, rate: Fraction | None = None) -> Graph:
    """The encode graph of ``loop`` (``source=None``: anonymous input, for ``--print``); ``rate``:
    the input's probed rate (fps), which its frames (and the alpha's) are put on."""
    inp = Input(source, rate=rate)
    side = Input(alpha, label="alpha", rate=rate) if alpha else None
    out = loop_graph(inp.video, loop.start, loop.end, crossfade=crossfade, fmt=fmt,
                     alpha=side.video if side else None)
    if source is None:
        return Graph(out, movies=True)
    return Graph(out, [inp], labelled=True)


def codec_args(fmt: str, crf: float | None) -> list[str]:
    """Encoder arguments: VP9 (constant quality) for WebM, H.264 for MP4, GIF looping forever."""
    if fmt == "gif":
        return ["-c:v", "gif", "-loop", "0"]
    args = Encoding(crf=crf).args(f"x.{fmt}")
    return args + (["-movflags", "+faststart"] if fmt == "mp4" else [])


def encode(loop: Loop, out: Path, tools: Toolchain, *, source: str, alpha: str | None, fmt: str,
           crossfade: int, crf: float | None, quiet: bool, rate: Fraction | None = None,
           overwrite: bool = False) -> None:
    """Write ``loop`` to ``out`` atomically (``rate``: the input's probed fps; ``overwrite``:
    replacing a file there, :func:`ffvfx.ffmpeg.atomic.atomic_path`); raises FfvfxError with one line."""
    graph = graph_for(loop, source=source, alpha=alpha, fmt=fmt, crossfade=crossfade, rate=rate)
    tools.require_filters(graph.filter_names())
    argv = [tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    for inp in graph.inputs:
        argv += input_args(inp.path)
    argv += ["-filter_complex", graph.line(), "-map", graph.output_maps()[0], "-an"]
    argv += codec_args(fmt, crf) + tools.passthrough_timing()
    with atomic_path(out, overwrite=overwrite) as tmp:
        frames = execute(argv + [media_path(tmp)], ProgressBar(out.name, loop.length, enabled=not quiet))
        if frames != loop.length:
            raise FfvfxError(f"{out.name}: ffmpeg wrote {frames} frames, the loop has {loop.length}")


def listing(loops: LoopSearch, *, source: str, fmt: str, crossfade: int, params: dict) -> dict:
    """The ``loops.json`` content: source, parameters, one entry per loop (best first) with its
    seam judged on pixels, and the candidates refused for a visible seam with the reason."""
    return {"format": JSON_FORMAT, "version": 1, "source": source, "params": params,
            "crossfade": crossfade,
            "loops": [loop.to_json() | {"file": loop_name(i, fmt)} for i, loop in enumerate(loops)],
            "refused": [loop.to_json() for loop in loops.refused],
            "refusal": None if loops else loops.refusal()}


def page(data: dict, source_href: str) -> str:
    """``index.html``: every loop playing muted in a loop, with its frames, times and score."""
    esc = html.escape
    items = []
    for entry in data["loops"]:
        ext = entry["file"].rsplit(".", 1)[-1]
        caption = (f"{esc(entry['file'])}: frames {entry['start']}&ndash;{entry['end']} "
                   f"({entry['length']} frames), {entry['start_time']:.2f}&ndash;"
                   f"{entry['end_time']:.2f} s, score {entry['score']:.3f}, "
                   f"seam distance {entry['seam']:.3f}, seam {entry['seam_psnr']:.1f} dB "
                   f"(ordinary steps {entry['step_psnr']:.1f} dB)")
        if ext == "gif":
            media = f'<img src="{esc(entry["file"])}" alt="{esc(entry["file"])}">'
        else:
            media = (f'<video autoplay loop muted playsinline src="{esc(entry["file"])}" '
                     f'type="{_MIME[ext]}"></video>')
        items.append(f"<figure>{media}<figcaption>{caption}</figcaption></figure>")
    why = data.get("refusal") or "no span's ends match within the hash threshold"
    body = "\n".join(items) or f"<p>No seamless loop found: {esc(why)}.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Loops of {esc(Path(data['source']).name)}</title>
<style>
body {{ font-family: sans-serif; background: #222; color: #eee; margin: 1em; }}
figure {{ display: inline-block; margin: 0.5em; vertical-align: top; }}
video, img {{ max-width: 480px; display: block;
  background: repeating-conic-gradient(#555 0 25%, #777 0 50%) 0 0/16px 16px; }}
a {{ color: #9cf; }}
</style>
</head>
<body>
<h1>Loops of <a href="{esc(source_href)}">{esc(Path(data['source']).name)}</a></h1>
{body}
</body>
</html>
"""


def write_listing(path: Path, data: dict, overwrite: bool = False) -> None:
    write_text(path, json.dumps(data, indent=1) + "\n", overwrite=overwrite)


def source_href(source: str, outdir: Path) -> str:
    """The source's address relative to the page (a ``file`` path works opened from disk)."""
    rel = os.path.relpath(Path(source).resolve(), outdir.resolve())
    return quote(Path(rel).as_posix())
