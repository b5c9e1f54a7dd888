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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from ffvfx.cli.declared import options, param_type
from ffvfx.cli.options import Number
from ffvfx.cli.paths import INPUT_PATH
from ffvfx.cli.render import notes
from ffvfx.compiler.params import Param
from ffvfx.ffmpeg import sources
from ffvfx.pipelines.tune import EFFECTS, Session, Tunable, validated_by
from ffvfx.pipelines.tune_server import TuneServer

_ARROWS = {"\x1b[A": "+", "\x1b[B": "-", "\x1b[C": "]", "\x1b[D": "["}


def validator(param: Param) -> Callable[[str], Any]:
    """The command line's conversion of ``param``'s text, then its declaration's check; ValueError
    with the command line's wording when refused."""
    kind = click.BOOL if param.kind is bool else param_type(param) or click.STRING

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


def _subcommand(tunable: Tunable) -> click.Command:
    own = [p for p in tunable.params if p.name not in tunable.positional]

    def run(input: str | None, camera: str | None, size: str | None, fps: float | None,
            no_browser: bool, port: int, sink: str | None, **values: Any) -> None:
        positional = {n: values.pop(n) for n in tunable.positional}
        tune(tunable, input, camera, size, fps, no_browser, port, sink, {**values, **positional})

    run.__doc__ = (f"Play `ffvfx {tunable.command}` on INPUT (a file, looped; demo; webcam; "
                   "/dev/videoN) and change its options live from a local page.\n\n"
                   "Options any running filter takes as a command change within a few frames; "
                   "others (delays, layers, modes) restart ffplay at the same frame. Quit with the "
                   "page's button, q in ffplay, or Ctrl-C: the ffvfx command and the graph are "
                   "printed on stdout.")
    command = options(own)(run)
    for decorate in reversed(_shared(tunable)):
        command = decorate(command)
    return click.command(tunable.command)(command)


def _shared(tunable: Tunable) -> list[Callable]:
    extra = [click.argument(n, required=True, type=INPUT_PATH) for n in tunable.positional]
    return [
        click.argument("input", required=False, type=INPUT_PATH),
        *extra,
        click.option("--camera", metavar="SPEC", help="Read a camera instead of INPUT: webcam, "
                     "/dev/video0, v4l2:DEVICE, avfoundation:INDEX, dshow:video=NAME."),
        click.option("--size", help="Camera capture size, e.g. 1280x720."),
        click.option("--fps", type=Number(float, 0, 1000, min_open=True, unit="fps"),
                     help="Camera capture rate."),
        click.option("--no-browser", is_flag=True, help="Do not open the page (its address is "
                     "printed); step the main options with keys in the terminal."),
        click.option("--port", type=Number(int, 0, 65535), default=0,
                     help="Serve the page on this port of 127.0.0.1 (default: any free one)."),
        click.option("--sink", hidden=True, help="Write raw gray frames here instead of opening "
                     "ffplay (tests, benchmarks)."),
    ]


def tune(tunable: Tunable, spec: str | None, camera: str | None, size: str | None, fps: float | None,
         no_browser: bool, port: int, sink: str | None, values: dict[str, Any]) -> None:
    """Run one tuning session until it is quit; the summary on stdout."""
    if spec is None and camera is None:
        raise click.UsageError("give INPUT (a file, demo, webcam, /dev/videoN) or --camera SPEC")
    source = sources.choose(spec, camera, None, size, fps)
    say = notes(False)
    session = Session(tunable, values, _validators(tunable), source, spec=camera or spec,
                      camera=camera is not None, sink=sink, say=say)
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
