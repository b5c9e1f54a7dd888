"""Child processes (ffmpeg, ffprobe, ffplay, a batch's ffvfx) that die with the ffvfx that started them.

Ctrl-C and SIGTERM stop children through ffvfx's own clean-up, but ``kill -9`` (or the OOM killer)
gives ffvfx no chance: its ffmpeg would go on writing a temporary file nobody will ever rename or
remove, holding CPU, a GPU session or a camera. On Linux each child asks the kernel, between fork
and exec, for SIGKILL when its parent goes (``prctl(PR_SET_PDEATHSIG)``), and exits at once if the
parent is already gone by then. Elsewhere children start as before.

The kernel sends that signal when the *thread* that started the child ends, so a child must be
waited for by the thread that started it, as every caller in ffvfx does (segments and batch runs
each start and wait in one worker thread). Every child ffvfx starts goes through :func:`popen` or
:func:`run`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence

_PR_SET_PDEATHSIG = 1


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, looked up once in the parent (never between fork and exec); None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


def _tie_to(parent: int, prctl: Callable[..., int]) -> Callable[[], None]:
    """What the child runs before exec: SIGKILL when ``parent`` goes, or exit if it already went."""
    def tie() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died between fork and prctl
            os._exit(1)
    return tie


def _tied(kwargs: dict) -> dict:
    prctl = _prctl()
    if prctl is None or "preexec_fn" in kwargs:
        return kwargs
    return {**kwargs, "preexec_fn": _tie_to(os.getpid(), prctl)}


def popen(argv: Sequence[str], **kwargs) -> subprocess.Popen:
    """``subprocess.Popen(argv, **kwargs)`` for a child that dies with this process."""
    return subprocess.Popen(list(argv), **_tied(kwargs))


def run(argv: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(argv, **kwargs)`` for a child that dies with this process."""
    return subprocess.run(list(argv), **_tied(kwargs))
