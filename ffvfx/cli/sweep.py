"""``--sweep PARAM=V1,V2,...`` and ``--sheet N``: the options that turn a render command into a
grid of its variants (:mod:`ffvfx.pipelines.sweep`) or a contact sheet (:mod:`ffvfx.pipelines.sheet`).

:func:`sweepable` adds both to a command whose effect declares its parameters (``PARAMS``,
:mod:`ffvfx.compiler.params`). The rules of ``--sweep``:

- PARAM is an effect parameter's option as typed, with or without its dashes and with ``-`` or
  ``_`` (``delay``, ``--bloom-sigma``, ``bloom_sigma``, ``ghost``); anything else (``crf``,
  INPUT, a side file such as trails' ``--alpha``) is refused in one line that lists the names
  that sweep.
- The values are separated by commas (``delay=4,8,16``); a parameter that itself takes a comma
  list separates its variants with ``/`` (``delays=1,8,32/2,4,16``, ``shift-bg=0,0/12,-4``). Each
  value passes the option's own type (range, finite, choices; ``on``/``off`` for a flag), refused
  in one line naming the value, before anything runs; a value never reaches ffmpeg as text other
  than an escaped option value.
- Several ``--sweep`` make their product: the first sweep runs along the columns, the second
  down the rows; with three or more, the rows run through every combination of the second and
  later sweeps, the last changing fastest. At most :data:`~ffvfx.effects.grid.MAX_TILES` tiles;
  a parameter may be swept once. A swept parameter's own option, when also given, is overridden.
- Each tile is captioned with its swept settings, one a line (``delay=8``, ``bloom-sigma=4``),
  in a band below it.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ffvfx.cli.declared import text_type
from ffvfx.cli.options import Number
from ffvfx.cli.render import notes, show
from ffvfx.compiler.params import Param
from ffvfx.effects.grid import MAX_SHEET, MAX_TILES
from ffvfx.pipelines import sweep
from ffvfx.pipelines.delivery import RenderOptions

SHEET = Number(int, 1, MAX_SHEET, unit="frames")
"""--sheet: frames on the contact sheet."""


@dataclass(frozen=True)
class Axis:
    """One ``--sweep``: the parameter and its values (as the command takes them, and as shown)."""

    param: Param
    values: tuple[Any, ...]
    texts: tuple[str, ...]

    @property
    def name(self) -> str:
        """The option's name without dashes: ``bloom-sigma``, ``ghost``."""
        return self.param.option[2:]


def sweepable_params(params: Sequence[Param]) -> list[Param]:
    """The parameters ``--sweep`` takes: every declared one but the side files the command reads
    (a ``Path`` the effect function does not take, such as trails' ``--alpha``)."""
    return [p for p in params if not (p.kind is Path and not p.effect)]


def spellings(param: Param) -> list[str]:
    """The names a sweep may call ``param`` by, normalised (``bloom_sigma``; ``ghost``, ``operator``)."""
    options = [param.option, *param.flags, "--" + param.name]
    return list(dict.fromkeys(_normal(o) for o in options))


def _normal(name: str) -> str:
    return name.strip().lstrip("-").replace("-", "_").lower()


def _refused(spec: str, why: str) -> click.UsageError:
    return click.UsageError(f"--sweep {_shown(spec)}: {why}")


def _shown(text: str) -> str:
    return text if len(text) <= 60 and text.isprintable() else repr(text[:60])


def axis(spec: str, params: Sequence[Param], unswept: Mapping[str, str] | None = None) -> Axis:
    """``PARAM=V1,V2,...`` as an :class:`Axis` of ``params``; one line for anything else
    (``unswept``: options of the command that do not sweep, by name, with the reason)."""
    names = ", ".join(p.option[2:] for p in params)
    name, sep, listed = spec.partition("=")
    if not sep or not name.strip():
        raise _refused(spec, f"give PARAM=V1,V2,... with PARAM one of {names}")
    found = next((p for p in params if _normal(name) in spellings(p)), None)
    why = {_normal(k): v for k, v in (unswept or {}).items()}.get(_normal(name))
    if found is None and why:
        raise _refused(spec, f"{name.strip()} {why}; sweep one of {names}")
    if found is None:
        raise _refused(spec, f"{name.strip()} is not a parameter of this effect; sweep one of {names}")
    pieces = listed.split("/" if found.count else ",")
    values = tuple(_value(spec, found, piece) for piece in pieces)
    return Axis(found, values, tuple(found.text(v) for v in values))


def _value(spec: str, param: Param, piece: str) -> Any:
    """One swept value through the option's own click type (``on``/``off`` for a flag)."""
    if not piece.strip():
        raise _refused(spec, f"an empty value (separate the values of {param.option} with "
                       f"{'/' if param.count else ','})")
    kind = text_type(param)
    try:
        text = piece.strip() if param.kind in (int, float, bool) or param.choices else piece
        return kind.convert(text, None, None)
    except click.BadParameter as exc:
        hint = " (separate its variants with /)" if param.count else ""
        raise _refused(spec, f"{param.option}: {exc.message}{hint}") from None


