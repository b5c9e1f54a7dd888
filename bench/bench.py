"""Benchmarks: ``python -m bench motion|trails|loop|matte|hw|studio|scale|profile`` (or ``bin/bench ...``)
print markdown tables (``hw``, the GPU comparison, is :mod:`bench.hw`; ``studio`` is
:mod:`bench.studio`; ``profile``, the per-filter costs, :mod:`bench.profile`).

Rows, each run as its own process on the same 1080p clip (the demo scene, rendered once and cached
under ``$FFVFX_CACHE/bench`` or ``~/.cache/ffvfx/bench``; ``--input`` uses a file instead):

1. plain transcode: ffmpeg decode + the encoder ffvfx uses by default (``Encoding()``: libx264,
   crf 18, default preset) into an mp4;
2. ffvfx ``motion --delay=8 --bloom`` end to end, through the real CLI (Python start-up, probe and
   the progress pipe included), same encoder settings;
3. decode + effect: ffvfx's own argv (``render.command``) with ``-f null -`` instead of the encoder;
4. decode only (``-f null -``);
5. the single-``tmix`` form of the effect, written the way the motion-extraction blog does it
   (gbrp, tmix, multiply128, gblur + addition), decode + effect only;
6. a straightforward OpenCV/numpy loop doing gray mode + bloom (ring buffer of ``delay`` frames,
   ``cv2.GaussianBlur`` at full size, float maths) on frames from an ffmpeg rawvideo pipe, output
   discarded; it runs ``--cv-frames`` frames at most and its fps is over the frames it ran;
7. ffvfx end to end again on the clip looped 3 times (``-stream_loop 2 -c copy``): memory flatness.

Audio is left out everywhere (``--no-audio``, ``-an``). ffmpeg is the one ffvfx picks (``FFVFX_FFMPEG``,
then PATH, then imageio-ffmpeg). Each row runs ``--repeat`` times, round robin; the table shows the
fastest run's wall time and the highest peak RSS.

Wall time: from spawning the process to reaping it. fps: the clip's frame count / wall time.
Peak RSS of a process tree: the larger of (a) ``ru_maxrss`` from ``wait4`` on the child (exact: the
largest single process of the tree) and (b) the largest sum, over the processes of the tree alive at
one moment, of each one's ``VmHWM`` (its own peak RSS so far), sampled from ``/proc`` every 0.1 s: an
upper bound where processes running together peak at different times, exact for one process. Linux
only.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ffvfx.effects.motion import motion
from ffvfx.ffmpeg import cache, toolchain
from ffvfx.ffmpeg.probe import probe
from ffvfx.ffmpeg.render import Encoding, Job, command
from ffvfx.ffmpeg.sources import Source

DELAY = 8
SIGMA = 8.0          # ffvfx's default --bloom-sigma
LONG_FACTOR = 3      # the memory-flatness clip is this many times the clip
SPEED_TARGET = 0.90  # end to end / plain transcode
FILTER_TARGET_MS = 3.0  # decode + effect minus decode alone, ms per frame
CV_TARGET = 4.0      # decode + effect / OpenCV loop
RSS_TARGET = 1.5     # end to end / plain transcode
LOOP_REALTIME_TARGET = 2.0  # loop analysis: clip duration / analysis wall time
FLAT_TARGET = 1.10   # peak RSS on the long clip / on the clip


# -- measuring one process ---------------------------------------------------------------------------

@dataclass
class Run:
    wall: float
    peak_mb: float
    stdout: str
    stderr: str = ""
    cpu: float = 0.0    # user + system seconds of the process tree


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(name))
    return kids


def _hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_cpu(usage) -> float:
    """CPU seconds of a waited-for process and the children it waited for."""
    return usage.ru_utime + usage.ru_stime


def measure(argv: list[str], interval: float = 0.1) -> Run:
    """Run ``argv`` to the end; wall time and peak RSS of its process tree. Raises on failure."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        # Own process group, so that an interrupted run takes its whole tree down with it.
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        tree_kb = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(interval):
                kids, todo, total = _children(), [proc.pid], 0
                while todo:
                    pid = todo.pop()
                    total += _hwm_kb(pid)
                    todo += kids.get(pid, [])
                tree_kb[0] = max(tree_kb[0], total)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
            raise
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            tail = err.read().decode(errors="replace").strip()[-1500:]
            raise RuntimeError(f"exit {proc.returncode}: {' '.join(argv)}\n{tail}")
        peak_kb = max(usage.ru_maxrss, tree_kb[0])
        return Run(wall, peak_kb / 1024, out.read().decode(errors="replace"),
                   err.read().decode(errors="replace"), _tree_cpu(usage))


