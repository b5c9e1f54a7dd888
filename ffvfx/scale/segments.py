"""Segment-parallel rendering (``--jobs N``): one render cut by frame index into N pieces.

Each segment is rendered by its own ffmpeg: decoded from ``reach`` frames before its first frame
(an accurate seek just before that frame's own packet time, :func:`ffvfx.ffmpeg.render.cut_args`, so
rounded timestamps never move the cut), run through
the same graph, trimmed of that pre-roll, encoded with the job's encoder, and the pieces joined by
the concat demuxer without re-encoding; the audio is copied once from the input in that join.

Why it is frame-exact: output frame n of a temporal effect reads input frames n - reach .. n
(:meth:`ffvfx.compiler.graph.Graph.reach`). A segment outputting frames a.. decodes from a - reach, so
every frame it keeps saw the same past as in one pass; the frames the pre-roll gets wrong (a delay
clamped to the segment's first frame) are the ones trimmed. Side files aligned with the input
(mattes, masks; ``Input(aligned=True)``) are seeked alike; effects whose per-frame values are
indexed by frame number (camera shifts, parallax crops, gains) are :class:`Windowed` and rebuilt
for the segment's frames. What cannot be cut says why and renders in one pass: unbounded reach
(``--freeze``, ``lagfun``, ``loop``), filters that need later frames (``minterpolate``), variable
frame rate, cameras.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ffvfx.compiler.escape import media_path
from ffvfx.compiler.graph import Graph, Stream
from ffvfx.compiler.numbers import seconds
from ffvfx.compiler.windows import Segment, Windowed
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import render as one_pass
from ffvfx.ffmpeg import watchdog
from ffvfx.ffmpeg.atomic import atomic_path, scratch_folder
from ffvfx.ffmpeg.probe import VideoInfo, frame_range, frame_times, probe
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.targets import Plan
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.scale import cluster as ray_cluster

Effect = Callable[[Stream], Stream]


def split(total: int, jobs: int, reach: int) -> list[Segment]:
    """``total`` frames in ``jobs`` segments of (nearly) equal length, each with its pre-roll; the
    last runs to the end, so a frame count that was an estimate still renders every frame."""
    n = max(1, min(jobs, total))
    bounds = [round(i * total / n) for i in range(n + 1)]
    return [Segment(i, a, (b - a) if i < n - 1 else None, min(a, reach))
            for i, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))]


def single_pass_reason(graph: Graph, effect: Effect, info: VideoInfo | None, camera: bool) -> str | None:
    """Why this render cannot be cut into segments (None: it can)."""
    if camera or info is None:
        return "a camera cannot be cut into segments"
    if info.variable_rate:
        return "variable frame rate input: frames cannot be found by time"
    if math.isinf(graph.reach()):
        return ("the graph reaches back to the first frame (a --freeze reference, lagfun or loop)")
    if graph.ahead():
        return "the graph needs the frames after each frame (minterpolate)"
    counting = graph.frame_counting()
    if counting and not isinstance(effect, Windowed):
        return f"the graph numbers frames from the start ({', '.join(counting)})"
    return None


def count_frames(path: str, ffmpeg: str) -> int:
    """Video frames in ``path``, exactly: the packets of its first video stream, no decoding."""
    return len(frame_times(path, ffmpeg))


class Tally:
    """One progress bar for segments rendering side by side: each :meth:`part` is fed one
    ffmpeg's ``-progress`` lines, the bar shows their sum."""

    def __init__(self, bar: ProgressBar):
        self.bar = bar
        self._parts: list[_Part] = []
        self._lock = threading.Lock()

    def part(self) -> _Part:
        part = _Part(self)
        with self._lock:
            self._parts.append(part)
        return part

    def update(self, final: bool = False) -> None:
        with self._lock:
            self.bar.frames = sum(p.frames for p in self._parts)
            self.bar.draw(final=final)


class _Part(ProgressBar):
    """What :func:`ffvfx.ffmpeg.render.execute` feeds: one ffmpeg's frames, drawn as part of the tally."""

    def __init__(self, tally: Tally):
        super().__init__("segment", None, enabled=False)
        self.tally = tally

    def draw(self, final: bool = False) -> None:
        self.tally.update()


