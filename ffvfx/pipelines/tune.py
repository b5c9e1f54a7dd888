"""``ffvfx tune``: an effect playing on its input while its parameters change.

A :class:`Session` holds the effect's values and the player (:mod:`ffvfx.ffmpeg.live`). Every
change is checked by the same option types as the command line (validators handed in by the
command), then the effect's graph is built again with the new values: when its shape is the
running one and every changed option is one the running filter takes as a command, the changes go
over zmq (``live``); otherwise the player restarts at the same frame of the file (``restart``; a
camera at once). Everything that touches the player runs in the thread that made the session
(:meth:`Session.run`); other threads (the page's server, the keyboard) hand it their changes
through :meth:`Session.call`.
"""

from __future__ import annotations

import math
import queue
import shlex
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ffvfx.compiler import timeline
from ffvfx.compiler.graph import Graph, Input
from ffvfx.compiler.params import Param
from ffvfx.compiler.windows import Windowed
from ffvfx.effects import composite as composite_effect
from ffvfx.effects import motion as motion_effect
from ffvfx.effects import patch as patch_effect
from ffvfx.effects import trails as trails_effect
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import live, toolchain
from ffvfx.ffmpeg.probe import VideoInfo, probe
from ffvfx.ffmpeg.render import Effect, Encoding, Job, print_command, printable_graph
from ffvfx.ffmpeg.sources import Source
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.pipelines import composite, demo, inpaint, inpaint_render, motion, studio, studio_render, trails
from ffvfx.pipelines.delivery import RenderOptions, Say, silent

Validate = Callable[[str], Any]
"""Turns a value as typed (``"12"``, ``"black"``, ``"1,8,32"``) into the option's value, or raises
ValueError with the command line's one-line reason."""


@dataclass(frozen=True)
class Tunable:
    """An effect ``ffvfx tune`` plays: its declarations, how values become its graph, its keys."""

    command: str
    params: tuple[Param, ...]
    build: Callable[[Mapping[str, Any], RenderOptions, VideoInfo | None, Say], Effect]
    keys: Mapping[str, tuple[str, float]]   # key -> (parameter, step: +-1 for ints, factor for floats)
    cycle: str | None = None                # the parameter ``m`` cycles through its choices
    toggle: str | None = None               # the flag ``b`` turns on and off
    positional: tuple[str, ...] = ()        # parameters the command takes as arguments (ALPHA)
    words: tuple[str, ...] = ()             # fixed options of the printed command (--prompt=...)


def _motion(v: Mapping[str, Any], opts: RenderOptions, info: VideoInfo | None, say: Say) -> Effect:
    return motion.effect(motion.MotionOptions.declared(v), info)


def _trails(v: Mapping[str, Any], opts: RenderOptions, info: VideoInfo | None, say: Say) -> Effect:
    return trails.effect(trails.TrailsOptions(**v), opts, say, info)


def _composite(v: Mapping[str, Any], opts: RenderOptions, info: VideoInfo | None, say: Say) -> Effect:
    return composite.effect(composite.CompositeOptions.declared(v), opts, info)


_ALPHA = Param("alpha", Path, required=True, effect=False, help="Gray matte video (white = subject).")

EFFECTS = {
    "motion": Tunable("motion", motion_effect.PARAMS, _motion,
                      {"+": ("delay", 1), "-": ("delay", -1), "]": ("strength", 1.25),
                       "[": ("strength", 0.8)}, cycle="mode", toggle="bloom"),
    "trails": Tunable("trails", trails_effect.PARAMS, _trails,
                      {"+": ("layers", 1), "-": ("layers", -1), "]": ("decay", 1.1), "[": ("decay", 0.9),
                       ">": ("spacing", 1), "<": ("spacing", -1)}, cycle="operator"),
    "composite": Tunable("composite", (_ALPHA, *composite_effect.PARAMS), _composite,
                         {"]": ("feather", 1.25), "[": ("feather", 0.8)}, cycle="fit",
                         positional=("alpha",)),
}
"""What ``ffvfx tune`` plays, by command name (``studio`` and ``inpaint``: :func:`stored`)."""

_MASK = Param("mask", Path, words="auto", required=True, effect=False,
              help="Mask video (white = the region to change).")


