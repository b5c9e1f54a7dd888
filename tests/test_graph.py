"""The filtergraph IR: split insertion, labels, renderings, reach; and real ffmpeg accepting it.

The first part renders text only. The second runs every example graph through each ffmpeg found
(system and imageio-ffmpeg 9.x) with lavfi inputs, in all the forms it can take (``-vf`` for
anonymous graphs, ``-filter_complex``, the script option), and checks frame counts and that the
forms give identical frames. The last part checks the ffmpeg-python interop against the CLI.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ffvfx
from ffvfx.compiler.graph import Graph, Input, Stream, filter, filter_multi, source
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.toolchain import Toolchain

LABEL = re.compile(r"\[([^\]]*)\]")


def labels(text: str) -> list[str]:
    return LABEL.findall(text)


def internal_labels_ok(g: Graph) -> None:
    """Labels are plain alphanumerics (or ``N:v``); each link label is written exactly twice."""
    text = g.line()
    outs = {m[1:-1] for m in g.output_maps() if m}
    counts = Counter(labels(text))
    for name, n in counts.items():
        if re.fullmatch(r"\d+:v", name):
            assert n == 1, text
        elif name in outs:
            assert n == 1, text
        else:
            assert re.fullmatch(r"[A-Za-z0-9]+", name), text
            assert n == 2, (name, text)


# -- split ---------------------------------------------------------------------------------------
def test_stream_used_twice_gets_split() -> None:
    v = Input().video
    g = Graph(filter([v, v.filter("negate")], "blend", all_mode="average"))
    assert g.line() == "split[in1][in2];[in1]negate[negate];[in2][negate]blend=all_mode=average"
    assert g.filter_names() == {"split", "negate", "blend"}


def test_stream_used_three_times_gets_split3() -> None:
    v = Input().video
    g = Graph(filter([v, v.filter("negate"), v.filter("hflip")], "mix", 3))
    text = g.line()
    assert text.startswith("split=3[in1][in2][in3];")
    assert text.count("split") == 1
    internal_labels_ok(g)


def test_filter_output_used_twice_is_split_once() -> None:
    v = Input().video.filter("format", "gbrp", label="src")
    g = Graph(filter([v, v.filter("negate")], "blend", all_mode="average"))
    assert g.line().startswith("format=gbrp,split[src1][src2];")
    internal_labels_ok(g)


def test_stream_used_as_output_and_by_a_filter_is_split() -> None:
    v = Input().video.filter("hflip")
    g = Graph([v, v.filter("negate")])
    assert g.line().count("split[") == 1
    assert g.output_maps() == ["[out]", "[out2]"]
    internal_labels_ok(g)


# -- null head and anonymous text ----------------------------------------------------------------
@pytest.mark.parametrize("first", [True, False], ids=["input-first-pad", "input-second-pad"])
def test_input_consumed_only_by_multi_input_filter_gets_null_head(first: bool) -> None:
    v = Input().video
    bg = source("color", c="red", s="32x32", r=25, d=0.4)
    g = Graph(filter([v, bg] if first else [bg, v], "overlay", shortest=1))
    text = g.line()
    assert text.startswith("null[")
    assert "[0:v]" not in text and "[in]" not in text  # "in" is reserved for ffplay's own pad
    assert "null" in g.filter_names()
    internal_labels_ok(g)


def test_single_input_consumer_needs_no_null_head() -> None:
    g = Graph(Input().video.filter("negate"))
    assert g.line() == "negate"
    assert "null" not in g.filter_names()


def test_bare_input_as_output_renders_null() -> None:
    assert Graph(Input().video).line() == "null"


# -- labels --------------------------------------------------------------------------------------
def test_readable_names_are_kept() -> None:
    v = Input().video
    past = v.filter("tpad", start=8, label="past")
    inv = past.filter("negate").named("inverse")
    g = Graph(filter([v, inv], "blend", all_mode="average"))
    text = g.line()
    assert "[inverse]" in text
    assert "[past]" not in text  # chained straight on: no label needed
    internal_labels_ok(g)


def test_collisions_become_pastb_pastc() -> None:
    v = Input().video
    pasts = [v.filter("tpad", start=k, label="past") for k in (1, 2, 3)]
    g = Graph(filter(pasts, "mix", 3))
    text = g.line()
    for name in ("past", "pastb", "pastc"):
        assert f"[{name}]" in text
    assert not re.search(r"\[past\d", text)  # no digit suffix
    internal_labels_ok(g)


def test_many_collisions_stay_unique_alphanumeric() -> None:
    v = Input().video
    branches = [v.filter("tpad", start=k, label="past") for k in range(60)]
    g = Graph(filter(branches, "mix", 60))
    names = [n for n in labels(g.line()) if n.startswith("past")]
    assert len(set(names)) == 60
    assert all(re.fullmatch(r"past[a-z]*", n) for n in names)
    internal_labels_ok(g)


def test_labels_are_sanitised_and_reserved_names_avoided() -> None:
    a, b = Input("a.mkv"), Input("b.mkv")
    x = a.video.filter("negate", label="video_audio")
    y = b.video.filter("hflip", label="out")
    z = a.video.filter("vflip", label="in")
    w = b.video.filter("null", label="-_-")
    g = Graph([filter([x, y], "blend", all_mode="average"), filter([z, w], "blend", all_mode="average")],
              inputs=[a, b])
    found = set(labels(g.line()))
    assert "videoaudio" in found and "video_audio" not in found
    assert {"in", "v"} & found == {"v"}  # "-_-" strips to nothing -> "v"; "in" is taken
    assert "outb" in found and "inb" in found
    internal_labels_ok(g)


def test_label_of_a_split_stream_is_its_name_plus_index() -> None:
    v = Input().video.filter("format", "gbrp").named("src")
    g = Graph(filter([v, v, v], "mix", 3))
    assert "split=3[src1][src2][src3]" in g.line()


# -- renderings ----------------------------------------------------------------------------------
def example_graphs() -> dict[str, Callable[[], tuple[Graph, int, list[int]]]]:
    """Builders of (graph, number of lavfi inputs, frames per output) over 10-frame inputs."""

    def split2():
        v = Input().video
        return Graph(filter([v, v.filter("negate")], "blend", all_mode="average")), 1, [10]

    def split3():
        v = Input().video
        return Graph(filter([v, v.filter("negate"), v.filter("hflip")], "mix", 3)), 1, [10]

    def null_head_second_pad():
        bg = source("color", c="red", s="32x32", r=25, d=0.4)
        return Graph(filter([bg, Input().video], "overlay", x=4, y=4, shortest=1)), 1, [10]

    def null_head_first_pad():
        bg = source("color", c="red", s="32x32", r=25, d=0.4)
        return Graph(filter([Input().video, bg], "blend", all_mode="average", shortest=1)), 1, [10]

    def collisions():
        v = Input().video
        a, b = v.filter("tpad", start=2, label="past"), v.filter("tpad", start=3, label="past")
        return Graph(filter([a, b], "blend", all_mode="average", shortest=1)), 1, [12]

    def labelled():
        return Graph(Input().video.filter("negate"), labelled=True), 1, [10]

    def two_inputs():
        a, b = Input("a"), Input("b")
        return Graph(filter([a.video, b.video], "blend", all_mode="average"), inputs=[a, b]), 2, [10]

    def two_inputs_swapped():
        a, b = Input("a"), Input("b")
        g = Graph(filter([b.video.filter("hflip"), a.video], "blend", all_mode="difference"), inputs=[a, b])
        return g, 2, [10]

    def two_outputs():
        v = Input().video
        return Graph([v.filter("negate"), v.filter("hflip")]), 1, [10, 10]

    def three_outputs_labelled():
        v = Input().video.filter("format", "yuv420p")
        g = Graph([v.filter("negate"), v, v.filter("trim", end_frame=4)], labelled=True)
        return g, 1, [10, 10, 4]

    def numeric_and_reserved_names():
        a, b = Input("a"), Input("b")
        x = a.video.filter("negate").named("1")
        y = b.video.filter("hflip").named("0")
        z = filter([x, y], "blend", all_mode="average").named("out")
        return Graph([z.filter("null").named("in"), z.filter("vflip")], inputs=[a, b]), 2, [10, 10]

    def multi_output_filter():
        planar = Input().video.filter("format", "yuv444p")
        y, u, v = filter_multi(planar, "extractplanes", 3, "y+u+v", labels=["y", "u", "v"])
        merged = filter_multi([y, u, v], "mergeplanes", 1, mapping="0x001020", format="yuv444p")[0]
        return Graph(merged), 1, [10]

    def long_chain():
        s = Input().video
        for k in range(30):
            s = s.filter("hflip" if k % 2 else "vflip")
        return Graph(s), 1, [10]

    def tpad_tail():
        return Graph(Input().video.filter("tpad", start=3, start_mode="clone")), 1, [13]

    graphs = {f.__name__: f for f in (split2, split3, null_head_second_pad, null_head_first_pad,
                                     collisions, labelled, two_inputs, two_inputs_swapped, two_outputs,
                                     three_outputs_labelled, numeric_and_reserved_names,
                                     multi_output_filter, long_chain, tpad_tail)}
    motion_kwargs = {
        "gray": {}, "black": {"mode": "black", "strength": 2.0}, "matte": {"mode": "matte"},
        "glow": {"mode": "glow", "bloom_sigma": 8.0}, "rgb": {"mode": "rgb", "delays": (1, 2, 3)},
        "freeze": {"freeze": 2}, "graybloom": {"bloom": 0.5, "bloom_sigma": 4.0},
        "mattebloom": {"mode": "matte", "bloom": 1.0, "bloom_sigma": 2.0}, "graystrength": {"strength": 3.0},
    }
    for name, kw in motion_kwargs.items():
        def build(kw=kw):
            return Graph(ffvfx.motion(Input().video, **{"delay": 3, **kw})), 1, [10]
        graphs[f"motion_{name}"] = build
    return graphs


EXAMPLES = example_graphs()


@pytest.mark.parametrize("name", EXAMPLES)
def test_script_is_line_split_per_chain_without_comments(name: str) -> None:
    g, _, _ = EXAMPLES[name]()
    line, script = g.line(), g.script()
    assert "#" not in line and "#" not in script
    assert "\n" not in line
    assert script == line.replace(";", ";\n") + "\n"
    assert script.rstrip("\n").split(";\n") == line.split(";")
    internal_labels_ok(g)


def test_labelled_single_input_and_output() -> None:
    g = Graph(Input().video.filter("negate"), labelled=True)
    assert g.line() == "[0:v]negate[out]"
    assert g.output_maps() == ["[out]"]
    assert not g.anonymous


def test_unlabelled_single_output_maps_to_none() -> None:
    assert Graph(Input().video.filter("negate")).output_maps() == [None]


def test_multiple_inputs_are_numbered_in_order() -> None:
    a, b = Input("a.mkv"), Input("b.mkv")
    g = Graph(filter([b.video, a.video], "blend", all_mode="average"), inputs=[a, b])
    assert g.line() == "[1:v][0:v]blend=all_mode=average"
    assert [i.path for i in g.inputs] == ["a.mkv", "b.mkv"]
    # without inputs=, the order in which the graph meets them
    g2 = Graph(filter([b.video, a.video], "blend", all_mode="average"))
    assert g2.line() == "[0:v][1:v]blend=all_mode=average"
    assert [i.path for i in g2.inputs] == ["b.mkv", "a.mkv"]


def test_multiple_outputs_are_out_out2() -> None:
    v = Input().video
    g = Graph([v.filter("negate"), v.filter("hflip"), v.filter("vflip")])
    text = g.line()
    assert text.startswith("[0:v]split=3")
    for lbl in ("[out]", "[out2]", "[out3]"):
        assert text.count(lbl) == 1
    assert g.output_maps() == ["[out]", "[out2]", "[out3]"]
    # chains that end in an output come last
    assert all(c.endswith(("[out]", "[out2]", "[out3]")) for c in text.split(";")[1:])


def test_option_rendering() -> None:
    s = Input().video.filter("x", True, 0.1, [1, 2], a=False, b=1.0 / 3, c="p q", d="a:b", e="a,b")
    assert Graph(s).line() == "x=1:0.1:1 2:a=0:b=0.3333333333:c=p q:d='a\\:b':e='a,b'"


def test_mix_inputs_option_by_keyword() -> None:
    a, b = Input("a"), Input("b")
    g = Graph(filter([a.video, b.video], "mix", inputs=2, duration="first"))
    assert g.line() == "[0:v][1:v]mix=inputs=2:duration=first"


# -- reach ---------------------------------------------------------------------------------------
def test_reach() -> None:
    v = Input().video
    assert Graph(v.filter("negate")).reach() == 0
    assert Graph(v.filter("tpad", start=8)).reach() == 8
    assert Graph(v.filter("tpad")).reach() == 0
    assert Graph(v.filter("tpad", start=2).filter("tpad", start=3)).reach() == 5
    assert Graph(v.filter("tmix", frames=5)).reach() == 4
    assert Graph(v.filter("tmix")).reach() == 2  # default frames=3
    assert Graph(v.filter("tpad", start=2).filter("tmix", frames=4)).reach() == 5
    branches = filter([v.filter("tpad", start=3), v.filter("tpad", start=7).filter("negate"), v],
                      "mix", 3)
    assert Graph(branches).reach() == 7
    assert Graph(branches.filter("tpad", start=1)).reach() == 8
    assert Graph(v.filter("loop", loop=-1, size=1)).reach() == math.inf
    assert Graph(v.filter("lagfun")).reach() == math.inf
    assert Graph([v.filter("tpad", start=4), v.filter("tmix", frames=9)]).reach() == 8
    assert Graph(ffvfx.motion(Input().video, delay=8)).reach() == 8
    assert Graph(ffvfx.motion(Input().video, mode="rgb", delays=(1, 8, 32))).reach() == 32
    assert Graph(ffvfx.motion(Input().video, freeze=3)).reach() == math.inf


# -- property: random DAGs -----------------------------------------------------------------------
NAMES = st.none() | st.sampled_from(["past", "past", "in", "out", "out2", "a_b", "", "1", "split", "x"])


@st.composite
def dags(draw: st.DrawFn) -> tuple[Graph, int, int]:
    """A random graph of negate/hflip/blend over 1-2 inputs, with 1-3 outputs (all 10 frames)."""
    inputs = [Input(f"in{i}") for i in range(draw(st.integers(1, 2)))]
    pool: list[Stream] = [i.video for i in inputs]
    made: list[Stream] = []
    for _ in range(draw(st.integers(1, 7))):
        name = draw(NAMES)
        if draw(st.booleans()):
            s = draw(st.sampled_from(pool)).filter(draw(st.sampled_from(["negate", "hflip", "vflip"])),
                                                    label=name)
        else:
            a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
            s = filter([a, b], "blend", all_mode=draw(st.sampled_from(["average", "difference"])), label=name)
        pool.append(s)
        made.append(s)
    outputs = draw(st.lists(st.sampled_from(made), min_size=1, max_size=3))
    labelled = draw(st.booleans())
    return Graph(outputs, inputs=inputs, labelled=labelled), len(inputs), len(outputs)


@settings(max_examples=150, deadline=None)
@given(dags())
def test_random_graph_text_is_well_formed(case: tuple[Graph, int, int]) -> None:
    g, n_inputs, n_outputs = case
    internal_labels_ok(g)
    text = g.line()
    assert g.script() == text.replace(";", ";\n") + "\n"
    maps = g.output_maps()
    assert len(maps) == n_outputs
    if g.anonymous:
        assert maps == [None] and not text.startswith("[") and not text.endswith("]")
    else:
        assert all(text.count(m) == 1 for m in maps if m)
    # every stream used more than once went through one split
    splits = re.findall(r"split(?:=(\d+))?((?:\[[^\]]*\])+)", text)
    for n, outs in splits:
        assert int(n or 2) == len(labels(outs)) >= 2


# == real ffmpeg =================================================================================


SOURCES = ["testsrc2=s=32x32:r=25:d=0.4", "rgbtestsrc=s=32x32:r=25:d=0.4"]


def run_graph(tc: Toolchain, g: Graph, n_inputs: int, workdir: Path, form: str) -> list[list[str]]:
    """Frame md5 lines per output of ``g`` over ``n_inputs`` 10-frame lavfi inputs, in ``form``."""
    argv = [tc.ffmpeg, "-v", "error", "-nostdin", "-hide_banner"]
    for k in range(n_inputs):
        argv += ["-f", "lavfi", "-i", SOURCES[k]]
    if form == "vf":
        argv += ["-vf", g.line()]
    elif form == "filter_complex":
        argv += ["-filter_complex", g.line()]
    else:
        script = workdir / f"{form}.ffgraph"
        script.write_text(g.script())
        argv += [tc.script_option(), str(script)]
    outs = []
    for k, m in enumerate(g.output_maps()):
        out = workdir / f"{form}{k}.framemd5"
        argv += (["-map", m] if m else []) + ["-f", "framemd5", "-y", str(out)]
        outs.append(out)
    res = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"{g.line()}\n{res.stderr[-2000:]}"
    return [[ln for ln in o.read_text().splitlines() if not ln.startswith("#")] for o in outs]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_graph_runs(tc: Toolchain, tmp_path: Path, name: str) -> None:
    g, n_inputs, frames = EXAMPLES[name]()
    tc.require_filters(g.filter_names())
    forms = ["filter_complex", "script"] + (["vf"] if g.anonymous else [])
    results = {form: run_graph(tc, g, n_inputs, tmp_path, form) for form in forms}
    assert [len(o) for o in results["filter_complex"]] == frames
    for form in forms[1:]:
        assert results[form] == results["filter_complex"], form


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=dags())
def test_random_graph_runs(tc: Toolchain, tmp_path_factory: pytest.TempPathFactory,
                           case: tuple[Graph, int, int]) -> None:
    g, n_inputs, n_outputs = case
    outs = run_graph(tc, g, n_inputs, tmp_path_factory.mktemp("dag"), "filter_complex")
    assert [len(o) for o in outs] == [10] * n_outputs


@pytest.mark.parametrize("build", [
    pytest.param(lambda: (Graph(Input("a").video, labelled=True), 1, [10]), id="labelled-bare-input",
                 ),
    pytest.param(lambda: (lambda a, b: (Graph([a.video, b.video.filter("negate")], inputs=[a, b]), 2,
                                        [10, 10]))(Input("a"), Input("b")), id="input-as-second-output",
                 ),
    pytest.param(lambda: (Graph(filter_multi(Input().video, "extractplanes", 3, "y+u+v")[0]), 1, [10]),
                 id="unused-multi-outputs"),
])
def test_edge_case_graphs_run(tc: Toolchain, tmp_path: Path, build) -> None:
    g, n_inputs, frames = build()
    outs = run_graph(tc, g, n_inputs, tmp_path, "filter_complex")
    assert [len(o) for o in outs] == frames


# -- ffmpeg-python interop -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 frames of testsrc2 in Matroska (1 ms timestamps, the case the motion effect re-times)."""
    out = tmp_path_factory.mktemp("interop") / "clip.mkv"
    exe = toolchain.find().ffmpeg
    subprocess.run([exe, "-v", "error", "-nostdin", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=0.8",
                    "-c:v", "ffv1", "-y", str(out)], check=True, capture_output=True)
    return out


