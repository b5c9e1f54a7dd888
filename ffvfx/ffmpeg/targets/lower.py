"""The lowering pass: a logical graph rewritten for a :class:`~ffvfx.ffmpeg.targets.Plan`.

With hardware decode the main input's frames are in device memory; with hardware encode the
output must be. The effect's filters run on the CPU, so the pass:

1. keeps on the device the chain right after the decoder that it can (filters with an exact GPU
   twin, and timing filters between them), while it is a plain chain (one consumer per link);
2. likewise the chain right before the encoder;
3. puts one ``hwdownload,format=nv12`` (``p010le`` for 10-bit) where the head chain ends and one
   upload where the tail chain begins.

So a frame crosses the bus at most once each way, and no CPU filter is fed a device frame. Side
inputs (mattes, plates) are decoded on the CPU and never leave it.
"""

from __future__ import annotations

from ffvfx.compiler.graph import Filter, Graph, Input, Node, Stream
from ffvfx.ffmpeg.targets import TIMING_FILTERS, Plan


def lower(output: Stream, main: Input, plan: Plan) -> Stream:
    """``output`` (a graph reading ``main``) as ``plan`` runs it; unchanged for the CPU."""
    if not plan.on_device:
        return output
    graph = Graph(output, [main])
    uses = graph.consumers()
    target = plan.target
    head, tail, whole = _device_chains(output, main, plan, uses)
    down_at = (head[-1].out[0] if head else main.video) if plan.decode and not whole else None
    up_at = (tail[0].inputs[0] if tail else output) if plan.encode and not whole else None

    mapped: dict[Stream, Stream] = {}

    def place(s: Stream, new: Stream) -> None:
        if s == down_at:
            new = new.filter("hwdownload").filter("format", plan.sw_format, label="decoded")
        if s == up_at:
            chain = target.upload(plan.device)
            if chain and chain[0][0] == "format" and s != down_at and _is_format(new) \
                    and len(uses.get(s, [])) <= (1 if tail else 0):
                new.node.args = list(chain[0][1])  # format=yuv420p,format=nv12 is one format=nv12
                chain = chain[1:]
            for name, args, opts in chain:
                new = new.filter(name, *args, **opts)
        mapped[s] = new

    for inp in graph.inputs:  # side inputs stay in system memory as they are
        place(inp.video, inp.video)
    gpu = set(map(id, head + tail))
    for node in graph.filters:
        ins = [mapped[s] for s in node.inputs]
        name, opts = node.name, node.opts
        if id(node) in gpu and node.name not in TIMING_FILTERS:
            name, opts = target.gpu_twin(node.name, node.opts)
        clone = Filter(name, ins, node.args, opts, outputs=len(node.out), labels=node.labels)
        for old, new in zip(node.out, clone.out, strict=True):
            place(old, new)
    return mapped[output]


def _device_chains(output: Stream, main: Input, plan: Plan,
                   uses: dict[Stream, list[Filter]]) -> tuple[list[Filter], list[Filter], bool]:
    """The filters that stay on the device: the head chain after the decoder, the tail chain
    before the encoder (steps 1 and 2 of the module docstring), and whether the whole graph does."""
    target = plan.target

    def on_gpu(node: Node) -> bool:
        """A plain link (one in, one out) that can take device frames."""
        if not (isinstance(node, Filter) and len(node.inputs) == 1 and len(node.out) == 1):
            return False
        return node.name in TIMING_FILTERS or (
            not node.args and target.gpu_twin(node.name, node.opts) is not None)

    head: list[Filter] = []
    s = main.video
    while plan.decode and s != output and len(uses.get(s, [])) == 1 and on_gpu(uses[s][0]):
        head.append(uses[s][0])
        s = head[-1].out[0]
    whole = plan.decode and plan.encode and s == output  # no download, no upload at all
    tail: list[Filter] = []
    s = output
    while plan.encode and not whole and not uses.get(output) and on_gpu(s.node) \
            and s.node not in head:
        tail.insert(0, s.node)
        s = s.node.inputs[0]
        if len(uses.get(s, [])) != 1:
            break
    if not whole:  # timing filters at the CPU end gain nothing from moving
        while head and head[-1].name in TIMING_FILTERS:
            head.pop()
        while tail and tail[0].name in TIMING_FILTERS:
            tail.pop(0)
    return head, tail, whole


def _is_format(s: Stream) -> bool:
    return isinstance(s.node, Filter) and s.node.name == "format" and len(s.node.out) == 1
