"""Encoder options: every option and named value ffvfx passes to a hardware encoder exists in the
installed ffmpeg's own ``-h encoder=NAME`` (no GPU needed to check that), and bad presets are one
line. Software encoders are exercised by the render tests."""

from __future__ import annotations

import re
import subprocess

import pytest

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.encoders import quality_args

HW_ENCODERS = ("h264_nvenc", "hevc_nvenc", "h264_vaapi", "hevc_vaapi", "h264_qsv", "hevc_qsv")
GENERIC = {"-c:v", "-b:v", "-q:v", "-global_quality"}  # ffmpeg's own options, not the encoder's


def _help(ffmpeg: str, encoder: str) -> dict[str, set[str]]:
    """Private options of ``encoder`` and the named values each takes."""
    text = subprocess.run([ffmpeg, "-hide_banner", "-h", f"encoder={encoder}"], capture_output=True,
                          text=True).stdout
    options: dict[str, set[str]] = {}
    current = None
    for line in text.splitlines():
        if m := re.match(r"^  -(\S+)", line):
            current = options.setdefault(m.group(1), set())
        elif (m := re.match(r"^     (\S+)", line)) and current is not None:
            current.add(m.group(1))
    return options


def _pairs(args: list[str]) -> list[tuple[str, str]]:
    return list(zip(args[::2], args[1::2], strict=True))


@pytest.mark.parametrize("encoder", HW_ENCODERS)
@pytest.mark.parametrize("quality", [dict(), dict(crf=23), dict(qp=20), dict(crf=21.5)])
def test_quality_options_exist_in_this_ffmpeg(tools, encoder, quality):
    if encoder not in tools.encoders:
        pytest.skip(f"this ffmpeg has no {encoder}")
    known = _help(tools.ffmpeg, encoder)
    presets = tools.encoder_presets(encoder)
    preset = None if encoder.endswith("_vaapi") else "slow"
    args = quality_args(encoder, preset=preset, presets=presets, **quality)
    for opt, value in _pairs(args):
        if opt in GENERIC:
            continue
        name = opt.lstrip("-")
        assert name in known, f"{encoder} has no option {opt}"
        if known[name] and not re.fullmatch(r"[\d.]+", value):
            assert value in known[name], f"{encoder} {opt}: {value} is not one of {sorted(known[name])}"


@pytest.mark.parametrize("quality, expected", [
    (dict(), ["-rc", "vbr", "-cq", "18", "-b:v", "0"]),
    (dict(crf=23), ["-rc", "vbr", "-cq", "23", "-b:v", "0"]),
    (dict(qp=20), ["-rc", "constqp", "-qp", "20"]),
])
def test_nvenc_quality_mapping(quality, expected):
    assert quality_args("h264_nvenc", **quality)[2:] == expected


@pytest.mark.parametrize("preset, expected", [("p1", "p1"), ("p7", "p7"), ("medium", "p4"),
                                              ("ultrafast", "p1"), ("veryslow", "p7")])
def test_nvenc_presets(tools, preset, expected):
    presets = tools.encoder_presets("h264_nvenc") if "h264_nvenc" in tools.encoders else ()
    assert quality_args("h264_nvenc", preset=preset, presets=presets)[-2:] == ["-preset", expected]


def test_legacy_nvenc_presets_follow_the_installed_ffmpeg(tools):
    if "h264_nvenc" not in tools.encoders:
        pytest.skip("no h264_nvenc")
    presets = tools.encoder_presets("h264_nvenc")
    if "hq" in presets:  # ffmpeg 5.1 still lists hp/hq
        assert quality_args("h264_nvenc", preset="hq", presets=presets)[-1] == "hq"
    else:
        with pytest.raises(FfvfxError, match=r"--preset hq: h264_nvenc knows .*p1"):
            quality_args("h264_nvenc", preset="hq", presets=presets)


def test_qsv_and_vaapi_mapping():
    assert quality_args("h264_qsv", qp=22)[2:] == ["-q:v", "22"]
    assert quality_args("h264_qsv", crf=25, preset="p7")[2:] == ["-global_quality", "25", "-preset",
                                                                  "veryslow"]
    assert quality_args("hevc_vaapi", crf=24.4)[2:] == ["-rc_mode", "CQP", "-qp", "24"]
    with pytest.raises(FfvfxError, match="h264_vaapi has no presets"):
        quality_args("h264_vaapi", preset="fast")


def test_unknown_preset_is_one_line(tools):
    presets = tools.encoder_presets("h264_nvenc") if "h264_nvenc" in tools.encoders else ("p1", "p7")
    with pytest.raises(FfvfxError) as err:
        quality_args("h264_nvenc", preset="warp9", presets=presets)
    assert "\n" not in str(err.value) and "--preset warp9" in str(err.value)


def test_cli_preset_error_for_a_gpu_target(ffvfx_cmd, tmp_path):
    clip = tmp_path / "in.mp4"
    assert ffvfx_cmd("demo", str(clip), "--seconds", "0.5", "--size", "160x90").returncode == 0
    res = ffvfx_cmd("motion", str(clip), "--hw", "vaapi", "--preset", "fast", "--print=cmd")
    assert res.returncode == 1 and res.stderr.strip() == \
        "ffvfx: error: h264_vaapi has no presets (speed and quality are the driver's); drop --preset"