def stored(command: str, opts: studio.Options | inpaint.Options, words: Sequence[str]) -> Tunable:
    """``ffvfx tune studio``/``inpaint``: the render-time parameters on the assets a run of the
    command stored for these generation options ``opts`` (given as ``words`` on the command
    line); the first build refuses, in one line, when there are none yet. Nothing is generated."""
    made: list[Callable[[Any], Effect]] = []
    params = studio.RENDER_PARAMS if command == "studio" else patch_effect.PARAMS

    def build(v: Mapping[str, Any], render_opts: RenderOptions, info: VideoInfo | None, say: Say) -> Effect:
        side = v["alpha" if command == "studio" else "mask"]
        if info is None:
            raise FfvfxError(f"tune {command} plays the input file a `ffvfx {command}` run used, "
                             "not a camera or a lavfi graph")
        if not made:
            first = shlex.join(["ffvfx", command, render_opts.input or "IN", side, "OUT.mp4", *words])
            maker = studio_render.stored if command == "studio" else inpaint_render.stored
            made.append(maker(side, opts, info, command=first, say=say))
        return made[0](replace(opts, **{p.name: v[p.name] for p in params}))

    if command == "studio":
        return Tunable("studio", (_ALPHA, *params), build,
                       {"]": ("depth_scale", 1.25), "[": ("depth_scale", 0.8), "+": ("layers", 1),
                        "-": ("layers", -1)}, positional=("alpha",), words=tuple(words))
    return Tunable("inpaint", (_MASK, *params), build,
                   {"]": ("feather", 1.25), "[": ("feather", 0.8)}, positional=("mask",),
                   words=tuple(words))


@dataclass
class Outcome:
    """What the last change did: ``live`` (commands sent), ``restart``, ``none`` (same graph)."""

    how: str = "start"
    commands: list[str] = field(default_factory=list)
    at: float = 0.0  # seconds into the file where a restart began


