"""Fan-out on a Ray cluster (``--ray ADDRESS`` or ``$RAY_ADDRESS``; ``local`` starts one here).

What runs where: a render's segments are one Ray task each (an ffmpeg on a worker; the encoded
piece comes back through Ray's object store, so only the input must be visible on the workers);
``ffvfx batch`` sends one task per file (its outputs come back the same way); inpainting's
keyframes go to one actor per GPU (one on a CPU-only cluster), each holding a loaded pipeline.
Ray does the scheduling, the retry (``max_retries=1``, ``retry_exceptions``) and the transfers.
Ray is an optional extra: without an address nothing here is imported.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import children
from ffvfx.ffmpeg.atomic import atomic_path
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.render import execute

INSTALL = "pip install 'ffvfx[ray]'"


def _ray():
    try:
        import ray
    except ImportError:
        raise FfvfxError(f"--ray needs Ray, which is not installed: {INSTALL}") from None
    return ray


def connect(address: str, num_cpus: int | None = None) -> Cluster:
    """Join the Ray cluster at ``address`` (``auto``, ``ray://HOST:10001``, ``HOST:6379``) or start
    a local one (``local``); a cluster already joined in this process is used as it is."""
    ray = _ray()
    if not ray.is_initialized():
        if address != "local":
            _check_reachable(address)
        quiet = dict(include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            if address == "local":
                ray.init(num_cpus=num_cpus, **quiet)
            else:
                ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FfvfxError(f"--ray {address}: cannot join the cluster ({first})") from None
    return Cluster(address)


def _check_reachable(address: str, timeout: float = 3.0) -> None:
    """Fail in seconds, with one line, where Ray itself would retry for a minute: no cluster
    started here for ``auto``, or nothing listening at ``HOST:PORT`` / ``ray://HOST:PORT``."""
    if address == "auto":
        if not Path(tempfile.gettempdir(), "ray", "ray_current_cluster").exists():
            raise FfvfxError("--ray auto: no Ray cluster runs on this machine (start one with "
                             "`ray start --head`, or give its address, or `local`)")
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise FfvfxError(f"--ray {address}: give HOST:PORT, ray://HOST:PORT, auto or local")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise FfvfxError(f"--ray {address}: nothing answers there ({exc.strerror or exc})") from None


class Cluster:
    """A joined Ray cluster: how many workers it has and the three kinds of work it takes."""

    def __init__(self, address: str):
        self.address = address
        self.ray = _ray()

    def workers(self) -> int:
        """CPUs in the cluster: the number of segments when ``--jobs`` is not given."""
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def gpus(self) -> int:
        return int(self.ray.cluster_resources().get("GPU", 0))

    # -- segments ----------------------------------------------------------------------------
    def segments(self, commands: list, tally) -> list:
        """Render ``(segment, argv, path)`` commands as tasks; each piece is written to its path
        here as it arrives: ``(segment, path, frames, seconds)`` in segment order. A segment that
        fails twice fails the render, named."""
        task = self.ray.remote(max_retries=1, retry_exceptions=True, num_cpus=1)(render_segment)
        refs = {}
        for seg, argv, path in commands:
            refs[task.remote(argv, _script_of(argv))] = (seg, Path(path), tally.part())
        pieces = {}
        try:
            pending = list(refs)
            while pending:
                done, pending = self.ray.wait(pending, num_returns=1)
                seg, path, part = refs[done[0]]
                try:
                    frames, data, seconds = self.ray.get(done[0])
                except self.ray.exceptions.RayError as exc:
                    raise FfvfxError(f"{seg.describe()} failed twice on Ray: {_cause(exc)}") from None
                path.write_bytes(data)
                part.frames = frames
                tally.update()
                pieces[seg.index] = (seg, path, frames, seconds)
        except BaseException:
            for ref in refs:
                self.ray.cancel(ref, force=True)
            raise
        return [pieces[i] for i in sorted(pieces)]

    # -- batch -------------------------------------------------------------------------------
    def batch(self, runs: list[tuple[list[str], str, Path]], on_done: Callable, gpu: bool) -> None:
        """Run ``(argv, input, outdir)`` CLI runs as tasks (one GPU each when ``gpu`` and the
        cluster has GPUs); their files come back into ``outdir``. ``on_done(i, rc, line, s)``."""
        gpus = 1 if gpu and self.gpus() else 0
        task = self.ray.remote(num_cpus=1, num_gpus=gpus, max_retries=1)(run_cli_remote)
        refs = {task.remote(argv, src): (i, outdir) for i, (argv, src, outdir) in enumerate(runs)}
        pending = list(refs)
        try:
            while pending:
                done, pending = self.ray.wait(pending, num_returns=1)
                i, outdir = refs[done[0]]
                try:
                    rc, line, seconds, files = self.ray.get(done[0])
                except self.ray.exceptions.RayError as exc:
                    on_done(i, 1, _cause(exc), 0.0)
                    continue
                if rc == 0:
                    try:
                        _unpack(files, outdir, overwrite=any(a in ("-y", "--overwrite")
                                                             for a in runs[i][0]))
                    except FfvfxError as exc:
                        rc, line = 1, str(exc)
                on_done(i, rc, line, seconds)
        except BaseException:
            for ref in refs:
                self.ray.cancel(ref, force=True)
            raise

    # -- loaded models -----------------------------------------------------------------------
    def actors(self, make: Callable[[], object], method: str, work: list[tuple], what: str) -> list:
        """``make()``'s ``method(*item)`` for each item, on one actor per GPU (one actor without
        GPUs), each building its object (a loaded model) once; results in the order given.
        ``make`` must pickle (a class or a ``functools.partial`` of one); ``what`` names the work
        in a failure."""
        from ray.util import ActorPool
        gpus = self.gpus()
        actor = self.ray.remote(num_gpus=1 if gpus else 0, num_cpus=1)(Holder)
        actors = [actor.remote(make) for _ in range(max(gpus, 1))]
        try:
            pool = ActorPool(actors)
            return list(pool.map(lambda a, item: a.call.remote(method, item), work))
        except self.ray.exceptions.RayError as exc:
            raise FfvfxError(f"{what} on Ray failed: {_cause(exc)}") from None
        finally:
            for a in actors:
                self.ray.kill(a)


class Holder:
    """A Ray actor holding one object built once (a loaded pipeline) and calling it per item."""

    def __init__(self, make: Callable[[], object]):
        self.held = make()

    def call(self, method: str, item: tuple):
        return getattr(self.held, method)(*item)


def render_segment(argv: list[str], script: tuple[int, str] | None) -> tuple[int, bytes, float]:
    """On a worker: run one segment's ffmpeg into a temporary file; (frames, the file's bytes,
    seconds it took)."""
    for i, arg in enumerate(argv[:-1]):
        if arg == "-i" and not os.path.exists(_plain(argv[i + 1])):
            raise FfvfxError(f"{argv[i + 1]}: not visible on this Ray worker ({os.uname().nodename}); "
                             "the input must be on storage every node sees")
    with tempfile.TemporaryDirectory(prefix="ffvfx-segment-") as folder:
        argv = list(argv)
        if script is not None:
            index, text = script
            argv[index] = os.path.join(folder, "graph.txt")
            Path(argv[index]).write_text(text)
        argv[-1] = os.path.join(folder, Path(argv[-1]).name)
        began = time.perf_counter()
        frames = execute(argv, ProgressBar("segment", None, enabled=False))
        return frames, Path(argv[-1]).read_bytes(), time.perf_counter() - began


def run_cli_remote(argv: list[str], src: str) -> tuple[int, str, float, dict[str, bytes]]:
    """On a worker: one ``ffvfx`` run whose last argument is an output folder; its files back."""
    if not os.path.exists(src):
        return 1, f"{src}: not visible on this Ray worker ({os.uname().nodename})", 0.0, {}
    with tempfile.TemporaryDirectory(prefix="ffvfx-batch-") as folder:
        rc, line, seconds = run_cli(argv, folder)
        files = {}
        if rc == 0:
            for path in Path(folder).rglob("*"):
                if path.is_file():
                    files[str(path.relative_to(folder))] = path.read_bytes()
        return rc, line, seconds, files


def run_cli(argv: list[str], outdir: str, running: list | None = None,
            env: dict[str, str] | None = None) -> tuple[int, str, float]:
    """``python -m ffvfx ARGV`` with ``{out}`` in it replaced by ``outdir``: (exit code, its last
    stderr line, seconds). A process per file: one that crashes takes nothing else down.
    ``running`` holds the process while it runs (to stop it on Ctrl-C); ``env``: variables added
    to this process's environment for it."""
    t0 = time.perf_counter()
    args = [a.replace("{out}", outdir) for a in argv]
    proc = children.popen([sys.executable, "-m", "ffvfx", *args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          errors="replace", env={**os.environ, **(env or {})})
    if running is not None:
        running.append(proc)
    try:
        _, stderr = proc.communicate()
    finally:
        if running is not None:
            running.remove(proc)
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    line = lines[-1] if lines else ""
    if line.startswith("ffvfx: error: "):
        line = line[len("ffvfx: error: "):]
    return proc.returncode, line, time.perf_counter() - t0


def _script_of(argv: list[str]) -> tuple[int, str] | None:
    """The graph script an argv reads (its index and text), shipped with the task."""
    for i, arg in enumerate(argv[:-1]):
        if arg in ("-/filter_complex", "-filter_complex_script"):
            return i + 1, Path(argv[i + 1]).read_text()
    return None


def _plain(path: str) -> str:
    return path[5:] if path.startswith("file:") else path


def _unpack(files: dict[str, bytes], outdir: Path, overwrite: bool) -> None:
    """A task's files written under ``outdir``, each whole; one that appeared there meanwhile is
    replaced only with ``overwrite`` (the run's ``-y``)."""
    for rel, data in files.items():
        target = outdir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target, overwrite=overwrite) as tmp:
            Path(tmp).write_bytes(data)


def _cause(exc: BaseException) -> str:
    """The message of the exception a Ray task raised (an FfvfxError's one line)."""
    cause = getattr(exc, "cause", None)
    if cause is not None:
        return str(cause)
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__
