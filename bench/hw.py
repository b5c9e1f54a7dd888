"""GPU benchmark: ``bin/bench hw --hw cuda`` renders the effect set with ``--hw cpu`` and a GPU target.

For each clip size (the demo scene, cached) and each effect of :data:`EFFECTS`, the real CLI runs
twice, once per target, at a high constant quality (``--qp``), end to end (Python start-up, probe
and progress pipe included; the camera path and the demo's alpha are prepared before timing). The
table gives fps for both, the speed-up, and the PSNR of the GPU output against the CPU output
(ffmpeg's ``psnr`` filter, average over all frames, Y/U/V weighted 4:1:1); the pixels pass at
>= :data:`PSNR_TARGET` dB. Which parts ran on the device is what ``--hw`` said on stderr, shown
under the table.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.probe import probe

PSNR_TARGET = 35.0
TRAILS_4K_TARGET = 60.0  # fps, 4K trails 6x5 with NVDEC/NVENC on an H100-class GPU

EFFECTS = {
    "motion": ["motion", "{clip}", "--delay=8"],
    "motion black+bloom": ["motion", "{clip}", "--mode=black", "--bloom"],
    "motion rgb": ["motion", "{clip}", "--mode=rgb"],
    "trails 6x5": ["trails", "{clip}", "--layers=6", "--spacing=5"],
    "trails glow": ["trails", "{clip}", "--ghost=glow"],
    "composite": ["composite", "{clip}", "{alpha}", "--bg=0x2040A0"],
}
"""The effect set, as CLI arguments (``{clip}``, ``{alpha}``: the demo scene and its matte)."""


def cli(effect: str, clip: str, out: str, hw: str, qp: int) -> list[str]:
    alpha = str(Path(clip).with_name(Path(clip).stem + ".alpha.mkv"))
    args = [a.format(clip=clip, alpha=alpha) for a in EFFECTS[effect]]
    return [sys.executable, "-c", "from ffvfx.cli import entry; entry()", *args, out, "--hw", hw,
            f"--qp={qp}", "--no-audio", "-y"]


def psnr(ffmpeg: str, a: str, b: str) -> float:
    """Average PSNR (dB) of ``b`` against ``a`` over all frames (inf when identical)."""
    res = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", a, "-i", b, "-lavfi",
                          "[0:v][1:v]psnr", "-f", "null", "-"], capture_output=True, text=True,
                         errors="replace")
    m = re.search(r"PSNR .* average:(\S+)", res.stderr)
    if not m:
        raise RuntimeError(f"psnr failed: {res.stderr[-500:]}")
    return float("inf") if m.group(1) == "inf" else float(m.group(1))


def gpu_name() -> str:
    try:
        res = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        return res.stdout.strip().replace("\n", "; ") or "unknown GPU"
    except (OSError, subprocess.TimeoutExpired):
        return "no nvidia-smi"


def bench_hw(args: argparse.Namespace) -> int:
    from bench.bench import demo_clip, machine, measure
    from ffvfx.ffmpeg.targets import probe as hw_probe
    from ffvfx.stages.analysis import camera

    tools = toolchain.find()
    name = args.hw.partition(":")[0]
    status = hw_probe.describe(tools, name) if name in hw_probe.AUTO_ORDER else "ok"
    if not status.startswith(("ok", "device opens")):
        print(f"bench hw: --hw {args.hw} does not work here: {status}", file=sys.stderr)
        return 2
    effects = list(EFFECTS) if args.effects == "all" else [e.strip() for e in args.effects.split(",")]
    rows, said = [], {}
    with tempfile.TemporaryDirectory(prefix="ffvfx-bench-hw-") as tmp:
        for size in args.sizes.split(","):
            clip = demo_clip(size, args.seconds, tools)
            frames = probe(clip, tools).frames
            camera.cached_path(clip, tools)  # trails' analysis is not part of the render's time
            for effect in effects:
                outs, fps = {}, {}
                for hw in ("cpu", args.hw):
                    out = f"{tmp}/{hw.replace(':', '_').replace('/', '_')}.mp4"
                    argv = cli(effect, clip, out, hw, args.qp)
                    print(f"bench hw: {size} {effect} --hw {hw} ...", file=sys.stderr, flush=True)
                    best = min((measure(argv) for _ in range(args.repeat)), key=lambda r: r.wall)
                    said[(effect, hw)] = [ln for ln in best.stderr.splitlines() if "--hw" in ln]
                    outs[hw], fps[hw] = out, frames / best.wall
                db = psnr(tools.ffmpeg, outs["cpu"], outs[args.hw])
                rows.append((size, effect, fps["cpu"], fps[args.hw], db))
    mach = machine(tools)
    print(f"Machine: {mach['cpu']}, {mach['cores']} cores; GPU: {gpu_name()}; ffmpeg {mach['ffmpeg']}")
    print(f"Clips: the demo scene, {args.seconds:g} s at 30 fps; --qp {args.qp}; best of {args.repeat}\n")
    print(f"| size | effect | --hw cpu fps | --hw {args.hw} fps | speed-up | PSNR GPU vs CPU | pixels |")
    print("|---|---|---:|---:|---:|---:|---|")
    ok = True
    for size, effect, cpu_fps, hw_fps, db in rows:
        good = db >= PSNR_TARGET
        ok &= good
        print(f"| {size} | {effect} | {cpu_fps:.1f} | {hw_fps:.1f} | {hw_fps / cpu_fps:.2f}x | "
              f"{db:.1f} dB | {'pass' if good else 'FAIL'} (>= {PSNR_TARGET:g}) |")
    for (effect, hw), lines in said.items():
        if hw != "cpu":
            print(f"\n{effect}: " + " / ".join(lines) if lines else f"\n{effect}: (no --hw notes)", end="")
    print()
    four_k = [r for r in rows if r[0].startswith("3840") and r[1] == "trails 6x5"]
    if four_k:
        print(f"\n4K trails 6x5 on --hw {args.hw}: {four_k[0][3]:.1f} fps "
              f"(target >= {TRAILS_4K_TARGET:g} fps with NVDEC/NVENC on an H100-class GPU)")
    return 0 if ok else 1


def add_parser(sub) -> None:
    p = sub.add_parser("hw", help="the effect set with --hw cpu and a GPU target: fps and PSNR")
    p.add_argument("--hw", default="cuda", help="the target to compare with cpu (default cuda)")
    p.add_argument("--sizes", default="1920x1080,3840x2160", help="demo clip sizes (default 1080p,4K)")
    p.add_argument("--seconds", type=float, default=10.0, help="clip length (default 10)")
    p.add_argument("--effects", default="all", help=f"comma list of: {', '.join(EFFECTS)} (default all)")
    p.add_argument("--qp", type=int, default=14, help="constant quantiser for both (default 14)")
    p.add_argument("--repeat", type=int, default=1, help="runs per cell; the fastest counts")
