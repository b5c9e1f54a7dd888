"""File names that are not what they look like: every slot opens exactly the file it names.

Issue 16, items 1-3: a file called ``lavfi:testsrc2=d=1,metadata=print:file=victim.txt`` was run
as a filtergraph (emptying ``victim.txt``), ``-report`` reached ffprobe as an option (a log file
appeared), ``--print=cmd`` printed ``-out.mp4`` as an option, and ``im%d.png`` was read as an
image sequence. Here each hostile name is a copy of a plain test file, put in a working folder
beside a victim file and decoys (the files a misreading would open: ``x.mp4`` for ``file:x.mp4``
and ``subfile,,...:x.mp4``, ``a.mp4``/``b.mp4`` for ``concat:a.mp4|b.mp4``, ``im1.png`` for
``im%d.png``, ``a1.png`` for ``a*.png``, ``x`` for ``v4l2:x``; all solid red). Every input and
output slot of motion, trails, composite, matte, plate, loop and batch gets each name of its
kind (several slots hostile in one run, :func:`rows`), and then:

- the command succeeds and writes the outputs named (nothing else appears in the folder), with
  the pixels of the same command run on the plain names (a decoy, a test pattern, the demo scene
  or a camera would be far from them);
- the victim and every decoy are byte-unchanged, no ``ffprobe-*.log``/``ffmpeg-*.log`` appears;
- where strace is installed (``bin/setup test``), ffmpeg and ffprobe run under it and must have
  opened the named files and no decoy or camera, not even to fail.

``--print=cmd`` is pasted back through ``shlex.split`` and run without a shell, and the graph
``--print`` shows (``movie=`` sources) is run by ffmpeg. Commands run in-process
(:func:`ffvfx.cli.run_cli`) on 64x48 clips of 10 frames; batch runs its own processes.
"""

from __future__ import annotations

import codecs
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ffvfx.cli import main, run_cli
from ffvfx.compiler import escape
from ffvfx.compiler.graph import Graph, Input, filter, source
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import sources, toolchain
from ffvfx.scale import batch
from ffvfx.stages import demo

W, H, N, FPS = 64, 48, 10, 10
RED = (255, 0, 0)
LAVFI = "lavfi:testsrc2=d=1,metadata=print:file=victim.txt"
VIDEO_NAMES = [
    LAVFI, "v4l2:x", "demo", "webcam", "-report", "concat:a.mp4|b.mp4", "file:x.mp4",
    "subfile,,start,0,end,1,,:x.mp4", "it's.mp4", "semi;colon.mp4", "com,ma.mp4", "[bracket].mp4",
    "new\nline.mp4",
]
"""Hostile names of a video (every one read as a file), all through batch."""
VIDEO_KINDS = [*VIDEO_NAMES[:8], "it's; a,[b]\n.mp4"]
"""One name of each kind (the graph and shell specials together), for the main input."""
CORE = [LAVFI, "-report", "concat:a.mp4|b.mp4", "subfile,,start,0,end,1,,:x.mp4",
        "it's; a,[b]\n.mp4"]
"""The kinds of hostile video name, for the side slots."""
IMAGE_NAMES = ["im%d.png", "x%d.png", "a*.png", "-bg.png", "file:x.png", "it's; a,[b]\n.png"]
"""Hostile names of an image."""
OUTPUT_NAMES = ["-out.mp4", "file:o.mp4", "concat:o.mp4|p.mp4", "o%d.mp4", "lavfi:o.mp4",
                "it's; o,[p]\n.mp4"]
FOLDER_NAMES = ["-dir", "lavfi:d", "d%d"]
PNG_NAMES = ["-p.png", "p%d.png", "file:p.png"]
DECOY_VIDEOS = ("x.mp4", "a.mp4", "b.mp4", "o.mp4", "p.mp4")
DECOY_IMAGES = ("im0.png", "im1.png", "x1.png", "a1.png", "x.png")
DECOYS = (*DECOY_VIDEOS, *DECOY_IMAGES, "x", "victim.txt")
"""Files no run may open or change (``o.mp4``/``p.mp4``: where a misread output would go)."""
PLAIN = ("in.mp4", "alpha.mkv", "bg.png", "bgv.mp4", "per.mp4", "per.alpha.mkv")