def concat_list(names: list[str], durations: list[float | None]) -> str:
    """The concat demuxer's script: our own plain file names, each with its exact duration so the
    joined timestamps stay on the frame grid whatever the container rounds."""
    lines = ["ffconcat version 1.0"]
    for name, duration in zip(names, durations, strict=True):
        if not re.fullmatch(r"[\w.-]+", name):
            raise ValueError(f"segment file name {name!r} needs quoting")
        lines.append(f"file {name}")
        if duration is not None:
            lines.append(f"duration {seconds(duration)}")
    return "\n".join(lines) + "\n"


@dataclass
class Piece:
    """A segment's rendered file and the frames it holds."""

    segment: Segment
    path: Path
    frames: int
    seconds: float = 0.0    # wall time of its ffmpeg


def workdir(output: str) -> contextlib.AbstractContextManager[Path]:
    """A hidden folder beside ``output`` for the segments (``.NAME.segments.PID.XXXXXXXX``: same disk
    as the result; removed after, and by the next run to ``output`` if this one is killed)."""
    return scratch_folder(Path(output).resolve(), "segments")


def run_local(tasks: list[Callable[[], Piece]], jobs: int, kill: Callable[[], None]) -> list[Piece]:
    """Run ``tasks`` ``jobs`` at a time in threads (each drives one ffmpeg process); the first
    failure or Ctrl-C stops the rest (``kill``) and is raised."""
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="ffvfx-segment")
    futures = [pool.submit(t) for t in tasks]
    try:
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f for f in futures if f in done and f.exception() is not None), None)
        if failed is not None:
            raise failed.exception()
        return [f.result() for f in futures]
    except BaseException:
        for f in futures:
            f.cancel()
        kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def retried(task: Callable[[], Piece], segment: Segment) -> Callable[[], Piece]:
    """``task`` run again once when it fails; a second failure names the segment."""
    def attempt() -> Piece:
        try:
            return task()
        except FfvfxError:
            try:
                return task()
            except FfvfxError as exc:
                raise FfvfxError(f"{segment.describe()} failed twice: {exc}") from None
    return attempt


def join(pieces: list[Piece], output: str, argv_tail: list[str], ffmpeg: str, fps: Fraction,
         audio_input: list[str], overwrite: bool) -> None:
    """The pieces joined into ``output`` (atomically; ``overwrite``: replacing a file there) by the
    concat demuxer, video copied; ``audio_input``: ``-ss/-t/-i`` of the input when its audio is
    kept, mapped as input 1."""
    folder = pieces[0].path.parent
    listing = folder / "segments.ffconcat"
    listing.write_text(concat_list([p.path.name for p in pieces],
                                   [p.frames / float(fps) for p in pieces]))
    with atomic_path(output, overwrite=overwrite) as tmp:
        argv = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "concat",
                "-safe", "0", "-i", str(listing), *audio_input, "-map", "0:v:0", "-c:v", "copy",
                *argv_tail, media_path(tmp)]
        res = watchdog.run(argv, "ffmpeg joining the segments")
        if res.returncode != 0:
            lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
            raise FfvfxError("joining the segments failed: " + (lines[-1] if lines else "ffmpeg error"))


def segment_name(segment: Segment, output: str) -> str:
    return f"segment{segment.index:04d}{Path(output).suffix.lower() or '.mp4'}"




