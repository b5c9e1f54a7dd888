"""The cache layer (issue 16, item 8): a damaged entry is rebuilt with one line, never a failure.

Every cache (toolchain capabilities, hw-probe.json, camera paths, subject masks, studio layers and
clean alphas, inpainting attempts and candidates) goes through :mod:`ffvfx.ffmpeg.cache`; each is
damaged in every way a file can be -- the wrong JSON type, missing keys, wrong value types,
truncated JSON, a named file missing, truncated or replaced by a shorter video -- and the next
use rebuilds it, saying ``ffvfx: cache entry PATH was damaged; rebuilt`` once. Before, a ``{}``
toolchain cache or a list in hw-probe.json made every command fail until deleted by hand, and a
truncated cached mask was used as it was (a 75-frame render against a 25-frame mask).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from ffvfx.cli import run_cli
from ffvfx.ffmpeg import cache, toolchain
from ffvfx.ffmpeg.atomic import write_png
from ffvfx.ffmpeg.probe import frame_times
from ffvfx.ffmpeg.targets import probe as hw_probe
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.pipelines import inpaint as video_inpaint
from ffvfx.pipelines import studio
from ffvfx.stages.analysis import camera, mask

FPS = 25


def rebuilt_line(path: Path) -> str:
    return f"ffvfx: cache entry {path} was damaged; rebuilt\n"


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """An empty cache of the test's own."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("FFVFX_CACHE", str(folder))
    return folder


@pytest.fixture(scope="module")
def clip(tmp_path_factory, media, scenes) -> Path:
    """75 frames (3 s at 25 fps) of 96x64 with moving blobs."""
    return media.write(tmp_path_factory.mktemp("clip") / "in.mp4", scenes.blobs(75, 96, 64), fps=FPS,
                       vcodec="libx264", pix_fmt="yuv420p")


JSON_DAMAGE = {
    "wrong type (object)": "{}",
    "wrong type (list)": "[1, 2]",
    "wrong type (string)": '"cache"',
    "null": "null",
    "truncated": None,  # the first half of the real entry
    "empty": "",
    "not utf-8": b"\xff\xfe{",
}


def damage(path: Path, how: str) -> None:
    """Replace the entry ``path`` as ``how`` (a key of JSON_DAMAGE) says."""
    text = JSON_DAMAGE[how]
    if text is None:
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


# -- the layer itself --------------------------------------------------------------------------
def test_shapes():
    shape = {"version": 2, "name": str, "count": int, "rate": float, "sizes": [cache.Array(int, 2)],
             "by": cache.Table((str, None)), "maybe": (str, None)}
    good = {"version": 2, "name": "x", "count": 3, "rate": 25, "sizes": [[1, 2]], "by": {"a": None},
            "maybe": None, "extra": [1]}
    assert cache.matches(good, shape)
    for key, bad in [("version", 1), ("name", 3), ("count", True), ("count", 1.5), ("rate", "25"),
                     ("rate", float("nan")), ("sizes", [[1, 2, 3]]), ("sizes", [["1", 2]]),
                     ("by", {"a": 1}), ("by", [None]), ("maybe", 0)]:
        assert not cache.matches({**good, key: bad}, shape), (key, bad)
    assert not cache.matches({k: v for k, v in good.items() if k != "rate"}, shape)
    assert not cache.matches([good], shape)


def test_save_and_load(root, capsys):
    entry = root / "sub" / "entry.json"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "video.mkv").write_bytes(b"12345")
    assert cache.save(entry, {"a": 1}, files={"video.mkv": None})
    assert cache.load(entry, {"a": int, cache.FILES: dict}) == {"a": 1}
    assert cache.load(root / "absent.json", dict) is None
    assert capsys.readouterr().err == ""
    (root / "sub" / "video.mkv").write_bytes(b"1234")  # truncated
    assert cache.load(entry, {"a": int}) is None and not entry.exists()
    assert capsys.readouterr().err == rebuilt_line(entry)
    assert [p.name for p in (root / "sub").iterdir()] == ["video.mkv"]  # no temporary file left


def test_a_cache_that_is_a_file_only_costs_time(tmp_path, monkeypatch, capsys):
    blocked = tmp_path / "cache"
    blocked.write_text("a file")
    monkeypatch.setenv("FFVFX_CACHE", str(blocked))
    assert cache.load(cache.root() / "x.json", dict) is None
    assert cache.save(cache.root() / "x.json", {}) is False
    assert capsys.readouterr().err == ""


