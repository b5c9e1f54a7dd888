"""Effect parameters declared once: name, unit, range, default and help.

Each effect module lists its user-facing parameters in ``PARAMS``, a tuple of :class:`Param` in
the order the command line shows them. The command's options (:mod:`ffvfx.cli.declared`), the
README's parameter tables (:func:`table`) and the presets (:mod:`ffvfx.pipelines.presets`) are
made from those declarations, so a default, a range or a help line is written in one place.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ffvfx.compiler.numbers import range_text
from ffvfx.errors import FfvfxError


@dataclass(frozen=True)
class Param:
    """One user-facing parameter: an option ``--name`` (``_`` written ``-``) and a keyword.

    ``kind``: ``int`` or ``float`` (a number between ``lo`` and ``hi``, an end left out when
    ``lo_open``/``hi_open``; ``count``: a comma list of exactly that many, written like
    ``example``), ``str`` (``choices``: one of them), ``bool`` (a flag; default True: an on/off
    pair ``--name/--no-name``) or ``Path`` (a file the effect reads, or one of ``words``).
    ``unit`` names what a number counts (``frames``, ``seconds``, ``pixels``); ``default`` None:
    unset. ``flags``: the option's spellings when not ``--name``. ``keyword``: the effect
    function's keyword when not ``name``; ``effect`` False: the function takes no such keyword
    (the command turns the value into another first: seconds into frames, a path into a stream).
    """

    name: str
    kind: type
    default: Any = None
    help: str = ""
    unit: str | None = None
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] = ()
    count: int | None = None
    example: str = "1,2"
    words: str = ""
    required: bool = False
    flags: tuple[str, ...] = ()
    keyword: str | None = None
    effect: bool = True

    @property
    def option(self) -> str:
        """The option's first long spelling: ``--bloom-sigma``, ``--ghost``."""
        return self.flags[0] if self.flags else "--" + self.name.replace("_", "-")

    @property
    def argument(self) -> str:
        """The effect function's keyword for this value."""
        return self.keyword or self.name

    def range_text(self) -> str:
        """``1..1000``, ``> 0 and <= 1000``, ``>= 0``; empty when unbounded."""
        return range_text(self.lo, self.hi, self.lo_open, self.hi_open)

    def text(self, value: Any) -> str:
        """``value`` as the option takes it: ``1,8,32``, ``0.7``, ``8``, ``gray``."""
        if isinstance(value, (tuple, list)):
            return ",".join(self.text(v) for v in value)
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    def check(self, value: Any) -> None:
        """Refuse (FfvfxError, one line naming the option) a value the declaration does not take."""
        if value is None and self.default is None and not self.required:
            return
        if self.count is not None:
            if not isinstance(value, (tuple, list)) or len(value) != self.count:
                raise FfvfxError(f"{self.option} takes {self.count} numbers like {self.example} "
                                 f"(got {value!r})")
            for v in value:
                self._check_number(v)
        elif self.kind in (int, float):
            self._check_number(value)
        elif self.choices and value not in self.choices:
            raise FfvfxError(f"{self.option}: choose one of {', '.join(self.choices)} (got {value!r})")

    def _check_number(self, value: Any) -> None:
        whole = self.kind is int
        ok = isinstance(value, int if whole else (int, float)) and not isinstance(value, bool) \
            and math.isfinite(value)
        if ok and self.lo is not None:
            ok = value > self.lo if self.lo_open else value >= self.lo
        if ok and self.hi is not None:
            ok = value < self.hi if self.hi_open else value <= self.hi
        if not ok:
            noun = "a whole number" if whole else "a finite number"
            unit = f" of {self.unit}" if self.unit else ""
            raise FfvfxError(f"{self.option} must be {noun}{unit} {self.range_text()} (got {value!r})")


def defaults(params: Iterable[Param]) -> dict[str, Any]:
    """Every declared parameter's default, by name."""
    return {p.name: p.default for p in params}


def keywords(params: Iterable[Param], values: Mapping[str, Any]) -> dict[str, Any]:
    """The effect function's keywords for ``values`` (named as the declarations; unset ones at
    their default), leaving out what the function does not take (``effect`` False)."""
    given = {**defaults(params), **values}
    return {p.argument: given[p.name] for p in params if p.effect}


def check(params: Iterable[Param], values: Mapping[str, Any]) -> None:
    """Refuse a value outside its declaration, or a name no declaration has."""
    declared = {p.name: p for p in params}
    for name, value in values.items():
        if name not in declared:
            raise FfvfxError(f"unknown parameter {name!r}: choose from {', '.join(declared)}")
        declared[name].check(value)


def table(params: Iterable[Param]) -> list[str]:
    """A markdown table of the declarations: option, Python keyword (empty: the command's alone),
    unit, range, default, help."""
    lines = ["| option | keyword | unit | range | default | what it does |", "|---|---|---|---|---|---|"]
    for p in params:
        rng = p.range_text()
        if p.count:
            rng = f"{p.count} x {rng}" if rng else f"{p.count} numbers"
        elif p.choices:
            rng = " ".join(f"`{c}`" for c in p.choices)
        elif p.kind is Path:
            rng = "a file" + (f" or {p.words}" if p.words else "")
        default = "required" if p.required else "" if p.default is None else f"`{p.text(p.default)}`"
        spelled = " ".join(f"`{f}`" for f in (p.flags or (p.option,)))
        if p.kind is bool and p.default is True:
            spelled = f"`{p.option}` / `--no-{p.option[2:]}`"
        keyword = f"`{p.argument}`" if p.effect else ""
        cells = [spelled, keyword, p.unit or "", rng, default, p.help]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return lines
