"""Render a fixed set of ffvfx commands and fingerprint every output (sha256 of the bytes).

A restructuring must not change what ffvfx writes. Run this before the change with ``--write
base.json`` and after it with ``--check base.json``: every file and every printed graph must match
byte for byte. Uses the ffmpeg ffvfx would use (``$FFVFX_FFMPEG`` or PATH) and the tiny random-weight
models of the tests for studio and inpaint (built once, on CPU).

    python tools/same_output.py --write /tmp/base.json
    python tools/same_output.py --check /tmp/base.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commands(scene: str, alpha: str, models: dict[str, str]) -> dict[str, list[str]]:
    """Name -> ffvfx arguments; OUT is replaced by the output path of that name."""
    enc = ["--encoder", "libx264", "--preset", "ultrafast", "-q"]
    tiny = ["--resolution", "64", "--blobs", "0"]
    return {
        "motion-gray.mp4": ["motion", scene, "OUT", "--delay", "8", *enc],
        "motion-bloom.mp4": ["motion", scene, "OUT", "--delay", "8", "--bloom", *enc],
        "motion-black.mp4": ["motion", scene, "OUT", "--mode", "black", "--strength", "3", *enc],
        "motion-rgb.mp4": ["motion", scene, "OUT", "--mode", "rgb", "--delays", "1,8,32", *enc],
        "motion-glow.mp4": ["motion", scene, "OUT", "--mode", "glow", *enc],
        "motion-matte.mp4": ["motion", scene, "OUT", "--mode", "matte", *enc],
        "motion-freeze.mp4": ["motion", scene, "OUT", "--freeze", "0", "--delay-s", "0.2", *enc],
        "motion-range-jobs.mp4": ["motion", scene, "OUT", "--start", "0.5", "--duration", "1.5", "-j", "2",
                                  *enc],
        "motion-vp9.webm": ["motion", scene, "OUT", "--delay", "4", "-q"],
        "trails.mp4": ["trails", scene, "OUT", "--no-compensate", *enc],
        "trails-compensated.mp4": ["trails", scene, "OUT", *enc],
        "trails-glow.mp4": ["trails", scene, "OUT", "--ghost", "glow", "--layers", "4", *enc],
        "trails-shadow.mp4": ["trails", scene, "OUT", "--ghost", "shadow", *enc],
        "trails-mask.mp4": ["trails", scene, "OUT", "--mask", *enc],
        "trails-alpha.mp4": ["trails", scene, "OUT", "--alpha", alpha, "--ghost", "behind", *enc],
        "composite-color.mp4": ["composite", scene, alpha, "OUT", "--bg", "0x336699", "--feather", "2",
                                *enc],
        "composite-video.mp4": ["composite", scene, alpha, "OUT", "--bg", scene, "--fit", "contain",
                                "--shift-bg", "4,2", *enc],
        "plate.png": ["plate", scene, alpha, "OUT", "-q"],
        "plate-tmedian.png": ["plate", scene, "OUT", "--method", "tmedian", "-q"],
        "matte/": ["matte", scene, "-o", "OUT", "--model", "difference", "--plate", "PLATE",
                   "--composite", "green", "-q"],
        "loop/": ["loop", scene, "-o", "OUT", "--loops", "2", "--min-length", "10", "--max-length", "40",
                  "--format", "mp4", "-q"],
        "studio.mp4": ["studio", scene, alpha, "OUT", "--prompt", "a beach", "--model", models["sd"],
                       "--controlnet", models["cn"], "--depth-model", models["depth"], "--steps", "2",
                       "--layers", "2", *tiny, *enc],
        "inpaint.mp4": ["inpaint", scene, alpha, "OUT", "--prompt", "a wall", "--model", models["sd"],
                        "--steps", "2", "--denoise", "0.5", "--keyframes", "0,30", "--candidates", "1",
                        "--resolution", "64", *enc],
        "print-motion.txt": ["motion", "--delay", "8", "--bloom", "--print"],
        "print-motion-script.txt": ["motion", scene, "--mode", "rgb", "--print", "script"],
        "print-motion-cmd.txt": ["motion", scene, "OUT", "--print", "cmd"],
        "print-trails.txt": ["trails", scene, "--print", "script", "--no-compensate", "--ghost", "glow"],
        "print-trails-cuda.txt": ["trails", scene, "OUT", "--print", "cmd", "--hw", "cuda",
                                  "--no-compensate"],
        "print-composite.txt": ["composite", scene, alpha, "OUT", "--bg", "red", "--print", "cmd"],
        "print-matte.txt": ["matte", scene, "--model", "chroma", "--print"],
        "print-loop.txt": ["loop", scene, "--min-length", "10", "--max-length", "40", "--print"],
    }


def digest(path: Path) -> str:
    """sha256 of the file's bytes; Matroska/WebM (whose muxer writes a random segment id): of its
    packets and their timestamps (``-c copy -f framemd5``); JSON: of its content less run times."""
    if path.is_dir():
        return json.dumps({p.name: digest(p) for p in sorted(path.iterdir())}, sort_keys=True)
    if path.suffix in (".mkv", ".webm"):
        ffmpeg = os.environ.get("FFVFX_FFMPEG", "ffmpeg")
        packets = subprocess.run([ffmpeg, "-v", "error", "-i", f"file:{path}", "-map", "0", "-c", "copy",
                                  "-f", "framemd5", "-"], capture_output=True, check=True).stdout
        return hashlib.sha256(packets).hexdigest()
    if path.suffix == ".json":  # measured times differ from run to run
        return hashlib.sha256(json.dumps(untimed(json.loads(path.read_text())), sort_keys=True).encode()
                              ).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


TIMED = {"seconds", "model_ms_per_frame"}


def untimed(value):
    """``value`` without the keys that hold measured run times."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in TIMED}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="Write the fingerprints to this JSON file.")
    group.add_argument("--check", type=Path, help="Compare with the fingerprints in this JSON file.")
    ap.add_argument("--only", help="Comma-separated names to run (default: all).")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ffvfx-same-output",
                    help="Work folder, emptied first (outputs may name it: keep it the same between runs).")
    args = ap.parse_args()

    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    env = dict(os.environ, HF_HUB_OFFLINE="1", FFVFX_CACHE=str(work / "cache"), PYTHONHASHSEED="0")
    ffvfx = [sys.executable, "-m", "ffvfx"]

    def run(argv: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run([*ffvfx, *map(str, argv)], capture_output=True, text=True, env=env,
                              cwd=work, timeout=900)

    scene, alpha = work / "scene.mp4", work / "scene_alpha.mkv"
    res = run(["demo", scene, "--seconds", "2", "--size", "320x180", "--fps", "30"])
    if res.returncode:
        sys.exit(f"demo failed: {res.stderr.strip()}")
    alpha = next(p for p in work.iterdir() if "alpha" in p.name)
    plate = work / "bg.png"
    subprocess.run([*ffvfx, "plate", scene, alpha, plate, "-q"], env=env, cwd=work, check=True)

    sys.path.insert(0, str(ROOT / "tests"))
    import tiny_models  # noqa: E402  (the tests' tiny models; torch only needed here)

    models = {"sd": str(tiny_models.sd_inpaint(work / "sd")), "cn": str(tiny_models.controlnet(work / "cn")),
              "depth": str(tiny_models.depth_anything(work / "depth"))}
    wanted = set(args.only.split(",")) if args.only else None
    prints: dict[str, str] = {}
    for name, argv in commands(str(scene), str(alpha), models).items():
        if wanted and name not in wanted:
            continue
        out = work / "out" / name.rstrip("/")
        out.parent.mkdir(exist_ok=True)
        argv = [str(out) if a == "OUT" else str(plate) if a == "PLATE" else a for a in argv]
        res = run(argv)
        if res.returncode:
            prints[name] = f"FAILED {res.returncode}: {res.stderr.strip()[-300:]}"
        elif name.startswith("print-"):
            prints[name] = hashlib.sha256(res.stdout.replace(str(work), "WORK").encode()).hexdigest()
        else:
            prints[name] = digest(out)
        print(f"{name:28} {prints[name][:64]}", flush=True)

    if args.write:
        args.write.write_text(json.dumps(prints, indent=1, sort_keys=True))
        return 0
    base = json.loads(args.check.read_text())
    bad = [n for n in prints if base.get(n) != prints[n]]
    for n in bad:
        print(f"DIFFERS: {n}")
    print(f"{len(prints) - len(bad)}/{len(prints)} identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
