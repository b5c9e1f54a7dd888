"""``ffvfx tune EFFECT INPUT [options]``: the effect playing in ffplay while a local page (or keys in
the terminal) changes its parameters; on quit the ``ffvfx`` command and the graph are printed.

The subcommands take the effect command's own options (:mod:`ffvfx.cli.declared`), and the page's
values go through the same click types, so a value the command line refuses is refused there too.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
import webbrowser
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from ffvfx.cli.declared import options, param_type, text_type
from ffvfx.cli.inpaint import CARRY_OPTIONS, PAINTING_OPTIONS, PICKS
from ffvfx.cli.inpaint import options_of as inpaint_options
from ffvfx.cli.options import Number
from ffvfx.cli.paths import INPUT_PATH
from ffvfx.cli.render import LIVE_SOURCE_OPTIONS, notes
from ffvfx.cli.studio import AI_NAMES, AI_OPTIONS, NO_LIGHT_PROMPT, STUDIO_OPTIONS
from ffvfx.compiler.params import Param
from ffvfx.ffmpeg import sources
from ffvfx.pipelines import inpaint, studio
from ffvfx.pipelines.tune import EFFECTS, Session, Tunable, stored, validated_by
from ffvfx.pipelines.tune_server import TuneServer

_ARROWS = {"\x1b[A": "+", "\x1b[B": "-", "\x1b[C": "]", "\x1b[D": "["}


def validator(param: Param) -> Callable[[str], Any]:
    """The command line's conversion of ``param``'s text, then its declaration's check; ValueError
    with the command line's wording when refused."""
    kind = text_type(param)

    def convert(text: str) -> Any:
        try:
            value = kind.convert(text, None, None)
        except click.ClickException as exc:
            raise ValueError(f"{param.option}: {exc.format_message()}") from None
        if isinstance(value, list):
            value = tuple(value)
        param.check(value)
        return value
    return convert


def _validators(tunable: Tunable) -> dict[str, Callable[[str], Any]]:
    """One per parameter the page may change: not the files (ALPHA, --alpha, --bg)."""
    checks = {p.name: validator(p) for p in tunable.params
              if p.kind is not Path and p.name not in tunable.positional}
    return validated_by(checks, tunable.params)


_LIVE_DOC = ("Options any running filter takes as a command change within a few frames; others "
             "(delays, layers, modes) restart the player at the same frame (a camera or --lavfi at "
             "once). Quit with the page's button, q in ffplay, or Ctrl-C: the ffvfx command and the "
             "graph are printed on stdout.")


def _subcommand(tunable: Tunable, generation: Sequence[Callable] = (),
                make: Callable[[dict[str, Any]], Tunable] | None = None) -> click.Command:
    """``tune EFFECT``: the effect's options; ``generation``: options that select stored assets
    (not on the page), which ``make`` takes out of the parsed values to make the session's
    :class:`Tunable`."""
    own = [p for p in tunable.params if p.name not in tunable.positional]

    def run(input: str | None, camera: str | None, lavfi: str | None, size: str | None,
            fps: float | None, no_browser: bool, port: int, sink: str | None, **values: Any) -> None:
        chosen = make(values) if make else tunable
        positional = {n: values.pop(n) for n in chosen.positional}
        tune(chosen, input, (camera, lavfi, size, fps), no_browser, port, sink, {**values, **positional})

    if make is None:
        run.__doc__ = (f"Play `ffvfx {tunable.command}` on INPUT (a file, looped; demo; webcam; "
                       "/dev/videoN; --camera SPEC; --lavfi GRAPH) and change its options live from a "
                       "local page.\n\n" + _LIVE_DOC)
    else:
        side = tunable.positional[0].upper()
        run.__doc__ = (f"Play `ffvfx {tunable.command}` on INPUT and {side} with the assets a `ffvfx "
                       f"{tunable.command} INPUT {side} OUT ...` run stored for the same generation "
                       "options (refused when there are none: tune runs no model) and change its "
                       "render-time options live from a local page.\n\n" + _LIVE_DOC)
    command = options(own)(run)
    for decorate in reversed([*_shared(tunable), *generation]):
        command = decorate(command)
    return click.command(tunable.command)(command)


def _shared(tunable: Tunable) -> list[Callable]:
    declared = {p.name: p for p in tunable.params}
    extra = [click.argument(n, required=True, type=param_type(declared[n])) for n in tunable.positional]
    return [
        click.argument("input", required=False, type=INPUT_PATH),
        *extra,
        *LIVE_SOURCE_OPTIONS,
        click.option("--no-browser", is_flag=True, help="Do not open the page (its address is "
                     "printed); step the main options with keys in the terminal."),
        click.option("--port", type=Number(int, 0, 65535), default=0,
                     help="Serve the page on this port of 127.0.0.1 (default: any free one)."),
        click.option("--sink", hidden=True, help="Write raw gray frames here instead of opening "
                     "ffplay (tests, benchmarks)."),
    ]


