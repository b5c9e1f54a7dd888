"""ffmpeg-python interop: effects take ffmpeg-python streams and hand one back.

``ffvfx.trails(ffmpeg.input("a.mp4").video, layers=4)`` builds the effect on placeholder inputs,
one per ffmpeg-python stream among the arguments (side inputs too: ``alpha=``, ``bg=``, the mattes
of ``compare``), then replays its filters as ffmpeg-python nodes, adding the ``split`` nodes
ffmpeg-python itself would refuse to infer. Files an effect reads itself (a background image or
video) become ``ffmpeg.input`` nodes. ffmpeg-python escapes option values on its side.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import ffmpeg

from ffvfx.compiler.graph import Filter, Graph, Input, Stream, _value


def to_ffmpeg_python(output: Stream, bindings: dict[Input, Any] | None = None) -> Any:
    """The ffmpeg-python stream equivalent to ``output``, with ``bindings`` for its inputs.

    An input with a file path and no binding is read as ``ffmpeg.input(path, ...)`` with its
    options (``-stream_loop -1``); the anonymous main input (no path) must be bound.
    """
    bindings = dict(bindings or {})
    graph = Graph(output)
    readers = graph.consumers()
    pool: dict[Stream, list[Any]] = {}

    def publish(s: Stream, fp: Any) -> None:
        n = len(readers.get(s, ())) or 1
        if n == 1:
            pool[s] = [fp]
        else:
            split = fp.filter_multi_output("split", *([n] if n > 2 else []))
            pool[s] = [split.stream(i) for i in range(n)]

    for inp in graph.inputs:
        if inp not in bindings and inp.path is None:
            raise ValueError("no ffmpeg-python stream bound to the main input: give the effect "
                             "ffmpeg-python streams only, or bind every ffvfx Input")
        publish(inp.video, bindings[inp] if inp in bindings else _file(inp))
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
    return ffmpeg.input(node.text(), f="lavfi").video


def _file(inp: Input) -> Any:
    """A file input the effect reads itself as ``ffmpeg.input``, its ``-key value`` options kept."""
    opts = inp.options
    if len(opts) % 2 or not all(k.startswith("-") for k in opts[::2]):
        raise ValueError(f"input options {opts!r} are not -key value pairs")
    return ffmpeg.input(inp.path, **{k[1:]: v for k, v in zip(opts[::2], opts[1::2], strict=True)}).video


def accepts_ffmpeg_python(effect: Callable[..., Stream]) -> Callable[..., Any]:
    """Let ``effect`` take ffmpeg-python streams wherever it takes streams (positional, keyword, or
    inside a list or tuple) and then return one; given only ffvfx Streams it returns an ffvfx Stream.
    The same ffmpeg-python stream given twice is one input."""

    @functools.wraps(effect)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bindings: dict[Any, Input] = {}

        def placeholder(value: Any) -> Any:
            if isinstance(value, ffmpeg.nodes.FilterableStream):
                if value not in bindings:
                    bindings[value] = Input(label=f"in{len(bindings)}" if bindings else "in")
                return bindings[value].video
            if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
                return type(value)(placeholder(v) for v in value)
            return value

        out = effect(*[placeholder(a) for a in args], **{k: placeholder(v) for k, v in kwargs.items()})
        if not bindings:
            return out
        return to_ffmpeg_python(out, {inp: fp for fp, inp in bindings.items()})

    return wrapper
