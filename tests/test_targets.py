"""GPU targets without a GPU: lowered graphs checked for structure, parsed by the real ffmpeg, kept
as golden files, and the target choice tested against simulated machines.

Goldens live in ``tests/golden/hw/``; ``FFVFX_UPDATE_GOLDEN=1 pytest tests/test_targets.py``
rewrites them (read the diff before committing). The structure checker below parses ffmpeg's
filtergraph syntax itself and knows nothing of ffvfx's lowering.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import ffvfx_argv

from ffvfx.compiler.graph import Graph, Input
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.probe import VideoInfo
from ffvfx.ffmpeg.targets import Plan, decode_problem
from ffvfx.ffmpeg.targets import probe as hw_probe
from ffvfx.ffmpeg.targets.cuda import CUDA
from ffvfx.ffmpeg.targets.lower import lower
from ffvfx.ffmpeg.targets.qsv import QSV
from ffvfx.ffmpeg.targets.vaapi import VAAPI

GOLDEN = Path(__file__).parent / "golden" / "hw"
TARGETS = ("cuda", "vaapi", "qsv")
EFFECTS = {
    "motion": ["motion", "in.mp4", "--delay", "8"],
    "motion-black-bloom": ["motion", "in.mp4", "--mode", "black", "--bloom"],
    "motion-rgb": ["motion", "in.mp4", "--mode", "rgb"],
    "trails": ["trails", "in.mp4", "--no-compensate"],
    "trails-glow": ["trails", "in.mp4", "--no-compensate", "--ghost", "glow"],
    "composite": ["composite", "in.mp4", "in.alpha.mkv", "--bg", "0x2040A0"],
}
# Not golden (the camera path and mask depend on the decoder), structure and parse only.
MORE_EFFECTS = {
    "trails-compensated": ["trails", "in.mp4"],
    "trails-mask": ["trails", "in.mp4", "--mask"],
    "motion-freeze": ["motion", "in.mp4", "--freeze", "0"],
    "composite-image": ["composite", "in.mp4", "in.alpha.mkv", "--bg", "plate.png", "--feather", "2"],
}


# -- an independent reading of ffmpeg's filtergraph syntax ------------------------------------
def _split(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside quotes and backslash escapes."""
    parts, cur, quoted, i = [], "", False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            cur += text[i:i + 2]
            i += 2
            continue
        if c == "'":
            quoted = not quoted
        if c == sep and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def parse_graph(text: str) -> list[dict]:
    """Filters as dicts: name, ins (link names), outs; chains linked with made-up link names."""
    nodes, k = [], 0
    for chain in _split(text, ";"):
        chain = chain.strip()
        if not chain:
            continue
        prev = None
        for j, spec in enumerate(_split(chain, ",")):
            spec = spec.strip()
            ins = re.findall(r"^\[([^]]+)\]", spec)
            while (m := re.match(r"^\[([^]]+)\]", spec)):
                ins.append(m.group(1)) if m.group(1) not in ins else None
                spec = spec[m.end():]
            outs = []
            while (m := re.search(r"\[([^]]+)\]$", spec)):
                outs.insert(0, m.group(1))
                spec = spec[:m.start()]
            ins = list(dict.fromkeys(ins))
            if prev is not None:
                ins = [prev] + ins
            elif not ins and j == 0 and not nodes:
                ins = ["<main>"]
            name = spec.split("=", 1)[0]
            if not outs:
                k += 1
                outs = [f"<link{k}>"]
            nodes.append({"name": name, "text": spec, "ins": ins, "outs": outs})
            prev = outs[0] if len(outs) == 1 and j < len(_split(chain, ",")) - 1 else None
    return nodes


PASSTHROUGH = {"settb", "setpts", "null", "trim", "fps", "setsar", "setdar", "split", "nullsink"}