def _given_words(names: Sequence[str]) -> list[str]:
    """The options among ``names`` given on this command line, as ``--option=value`` words."""
    ctx = click.get_current_context()
    words = []
    for param in ctx.command.params:
        if param.name not in names or ctx.get_parameter_source(param.name) is ParameterSource.DEFAULT:
            continue
        value, flag = ctx.params[param.name], param.opts[0]
        if isinstance(value, bool):
            words += [flag] if value else []
        elif isinstance(value, (tuple, list)):
            words.append(f"{flag}={','.join(map(str, value))}")
        else:
            words.append(f"{flag}={value}")
    return words


_STUDIO_NAMES = (*AI_NAMES, "controlnet", "depth_model", "bg_margin", "no_light_prompt")
_INPAINT_NAMES = ("prompt", "negative", "seed", "steps", "strength", "guidance", "resolution", "model",
                  "device", "candidates", "grow", "sensitivity", "max_group", "keyframes", "propagate",
                  "blend", "picks")


def _studio(values: dict[str, Any]) -> Tunable:
    words = _given_words(_STUDIO_NAMES)
    asked = {n: values.pop(n) for n in _STUDIO_NAMES}
    asked["light_prompt"] = not asked.pop("no_light_prompt")
    return stored("studio", studio.Options(**asked), words)


def _inpaint(values: dict[str, Any]) -> Tunable:
    words = _given_words(_INPAINT_NAMES)
    return stored("inpaint", inpaint_options(redo=None, **{n: values.pop(n) for n in _INPAINT_NAMES}),
                  words)


def tune(tunable: Tunable, spec: str | None, live: tuple[str | None, str | None, str | None, float | None],
         no_browser: bool, port: int, sink: str | None, values: dict[str, Any]) -> None:
    """Run one tuning session until it is quit; the summary on stdout. ``live``: ``--camera``,
    ``--lavfi``, ``--size``, ``--fps``."""
    camera, lavfi, size, fps = live
    if spec is None and camera is None and lavfi is None:
        raise click.UsageError("give INPUT (a file, demo, webcam, /dev/videoN), --camera SPEC or "
                               "--lavfi GRAPH")
    source = sources.choose(spec, camera, lavfi, size, fps)
    say = notes(False)
    session = Session(tunable, values, _validators(tunable), source, spec=camera or lavfi or spec,
                      camera=camera is not None, lavfi=lavfi is not None, sink=sink, say=say)
    server = TuneServer(session, port).start()
    try:
        say(f"tune page {server.url}")
        if not no_browser:
            webbrowser.open(server.url)
        session.start()
        with _keyboard(session, say):
            reason = session.run()
        if reason not in ("page", "key", "the player was closed"):
            say(reason)
    except KeyboardInterrupt:
        pass
    finally:
        session.stop()
        server.stop()
    click.echo(session.summary())


@contextlib.contextmanager
def _keyboard(session: Session, say: Callable[[str], None]) -> Iterator[None]:
    """Keys in the terminal (cbreak mode, only when stdin is a terminal) step the main options."""
    if not sys.stdin.isatty() or os.name != "posix":
        yield
        return
    import termios
    import tty
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    stop = threading.Event()
    keys = ", ".join(f"{k} {n}" for k, (n, _) in session.tunable.keys.items())
    say(f"keys: arrows or {keys}; m cycles {session.tunable.cycle}; q quits")
    thread = threading.Thread(target=_read_keys, args=(session, fd, stop, say), daemon=True)
    try:
        tty.setcbreak(fd)
        thread.start()
        yield
    finally:
        stop.set()
        thread.join(timeout=1)
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_keys(session: Session, fd: int, stop: threading.Event, say: Callable[[str], None]) -> None:
    while not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            continue
        data = os.read(fd, 8).decode(errors="replace")
        key = _ARROWS.get(data, data[:1])
        if key == "q":
            session.call(lambda: session.quit("key"))
            return
        try:
            line = session.call(lambda key=key: session.step(key))
        except Exception as exc:  # noqa: BLE001 (a key must never end the session)
            line = str(exc)
        if line:
            say(line)


@click.group("tune")
def tune_command() -> None:
    """Tune an effect live: ffplay shows it, a local page changes it (tune motion INPUT ...)."""


for _tunable in EFFECTS.values():
    tune_command.add_command(_subcommand(_tunable))
tune_command.add_command(_subcommand(stored("studio", studio.Options(""), ()),
                                     [*AI_OPTIONS, *STUDIO_OPTIONS, NO_LIGHT_PROMPT], _studio))
tune_command.add_command(_subcommand(stored("inpaint", inpaint.Options(""), ()),
                                     [*PAINTING_OPTIONS, *CARRY_OPTIONS, PICKS], _inpaint))
