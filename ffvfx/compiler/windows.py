"""Effects whose graph depends on where their input starts, and the per-frame value slices they
take: what lets a render be cut into segments (:mod:`ffvfx.scale.segments`) without the effect
knowing about segments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ffvfx.compiler.graph import Stream

Effect = Callable[[Stream], Stream]


class Windowed:
    """An effect whose graph depends on where its input starts: per-frame values indexed by the
    frame number in the rendered range (camera shifts, parallax crops, exposure gains) or a looped
    background's phase. ``build(first, frames)`` gives the effect for a stream whose first frame is
    frame ``first``, ``frames`` long (None: to the end); called as it is, it is the whole range."""

    def __init__(self, build: Callable[[int, int | None], Effect]):
        self.build = build

    def __call__(self, stream: Stream) -> Stream:
        return self.build(0, None)(stream)

    def window(self, first: int, frames: int | None) -> Effect:
        return self.build(first, frames)


def window(values: list, first: int, frames: int | None, extra: int = 0) -> list:
    """``values[first:first + frames + extra]`` (to the end when ``frames`` is None): per-frame
    values for a segment, ``extra`` more for branches a delay makes longer."""
    return list(values[first:] if frames is None else values[first:first + frames + extra])


def per_frame(apply: Callable[..., Stream], **values: object) -> Windowed:
    """The effect ``apply(stream, **values)`` with each of ``values`` cut to the segment rendered:
    a per-frame list by :func:`window`, anything with a ``window(first, frames)`` method (a
    register hook) by that; None stays None (a value left out, as gains that change nothing)."""
    def build(first: int, frames: int | None) -> Effect:
        cut = {name: None if v is None else v.window(first, frames) if hasattr(v, "window")
               else window(v, first, frames) for name, v in values.items()}
        return lambda stream: apply(stream, **cut)
    return Windowed(build)


@dataclass(frozen=True)
class Segment:
    """Output frames ``first`` .. ``first + frames - 1`` of the rendered range (0-based; ``frames``
    None: to the end), decoded from ``preroll`` frames earlier."""

    index: int
    first: int
    frames: int | None
    preroll: int

    @property
    def decoded_from(self) -> int:
        return self.first - self.preroll

    @property
    def decoded(self) -> int | None:
        return None if self.frames is None else self.preroll + self.frames

    def describe(self) -> str:
        last = "end" if self.frames is None else str(self.first + self.frames - 1)
        return f"segment {self.index + 1} (frames {self.first}-{last})"

    def effect(self, effect: Effect) -> Effect:
        """``effect`` as this segment's graph needs it (see :class:`Windowed`)."""
        if isinstance(effect, Windowed):
            return effect.window(self.decoded_from, self.decoded)
        return effect

    def trimmed(self, stream: Stream) -> Stream:
        """The pre-roll cut off the effect's output, timestamps from 0 again."""
        if self.preroll == 0 and self.frames is None:
            return stream
        opts: dict[str, object] = {"start_frame": self.preroll} if self.preroll else {}
        if self.frames is not None:
            opts["end_frame"] = self.preroll + self.frames
        return stream.filter("trim", **opts).filter("setpts", "PTS-STARTPTS", label="segment")
