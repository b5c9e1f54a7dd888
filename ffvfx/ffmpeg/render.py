"""Running a graph through ffmpeg: argv, progress, and an output that is all or nothing.

The output is written under a temporary name beside the target and renamed only when ffmpeg
succeeded and produced frames; on failure or Ctrl-C ffmpeg is stopped and the temporary file
removed. The input is never touched and an existing output is kept unless ``overwrite``, also
one that appeared while ffmpeg ran (:mod:`ffvfx.ffmpeg.atomic`); ffmpeg dies with ffvfx
(:mod:`ffvfx.ffmpeg.children`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ffvfx.compiler import memory, timeline
from ffvfx.compiler.escape import input_args, media_path
from ffvfx.compiler.graph import Filter, Graph, Input, Stream
from ffvfx.compiler.numbers import seconds
from ffvfx.compiler.windows import Segment
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import children
from ffvfx.ffmpeg.atomic import atomic_path
from ffvfx.ffmpeg.encoders import family, quality_args
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.probe import VideoInfo, frame_range, probe
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.sources import Source
from ffvfx.ffmpeg.targets import CPU, Plan, Target
from ffvfx.ffmpeg.targets import probe as hw_probe
from ffvfx.ffmpeg.targets.lower import lower
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.ffmpeg.watchdog import Lines, Stalled, Watchdog

Effect = Callable[[Stream], Stream]

# Audio codecs MP4/MOV carry as they are; others are re-encoded to AAC there.
_MP4_AUDIO = {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"}
_WEBM_AUDIO = {"opus", "vorbis"}
CONTAINERS = (".mp4", ".m4v", ".mov", ".mkv", ".webm")
"""Output extensions a video render takes: what :func:`audio_args` knows how to fill."""
# Graph text longer than this goes to a script file rather than argv.
_SCRIPT_THRESHOLD = 4000


@dataclass
class Encoding:
    """Video encoder and quality: ``crf`` (constant quality) or ``qp`` (constant quantiser); how
    each encoder takes them is :mod:`ffvfx.ffmpeg.encoders`.

    ``encoder=None`` picks by container and target: VP9 for ``.webm``, H.264 otherwise, from the
    target's own encoders (``h264_nvenc`` for CUDA) where it has them, else libx264/libvpx-vp9.
    """

    encoder: str | None = None
    crf: float | None = None
    qp: int | None = None
    preset: str | None = None

    def resolved(self, output: str, target: Target = CPU) -> str:
        if self.encoder:
            return self.encoder
        webm = Path(output).suffix.lower() == ".webm"
        return target.encoder_for("vp9" if webm else "h264") or ("libvpx-vp9" if webm else "libx264")

    def args(self, output: str = "out.mp4", encoder: str | None = None,
             presets: tuple[str, ...] = ()) -> list[str]:
        """``-c:v`` and the quality options for ``encoder`` (default: :meth:`resolved`)."""
        return quality_args(encoder or self.resolved(output), self.crf, self.qp, self.preset, presets)


@dataclass
class Job:
    """One render: ``effect`` applied to the video of ``source``, written to ``output``."""

    source: Source
    output: str
    effect: Effect
    encoding: Encoding = field(default_factory=Encoding)
    start: float | None = None      # seconds into the input
    duration: float | None = None   # seconds
    audio: bool = True
    overwrite: bool = False
    quiet: bool = False
    hw: str = "cpu"                 # --hw: cpu, auto, cuda[:N], vaapi[:NODE], qsv[:NODE]
    jobs: int = 1                   # --jobs: segments rendered side by side (ffvfx.scale.segments)
    ray: str | None = None          # --ray: a Ray cluster's address for the segments
    max_memory: float | None = None  # --max-memory: GiB the graph may hold (ffvfx.compiler.memory.limit)


def printable_graph(effect: Effect, plan: Plan | None = None, info: VideoInfo | None = None) -> Graph:
    """The effect on an anonymous input: text that works as ``-vf``, ``-filter_complex``, ffplay.

    Side files the effect reads come in as ``movie=`` sources, so one input is all it needs. The
    main input is named first: an effect whose first filter reads a side file (``overlay`` of a
    background and the subject) would otherwise make that file the graph's first input. With a
    device ``plan`` the text expects device frames in and gives device frames out. With the
    input's ``info`` the frames are put on its probed rate and even size, written out in the text
    (a variable-rate file previews at its real pace); without, on the stream's own rate.
    """
    main = Input(rate=info.fps, size=(info.width, info.height)) if info else Input()
    out = effect(timeline.regular(main.video) if info else main.video)
    return Graph(lower(out, main, plan) if plan else out, [main], movies=True)


def plan_for(job: Job, tools: Toolchain, info: VideoInfo | None, probe: bool = True) -> Plan:
    """Where ``job`` runs (``job.hw``); the plan's notes are for stderr."""
    return hw_probe.plan(job.hw, tools, info=info, camera=bool(job.source and job.source.device),
                         probe=probe, encoder_for=lambda target: job.encoding.resolved(job.output, target))