def residency(text: str, main_on_device: bool) -> dict:
    """Walk the graph: where each link's frames are, crossings per path; asserts the rules."""
    nodes = parse_graph(text)
    where: dict[str, tuple[bool, int, int]] = {"<main>": (main_on_device, 0, 0),
                                              "0:v": (main_on_device, 0, 0)}
    pending = list(nodes)
    while pending:
        progressed = False
        for node in list(pending):
            ins = [i for i in node["ins"]]
            if any(i not in where and not re.fullmatch(r"\d+:v", i) for i in ins):
                continue
            states = [where.get(i, (False, 0, 0)) for i in ins]  # [N:v] side inputs: system memory
            name = node["name"]
            down = max((s[1] for s in states), default=0)
            up = max((s[2] for s in states), default=0)
            if name == "hwdownload":
                assert states[0][0], f"hwdownload fed system-memory frames: {node['text']}"
                state = (False, down + 1, up)
            elif name in ("hwupload", "hwupload_cuda"):
                assert not states[0][0], f"{name} fed device frames"
                state = (True, down, up + 1)
            elif re.search(r"_(cuda|vaapi|qsv)$", name):
                assert all(s[0] for s in states), f"{name} fed system-memory frames"
                state = (True, down, up)
            elif name in PASSTHROUGH:
                state = (states[0][0], down, up)
            else:
                assert not any(s[0] for s in states), f"CPU filter {name} fed device frames"
                state = (False, down, up)
            for o in node["outs"]:
                where[o] = state
            pending.remove(node)
            progressed = True
        assert progressed, f"unresolvable links in {text}"
    ends = [o for n in nodes for o in n["outs"] if not any(o in m["ins"] for m in nodes)]
    for end in ends:
        _, down, up = where[end]
        assert down <= 1 and up <= 1, f"{end}: {down} downloads, {up} uploads on one path"
    return {e: where[e] for e in ends}


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workdir(tmp_path_factory, ffvfx_cmd, media):
    """The demo scene (320x180, 1 s, with its alpha) and a plate, under relative names."""
    d = tmp_path_factory.mktemp("hw")
    res = ffvfx_cmd("demo", str(d / "in.mp4"), "--seconds", "1", "--size", "320x180", "-y")
    assert res.returncode == 0, res.stderr
    media.run("-f", "lavfi", "-i", "color=c=0x406080:s=320x180", "-frames:v", "1", str(d / "plate.png"))
    return d


def _ffvfx(workdir, args, hw, *extra, check=True):
    res = subprocess.run([*ffvfx_argv(), *args, "--hw", hw, *extra], cwd=workdir, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "FFVFX_HW": "cpu"})
    if check:
        assert res.returncode == 0, res.stderr
    return res


def _command(workdir, args, hw) -> list[str]:
    return shlex.split(_ffvfx(workdir, args, hw, "--print=cmd").stdout)


def _graph_of(argv: list[str]) -> str:
    return argv[argv.index("-filter_complex") + 1]


def _golden_text(workdir, args, hw) -> str:
    argv = _command(workdir, args, hw)
    argv[0] = "ffmpeg"
    script = _ffvfx(workdir, args, hw, "--print=script", "-q").stdout
    return f"ffvfx {' '.join(args)} --hw {hw}\n{shlex.join(argv)}\n\n{script}"