@pytest.mark.parametrize("kwargs", [
    {"delay": 8}, {"mode": "glow", "delay": 3}, {"mode": "rgb", "delays": (1, 2, 5)},
    {"mode": "matte", "delay": 2, "bloom": 0.5},
], ids=["gray", "glow", "rgb", "matte-bloom"])
def test_motion_on_ffmpeg_python_stream_matches_cli(tc: Toolchain, clip: Path, tmp_path: Path,
                                                   kwargs: dict) -> None:
    ffmpeg = pytest.importorskip("ffmpeg")
    stream = ffvfx.motion(ffmpeg.input(str(clip)).video, **kwargs)
    assert isinstance(stream, ffmpeg.nodes.FilterableStream)
    a = tmp_path / "python.framemd5"
    ffmpeg.output(stream, str(a), f="framemd5").run(cmd=tc.ffmpeg, quiet=True, overwrite_output=True)
    b = tmp_path / "cli.framemd5"
    line = Graph(ffvfx.motion(Input().video, **kwargs)).line()
    subprocess.run([tc.ffmpeg, "-v", "error", "-nostdin", "-i", str(clip), "-vf", line, "-f", "framemd5",
                    "-y", str(b)], check=True, capture_output=True)
    frames = [[ln for ln in p.read_text().splitlines() if not ln.startswith("#")] for p in (a, b)]
    assert len(frames[1]) == 20
    assert frames[0] == frames[1]


