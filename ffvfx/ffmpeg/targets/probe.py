"""What works on this machine, and the :class:`~ffvfx.ffmpeg.targets.Plan` for one render.

A target is usable when the installed ffmpeg has its pieces (hwaccel, filters, encoder) and the
machine can run them: the device opens (``-init_hw_device``), a tiny test encode through the upload
succeeds, and the input's first frames decode on the device. Each answer is kept in
``$FFVFX_CACHE/hw-probe.json`` under the ffmpeg binary, the boot and the device nodes present, so
a driver installed (and a reboot) asks again. ``--hw auto`` takes the best usable target (decode and
encode, then encode, then decode) and says what it picked and why; it never picks what failed.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from ffvfx.compiler.escape import input_args
from ffvfx.compiler.graph import Filter
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import cache, children, encoders
from ffvfx.ffmpeg.probe import VideoInfo
from ffvfx.ffmpeg.targets import CPU, Plan, Target, decode_problem, download_format, parse, registry
from ffvfx.ffmpeg.toolchain import Toolchain

AUTO_ORDER = ("cuda", "vaapi", "qsv")
_ANSWERS = cache.Table((str, None))
"""hw-probe.json: per check (binary, machine, what was tried), ffmpeg's error output or null (it worked)."""
_TIMEOUT = 30  # seconds for one probe run (a driver that hangs must not hang ffvfx)


def plan(spec: str, tools: Toolchain, *, info: VideoInfo | None,
         encoder_for: Callable[[Target], str], camera: bool = False, probe: bool = True) -> Plan:
    """The plan for ``--hw spec``; ``encoder_for(target)`` is the encoder used there (the user's
    ``--encoder``, else the target's default for the container). ``probe=False`` (printing)
    trusts the target without running anything. What the choice means for this input is in the
    plan's ``notes``, for the caller to say once the render is sure to go ahead.

    Raises FfvfxError (one line) when an explicitly named target cannot work here.
    """
    name, device = parse(spec)
    if name == "cpu":
        encoder = encoder_for(CPU)
        _encodes(CPU, encoder)
        return Plan(CPU, encoder=encoder)
    if name == "auto":
        return _auto(tools, info, encoder_for, camera)
    target = registry()[name]
    device = device or target.default_device()
    encoder = encoder_for(target)
    encode = _encodes(target, encoder)
    decode_why = decode_problem(target, info, tools.decoders, camera)
    notes = [] if probe else [f"--hw {name}: not probed on this machine (printing only)"]
    if probe:
        for problem in _static_problems(tools, target, encoder if encode else None):
            raise FfvfxError(f"--hw {name}: {problem}")
        problem = device_problem(tools, target, device)
        if problem:
            raise FfvfxError(f"--hw {name}: cannot open the {target.title} device: {problem}")
        if encode and (problem := encoder_problem(tools, target, device, encoder)):
            hint = "; pass --encoder libx264 to decode on the GPU and encode on the CPU" \
                if decode_why is None else ""
            raise FfvfxError(f"--hw {name}: {encoder} cannot encode here: {problem}{hint}")
        if decode_why is None and info is not None:
            decode_why = input_problem(tools, target, device, info)
    if decode_why:
        notes.append(f"--hw {name}: decoding on the CPU: {decode_why}")
    return _plan(target, device, info, decode_why is None, encode, encoder, notes)


def _plan(target, device, info, decode, encode, encoder, notes) -> Plan:
    return Plan(target, device, decode=decode, encode=encode, encoder=encoder,
                sw_format=download_format(info), notes=tuple(notes))


def _encodes(target: Target, encoder: str) -> bool:
    """Whether ``encoder`` is ``target``'s own (frames uploaded to it); refuses another API's."""
    if encoder in target.encoders.values():
        return True
    kind = encoders.family(encoder)
    if kind in ("vaapi", "qsv"):
        raise FfvfxError(f"--encoder {encoder} takes {kind.upper()} frames: use --hw {kind}")
    if kind == "nvenc" and target.name != "cpu":
        raise FfvfxError(f"--encoder {encoder} is NVIDIA's: use --hw cuda (or --hw cpu)")
    return False