def _conform(stream: Stream) -> Stream:
    """8-bit yuv420p, which every H.264 player takes (odd sizes were padded to even on the way in:
    :func:`ffvfx.compiler.timeline.regular`)."""
    if isinstance(stream.node, Filter) and stream.node.name == "format" \
            and stream.node.args == ["yuv420p"]:
        return stream  # the effect already ends in yuv420p
    return stream.filter("format", "yuv420p", label="out")


def input_notes(info: VideoInfo | None) -> list[str]:
    """What the render changes about this input and why, one line each (said on stderr)."""
    if info is None:
        return []
    notes = []
    w, h = info.width, info.height
    if w % 2 or h % 2:
        notes.append(f"odd size {w}x{h}: padded to {w + w % 2}x{h + h % 2} "
                     "by repeating the last column/row")
    if info.bit_depth > 8:
        notes.append(f"{info.bit_depth}-bit input ({info.pix_fmt}): output is 8-bit yuv420p")
    if info.rotation:
        notes.append(f"rotated input: rendered upright ({info.rotation} degrees applied)")
    if info.variable_rate:
        span = info.times[-1] - info.times[0] if info.times else 0.0
        notes.append(f"variable frame rate input: re-timed to a constant {float(info.fps):.3f} fps "
                     f"({info.frames} frames over {span:.3f} s), every frame kept, audio in sync")
    return notes


def audio_args(info: VideoInfo | None, job: Job, index: int = 0) -> list[str]:
    """Map and codec of the input's first audio track (input ``index``), copied where the output
    container takes it; nothing when the job drops audio or there is none."""
    if not job.audio or info is None or info.audio_codec is None:
        return []
    ext = Path(job.output).suffix.lower()
    codec = info.audio_codec
    track = ["-map", f"{index}:a:0"]
    if ext in (".mp4", ".m4v", ".mov") and codec not in _MP4_AUDIO:
        return track + ["-c:a", "aac", "-b:a", "192k"]
    if ext == ".webm" and codec not in _WEBM_AUDIO:
        return track + ["-c:a", "libopus", "-b:a", "160k"]
    return track + ["-c:a", "copy"]


def range_args(job: Job, info: VideoInfo | None) -> list[str]:
    """``-ss``/``-t`` of the job's time range, for its input: exactly the frames
    :func:`~ffvfx.ffmpeg.probe.frame_range` counts (seconds as they are for a camera)."""
    if info is None:
        return ((["-ss", seconds(job.start)] if job.start else [])
                + (["-t", seconds(job.duration)] if job.duration else []))
    return cut_args(info, *frame_range(info, job.start, job.duration))


