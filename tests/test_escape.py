"""Escaping against real ffmpeg: option values round-trip, nothing injects, paths open as files.

Every test runs on each ffmpeg found (the system one, the imageio-ffmpeg 9.x wheel binary and
``$FFVFX_FFMPEG``), because the graph parser changed between 5.1 and 7+.

How a value is observed: ``metadata=mode=add:key=k:value=S`` then ``metadata=mode=print:file=F``
on a one-frame input. The print file then holds exactly ``frame:0 ... \\n`` + ``k=`` + S + ``\\n``
(no other metadata on a lavfi frame), so S is recovered exactly, newlines included: the first
line is ffmpeg's header and holds no user text. ffmpeg 5.1 formats each printed line in a
128-byte buffer, so values are kept to 120 UTF-8 bytes.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ffvfx.compiler import escape
from ffvfx.compiler.graph import Graph, Input, filter, source
from ffvfx.ffmpeg.toolchain import Toolchain


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("escape")


def ffmpeg(tc: Toolchain, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([tc.ffmpeg, "-v", "error", "-nostdin", "-hide_banner", *args],
                          capture_output=True, timeout=60, cwd=cwd)


def check(res: subprocess.CompletedProcess[bytes]) -> bytes:
    assert res.returncode == 0, res.stderr.decode(errors="replace")[-2000:]
    return res.stdout


ONE_FRAME = ["-f", "lavfi", "-i", "color=s=16x16:d=0.04"]

SPECIALS = "\\':,;[]=%# \n\t\r\"{}$@/|-"
VALUES = st.text(
    alphabet=st.one_of(st.sampled_from(SPECIALS),
                       st.characters(codec="utf-8", exclude_characters="\x00")),
    max_size=40,
).filter(lambda s: len(s.encode()) <= 120)

NASTY = [
    "",
    " ",
    "'",
    "\\",
    "''",
    "\\'",
    "  lead and trail\t\n",
    "\n",
    "\t\n\r ",
    "a:b,c;d[e]f=g%h",
    "x,drawbox=c=red:t=fill",
    "';movie=/etc/passwd[a];[a]nullsink;'",
    "'[in];movie=/etc/passwd,nullsink;[in]'",
    "\\';drawbox=c=red:t=fill;\\'",
    "it's, a;[test]: %.mkv",
    "%{pts} %{n} %%",
    "ünïcödé ✓ 雪 🎬",
]


def with_examples(values: list[str]):
    def deco(fn):
        for v in values:
            fn = example(value=v)(fn)
        return fn
    return deco


def metadata_chain(stream, value: str, printed: Path):
    return (stream.filter("metadata", mode="add", key="k", value=value)
            .filter("metadata", mode="print", file=str(printed)))


def read_printed(path: Path) -> str:
    """The value of key ``k`` from a one-frame ``metadata=mode=print`` file, exactly."""
    text = path.read_bytes().decode("utf-8")
    header, _, rest = text.partition("\n")
    assert header.startswith("frame:0 "), text
    assert rest.startswith("k=") and rest.endswith("\n"), text
    return rest[2:-1]


def fresh(workdir: Path, suffix: str = ".txt") -> Path:
    return workdir / (uuid.uuid4().hex + suffix)


HYPO = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- 1. round trip -------------------------------------------------------------------------------
@HYPO
@given(value=VALUES)
@with_examples(NASTY)
def test_option_value_round_trips(tc: Toolchain, workdir: Path, value: str) -> None:
    printed = fresh(workdir)
    line = Graph(metadata_chain(Input().video, value, printed)).line()
    check(ffmpeg(tc, *ONE_FRAME, "-vf", line, "-f", "null", "-"))
    assert read_printed(printed) == value


def test_escape_functions_only_backslash_their_level() -> None:
    assert escape.option_value("a:b'c\\d") == "a\\:b\\'c\\\\d"
    assert escape.option_value("a,b;[c]") == "a,b;[c]"
    assert escape.filter_args("a:b,c;[d]'\\") == "a:b\\,c\\;\\[d\\]\\'\\\\"
    assert escape.option_value(" x\t") == "\\ x\\\t"
    assert escape.option_value("a=b") == "a\\=b"
    assert escape.option_value("") == "''"


# -- 2. no injection -----------------------------------------------------------------------------
COLOUR = (0x20, 0x40, 0xC0)
FRAMES = 5


def _instances(dump: str) -> list[str]:
    """Filter instance names (``metadata``) in order from lavfi's ``dumpgraph`` box drawing."""
    found = re.findall(r"\| +(Parsed_[A-Za-z0-9_]+?)_(\d+) +\|", dump)
    return [name.removeprefix("Parsed_") for name, _ in sorted(set(found), key=lambda m: int(m[1]))]