def _auto(tools, info, encoder_for, camera) -> Plan:
    """The best usable target (see :func:`plan`)."""
    ranked, why_not = [], []
    for name in AUTO_ORDER:
        target = registry()[name]
        device = target.default_device()
        encoder = encoder_for(target)
        try:
            encode = _encodes(target, encoder)
        except FfvfxError:
            continue  # the user's encoder belongs to another API
        problems = _static_problems(tools, target, encoder if encode else None)
        problem = problems[0] if problems else device_problem(tools, target, device)
        if problem:
            why_not.append(f"{name}: {problem}")
            continue
        enc_problem = encoder_problem(tools, target, device, encoder) if encode else None
        dec_problem = decode_problem(target, info, tools.decoders, camera)
        if dec_problem is None and info is not None:
            dec_problem = input_problem(tools, target, device, info)
        if enc_problem and encoder_for(CPU) == encoder:  # the user's own --encoder fails here
            why_not.append(f"{name}: {encoder}: {enc_problem}")
            continue
        decode, encode = dec_problem is None, encode and enc_problem is None
        if not (decode or encode):
            why_not.append(f"{name}: {enc_problem or dec_problem}")
            continue
        if not encode:
            encoder = encoder_for(CPU)
        parts = [f"{target.hwaccel} decode" if decode else "CPU decode", f"{encoder} encode"]
        if enc_problem:
            parts.append(f"{target.encoder_for('h264')} unusable: {enc_problem}")
        note = f"--hw auto: {name} ({', '.join(parts)})"
        ranked.append(((decode and encode, encode),
                       _plan(target, device, info, decode, encode, encoder, [note])))
    if not ranked:
        cpu_encoder = encoder_for(CPU)
        _encodes(CPU, cpu_encoder)
        note = "--hw auto: cpu" + (f" ({'; '.join(why_not)})" if why_not else "")
        return Plan(CPU, encoder=cpu_encoder, notes=(note,))
    ranked.sort(key=lambda r: r[0], reverse=True)  # stable: AUTO_ORDER breaks ties
    return ranked[0][1]


def describe(tools: Toolchain, name: str) -> str:
    """One line for ``ffvfx doctor``: whether target ``name`` opens and encodes here."""
    target = registry()[name]
    device = target.default_device()
    encoder = target.encoder_for("h264")
    problems = _static_problems(tools, target, encoder)
    problem = problems[0] if problems else device_problem(tools, target, device)
    if problem:
        return problem
    problem = encoder_problem(tools, target, device, encoder)
    where = f" on {device}" if device else ""
    return f"ok{where} (decode and {encoder})" if problem is None else \
        f"device opens{where}; {encoder} does not: {problem}"


# -- the checks ------------------------------------------------------------------------------
def _static_problems(tools: Toolchain, target: Target, encoder: str | None) -> list[str]:
    """What the installed ffmpeg lacks for ``target`` (and ``encoder``), one phrase each."""
    problems = []
    if target.hwaccel and target.hwaccel not in tools.hwaccels:
        problems.append(f"ffmpeg {tools.version} has no {target.hwaccel} hwaccel")
    missing = sorted(target.filters() - tools.filters)
    if missing:
        problems.append(f"ffmpeg {tools.version} lacks the filter(s) {', '.join(missing)}")
    if encoder and encoder not in tools.encoders:
        problems.append(f"ffmpeg {tools.version} has no encoder {encoder}")
    return problems


def device_problem(tools: Toolchain, target: Target, device: str | None) -> str | None:
    """Why the device cannot be opened (None: it opens)."""
    if target.name in ("vaapi", "qsv") and device and device.startswith("/dev/") \
            and not os.path.exists(device):
        return f"{device} does not exist (no GPU render node)"
    args = (["-init_hw_device", f"cuda=gpu:{device or 0}"] if target.name == "cuda"
            else target.global_args(device))
    return _cached(tools, f"device|{target.name}|{device}",
                   args + ["-f", "lavfi", "-i", "nullsrc=s=64x64:d=0.04", "-frames:v", "1"])


