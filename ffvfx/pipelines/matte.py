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
from collections.abc import Callable, Sequence
from pathlib import Path

from ffvfx.compiler.graph import Input
from ffvfx.effects.compare import compare
from ffvfx.effects.refine import Refine
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg.atomic import atomic_folder, write_text
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.probe import VideoInfo, probe
from ffvfx.ffmpeg.rawvideo import check_decodes
from ffvfx.ffmpeg.render import Encoding, Job, run
from ffvfx.ffmpeg.sources import Source
from ffvfx.ffmpeg.toolchain import Toolchain
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


def matte_folder(src: str, outdir: Path, tools: Toolchain, names: Sequence[str], options: ModelOptions,
                 *, cleanup: Refine = Refine(), alpha_codec: str = "ffv1", foreground: bool = False,
                 composite: str | None = None, blobs: float = 0.4, batch: int = 4,
                 start: float | None = None, duration: float | None = None, overwrite: bool = False,
                 say: Callable[[str], None] = lambda msg: None, quiet: bool = True) -> list[Path]:
    """Matte ``src`` with each model in ``names`` into ``outdir``; returns the files written."""
    if not names:
        raise FfvfxError("--compare: name at least one model")
    if len(set(names)) != len(names):
        raise FfvfxError(f"--compare {','.join(names)}: a model is named twice")
    several = len(names) > 1
    planned = {n: outdir / alpha_name(n if several else None, alpha_codec) for n in names}
    extra = ([outdir / FOREGROUND] if foreground and not several else []) \
        + ([outdir / COMPOSITE] if composite and not several else []) \
        + ([outdir / COMPARE] if several else [])
    if several and (foreground or composite):
        raise FfvfxError("--foreground and --composite go with one --model, not --compare")
    check_output(outdir, [src, options.plate, composite, options.weights], overwrite,
                 files=[p.name for p in (*planned.values(), *extra, outdir / LOG)])
    info = probe(src, tools)
    if composite:
        from ffvfx.effects import composite as composite_effect
        # a bad colour or image, or a video of which no frame decodes, fails before any work
        if composite_effect.background(composite, info).kind != "color":
            check_decodes(composite, tools, "--composite")
    models: dict[str, Matter] = {}
    for name in names:  # every model loads (or fails) before anything is written
        models[name] = build(name, ModelOptions(**{**options.__dict__,
                                                   "extra": {**options.extra, "name": name}}), info)
        if models[name].licence:
            say(f"{name}: {models[name].licence}")
    with atomic_folder(outdir, overwrite=overwrite) as staging:  # a failure or Ctrl-C leaves nothing
        written = _write_folder(src, staging, tools, info, models, composite, several=several,
                                foreground=foreground, cleanup=cleanup, alpha_codec=alpha_codec,
                                blobs=blobs, batch=batch, start=start, duration=duration, say=say,
                                quiet=quiet)
    return [outdir / name for name in written]


def _write_folder(src: str, staging: Path, tools: Toolchain, info: VideoInfo,
                  models: dict[str, Matter], composite: str | None, *, several: bool, foreground: bool,
                  cleanup: Refine, alpha_codec: str, blobs: float, batch: int, start: float | None,
                  duration: float | None, say: Callable[[str], None], quiet: bool) -> list[str]:
    """Every file of the matte folder into ``staging`` (a fresh folder, put in place after); returns
    their names."""
    names = list(models)
    planned = {n: staging / alpha_name(n if several else None, alpha_codec) for n in names}
    log = {"format": "ffvfx-matte", "input": str(Path(src).resolve()), "start": start,
           "duration": duration, "width": info.width, "height": info.height, "fps": str(info.fps),
           "cleanup": refine_line(cleanup), "blobs": blobs, "batch": batch, "models": []}
    results: dict[str, MatteInfo] = {}
    written: list[Path] = []
    for name, model in models.items():
        say(f"matting with {name}")
        began = time.perf_counter()
        fg = staging / FOREGROUND if foreground and not several else None
        results[name] = write_matte(src, tools, model, planned[name], foreground_out=fg, start=start,
                                    duration=duration, batch=batch, blobs=blobs, cleanup=cleanup,
                                    alpha_codec=alpha_codec, quiet=quiet, info=info, overwrite=False)
        seconds = time.perf_counter() - began
        done = results[name]
        log["models"].append({**model.describe(), "name": name, "licence": model.licence,
                              "alpha": planned[name].name, "frames": done.frames,
                              "seconds": round(seconds, 3),
                              "model_ms_per_frame": round(1000 * done.model_seconds / done.frames, 2),
                              "mean_coverage": round(sum(done.coverage) / done.frames, 5)})
        written += [planned[name]] + ([fg] if fg else [])
    source = Source(src)
    if several:
        say("writing the comparison video")
        inputs = {n: Input(str(planned[n]), label=f"alpha{k + 1}") for k, n in enumerate(names)}
        labels = "drawtext" in tools.filters

        def grid(stream):
            return compare(stream, [(n, inputs[n].video) for n in names],
                           size=(info.width, info.height), labels=labels)
        run(Job(source, str(staging / COMPARE), grid, Encoding(), start=start, duration=duration,
                quiet=quiet), tools, info)
        written.append(staging / COMPARE)
    if composite:
        from ffvfx.effects import composite as composite_effect
        say("writing the quick-look composite")
        alpha = Input(str(planned[names[0]]), label="alpha")

        def over(stream):
            return composite_effect.composite(stream, alpha.video, composite_effect.background(
                composite, info), size=(info.width, info.height), fps=info.fps)
        run(Job(source, str(staging / COMPOSITE), over, Encoding(), start=start, duration=duration,
                quiet=quiet), tools, info)
        written.append(staging / COMPOSITE)
    write_text(staging / LOG, json.dumps(log, indent=1) + "\n", overwrite=False)
    return [p.name for p in (*written, staging / LOG)]