@HYPO
@given(value=VALUES)
@with_examples(NASTY)
def test_no_value_adds_a_filter(tc: Toolchain, workdir: Path, value: str) -> None:
    printed = fresh(workdir)
    src = source("color", c="0x{:02X}{:02X}{:02X}".format(*COLOUR), s="16x16", r=25, d=FRAMES / 25)
    graph = Graph(metadata_chain(src.filter("format", "rgb24"), value, printed))
    res = ffmpeg(tc, "-f", "lavfi", "-dumpgraph", "1", "-i", graph.line(),
                 "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
    raw = check(res)
    assert _instances(res.stderr.decode(errors="replace")) == ["color", "format", "metadata", "metadata"]
    frames = np.frombuffer(raw, np.uint8).reshape(-1, 16, 16, 3)
    assert len(frames) == FRAMES
    assert (frames == np.array(COLOUR, np.uint8)).all()
    text = printed.read_bytes().decode("utf-8")
    assert text.count("frame:") >= FRAMES  # printed once per frame
    assert text.partition("\n")[2].startswith(f"k={value}\n")


def test_injection_would_be_seen(tc: Toolchain) -> None:
    """The checks above can fail: an unescaped value does add filters and change pixels."""
    line = ("color=c=0x2040C0:s=16x16:r=25:d=0.2,format=rgb24,"
            "metadata=mode=add:key=k:value=x,drawbox=c=red:t=fill")
    res = ffmpeg(tc, "-f", "lavfi", "-dumpgraph", "1", "-i", line, "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
    raw = check(res)
    assert "drawbox" in _instances(res.stderr.decode(errors="replace"))
    assert not (np.frombuffer(raw, np.uint8).reshape(-1, 3) == np.array(COLOUR, np.uint8)).all()


# Positional option values are read by ffmpeg as ``key=value`` when they contain ``=`` after a run
# of key characters, and on ffmpeg >= 7 a ``/key=path`` loads the option ``key`` from a file.


@pytest.mark.parametrize("value", [
    pytest.param("a=b", id="equals"),
    pytest.param("/value={secret}", id="slash-key-reads-file"),
    pytest.param("", id="empty"),
])
def test_positional_value_round_trips(tc: Toolchain, workdir: Path, value: str) -> None:
    secret = workdir / "secret.txt"
    secret.write_text("SECRET")
    value = value.format(secret=secret)
    printed = fresh(workdir)
    line = Graph(Input().video.filter("metadata", "add", "k", value)
                 .filter("metadata", mode="print", file=str(printed))).line()
    check(ffmpeg(tc, *ONE_FRAME, "-vf", line, "-f", "null", "-"))
    assert read_printed(printed) == value


# -- 3. paths ------------------------------------------------------------------------------------
def make_clip(tc: Toolchain, path: Path, rgb: tuple[int, int, int], frames: int = 3) -> None:
    """A lossless 16x16 clip of one colour at an absolute path (no protocol lookup applies)."""
    assert path.is_absolute()
    colour = "0x{:02X}{:02X}{:02X}".format(*rgb)
    check(ffmpeg(tc, "-f", "lavfi", "-i", f"color=c={colour}:s=16x16:r=25:d={frames / 25},format=bgr0",
                 "-c:v", "ffv1", "-f", "matroska", "-y", str(path)))


def decoded(res: subprocess.CompletedProcess[bytes]) -> np.ndarray:
    return np.frombuffer(check(res), np.uint8).reshape(-1, 16, 16, 3)


def assert_colour(frames: np.ndarray, rgb: tuple[int, int, int], count: int = 3) -> None:
    assert len(frames) == count
    assert (frames == np.array(rgb, np.uint8)).all(), frames[0, 0, 0]


TARGET = (0x33, 0x66, 0xCC)
DECOY = (0xFF, 0x00, 0x00)
RAW = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]


def test_movie_opens_a_path_with_every_special(tc: Toolchain, tmp_path: Path) -> None:
    clip = tmp_path / "it's, a;[test]: %.mkv"
    make_clip(tc, clip, TARGET)
    for decoy in ("it", "its", " a", "a", "test", "it's, a;[test]"):
        make_clip(tc, tmp_path / decoy, DECOY)
    line = Graph(source("movie", filename=str(clip))).line()
    assert_colour(decoded(ffmpeg(tc, "-filter_complex", line, *RAW, cwd=tmp_path)), TARGET)
    # the same text as a lavfi input graph
    assert_colour(decoded(ffmpeg(tc, "-f", "lavfi", "-i", line, *RAW, cwd=tmp_path)), TARGET)


@pytest.mark.parametrize("name", ["concat:a.mkv|b.mkv", "subfile:x", "http:x.mkv", "a:b,c;[d]'.mkv"])
def test_media_path_opens_relative_names_as_files(tc: Toolchain, tmp_path: Path, name: str) -> None:
    for decoy in ("a.mkv", "b.mkv", "x", "x.mkv"):
        make_clip(tc, tmp_path / decoy, DECOY)
    make_clip(tc, tmp_path / name, TARGET)
    path = escape.media_path(name)
    assert_colour(decoded(ffmpeg(tc, "-i", path, *RAW, cwd=tmp_path)), TARGET)
    line = Graph(source("movie", filename=path)).line()
    assert_colour(decoded(ffmpeg(tc, "-filter_complex", line, *RAW, cwd=tmp_path)), TARGET)


def test_without_media_path_a_protocol_name_is_not_the_file(tc: Toolchain, tmp_path: Path) -> None:
    """Premise of the test above: ffmpeg reads ``concat:a.mkv|b.mkv`` as the concat protocol."""
    for decoy in ("a.mkv", "b.mkv"):
        make_clip(tc, tmp_path / decoy, DECOY)
    make_clip(tc, tmp_path / "concat:a.mkv|b.mkv", TARGET)
    res = ffmpeg(tc, "-i", "concat:a.mkv|b.mkv", *RAW, cwd=tmp_path)
    assert res.returncode != 0 or not (decoded(res) == np.array(TARGET, np.uint8)).all()


@pytest.mark.parametrize("name", [
    pytest.param("subfile,,start,0,end,0,,:x", id="subfile-comma-syntax"),
    pytest.param("C:/y.mkv", id="drive-letter-on-posix"),
])
def test_media_path_protocol_lookalikes(tc: Toolchain, tmp_path: Path, name: str) -> None:
    make_clip(tc, tmp_path / "x", DECOY)
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    make_clip(tc, tmp_path / name, TARGET)
    res = ffmpeg(tc, "-i", escape.media_path(name), *RAW, cwd=tmp_path)
    assert_colour(decoded(res), TARGET)


def test_media_path_leaves_plain_paths_alone() -> None:
    assert escape.media_path("clip.mkv") == "clip.mkv"
    assert escape.media_path("/abs/concat:x.mkv") == "/abs/concat:x.mkv"
    assert escape.media_path("dir/it's, a;[test].mp4") == "dir/it's, a;[test].mp4"
    assert escape.media_path("concat:a|b") == "file:concat:a|b"
    assert escape.media_path("async+file:x") == "file:async+file:x"


# -- 4. script form ------------------------------------------------------------------------------
def _multi_chain(value: str, printed: Path) -> Graph:
    v = metadata_chain(Input().video, value, printed)
    return Graph(filter([v, v.filter("negate")], "blend", all_mode="average"))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=VALUES)
@with_examples(NASTY[5:13])
def test_script_form_matches_one_line(tc: Toolchain, workdir: Path, value: str) -> None:
    p_line, p_script = fresh(workdir), fresh(workdir)
    g_line, g_script = _multi_chain(value, p_line), _multi_chain(value, p_script)
    script_file = fresh(workdir, ".ffgraph")
    script_file.write_bytes(g_script.script().encode("utf-8"))
    a = check(ffmpeg(tc, *ONE_FRAME, "-filter_complex", g_line.line(), "-f", "framemd5", "-"))
    b = check(ffmpeg(tc, *ONE_FRAME, tc.script_option(), str(script_file), "-f", "framemd5", "-"))
    assert read_printed(p_line) == value == read_printed(p_script)
    frames = [[ln for ln in out.splitlines() if not ln.startswith(b"#")] for out in (a, b)]
    assert frames[0] == frames[1] and len(frames[0]) == 1