# -- toolchain ---------------------------------------------------------------------------------
@pytest.mark.parametrize("how", [*JSON_DAMAGE, "missing key", "wrong value type"])
def test_toolchain_cache(root, tools, capsys, how):
    assert Toolchain(tools.ffmpeg, None, None, "test").version  # writes the entry
    (entry,) = root.glob("toolchain-*.json")
    if how == "missing key":
        data = json.loads(entry.read_text())
        entry.write_text(json.dumps({k: v for k, v in data.items() if k != "hwaccels"}))
    elif how == "wrong value type":
        entry.write_text(json.dumps({**json.loads(entry.read_text()), "filters": "tpad,mix"}))
    else:
        damage(entry, how)
    fresh = Toolchain(tools.ffmpeg, None, None, "test")
    assert fresh.version == tools.version and "tpad" in fresh.filters and fresh.hwaccels == tools.hwaccels
    assert capsys.readouterr().err == rebuilt_line(entry)
    assert cache.load(entry, dict) is not None  # written again, sound


def test_a_damaged_toolchain_cache_no_longer_fails_every_command(root, tools, tmp_path, clip, capsys):
    assert Toolchain(tools.ffmpeg, None, None, "test").version
    (entry,) = root.glob("toolchain-*.json")
    entry.write_text("{}")
    toolchain._find.cache_clear()  # a new command: its toolchain reads the cache again
    try:
        code = run_cli(["motion", str(clip), str(tmp_path / "out.mp4"), "-q"])
    finally:
        toolchain._find.cache_clear()
    assert code == 0 and capsys.readouterr().err == rebuilt_line(entry)


# -- hw-probe.json -----------------------------------------------------------------------------
@pytest.mark.parametrize("how", [*JSON_DAMAGE, "wrong value type"])
def test_hw_probe_cache(root, tools, capsys, how):
    args = ["-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.04", "-frames:v", "1"]
    assert hw_probe._cached(tools, "test", args) is None
    entry = root / "hw-probe.json"
    if how == "wrong value type":
        entry.write_text(json.dumps(dict.fromkeys(json.loads(entry.read_text()), 5)))
    else:
        damage(entry, how)
    assert hw_probe._cached(tools, "test", args) is None
    sound = how == "wrong type (object)"  # {}: no answer known yet, which is no damage
    assert capsys.readouterr().err == ("" if sound else rebuilt_line(entry))
    assert list(cache.load(entry, cache.Table((str, None))).values()) == [None]


# -- camera path -------------------------------------------------------------------------------
@pytest.mark.parametrize("how", [*JSON_DAMAGE, "missing offsets", "not pairs", "wrong format"])
def test_camera_path_cache(root, tools, clip, capsys, how):
    said: list[str] = []
    first = camera.cached_path(str(clip), tools, say=said.append)
    entry = camera.side_file(str(clip))
    data = json.loads(entry.read_text())
    if how == "missing offsets":
        entry.write_text(json.dumps({k: v for k, v in data.items() if k != "offsets"}))
    elif how == "not pairs":
        entry.write_text(json.dumps({**data, "offsets": [[0.0, 0.0, 0.0]] * len(first)}))
    elif how == "wrong format":
        entry.write_text(json.dumps({**data, "format": "something else"}))
    else:
        damage(entry, how)
    again = camera.cached_path(str(clip), tools, say=said.append)
    assert said == ["measuring camera motion (cached for the next run)"] * 2
    assert again.offsets == first.offsets
    assert capsys.readouterr().err == rebuilt_line(entry)
    camera.cached_path(str(clip), tools, say=said.append)
    assert said[-1] == "camera motion: cached"


# -- subject mask ------------------------------------------------------------------------------
MASK_DAMAGE = [*JSON_DAMAGE, "missing keys", "no manifest", "video missing", "video truncated",
               "video of 25 frames"]


@pytest.mark.parametrize("how", MASK_DAMAGE)
def test_mask_cache(root, tools, clip, media, capsys, how):
    said: list[str] = []
    mask.cached_mask(str(clip), tools, say=said.append)
    (entry,) = root.glob("mask-*.json")
    video = entry.with_suffix(".mkv")
    data = json.loads(entry.read_text())
    if how == "missing keys":
        entry.write_text(json.dumps({k: v for k, v in data.items() if k not in ("frames", "fps")}))
    elif how == "no manifest":
        entry.write_text(json.dumps({k: v for k, v in data.items() if k != cache.FILES}))
    elif how == "video missing":
        video.unlink()
    elif how == "video truncated":
        video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    elif how == "video of 25 frames":  # the same size in bytes would still be caught by its frames
        media.write(video, np.zeros((25, 64, 96, 3), np.uint8), fps=FPS, pix_fmt="gray")
        data[cache.FILES][video.name]["bytes"] = video.stat().st_size
        entry.write_text(json.dumps(data))
    else:
        damage(entry, how)
    found = mask.cached_mask(str(clip), tools, say=said.append)
    assert said == ["computing the subject mask (cached for the next run)"] * 2
    assert capsys.readouterr().err == rebuilt_line(entry)
    assert found.frames == 75 and len(frame_times(str(video), tools.ffmpeg)) == 75
    assert mask.cached_mask(str(clip), tools, say=said.append).frames == 75
    assert said[-1] == "subject mask: cached"


