"""A GPU check kit: ``python -m tools.gpukit DIR`` prepares a folder that a GPU machine with only
Python's standard library, no network and no ffmpeg can run (``python3 DIR/run.py``).

The folder holds the static ffmpeg 9.x of the imageio-ffmpeg wheel packed with xz (NVENC, NVDEC,
the CUDA filters; about 50 MB), ``commands.json`` (for each clip size and effect, the exact
``--hw cpu`` and ``--hw cuda`` ffmpeg commands ffvfx prints, with ``{ffmpeg}`` and ``{out}`` left
open), the ffmpeg recipes of the clips (testsrc2 and a moving disk as the alpha, made on the GPU
machine so nothing large travels) and ``run.py``. run.py renders every effect both ways, times each
command, compares the outputs with ffmpeg's ``psnr`` and prints the markdown table for the README.
Trails run without camera compensation here (its analysis is Python with OpenCV).
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import hw
from ffvfx.ffmpeg import toolchain

EFFECTS = {name: [a.format(clip="clip.mp4", alpha="clip.alpha.mkv") for a in args]
           + (["--no-compensate"] if args[0] == "trails" else [])
           for name, args in hw.EFFECTS.items()}
"""The GPU comparison's effect set (:data:`bench.hw.EFFECTS`) on the kit's clips; trails without
camera compensation (its analysis needs Python with OpenCV, which the GPU machine lacks)."""


VARIANTS = {
    "cpu": ["--hw", "cpu"],
    "cuda": ["--hw", "cuda"],                            # NVDEC + NVENC
    "cuda+x264": ["--hw", "cuda", "--encoder", "libx264"],  # NVDEC only (H100-class GPUs have no NVENC)
}
"""The command sets run.py can compare (``--targets cpu,cuda``)."""


def clip_recipes(size: str, seconds: float) -> dict[str, list[str]]:
    """ffmpeg arguments (after ``ffmpeg -y``) that make clip.mp4 and clip.alpha.mkv."""
    w, h = (int(v) for v in size.split("x"))
    return {
        "clip.mp4": ["-f", "lavfi", "-i", f"testsrc2=s={size}:r=30:d={seconds:g}", "-c:v", "libx264",
                     "-preset", "veryfast", "-crf", "16", "-pix_fmt", "yuv420p", "clip.mp4"],
        "clip.alpha.mkv": ["-f", "lavfi", "-i", f"color=c=black:s={size}:r=30:d={seconds:g}", "-vf",
                           f"drawbox=x='{w // 4}+{w // 4}*sin(t)':y={h // 4}:w={w // 3}:h={h // 2}"
                           ":color=white:t=fill,format=gray", "-c:v", "ffv1", "clip.alpha.mkv"],
    }


def commands(size: str, qp: int) -> dict[str, dict[str, list[str]]]:
    """For each effect, the ffmpeg argv ffvfx prints for each of :data:`VARIANTS` at ``size``."""
    tools = toolchain.find()
    out: dict[str, dict[str, list[str]]] = {}
    with tempfile.TemporaryDirectory(prefix="ffvfx-gpukit-") as tmp:
        for name, args in clip_recipes(size, 1 / 30).items():
            subprocess.run([tools.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *args[:-1],
                            str(Path(tmp) / name)], check=True)
        for effect, args in EFFECTS.items():
            out[effect] = {}
            for label, extra in VARIANTS.items():
                res = subprocess.run([sys.executable, "-c", "from ffvfx.cli import entry; entry()", *args,
                                      "out.mp4", f"--qp={qp}", "--no-audio", "-q", "--print=cmd", *extra],
                                     cwd=tmp, capture_output=True, text=True)
                if res.returncode != 0:
                    raise SystemExit(f"gpukit: {effect} {' '.join(extra)}: {res.stderr.strip()}")
                argv = shlex.split(res.stdout)
                argv[0] = "{ffmpeg}"
                argv[argv.index("out.mp4")] = "{out}"
                out[effect][label] = argv
    return out


def write_plan(dest: Path, sizes: list[str], seconds: float, qp: int) -> None:
    """commands.json and run.py into ``dest`` (everything but the packed ffmpeg)."""
    dest.mkdir(parents=True, exist_ok=True)
    plan = {"seconds": seconds, "qp": qp, "sizes": {}}
    for size in sizes:
        print(f"gpukit: commands at {size} ...", file=sys.stderr)
        plan["sizes"][size] = {"clips": clip_recipes(size, seconds), "effects": commands(size, qp)}
    (dest / "commands.json").write_text(json.dumps(plan, indent=1))
    shutil.copyfile(Path(__file__).with_name("run.py"), dest / "run.py")


def build(dest: Path, sizes: list[str], seconds: float, qp: int) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    exe = _static_ffmpeg()
    packed = dest / "ffmpeg.xz"
    if not packed.exists():
        print(f"gpukit: packing {exe} with xz -6 ...", file=sys.stderr)
        with open(packed, "wb") as f:
            subprocess.run(["xz", "-T0", "-6", "-c", exe], stdout=f, check=True)
    write_plan(dest, sizes, seconds, qp)
    size = sum((dest / n).stat().st_size for n in ("ffmpeg.xz", "commands.json", "run.py"))
    print(f"gpukit: {dest} ready ({size / 1e6:.0f} MB to carry); on the GPU machine: "
          f"python3 {dest.name}/run.py", file=sys.stderr)


def _static_ffmpeg() -> str:
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise SystemExit("gpukit: needs the imageio-ffmpeg wheel (its static ffmpeg has NVENC)") from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.gpukit", description=__doc__.split("\n")[0])
    p.add_argument("dest", help="folder to write (it travels to the GPU machine)")
    p.add_argument("--sizes", default="1920x1080,3840x2160")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--qp", type=int, default=14)
    args = p.parse_args(argv)
    build(Path(args.dest), args.sizes.split(","), args.seconds, args.qp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