def render(job: one_pass.Job, tools: Toolchain, info: VideoInfo | None = None) -> VideoInfo | None:
    """Render ``job`` (a :class:`ffvfx.ffmpeg.render.Job` with ``jobs > 1`` or a ``ray`` address) in
    segments side by side; what cannot be cut renders in one pass, saying why. Returns the input
    info. The output appears whole or not at all, as with one pass."""
    if info is None and not job.source.device:
        info = probe(job.source.path, tools)
    def say(msg: str) -> None:
        one_pass.say(job, [msg])
    plan = one_pass.plan_for(job, tools, info)
    _, graph = one_pass.command(job, tools, info, job.output, plan=plan)
    reason = single_pass_reason(graph, job.effect, info, bool(job.source.device))
    sequential = dataclasses.replace(job, jobs=1, ray=None)
    if reason:
        say(f"--jobs {job.jobs}: {reason}; rendering in one pass")
        return one_pass.run(sequential, tools, info)
    one_pass.check_paths(job)
    began = time.perf_counter()
    first, end = frame_range(info, job.start, job.duration)
    total = end - first
    counted = time.perf_counter() - began
    if total == 0:
        raise FfvfxError(f"{job.source.name}: no video frames to render"
                         + (" in the requested time range" if job.start or job.duration else ""))
    cluster = None
    if job.ray:
        cluster = ray_cluster.connect(job.ray)
    jobs = cluster.workers() if cluster and job.jobs <= 1 else job.jobs
    segments = split(total, jobs, int(graph.reach()))
    if len(segments) == 1 and cluster is None:
        return one_pass.run(sequential, tools, info)
    one_pass.check_memory(job, graph, info, 1 if cluster else min(jobs, len(segments)))
    tools.require_filters(graph.filter_names())
    tools.require_encoder(plan.encoder)
    one_pass.say(job, [*plan.notes, *one_pass.input_notes(info)])
    where = f"on Ray at {cluster.address}" if cluster else f"{min(jobs, len(segments))} at a time"
    say(f"{len(segments)} segments of ~{total // len(segments)} frames, {int(graph.reach())} frames "
        f"of pre-roll each, {where}")
    with workdir(job.output) as folder:
        commands = segment_commands(job, tools, info, plan, segments, Path(folder))
        tally = Tally(ProgressBar(Path(job.output).name, total, enabled=not job.quiet))
        pieces = render_pieces(commands, tally, jobs, cluster)
        for piece in pieces:
            check_piece(piece)
        rendered = time.perf_counter() - began - counted
        audio = one_pass.audio_args(info, job, index=1)
        audio_input = (one_pass.range_args(job, info) + job.source.input_args()) \
            if audio else []
        join(pieces, job.output, audio, tools.ffmpeg, info.fps, audio_input, job.overwrite)
    joined = time.perf_counter() - began - counted - rendered
    seconds = sorted(p.seconds for p in pieces)
    say(f"segments: counting {counted:.2f} s, rendering {rendered:.2f} s (each segment "
        f"{seconds[0]:.2f}-{seconds[-1]:.2f} s), joining {joined:.2f} s")
    return info


def segment_commands(job: one_pass.Job, tools: Toolchain, info: VideoInfo, plan: Plan,
                     segments: list[Segment], folder: Path) -> list[tuple[Segment, list[str], Path]]:
    """Each segment's ffmpeg command writing its piece into ``folder`` (its graph in a script file
    there when too long for argv)."""
    commands = []
    for seg in segments:
        path = folder / segment_name(seg, job.output)
        argv, seg_graph = one_pass.command(job, tools, info, str(path), plan=plan, segment=seg)
        if one_pass.needs_script(seg_graph):
            script = folder / f"segment{seg.index:04d}.txt"
            script.write_text(seg_graph.script())
            argv, _ = one_pass.command(job, tools, info, str(path), str(script), plan=plan, segment=seg)
        commands.append((seg, argv, path))
    return commands


def render_pieces(commands: list[tuple[Segment, list[str], Path]], tally: Tally, jobs: int,
                  cluster: ray_cluster.Cluster | None) -> list[Piece]:
    """Run the segment commands, ``jobs`` at a time here (each retried once) or as Ray tasks."""
    if cluster is not None:
        pieces = [Piece(*done) for done in cluster.segments(commands, tally)]
    else:
        running = Running()
        tasks = [retried(_segment_task(seg, argv, path, tally, running), seg) for seg, argv, path in commands]
        pieces = run_local(tasks, jobs, running.stop)
    tally.update(final=True)
    return pieces


def check_piece(piece: Piece) -> None:
    """A segment holds exactly the frames it was cut for (a seek that missed would show here)."""
    seg = piece.segment
    if piece.frames == 0 or (seg.frames is not None and piece.frames != seg.frames):
        want = "some" if seg.frames is None else str(seg.frames)
        raise FfvfxError(f"{seg.describe()} rendered {piece.frames} frames, expected {want}: "
                         "the input's timestamps do not allow an exact cut; render with --jobs 1")


class Running(list):
    """The ffmpeg processes of a segmented render; once :meth:`stop` ran, no segment starts (nor
    retries)."""

    stopped = False

    def stop(self) -> None:
        """Stop every ffmpeg still running (Ctrl-C or a failed segment)."""
        self.stopped = True
        for proc in list(self):
            if proc.poll() is None:
                proc.terminate()


def _segment_task(seg: Segment, argv: list[str], path: Path, tally: Tally,
                  running: Running) -> Callable[[], Piece]:
    part = tally.part()

    def task() -> Piece:
        if running.stopped:
            raise FfvfxError("stopped")
        part.frames = 0
        began = time.perf_counter()
        frames = one_pass.execute(argv, part, running)
        return Piece(seg, path, frames, time.perf_counter() - began)
    return task

