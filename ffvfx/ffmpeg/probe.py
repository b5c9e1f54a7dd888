"""What an input video is: size, rate, frame count, pixel format, rotation, audio.

Uses ffprobe when the toolchain has one, and otherwise reads the stream summary ffmpeg prints for
``ffmpeg -i`` (the imageio-ffmpeg binary ships no ffprobe). Every failure becomes one clear line.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from ffvfx.compiler import escape
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import watchdog
from ffvfx.ffmpeg.toolchain import Toolchain


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
    variable_rate: bool           # the packets' times do not sit on one constant rate's grid
    codec: str | None = None      # the video codec's name (h264, hevc, ffv1 ...)
    nominal: Fraction | None = None  # the rate the container states (r_frame_rate / tbr)
    times: tuple[float, ...] | None = None  # each frame's presentation time (s), from the packets
    start_time: float = 0.0       # the file's start (s): ffmpeg's -ss counts from it

    @property
    def canvas(self) -> tuple[int, int]:
        """The size effects work at: odd sizes padded to even (yuv420p), see ``timeline.even``."""
        return self.width + self.width % 2, self.height + self.height % 2

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
    info = _timing(info, tools)
    empty = info.frames == 0 or info.pix_fmt == "none"  # "none": no frame was ever decoded
    if empty or (info.duration is not None and info.duration <= 0 and info.frames is None):
        raise FfvfxError(f"{path}: the video stream has no frames")
    return info


def _timing(info: VideoInfo, tools: Toolchain) -> VideoInfo:
    """``info`` with its frame count, rate and variable-rate flag read from the packets' times.

    Constant rate: the frames sit on the grid of the stated (nominal) or average rate, which is
    then the rate, exactly (``119/4``, ``30000/1001``): a header's duration-based average such as
    24.749 for a 25 fps clip is not trusted. Otherwise the rate is variable, and the render re-times
    every frame to the constant ``(frames - 1) / (last time - first time)``, so the video lasts as
    long as the audio. No packets readable (a device, an odd container): the header's numbers stay.
    """
    try:
        times = frame_times(info.path, tools.ffmpeg)
    except FfvfxError:
        return info
    if not times:
        return replace(info, frames=0)
    fps, variable = info.fps, False
    candidates = [r for r in (info.nominal, info.fps) if r]
    grid = next((r for r in candidates if on_grid(times, r)), None)
    if grid is not None:
        fps = grid
    elif len(times) > 1 and times[-1] > times[0]:
        fps = Fraction((len(times) - 1) / (times[-1] - times[0])).limit_denominator(1000)
        variable = True
    return replace(info, fps=fps, frames=len(times), variable_rate=variable, times=tuple(times))


def frame_times(path: str, ffmpeg: str) -> list[float]:
    """Presentation times (s, ascending) of every frame of ``path``'s first video stream, read
    from its packets (``framecrc`` of a stream copy: no decoding). Read once per file version in a
    process: a long file's packets take seconds to read, and a command probes a file more than once."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FfvfxError(f"{path}: {exc.strerror}") from None
    return list(_packet_times(os.path.realpath(path), st.st_size, st.st_mtime_ns, ffmpeg))