def test_motion_on_ffvfx_stream_stays_ffvfx() -> None:
    assert isinstance(ffvfx.motion(Input().video, delay=2), Stream)




@pytest.mark.parametrize("positional", [
    False, True], ids=["keyword", "positional"])
def test_interop_keeps_option_values(tc: Toolchain, tmp_path: Path, positional: bool) -> None:
    """Keyword values arrive intact; a positional value ffmpeg-python would alter is refused."""
    ffmpeg = pytest.importorskip("ffmpeg")
    from ffvfx.compiler.interop import to_ffmpeg_python

    value, printed = "a:b c'd", tmp_path / "printed.txt"
    inp = Input()
    s = inp.video.filter("metadata", "add", "k", value) if positional else \
        inp.video.filter("metadata", mode="add", key="k", value=value)
    s = s.filter("metadata", mode="print", file=str(printed))
    bindings = {inp: ffmpeg.input("color=s=16x16:d=0.04", f="lavfi").video}
    if positional:
        with pytest.raises(ValueError, match="ffmpeg-python"):
            to_ffmpeg_python(s, bindings)
        return
    fp = to_ffmpeg_python(s, bindings)
    ffmpeg.output(fp, "-", f="null").run(cmd=tc.ffmpeg, quiet=True)
    assert printed.read_text().partition("\n")[2] == f"k={value}\n"