def test_a_truncated_mask_is_not_used_by_a_render(root, tools, clip, media, tmp_path, capsys):
    """The issue's case: 75 output frames against a mask cut to 25 frames."""
    out = tmp_path / "out.mp4"
    assert run_cli(["trails", str(clip), str(out), "--mask", "--no-compensate", "-q"]) == 0
    (entry,) = root.glob("mask-*.json")
    video = entry.with_suffix(".mkv")
    good = media.decode(video)
    media.write(video, np.zeros((25, 64, 96, 3), np.uint8), fps=FPS, pix_fmt="gray")
    capsys.readouterr()
    assert run_cli(["trails", str(clip), str(out), "--mask", "--no-compensate", "-q", "-y"]) == 0
    assert capsys.readouterr().err == rebuilt_line(entry)
    assert len(media.decode(out)) == 75 and np.array_equal(media.decode(video), good)


# -- studio ------------------------------------------------------------------------------------
@pytest.fixture
def generation(root) -> Path:
    """A cached generation's pictures (no model): a depth ramp and a background."""
    folder = cache.folder(root / "studio" / "key")
    ramp = np.tile(np.linspace(0, 65535, 96).astype(np.uint16), (64, 1))
    write_png(folder / "depth.png", ramp, overwrite=True)
    write_png(folder / "background.png", np.full((64, 96, 3), 90, np.uint8), overwrite=True)
    return folder


@pytest.mark.parametrize("how", [*JSON_DAMAGE, "old list", "layer missing", "layer truncated"])
def test_studio_layers_cache(generation, capsys, how):
    first = studio._layers(generation, 2)
    entry = generation / "layers-2" / "layers.json"
    layer = Path(first[1].path)
    if how == "old list":  # the format before the manifest
        entry.write_text(json.dumps([{"file": Path(x.path).name, "depth": x.depth} for x in first]))
    elif how == "layer missing":
        layer.unlink()
    elif how == "layer truncated":
        layer.write_bytes(layer.read_bytes()[:100])
    else:
        damage(entry, how)
    again = studio._layers(generation, 2)
    assert capsys.readouterr().err == rebuilt_line(entry)
    assert [(x.path, x.depth) for x in again] == [(x.path, x.depth) for x in first]
    assert cv2.imread(str(layer), cv2.IMREAD_UNCHANGED).shape == (64, 96, 4)


def test_studio_generation_entry_names_its_pictures(generation, capsys):
    entry = generation / "generation.json"
    log = {"models": {"inpaint": {"id": "m", "revision": "local"}}, "device": "cpu", "dtype": "float32",
           "depth_s": 1.0, "load_s": 1.0, "step_s": [0.5], "generation_s": 2}
    (generation / "control.png").write_bytes((generation / "background.png").read_bytes())
    assert cache.save(entry, log, files=dict.fromkeys(studio.FOLDER_IMAGES))
    assert cache.load(entry, studio._GENERATION) == log
    (generation / "control.png").unlink()
    assert cache.load(entry, studio._GENERATION) is None
    assert capsys.readouterr().err == rebuilt_line(entry)


@pytest.mark.parametrize("how", ["video truncated", "entry missing", "wrong type (list)"])
def test_studio_clean_alpha_cache(root, tools, media, tmp_path, capsys, how):
    alpha = media.write(tmp_path / "alpha.mkv", np.full((20, 64, 96, 3), 255, np.uint8), fps=FPS,
                        pix_fmt="gray")
    opts = studio.Options(prompt="a room")
    out = Path(studio._clean_alpha(str(alpha), tools, opts, quiet=True))
    entry = out.with_suffix(".json")
    if how == "video truncated":
        out.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    elif how == "entry missing":
        entry.unlink()
    else:
        damage(entry, how)
    assert studio._clean_alpha(str(alpha), tools, opts, quiet=True) == str(out)
    assert capsys.readouterr().err == ("" if how == "entry missing" else rebuilt_line(entry))
    assert len(frame_times(str(out), tools.ffmpeg)) == 20


# -- inpaint -----------------------------------------------------------------------------------
def test_inpaint_attempts_and_candidates(root, capsys):
    folder = cache.folder(root / "inpaint" / "key")
    entry = folder / "attempts.json"
    assert cache.save(entry, {"0": 1, "24": 0})
    assert cache.load(entry, cache.Table(int)) == {"0": 1, "24": 0}
    entry.write_text('[0, 24]')
    assert cache.load(entry, cache.Table(int)) is None
    assert capsys.readouterr().err == rebuilt_line(entry)
    picture = folder / "key00000-c0.png"
    write_png(picture, np.full((64, 96, 3), 80, np.uint8), overwrite=True)
    assert video_inpaint._sound_picture(picture)
    picture.write_bytes(picture.read_bytes()[:60])
    assert not video_inpaint._sound_picture(picture) and not picture.exists()
    assert capsys.readouterr().err == rebuilt_line(picture)
    assert not video_inpaint._sound_picture(folder / "key00024-c0.png")  # absent: painted, not damage
    assert capsys.readouterr().err == ""
