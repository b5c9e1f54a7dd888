"""ffmpeg-python interop: effects take an ffmpeg-python stream and hand one back.

``ffvfx.motion(ffmpeg.input("a.mp4").video, delay=8)`` builds the effect on a placeholder input,
then replays its filters as ffmpeg-python nodes, adding the ``split`` nodes ffmpeg-python itself
would refuse to infer. ffmpeg-python escapes option values on its side.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ffvfx.compiler.graph import Filter, Graph, Input, Stream, _value


def to_ffmpeg_python(output: Stream, bindings: dict[Input, Any]) -> Any:
    """The ffmpeg-python stream equivalent to ``output``, with ``bindings`` for its inputs."""
    import ffmpeg

    graph = Graph(output)
    uses: dict[Stream, int] = {}
    for node in graph.filters:
        for s in node.inputs:
            uses[s] = uses.get(s, 0) + 1
    pool: dict[Stream, list[Any]] = {}

    def publish(s: Stream, fp: Any) -> None:
        n = uses.get(s, 1)
        if n == 1:
            pool[s] = [fp]
        else:
            split = fp.filter_multi_output("split", *([n] if n > 2 else []))
            pool[s] = [split.stream(i) for i in range(n)]

    for inp in graph.inputs:
        if inp not in bindings:
            raise ValueError(f"no ffmpeg-python stream bound to input {inp.path!r}")
        publish(inp.video, bindings[inp])
    for node in graph.filters:
        streams = [pool[s].pop(0) for s in node.inputs]
        args = [_value(a) for a in node.args]
        if any(c in a for a in args for c in "\\'=:"):
            # ffmpeg-python 0.2 escapes positional values twice: such a value would arrive altered.
            raise ValueError(f"{node.name}: positional value {args!r} cannot pass through ffmpeg-python")
        opts = {k: _value(v) for k, v in node.opts.items()}
        if len(node.out) == 1:
            outs = [ffmpeg.filter(streams, node.name, *args, **opts) if streams else _source(node)]
        else:
            multi = ffmpeg.filter_multi_output(streams, node.name, *args, **opts)
            outs = [multi.stream(i) for i in range(len(node.out))]
        for s, fp in zip(node.out, outs, strict=True):
            publish(s, fp)
    return pool[output][0]


def _source(node: Filter) -> Any:
    """A source filter (``color``, ``movie``) as an ffmpeg-python lavfi input."""
    import ffmpeg
    return ffmpeg.input(node.text(), f="lavfi").video


def accepts_ffmpeg_python(effect: Callable[..., Stream]) -> Callable[..., Any]:
    """Let ``effect`` take an ffvfx Stream (returns one) or an ffmpeg-python stream (returns one)."""

    @functools.wraps(effect)
    def wrapper(stream: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(stream, Stream):
            return effect(stream, *args, **kwargs)
        placeholder = Input()
        return to_ffmpeg_python(effect(placeholder.video, *args, **kwargs), {placeholder: stream})

    return wrapper