def cut_args(info: VideoInfo, first: int, end: int | None) -> list[str]:
    """``-ss``/``-t`` that make ffmpeg decode frames ``[first, end)`` of ``info`` (0-based; ``end``
    None: to the last), found by the packets' own times, so any rate, rounding container or
    variable rate cuts on the right frame.

    ffmpeg keeps a frame when its time, less the file's start, is at or after ``-ss`` and before
    ``-ss`` + ``-t``; each cut sits a hair (a quarter frame at most, 0.5 ms at most) before a
    frame's time, so the audio cut with the same options stays within that of the video.
    """
    times = info.times
    total = len(times) if times else info.frames
    if end is not None and total is not None and end >= total:
        end = None

    def at(k: int) -> float:
        if times:
            step = (times[k] - times[k - 1]) if 0 < k < len(times) else 1 / float(info.fps)
            return times[k] - info.start_time - min(0.0005, step / 4)
        rate = float(info.fps)
        return (k - min(0.25, 0.0005 * rate)) / rate

    seek = at(first) if first > 0 else 0.0
    args = ["-ss", seconds(seek)] if seek > 0 else []
    if end is not None:
        args += ["-t", seconds(max(at(end) - seek, 0.0))]
    return args


def aligned_input(path: str, side: VideoInfo | None, info: VideoInfo, label: str,
                  origin: int = 0) -> Input:
    """The side file ``path`` (probed as ``side``; None: one ffvfx wrote at the input's rate), frame
    k going with frame ``origin + k`` of the input ``info``: put on the input's rate and size, cut
    by its own frame times to whatever range or segment the render asks for (``Input.seek``)."""
    timing = side or replace(info, times=None, start_time=0.0, frames=None)

    def seek(first: int, end: int | None) -> list[str]:
        return cut_args(timing, max(first - origin, 0), None if end is None else end - origin)
    return Input(path, label=label, aligned=True, rate=info.fps, size=(info.width, info.height),
                 seek=seek)


