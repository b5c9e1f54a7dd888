"""Click options made from an effect's parameter declarations (``PARAMS``, :mod:`ffvfx.compiler.params`).

``@options(motion.PARAMS)`` adds ``--mode``, ``--delay`` ... in declaration order, each through the
command line's own types (:class:`~ffvfx.cli.options.Number`, :class:`~ffvfx.cli.options.Numbers`,
:class:`~ffvfx.cli.paths.InputPath`), so the help, the defaults and the one-line refusals are the
ones a hand-written ``click.option`` with the same settings gives. The value reaches the command
under the declaration's ``name`` (``delay_s``, ``operator``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from ffvfx.cli.options import Number, Numbers
from ffvfx.cli.paths import INPUT_PATH, InputPath
from ffvfx.compiler.params import Param


def param_type(param: Param) -> click.ParamType | None:
    """The click type that takes ``param``'s values (None: plain text)."""
    if param.kind in (int, float):
        number = Number(param.kind, param.lo, param.hi, min_open=param.lo_open, max_open=param.hi_open,
                        unit=param.unit)
        return Numbers(number, param.count, example=param.example) if param.count else number
    if param.choices:
        return click.Choice(param.choices)
    if param.kind is Path:
        return InputPath(param.words) if param.words else INPUT_PATH
    return None


def text_type(param: Param) -> click.ParamType:
    """The click type that turns one value of ``param`` typed as text (``--sweep``'s values, the
    tune page's) into the option's value: the option's own type, ``on``/``off``/``true``... for a flag."""
    return click.BOOL if param.kind is bool else param_type(param) or click.STRING


def option(param: Param) -> Callable[[Callable], Callable]:
    """The ``click.option`` decorator for one declaration."""
    decls = list(param.flags) or [param.option]
    settings: dict[str, Any] = {"help": param.help}
    if param.kind is bool:
        if param.default:
            decls = [f"{param.option}/--no-{param.option[2:]}"]
            settings.update(default=True, show_default=True)
        else:
            settings["is_flag"] = True
        return click.option(*decls, param.name, **settings)
    kind = param_type(param)
    if kind is not None:
        settings["type"] = kind
    if param.required:
        settings["required"] = True
    if param.default is not None:
        settings.update(default=param.text(param.default) if param.count else param.default,
                        show_default=True)
    return click.option(*decls, param.name, **settings)


def options(params: Iterable[Param], names: Sequence[str] | None = None) -> Callable[[Callable], Callable]:
    """A decorator adding the options of ``params`` (only ``names``, in that order, when given),
    shown in the help in declaration order."""
    chosen = list(params)
    if names is not None:
        by_name = {p.name: p for p in chosen}
        chosen = [by_name[n] for n in names]

    def decorate(func: Callable) -> Callable:
        for param in reversed(chosen):
            func = option(param)(func)
        return func

    return decorate
