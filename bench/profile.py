"""``bin/bench profile``: what each filter of an effect graph costs per frame, on each ffmpeg build.

ffmpeg reports no time per filter, so the cost is measured by prefixes: the graph's filters in
dependency order, and for k = 0, 1, ... a run of the first k filters alone (every stream a later
filter would read ends in a ``-f null`` output). Filter k costs ``run(k) - run(k - 1)``; run(0) is
decode alone. Each run is ``--repeat`` times and the least CPU time counts (CPU time of the ffmpeg
process, user + system, all threads: steadier than wall time on a shared 2-core machine; the
wall-time column is the same difference of wall times, which is what the encoder competes with).

The graphs are ffvfx's own (the effect functions on the probed clip, as ``ffvfx ... --print``
shows them), on a 1080p clip: the panning demo (cached like ``bin/bench motion``), ``--input`` or
``--lavfi testsrc2``. ``--ffmpeg`` names the builds (default: the one ffvfx picks, and the static
9.x in imageio-ffmpeg when that is another).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ffvfx.compiler.graph import Filter, Graph, Input, Stream
from ffvfx.effects.motion import motion
from ffvfx.effects.register import echo_register
from ffvfx.effects.trails import trails
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.probe import probe
from ffvfx.stages.analysis import camera

EFFECTS = ("motion", "motion-bloom", "trails")
"""What ``--effect`` takes: motion --delay=8, motion --delay=8 --bloom, trails 6x5 compensated."""


@dataclass
class Step:
    text: str           # the filter as the graph writes it (shortened)
    cpu_ms: float       # CPU ms per frame this filter adds
    wall_ms: float      # wall ms per frame it adds


def effect_graph(name: str, clip: str, tools: toolchain.Toolchain) -> Graph:
    """ffvfx's graph for ``name`` on ``clip`` (trails: with the camera path measured on it)."""
    src = Input()
    if name == "motion":
        out = motion(src.video, delay=8)
    elif name == "motion-bloom":
        out = motion(src.video, delay=8, bloom=1.0, bloom_sigma=8.0)
    else:
        register = echo_register(camera.measure_path(clip, tools), 5, 6)
        out = trails(src.video, layers=6, spacing=5, register=register)
    return Graph(out)


def prefix(graph: Graph, k: int) -> Graph:
    """The first ``k`` filters of ``graph`` (dependency order), every stream they hand to a later
    filter (or to the graph's output) made an output of its own."""
    kept = graph.filters[:k]
    later = {id(f) for f in graph.filters[k:]}
    read_later = {s for f in graph.filters if id(f) in later for s in f.inputs}
    ends: list[Stream] = []
    for f in kept:
        for s in f.out:
            if s in read_later or s in graph.outputs:
                ends.append(s)
    return Graph(ends or [graph.inputs[0].video], labelled=True)


def cpu_run(argv: list[str], repeat: int) -> tuple[float, float]:
    """(CPU s, wall s) of ``argv``: the run with the least CPU time of ``repeat``."""
    best: tuple[float, float] | None = None
    for _ in range(repeat):
        with tempfile.TemporaryFile() as err:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                err.seek(0)
                tail = err.read().decode(errors="replace")[-1500:]
                raise RuntimeError(f"exit {proc.returncode}: {' '.join(argv)}\n{tail}")
        cpu = usage.ru_utime + usage.ru_stime
        if best is None or cpu < best[0]:
            best = (cpu, wall)
    assert best is not None
    return best


def graph_argv(ffmpeg: str, clip: str, graph: Graph, threads: int) -> list[str]:
    """Read ``clip`` through ``graph``, every output to ``-f null``; ``threads`` filter threads."""
    argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-filter_threads", str(threads),
            "-i", clip, "-filter_complex", graph.line()]
    for target in graph.output_maps():
        argv += ["-map", target or "0:v", "-f", "null", "-"]
    return argv


def profile(graph: Graph, ffmpeg: str, clip: str, frames: int, repeat: int, threads: int) -> list[Step]:
    """Per filter of ``graph``: what it adds to a run of the filters before it, per frame."""
    steps: list[Step] = []
    prev_cpu, prev_wall = cpu_run(graph_argv(ffmpeg, clip, prefix(graph, 0), threads), repeat)
    steps.append(Step("read", prev_cpu * 1000 / frames, prev_wall * 1000 / frames))
    for k, f in enumerate(graph.filters, 1):
        cpu, wall = cpu_run(graph_argv(ffmpeg, clip, prefix(graph, k), threads), repeat)
        steps.append(Step(_short(f), (cpu - prev_cpu) * 1000 / frames, (wall - prev_wall) * 1000 / frames))
        prev_cpu, prev_wall = cpu, wall
    return steps


def _short(f: Filter, width: int = 70) -> str:
    text = f.text()
    return text if len(text) <= width else text[:width - 3] + "..."


