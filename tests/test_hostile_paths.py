"""Hostile paths and inputs: no command writes over any of its inputs, and every command ends.

(a) An output that is an input -- the main input or any side input (alpha, mask, background,
    plate, quick-look composite, weights, picks), spelled as given, through ``./``, through a
    symlink or as a hard link -- is refused with one line and a non-zero exit, with and without
    ``-y``, before anything is written or any model loads; the input's bytes do not change.
(b) Inputs with no decodable frame (no packets at all, packets that do not decode, a truncated
    mdat) in every slot of every command end within a bounded time with one line.
(c) The reproductions of issue 15 (items 10, 11, 12, 14b), and the watchdog on its own.

Refusals run in-process through :func:`ffvfx.cli.run_cli` on tiny clips; anything that might hang
runs as a subprocess with a timeout.
"""

from __future__ import annotations

import os
import shutil
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from ffvfx.cli import run_cli
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import watchdog
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.rawvideo import frames
from ffvfx.ffmpeg.render import execute

W, H, N, FPS = 64, 48, 10, 10
TIMEOUT = 60  # s: a command on a bad input must end well within this


def _one_line(err: str, rc: int) -> str:
    lines = err.splitlines()
    assert rc != 0, f"exit 0; stderr: {err!r}"
    assert len(lines) == 1, f"stderr has {len(lines)} lines:\n{err}"
    assert "Traceback" not in err and lines[0].startswith("ffvfx: error: "), err
    return lines[0]


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under ``root``: a file's bytes, a symlink's target, a folder's marker."""
    out: dict[str, bytes | str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = f"-> {os.readlink(p)}" if p.is_symlink() else "<dir>" if p.is_dir() else p.read_bytes()
    return out


@pytest.fixture(scope="module")
def clips(media, scenes, tmp_path_factory) -> Path:
    """in.mp4 (H.264), alpha.mkv (its gray FFV1 matte), bg.mp4, plate.png, picks.json: 64x48,
    10 frames at 10 fps; and the zero-frame files of :data:`ZERO_KINDS`."""
    d = tmp_path_factory.mktemp("hostile")
    rgb = scenes.blobs(N, W, H)
    media.write(d / "in.mp4", rgb, fps=FPS, vcodec="libx264", pix_fmt="yuv420p")
    matte = np.zeros((N, H, W, 3), np.uint8)
    matte[:, 12:36, 20:44] = 255
    media.write(d / "alpha.mkv", matte, fps=FPS, pix_fmt="gray")
    media.write(d / "bg.mp4", rgb[::-1], fps=FPS, vcodec="libx264", pix_fmt="yuv420p")
    media.run("-f", "lavfi", "-i", f"color=c=gray:s={W}x{H}", "-frames:v", "1", d / "plate.png")
    (d / "picks.json").write_text("{}\n")
    # no packets: a fragmented mp4 whose (empty) moov is written up front
    media.run("-f", "lavfi", "-i", f"color=s={W}x{H}:r={FPS}", "-frames:v", "0", "-c:v", "libx264",
              "-movflags", "frag_keyframe+empty_moov", d / "zero-empty.mp4")
    # packets that do not decode: MJPEG whose every frame is zeros (ffmpeg 5.1 looped it forever)
    media.run("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r={FPS}:d=1", "-c:v", "mjpeg",
              "-movflags", "+faststart", d / "mjpeg.mov")
    _zero_mdat(d / "mjpeg.mov", d / "zero-undecodable.mov", keep=False)
    # the index promises frames, the file ends before them
    media.run("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r={FPS}:d=1", "-c:v", "libx264",
              "-movflags", "+faststart", d / "h264.mp4")
    _zero_mdat(d / "h264.mp4", d / "zero-truncated.mp4", keep=True)
    return d


def _zero_mdat(src: Path, out: Path, keep: bool) -> None:
    """``src`` (moov first) with its mdat payload zeroed (``keep``: cut off instead)."""
    data = bytearray(src.read_bytes())
    at = data.index(b"mdat") - 4
    size = struct.unpack(">I", data[at:at + 4])[0]
    if keep:
        del data[at + 8:]
    else:
        data[at + 8:at + size] = bytes(size - 8)
    out.write_bytes(bytes(data))


@pytest.fixture
def no_models(monkeypatch):
    """Loading a model (or generating, painting) fails the test: a refusal must come first."""
    def loaded(*args, **kwargs):
        raise AssertionError("a model was loaded before the output was refused")
    import ffvfx.pipelines.inpaint
    import ffvfx.pipelines.matte
    import ffvfx.pipelines.studio
    import ffvfx.stages.matting.model
    for module, name in ((ffvfx.pipelines.studio, "prepare"), (ffvfx.pipelines.studio, "generate"),
                         (ffvfx.pipelines.inpaint, "run"), (ffvfx.pipelines.matte, "build"),
                         (ffvfx.stages.matting.model, "build")):
        monkeypatch.setattr(module, name, loaded)


# -- (a) an output is never an input -----------------------------------------------------------
# File outputs: (command argv with {X} the input under test and {Y} the output, the file X is a
# copy of, X's name). Plate and generate write .png, so their X is named .png: the refusal comes
# before the input is read.
FILE_SLOTS = {
    "motion-main": (["motion", "{X}", "{Y}"], "in.mp4", "in.mp4"),
    "trails-main": (["trails", "{X}", "{Y}", "--no-compensate"], "in.mp4", "in.mp4"),
    "trails-alpha": (["trails", "in.mp4", "{Y}", "--ghost", "behind", "--alpha", "{X}"],
                     "alpha.mkv", "alpha.mkv"),
    "composite-main": (["composite", "{X}", "alpha.mkv", "{Y}", "--bg", "red"], "in.mp4", "in.mp4"),
    "composite-alpha": (["composite", "in.mp4", "{X}", "{Y}", "--bg", "red"], "alpha.mkv", "alpha.mkv"),
    "composite-bg": (["composite", "in.mp4", "alpha.mkv", "{Y}", "--bg", "{X}"], "bg.mp4", "bg.mp4"),
    "composite-bg-image": (["composite", "in.mp4", "alpha.mkv", "{Y}", "--bg", "{X}"],
                           "plate.png", "plate.png"),
    "plate-main": (["plate", "{X}", "alpha.mkv", "{Y}"], "in.mp4", "in.png"),
    "plate-alpha": (["plate", "in.mp4", "{X}", "{Y}"], "alpha.mkv", "alpha.png"),
    "plate-tmedian": (["plate", "{X}", "{Y}", "--method", "tmedian"], "in.mp4", "in.png"),
    "generate-main": (["generate", "{X}", "alpha.mkv", "{Y}", "--prompt", "a beach"], "in.mp4", "in.png"),
    "generate-alpha": (["generate", "in.mp4", "{X}", "{Y}", "--prompt", "a beach"], "alpha.mkv",
                       "alpha.png"),
    "studio-main": (["studio", "{X}", "alpha.mkv", "{Y}", "--prompt", "a beach"], "in.mp4", "in.mp4"),
    "studio-alpha": (["studio", "in.mp4", "{X}", "{Y}", "--prompt", "a beach"], "alpha.mkv", "alpha.mkv"),
    "inpaint-main": (["inpaint", "{X}", "alpha.mkv", "{Y}", "--prompt", "a lamp"], "in.mp4", "in.mp4"),
    "inpaint-mask": (["inpaint", "in.mp4", "{X}", "{Y}", "--prompt", "a lamp"], "alpha.mkv", "alpha.mkv"),
    "inpaint-picks": (["inpaint", "in.mp4", "alpha.mkv", "{Y}", "--prompt", "a lamp", "--picks", "{X}"],
                      "picks.json", "picks.json"),
}
# Folder outputs: (argv with {X} the input and {D} the output folder, X's source, the name the
# command writes in the folder).
FOLDER_SLOTS = {
    "matte-main": (["matte", "{X}", "-o", "{D}", "--model", "chroma"], "in.mp4", "alpha.mkv"),
    "matte-foreground": (["matte", "{X}", "-o", "{D}", "--model", "chroma", "--foreground"], "in.mp4",
                         "foreground.mp4"),
    "matte-plate": (["matte", "in.mp4", "-o", "{D}", "--model", "difference", "--plate", "{X}"],
                    "plate.png", "alpha.mkv"),
    "matte-composite": (["matte", "in.mp4", "-o", "{D}", "--model", "chroma", "--composite", "{X}"],
                        "bg.mp4", "composite.mp4"),
    "matte-composite-alpha": (["matte", "in.mp4", "-o", "{D}", "--model", "chroma", "--composite",
                               "{X}"], "alpha.mkv", "alpha.mkv"),
    "matte-weights": (["matte", "in.mp4", "-o", "{D}", "--model", "chroma", "--weights", "{X}"],
                      "alpha.mkv", "matte.json"),
    "loop-main": (["loop", "{X}", "-o", "{D}"], "in.mp4", "loop_0.webm"),
    "loop-alpha": (["loop", "in.mp4", "-o", "{D}", "--alpha", "{X}"], "alpha.mkv", "loop_0.webm"),
    "loop-listing": (["loop", "{X}", "-o", "{D}"], "in.mp4", "index.html"),
    "batch-motion": (["batch", "motion", "{X}", "-o", "{D}"], "in.mp4", "in.mp4"),
}
SPELLINGS = ("plain", "dot", "symlink", "hardlink")


def _file_case(work: Path, source: str, name: str, spelling: str) -> tuple[str, str, Path]:
    """(input as typed, output as typed, the input file) for a file output that is the input."""
    if name != source:
        shutil.copy(work / source, work / name)
    if spelling == "plain":
        return name, name, work / name
    if spelling == "dot":
        return name, f"./{name}", work / name
    other = f"{spelling}-{name}"
    if spelling == "symlink":
        os.symlink(name, work / other)
    else:
        os.link(work / name, work / other)
    return name, other, work / name


def _folder_case(work: Path, source: str, name: str, spelling: str) -> tuple[str, str, Path]:
    """(input as typed, folder as typed, the input file) where the folder's ``name`` is the input."""
    (work / "d").mkdir()
    if spelling in ("plain", "dot"):
        shutil.copy(work / source, work / "d" / name)
        return f"d/{name}", "d" if spelling == "plain" else "./d/../d", work / "d" / name
    (work / "src").mkdir()
    shutil.copy(work / source, work / "src" / name)
    if spelling == "symlink":
        os.symlink(f"../src/{name}", work / "d" / name)
    else:
        os.link(work / "src" / name, work / "d" / name)
    return f"src/{name}", "d", work / "src" / name


def _refused(work: Path, argv: list[str], victim: Path, capsys, batch: bool = False) -> str:
    before, digest = _tree(work), victim.read_bytes()
    rc = run_cli(argv)
    err = capsys.readouterr().err
    assert victim.read_bytes() == digest, "the input changed"
    assert _tree(work) == before, "something was written"
    if batch:  # batch reports per file: a FAIL line and the summary, exit code = failures
        assert rc == 1 and "Traceback" not in err, err
        line = next(ln for ln in err.splitlines() if "FAIL" in ln)
    else:
        line = _one_line(err, rc)
    assert "output is an input" in line, line
    return line


@pytest.fixture
def work(clips, tmp_path, monkeypatch):
    """A private copy of the clips, as the current folder (the cases write and link there)."""
    folder = tmp_path / "w"
    shutil.copytree(clips, folder)
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("overwrite", [False, True], ids=["no-y", "y"])
@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("slot", list(FILE_SLOTS))
def test_file_output_that_is_an_input_is_refused(work, capsys, no_models, slot, spelling, overwrite):
    template, source, name = FILE_SLOTS[slot]
    given, out, victim = _file_case(work, source, name, spelling)
    argv = [a.replace("{X}", given).replace("{Y}", out) for a in template] + (["-y"] if overwrite else [])
    _refused(work, argv, victim, capsys)


@pytest.mark.parametrize("overwrite", [False, True], ids=["no-y", "y"])
@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("slot", list(FOLDER_SLOTS))
def test_folder_output_that_holds_an_input_is_refused(work, capsys, no_models, slot, spelling,
                                                      overwrite):
    template, source, name = FOLDER_SLOTS[slot]
    given, folder, victim = _folder_case(work, source, name, spelling)
    argv = [a.replace("{X}", given).replace("{D}", folder) for a in template]
    if overwrite:  # batch passes -y on to the command
        argv.insert(2 if argv[0] == "batch" else 1, "-y")
    _refused(work, argv, victim, capsys, batch=argv[0] == "batch")


def test_inpaint_picks_from_its_own_work_folder_is_the_review_workflow(clips, tmp_path, monkeypatch,
                                                                        capsys, no_models):
    """``--picks OUT_inpaint/picks.json`` reads the folder's own picks: not refused (that file is
    then left as it is); any other file of the folder as an input is."""
    import ffvfx.pipelines.inpaint

    def painting(*args, **kwargs):
        raise FfvfxError("reached the painting")
    monkeypatch.setattr(ffvfx.pipelines.inpaint, "run", painting)
    work = tmp_path / "w"
    shutil.copytree(clips, work)
    monkeypatch.chdir(work)
    (work / "out_inpaint").mkdir()
    shutil.copy(work / "picks.json", work / "out_inpaint" / "picks.json")
    rc = run_cli(["inpaint", "in.mp4", "alpha.mkv", "out.mp4", "--prompt", "a lamp",
                  "--picks", "out_inpaint/picks.json"])
    assert "reached the painting" in _one_line(capsys.readouterr().err, rc)
    shutil.copy(work / "alpha.mkv", work / "out_inpaint" / "patches.mkv")
    _refused(work, ["inpaint", "in.mp4", "out_inpaint/patches.mkv", "out.mp4", "--prompt", "a lamp"],
             work / "out_inpaint" / "patches.mkv", capsys)


# -- (b) zero decodable frames in every slot: bounded, one line ---------------------------------
ZERO_KINDS = ("zero-empty.mp4", "zero-undecodable.mov", "zero-truncated.mp4")
ZERO_SLOTS = {
    "motion-main": ["motion", "{Z}", "out.mp4"],
    "trails-main": ["trails", "{Z}", "out.mp4"],
    "trails-alpha": ["trails", "in.mp4", "out.mp4", "--ghost", "behind", "--alpha", "{Z}"],
    "composite-main": ["composite", "{Z}", "alpha.mkv", "out.mp4", "--bg", "red"],
    "composite-alpha": ["composite", "in.mp4", "{Z}", "out.mp4", "--bg", "red"],
    "composite-bg": ["composite", "in.mp4", "alpha.mkv", "out.mp4", "--bg", "{Z}"],
    "composite-bg-jobs": ["composite", "in.mp4", "alpha.mkv", "out.mp4", "--bg", "{Z}", "-j", "2"],
    "plate-main": ["plate", "{Z}", "alpha.mkv", "out.png"],
    "plate-alpha": ["plate", "in.mp4", "{Z}", "out.png"],
    "plate-tmedian": ["plate", "{Z}", "out.png", "--method", "tmedian"],
    "matte-main": ["matte", "{Z}", "-o", "m", "--model", "chroma"],
    "matte-plate": ["matte", "in.mp4", "-o", "m", "--model", "difference", "--plate", "{Z}"],
    "matte-composite": ["matte", "in.mp4", "-o", "m", "--model", "chroma", "--composite", "{Z}"],
    "loop-main": ["loop", "{Z}", "-o", "l"],
    "loop-alpha": ["loop", "in.mp4", "-o", "l", "--alpha", "{Z}"],
    "generate-main": ["generate", "{Z}", "alpha.mkv", "out.png", "--prompt", "a beach"],
    "generate-alpha": ["generate", "in.mp4", "{Z}", "out.png", "--prompt", "a beach"],
    "studio-main": ["studio", "{Z}", "alpha.mkv", "out.mp4", "--prompt", "a beach"],
    "studio-alpha": ["studio", "in.mp4", "{Z}", "out.mp4", "--prompt", "a beach"],
    "inpaint-main": ["inpaint", "{Z}", "alpha.mkv", "out.mp4", "--prompt", "a lamp"],
    "inpaint-mask": ["inpaint", "in.mp4", "{Z}", "out.mp4", "--prompt", "a lamp"],
}


# no packets and packets that do not decode everywhere; a truncated file where it was looped
ZERO_CASES = [(slot, kind) for slot in ZERO_SLOTS for kind in ZERO_KINDS[:2]] \
    + [(slot, ZERO_KINDS[2]) for slot in ("motion-main", "composite-bg", "matte-composite")]


@pytest.mark.parametrize("slot, kind", ZERO_CASES, ids=[f"{s}-{k.split('.')[0]}" for s, k in ZERO_CASES])
def test_no_decodable_frame_in_any_slot_ends_with_one_line(ffvfx_cmd, clips, tmp_path, slot, kind):
    work = tmp_path / "w"
    shutil.copytree(clips, work)
    before = _tree(work)
    argv = [a.replace("{Z}", kind) for a in ZERO_SLOTS[slot]]
    began = time.monotonic()
    res = ffvfx_cmd(*argv, "-q", cwd=work, timeout=TIMEOUT, env={"FFVFX_CACHE": str(tmp_path / "cache")})
    line = _one_line(res.stderr, res.returncode)
    assert "made no progress" not in line, f"refused only by the watchdog: {line}"
    assert time.monotonic() - began < TIMEOUT / 2, line
    assert _tree(work) == before, "something was written"


def test_batch_with_a_zero_frame_file_ends(ffvfx_cmd, clips, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(clips, work)
    res = ffvfx_cmd("batch", "motion", "zero-undecodable.mov", "in.mp4", "-o", "out", "-q", cwd=work,
                    timeout=TIMEOUT)
    assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
    assert "zero-undecodable.mov" in res.stderr and (work / "out" / "in.mp4").is_file()


# -- (c) the issue's reproductions ----------------------------------------------------------------
@pytest.mark.parametrize("argv, victim", [
    (["composite", "in.mp4", "alpha.mkv", "alpha.mkv", "--bg", "red", "-y"], "alpha.mkv"),
    (["composite", "in.mp4", "alpha.mkv", "bg.mp4", "--bg", "bg.mp4", "-y"], "bg.mp4"),
    (["trails", "in.mp4", "alpha.mkv", "--ghost", "behind", "--alpha", "alpha.mkv", "-y"], "alpha.mkv"),
    (["matte", "alpha.mkv", "-o", ".", "-y", "--model", "chroma"], "alpha.mkv"),
    (["matte", "in.mp4", "-o", ".", "--composite", "alpha.mkv", "-y", "--model", "chroma"], "alpha.mkv"),
], ids=["composite-alpha", "composite-bg", "trails-alpha", "matte-main", "matte-composite"])
def test_issue_side_inputs_are_not_overwritten(clips, tmp_path, monkeypatch, capsys, argv, victim):
    work = tmp_path / "w"
    shutil.copytree(clips, work)
    monkeypatch.chdir(work)
    _refused(work, argv, work / victim, capsys)


def test_issue_zero_frame_background_does_not_hang(ffvfx_cmd, clips, tmp_path):
    """``composite good.mp4 alpha.mkv o.mp4 --bg zero-frames`` looped its background forever."""
    work = tmp_path / "w"
    shutil.copytree(clips, work)
    res = ffvfx_cmd("composite", "in.mp4", "alpha.mkv", "o.mp4", "--bg", "zero-undecodable.mov",
                    cwd=work, timeout=TIMEOUT)
    line = _one_line(res.stderr, res.returncode)
    assert "zero-undecodable.mov" in line and not (work / "o.mp4").exists()


def test_a_background_of_which_no_frame_decodes_is_refused(clips, tmp_path, monkeypatch, capsys):
    """Even where probing does not notice (a stream with a known pixel format), a --bg video of
    which no frame decodes is refused before it is looped."""
    import ffvfx.pipelines.composite

    work = tmp_path / "w"
    shutil.copytree(clips, work)
    monkeypatch.chdir(work)
    real = ffvfx.pipelines.composite.probe

    def lenient(path, tools):  # what a probe that trusts the header would say
        if path.startswith("zero"):
            return real("bg.mp4", tools)
        return real(path, tools)
    monkeypatch.setattr(ffvfx.pipelines.composite, "probe", lenient)
    rc = run_cli(["composite", "in.mp4", "alpha.mkv", "o.mp4", "--bg", "zero-undecodable.mov"])
    line = _one_line(capsys.readouterr().err, rc)
    assert "no frame of it decodes" in line and not (work / "o.mp4").exists()


def test_cached_camera_path_is_not_said_to_be_measured(ffvfx_cmd, clips, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(clips, work)
    env = {"FFVFX_CACHE": str(tmp_path / "cache")}
    first = ffvfx_cmd("trails", "in.mp4", "a.mp4", cwd=work, env=env, timeout=TIMEOUT)
    assert first.returncode == 0, first.stderr
    assert "measuring camera motion" in first.stderr
    again = ffvfx_cmd("trails", "in.mp4", "b.mp4", cwd=work, env=env, timeout=TIMEOUT)
    assert again.returncode == 0, again.stderr
    assert "measuring camera motion" not in again.stderr and "camera motion: cached" in again.stderr


def test_batch_makes_its_output_folder(ffvfx_cmd, clips, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(clips, work)
    res = ffvfx_cmd("batch", "motion", "in.mp4", "-o", "new", "-q", cwd=work, timeout=TIMEOUT)
    assert res.returncode == 0, res.stderr
    assert (work / "new" / "in.mp4").is_file()
    res = ffvfx_cmd("batch", "motion", "in.mp4", "-o", "no/such/new", "-q", cwd=work, timeout=TIMEOUT)
    assert "output directory does not exist" in _one_line(res.stderr, res.returncode)
    assert not (work / "no").exists()


def test_missing_plate_is_one_line_without_opencv_warnings(clips, tmp_path, monkeypatch, capfd):
    work = tmp_path / "w"
    shutil.copytree(clips, work)
    monkeypatch.chdir(work)
    (work / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    for plate, hint in (("missing.png", "no such file"), ("broken.png", "not an image")):
        rc = run_cli(["matte", "in.mp4", "--model", "difference", "--plate", plate, "-o", "m"])
        assert hint in _one_line(capfd.readouterr().err, rc)


# -- the watchdog ---------------------------------------------------------------------------------
@pytest.fixture
def stall(monkeypatch):
    monkeypatch.setenv(watchdog.ENV, "1")


@pytest.fixture
def fifo(tmp_path) -> Path:
    """A named pipe nobody writes: ffmpeg opening it waits forever."""
    path = tmp_path / "never.raw"
    os.mkfifo(path)
    return path


def test_render_stops_ffmpeg_that_makes_no_progress(tools, fifo, stall):
    began = time.monotonic()
    argv = [tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "rawvideo",
            "-pix_fmt", "gray", "-s", "16x16", "-i", str(fifo), "-f", "null", "-"]
    with pytest.raises(watchdog.Stalled, match="made no progress for 1 s"):
        execute(argv, ProgressBar("x", None, enabled=False))
    assert time.monotonic() - began < 10


def test_render_stops_ffmpeg_that_reports_without_frames(tools, stall):
    """Progress reports that repeat ``frame=0`` (a graph waiting for a frame that never comes)
    are no progress."""
    began = time.monotonic()
    argv = [tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
            "color=s=16x16", "-vf", "select=0", "-f", "null", "-"]
    with pytest.raises(watchdog.Stalled):
        execute(argv, ProgressBar("x", None, enabled=False))
    assert time.monotonic() - began < 10


def test_frame_reader_stops_a_stalled_decoder(tools, fifo, stall):
    with pytest.raises(watchdog.Stalled, match=r"ffmpeg decoding .*never\.raw"):
        list(frames(str(fifo), tools, (16, 16), "gray"))


def test_frame_reader_does_not_count_the_consumers_time(tools, clips, monkeypatch):
    monkeypatch.setenv(watchdog.ENV, "0.5")
    got = 0
    for _ in frames(str(clips / "in.mp4"), tools, (W, H), limit=3):
        time.sleep(0.8)  # a slow model
        got += 1
    assert got == 3


def test_one_shot_runs_are_bounded(tools, fifo, stall):
    with pytest.raises(watchdog.Stalled, match="ffmpeg reading"):
        watchdog.run([tools.ffmpeg, "-hide_banner", "-f", "rawvideo", "-s", "16x16", "-i", str(fifo),
                      "-f", "null", "-"], "ffmpeg reading a pipe")
    with pytest.raises(watchdog.Stalled, match="gave no answer in 1 s"):
        watchdog.run(["sleep", "30"], "sleep", progress=False)


def test_stall_bound_from_the_environment(monkeypatch):
    monkeypatch.delenv(watchdog.ENV, raising=False)
    assert watchdog.stall_seconds() == watchdog.STALL_SECONDS
    monkeypatch.setenv(watchdog.ENV, "2.5")
    assert watchdog.stall_seconds() == 2.5
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv(watchdog.ENV, bad)
        with pytest.raises(FfvfxError, match=watchdog.ENV):
            watchdog.stall_seconds()


def test_a_flood_of_ffmpeg_errors_is_kept_bounded():
    lines = watchdog.Lines()
    lines.read(f"error {k}\n" for k in range(100_000))
    assert len(lines.lines()) == lines.HEAD + lines.TAIL and lines.last() == "error 99999"


def test_probe_of_a_fifo_ends(tools, fifo, stall):
    from ffvfx.ffmpeg.probe import probe
    with pytest.raises(FfvfxError):
        probe(str(fifo), tools)