@dataclass(frozen=True)
class Command:
    """An ffvfx command line with ``{SLOT}`` placeholders, the plain name of each slot, the files
    it writes, and how it runs: ``render``, ``cmd`` (``--print=cmd`` pasted and run) or ``line``
    (the printed graph run by ffmpeg on ``in.mp4``)."""

    args: tuple[str, ...]
    plain: tuple[tuple[str, str], ...]
    outputs: tuple[str, ...]
    mode: str = "render"

    def slots(self) -> dict[str, str]:
        return dict(self.plain)


def command(*args: str, outputs: tuple[str, ...] = ("{OUT}",), mode: str = "render",
            **plain: str) -> Command:
    return Command(args, tuple(sorted(plain.items())), outputs, mode)


MOTION = command("motion", "-q", "--", "{IN}", "{OUT}", IN="in.mp4", OUT="out.mp4")
MOTION_IMAGE = command("motion", "-q", "--", "{IN}", "{OUT}", IN="bg.png", OUT="out.mp4")
MOTION_CMD = command("motion", "--print=cmd", "--", "{IN}", "{OUT}", mode="cmd", IN="in.mp4",
                     OUT="out.mp4")
MOTION_IMAGE_CMD = command("motion", "--print=cmd", "--", "{IN}", "{OUT}", mode="cmd", IN="bg.png",
                           OUT="out.mp4")
TRAILS = command("trails", "-q", "--no-compensate", "--ghost", "behind", "--alpha", "{ALPHA}", "--",
                 "{IN}", "{OUT}", IN="in.mp4", ALPHA="alpha.mkv", OUT="out.mp4")
COMPOSITE = command("composite", "-q", "--bg", "{BG}", "--", "{IN}", "{ALPHA}", "{OUT}",
                    IN="in.mp4", ALPHA="alpha.mkv", BG="bg.png", OUT="out.mp4")
COMPOSITE_VIDEO = command("composite", "-q", "--bg", "{BG}", "--", "{IN}", "{ALPHA}", "{OUT}",
                          IN="in.mp4", ALPHA="alpha.mkv", BG="bgv.mp4", OUT="out.mp4")
COMPOSITE_CMD = command("composite", "--print=cmd", "--bg", "{BG}", "--", "{IN}", "{ALPHA}",
                        "{OUT}", mode="cmd", IN="in.mp4", ALPHA="alpha.mkv", BG="bg.png",
                        OUT="out.mp4")
COMPOSITE_LINE = command("composite", "--print", "--bg", "{BG}", "--", "in.mp4", "{ALPHA}",
                         outputs=("out.mkv",), mode="line", ALPHA="alpha.mkv", BG="bg.png")
COMPOSITE_LINE_VIDEO = command("composite", "--print", "--bg", "{BG}", "--", "in.mp4", "{ALPHA}",
                               outputs=("out.mkv",), mode="line", ALPHA="alpha.mkv", BG="bgv.mp4")
MATTE = command("matte", "-q", "--model", "difference", "--plate", "{PLATE}", "--composite", "{BG}",
                "-o", "{DIR}", "--", "{IN}", outputs=("{DIR}/alpha.mkv", "{DIR}/composite.mp4"),
                IN="in.mp4", PLATE="bg.png", BG="bg.png", DIR="matte")
PLATE = command("plate", "-q", "--samples", "5", "--", "{IN}", "{ALPHA}", "{PNG}", outputs=("{PNG}",),
                IN="in.mp4", ALPHA="alpha.mkv", PNG="result.png")
LOOP = command("loop", "-q", "--min-length", "5", "--max-length", "8", "--alpha", "{ALPHA}",
               "-o", "{DIR}", "--", "{IN}", outputs=("{DIR}/loop_0.webm",), IN="per.mp4",
               ALPHA="per.alpha.mkv", DIR="loops")