def table(columns: dict[str, list[Step]]) -> str:
    """One row per filter, a CPU and a wall column per build; totals without decode at the end."""
    names = list(columns)
    first = columns[names[0]]
    head = "| # | filter | " + " | ".join(f"{n} cpu ms | {n} wall ms" for n in names) + " |"
    rule = "|---:|---|" + "---:|---:|" * len(names)
    rows = [head, rule]
    for i, step in enumerate(first):
        cells = " | ".join(f"{columns[n][i].cpu_ms:.2f} | {columns[n][i].wall_ms:.2f}" for n in names)
        rows.append(f"| {i} | `{step.text}` | {cells} |")
    totals = " | ".join(f"**{sum(s.cpu_ms for s in columns[n][1:]):.2f}** | "
                        f"**{sum(s.wall_ms for s in columns[n][1:]):.2f}**" for n in names)
    rows.append(f"|  | filters in all (read excluded) | {totals} |")
    return "\n".join(rows)


def builds(asked: list[str] | None) -> dict[str, str]:
    """Name -> ffmpeg path: ``--ffmpeg`` as given, else ffvfx's pick and imageio-ffmpeg's 9.x."""
    if asked:
        return {_version(p): p for p in asked}
    paths = [toolchain.find().ffmpeg]
    try:
        import imageio_ffmpeg
        paths.append(imageio_ffmpeg.get_ffmpeg_exe())
    except ImportError:
        pass
    found: dict[str, str] = {}
    for p in paths:
        found.setdefault(_version(p), p)
    return found


def _version(ffmpeg: str) -> str:
    out = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout.split()
    return "ffmpeg " + (out[2].split("-")[0] if len(out) > 2 else "?")


def add_parser(sub) -> None:
    p = sub.add_parser("profile", help="per-filter cost of each effect graph per 1080p frame and build")
    p.add_argument("--effect", action="append", choices=EFFECTS,
                   help="the effect graph(s) to profile (default: all)")
    p.add_argument("--input", help="profile on this file (default: the cached 1080p panning demo)")
    p.add_argument("--lavfi", help="or on a lavfi source, e.g. testsrc2=s=1920x1080:r=30:d=5")
    p.add_argument("--seconds", type=float, default=5.0, help="demo clip length (default 5)")
    p.add_argument("--size", default="1920x1080", help="demo clip size (default 1920x1080)")
    p.add_argument("--repeat", type=int, default=3, help="runs per prefix; the least CPU counts (default 3)")
    p.add_argument("--ffmpeg", action="append", help="an ffmpeg build to profile (repeatable)")
    p.add_argument("--threads", type=int, default=1,
                   help="-filter_threads (default 1: CPU time without slice-threading overhead)")


def lavfi_clip(graph: str, tools: toolchain.Toolchain, folder: Path) -> str:
    """A lavfi source written once to an x264 file under ``folder`` (the camera analysis and the
    decode row need a file)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("lavfi-" + "".join(c if c.isalnum() else "_" for c in graph) + ".mp4")
    if not path.exists():
        part = path.with_suffix(".part.mp4")
        subprocess.run([tools.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", graph,
                        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-pix_fmt", "yuv420p",
                        str(part)], check=True)
        part.rename(path)
    return str(path)


def raw_clip(clip: str, tools: toolchain.Toolchain, folder: Path) -> str:
    """``clip`` decoded once into uncompressed yuv420p (.nut): reading it costs a fraction of a
    millisecond per frame, so the decoder's time and its noise stay out of the filters' columns."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (Path(clip).stem + f"-{os.stat(clip).st_size}.raw.nut")
    if not path.exists():
        part = path.with_suffix(".part.nut")
        subprocess.run([tools.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", clip, "-map", "0:v:0",
                        "-c:v", "rawvideo", "-pix_fmt", "yuv420p", str(part)], check=True)
        part.rename(path)
    return str(path)


def bench_profile(args: argparse.Namespace, demo_clip, cache: Path) -> int:
    tools = toolchain.find()
    if args.lavfi:
        clip = lavfi_clip(args.lavfi, tools, cache)
    else:
        clip = args.input or demo_clip(args.size, args.seconds, tools)
    frames = probe(clip, tools).frames
    named = builds(args.ffmpeg)
    raw = raw_clip(clip, tools, cache)
    print(f"Clip: {clip} ({frames} frames); builds: " + ", ".join(f"{n} ({p})" for n, p in named.items()))
    print(f"Cost per frame of each filter = run of the graph up to it - run up to the one before "
          f"(least CPU of {args.repeat}); row 0 reads the clip, decoded once to raw yuv420p.")
    for name in args.effect or EFFECTS:
        graph = effect_graph(name, clip, tools)
        columns = {n: profile(graph, p, raw, frames, args.repeat, args.threads) for n, p in named.items()}
        print(f"\n### {name}\n\n{table(columns)}\n", flush=True)
    return 0