# -- the rows ------------------------------------------------------------------------------------------

@dataclass
class Row:
    key: str
    name: str
    argv: list[str]
    frames: int | None          # None: the process prints "frames N" on stdout
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return min(r.wall for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_mb for r in self.runs)

    @property
    def done_frames(self) -> int:
        if self.frames is not None:
            return self.frames
        best = min(self.runs, key=lambda r: r.wall)
        return int(best.stdout.split("frames", 1)[1].split()[0])

    @property
    def fps(self) -> float:
        return self.done_frames / self.wall


def _ffmpeg_head(ffmpeg: str, path: str) -> list[str]:
    return [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", path]


def effect():
    return functools.partial(motion, delay=DELAY, bloom=1.0, bloom_sigma=SIGMA)


def ffvfx_null_argv(path: str, tools: toolchain.Toolchain) -> tuple[list[str], str]:
    """ffvfx's render argv for ``path`` with the encoder and output swapped for ``-f null -``."""
    job = Job(Source(path), "unused.mp4", effect(), Encoding(), audio=False, quiet=True)
    argv, graph = command(job, tools, probe(path, tools), "unused.mp4")
    return argv[:argv.index("-c:v")] + tools.passthrough_timing() + ["-f", "null", "-"], graph.line()


def tmix_graph(delay: int = DELAY, sigma: float = SIGMA) -> str:
    """The blog's single-``tmix`` form at ``delay``, its bloom from the same tmix, yuv420p out."""
    weights = " ".join(["-1"] + ["0"] * (delay - 1) + ["1"])
    return (f"[0:v]format=gbrp,split[v1][v2];"
            f"[v1]tmix=frames={delay + 1}:weights='{weights}':scale=2,split[ov1][ov2];"
            f"[v2][ov1]blend=all_mode=multiply128[motion];"
            f"[ov2]gblur=sigma={sigma:g}:steps=6[glow];"
            f"[motion][glow]blend=all_mode=addition,format=yuv420p[out]")


def cli_argv(path: str, out: str) -> list[str]:
    return [sys.executable, "-c", "from ffvfx.cli import entry; entry()", "motion", path, out,
            f"--delay={DELAY}", "--bloom", "--no-audio", "-q", "-y"]


def build_rows(clip: str, long_clip: str, tmp: str, tools: toolchain.Toolchain,
               cv_frames: int) -> tuple[list[Row], dict[str, str]]:
    ff = tools.ffmpeg
    frames = probe(clip, tools).frames
    long_frames = probe(long_clip, tools).frames
    null_argv, ffvfx_graph = ffvfx_null_argv(clip, tools)
    null_out = tools.passthrough_timing() + ["-f", "null", "-"]
    source_raw, effect_raw = raw_pair(clip, null_argv, tmp, tools)
    rows = [
        plain_row(clip, tmp, tools, frames),
        Row("x264-source", "x264 alone on the source (decoded beforehand, raw in)",
            encode_argv(source_raw, f"{tmp}/enc-source.mp4", tools), frames),
        Row("x264-effect", "x264 alone on ffvfx's finished picture (raw in)",
            encode_argv(effect_raw, f"{tmp}/enc-effect.mp4", tools), frames),
        Row("ffvfx", f"ffvfx motion --delay={DELAY} --bloom, end to end",
            cli_argv(clip, f"{tmp}/ffvfx.mp4"), frames),
        Row("effect", "ffvfx decode + effect (-f null)", null_argv, frames),
        Row("decode", "decode only (-f null)", _ffmpeg_head(ff, clip) + ["-map", "0:v:0"] + null_out,
            frames),
        Row("tmix", "single tmix form, decode + effect (-f null)",
            _ffmpeg_head(ff, clip) + ["-filter_complex", tmix_graph(), "-map", "[out]"] + null_out,
            frames),
        Row("opencv", f"OpenCV/numpy loop, decode + effect (<= {cv_frames} frames)",
            [sys.executable, "-m", "bench", "cvloop", clip, "--frames", str(cv_frames),
             "--ffmpeg", ff], None),
        Row("long", f"ffvfx end to end, clip x{LONG_FACTOR} ({long_frames} frames)",
            cli_argv(long_clip, f"{tmp}/ffvfx-long.mp4"), long_frames),
    ]
    return rows, {"ffvfx": ffvfx_graph, "tmix": tmix_graph()}


def raw_pair(clip: str, effect_null_argv: list[str], tmp: str, tools: toolchain.Toolchain) -> tuple[str, str]:
    """The clip decoded, and ffvfx's picture of it, as raw yuv420p files (the encoder-alone rows)."""
    source, effect_out = f"{tmp}/source.raw.nut", f"{tmp}/effect.raw.nut"
    raw = ["-c:v", "rawvideo", "-pix_fmt", "yuv420p", "-f", "nut"]
    subprocess.run(_ffmpeg_head(tools.ffmpeg, clip) + ["-map", "0:v:0"] + raw + [source], check=True)
    head = effect_null_argv[:effect_null_argv.index("-f")]
    subprocess.run(head + raw + ["-y", effect_out], check=True)
    return source, effect_out


def encode_argv(raw: str, out: str, tools: toolchain.Toolchain) -> list[str]:
    """x264 (ffvfx's default ``Encoding()``) on an uncompressed file: the encoder's own cost."""
    return _ffmpeg_head(tools.ffmpeg, raw) + ["-map", "0:v:0"] + Encoding().args() + [out]


def judge(rows: dict[str, Row]) -> dict[str, tuple[str, str, bool | None]]:
    """Per row key: (ratio text, target text, passed or None)."""
    plain, ffvfx, effect_row = rows["plain"], rows["ffvfx"], rows["effect"]
    ceiling = rows["x264-source"].wall / rows["x264-effect"].wall
    filter_ms = 1000 / effect_row.fps - 1000 / rows["decode"].fps
    speed = ffvfx.fps / plain.fps
    rss = ffvfx.peak_mb / plain.peak_mb
    vs_cv = effect_row.fps / rows["opencv"].fps
    flat = rows["long"].peak_mb / ffvfx.peak_mb
    return {
        "plain": ("1.00x", "baseline", None),
        "x264-source": ("reference", "", None),
        "x264-effect": (f"{ceiling:.2f}x the source's speed: the end-to-end ceiling", "", None),
        "ffvfx": (f"{speed:.2f}x speed, {rss:.2f}x RSS of plain",
                  f">= {SPEED_TARGET}x speed, <= {RSS_TARGET}x RSS",
                  speed >= SPEED_TARGET and rss <= RSS_TARGET),
        "effect": (f"{vs_cv:.1f}x OpenCV loop", f">= {CV_TARGET:g}x OpenCV loop", vs_cv >= CV_TARGET),
        "decode": (f"effect adds {filter_ms:.1f} ms/frame", f"<= {FILTER_TARGET_MS:g} ms/frame",
                   filter_ms <= FILTER_TARGET_MS),
        "tmix": (f"ffvfx {effect_row.fps / rows['tmix'].fps:.1f}x faster", "reference", None),
        "opencv": (f"ffvfx {vs_cv:.1f}x faster", "see decode + effect", None),
        "long": (f"{flat:.2f}x RSS of the clip", f"<= {FLAT_TARGET}x (flat)", flat <= FLAT_TARGET),
    }


# -- inputs and machine ----------------------------------------------------------------------------------

def cache_root() -> Path:
    return cache.root() / "bench"


def demo_clip(size: str, seconds: float, tools: toolchain.Toolchain) -> str:
    from ffvfx.stages import demo
    w, h = (int(x) for x in size.lower().split("x"))
    spec = demo.DemoSpec(width=w, height=h, fps=30, seconds=seconds)
    print(f"bench: demo clip {w}x{h} {seconds:g} s (rendered once, then cached) ...", file=sys.stderr)
    return str(demo.demo_path(cache_root(), spec=spec, ffmpeg=tools.ffmpeg))


def loop_clip(clip: str, out: str, tools: toolchain.Toolchain) -> str:
    subprocess.run([tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-stream_loop", str(LONG_FACTOR - 1), "-i", clip, "-map", "0:v:0", "-c", "copy", out],
                   check=True)
    return out


def machine(tools: toolchain.Toolchain) -> dict[str, object]:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import cv2
    import numpy
    return {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "ffmpeg": tools.version,
            "ffmpeg_path": tools.ffmpeg, "python": platform.python_version(),
            "opencv": cv2.__version__, "numpy": numpy.__version__, "kernel": platform.release()}


# -- the OpenCV/numpy loop (runs in its own process: python -m bench cvloop) ------------------------

def cv_loop(path: str, max_frames: int, ffmpeg: str, delay: int = DELAY, sigma: float = SIGMA) -> int:
    """Gray mode + bloom, the way one writes it in numpy: ``0.5c + 0.5(255 - p) + gblur(|c - p|)``."""
    import cv2
    import numpy as np

    info = probe(path, toolchain.find())
    w, h = info.width, info.height
    proc = subprocess.Popen([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path,
                             "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "bgr24", "-"],
                            stdout=subprocess.PIPE, bufsize=w * h * 3)
    assert proc.stdout is not None
    ring: deque = deque(maxlen=delay)     # the last `delay` frames; ring[0] is `delay` frames ago
    n = 0
    try:
        while n < max_frames:
            buf = proc.stdout.read(w * h * 3)
            if len(buf) < w * h * 3:
                break
            c = np.frombuffer(buf, np.uint8).reshape(h, w, 3)
            if not ring:
                ring.extend([c] * delay)  # first frames: compare with frame 0
            p = ring[0]
            gray = 0.5 * c.astype(np.float32) + 0.5 * (255.0 - p.astype(np.float32))
            glow = cv2.GaussianBlur(cv2.absdiff(c, p), (0, 0), sigma)
            out = np.clip(gray + glow, 0, 255).astype(np.uint8)
            del out                       # discarded: decode + effect only
            ring.append(c)
            n += 1
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()
    return n


# -- report --------------------------------------------------------------------------------------------

def table(rows: list[Row], verdicts: dict[str, tuple[str, str, bool | None]]) -> str:
    lines = ["| row | frames | fps | wall s | peak RSS MB | ratio | target | result |",
             "|---|---:|---:|---:|---:|---|---|---|"]
    for row in rows:
        ratio, target, ok = verdicts[row.key]
        result = "" if ok is None else "pass" if ok else "FAIL"
        lines.append(f"| {row.name} | {row.done_frames} | {row.fps:.1f} | {row.wall:.2f} | "
                     f"{row.peak_mb:.0f} | {ratio} | {target} | {result} |")
    return "\n".join(lines)


def _subject(args: argparse.Namespace) -> tuple[toolchain.Toolchain, str, object, dict[str, object]]:
    """The toolchain, the clip (``--input`` or the cached demo), its probe, and the machine."""
    tools = toolchain.find()
    clip = args.input or demo_clip(args.size, args.seconds, tools)
    return tools, clip, probe(clip, tools), machine(tools)


def plain_row(clip: str, tmp: str, tools: toolchain.Toolchain, frames: int | None) -> Row:
    """The baseline: decode + the encoder ffvfx uses by default (``Encoding()``) into an mp4."""
    enc = Encoding()
    return Row("plain", f"plain transcode ({' '.join(enc.args()[1:])})",
               _ffmpeg_head(tools.ffmpeg, clip) + ["-map", "0:v:0", "-an"] + enc.args()
               + ["-pix_fmt", "yuv420p"] + tools.passthrough_timing() + [f"{tmp}/plain.mp4"], frames)


def run_rows(rows: list[Row], repeat: int) -> None:
    """Each row ``repeat`` times, round robin (so a slow moment of the machine hits every row)."""
    for r in range(repeat):
        for row in rows:
            print(f"bench: [{r + 1}/{repeat}] {row.name} ...", file=sys.stderr, flush=True)
            row.runs.append(measure(row.argv))


def bench_motion(args: argparse.Namespace) -> int:
    tools, clip, info, mach = _subject(args)
    with tempfile.TemporaryDirectory(prefix="ffvfx-bench-") as tmp:
        long_clip = loop_clip(clip, f"{tmp}/long.mp4", tools)
        rows, graphs = build_rows(clip, long_clip, tmp, tools, args.cv_frames)
        run_rows(rows, args.repeat)
    verdicts = judge({row.key: row for row in rows})

    print(f"Machine: {mach['cpu']}, {mach['cores']} cores; ffmpeg {mach['ffmpeg']} ({mach['ffmpeg_path']}); "
          f"Python {mach['python']}, OpenCV {mach['opencv']}, numpy {mach['numpy']}; Linux {mach['kernel']}")
    print(f"Clip: {clip} ({info.width}x{info.height}, {info.frames} frames at {float(info.fps):g} fps, "
          f"{info.pix_fmt}); best of {args.repeat} run(s)\n")
    print(table(rows, verdicts))
    print(f"\nffvfx graph:  {graphs['ffvfx']}\ntmix graph:   {graphs['tmix']}")
    print("Peak RSS: max(wait4 ru_maxrss, largest sum of VmHWM over the live process tree, sampled "
          "every 0.1 s); "
          "the end-to-end rows include the ffvfx Python process.")
    if args.json:
        data = {"machine": mach, "clip": clip, "repeat": args.repeat, "graphs": graphs,
                "rows": [{"key": row.key, "name": row.name, "argv": row.argv, "frames": row.done_frames,
                          "fps": row.fps, "wall_s": row.wall, "peak_rss_mb": row.peak_mb,
                          "ratio": verdicts[row.key][0], "target": verdicts[row.key][1],
                          "passed": verdicts[row.key][2],
                          "runs": [asdict(x) | {"stdout": None, "stderr": None} for x in row.runs]}
                         for row in rows]}
        Path(args.json).write_text(json.dumps(data, indent=1) + "\n")
    return 0 if all(v[2] is not False for v in verdicts.values()) else 1


# -- trails ---------------------------------------------------------------------------------------------

LAYERS, SPACING = 6, 5
TRAILS_SPEED_TARGET = 0.75  # end to end / plain transcode
TRAILS_FILTER_TARGET_MS = 5.0  # decode + trails minus decode alone, ms per frame
TMIX_TARGET = 7.0           # decode + effect / the one-tmix form
ANALYSIS_TARGET = 0.25      # camera analysis / end-to-end wall time


def trails_tmix_graph(layers: int = LAYERS, spacing: int = SPACING, decay: float = 0.7) -> str:
    """The one wide sparse ``tmix`` a straightforward graph would use for the same echoes."""
    span = layers * spacing + 1
    weights = ["0"] * span
    for k in range(layers + 1):
        weights[span - 1 - k * spacing] = f"{decay ** k:.6g}"
    total = sum(decay ** k for k in range(layers + 1))
    return f"[0:v]tmix=frames={span}:weights='{' '.join(weights)}':scale={1 / total:.6g},format=yuv420p[out]"


def bench_trails(args: argparse.Namespace) -> int:
    """``trails --layers=6 --spacing=5`` (camera compensation on) against a plain transcode."""
    from ffvfx.effects.register import echo_register
    from ffvfx.effects.trails import trails
    from ffvfx.stages.analysis import camera

    tools, clip, info, mach = _subject(args)
    ff = tools.ffmpeg
    null_out = tools.passthrough_timing() + ["-f", "null", "-"]
    with tempfile.TemporaryDirectory(prefix="ffvfx-bench-") as tmp:
        long_clip = loop_clip(clip, f"{tmp}/long.mp4", tools)
        path = camera.measure_path(clip, tools)
        register = echo_register(path, SPACING, LAYERS)
        job = Job(Source(clip), "unused.mp4",
                  functools.partial(trails, layers=LAYERS, spacing=SPACING, register=register),
                  Encoding(), audio=False, quiet=True)
        argv, graph = command(job, tools, info, "unused.mp4")
        script = Path(tmp) / "trails.txt"
        script.write_text(graph.script())
        effect_argv = argv[:argv.index("-filter_complex")] + [tools.script_option(), str(script)]
        effect_argv = effect_argv + ["-map", "[out]"] + null_out

        def cli(src: str, out: str) -> list[str]:
            # A fresh cache every run, so the camera analysis is part of the time.
            return ["sh", "-c", 'd=$(mktemp -d); FFVFX_CACHE="$d" "$@"; s=$?; rm -rf "$d"; exit $s',
                    "sh", sys.executable, "-c", "from ffvfx.cli import entry; entry()", "trails", src,
                    out, f"--layers={LAYERS}", f"--spacing={SPACING}", "--no-audio", "-q", "-y"]

        analysis = [sys.executable, "-c", "import sys; from ffvfx.ffmpeg import toolchain; "
                    "from ffvfx.stages.analysis.camera import measure_path; "
                    "measure_path(sys.argv[1], toolchain.find())", clip]
        frames = info.frames
        rows = [
            plain_row(clip, tmp, tools, frames),
            Row("ffvfx", f"ffvfx trails --layers={LAYERS} --spacing={SPACING}, end to end "
                "(camera analysis included)", cli(clip, f"{tmp}/trails.mp4"), frames),
            Row("analysis", "camera analysis alone (960 px gray, phase correlation + fit)", analysis,
                frames),
            Row("effect", "ffvfx decode + trails with compensation (-f null)", effect_argv, frames),
            Row("decode", "decode only (-f null)", _ffmpeg_head(ff, clip) + ["-map", "0:v:0"] + null_out,
                frames),
            Row("tmix", "one sparse tmix, no compensation (-f null)",
                _ffmpeg_head(ff, clip) + ["-filter_complex", trails_tmix_graph(), "-map", "[out]"]
                + null_out, frames),
            Row("long", f"ffvfx end to end, clip x{LONG_FACTOR}", cli(long_clip, f"{tmp}/trails-long.mp4"),
                probe(long_clip, tools).frames),
        ]
        run_rows(rows, args.repeat)
    by = {row.key: row for row in rows}
    speed = by["ffvfx"].fps / by["plain"].fps
    vs_tmix = by["effect"].fps / by["tmix"].fps
    share = by["analysis"].wall / by["ffvfx"].wall
    flat = by["long"].peak_mb / by["ffvfx"].peak_mb
    filter_ms = 1000 / by["effect"].fps - 1000 / by["decode"].fps
    verdicts = {
        "decode": (f"trails add {filter_ms:.1f} ms/frame", f"<= {TRAILS_FILTER_TARGET_MS:g} ms/frame",
                   filter_ms <= TRAILS_FILTER_TARGET_MS),
        "plain": ("1.00x", "baseline", None),
        "ffvfx": (f"{speed:.2f}x speed of plain", f">= {TRAILS_SPEED_TARGET}x", speed >= TRAILS_SPEED_TARGET),
        "analysis": (f"{share:.0%} of end to end", f"<= {ANALYSIS_TARGET:.0%}", share <= ANALYSIS_TARGET),
        "effect": (f"{vs_tmix:.1f}x the tmix form", f">= {TMIX_TARGET:g}x", vs_tmix >= TMIX_TARGET),
        "tmix": ("reference", "", None),
        "long": (f"{flat:.2f}x RSS of the clip", f"<= {FLAT_TARGET}x (flat)", flat <= FLAT_TARGET),
    }
    print(f"Machine: {mach['cpu']}, {mach['cores']} cores; ffmpeg {mach['ffmpeg']}; "
          f"Python {mach['python']}, OpenCV {mach['opencv']}")
    print(f"Clip: {clip} ({info.width}x{info.height}, {info.frames} frames at {float(info.fps):g} fps); "
          f"best of {args.repeat} run(s)\n")
    print(table(rows, verdicts))
    print(f"\ntmix graph: {trails_tmix_graph()}")
    return 0 if all(v[2] is not False for v in verdicts.values()) else 1


def bench_loop(args: argparse.Namespace) -> int:
    """``loop`` analysis (decode at 128 px gray, hashes, candidate search) against a plain decode."""
    tools, clip, info, mach = _subject(args)
    frames = info.frames
    analysis = [sys.executable, "-c", "import sys; from ffvfx.ffmpeg import toolchain; "
                "from ffvfx.stages.analysis import loops; f = loops.analyse(sys.argv[1], toolchain.find()); "
                "loops.find_loops(f, min_length=round(f.fps), max_length=round(6 * f.fps))", clip]
    rows = [
        Row("decode", "plain decode (ffmpeg -i IN -f null -)",
            _ffmpeg_head(tools.ffmpeg, clip) + ["-f", "null", "-"], frames),
        Row("analysis", "loop analysis: 128 px gray decode + phash + search (1 s .. 6 s)", analysis,
            frames),
    ]
    run_rows(rows, args.repeat)
    by = {row.key: row for row in rows}
    ratio = by["analysis"].fps / by["decode"].fps
    duration = frames / float(info.fps)
    realtime = duration / by["analysis"].wall
    verdicts = {
        "decode": ("1.00x", "baseline", None),
        "analysis": (f"{ratio:.2f}x decode fps; {realtime:.1f}x real time",
                     f">= {LOOP_REALTIME_TARGET:g}x real time", realtime >= LOOP_REALTIME_TARGET),
    }
    print(f"Machine: {mach['cpu']}, {mach['cores']} cores; ffmpeg {mach['ffmpeg']}; "
          f"Python {mach['python']}, OpenCV {mach['opencv']}")
    print(f"Clip: {clip} ({info.width}x{info.height}, {frames} frames at {float(info.fps):g} fps); "
          f"best of {args.repeat} run(s)\n")
    print(table(rows, verdicts))
    return 0 if all(v[2] is not False for v in verdicts.values()) else 1


MATTE_MODELS = ("difference", "chroma", "selfie", "rvm")


def bench_matte(args: argparse.Namespace) -> int:
    """``ffvfx matte`` per model on a static demo clip (ms/frame), and the difference matte on a
    clip ``--long`` seconds long: peak RSS must stay flat (streaming, no whole-clip buffers)."""
    import importlib.util

    import cv2

    from ffvfx.stages import demo
    tools = toolchain.find()
    w, h = (int(x) for x in args.size.lower().split("x"))
    mach = machine(tools)
    specs = {"clip": demo.DemoSpec(width=w, height=h, fps=30, seconds=args.seconds, pan=(0, 0)),
             "long": demo.DemoSpec(width=w, height=h, fps=30, seconds=args.long, pan=(0, 0))}
    print("bench: static demo clips (rendered once, then cached) ...", file=sys.stderr)
    clips = {k: str(demo.demo_path(cache_root(), spec=s, ffmpeg=tools.ffmpeg)) for k, s in specs.items()}
    tmp = tempfile.mkdtemp(prefix="ffvfx-bench-")
    plate = f"{tmp}/plate.png"
    cv2.imwrite(plate, cv2.cvtColor(demo.background_plate(specs["clip"], 0), cv2.COLOR_RGB2BGR))
    ffvfx = [sys.executable, "-c", "import sys; from ffvfx.cli import entry; sys.argv[0] = 'ffvfx'; entry()"]
    needs = {"selfie": "mediapipe", "rvm": "onnxruntime"}

    def matte(key: str, model: str) -> list[str]:
        return ffvfx + ["matte", clips[key], "-o", f"{tmp}/{model}-{key}", "--model", model,
                        "--plate", plate, "-y", "-q"]
    frames = {k: s.frames for k, s in specs.items()}
    rows = [Row("decode", "plain decode (ffmpeg -i IN -f rawvideo rgb24 -> null)",
                _ffmpeg_head(tools.ffmpeg, clips["clip"]) + ["-pix_fmt", "rgb24", "-f", "null", "-"],
                frames["clip"])]
    for model in MATTE_MODELS:
        if model in needs and importlib.util.find_spec(needs[model]) is None:
            print(f"bench: {model}: {needs[model]} not installed, row left out", file=sys.stderr)
            continue
        rows.append(Row(model, f"ffvfx matte --model {model}, end to end", matte("clip", model),
                        frames["clip"]))
    rows.append(Row("long", f"ffvfx matte --model difference, {args.long:g} s clip", matte("long",
                    "difference"), frames["long"]))
    run_rows(rows, args.repeat)
    by = {row.key: row for row in rows}
    flat = by["long"].peak_mb / by["difference"].peak_mb
    verdicts = {row.key: (f"{1000 * row.wall / row.done_frames:.1f} ms/frame", "", None) for row in rows}
    verdicts["decode"] = ("baseline", "", None)
    verdicts["long"] = (f"{flat:.2f}x RSS of the {args.seconds:g} s clip", f"<= {FLAT_TARGET:.2f}x (flat)",
                        flat <= FLAT_TARGET)
    print(f"Machine: {mach['cpu']}, {mach['cores']} cores; ffmpeg {mach['ffmpeg']}; "
          f"Python {mach['python']}, OpenCV {mach['opencv']}")
    print(f"Clips: static demo {w}x{h} at 30 fps, {args.seconds:g} s and {args.long:g} s; "
          f"best of {args.repeat} run(s)\n")
    print(table(rows, verdicts))
    return 0 if all(v[2] is not False for v in verdicts.values()) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description="ffvfx benchmarks (not tests).")
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("motion", help=f"motion --delay={DELAY} --bloom against a plain transcode, "
                                      "tmix and an OpenCV loop")
    m.add_argument("--seconds", type=float, default=10.0,
                   help="demo clip length (default 10; not with --input)")
    m.add_argument("--size", default="1920x1080", help="demo clip size (default 1920x1080; not with --input)")
    m.add_argument("--input", help="benchmark this file instead of the demo clip")
    m.add_argument("--repeat", type=int, default=1, help="runs per row; the fastest counts (default 1)")
    m.add_argument("--cv-frames", type=int, default=150, help="frames for the OpenCV loop (default 150)")
    m.add_argument("--json", help="also write the results to this file")
    t = sub.add_parser("trails", help=f"trails --layers={LAYERS} --spacing={SPACING} (compensated) "
                                      "against a plain transcode and one tmix")
    for a in ("--seconds", "--size", "--input", "--repeat"):
        t._add_action(next(x for x in m._actions if a in x.option_strings))
    lp = sub.add_parser("loop", help="loop analysis frames/s against a plain decode (1080p, 60 s)")
    for a in ("--size", "--input", "--repeat"):
        lp._add_action(next(x for x in m._actions if a in x.option_strings))
    lp.add_argument("--seconds", type=float, default=60.0,
                    help="demo clip length (default 60; not with --input)")
    mt = sub.add_parser("matte", help="ffvfx matte per model, and flat memory on a long clip")
    for a in ("--repeat",):
        mt._add_action(next(x for x in m._actions if a in x.option_strings))
    mt.add_argument("--size", default="960x540", help="demo clip size (default 960x540)")
    mt.add_argument("--seconds", type=float, default=10.0, help="clip length (default 10)")
    mt.add_argument("--long", type=float, default=120.0, help="long clip length (default 120)")
    from bench import hw as bench_hw
    from bench import profile as bench_profile
    from bench import scale as bench_scale
    from bench import studio as bench_studio
    bench_hw.add_parser(sub)
    bench_studio.add_parser(sub)
    bench_scale.add_parser(sub)
    bench_profile.add_parser(sub)
    cv = sub.add_parser("cvloop", help="internal: the OpenCV/numpy loop; prints 'frames N'")
    cv.add_argument("input")
    cv.add_argument("--frames", type=int, default=150)
    cv.add_argument("--ffmpeg", default="ffmpeg")
    args = parser.parse_args(argv)
    # A kill (timeout, CI) unwinds like Ctrl-C: the running row's process group is killed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.command == "cvloop":
        print(f"frames {cv_loop(args.input, args.frames, args.ffmpeg)}")
        return 0
    if args.command == "loop":
        return bench_loop(args)
    if args.command == "matte":
        return bench_matte(args)
    if args.command == "hw":
        return bench_hw.bench_hw(args)
    if args.command == "studio":
        return bench_studio.bench_studio(args)
    if args.command == "profile":
        return bench_profile.bench_profile(args, demo_clip, cache_root())
    if args.command == "scale":
        return bench_scale.bench_scale(args)
    return bench_trails(args) if args.command == "trails" else bench_motion(args)


if __name__ == "__main__":
    sys.exit(main())