def rows(cmd: Command, count: int | None = None, **lists: list[str]) -> list[tuple[Command, dict]]:
    """Runs of ``cmd`` that put every name of ``lists[SLOT]`` in SLOT at least once (``count``
    runs, default: the longest list), several slots hostile at a time; slot k starts k names on,
    so two slots of one run never share a name."""
    n = count or max(len(v) for v in lists.values())
    out = []
    for i in range(n):
        names = {slot: values[(i + k) % len(values)] for k, (slot, values) in enumerate(lists.items())}
        assert len(set(names.values())) == len(names), names
        out.append((cmd, names))
    return out


CASES = [
    *rows(MOTION, IN=VIDEO_KINDS, OUT=OUTPUT_NAMES),
    *rows(MOTION_IMAGE, IN=IMAGE_NAMES[:3], OUT=OUTPUT_NAMES),
    *rows(MOTION_CMD, IN=[*CORE[:3], CORE[4]], OUT=["-out.mp4", "o%d.mp4", "concat:o.mp4|p.mp4",
                                                    OUTPUT_NAMES[-1]]),
    *rows(MOTION_IMAGE_CMD, IN=IMAGE_NAMES[:1], OUT=["-out.mp4"]),
    *rows(TRAILS, IN=CORE, ALPHA=CORE, OUT=OUTPUT_NAMES, count=len(CORE)),
    *rows(COMPOSITE, IN=CORE, ALPHA=CORE, BG=IMAGE_NAMES, OUT=OUTPUT_NAMES),
    *rows(COMPOSITE_VIDEO, IN=CORE, ALPHA=CORE, BG=CORE, count=3),
    *rows(COMPOSITE_CMD, IN=CORE, ALPHA=CORE, BG=IMAGE_NAMES[:1] + IMAGE_NAMES[3:4],
          OUT=OUTPUT_NAMES, count=2),
    *rows(COMPOSITE_LINE, ALPHA=CORE, BG=IMAGE_NAMES, count=4),
    *rows(COMPOSITE_LINE_VIDEO, ALPHA=CORE, BG=CORE, count=2),
    *rows(MATTE, IN=CORE, PLATE=IMAGE_NAMES, BG=IMAGE_NAMES, DIR=FOLDER_NAMES, count=4),
    *rows(PLATE, IN=CORE, ALPHA=CORE, PNG=PNG_NAMES),
    *rows(LOOP, IN=CORE, ALPHA=CORE, DIR=FOLDER_NAMES, count=3),
]


def _case_id(case: tuple[Command, dict]) -> str:
    cmd, names = case
    return f"{cmd.args[0]}-{cmd.mode}-" + ",".join(f"{k}={v!r}" for k, v in names.items())


# -- fixtures --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plain(media, scenes, tmp_path_factory) -> Path:
    """The plain files (:data:`PLAIN`) and the decoys (:data:`DECOYS`), 64x48, 10 frames at 10 fps."""
    d = tmp_path_factory.mktemp("plain")
    rgb = scenes.blobs(N, W, H, speed=3.0)
    media.write(d / "in.mp4", rgb, fps=FPS, vcodec="libx264", pix_fmt="yuv420p")
    matte = np.zeros((N, H, W, 3), np.uint8)
    matte[:, 12:36, 20:44] = 255
    media.write(d / "alpha.mkv", matte, fps=FPS, pix_fmt="gray")
    media.write(d / "bgv.mp4", rgb[::-1, :, :, ::-1], fps=FPS, vcodec="libx264", pix_fmt="yuv420p")
    media.write(d / "bg.png", rgb[:1, :, :, (2, 0, 1)], vcodec="png", pix_fmt="rgb24",
                out_args=["-update", "1"])
    demo.write_demo(d / "per.mp4", demo.DemoSpec(width=W, height=H, seconds=2.0, fps=FPS, pan=(0, 0),
                                                 period=6, seed=3), media.ffmpeg)
    red = np.zeros((N, H, W, 3), np.uint8)
    red[...] = RED
    for name in DECOY_VIDEOS:
        media.write(d / name, red, fps=FPS, vcodec="libx264", pix_fmt="yuv420p")
    for name in DECOY_IMAGES:
        media.write(d / name, red[:1], vcodec="png", pix_fmt="rgb24", out_args=["-update", "1"])
    (d / "x").write_bytes(b"not a camera\n")
    (d / "victim.txt").write_bytes(b"precious\n")
    return d