class Session:
    """One effect on one input, its values, its graphs and its player.

    ``values``: every declared parameter by name (the command's parsed options); ``validators``:
    one per parameter the page and the keys may change (others are fixed: files, the input).
    ``sink``: a path the player writes raw gray frames to instead of opening a window (tests,
    benchmarks). ``spec``: INPUT as typed, ``camera``: it is ``--camera``'s, ``lavfi``:
    ``--lavfi``'s (for the printed command). A camera or a lavfi graph is live: it restarts at
    once, never seeks.
    """

    def __init__(self, tunable: Tunable, values: Mapping[str, Any], validators: Mapping[str, Validate],
                 source: Source, *, spec: str, camera: bool = False, lavfi: bool = False,
                 sink: str | None = None, tools: Toolchain | None = None, say: Say = silent):
        self.tunable = tunable
        self.declared = {p.name: p for p in tunable.params}
        self.values = dict(values)
        self.validators = dict(validators)
        self.tools = tools or toolchain.find()
        self.source = demo.materialise(source)
        self.spec, self.camera, self.lavfi, self.sink, self.say = spec, camera, lavfi, sink, say
        self.info = None if self.source.device else probe(self.source.path, self.tools)
        self.render_opts = RenderOptions(input=self.source.path)
        self.port = live.free_port()
        self.effect = self._build(self.values)
        self.graph = printable_graph(self.effect, info=self.info)
        self.player: live.Player | None = None
        self.launched: Graph | None = None   # the graph the player runs as text
        self.current: Graph | None = None    # the same window with the current values
        self.first = 0                       # the frame the running graph's window starts at
        self.restarts = 0
        self.live_changes = 0
        self.resends = 0                     # times values were sent again after a rebuilt graph
        self.outcome = Outcome()
        self._seen_rebuilds = 0
        self._jobs: queue.Queue = queue.Queue()
        self._owner = threading.get_ident()
        self.quit_reason: str | None = None

    # -- graphs ------------------------------------------------------------------------------
    def _build(self, values: Mapping[str, Any]) -> Effect:
        return self.tunable.build({k: values[k] for k in self.declared}, self.render_opts, self.info,
                                  self.say)

    def player_graph(self, effect: Effect, first: int) -> Graph:
        """``effect`` for a player starting at frame ``first``: named filters, zmq at the end."""
        info = self.info
        main = Input(rate=info.fps, size=(info.width, info.height)) if info else Input()
        if isinstance(effect, Windowed) and first:
            effect = effect.window(first, None)
        out = effect(timeline.regular(main.video) if info else main.video)
        out = out.filter("zmq", bind_address=live.zmq_address(self.port))
        return _from_frame(Graph(out, [main], movies=True), first)

    @property
    def fps(self) -> float:
        return float(self.info.fps) if self.info else 0.0

    @property
    def duration(self) -> float | None:
        """The looped file's length (s); None for a camera."""
        if self.info is None:
            return None
        if self.info.frames:
            return self.info.frames / self.fps
        return self.info.duration or None

    # -- the player ----------------------------------------------------------------------------
    def start(self, at: float = 0.0) -> None:
        """(Re)start the player at ``at`` seconds into the file (snapped to a frame)."""
        if threading.get_ident() != self._owner:
            raise RuntimeError("the player is started by the session's own thread")
        first = round(at * self.fps) if self.info else 0
        if self.info and self.info.frames:
            first %= self.info.frames
        graph = self.player_graph(self.effect, first)
        if self.player is not None:
            self.player.stop()
        tools = self.tools
        tools.require_filters(graph.filter_names())
        one_pass = len(graph.inputs) > 1 or self._counts_frames(graph)
        launch = live.Launch(self.source, graph.line(instances=True),
                             start=first / self.fps if self.info else 0.0, sink=self.sink, loop=not one_pass)
        self.player = live.Player(launch, tools, self.duration)
        self.launched = self.current = graph
        self.first = first
        self._seen_rebuilds = 0

    def _counts_frames(self, graph: Graph) -> bool:
        """``graph`` (of the current effect) numbers frames from its first: a windowed effect or a
        frame-numbered option, right only from the frame it was built for."""
        return isinstance(self.effect, Windowed) or bool(graph.frame_counting())

    def stop(self) -> None:
        if self.player is not None:
            self.player.stop()

    def poll(self) -> None:
        """Keep the player right: values sent again after it rebuilt its graph (a loop), a
        window-bound graph started over from frame 0; a player that ended ends the session, but for
        the test player's clean end of a pass (a graph that cannot loop in one process, see
        :func:`live.argv`), which starts the next pass from frame 0."""
        player = self.player
        if player is None:
            return
        if not player.running():
            if self.sink and self.info and player.ended_cleanly():
                self.start(0.0)  # the next pass, as ffplay's loop: a side file or a window ended the graph
                return
            errors = "; ".join(player.errors[-2:])
            self.quit_reason = f"the player stopped: {errors}" if errors else "the player was closed"
            return
        if player.rebuilds == self._seen_rebuilds:
            return
        self._seen_rebuilds = player.rebuilds
        if self.first and self._counts_frames(self.launched):
            self._restart(0.0)  # a graph made for a window starting at frame ``first`` is wrong from 0
            return
        cmds = live.commands(self.launched, self.current, self.tools.ffmpeg) or []
        try:
            live.ZmqClient(self.port).send(cmds)
            self.resends += bool(cmds)
        except live.LiveError:
            self._restart(player.position())

    def _restart(self, at: float) -> None:
        self.start(at if self.info else 0.0)
        self.restarts += 1
        self.outcome = Outcome("restart", at=self.player.launch.start)

    # -- changes -------------------------------------------------------------------------------
    def parse(self, given: Mapping[str, object]) -> dict[str, Any]:
        """Values as typed, checked by the command line's types; FfvfxError names the first bad one."""
        if not isinstance(given, Mapping) or not given:
            raise FfvfxError("give one or more parameters by name")
        out = {}
        for name, raw in given.items():
            if name not in self.validators:
                known = ", ".join(self.validators)
                raise FfvfxError(f"{name!s:.40}: not a parameter tune can change (choose from {known})")
            if not isinstance(raw, (str, int, float)) or isinstance(raw, float) and not math.isfinite(raw):
                raise FfvfxError(f"{self.declared[name].option}: give the value as text")
            text = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
            if len(text) > 200:
                raise FfvfxError(f"{self.declared[name].option}: value too long")
            try:
                out[name] = self.validators[name](text)
            except ValueError as exc:
                raise FfvfxError(str(exc)) from None
        return out

    def change(self, given: Mapping[str, object]) -> Outcome:
        """Apply the values (as typed) to the playing effect: live over zmq, or a restart."""
        values = {**self.values, **self.parse(given)}
        effect = self._build(values)               # the effect's own checks: FfvfxError, nothing changed
        graph = printable_graph(effect, info=self.info)
        self.values, self.effect, self.graph = values, effect, graph
        if self.player is None:
            self.outcome = Outcome("none")
            return self.outcome
        new = self.player_graph(effect, self.first)
        cmds = live.commands(self.current, new, self.tools.ffmpeg)
        if cmds is not None:
            try:
                live.ZmqClient(self.port).send(cmds)
                self.current = new
                self.live_changes += bool(cmds)
                self.outcome = Outcome("live" if cmds else "none", [c.message() for c in cmds])
                return self.outcome
            except live.LiveError as exc:
                self.say(f"{exc}; restarting")
        self._restart(self.player.position())
        return self.outcome

    def step(self, key: str) -> str:
        """A key of the keyboard mode: step a number, cycle a choice, flip a flag; the line to say."""
        t = self.tunable
        if key in t.keys:
            name, step = t.keys[key]
            p, v = self.declared[name], self.values[name]
            new = v + int(step) if p.kind is int else round(v * step, 6)
        elif key == "m" and t.cycle:
            name = t.cycle
            choices = self.declared[name].choices
            new = choices[(choices.index(self.values[name]) + 1) % len(choices)]
        elif key == "b" and t.toggle:
            name, new = t.toggle, not self.values[t.toggle]
        else:
            return ""
        try:
            text = new if isinstance(new, (bool, str)) else self.declared[name].text(new)
            outcome = self.change({name: text})
        except FfvfxError as exc:
            return f"{exc}"
        return f"{self.declared[name].option}={self.declared[name].text(self.values[name])} ({outcome.how})"

    # -- what the page and the summary show ----------------------------------------------------
    def command(self) -> str:
        """The ``ffvfx`` command that renders what plays now (options that differ from defaults)."""
        t = self.tunable
        words = ["ffvfx", t.command]
        flag = "--camera" if self.camera else "--lavfi" if self.lavfi else None
        words += [flag, self.spec] if flag else [self.spec]
        words += [str(self.values[n]) for n in t.positional]
        if not self.source.device:
            words.append(_output_name(self.spec, t.command))
        else:
            words.append("--preview")
        words += t.words
        for p in t.params:
            if p.name in t.positional or self.values.get(p.name) == _default(p):
                continue
            value = self.values[p.name]
            if p.kind is bool:
                words.append(p.option if value else f"--no-{p.option[2:]}")
            elif value is not None:
                words.append(f"{p.option}={p.text(value)}")
        return shlex.join(words)

    def ffmpeg_command(self) -> str:
        """The full ffmpeg command of that render (what ``--print=cmd`` shows)."""
        if self.source.device:  # a live source renders as --preview does: ffplay (named, when absent)
            shown = self.tools if self.tools.ffplay else replace(self.tools, ffplay="ffplay")
            return shlex.join(live.argv(live.Launch(self.source, self.graph.line()), shown))
        job = Job(self.source, _output_name(self.spec, self.tunable.command), self.effect, Encoding())
        return print_command(job, self.tools, self.info)

    def state(self) -> dict[str, Any]:
        """Everything the page shows, as JSON."""
        player = self.player
        return {
            "effect": self.tunable.command,
            "input": self.spec,
            "params": describe(self.tunable, self.values, self.validators),
            "graph": self.graph.line(),
            "ffvfx": self.command(),
            "ffmpeg": self.ffmpeg_command(),
            "player": {"pid": player.pid if player else None, "restarts": self.restarts,
                       "live": self.live_changes, "resends": self.resends,
                       "position": round(player.position(), 3) if player else 0,
                       "last": self.outcome.how, "commands": self.outcome.commands,
                       "at": self.outcome.at},
            "keys": {k: f"{n} {'up' if s >= 1 else 'down'}" for k, (n, s) in self.tunable.keys.items()},
        }

    def summary(self) -> str:
        """What is printed on stdout when the session ends: the command and the graph."""
        return f"{self.command()}\n{self.graph.line()}"

    # -- the session's thread --------------------------------------------------------------------
    def call(self, fn: Callable[[], Any], timeout: float = 30) -> Any:
        """Run ``fn`` in the session's thread (from a server or keyboard thread) and return its
        result, or raise what it raised."""
        if threading.get_ident() == self._owner:
            return fn()
        done = threading.Event()
        box: dict[str, Any] = {}

        def job() -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed back to the caller's thread
                box["error"] = exc
            finally:
                done.set()
        self._jobs.put(job)
        if not done.wait(timeout):
            raise FfvfxError("the session is busy")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def quit(self, reason: str = "quit") -> None:
        self.quit_reason = reason

    def run(self, until: Callable[[], bool] = lambda: False) -> str:
        """Play until quit (the page, a key, the player closed, ``until()``); the reason."""
        if self.player is None:
            self.start()
        while self.quit_reason is None and not until():
            try:
                job = self._jobs.get(timeout=0.05)
            except queue.Empty:
                job = None
            if job is not None:
                job()
            self.poll()
        return self.quit_reason or "done"


