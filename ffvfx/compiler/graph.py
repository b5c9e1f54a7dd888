"""The filtergraph IR: streams, filter nodes, inputs; rendered to ffmpeg's filtergraph text.

Effects build graphs by calling ``stream.filter(...)``; this module knows filters only as names
and options. It inserts ``split`` where a stream is used twice, picks readable unique labels,
escapes every option value, and renders one line (``-vf``/``-filter_complex``), a script with
one chain per line (``-/filter_complex FILE``), and the temporal reach of the graph.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ffvfx.compiler import escape
from ffvfx.compiler.numbers import decimal

# Past frames a filter reaches back, from its options (math.inf: unbounded).
_REACH = {
    "tpad": lambda o: int(o.get("start", 0)),
    "tmix": lambda o: int(o.get("frames", 3)) - 1,
    "lagfun": lambda o: math.inf,
    "loop": lambda o: math.inf,
}
# Filters that need frames after the one they output (math.inf: to the end).
_AHEAD = {
    "minterpolate": lambda o: math.inf,
    "reverse": lambda o: math.inf,
}
# Options that count frames from the first one a filter sees (a segment would restart the count).
_FRAME_COUNTING = re.compile(r"(?<![A-Za-z_])(n|in|N)(?![A-Za-z_(])")
_COUNTING_OPTIONS = {"trim": ("start_frame", "end_frame", "start", "end", "duration"),
                     "select": None}  # None: every option


class Stream:
    """One output pad of a node; filters are chained onto it with :meth:`filter`."""

    __slots__ = ("node", "pad")

    def __init__(self, node: Node, pad: int = 0):
        self.node = node
        self.pad = pad

    def filter(self, name: str, /, *args: object, label: str | None = None, **opts: object) -> Stream:
        """This stream through filter ``name`` (single input, single output)."""
        return Filter(name, [self], args, opts, labels=[label]).out[0]

    def named(self, label: str) -> Stream:
        """Name this stream (``[past]``, ``[motion]``) wherever it needs a label in the text."""
        self.node.labels[self.pad] = label
        return self

    def _key(self) -> tuple[int, int]:
        return (id(self.node), self.pad)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stream) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Stream({self.node.name}:{self.pad})"


class Node:
    """A vertex of the graph: an input file or a filter."""

    name = "node"

    def __init__(self, inputs: Sequence[Stream], outputs: int, labels: Sequence[str | None] = ()):
        self.inputs = list(inputs)
        self.labels: list[str | None] = list(labels) + [None] * (outputs - len(labels))
        self.out = [Stream(self, i) for i in range(outputs)]


class Input(Node):
    """A media input (``-i PATH``); ``path=None`` is the anonymous main input of a printed graph.

    ``options`` go before ``-i`` (``-stream_loop -1``); ``movie_options`` are what the same input
    needs as a ``movie=`` source in printed and preview graphs (``{"loop": 0}``). ``aligned``: frame
    n of this file goes with frame n of the main input (a matte, a mask, painted patches), so a
    segment of the render seeks it with the main input; stills and looped backgrounds are not.
    ``rate`` (frames per second) and ``size`` ((width, height) px), when known, are what the
    timing model puts this input's frames on (:func:`ffvfx.compiler.timeline.regular`): a rendered
    job gives its main input and the side files aligned with it the main input's probed rate, so
    they pair frame for frame even when the file's own timestamps are irregular. ``seek(first,
    end)``: the options (``-ss``/``-t``) that make an aligned input yield the frames that go with
    the main input's frames ``[first, end)`` (end None: to the last); a render calls it with its
    range or segment.
    """

    name = "input"

    def __init__(self, path: str | None = None, options: Sequence[str] = (), label: str = "in",
                 movie_options: dict[str, object] | None = None, aligned: bool = False,
                 rate: Fraction | None = None, size: tuple[int, int] | None = None,
                 seek: Callable[[int, int | None], list[str]] | None = None):
        super().__init__([], 1, [label])
        self.path = path
        self.options = list(options)
        self.movie_options = dict(movie_options or {})
        self.aligned = aligned
        self.rate = rate
        self.size = size
        self.seek = seek

    @property
    def video(self) -> Stream:
        return self.out[0]


class Filter(Node):
    """A filter instance: ``name=opt=value:...`` with its inputs and outputs."""

    def __init__(self, name: str, inputs: Sequence[Stream], args: Sequence[object] = (),
                 opts: dict[str, object] | None = None, outputs: int = 1,
                 labels: Sequence[str | None] = ()):
        super().__init__(inputs, outputs, labels)
        self.name = name
        self.args = list(args)
        self.opts = dict(opts or {})

    def text(self) -> str:
        """``name=args`` with every value escaped for both parser levels."""
        parts = [_graph_token(escape.option_value(_value(a))) for a in self.args]
        parts += [f"{k}={_graph_token(escape.option_value(_value(v)))}" for k, v in self.opts.items()]
        return self.name + ("=" + ":".join(parts) if parts else "")

    def reach(self) -> float:
        rule = _REACH.get(self.name)
        return rule(self.opts) if rule else 0

    def ahead(self) -> float:
        rule = _AHEAD.get(self.name)
        return rule(self.opts) if rule else 0

    def counts_frames(self) -> bool:
        """Its options number frames from the first one it sees (``crop=x='if(lt(n,40),..)'``,
        ``trim=start_frame``); ``setpts`` is left out: a restarted clock moves every input alike."""
        if self.name in ("setpts", "asetpts"):
            return False
        if self.name in _COUNTING_OPTIONS:
            keys = _COUNTING_OPTIONS[self.name]
            return any(keys is None or k in keys for k in self.opts) or bool(self.args)
        values = [str(v) for v in (*self.args, *self.opts.values()) if isinstance(v, str)]
        return any(_FRAME_COUNTING.search(v) for v in values)


def filter(inputs: Stream | Sequence[Stream], name: str, /, *args: object, label: str | None = None,
           **opts: object) -> Stream:
    """A single-output filter over one or more input streams (``blend``, ``mix``, ``overlay``)."""
    streams = [inputs] if isinstance(inputs, Stream) else list(inputs)
    return Filter(name, streams, args, opts, labels=[label]).out[0]


def filter_multi(inputs: Stream | Sequence[Stream], name: str, outputs: int, /, *args: object,
                 labels: Sequence[str | None] = (), **opts: object) -> list[Stream]:
    """A filter with several outputs (``extractplanes``); returns its output streams."""
    streams = [inputs] if isinstance(inputs, Stream) else list(inputs)
    return Filter(name, streams, args, opts, outputs=outputs, labels=labels).out


def source(name: str, /, *args: object, label: str | None = None, **opts: object) -> Stream:
    """A source filter with no inputs (``color``, ``movie``)."""
    return Filter(name, [], args, opts, labels=[label]).out[0]


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, numbers.Real) and not isinstance(v, numbers.Rational):  # float, numpy floats
        return decimal(v)  # 10 significant digits, never an exponent (``1e-05``)
    if isinstance(v, (list, tuple)):
        return " ".join(_value(x) for x in v)
    return str(v)


def _graph_token(token: str) -> str:
    """Protect one option-level token for the graph parser: quote it, or backslash-escape it."""
    if not any(c in token for c in escape.GRAPH_SPECIALS) and token == token.strip(" \n\t\r"):
        return token
    if "'" not in token:
        return f"'{token}'"
    return escape.filter_args(token)


class _Edge:
    """A link in the lowered graph: used exactly once (``split`` already inserted)."""

    __slots__ = ("hint", "input_index", "producer")

    def __init__(self, hint: str, input_index: int | None = None, producer: _Op | None = None):
        self.hint = hint
        self.input_index = input_index
        self.producer = producer


class _Op:
    """A filter in the lowered graph, with its text and its edges (``node``: the effect's filter
    it was made from; None for an inserted ``split``/``null``/``nullsink`` or a ``movie=``)."""

    __slots__ = ("text", "ins", "outs", "node")

    def __init__(self, text: str, ins: list[_Edge], n_out: int, hints: Sequence[str],
                 node: Filter | None = None):
        self.text = text
        self.ins = ins
        self.outs = [_Edge(h, producer=self) for h in hints[:n_out]]
        self.node = node

    def shown(self, target: str | None, skeleton: bool) -> str:
        """Its text, named ``filter@id`` when ``target`` is given; with ``skeleton`` the option
        values of an effect's filter become ``?`` (its positional arguments stay)."""
        text = self.text
        if skeleton and self.node is not None:
            keyed = [f"{k}=?" for k in self.node.opts]
            args = [_graph_token(escape.option_value(_value(a))) for a in self.node.args]
            text = self.node.name + ("=" + ":".join(args + keyed) if args or keyed else "")
        if target is None:
            return text
        return target + text[len(text.split("=", 1)[0]):]