@pytest.fixture(scope="module")
def traced(tools, tmp_path_factory):
    """ffvfx runs ffmpeg (and ffprobe, where the toolchain has one) under strace, each run's
    opens logged in the returned folder; None without strace. The ffvfx cache is private."""
    home = tmp_path_factory.mktemp("traced")
    strace = shutil.which("strace")
    trace = ["-f", "-qq", "-e", "trace=open,openat"]
    if strace is not None:
        for extra in (["--seccomp-bpf"], []):  # stops at the traced calls only, where it can
            res = subprocess.run([strace, *trace, *extra, "-o", os.devnull, "true"],
                                 capture_output=True, timeout=60)
            if res.returncode == 0:
                trace += extra
                break
        else:
            strace = None  # installed but not allowed to trace here (no ptrace)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FFVFX_CACHE", str(home / "cache"))
        if strace is None:
            yield None
            return
        logs = home / "logs"
        logs.mkdir()
        bin_dir = home / "bin"
        bin_dir.mkdir()
        for name, real in (("ffmpeg", tools.ffmpeg), ("ffprobe", tools.ffprobe)):
            if real:
                wrapper = bin_dir / name
                wrapper.write_text("#!/bin/sh\n"
                                   f"exec {shlex.join([strace, *trace])} "
                                   f"-o {shlex.quote(str(logs))}/$$.trace {shlex.quote(real)} \"$@\"\n")
                wrapper.chmod(0o755)
        mp.setenv("FFVFX_FFMPEG", str(bin_dir / "ffmpeg"))
        yield logs


@pytest.fixture
def work(plain, tmp_path, monkeypatch) -> Path:
    """A fresh working folder (the current one) holding the plain files, the decoys, the victim."""
    d = tmp_path / "work"
    d.mkdir()
    for name in (*PLAIN, *DECOYS):
        shutil.copy(plain / name, d / name)
    monkeypatch.chdir(d)
    return d


@pytest.fixture(scope="module")
def references(plain, traced, media, tmp_path_factory):
    """``ref(cmd, capsys)``: the decoded outputs of ``cmd`` run on its plain names (made once)."""
    made: dict[Command, list[np.ndarray]] = {}

    def ref(cmd: Command, capsys) -> list[np.ndarray]:
        if cmd not in made:
            d = tmp_path_factory.mktemp("ref")
            for name in PLAIN:
                shutil.copy(plain / name, d / name)
            here = os.getcwd()
            os.chdir(d)
            try:
                made[cmd] = [_decoded(media, out, d) for out in _run(cmd, cmd.slots(), d, capsys)]
            finally:
                os.chdir(here)
        return made[cmd]
    return ref


# -- running and checking --------------------------------------------------------------------------
def _fill(cmd: Command, names: dict[str, str]) -> list[str]:
    """The command's arguments with each ``{SLOT}`` replaced by its name."""
    return [names[a[1:-1]] if a[:1] == "{" and a[1:-1] in names else a for a in cmd.args]


def _outputs(cmd: Command, names: dict[str, str], folder: Path) -> list[Path]:
    found = []
    for template in cmd.outputs:
        head, _, rest = template.partition("/")
        slot = head[1:-1] if head.startswith("{") else None
        first = names[slot] if slot else head
        found.append(folder / first / rest if rest else folder / first)
    return found