def _from_frame(graph: Graph, first: int) -> Graph:
    """``graph`` with each side file aligned with the main input (a matte, a mask, patches: frame
    k goes with the input's frame k) started at frame ``first`` too, as the player's seek starts
    the input: a ``movie=`` source does not seek by frame, so its first frames are dropped
    (``trim``). The consumers are this graph's own filters, built for this player."""
    if not first:
        return graph
    for side in graph.inputs[1:]:
        if not side.aligned:
            continue
        cut = side.video.filter("trim", start_frame=first)
        for node in graph.filters:
            node.inputs = [cut if s == side.video else s for s in node.inputs]
    return Graph(graph.outputs, graph.inputs[:1], movies=True)


def _default(p: Param) -> Any:
    return tuple(p.default) if isinstance(p.default, list) else p.default


def _output_name(spec: str, command: str) -> str:
    stem = Path(spec).stem or "out"
    return f"{stem}-{command}.mp4"


def describe(tunable: Tunable, values: Mapping[str, Any], validators: Mapping[str, Validate]) -> list[dict]:
    """The page's controls, one per declared parameter, in the help's order, grouped: a flag's
    settings (``bloom_sigma`` under ``bloom``) with the flag, the rest under the effect."""
    flags = [p.name for p in tunable.params if p.kind is bool]
    out = []
    for p in tunable.params:
        group = next((f for f in flags if p.name.startswith(f + "_")), tunable.command)
        value = values.get(p.name)
        out.append({
            "name": p.name, "option": p.option, "kind": _kind(p), "unit": p.unit, "help": p.help,
            "lo": p.lo, "hi": p.hi, "lo_open": p.lo_open, "hi_open": p.hi_open,
            "soft_hi": _soft_hi(p), "choices": list(p.choices), "count": p.count,
            "default": None if p.default is None else p.text(p.default), "optional": p.default is None,
            "value": None if value is None else p.text(value) if p.kind is not bool else bool(value),
            "tunable": p.name in validators, "group": group, "range": p.range_text(),
        })
    return out