@dataclass(frozen=True)
class Instance:
    """One filter of a rendered graph by the instance name :meth:`Graph.line` writes with
    ``instances=True`` (``blend@f7``), its filter and its option values as ffmpeg receives them
    (unescaped text; positional arguments are not there)."""

    target: str
    filter: str
    options: dict[str, str]


class Graph:
    """A filtergraph from its output streams back to its inputs, ready to render."""

    def __init__(self, outputs: Stream | Sequence[Stream], inputs: Sequence[Input] = (),
                 labelled: bool = False, movies: bool = False):
        """``labelled``: always write ``[0:v]`` inputs and ``[out]`` outputs (for ``-map``).

        ``movies``: every input but the first becomes a ``movie=`` source inside the graph, so a
        graph with side files (masks, plates) runs where only one input exists (``ffplay -vf``).
        """
        self.labelled = labelled
        self.movies = movies
        self.outputs = [outputs] if isinstance(outputs, Stream) else list(outputs)
        nodes = self._collect()
        found = [n for n in nodes if isinstance(n, Input)]
        self.inputs = list(inputs) + [n for n in found if n not in inputs]
        self.filters = [n for n in nodes if isinstance(n, Filter)]

    def _collect(self) -> list[Node]:
        """Every node the outputs depend on, in dependency order (inputs first)."""
        order: list[Node] = []
        seen: set[int] = set()

        def visit(node: Node) -> None:
            if id(node) in seen:
                return
            seen.add(id(node))
            for s in node.inputs:
                visit(s.node)
            order.append(node)

        for s in self.outputs:
            visit(s.node)
        return order

    # -- queries ---------------------------------------------------------------------------
    def filter_names(self) -> set[str]:
        """Names of all filters the rendered graph uses (inserted ``split``/``null`` included)."""
        ops, _ = self._lower()
        return {op.text.split("=", 1)[0] for op in ops}

    def reach(self) -> float:
        """Past frames of the main input one output frame depends on (max over outputs;
        ``math.inf``: unbounded).

        Only paths from the main input and inputs ``aligned`` with it count: a still background
        looped forever (``loop``) does not make the graph depend on the input's past.
        """
        return self._span(Filter.reach)

    def ahead(self) -> float:
        """Frames after an output frame it depends on (``minterpolate``: ``math.inf``)."""
        return self._span(Filter.ahead)

    def _span(self, own: Callable[[Filter], float]) -> float:
        timed = {id(n) for n in self.inputs[:1]} | {id(n) for n in self.inputs if n.aligned}
        memo: dict[int, float] = {}

        def node_span(node: Node) -> float:
            if id(node) not in memo:
                if isinstance(node, Input):
                    memo[id(node)] = 0 if id(node) in timed else -math.inf
                else:
                    upstream = max((node_span(s.node) for s in node.inputs), default=-math.inf)
                    memo[id(node)] = upstream + own(node) if upstream > -math.inf else upstream
            return memo[id(node)]

        return max(0, max(node_span(s.node) for s in self.outputs))

    def consumers(self) -> dict[Stream, list[Filter]]:
        """The filters reading each stream, in dependency order (one reading it twice, twice): a
        stream with more than one needs a ``split`` (ffmpeg links each pad to one reader)."""
        readers: dict[Stream, list[Filter]] = {}
        for node in self.filters:
            for s in node.inputs:
                readers.setdefault(s, []).append(node)
        return readers

    def frame_counting(self) -> list[str]:
        """Names of the filters whose options number frames from the start (see
        :meth:`Filter.counts_frames`): a graph with them is only right for a segment when it was
        built for that segment."""
        return sorted({f.name for f in self.filters if f.counts_frames()})

    @property
    def anonymous(self) -> bool:
        """One input and one output: both ends print unlabelled (works in -vf, -filter_complex, ffplay)."""
        inputs = 1 if self.movies else len(self.inputs)
        return inputs == 1 and len(self.outputs) == 1 and not self.labelled

    # -- lowering ----------------------------------------------------------------------------
    def _lower(self) -> tuple[list[_Op], list[_Edge]]:
        """Ops in dependency order with ``split`` inserted for every stream used more than once."""
        uses = {s: len(readers) for s, readers in self.consumers().items()}
        for s in self.outputs:
            uses[s] = uses.get(s, 0) + 1

        ops: list[_Op] = []
        pool: dict[Stream, list[_Edge]] = {}

        def publish(s: Stream, edge: _Edge) -> None:
            n = uses.get(s, 0)
            if n <= 1:
                pool[s] = [edge]
                return
            base = edge.hint
            split = _Op("split" + (f"={n}" if n > 2 else ""), [edge], n,
                        [f"{base}{i + 1}" for i in range(n)])
            ops.append(split)
            pool[s] = list(split.outs)

        for i, inp in enumerate(self.inputs):
            if self.movies and i > 0:
                if inp.path is None:
                    raise ValueError("a movie= source needs the input's path")
                movie = Filter("movie", [], [], {"filename": escape.media_path(inp.path),
                                                 **escape.movie_options(inp.path),
                                                 **inp.movie_options})
                op = _Op(movie.text(), [], 1, [inp.labels[0] or "movie"])
                ops.append(op)
                publish(inp.video, op.outs[0])
            else:
                publish(inp.video, _Edge(inp.labels[0] or "in", input_index=i))
        for node in self.filters:
            ins = [pool[s].pop(0) for s in node.inputs]
            op = _Op(node.text(), ins, len(node.out),
                     [lbl or node.name for lbl in node.labels], node=node)
            ops.append(op)
            for s, edge in zip(node.out, op.outs, strict=True):
                publish(s, edge)
        outs = [pool[s].pop(0) for s in self.outputs]
        consumed = {id(e) for op in ops for e in op.ins} | {id(e) for e in outs}
        for op in list(ops):  # pads nobody reads (one plane of extractplanes) end in nullsink
            ops += [_Op("nullsink", [e], 0, []) for e in op.outs if id(e) not in consumed]
        if not self.anonymous:  # an input that is itself an output needs a filter to carry it
            for k, e in enumerate(outs):
                if e.input_index is not None:
                    head = _Op("null", [e], 1, ["out"])
                    ops.append(head)
                    outs[k] = head.outs[0]
        if self.anonymous:
            outs = _open_chain(ops, outs)
        return ops, outs

    def _render(self, sep: str, instances: bool = False, skeleton: bool = False) -> str:
        ops, outs = self._lower()
        targets = {id(op): _target(op, i) if instances else None for i, op in enumerate(ops)}
        single_out = len(outs) == 1 and not self.labelled
        out_text = {id(e): ("" if single_out else f"[{_out_label(i)}]") for i, e in enumerate(outs)}
        consumer = {id(e): op for op in ops for e in op.ins}

        def follows(op: _Op) -> bool:
            """``op`` continues its producer's chain with no label between them."""
            if len(op.ins) != 1 or op.ins[0].producer is None:
                return False
            prev = op.ins[0].producer
            return len(prev.outs) == 1 and id(op.ins[0]) not in out_text

        chains: list[list[_Op]] = []
        for op in ops:
            if not follows(op):
                chain = [op]
                while len(chain[-1].outs) == 1 and (nxt := consumer.get(id(chain[-1].outs[0]))) \
                        and follows(nxt):
                    chain.append(nxt)
                chains.append(chain)
        # The main input's chain first (ffplay binds the graph's unlabelled input to the first
        # filter), the chain ending in the graph's output last; the rest keep dependency order.
        def place(chain: list[_Op]) -> int:
            if any(e.input_index == 0 for e in chain[0].ins):
                return 0
            return 2 if any(id(e) in out_text for e in chain[-1].outs) else 1

        chains.sort(key=place)

        taken = {"in", "out"} | {_out_label(i) for i in range(len(outs))}
        labels: dict[int, str] = {}

        def label(e: _Edge) -> str:
            if id(e) not in labels:
                base = _LABEL_CHARS.sub("", e.hint) or "v"
                name, k = base, 0
                while name in taken:  # past, pastb, pastc: a digit suffix would read as a number
                    name, k = base + _SUFFIXES[k % 25] * (k // 25 + 1), k + 1
                taken.add(name)
                labels[id(e)] = name
            return labels[id(e)]

        def pad_in(e: _Edge) -> str:
            if e.input_index is not None:
                return "" if self.anonymous else f"[{e.input_index}:v]"
            return f"[{label(e)}]"

        lines = []
        for chain in chains:
            parts = []
            for k, op in enumerate(chain):
                text = ("".join(map(pad_in, op.ins)) if k == 0 else "") + op.shown(targets[id(op)], skeleton)
                if k == len(chain) - 1:
                    text += "".join(out_text[id(e)] if id(e) in out_text else f"[{label(e)}]"
                                    for e in op.outs)
                parts.append(text)
            lines.append(",".join(parts))
        return sep.join(lines)

    def line(self, instances: bool = False) -> str:
        """The whole graph on one line, for ``-vf``, ``-filter_complex`` and ``ffplay -vf``.

        ``instances``: every filter named ``filter@fN`` (N its place in the lowered graph), so a
        running graph takes commands for it (``zmq``, ``sendcmd``); see :meth:`instances`.
        """
        return self._render(";", instances)

    def script(self, instances: bool = False) -> str:
        """One chain per line, for ``-/filter_complex FILE`` (no comments: ffmpeg rejects them)."""
        return self._render(";\n", instances) + "\n"

    def shape(self) -> str:
        """The graph with its filters' option values left out: two graphs with the same shape
        have the same filters, order, wiring, option names and positional arguments, and differ
        only in values a running graph may take as commands."""
        return self._render(";", instances=True, skeleton=True)

    def instances(self) -> list[Instance]:
        """The effect's filters as :meth:`line` names them with ``instances=True``, in order."""
        ops, _ = self._lower()
        return [Instance(_target(op, i), op.node.name, {k: _value(v) for k, v in op.node.opts.items()})
                for i, op in enumerate(ops) if op.node is not None]

    def output_maps(self) -> list[str | None]:
        """``-map`` targets of the outputs in order (None: the single unlabelled output)."""
        if len(self.outputs) == 1 and not self.labelled:
            return [None]
        return [f"[{_out_label(i)}]" for i in range(len(self.outputs))]


def _open_chain(ops: list[_Op], outs: list[_Edge]) -> list[_Edge]:
    """An anonymous graph's lone input made the first pad of a single-input filter that opens a
    chain (a ``null`` put in front when it is not); ``ops`` changed in place, the outputs returned."""
    edge = next((e for op in ops for e in op.ins if e.input_index is not None),
                None) or next(e for e in outs if e.input_index is not None)
    consumer = next((op for op in ops if edge in op.ins), None)
    if consumer is None or len(consumer.ins) > 1:
        head = _Op("null", [edge], 1, ["in"])
        for op in ops:
            op.ins = [head.outs[0] if e is edge else e for e in op.ins]
        outs = [head.outs[0] if e is edge else e for e in outs]
        ops.insert(0, head)
    return outs


def _target(op: _Op, index: int) -> str:
    """``blend@f7``: the instance name of the lowered graph's op number ``index``."""
    return f"{op.text.split('=', 1)[0]}@f{index}"


def _out_label(i: int) -> str:
    return "out" if i == 0 else f"out{i + 1}"


_LABEL_CHARS = re.compile(r"[^A-Za-z0-9]")
_SUFFIXES = "bcdefghijklmnopqrstuvwxyz"
