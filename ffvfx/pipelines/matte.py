"""``ffvfx matte``'s output folder: one alpha per model, optional foreground, quick-look composite
and comparison video, and ``matte.json`` (models, licences, settings, timings).

Every file is checked before any work starts (nothing is replaced without ``overwrite``). The
folder is all or nothing: it is built in a hidden folder beside it and put in place at the end
(:func:`ffvfx.ffmpeg.atomic.atomic_folder`), so a failure, Ctrl-C or a refused option leaves no new
folder and changes no file of an existing one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ffvfx.compiler.graph import Input
from ffvfx.effects import composite as composite_effect
from ffvfx.effects.compare import compare
from ffvfx.effects.refine import Refine
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.atomic import atomic_folder, write_text
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.probe import VideoInfo, probe
from ffvfx.ffmpeg.rawvideo import check_decodes
from ffvfx.ffmpeg.render import Encoding, Job, run
from ffvfx.ffmpeg.sources import Source
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.pipelines import demo
from ffvfx.pipelines.delivery import Say, silent
from ffvfx.stages.matting.model import Matter, ModelOptions, build
from ffvfx.stages.matting.stream import MatteInfo, refine_line, write_matte

LOG = "matte.json"
COMPARE = "compare.mp4"
FOREGROUND = "foreground.mp4"
COMPOSITE = "composite.mp4"


def alpha_name(model: str | None, codec: str) -> str:
    """``alpha.mkv`` for one model, ``alpha-<model>.mkv`` when several are compared."""
    ext = ".mkv" if codec == "ffv1" else ".mp4"
    return f"alpha-{model}{ext}" if model else f"alpha{ext}"


@dataclass(frozen=True)
class MatteSettings:
    """How the folder is written besides the models: clean-up, codec, extras, range (seconds)."""

    cleanup: Refine = field(default_factory=Refine)
    alpha_codec: str = "ffv1"       # ffv1: lossless gray .mkv; libx264: near-lossless .mp4
    foreground: bool = False        # also the model's foreground colours
    composite: str | None = None    # also a quick look over this colour, image or video
    blobs: float = 0.4              # drop regions smaller than this fraction of the main subject
    batch: int = 4                  # frames per model call
    start: float | None = None
    duration: float | None = None
    overwrite: bool = False
    quiet: bool = True


def matte_input(spec: str, outdir: str | None, names: Sequence[str], options: ModelOptions,
                settings: MatteSettings, *, say: Say = silent) -> list[Path]:
    """``ffvfx matte``: INPUT ``spec`` matted into ``outdir`` (default: INPUT's name + ``_matte``)
    with each model in ``names``; returns the files written."""
    if not 0 <= settings.blobs < 1:
        raise FfvfxError(f"--blobs takes a fraction 0..1 of the main subject, got {settings.blobs:g}")
    src = demo.resolve(spec)
    if src.device:
        raise FfvfxError("ffvfx matte reads a file; record the camera first")
    folder = Path(outdir or Path(spec).stem + "_matte")
    return matte_folder(src.path, folder, toolchain.find(), names, options, settings, say=say)


def matte_folder(src: str, outdir: Path, tools: Toolchain, names: Sequence[str], options: ModelOptions,
                 settings: MatteSettings = MatteSettings(), *, say: Say = silent) -> list[Path]:
    """Matte ``src`` with each model in ``names`` into ``outdir``, all or nothing (a failure or Ctrl-C
    leaves no folder); returns the files written."""
    if not names:
        raise FfvfxError("--compare: name at least one model")
    if len(set(names)) != len(names):
        raise FfvfxError(f"--compare {','.join(names)}: a model is named twice")
    several = len(names) > 1
    planned = {n: outdir / alpha_name(n if several else None, settings.alpha_codec) for n in names}
    extra = ([outdir / FOREGROUND] if settings.foreground and not several else []) \
        + ([outdir / COMPOSITE] if settings.composite and not several else []) \
        + ([outdir / COMPARE] if several else [])
    if several and (settings.foreground or settings.composite):
        raise FfvfxError("--foreground and --composite go with one --model, not --compare")
    check_output(outdir, [src, options.plate, settings.composite, options.weights], settings.overwrite,
                 files=[p.name for p in (*planned.values(), *extra, outdir / LOG)])
    info = probe(src, tools)
    # a bad colour or image, or a video of which no frame decodes, fails before any work
    if settings.composite and composite_effect.background(settings.composite, info).kind != "color":
        check_decodes(settings.composite, tools, "--composite")
    models: dict[str, Matter] = {}
    for name in names:  # every model loads (or fails) before anything is written
        models[name] = build(name, ModelOptions(**{**options.__dict__,
                                                   "extra": {**options.extra, "name": name}}), info)
        if models[name].licence:
            say(f"{name}: {models[name].licence}")
    with atomic_folder(outdir, overwrite=settings.overwrite) as staging:
        written = _write_folder(src, staging, tools, info, models, settings, say)
    return [outdir / name for name in written]


def _write_folder(src: str, staging: Path, tools: Toolchain, info: VideoInfo, models: dict[str, Matter],
                  settings: MatteSettings, say: Say) -> list[str]:
    """Every file of the matte folder into ``staging`` (a fresh folder, put in place after); returns
    their names."""
    several = len(models) > 1
    log = {"format": "ffvfx-matte", "input": str(Path(src).resolve()), "start": settings.start,
           "duration": settings.duration, "width": info.width, "height": info.height, "fps": str(info.fps),
           "cleanup": refine_line(settings.cleanup), "blobs": settings.blobs, "batch": settings.batch,
           "models": []}
    alphas: dict[str, Path] = {}
    written: list[Path] = []
    for name, model in models.items():
        alphas[name] = staging / alpha_name(name if several else None, settings.alpha_codec)
        fg = staging / FOREGROUND if settings.foreground and not several else None
        log["models"].append(_matte_one(src, name, model, alphas[name], fg, tools, info, settings, say))
        written += [alphas[name]] + ([fg] if fg else [])
    source = Source(src)
    if several:
        say("writing the comparison video")
        written.append(_compare_video(source, alphas, staging / COMPARE, tools, info, settings))
    if settings.composite:
        say("writing the quick-look composite")
        written.append(_quick_look(source, alphas[next(iter(models))], staging / COMPOSITE, tools, info,
                                   settings))
    write_text(staging / LOG, json.dumps(log, indent=1) + "\n", overwrite=False)
    return [p.name for p in (*written, staging / LOG)]


def _matte_one(src: str, name: str, model: Matter, alpha: Path, fg: Path | None, tools: Toolchain,
               info: VideoInfo, settings: MatteSettings, say: Say) -> dict:
    """``model``'s alpha (and foreground ``fg``) of ``src``; returns its entry of ``matte.json``."""
    say(f"matting with {name}")
    began = time.perf_counter()
    done: MatteInfo = write_matte(src, tools, model, alpha, foreground_out=fg, start=settings.start,
                                  duration=settings.duration, batch=settings.batch, blobs=settings.blobs,
                                  cleanup=settings.cleanup, alpha_codec=settings.alpha_codec,
                                  quiet=settings.quiet, info=info, overwrite=False)
    seconds = time.perf_counter() - began
    return {**model.describe(), "name": name, "licence": model.licence, "alpha": alpha.name,
            "frames": done.frames, "seconds": round(seconds, 3),
            "model_ms_per_frame": round(1000 * done.model_seconds / done.frames, 2),
            "mean_coverage": round(sum(done.coverage) / done.frames, 5)}


def _compare_video(source: Source, alphas: dict[str, Path], out: Path, tools: Toolchain, info: VideoInfo,
                   settings: MatteSettings) -> Path:
    """The input beside every model's alpha, labelled, into ``out``."""
    inputs = {n: Input(str(path), label=f"alpha{k + 1}") for k, (n, path) in enumerate(alphas.items())}
    labels = "drawtext" in tools.filters

    def grid(stream):
        return compare(stream, [(n, inputs[n].video) for n in alphas],
                       size=(info.width, info.height), labels=labels)
    run(Job(source, str(out), grid, Encoding(), start=settings.start, duration=settings.duration,
            quiet=settings.quiet), tools, info)
    return out


def _quick_look(source: Source, alpha_path: Path, out: Path, tools: Toolchain, info: VideoInfo,
                settings: MatteSettings) -> Path:
    """The subject over ``settings.composite`` (a colour, image or video) into ``out``."""
    alpha = Input(str(alpha_path), label="alpha")

    def over(stream):
        return composite_effect.composite(stream, alpha.video, composite_effect.background(
            settings.composite, info), size=(info.width, info.height), fps=info.fps)
    run(Job(source, str(out), over, Encoding(), start=settings.start, duration=settings.duration,
            quiet=settings.quiet), tools, info)
    return out
