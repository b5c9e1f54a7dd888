"""The ``ffvfx`` command: each command parses its options, calls one pipeline function
(:mod:`ffvfx.pipelines`) and prints what it did.

One module per command (``motion``, ``trails``, ``composite``, ``loop``, ``matte``, ``plate``,
``studio`` with ``generate``, ``inpaint``, ``demo``, ``doctor``, ``batch``, ``tune``); the options every
render command shares are :mod:`ffvfx.cli.render`'s. :func:`run_cli` turns every user error into
one line on stderr and an exit code.
"""

from __future__ import annotations

import signal
import sys

import click

from ffvfx.cli.batch import batch_command
from ffvfx.cli.composite import composite_command
from ffvfx.cli.demo import demo_command
from ffvfx.cli.doctor import doctor_command
from ffvfx.cli.inpaint import inpaint_command
from ffvfx.cli.loop import loop_command
from ffvfx.cli.matte import matte_command
from ffvfx.cli.motion import motion_command
from ffvfx.cli.plate import plate_command
from ffvfx.cli.studio import generate_command, studio_command
from ffvfx.cli.trails import trails_command
from ffvfx.cli.tune import tune_command
from ffvfx.errors import FfvfxError

COMMANDS = (motion_command, trails_command, loop_command, plate_command, composite_command, matte_command,
            generate_command, studio_command, inpaint_command, batch_command, demo_command, doctor_command,
            tune_command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ffvfx")
def main() -> None:
    """Artistic video effects compiled to ffmpeg filtergraphs."""


for _command in COMMANDS:
    main.add_command(_command)


def _quiet_opencv() -> None:
    """OpenCV's own log lines (``[ WARN:0@...] findDecoder imread_...``) off: ffvfx says what went
    wrong in its one line."""
    import cv2
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


def run_cli(argv: list[str] | None = None) -> int:
    """Entry point: one line on stderr and a non-zero exit for every user error, no traceback."""
    _quiet_opencv()
    try:
        code = main.main(args=argv, prog_name="ffvfx", standalone_mode=False)
        if isinstance(code, int):  # click returns an Exit's code when not standalone
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:  # a bad option or argument: a user error like any other
        click.echo(f"ffvfx: error: {exc.format_message()}", err=True)
        return 1
    except click.Abort:
        click.echo("ffvfx: interrupted", err=True)
        return 130
    except FfvfxError as exc:
        click.echo(f"ffvfx: error: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        click.echo("ffvfx: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return 1
    except OSError as exc:  # a file or folder that cannot be made or read (read-only, /proc, full)
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"ffvfx: error: {where}{exc.strerror or exc}", err=True)
        return 1
    return 0


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C: ffmpeg stopped, partial output removed


def entry() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(run_cli())
