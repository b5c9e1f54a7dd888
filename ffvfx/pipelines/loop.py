"""What ``ffvfx loop`` writes into its output folder: ``loop_K.EXT``, ``loops.json``, ``index.html``.

Each loop is one ffmpeg run of :func:`ffvfx.effects.loop.loop_graph`, written under a temporary name
beside the target and renamed when ffmpeg succeeded (the discipline of :mod:`ffvfx.ffmpeg.render`); the
folder itself is all or nothing (:func:`ffvfx.ffmpeg.atomic.atomic_folder`, in ``ffvfx loop``). The
page is plain static HTML with no scripts from elsewhere and no server: it plays every loop muted
in a loop, with its frames, times and score, and links the source by a relative path.

:func:`search` finds the loops of ``ffvfx loop``'s input (every output checked first);
:func:`write_folder`, :func:`graph_lines` and :func:`preview_best` are what it does with them.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from ffvfx.compiler.escape import input_args, media_path
from ffvfx.compiler.graph import Graph, Input
from ffvfx.effects.loop import FORMATS, loop_graph
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.atomic import atomic_folder, atomic_path, write_text
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.preview import preview
from ffvfx.ffmpeg.probe import VideoInfo, probe
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.render import Encoding, execute
from ffvfx.ffmpeg.sources import Source
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.pipelines import demo
from ffvfx.pipelines.delivery import Say, side_input, silent
from ffvfx.stages.analysis import loops as loop_analysis
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


class Length(Protocol):
    """A loop length as typed (``2s`` or frames), in frames at a rate (``ffvfx.cli.options.Span``)."""

    def frames(self, fps: float) -> int: ...


@dataclass(frozen=True)
class LoopOptions:
    """What ``ffvfx loop`` was asked (lengths in seconds or frames, distances as hash fractions)."""

    min_length: Length
    max_length: Length
    count: int = 5                  # loops to keep
    hash_name: str = "phash"
    hash_size: int = 8              # hash side (bits = size^2)
    threshold: float = 0.1          # largest seam distance
    min_motion: float = 0.06
    max_motion: float = 0.35        # above it is a scene cut
    crossfade: int = 0              # frames
    fmt: str = "webm"
    alpha: str | None = None        # matte video (white = opaque): WebM with transparency
    crf: float | None = None
    overwrite: bool = False
    quiet: bool = False


@dataclass(frozen=True)
class Search:
    """The loops found in one input (best first), with what writing them needs."""

    source: Source
    info: VideoInfo
    outdir: Path
    loops: LoopSearch
    min_frames: int                 # the shortest and longest loop looked for (frames)
    max_frames: int
    opts: LoopOptions

    def why_none(self) -> str:
        """Why no loop was found, in words."""
        threshold = self.opts.threshold
        return self.loops.refusal() or f"no span's ends match within the hash threshold {threshold:g}"

    def params(self) -> dict:
        """The search's settings as ``loops.json`` keeps them."""
        o = self.opts
        return dict(hash=o.hash_name, hash_size=o.hash_size, min_length=self.min_frames,
                    max_length=self.max_frames, threshold=o.threshold,
                    min_motion=o.min_motion, max_motion=o.max_motion, count=o.count)


def search(spec: str, outdir: str | None, tools: Toolchain, opts: LoopOptions, *, writes: bool,
           say: Say = silent) -> Search:
    """The loops of INPUT ``spec``; ``writes``: the folder ``outdir`` (default: INPUT's name +
    ``_loops``) will be written, so every loop file there is checked before the analysis."""
    if opts.alpha and opts.fmt != "webm":
        raise FfvfxError("--alpha needs --format webm (VP9 keeps transparency)")
    src = demo.resolve(spec)
    if src.device:
        raise FfvfxError("ffvfx loop analyses a file; record the camera first")
    folder = Path(outdir or Path(spec).stem + "_loops")
    if writes:  # every loop file there is replaced or removed
        earlier = [p.name for f in FORMATS for p in folder.glob(f"loop_*.{f}")]
        check_output(folder, [src.path, opts.alpha], opts.overwrite, files=sorted({*earlier, LISTING, PAGE}))
    info = probe(src.path, tools)
    fps = float(info.fps)
    shortest, longest = opts.min_length.frames(fps), opts.max_length.frames(fps)
    lengths = dict(min_length=shortest, max_length=longest)
    params = dict(threshold=opts.threshold, min_motion=opts.min_motion, max_motion=opts.max_motion,
                  count=opts.count)
    loop_analysis.check_params(hash_name=opts.hash_name, hash_size=opts.hash_size, **lengths, **params)
    if opts.crossfade and 2 * opts.crossfade > shortest:
        raise FfvfxError(f"--crossfade {opts.crossfade}: at most half of --min-length ({shortest} frames)")
    if opts.alpha:
        side_input(opts.alpha, info, tools, "alpha")
    say(f"analysing {info.frames or 'all'} frames")
    frames = loop_analysis.analyse(src.path, tools, hash_name=opts.hash_name, hash_size=opts.hash_size)
    found = loop_analysis.find_loops(frames, **lengths, **params, margin=opts.crossfade)
    return Search(src, info, folder, found, shortest, longest, opts)


def graph_lines(found: Search) -> list[str]:
    """Each loop's encode graph as one line (``--print``), inputs as movie= sources."""
    o = found.opts
    return [graph_for(loop, source=None, alpha=o.alpha, fmt=o.fmt, crossfade=o.crossfade).line()
            for loop in found.loops]


def preview_best(found: Search, tools: Toolchain) -> None:
    """Play the best loop in ffplay, over and over; one line when there is none."""
    if not found.loops:
        raise FfvfxError(f"no seamless loop found: {found.why_none()}")
    best = graph_for(found.loops[0], source=None, alpha=None, fmt="webm", crossfade=found.opts.crossfade)
    preview(best, found.source, tools)


def write_folder(found: Search, tools: Toolchain) -> list[Path]:
    """Every loop, ``loops.json`` and ``index.html`` into the folder, all or nothing (built beside it,
    put in place when every loop is encoded); returns the loop files, best first."""
    o, outdir, source = found.opts, found.outdir, found.source.path
    names = [loop_name(i, o.fmt) for i in range(len(found.loops))]
    # -y: loops of an earlier run that this listing does not name go once the new ones are in
    stale = sorted(p.name for f in FORMATS for p in outdir.glob(f"loop_*.{f}")
                   if p.name not in names) if outdir.is_dir() else []
    data = listing(found.loops, source=str(source), fmt=o.fmt, crossfade=o.crossfade, params=found.params())
    with atomic_folder(outdir, overwrite=o.overwrite, remove=stale) as staging:
        for loop, name in zip(found.loops, names, strict=True):
            encode(loop, staging / name, tools, source=source, alpha=o.alpha, fmt=o.fmt,
                   crossfade=o.crossfade, crf=o.crf, quiet=o.quiet, rate=found.info.fps)
        write_listing(staging / LISTING, data)
        write_text(staging / PAGE, page(data, source_href(source, outdir)), overwrite=False)
    return [outdir / name for name in names]
