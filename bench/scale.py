"""Scaling benchmark: ``bin/bench scale`` times ``trails`` (6 layers x 5, camera compensation) at
1080p in one pass and with ``--jobs 2`` (and more), checks the frames are identical, and from the
measured per-segment costs projects what N machines would give for a two-hour 4K file.

The camera analysis is measured once and cached before the timed runs: it runs once per render
whatever ``--jobs`` is, so it is reported on its own. Lossy outputs differ at the cuts (each
segment is its own x264 encode), so they are compared by PSNR; frame-exactness is tested with
lossless renders in ``tests/test_segments.py``. The projection assumes machines like this one,
each rendering one segment at the measured 4K rate, and adds what does not shrink with N:
counting the frames (demuxing the input once), each segment's pre-roll (``reach`` frames decoded
and filtered, not encoded) and the join (the concat demuxer copying every output packet once),
both per frame with the start-up cost removed (ten times the clip against once).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.probe import probe

LAYERS, SPACING = 6, 5
TWO_HOURS = 2 * 3600
MACHINES = (1, 2, 4, 8, 16, 32, 64)
_TIMES = re.compile(r"counting ([\d.]+) s, rendering ([\d.]+) s \(each segment ([\d.]+)-([\d.]+) s\), "
                    r"joining ([\d.]+) s")


def _trails(clip: str, out: str, jobs: int, cache: str):
    """One ``ffvfx trails`` render, measured (:class:`bench.bench.Run`)."""
    from bench.bench import measure
    argv = ["env", f"FFVFX_CACHE={cache}", sys.executable, "-m", "ffvfx", "trails", clip, out,
            f"--layers={LAYERS}", f"--spacing={SPACING}", "--no-audio", "-y", "--jobs", str(jobs)]
    return measure(argv)


def _analysis(clip: str, cache: str, tools) -> float:
    """Seconds of the camera analysis (then cached for the timed renders)."""
    from ffvfx.stages.analysis import camera
    os.environ["FFVFX_CACHE"] = cache
    began = time.perf_counter()
    camera.cached_path(clip, tools)
    return time.perf_counter() - began


def _one_after_another(clip: str, out: str, jobs: int, tools) -> list[float]:
    """Seconds of each of ``jobs`` segments rendered alone, one after the other: what each of
    ``jobs`` machines would spend on its segment."""
    from ffvfx.cli import main
    from ffvfx.scale import segments
    real = segments.run_local
    segments.run_local = lambda tasks, _jobs, kill: real(tasks, 1, kill)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            main.main(["trails", clip, out, f"--layers={LAYERS}", f"--spacing={SPACING}", "--no-audio",
                       "-y", "--jobs", str(jobs)], standalone_mode=False)
    finally:
        segments.run_local = real
    found = _TIMES.search(err.getvalue())
    return [float(found.group(3)), float(found.group(4))] if found else []


def _marginal(run, small: list, big: list, extra_frames: int) -> float:
    """Seconds per frame of ``run(paths)``, start-up cost removed: (t(big) - t(small)) / frames."""
    t = []
    for paths in (small, big):
        began = time.perf_counter()
        run(paths)
        t.append(time.perf_counter() - began)
    return max(t[1] - t[0], 0.0) / extra_frames


def _fourk(tools, cache: str, seconds: float, tmp: str) -> dict:
    """4K: one-pass trails cost per frame, and the per-frame cost of counting and of joining."""
    from bench.bench import demo_clip
    from ffvfx.scale.segments import Piece, Segment, count_frames, join
    clip = demo_clip("3840x2160", seconds, tools)
    frames = probe(clip, tools).frames
    _analysis(clip, cache, tools)
    print("bench scale: trails at 4K, one pass ...", file=sys.stderr, flush=True)
    out = f"{tmp}/trails-4k.mkv"
    run = _trails(clip, out, 1, cache)
    long_in = f"{tmp}/long-4k.mkv"  # the input ten times over, stream-copied
    subprocess.run([tools.ffmpeg, "-v", "error", "-y", "-stream_loop", "9", "-i", clip, "-c", "copy",
                    long_in], check=True)
    count_s = _marginal(lambda paths: count_frames(paths[0], tools.ffmpeg), [clip], [long_in], 9 * frames)
    # Joining costs per frame (one piece ten times as long) and per piece (ten pieces, same frames).
    folder = Path(tmp) / "join"
    folder.mkdir()
    fps = probe(clip, tools).fps
    pieces = []
    for i in range(10):
        piece = folder / f"segment{i:04d}.mkv"
        shutil.copyfile(out, piece)
        pieces.append(Piece(Segment(i, i * frames, frames, 0), piece, frames))
    long_piece = folder / "segment0100.mkv"
    subprocess.run([tools.ffmpeg, "-v", "error", "-y", "-stream_loop", "9", "-i", out, "-c", "copy",
                    str(long_piece)], check=True)
    one_long = [Piece(Segment(0, 0, 10 * frames, 0), long_piece, 10 * frames)]

    def joined(ps):
        join(ps, f"{tmp}/joined.mkv", [], tools.ffmpeg, fps, [])
    join_frame_s = _marginal(joined, pieces[:1], one_long, 9 * frames)
    join_piece_s = _marginal(joined, one_long, pieces, 9)
    return dict(frames=frames, wall=run.wall, peak=run.peak_mb, cpu=run.cpu,
                out_bytes=Path(out).stat().st_size, count_s=count_s, join_frame_s=join_frame_s,
                join_piece_s=join_piece_s)


def bench_scale(args: argparse.Namespace) -> int:
    from bench.bench import demo_clip, machine
    from bench.hw import psnr
    tools = toolchain.find()
    mach = machine(tools)
    clip = args.input or demo_clip(args.size, args.seconds, tools)
    info = probe(clip, tools)
    reach = LAYERS * SPACING
    rows = []
    with tempfile.TemporaryDirectory(prefix="ffvfx-bench-scale-") as tmp:
        cache = f"{tmp}/cache"
        analysis = _analysis(clip, cache, tools)
        for jobs in (1, *args.jobs):
            print(f"bench scale: trails --jobs {jobs} ...", file=sys.stderr, flush=True)
            out = f"{tmp}/trails-j{jobs}.mkv"
            best = min((_trails(clip, out, jobs, cache) for _ in range(args.repeat)), key=lambda r: r.wall)
            db = psnr(tools.ffmpeg, f"{tmp}/trails-j1.mkv", out) if jobs > 1 else None
            rows.append((jobs, best, db, _TIMES.search(best.stderr)))
        print("bench scale: --jobs 2, the segments one after the other ...", file=sys.stderr, flush=True)
        alone = _one_after_another(clip, f"{tmp}/serial.mkv", 2, tools)
        fourk = None if args.no_4k else _fourk(tools, cache, args.seconds_4k, tmp)
    one = rows[0][1].wall
    print(f"Machine: {mach['cpu']}, {mach['cores']} cores; ffmpeg {mach['ffmpeg']}")
    print(f"Clip: {clip} ({info.width}x{info.height}, {info.frames} frames at {float(info.fps):g} fps); "
          f"trails --layers={LAYERS} --spacing={SPACING} (reach {reach} frames), libx264 crf 18; "
          f"camera analysis {analysis:.1f} s, once, not in the times; best of {args.repeat}\n")
    print("| render | wall s | fps | speed-up | CPU used | peak MB | counting s | each segment s | "
          "joining s | PSNR vs one pass |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for jobs, run, db, times in rows:
        count, _, lo, hi, join = times.groups() if times else ("-",) * 5
        name = "one pass" if jobs == 1 else f"--jobs {jobs}"
        quality = "-" if db is None else ("identical" if db == float("inf") else f"{db:.1f} dB")
        print(f"| {name} | {run.wall:.1f} | {info.frames / run.wall:.1f} | {one / run.wall:.2f}x | "
              f"{run.cpu / run.wall:.0%} | {run.peak_mb:.0f} | {count} | "
              f"{lo if lo == hi else f'{lo}-{hi}'} | {join} | {quality} |")
    if alone:
        print(f"| --jobs 2, segments one after the other | | | | | | | {alone[0]:.2f}-{alone[1]:.2f} "
              f"| | |")
    if fourk:
        _projection(fourk, info, reach)
    return 0


def _projection(fourk: dict, info, reach: int) -> None:
    """What N machines like this one would take for a two-hour 4K file, from the measured costs."""
    fps = float(info.fps)
    frames = round(TWO_HOURS * fps)
    per_frame = fourk["wall"] / fourk["frames"]              # s per 4K frame, one pass, this box
    count_s = fourk["count_s"] * frames                      # demuxing the whole input once
    join_s = fourk["join_frame_s"] * frames                  # copying every output packet once
    out_gb = fourk["out_bytes"] / fourk["frames"] * frames / 1e9
    print(f"\nTwo hours of 4K at {fps:g} fps ({frames} frames) on N machines like this one. Measured "
          f"here: one 4K frame {per_frame:.2f} s in one pass ({fourk['frames'] / fourk['wall']:.2f} fps, "
          f"CPU {fourk['cpu'] / fourk['wall']:.0%}, peak {fourk['peak']:.0f} MB); counting "
          f"{fourk['count_s'] * 1e3:.3f} ms/frame (demux only); joining {fourk['join_frame_s'] * 1e3:.2f} "
          f"ms/frame plus {fourk['join_piece_s'] * 1e3:.0f} ms/piece (concat copy); output "
          f"~{out_gb:.0f} GB at crf 18 on the demo.")
    print(f"Fixed whatever N: counting {count_s:.0f} s and joining {join_s:.0f} s (+ the per-piece "
          f"cost) on the machine that joins; each segment adds {reach} frames of pre-roll "
          f"({reach * per_frame:.0f} s, an upper bound: pre-roll frames are decoded and filtered, "
          "not encoded). Moving the pieces to the "
          f"joining machine ({out_gb:.0f} GB) is not counted: about {out_gb * 8:.0f} s on 1 Gbit/s.\n")
    print("| machines | render h (slowest segment) | + fixed s | total h | speed-up | efficiency |")
    print("|---:|---:|---:|---:|---:|---:|")
    alone = frames * per_frame
    for n in MACHINES:
        render = (frames / n + (reach if n > 1 else 0)) * per_frame
        fixed = (count_s + join_s + n * fourk["join_piece_s"]) if n > 1 else 0.0
        total = render + fixed
        print(f"| {n} | {render / 3600:.2f} | {fixed:.0f} | {total / 3600:.2f} | {alone / total:.1f}x | "
              f"{alone / total / n:.0%} |")


def add_parser(sub) -> None:
    p = sub.add_parser("scale", help="trails --jobs 2 against one pass at 1080p; 2 h 4K projection")
    p.add_argument("--size", default="1920x1080", help="demo clip size (default 1920x1080)")
    p.add_argument("--seconds", type=float, default=10.0, help="demo clip length (default 10)")
    p.add_argument("--input", help="benchmark this file instead of the demo clip")
    p.add_argument("--jobs", type=int, nargs="+", default=[2, 4], help="--jobs values (default 2 4)")
    p.add_argument("--repeat", type=int, default=1, help="runs per row; the fastest counts")
    p.add_argument("--seconds-4k", type=float, default=2.0, help="4K demo length (default 2)")
    p.add_argument("--no-4k", action="store_true", help="skip the 4K measurement and projection")
