"""Run on the GPU machine (standard library only): ``python3 run.py [--work DIR] [--ffmpeg PATH]``.

Unpacks ffmpeg.xz beside it (unless --ffmpeg), makes each size's clips from their recipes, renders
every effect with the --hw cpu and --hw cuda commands of commands.json, times them (wall clock, the
whole ffmpeg process), compares each pair with ffmpeg's psnr filter and prints a markdown table;
results.json keeps everything. ``--targets cpu,cuda+x264`` compares the CPU with NVDEC-only
(for GPUs without NVENC); ``--targets cpu,cpu`` is a dry run anywhere.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PSNR_TARGET = 35.0


def unpack() -> str:
    exe = HERE / "ffmpeg"
    if not exe.exists():
        with lzma.open(HERE / "ffmpeg.xz") as src, open(exe, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        exe.chmod(0o755)
    return str(exe)


def psnr(ffmpeg: str, a: str, b: str) -> float:
    res = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-i", a, "-i", b, "-lavfi", "[0:v][1:v]psnr",
                          "-f", "null", "-"], capture_output=True, text=True, errors="replace")
    m = re.search(r"PSNR .* average:(\S+)", res.stderr)
    return float("inf") if m and m.group(1) == "inf" else float(m.group(1)) if m else float("nan")


def gpu_name() -> str:
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=20).stdout.strip() or "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "no nvidia-smi"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--work", default=str(HERE / "work"))
    p.add_argument("--ffmpeg")
    p.add_argument("--targets", default="cpu,cuda", help="the two command sets compared (cpu,cuda)")
    p.add_argument("--sizes", help="only these sizes (comma list)")
    p.add_argument("--effects", help="only these effects (comma list)")
    args = p.parse_args()
    ffmpeg = args.ffmpeg or unpack()
    plan = json.loads((HERE / "commands.json").read_text())
    first, second = args.targets.split(",")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    frames = round(plan["seconds"] * 30)
    rows, results = [], []
    for size, spec in plan["sizes"].items():
        if args.sizes and size not in args.sizes.split(","):
            continue
        d = work / size
        d.mkdir(exist_ok=True)
        for name, recipe in spec["clips"].items():
            if not (d / name).exists():
                print(f"run: making {size} {name} ...", file=sys.stderr, flush=True)
                subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *recipe], cwd=d,
                               check=True)
        for effect, cmds in spec["effects"].items():
            if args.effects and effect not in args.effects.split(","):
                continue
            cell = {"size": size, "effect": effect}
            for side, hw in (("a", first), ("b", second)):
                out = f"{effect.replace(' ', '_').replace('+', '_')}.{side}-{hw}.mp4"
                argv = [ffmpeg if a == "{ffmpeg}" else out if a == "{out}" else a for a in cmds[hw]]
                argv.insert(1, "-y")  # printed commands never overwrite; these outputs are ours
                print(f"run: {size} {effect} --hw {hw} ...", file=sys.stderr, flush=True)
                began = time.perf_counter()
                res = subprocess.run(argv, cwd=d, capture_output=True, text=True, errors="replace")
                wall = time.perf_counter() - began
                cell[side] = {"hw": hw, "wall_s": wall, "fps": frames / wall, "rc": res.returncode,
                              "out": str(d / out),
                              "error": " ".join(res.stderr.split())[-300:] if res.returncode else ""}
            a, b = cell["a"], cell["b"]
            ok = a["rc"] == 0 and b["rc"] == 0
            cell["psnr"] = psnr(ffmpeg, a["out"], b["out"]) if ok else None
            results.append(cell)
            if ok:
                rows.append(f"| {size} | {effect} | {a['fps']:.1f} | {b['fps']:.1f} | "
                            f"{b['fps'] / a['fps']:.2f}x | {cell['psnr']:.1f} dB | "
                            f"{'pass' if cell['psnr'] >= PSNR_TARGET else 'FAIL'} |")
            else:
                bad = a if a["rc"] else b
                rows.append(f"| {size} | {effect} | | | | | --hw {bad['hw']} failed: {bad['error'][-160:]} |")
    print(f"GPU: {gpu_name()}; ffmpeg: {ffmpeg}; {plan['seconds']:g} s clips at 30 fps, --qp {plan['qp']}, "
          "wall clock of the whole ffmpeg command\n")
    print(f"| size | effect | --hw {first} fps | --hw {second} fps | speed-up | PSNR | pixels |")
    print("|---|---|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    (work / "results.json").write_text(json.dumps(results, indent=1))
    return 0 if all(r["psnr"] is not None and r["psnr"] >= PSNR_TARGET for r in results) else 1


if __name__ == "__main__":
    os.environ.setdefault("LC_ALL", "C")
    sys.exit(main())