def _run(cmd: Command, names: dict[str, str], folder: Path, capsys) -> list[Path]:
    """Run ``cmd`` with ``names`` in ``folder`` (the current folder) as its mode says; its outputs."""
    tools = toolchain.find()
    capsys.readouterr()
    rc = run_cli(_fill(cmd, names))
    printed, err = capsys.readouterr()
    assert rc == 0, f"exit {rc}: {err}"
    assert "Traceback" not in err
    if cmd.mode == "cmd":
        argv = shlex.split(printed)
        assert argv[0] == tools.ffmpeg
        res = subprocess.run(argv, cwd=folder, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        assert res.returncode == 0, (printed, res.stderr.decode(errors="replace")[-2000:])
    elif cmd.mode == "line":
        assert printed.endswith("\n")
        res = subprocess.run([tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i",
                              "in.mp4", "-vf", printed[:-1], "-c:v", "ffv1", "out.mkv"], cwd=folder,
                             capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        assert res.returncode == 0, (printed, res.stderr.decode(errors="replace")[-2000:])
    return _outputs(cmd, names, folder)


def _decoded(media, path: Path, scratch: Path) -> np.ndarray:
    """Every frame of ``path``, read through a plain copy (the reader here is no part of the test)."""
    plain_copy = scratch / ("decode" + path.suffix)
    shutil.copy(path, plain_copy)
    try:
        return media.decode(plain_copy).astype(np.int16)
    finally:
        plain_copy.unlink()


def _unescape(text: str) -> str:
    """A path as strace printed it (C escapes) back to the name."""
    return codecs.escape_decode(text.encode("latin-1"))[0].decode("utf-8", "surrogateescape")


_OPEN = re.compile(r'\bopen(?:at)?\((?:\w+, )?"((?:[^"\\]|\\.)*)"')


def _opened(logs: Path, folder: Path) -> set[str]:
    """Every path ffmpeg/ffprobe tried to open (made absolute against ``folder``)."""
    paths = set()
    for log in logs.glob("*.trace"):
        for m in _OPEN.finditer(log.read_text(errors="replace")):
            paths.add(os.path.normpath(os.path.join(folder, _unescape(m.group(1)))))
    return paths


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _check_case(cmd, hostile, work, plain, traced, references, media, capsys, tmp_path):
    before = _snapshot(work)
    names = cmd.slots()
    inputs = [slot for slot in hostile if (plain / names[slot]).is_file()]
    for slot in inputs:  # an input slot: its plain file, renamed
        shutil.copy(plain / names[slot], work / hostile[slot])
        before[hostile[slot]] = (work / hostile[slot]).read_bytes()
    names.update(hostile)
    if traced:
        for log in traced.glob("*.trace"):
            log.unlink()
    outputs = _run(cmd, names, work, capsys)
    for out, want in zip(outputs, references(cmd, capsys), strict=True):
        assert out.is_file(), f"{out} was not written"
        got = _decoded(media, out, tmp_path)
        assert got.shape == want.shape, f"{out.name!r}: {got.shape} frames, expected {want.shape}"
        assert np.abs(got - want).mean() < 1.5, f"{out.name!r}: not the pixels of the named inputs"
    after = _snapshot(work)
    for kept, data in before.items():
        assert after.get(kept) == data, f"{kept!r} changed"
    tops = {os.path.relpath(o, work).split(os.sep)[0] for o in outputs}
    assert set(after) - set(before) <= tops, f"unexpected files: {set(after) - set(before) - tops}"
    assert not list(work.glob("ffprobe-*.log")) and not list(work.glob("ffmpeg-*.log"))
    if traced:
        opened = _opened(traced, work)
        assert opened, "no ffmpeg run was traced"
        for decoy in DECOYS:
            assert str(work / decoy) not in opened, f"ffmpeg opened the decoy {decoy!r}"
        assert not any(p.startswith("/dev/video") for p in opened), "ffmpeg opened a camera"
        for slot in inputs:
            if slot != "PLATE":  # --plate is read by OpenCV
                assert str(work / hostile[slot]) in opened, f"ffmpeg never opened {hostile[slot]!r}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_every_slot_opens_the_file_named(case, work, plain, traced, references, media, capsys, tmp_path):
    cmd, hostile = case
    _check_case(cmd, hostile, work, plain, traced, references, media, capsys, tmp_path)


def test_batch_takes_every_name_as_a_file(work, plain, traced, references, media, capsys, tmp_path):
    """``ffvfx batch motion -- NAMES -o DIR``: each hostile name is a file, read as such."""
    for name in VIDEO_NAMES:
        shutil.copy(plain / "in.mp4", work / name)
    before = _snapshot(work)
    if traced:
        for log in traced.glob("*.trace"):
            log.unlink()
    capsys.readouterr()
    rc = run_cli(["batch", "-j", "2", "-q", "motion", "--", *VIDEO_NAMES, "-o", "out"])
    err = capsys.readouterr().err
    assert rc == 0, err
    want = references(MOTION, capsys)[0]
    for name in VIDEO_NAMES:
        out = work / "out" / (Path(name).stem + ".mp4")  # as batch names them
        assert out.is_file(), f"{out.name!r} missing: {err}"
        got = _decoded(media, out, tmp_path)
        assert got.shape == want.shape and np.abs(got - want).mean() < 1.5, name
    assert _snapshot(work) == before
    assert not list(work.glob("ffprobe-*.log")) and not list(work.glob("ffmpeg-*.log"))
    if traced:
        opened = _opened(traced, work)
        assert not [d for d in DECOYS if str(work / d) in opened]
        assert all(str(work / name) in opened for name in VIDEO_NAMES)


# -- the rules on their own ------------------------------------------------------------------------
def test_batch_takes_regular_files_only(work, tmp_path):
    runs = batch.plan("motion", main.commands["motion"], ["--", "demo", "/dev/null", "in.mp4"],
                      tmp_path / "out")
    assert [r.message for r in runs[:2]] == ["demo: no such file", "/dev/null: not a regular file"]
    assert runs[2].rc is None and runs[2].argv[-3:] == ["--", "in.mp4", "{out}/in.mp4"]
    assert batch.quiet_argv(runs[2])[:2] == ["motion", "-q"]


@pytest.mark.parametrize("path,expected", [
    ("-report", "./-report"),
    ("-", "./-"),
    ("concat:a|b", "file:concat:a|b"),
    ("-a:b", "file:-a:b"),
    ("/abs/-x", "/abs/-x"),
    ("clip.mp4", "clip.mp4"),
])
def test_media_path(path, expected):
    assert escape.media_path(path) == expected


def test_pattern_like_images_open_as_one_file():
    assert escape.input_args("im%d.png") == ["-f", "image2", "-pattern_type", "none", "-i", "im%d.png"]
    assert escape.input_args("-a*.JPG") == ["-f", "image2", "-pattern_type", "none", "-i", "./-a*.JPG"]
    assert escape.input_args("x%d.mp4") == ["-i", "x%d.mp4"]  # not image2's: mov reads it whole
    assert escape.input_args("plain.png") == ["-i", "plain.png"]
    assert escape.movie_options("d%d/bg.png") == {"f": "image2", "format_opts": "pattern_type=none"}
    printed = Graph(filter([Input().video, Input("-im%d.png").video], "overlay"), movies=True).line()
    assert "movie=filename=./-im%d.png:f=image2:format_opts='pattern_type\\=none'" in printed


@pytest.mark.parametrize("name", ["im%d.png", "a*.png"])
def test_movie_reads_a_pattern_like_image_as_itself(tc, tmp_path, media, name):
    """The ``movie=`` form ``--print`` shows (f=image2, format_opts), on every ffmpeg here."""
    img = np.zeros((1, 16, 16, 3), np.uint8)
    img[...] = (0, 128, 255)
    media.write(tmp_path / "target.png", img, vcodec="png", pix_fmt="rgb24", out_args=["-update", "1"])
    shutil.copy(tmp_path / "target.png", tmp_path / name)
    img[...] = RED
    for decoy in ("im0.png", "im1.png", "a1.png"):
        media.write(tmp_path / decoy, img, vcodec="png", pix_fmt="rgb24", out_args=["-update", "1"])
    text = Graph(source("movie", filename=escape.media_path(name), **escape.movie_options(name))
                 .filter("format", "rgb24")).line()
    res = subprocess.run([tc.ffmpeg, "-v", "error", "-nostdin", "-f", "lavfi", "-i", text,
                          "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], cwd=tmp_path,
                         capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert (np.frombuffer(res.stdout, np.uint8).reshape(-1, 3) == (0, 128, 255)).all()


def test_keywords_only_when_no_file_has_the_name(work):
    assert sources.resolve("webcam").device and sources.resolve("/dev/video7").device
    assert sources.keyword("auto", "auto") == "auto"
    for name in ("webcam", "demo", "auto", "v4l2:x"):
        (work / name).write_bytes(b"")
        assert not sources.resolve(name).device and sources.resolve(name).path == name
    assert sources.keyword("auto", "auto") is None


@pytest.mark.parametrize("spec", ["lavfi:testsrc2", "v4l2:/dev/video0", "dshow:video=Cam"])
def test_old_device_forms_name_no_file(work, spec):
    with pytest.raises(FfvfxError, match="no such file.*--camera SPEC.*--lavfi GRAPH"):
        sources.resolve(spec)


@pytest.mark.parametrize("spec,args", [
    ("/dev/video2", ["-f", "v4l2", "-i", "/dev/video2"]),
    ("v4l2:/dev/video1", ["-f", "v4l2", "-i", "/dev/video1"]),
    ("avfoundation:0", ["-f", "avfoundation", "-i", "0"]),
    ("dshow:video=Cam", ["-f", "dshow", "-i", "video=Cam"]),
])
def test_camera_option_forms(spec, args):
    assert sources.camera(spec).input_args() == args


@pytest.mark.parametrize("spec", ["clip.mp4", "lavfi:x", "v4l2:", "v4l2:-report", "-report"])
def test_camera_option_refuses_what_is_no_camera(spec):
    with pytest.raises(FfvfxError, match="--camera"):
        sources.camera(spec)


def test_lavfi_option_renders_and_refuses_in_one_line(work, media, capsys):
    assert run_cli(["motion", "-q", "--lavfi", f"testsrc2=s={W}x{H}:r={FPS}", "--duration", "1",
                    "live.mp4"]) == 0
    assert len(media.decode(work / "live.mp4")) == FPS
    for argv, message in [
        (["motion", LAVFI[:-4] + "nothing", "new.mp4"], "no such file (a camera is --camera SPEC"),
        (["motion", "--lavfi", "testsrc2", "--camera", "webcam", "new.mp4"], "give one input"),
        (["motion", "--lavfi", "testsrc2", "--size", "64x48", "new.mp4"], "--size and --fps go with"),
        (["motion", "--lavfi", "-report", "new.mp4"], "cannot start with -"),
        (["trails", "--lavfi", "testsrc2", "new.mp4"], "use --no-compensate for a camera"),
        (["composite", "in.mp4", "alpha.mkv", "new.mp4", "--bg", ""], "--bg: an empty name names no file"),
    ]:
        capsys.readouterr()
        assert run_cli(argv) != 0
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "Traceback" not in err, err
    assert (work / "victim.txt").read_bytes() == b"precious\n"


def test_preview_argv_opens_files_by_the_rule(tools):
    from ffvfx.ffmpeg.preview import preview_argv
    if not tools.ffplay:
        pytest.skip("no ffplay")
    graph = Graph(Input().video.filter("negate"))
    assert preview_argv(graph, sources.Source("-report"), tools)[-2:] == ["-i", "./-report"]
    assert preview_argv(graph, sources.Source("im%d.png"), tools)[-6:] == [
        "-f", "image2", "-pattern_type", "none", "-i", "im%d.png"]
    assert preview_argv(graph, sources.lavfi("testsrc2"), tools)[-4:] == ["-f", "lavfi", "-i", "testsrc2"]


@pytest.mark.parametrize("name", sorted(main.commands))
def test_help_shows_the_path_slots(name, capsys):
    assert run_cli([name, "--help"]) == 0
    text = capsys.readouterr().out
    if name in ("composite", "matte"):
        assert "PATH|COLOR" in text
    if name in ("motion", "trails"):
        assert "--camera SPEC" in text and "--lavfi GRAPH" in text