def command(job: Job, tools: Toolchain, info: VideoInfo | None, out_path: str,
            script_path: str | None = None, plan: Plan | None = None,
            segment: Segment | None = None) -> tuple[list[str], Graph]:
    """The ffmpeg argv for ``job`` writing ``out_path`` (graph from ``script_path`` if given),
    run where ``plan`` says (default: the CPU with the job's encoder). With a ``segment`` the
    input and the aligned side files are cut to its frames, its pre-roll trimmed, no audio."""
    plan = plan or Plan(CPU, encoder=job.encoding.resolved(job.output))
    inp = Input(job.source.path, job.source.options, rate=info.fps if info else None,
                size=(info.width, info.height) if info else None)
    main = timeline.regular(inp.video)
    if segment is None:
        out = job.effect(main)
    else:
        out = segment.trimmed(segment.effect(job.effect)(main))
    graph = Graph(lower(_conform(out), inp, plan), [inp], labelled=True)
    encoder = plan.encoder or job.encoding.resolved(job.output)
    filter_threads, encoder_threads = thread_share(job, encoder)
    argv = [tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    argv += plan.global_args() + filter_threads
    first, end = frame_range(info, job.start, job.duration) if info else (0, None)
    if segment is not None:
        first += segment.decoded_from
        end = end if segment.decoded is None else first + segment.decoded
    argv += cut_args(info, first, end) if info else range_args(job, None)
    argv += plan.input_args(info.codec if info else None)
    argv += job.source.input_args()
    for side in graph.inputs[1:]:  # side files an effect reads (masks, mattes, plates)
        options = side.options
        if side.aligned and side.seek is not None and info is not None:
            options = side.seek(first, end) + options
        argv += options + input_args(side.path)
    if script_path:
        argv += [tools.script_option(), script_path]
    else:
        argv += ["-filter_complex", graph.line()]
    argv += ["-map", graph.output_maps()[0]] + (audio_args(info, job) if segment is None else ["-an"])
    presets = tools.encoder_presets(encoder) if job.encoding.preset and family(encoder) in (
        "nvenc", "qsv") else ()
    argv += job.encoding.args(job.output, encoder, presets) + encoder_threads + tools.passthrough_timing()
    return argv + [media_path(out_path)], graph


def thread_share(job: Job, encoder: str) -> tuple[list[str], list[str]]:
    """(``-filter_threads N``, ``-threads:v N`` for a software encoder) when this render may use
    only N of the machine's cores: N = its share (``$FFVFX_CORES``, which ``ffvfx batch`` sets for
    the renders it runs side by side) divided by ``--jobs``. Renders and segments side by side then
    share the cores instead of each taking them all.

    Two x264 encodes side by side on 2 cores ran 23 % faster at one thread each than at x264's
    automatic 3 each. A render that has the whole machine keeps ffmpeg's and x264's own counts
    (1.5 x cores frame threads measured 10 % faster than ``-threads:v 2`` on that machine); Ray
    segments run on the cluster's machines, which choose for themselves.
    """
    share = cores()
    if job.jobs > 1 and not job.ray:
        share = max(1, share // job.jobs)
    if share >= machine_cores():
        return [], []
    n = str(share)
    software = family(encoder) not in ("nvenc", "vaapi", "qsv")
    return ["-filter_threads", n], (["-threads:v", n] if software else [])


CORES_VARIABLE = "FFVFX_CORES"
"""How many CPUs one render may use (whole number >= 1; unset: all this process may run on)."""


def cores() -> int:
    """This render's CPUs: ``$FFVFX_CORES`` when set (at most :func:`machine_cores`), else all."""
    text = os.environ.get(CORES_VARIABLE, "").strip()
    if not text:
        return machine_cores()
    if not text.isdigit() or int(text) < 1:
        raise FfvfxError(f"${CORES_VARIABLE} takes a whole number of CPUs >= 1, got {text!r}")
    return min(int(text), machine_cores())


def machine_cores() -> int:
    """The CPUs this process may run on (its affinity where the OS tells, else all of them)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else (os.cpu_count() or 1)


def print_command(job: Job, tools: Toolchain, info: VideoInfo | None = None) -> str:
    """``--print=cmd``: the full command, shell-quoted, for pasting into a terminal."""
    if info is None and not job.source.device:
        info = probe(job.source.path, tools)
    plan = plan_for(job, tools, info, probe=False)
    argv, _ = command(job, tools, info, job.output, plan=plan)
    if not job.overwrite:  # pasted by hand it must not silently replace a file
        argv.remove("-y")
    say(job, plan.notes)
    return shlex.join(argv)


def say(job: Job, notes: Sequence[str]) -> None:
    """Each note on stderr as ``ffvfx: NOTE``, unless the job is quiet."""
    if not job.quiet:
        for note in notes:
            print(f"ffvfx: {note}", file=sys.stderr)


def check_paths(job: Job) -> None:
    """:func:`ffvfx.ffmpeg.outputs.check_output` for a render: its output against its input and every
    side file its graph reads (mattes, masks, backgrounds, plates)."""
    inputs = [] if job.source.device else [job.source.path]
    inputs += [side.path for side in Graph(job.effect(Input().video)).inputs if side.path]
    check_output(job.output, inputs, job.overwrite)


def run(job: Job, tools: Toolchain, info: VideoInfo | None = None) -> VideoInfo | None:
    """Render ``job`` in one ffmpeg (``info``: the input, probed here when not given); returns the
    input info. ``job.jobs``/``job.ray`` are :func:`ffvfx.scale.render`'s to act on, not this one's.

    Raises FfvfxError with one clear line.
    """
    check_container(job.output)
    if info is None and not job.source.device:
        info = probe(job.source.path, tools)
    check_paths(job)
    if expected_frames(info, job.start, job.duration) == 0:
        raise FfvfxError(f"{job.source.name}: no video frames to render"
                         + (" in the requested time range" if job.start or job.duration else ""))
    check_memory(job, command(job, tools, info, job.output)[1], info)
    out = Path(job.output)
    plan = plan_for(job, tools, info)
    with atomic_path(out, overwrite=job.overwrite) as tmp:
        argv, graph = command(job, tools, info, tmp, plan=plan)
        tools.require_filters(graph.filter_names())
        tools.require_encoder(plan.encoder)
        with script_file(graph) as script:
            if script:
                argv, graph = command(job, tools, info, tmp, script, plan=plan)
            say(job, [*plan.notes, *input_notes(info)])
            total = expected_frames(info, job.start, job.duration) if info else None
            frames = execute(argv, ProgressBar(out.name, total, enabled=not job.quiet))
        if frames == 0:
            raise FfvfxError(f"{job.source.name}: no video frames to render"
                             + (" in the requested time range" if job.start or job.duration else ""))
    return info


@contextlib.contextmanager
def script_file(graph: Graph) -> Iterator[str | None]:
    """A temporary file holding ``graph`` as a script when it is too long for the command line
    (:func:`needs_script`; None when it is not), removed when the block ends, however it ends."""
    if not needs_script(graph):
        yield None
        return
    fd, script = tempfile.mkstemp(prefix=".ffvfx-graph.", suffix=".txt")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(graph.script())
        yield script
    finally:
        if os.path.exists(script):
            os.unlink(script)


def check_container(output: str) -> None:
    """Refuse, in one line, an output whose extension is not a container ffvfx renders video to
    (``.gif``, ``.png``, ``.wav``, none, a trailing space: ffmpeg would fail on the temporary file)."""
    if Path(output).suffix.lower() not in CONTAINERS:
        raise FfvfxError(f"{output}: give an output ending in {', '.join(CONTAINERS)} "
                         "(the video containers ffvfx writes)")


def check_memory(job: Job, graph: Graph, info: VideoInfo | None, processes: int = 1) -> None:
    """Refuse, in one line, a render whose graph would hold more frames than the memory limit
    (:mod:`ffvfx.compiler.memory`); ``processes``: segments rendered side by side."""
    if info is not None:
        size, pix_fmt = info.canvas, info.pix_fmt
    else:  # a camera: the size it was asked for, else a full HD one
        opts = job.source.options
        given = opts[opts.index("-video_size") + 1] if "-video_size" in opts[:-1] else ""
        size = tuple(map(int, given.split("x"))) if re.fullmatch(r"\d+x\d+", given) else None
        pix_fmt = None
    memory.check(graph, size, pix_fmt, job.max_memory, processes,
                 expected_frames(info, job.start, job.duration))


def needs_script(graph: Graph) -> bool:
    """The graph is too long for argv and goes to ffmpeg as a script file."""
    return len(graph.line()) > _SCRIPT_THRESHOLD


def expected_frames(info: VideoInfo | None, start: float | None = None,
                    duration: float | None = None) -> int | None:
    """Frames a render of ``info`` from ``start`` for ``duration`` seconds will have (for the bar)."""
    if info is None or info.frames is None:
        return None
    first, end = frame_range(info, start, duration)
    return end - first


def execute(argv: list[str], bar: ProgressBar, running: list | None = None) -> int:
    """Run ffmpeg with ``-progress`` into ``bar`` (anything with ``feed`` and ``frames``); returns
    frames written. Ctrl-C stops ffmpeg, and so does a stall (no new frame, size or time for
    :func:`ffvfx.ffmpeg.watchdog.stall_seconds`: :class:`~ffvfx.ffmpeg.watchdog.Stalled`).
    ``running`` holds the process while it runs, for a caller that runs several at once to stop them all."""
    argv = argv[:1] + ["-progress", "pipe:1", "-nostats"] + argv[1:]
    try:
        proc = children.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              errors="replace")
    except OSError as exc:
        raise FfvfxError(f"cannot run {argv[0]}: {exc.strerror}") from None
    if running is not None:
        running.append(proc)
    errors = Lines()
    reader = threading.Thread(target=errors.read, args=(proc.stderr,), daemon=True)
    reader.start()
    try:
        with Watchdog(proc) as dog:  # no new frame for the stall bound: ffmpeg is stopped
            bar.feed(dog.progress(proc.stdout))
            proc.wait()
    except BaseException:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    finally:
        if running is not None and proc in running:
            running.remove(proc)
    reader.join(timeout=5)
    if dog.fired:
        raise Stalled(dog.message("ffmpeg", _summary(errors.lines()) if errors.last() else ""))
    if proc.returncode != 0:
        raise FfvfxError("ffmpeg failed: " + _summary(errors.lines()))
    return bar.frames


def _summary(lines: list[str]) -> str:
    """The most telling line of ffmpeg's error output."""
    useful = [ln.strip() for ln in lines if ln.strip()]
    for ln in useful:
        if any(k in ln for k in ("No such filter", "Unknown encoder", "Invalid", "Impossible to convert",
                                 "OpenEncodeSessionEx", "No capable devices", "Failed to ")):
            return ln
    return useful[-1] if useful else "unknown error"