# -- golden files -----------------------------------------------------------------------------
@pytest.mark.parametrize("hw", TARGETS)
@pytest.mark.parametrize("effect", sorted(EFFECTS))
def test_lowered_graph_matches_golden(workdir, effect, hw):
    text = _golden_text(workdir, EFFECTS[effect], hw)
    path = GOLDEN / f"{effect}.{hw}.txt"
    if os.environ.get("FFVFX_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"{path} missing: run with FFVFX_UPDATE_GOLDEN=1"
    assert text == path.read_text()


# -- structure: residency rules on every lowered graph -----------------------------------------
@pytest.mark.parametrize("hw", TARGETS)
@pytest.mark.parametrize("effect", sorted(EFFECTS) + sorted(MORE_EFFECTS))
def test_lowered_graph_structure(workdir, effect, hw):
    args = {**EFFECTS, **MORE_EFFECTS}[effect]
    argv = _command(workdir, args, hw)
    decode = "-hwaccel_output_format" in argv[:argv.index("-i")]
    assert decode, "the demo (8-bit H.264) is decoded on the device"
    ends = residency(_graph_of(argv), main_on_device=True)
    out = argv[argv.index("-map") + 1].strip("[]")
    on_device, down, up = ends[out]
    assert (on_device, down, up) == (True, 1, 1), "one download after decode, one upload before encode"
    enc = argv[argv.index("-c:v") + 1]
    assert enc == {"cuda": "h264_nvenc", "vaapi": "h264_vaapi", "qsv": "h264_qsv"}[hw]
    # the printed one-line graph (for -vf / ffmpeg-python users) follows the same rules
    line = _ffvfx(workdir, args, hw, "--print", "-q").stdout.strip()
    residency(line, main_on_device=True)


@pytest.mark.parametrize("hw", TARGETS)
@pytest.mark.parametrize("effect", sorted(EFFECTS) + sorted(MORE_EFFECTS))
def test_lowered_graph_parses_in_real_ffmpeg(workdir, tools, effect, hw):
    """Every filter and option is accepted; the run stops only where a device is needed.

    The device options are left out (no GPU here) and software frames go in: ffmpeg parses and
    initialises the graph, then fails at the upload (CUDA: its init creates the device; VAAPI,
    QSV: format negotiation asks for the device), which proves everything before it was valid.
    """
    argv = _command(workdir, {**EFFECTS, **MORE_EFFECTS}[effect], hw)
    graph = _graph_of(argv)
    side = [argv[i + 1] for i, a in enumerate(argv[:argv.index("-filter_complex")])
            if a == "-i"][1:]
    run = [tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
           "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=0.5"]
    for path in side:
        run += ["-i", path]
    run += ["-filter_complex", graph, "-map", argv[argv.index("-map") + 1], "-f", "null", "-"]
    res = subprocess.run(run, cwd=workdir, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    err = res.stderr
    for parse_error in ("No such filter", "Option not found", "Error applying option",
                        "Unable to parse", "Undefined constant", "Invalid stream specifier",
                        "Error parsing", "Bad (empty) filter"):
        assert parse_error not in err, err
    if hw == "cuda":
        assert "CUDA" in err, err
    else:
        assert "hardware device reference is required" in err or "Query format failed for" in err \
            and "hwupload" in err, err


# -- the plan for inputs a GPU decoder cannot take --------------------------------------------
def _info(**kw) -> VideoInfo:
    base = VideoInfo("in.mp4", 1920, 1080, Fraction(30), 90, 3.0, "yuv420p", 0, None, False, "h264")
    return dataclasses.replace(base, **kw)


@pytest.mark.parametrize("kw, why", [
    (dict(rotation=90), "rotated"),
    (dict(width=1919), "odd size"),
    (dict(pix_fmt="yuv444p"), "yuv444p"),
    (dict(pix_fmt="yuvj420p"), "yuvj420p"),
    (dict(pix_fmt="yuv420p10le"), "10-bit h264"),
    (dict(codec="ffv1"), "ffv1"),
    (dict(codec="prores"), "prores"),
])
def test_inputs_the_device_decoder_cannot_take_decode_on_the_cpu(tools, kw, why):
    problem = decode_problem(CUDA, _info(**kw), tools.decoders)
    assert problem is not None and why in problem


def test_ten_bit_hevc_downloads_as_p010(tools):
    info = _info(codec="hevc", pix_fmt="yuv420p10le")
    assert decode_problem(CUDA, info, tools.decoders) is None
    plan = hw_probe.plan("cuda", tools, info=info, probe=False, encoder_for=lambda t: "h264_nvenc")
    main = Input("in.mp4")
    out = main.video.filter("format", "yuv420p").filter("tmix", frames=2)
    text = Graph(lower(out, main, plan), [main], labelled=True).line()
    assert text == "[0:v]hwdownload,format=p010le,format=yuv420p,tmix=frames=2,format=nv12,hwupload_cuda[out]"


def test_cpu_decode_still_uploads_once_for_the_encoder(tools):
    plan = hw_probe.plan("vaapi", tools, info=_info(rotation=90), probe=False,
                         encoder_for=lambda t: "h264_vaapi")
    assert not plan.decode and plan.encode
    main = Input("in.mp4")
    text = Graph(lower(main.video.filter("tmix", frames=3), main, plan), [main], labelled=True).line()
    assert text == "[0:v]tmix=frames=3,format=nv12,hwupload[out]"
    residency(text, main_on_device=False)


# -- the lowering pass on graphs with GPU twins -----------------------------------------------
@pytest.mark.parametrize("build, expected", [
    (lambda s: s.filter("scale", w=640, h=360).filter("tmix", frames=3)
     .filter("scale", w=320, h=180, flags="lanczos"),
     "[0:v]scale_cuda=w=640:h=360,hwdownload,format=nv12,tmix=frames=3,format=nv12,hwupload_cuda,"
     "scale_cuda=w=320:h=180:interp_algo=lanczos[out]"),
    (lambda s: s.filter("settb", "1/1000").filter("scale", w=640, h=360),  # all on the GPU
     "[0:v]settb=1/1000,scale_cuda=w=640:h=360[out]"),
    (lambda s: s.filter("settb", "1/1000").filter("tmix", frames=2),  # settb alone stays on the CPU
     "[0:v]hwdownload,format=nv12,settb=1/1000,tmix=frames=2,format=nv12,hwupload_cuda[out]"),
    (lambda s: s.filter("scale", w=64, h=64, flags="area").filter("tmix", frames=2),  # no CUDA area
     "[0:v]hwdownload,format=nv12,scale=w=64:h=64:flags=area,tmix=frames=2,format=nv12,"
     "hwupload_cuda[out]"),
])
def test_lowering_moves_exact_twins_to_the_device(build, expected):
    main = Input("in.mp4")
    plan = Plan(CUDA, decode=True, encode=True, encoder="h264_nvenc")
    text = Graph(lower(build(main.video), main, plan), [main], labelled=True).line()
    assert text == expected
    residency(text, main_on_device=True)


def test_a_split_input_is_downloaded_once():
    from ffvfx.compiler.graph import filter
    main = Input("in.mp4")
    out = filter([main.video, main.video.filter("scale", w=32, h=32)], "overlay")
    plan = Plan(CUDA, decode=True, encode=True, encoder="h264_nvenc")
    text = Graph(lower(out, main, plan), [main], labelled=True).line()
    assert text.count("hwdownload") == 1 and text.startswith("[0:v]hwdownload,format=nv12,split")
    residency(text, main_on_device=True)


# -- choosing a target on simulated machines --------------------------------------------------
class Machine:
    """Stands in for ffmpeg's device checks: ``answers`` maps a word in the argv to stderr."""

    def __init__(self, answers: dict[str, str]):
        self.answers = answers
        self.calls: list[list[str]] = []

    def __call__(self, tools, args):
        self.calls.append(args)
        text = " ".join(args)
        for word, stderr in self.answers.items():
            if word in text:
                return stderr
        return None


NO_CUDA = "Cannot load libcuda.so.1\nCould not dynamically load CUDA\nDevice creation failed: -1.\n"
NO_QSV = "Device creation failed: -542398533.\n"
H100_NVENC = "[h264_nvenc @ 0x55] OpenEncodeSessionEx failed: unsupported device (2): (no details)\n"


@pytest.fixture
def machine(monkeypatch, tmp_path):
    monkeypatch.setenv("FFVFX_CACHE", str(tmp_path / "cache"))

    def install(answers, nodes=()):
        m = Machine(answers)
        monkeypatch.setattr(hw_probe, "_run", m)
        monkeypatch.setattr("ffvfx.ffmpeg.targets.vaapi.render_nodes", lambda: list(nodes))
        real = os.path.exists
        monkeypatch.setattr(hw_probe.os.path, "exists", lambda p: str(p) in nodes or real(p))
        return m
    return install


def _plan(tools, spec, info=None, encoder=None, say=None):
    plan = hw_probe.plan(spec, tools, info=info,
                         encoder_for=lambda t: encoder or t.encoder_for("h264") or "libx264")
    if say is not None:
        say.extend(plan.notes)
    return plan


def test_auto_picks_cuda_when_it_decodes_and_encodes(tools, machine, workdir):
    from ffvfx.ffmpeg.probe import probe
    machine({"vaapi": "unused", "qsv": NO_QSV})
    notes = []
    plan = _plan(tools, "auto", probe(str(workdir / "in.mp4"), tools), say=notes)
    assert (plan.target.name, plan.decode, plan.encode, plan.encoder) == ("cuda", True, True, "h264_nvenc")
    assert notes == ["--hw auto: cuda (cuda decode, h264_nvenc encode)"]


def test_auto_on_a_gpu_without_nvenc_decodes_there_and_encodes_on_the_cpu(tools, machine, workdir):
    from ffvfx.ffmpeg.probe import probe
    machine({"h264_nvenc": H100_NVENC, "qsv": NO_QSV})
    notes = []
    plan = _plan(tools, "auto", probe(str(workdir / "in.mp4"), tools), say=notes)
    assert (plan.target.name, plan.decode, plan.encode, plan.encoder) == ("cuda", True, False, "libx264")
    assert "OpenEncodeSessionEx failed: unsupported device" in notes[0]


def test_explicit_cuda_without_nvenc_names_the_encoder_and_the_way_out(tools, machine):
    machine({"h264_nvenc": H100_NVENC})
    with pytest.raises(FfvfxError, match=r"--hw cuda: h264_nvenc cannot encode here: OpenEncodeSessionEx "
                       r".*pass --encoder libx264"):
        _plan(tools, "cuda", _info())
    plan = _plan(tools, "cuda", None, encoder="libx264")
    assert (plan.decode, plan.encode) == (True, False)


def test_auto_without_any_gpu_is_the_cpu_with_reasons(tools, machine):
    machine({"cuda": NO_CUDA, "qsv": NO_QSV})
    notes = []
    plan = _plan(tools, "auto", _info(), say=notes)
    assert plan.target.name == "cpu" and plan.encoder == "libx264"
    assert notes == ["--hw auto: cpu (cuda: no NVIDIA driver (libcuda.so.1 cannot be loaded); "
                     "vaapi: /dev/dri/renderD128 does not exist (no GPU render node); "
                     "qsv: no driver or device for it (ffmpeg: device creation failed))"]


def test_auto_finds_vaapi_on_its_render_node(tools, machine):
    m = machine({"cuda": NO_CUDA}, nodes=["/dev/dri/renderD129"])
    plan = _plan(tools, "auto", None)
    assert (plan.target.name, plan.device, plan.encoder) == ("vaapi", "/dev/dri/renderD129", "h264_vaapi")
    assert any("vaapi=va:/dev/dri/renderD129" in " ".join(c) for c in m.calls)


def test_a_decoder_that_fails_on_the_input_decodes_on_the_cpu(tools, machine):
    machine({"hwdownload": "[h264 @ 0x1] Hardware is lacking required capabilities\n"})
    notes = []
    plan = _plan(tools, "cuda", _info(), say=notes)
    assert (plan.decode, plan.encode) == (False, True)
    assert notes == ["--hw cuda: decoding on the CPU: the CUDA (NVDEC/NVENC) decoder fails on it "
                     "(Hardware is lacking required capabilities)"]


def test_answers_are_cached_per_machine(tools, machine, monkeypatch):
    m = machine({"cuda": NO_CUDA, "qsv": NO_QSV})
    _plan(tools, "auto", None)
    first = len(m.calls)
    _plan(tools, "auto", None)
    assert len(m.calls) == first, "a second run asks nothing"
    monkeypatch.setattr(hw_probe, "_machine", lambda: "after a reboot")
    _plan(tools, "auto", None)
    assert len(m.calls) == 2 * first


@pytest.mark.parametrize("lacks, message", [
    ("filters", "lacks the filter(s) hwupload_cuda"),
    ("encoders", "has no encoder h264_nvenc"),
    ("hwaccels", "has no cuda hwaccel"),
])
def test_explicit_target_names_what_this_ffmpeg_lacks(tools, machine, monkeypatch, lacks, message):
    machine({})
    real = getattr(toolchain.Toolchain, lacks)
    monkeypatch.setattr(toolchain.Toolchain, lacks, property(
        lambda self: type(real.fget(self))(x for x in real.fget(self)
                                           if x not in ("hwupload_cuda", "h264_nvenc", "cuda"))))
    with pytest.raises(FfvfxError, match=f"--hw cuda: ffmpeg .* {re.escape(message)}"):
        _plan(tools, "cuda", None)


@pytest.mark.parametrize("spec, message", [
    ("opencl", "choose auto, cpu, cuda, vaapi, qsv"),
    ("cpu:0", "cpu takes no device"),
])
def test_bad_hw_spec(tools, spec, message):
    with pytest.raises(FfvfxError, match=message):
        _plan(tools, spec, None)


# -- on this machine: no GPU ------------------------------------------------------------------
def test_cuda_here_is_one_line_and_writes_nothing(workdir, tools):
    if hw_probe.device_problem(tools, CUDA, None) is None:
        pytest.skip("this machine has a CUDA device")
    res = _ffvfx(workdir, ["motion", "in.mp4", "out-cuda.mp4"], "cuda", check=False)
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0 and "--hw cuda: cannot open the CUDA" in res.stderr
    assert not list(workdir.glob("*out-cuda*"))


def test_auto_here_renders_the_same_pixels_as_cpu(workdir, tools, media):
    if any(hw_probe.device_problem(tools, t, t.default_device()) is None for t in (CUDA, VAAPI, QSV)):
        pytest.skip("this machine has a GPU target")
    auto = _ffvfx(workdir, ["motion", "in.mp4", "auto.mp4", "-y"], "auto")
    assert "--hw auto: cpu (cuda: " in auto.stderr
    _ffvfx(workdir, ["motion", "in.mp4", "cpu.mp4", "-y"], "cpu")
    a, b = media.decode(workdir / "auto.mp4"), media.decode(workdir / "cpu.mp4")
    assert len(a) == 30 and (a == b).all()


def test_hw_from_the_environment(workdir):
    res = subprocess.run([*ffvfx_argv(), "motion", "in.mp4", "--print=cmd"], cwd=workdir, capture_output=True,
                         text=True, env={**os.environ, "FFVFX_HW": "vaapi:/dev/dri/renderD131"})
    assert res.returncode == 0, res.stderr
    assert "-init_hw_device vaapi=va:/dev/dri/renderD131" in res.stdout
    assert "not probed" in res.stderr


def test_printing_a_gpu_graph_needs_no_gpu(workdir):
    res = subprocess.run([*ffvfx_argv(), "trails", "--hw", "cuda"], cwd=workdir, capture_output=True,
                         text=True)
    assert res.returncode == 0
    assert res.stdout.startswith("hwdownload,format=nv12,") and res.stdout.strip().endswith("hwupload_cuda")
    assert "not probed on this machine" in res.stderr
    assert "decode with -hwaccel cuda -hwaccel_output_format cuda" in res.stderr


def test_nvenc_on_the_cpu_target_takes_system_frames(workdir):
    argv = _command(workdir, ["motion", "in.mp4", "--encoder", "hevc_nvenc", "--qp", "20"], "cpu")
    assert "-hwaccel" not in argv and "hwupload" not in _graph_of(argv)
    assert argv[argv.index("-c:v"):argv.index("-c:v") + 6] == ["-c:v", "hevc_nvenc", "-rc", "constqp",
                                                               "-qp", "20"]


def test_gpu_kit_runs_its_commands_with_the_standard_library(tmp_path, tools):
    """The kit for a GPU machine without Python packages: its commands, run by run.py (here the CPU
    set against itself), give every effect and a passing table."""
    import sys

    from tools.gpukit import gpukit
    kit = tmp_path / "kit"
    gpukit.write_plan(kit, ["320x180"], 0.5, 14)
    plan = __import__("json").loads((kit / "commands.json").read_text())
    effects = plan["sizes"]["320x180"]["effects"]
    assert set(effects) == set(gpukit.EFFECTS)
    assert all("-hwaccel" in e["cuda"] and "h264_nvenc" in e["cuda"] for e in effects.values())
    assert all("libx264" in e["cuda+x264"] and "-hwaccel" in e["cuda+x264"] for e in effects.values())
    res = subprocess.run([sys.executable, "-I", "-S", str(kit / "run.py"), "--ffmpeg", tools.ffmpeg,
                          "--targets", "cpu,cpu"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr + res.stdout
    assert res.stdout.count("| pass |") == len(gpukit.EFFECTS)