@functools.lru_cache(maxsize=64)
def _packet_times(path: str, size: int, mtime_ns: int, ffmpeg: str) -> tuple[float, ...]:
    res = watchdog.run([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
                        *escape.input_args(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc",
                        "-"], f"ffmpeg reading the frame times of {path}")
    tb = re.search(r"^#tb 0: (\d+)/(\d+)", res.stdout, re.M)
    if res.returncode != 0 or tb is None:
        raise FfvfxError(f"{path}: cannot read its frame times")
    unit = Fraction(int(tb.group(1)), int(tb.group(2)))
    pts = [int(line.split(",")[2]) for line in res.stdout.splitlines()
           if line and not line.startswith("#")]
    return tuple(sorted(float(p * unit) for p in pts))


def on_grid(times: list[float] | tuple[float, ...], fps: Fraction) -> bool:
    """Every frame k sits within a quarter frame of ``first + k / fps``: the rate is constant and
    frames are found by index (containers' rounding, such as Matroska's 1 ms, stays far inside)."""
    rate = float(fps)
    return all(abs(t - times[0] - k / rate) < 0.25 / rate for k, t in enumerate(times))


def frame_range(info: VideoInfo, start: float | None, duration: float | None) -> tuple[int, int]:
    """Frames ``[first, end)`` of ``info`` that a range from ``start`` s for ``duration`` s holds.

    A frame belongs to the range when its time (from the file's start, as ffmpeg's ``-ss``
    counts) is at or after ``start`` and before ``start + duration``, less a microsecond, so
    decimal seconds typed for a frame's time (``--start 0.3`` at 10 fps) land on that frame, and
    an analysis decoding with plain ``-ss``/``-t`` sees the same frames. Uses the packets' times
    where known.
    """
    total = info.frames or 0
    lo, hi = (start or 0.0) - 1e-6, ((start or 0.0) + duration - 1e-6) if duration else None
    if info.times:
        t0 = info.start_time
        first = sum(1 for t in info.times if t - t0 < lo)
        end = total if hi is None else sum(1 for t in info.times if t - t0 < hi)
    else:
        rate = float(info.fps)
        first = min(total, max(0, math.ceil(lo * rate)))
        end = total if hi is None else min(total, max(0, math.ceil(hi * rate)))
    return first, max(first, end)


def side_origin(side: VideoInfo, info: VideoInfo, start: float | None,
                duration: float | None) -> int | None:
    """Which frame of ``info`` a side file's (a matte's, a mask's) first frame goes with: 0 for one
    made for the whole input (as long or longer), the range's first frame for one made for the
    range ``start``/``duration`` (``ffvfx matte --start/--duration``); None when it fits neither."""
    if side.frames is None or info.frames is None:
        return 0
    first, end = frame_range(info, start, duration)
    if side.frames >= info.frames:
        return 0
    if (start or duration) and side.frames == end - first:
        return first
    return None


def _ffprobe(path: str, tools: Toolchain) -> VideoInfo:
    res = watchdog.run(
        [tools.ffprobe, "-v", "error", "-show_streams", "-show_format", "-of", "json",
         *escape.open_options(path), escape.media_path(path)], f"ffprobe reading {path}",
        progress=False)
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
    info = _info(path, video["width"], video["height"], fps, frames, duration,
                 # no pix_fmt: no frame decoded while probing (ffmpeg -i says "none")
                 video.get("pix_fmt", "none"), rotation,
                 audio.get("codec_name") if audio else None, avg, nominal,
                 video.get("codec_name"))
    return replace(info, start_time=_float(data.get("format", {}).get("start_time")) or 0.0)


def _ffmpeg_banner(path: str, tools: Toolchain) -> VideoInfo:
    res = watchdog.run([tools.ffmpeg, "-hide_banner", *escape.input_args(path)],
                       f"ffmpeg reading {path}", progress=False)
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
    begins = re.search(r"Duration: [^\n]*?start: (-?\d+(?:\.\d+)?)", text)
    info = _info(path, int(size.group(1)), int(size.group(2)), fps, frames, duration, pix_fmt,
                 rotation, audio.group(1) if audio else None, avg, nominal,
                 fields[0].split()[0] if fields[0] else None)
    return replace(info, start_time=float(begins.group(1)) if begins else 0.0)


def _info(path, width, height, fps, frames, duration, pix_fmt, rotation, audio, avg, nominal, codec):
    rotation %= 360
    if rotation in (90, 270):
        width, height = height, width
    variable = bool(avg and nominal and abs(float(avg) / float(nominal) - 1) > 0.01)
    return VideoInfo(path, int(width), int(height), fps or Fraction(25), frames, duration,
                     pix_fmt, rotation, audio, variable, codec, nominal)


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