def _kind(p: Param) -> str:
    if p.count:
        return "list"
    if p.kind is bool:
        return "flag"
    if p.choices:
        return "choice"
    if p.kind in (int, float):
        return p.kind.__name__
    return "text"


def _soft_hi(p: Param) -> float | None:
    """Where a slider ends: the declared top when it is near the default, else a few times it."""
    if p.kind not in (int, float) or p.count:
        return None
    base = abs(p.default) if isinstance(p.default, (int, float)) and p.default else 1
    top = max(base * 8, (p.lo or 0) + 10 if p.kind is int else base * 8)
    return p.hi if p.hi is not None and p.hi <= top else top


def validated_by(checks: Mapping[str, Validate], params: Sequence[Param]) -> dict[str, Validate]:
    """``checks`` with an empty text taken as unset for parameters whose default is unset."""
    optional = {p.name for p in params if p.default is None}
    out = {}
    for name, check in checks.items():
        def convert(text: str, check: Validate = check, name: str = name) -> Any:
            if name in optional and text.strip() == "":
                return None
            return check(text)
        out[name] = convert
    return out


def wait_playing(session: Session, timeout: float = 10.0) -> bool:
    """True once the player shows frames (for callers that measure)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if session.player is not None and session.player.playing():
            return True
        time.sleep(0.02)
    return False

