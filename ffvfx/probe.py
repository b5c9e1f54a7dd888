"""What an input video is: size, rate, frame count, pixel format, rotation, audio.

Uses ffprobe when the toolchain has one, and otherwise reads the stream summary ffmpeg prints for
``ffmpeg -i`` (the imageio-ffmpeg binary ships no ffprobe). Every failure becomes one clear line.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from ffvfx import escape
from ffvfx.errors import FfvfxError
from ffvfx.toolchain import Toolchain


@dataclass(frozen=True)
class VideoInfo:
    """An input's first video stream as it decodes (width/height after rotation)."""

    path: str
    width: int
    height: int
    fps: Fraction                 # average frames per second
    frames: int | None            # frame count (exact where the container says, else estimated)
    duration: float | None        # seconds
    pix_fmt: str
    rotation: int                 # degrees the decoder rotates by (autorotate), 0/90/180/270
    audio_codec: str | None       # first audio stream's codec, None without audio
    variable_rate: bool           # average and nominal frame rates disagree
    codec: str | None = None      # the video codec's name (h264, hevc, ffv1 ...)

    @property
    def bit_depth(self) -> int:
        m = re.search(r"p(\d+)(le|be)?$", self.pix_fmt)
        return int(m.group(1)) if m and "p" in self.pix_fmt else 8


def probe(path: str, tools: Toolchain) -> VideoInfo:
    """Describe ``path``; raises FfvfxError for missing files, non-videos and empty videos."""
    p = Path(path)
    if not p.exists():
        raise FfvfxError(f"{path}: no such file")
    if p.is_dir():
        raise FfvfxError(f"{path}: is a directory, not a video")
    info = _ffprobe(path, tools) if tools.ffprobe else _ffmpeg_banner(path, tools)
    empty = info.frames == 0 or info.pix_fmt == "none"  # "none": no frame was ever decoded
    if empty or (info.duration is not None and info.duration <= 0 and info.frames is None):
        raise FfvfxError(f"{path}: the video stream has no frames")
    return info


def _ffprobe(path: str, tools: Toolchain) -> VideoInfo:
    res = subprocess.run(
        [tools.ffprobe, "-v", "error", "-show_streams", "-show_format", "-of", "json",
         escape.media_path(path)],
        capture_output=True, text=True, errors="replace")
    if res.returncode != 0:
        raise FfvfxError(f"{path}: not a video file ({_last_line(res.stderr)})")
    data = json.loads(res.stdout or "{}")
    if data.get("format", {}).get("format_name") == "tty":
        raise FfvfxError(f"{path}: not a video file (a text file)")
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"
                  and not s.get("disposition", {}).get("attached_pic")), None)
    if video is None:
        raise FfvfxError(f"{path}: has no video stream")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    rotation = 0
    for side in video.get("side_data_list", []):
        if "rotation" in side:
            rotation = int(round(float(side["rotation"])))
    if "rotate" in video.get("tags", {}):
        rotation = -int(video["tags"]["rotate"])
    avg = _rate(video.get("avg_frame_rate"))
    nominal = _rate(video.get("r_frame_rate"))
    fps = avg or nominal
    duration = _float(video.get("duration"))
    if duration is None:
        duration = _float(data.get("format", {}).get("duration"))
    frames = int(video["nb_frames"]) if str(video.get("nb_frames", "")).isdigit() else None
    if frames is None and duration is not None and fps:
        frames = round(duration * fps)
    return _info(path, video["width"], video["height"], fps, frames, duration,
                 video.get("pix_fmt", "unknown"), rotation,
                 audio.get("codec_name") if audio else None, avg, nominal,
                 video.get("codec_name"))


def _ffmpeg_banner(path: str, tools: Toolchain) -> VideoInfo:
    res = subprocess.run([tools.ffmpeg, "-hide_banner", "-i", escape.media_path(path)],
                         capture_output=True, text=True, errors="replace")
    text = res.stderr
    if "Input #0" not in text:
        raise FfvfxError(f"{path}: not a video file ({_last_line(text)})")
    if re.search(r"Input #0, tty,", text):
        raise FfvfxError(f"{path}: not a video file (a text file)")
    video = re.search(r"Stream #0:\d+\S*: Video: (.*)", text)
    if video is None:
        raise FfvfxError(f"{path}: has no video stream")
    fields = _top_level_split(video.group(1))
    size = next((re.match(r"(\d+)x(\d+)", f) for f in fields if re.match(r"\d+x\d+", f)), None)
    if size is None:
        raise FfvfxError(f"{path}: cannot read the video size")
    pix_fmt = re.sub(r"\(.*", "", fields[1]) if len(fields) > 1 else "unknown"
    avg = next((_rate(f.split()[0]) for f in fields if f.endswith(" fps")), None)
    nominal = next((_rate(f.split()[0]) for f in fields if f.endswith(" tbr")), None)
    fps = avg or nominal
    dur = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", text)
    duration = (int(dur.group(1)) * 3600 + int(dur.group(2)) * 60 + float(dur.group(3))) if dur else None
    frames = round(duration * fps) if duration is not None and fps else None
    rot = re.search(r"rotation of (-?[\d.]+) degrees", text, re.I)
    rotation = int(round(float(rot.group(1)))) if rot else 0
    audio = re.search(r"Stream #0:\d+\S*: Audio: (\w+)", text)
    return _info(path, int(size.group(1)), int(size.group(2)), fps, frames, duration, pix_fmt,
                 rotation, audio.group(1) if audio else None, avg, nominal,
                 fields[0].split()[0] if fields[0] else None)


def _info(path, width, height, fps, frames, duration, pix_fmt, rotation, audio, avg, nominal, codec):
    rotation %= 360
    if rotation in (90, 270):
        width, height = height, width
    variable = bool(avg and nominal and abs(float(avg) / float(nominal) - 1) > 0.01)
    return VideoInfo(path, int(width), int(height), fps or Fraction(25), frames, duration,
                     pix_fmt, rotation, audio, variable, codec)


def _top_level_split(text: str) -> list[str]:
    """Split ffmpeg's stream summary on commas outside parentheses and brackets."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return parts


def _rate(text: str | None) -> Fraction | None:
    if not text:
        return None
    try:
        r = Fraction(text.replace("k", "000"))
    except (ValueError, ZeroDivisionError):
        return None
    return r if r > 0 else None


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "N/A") else None
    except ValueError:
        return None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "ffmpeg could not read it"