def axes(specs: Sequence[str], params: Sequence[Param],
         unswept: Mapping[str, str] | None = None) -> list[Axis]:
    """Every ``--sweep`` as an :class:`Axis`; one line for a parameter swept twice or a grid of
    more than :data:`~ffvfx.effects.grid.MAX_TILES` tiles."""
    out = [axis(spec, params, unswept) for spec in specs]
    seen: set[str] = set()
    for a in out:
        if a.param.name in seen:
            raise click.UsageError(f"--sweep {a.name}: swept twice; list all its values in one --sweep")
        seen.add(a.param.name)
    count = math.prod(len(a.values) for a in out)
    if count > MAX_TILES:
        shape = " x ".join(str(len(a.values)) for a in out)
        raise click.UsageError(f"--sweep: {shape} = {count} variants; at most {MAX_TILES} in one grid")
    return out


def variants(sweeps: Sequence[Axis]) -> list[tuple[dict[str, Any], list[str]]]:
    """The grid's variants in tile order (row by row): each one's values by parameter name and
    its caption, a line per sweep (``delay=8``). The first sweep changes along a row; the rows go
    through the others' combinations, the last sweep changing fastest."""
    first, rest = sweeps[0], sweeps[1:]
    out = []
    for row in itertools.product(*(range(len(a.values)) for a in rest)):
        for col in range(len(first.values)):
            picks = [(first, col), *zip(rest, row, strict=True)]
            values = {a.param.name: a.values[k] for a, k in picks}
            caption = [f"{a.name}={a.texts[k]}" for a, k in picks]
            out.append((values, caption))
    return out


def sweepable(params: Sequence[Param],
              unswept: Mapping[str, str] | None = None) -> Callable[[Callable], Callable]:
    """A decorator adding ``--sweep`` and ``--sheet`` to a render command (below
    :func:`~ffvfx.cli.render.render_options`, which hands it the render options): with a sweep the
    command's body runs once per variant to collect it, then the grid is delivered. ``unswept``:
    the command's other options that a sweep refuses with a reason (``seed``: "selects the
    generation: each value would be a diffusion run"), by option name."""
    swept = sweepable_params(params)
    needed = [p for p in swept if p.required]

    def decorate(func: Callable) -> Callable:
        _given_by_sweep(func, needed)

        @functools.wraps(func)
        def command(render_opts: RenderOptions, **kw: Any) -> None:
            specs = kw.pop("sweep")
            if not specs:
                return func(render_opts, **kw)
            sweeps = axes(specs, swept, unswept)
            tiles = [sweep.collect(functools.partial(_body, func, {**kw, **values}), render_opts, caption)
                     for values, caption in variants(sweeps)]
            say = notes(render_opts.quiet)
            show(sweep.render(tiles, len(sweeps[0].values), render_opts, say=say), render_opts.quiet)

        command = click.option(
            "--sweep", "sweep", multiple=True, metavar="PARAM=V1,V2,...",
            help=f"Render these values of PARAM side by side, captioned (one graph); repeat for a "
            f"grid (first along the columns, second down the rows; at most {MAX_TILES} tiles). "
            "PARAM: one of " + ", ".join(p.option[2:] for p in swept) + ".")(command)
        return click.option(
            "--sheet", type=SHEET, metavar="N",
            help="Write a PNG contact sheet of N frames spread evenly over the clip (or the "
            "--start/--duration range) instead of the video.")(command)
    return decorate


def _given_by_sweep(func: Callable, needed: Sequence[Param]) -> None:
    """Let a sweep give the required options of ``needed`` on ``func``'s click parameters: each
    one's default becomes the first value its ``--sweep`` lists, if one does (click reads an
    option left out after those given, so ``--sweep`` is known by then), else what it was, so
    click's own ``Missing option`` refusal stands. The option's help and settings stay as they are."""
    by_name = {p.name: p for p in needed}
    for option in getattr(func, "__click_params__", []):
        if option.name in by_name:
            option.default = functools.partial(_swept_default, by_name[option.name], option.default)


def _swept_default(param: Param, otherwise: Any) -> Any:
    ctx = click.get_current_context(silent=True)
    for spec in (ctx.params.get("sweep") or ()) if ctx is not None else ():
        name, sep, listed = spec.partition("=")
        values = [v for v in listed.split("/" if param.count else ",") if v.strip()]
        if sep and _normal(name) in spellings(param) and values:
            return values[0]  # a stand-in: the sweep's own values are checked and used
    return otherwise() if callable(otherwise) else otherwise


def _body(func: Callable, kw: dict[str, Any], render_opts: RenderOptions) -> None:
    func(render_opts, **kw)