def encoder_problem(tools: Toolchain, target: Target, device: str | None, encoder: str) -> str | None:
    """Why a 0.2 s test encode through the upload fails (None: it works)."""
    chain = ",".join(Filter(n, [], a, o).text() for n, a, o in
                     [("format", ["yuv420p"], {})] + target.upload(device))
    return _cached(tools, f"encode|{target.name}|{device}|{encoder}",
                   target.global_args(device) + ["-f", "lavfi", "-i", "testsrc2=s=256x144:r=25:d=0.2",
                                                 "-vf", chain, "-c:v", encoder])


def input_problem(tools: Toolchain, target: Target, device: str | None, info: VideoInfo) -> str | None:
    """Why the device's decoder fails on this kind of input (codec, pixel format, size)."""
    key = f"decode|{target.name}|{device}|{info.codec}|{info.pix_fmt}|{info.width}x{info.height}"
    argv = target.global_args(device) + target.input_args(device, info.codec) + [
        *input_args(info.path), "-frames:v", "2", "-vf",
        f"hwdownload,format={download_format(info)}"]
    problem = _cached(tools, key, argv)
    return f"the {target.title} decoder fails on it ({problem})" if problem else None


def _cached(tools: Toolchain, check: str, args: list[str]) -> str | None:
    entry = cache.root() / "hw-probe.json"
    key = f"{tools.identity}|{_machine()}|{check}"
    known = cache.load(entry, _ANSWERS) or {}
    if key in known:  # ffmpeg's own words are kept; reason() may learn to say them better
        return None if known[key] is None else reason(known[key])
    failure = _run(tools, args)
    known[key] = failure
    cache.save(entry, known)  # unwritable cache: ask again next time
    return None if failure is None else reason(failure)


def _run(tools: Toolchain, args: list[str]) -> str | None:
    """None when ffmpeg succeeds, else its error output (the last 4000 characters)."""
    argv = [tools.ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", *args, "-f", "null", "-"]
    try:
        res = children.run(argv, capture_output=True, text=True, errors="replace", timeout=_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"no answer within {_TIMEOUT} s"
    except OSError as exc:
        return f"cannot run ffmpeg: {exc.strerror}"
    return None if res.returncode == 0 else (res.stderr[-4000:] or f"exit code {res.returncode}")


def reason(stderr: str) -> str:
    """ffmpeg's device or encoder failure as one phrase."""
    if "Cannot load libcuda" in stderr or "Could not dynamically load CUDA" in stderr:
        return "no NVIDIA driver (libcuda.so.1 cannot be loaded)"
    if "CUDA_ERROR_NO_DEVICE" in stderr or "no CUDA-capable device" in stderr:
        return "no CUDA-capable GPU"
    m = re.search(r"No VA display found for device (\S+?)\.?$", stderr, re.M)
    if m:
        return f"no VA-API driver for {m.group(1)}"
    if re.search(r"^Device creation failed: -?\d+\.?$", stderr, re.M) and stderr.count("\n") <= 4:
        return "no driver or device for it (ffmpeg: device creation failed)"
    lines = [re.sub(r"^\[[^]]*@ 0x[0-9a-f]+\] ", "", ln).strip() for ln in stderr.splitlines()]
    useful = [ln for ln in lines if ln and not ln.startswith(("Error parsing global", "Conversion failed"))]
    for ln in useful:
        if any(k in ln for k in ("OpenEncodeSessionEx", "No capable devices", "unsupported",
                                 "not supported")):
            return ln
    return useful[0] if useful else "ffmpeg failed without a message"


def _machine() -> str:
    """This boot and its device nodes: a new driver, a reboot or a new GPU changes it."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = "unknown"
    nodes = sorted(glob.glob("/dev/nvidia*") + glob.glob("/dev/dri/*"))
    return f"{boot}|{','.join(nodes)}|{os.environ.get('CUDA_VISIBLE_DEVICES', '')}"