def test_extra_inputs_as_movie_sources_match_filter_complex(tc: Toolchain, tmp_path: Path) -> None:
    """``movies=True`` turns side-file inputs into escaped ``movie=`` sources: the one-line graph
    then runs as ``-vf`` with a single input (as ffplay needs) and gives the same frames as the
    two-input ``-filter_complex`` form."""
    side = tmp_path / "it's, a;[mask] 1.mkv"
    subprocess.run([tc.ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=64x48:r=25:d=0.4",
                    "-c:v", "ffv1", str(side)], check=True)
    main, extra = Input(), Input(str(side), label="mask")
    out = filter([main.video.filter("format", "gbrp"), extra.video.filter("format", "gbrp")],
                 "blend", all_mode="difference")
    common = [tc.ffmpeg, "-v", "error", "-f", "lavfi", "-i", "color=c=gray:s=64x48:r=25:d=0.4"]
    vf = subprocess.run(common + ["-vf", Graph(out, [main, extra], movies=True).line(),
                                  "-f", "framemd5", "-"], capture_output=True, text=True)
    fc = subprocess.run(common + ["-i", str(side), "-filter_complex", Graph(out, [main, extra]).line(),
                                  "-f", "framemd5", "-"], capture_output=True, text=True)
    assert vf.returncode == 0 and fc.returncode == 0, vf.stderr + fc.stderr
    frames = [ln for ln in vf.stdout.splitlines() if not ln.startswith("#")]
    assert len(frames) == 10
    assert frames == [ln for ln in fc.stdout.splitlines() if not ln.startswith("#")]
