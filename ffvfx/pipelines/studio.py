"""``ffvfx generate`` and ``ffvfx studio``: a generated background behind the real subject.

generate: one frame (``--frame``), its background redrawn by Stable Diffusion inpainting from the
prompt, the subject (white in ALPHA) pasted back exactly; a PNG.

studio, in three phases:

1. analysis (CPU, low resolution): the camera path (:mod:`ffvfx.stages.analysis.camera`), the exposure
   curve, light direction and camera height (:mod:`ffvfx.stages.analysis.exposure`); the light and camera
   words join the prompt unless ``light_prompt`` is off;
2. generation, cached: Depth Anything on the reference frame, the subject taken out of the depth
   (:mod:`ffvfx.stages.diffusion.depth`), then SD inpainting + depth ControlNet over the whole
   canvas (the frame plus ``margin`` px each side, so the background never runs out while it
   moves), the reference frame with the subject filled in as the starting image; the depth cut into layers;
3. render: one ffmpeg graph, the layers as inputs moving by depth with the camera and following the
   exposure (:mod:`ffvfx.effects.parallax`), the subject over them through its cleaned alpha.

Generated assets are cached under ``$FFVFX_CACHE/studio/KEY`` with KEY a hash of everything that
changes them (input file, range, frame, prompts, seed, steps, strength, guidance, size, margin,
models), so changing ``--depth-scale``, the layers or the encoder re-renders without a model.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ffvfx.compiler.graph import Graph, Input
from ffvfx.compiler.numbers import within
from ffvfx.compiler.params import Param
from ffvfx.compiler.windows import Windowed, per_frame
from ffvfx.effects.composite import over
from ffvfx.effects.exposure import PARAMS as EXPOSURE_PARAMS
from ffvfx.effects.exposure import needed
from ffvfx.effects.parallax import PARAMS as PARALLAX_PARAMS
from ffvfx.effects.parallax import Layer, needed_margin, parallax
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import cache
from ffvfx.ffmpeg.atomic import atomic_folder, write_png, write_text
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.probe import VideoInfo, frame_range, frame_times, probe
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.rawvideo import frames
from ffvfx.ffmpeg.render import aligned_input
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.stages import diffusion
from ffvfx.stages.analysis import camera, exposure
from ffvfx.stages.diffusion import depth, inpaint
from ffvfx.stages.diffusion.inpaint import generation_size
from ffvfx.stages.matting.given import GivenAlpha
from ffvfx.stages.matting.stream import write_matte
from ffvfx.stages.mldeps import revision

ASSET_VERSION = 1
DEFAULT_RESOLUTION = {"sd15": 768, "sdxl": 1024}
RESOLUTION_RANGE = (64, 2048)
FOLDER = "studio"
FOLDER_IMAGES = ("depth.png", "background.png", "control.png")
"""The cached generation's images copied into the studio folder beside the output."""
_GENERATION = {"models": cache.Table({"id": str}), "device": str, "depth_s": float, "load_s": float,
               "step_s": [float], "generation_s": float,
               cache.FILES: {name: dict for name in FOLDER_IMAGES}}
"""A cached generation's ``generation.json``: its log, and a manifest naming its pictures."""
_LAYERS = {"layers": [{"file": str, "depth": float}], cache.FILES: dict}
"""A cached layer set's ``layers.json``: far to near, each picture named in the manifest."""
_CLEAN_ALPHA = {"frames": int, cache.FILES: dict}
"""A cached clean alpha's ``alpha-KEY.json``: its frame count, and the manifest naming the video."""

RENDER_PARAMS = (
    *PARALLAX_PARAMS,
    *EXPOSURE_PARAMS,
    Param("feather", float, 0.0, unit="pixels", lo=0, hi=100, help="Soften the alpha's edge (px)."),
    Param("blobs", float, 0.4, lo=0, hi=1, hi_open=True,
          help="Drop alpha regions smaller than this fraction of the main subject (0: keep all)."),
)
"""``ffvfx studio``'s render-time parameters: each changes the render of the cached generation
(the graph, the depth layers cut from it, the smoothing of the measured exposure, the clean-up of
the alpha) and runs no model, so a new value re-renders in seconds, ``ffvfx tune studio`` plays
them and ``--sweep`` takes them. Every other option selects the generation (``GENERATION``)."""
GENERATION = ("prompt", "negative-prompt", "seed", "steps", "strength", "guidance", "resolution",
              "frame", "sd-model", "model", "device", "controlnet", "depth-model", "bg-margin",
              "no-light-prompt")
"""The options that select (or make) the generated background: a new value is a diffusion run."""


@dataclass
class Options:
    """What ``generate``/``studio`` were asked (frames, px and seconds as the CLI says)."""

    prompt: str
    negative: str = ""
    seed: int = 0
    steps: int = 30
    strength: float = 0.95
    guidance: float = 7.5
    resolution: int | None = None        # long side of the generation (px); None: the model's
    frame: int = 0                       # the reference frame (0-based, in the rendered range)
    model: str | None = None             # inpainting model id or folder
    controlnet: str | None = None
    depth_model: str | None = None
    sd_model: str = "sd15"
    device: str = "auto"
    bg_margin: int = 0                   # px; 0: from the camera path
    depth_scale: float = 0.3
    layers: int = 3
    exposure_smooth: int = 15            # frames
    light_prompt: bool = True
    feather: float = 0.0                 # px
    blobs: float = 0.4
    start: float | None = None
    duration: float | None = None
    alpha_ranged: bool = False        # the alpha was made for start/duration (its frame 0 is start's)

    def ids(self) -> tuple[str, str, str]:
        """The (inpainting, ControlNet, depth) model ids: those given, else the defaults."""
        sd, cn = inpaint.MODELS[self.sd_model]
        return self.model or sd, self.controlnet or cn, self.depth_model or depth.DEFAULT_DEPTH_MODEL


def check(opts: Options, info: VideoInfo | None = None) -> None:
    """One line for each thing that cannot work, before any file is read or written."""
    if not opts.prompt or not opts.prompt.strip():
        raise FfvfxError("--prompt is empty: say what the background should be")
    if opts.sd_model not in DEFAULT_RESOLUTION:
        raise FfvfxError(f"--sd-model {opts.sd_model}: choose sd15 or sdxl")
    if opts.steps < 1:
        raise FfvfxError(f"--steps takes 1 or more, got {opts.steps}")
    if not 0 < opts.strength <= 1:
        raise FfvfxError(f"--strength takes 0 < s <= 1, got {opts.strength:g}")
    if int(opts.steps * opts.strength) < 1:
        raise FfvfxError(f"--steps {opts.steps} at --strength {opts.strength:g} leaves no denoising "
                         "step (steps x strength < 1); raise --steps")
    lo, hi = RESOLUTION_RANGE
    if opts.resolution is not None and not lo <= opts.resolution <= hi:
        raise FfvfxError(f"--resolution {opts.resolution}: the long side of the generation must be "
                         f"{lo}..{hi} px")
    if opts.frame < 0 or info is not None and info.frames is not None and opts.frame >= info.frames:
        raise FfvfxError(f"--frame {opts.frame}: the input has {info.frames if info else '?'} frames "
                         "(0-based)")
    if not 1 <= opts.layers <= 8:
        raise FfvfxError(f"--layers takes 1..8, got {opts.layers}")
    if opts.bg_margin < 0:
        raise FfvfxError(f"--bg-margin takes 0 (automatic) or more px, got {opts.bg_margin}")
    within("--depth-scale", opts.depth_scale, 0, 100)
    if not 0 <= opts.blobs < 1:
        raise FfvfxError(f"--blobs takes a fraction 0..1 of the main subject, got {opts.blobs:g}")
    within("--guidance", opts.guidance, 0, 100)
    within("--feather", opts.feather, 0, 100, "px")
    if opts.exposure_smooth < 1:
        raise FfvfxError(f"--exposure-smooth takes 1 or more frames, got {opts.exposure_smooth}")


def frame_at(src: str, tools: Toolchain, info: VideoInfo, index: int, pix_fmt: str = "rgb24", *,
             start: float | None = None, duration: float | None = None) -> np.ndarray:
    """Frame ``index`` (0-based from ``start``) of ``src`` at the input's size."""
    vf = Graph(Input().video.filter("select", f"eq(n,{index})")).line()
    for f in frames(src, tools, (info.width, info.height), pix_fmt, vf, start=start,
                    duration=duration, limit=1):
        return f.copy()
    raise FfvfxError(f"--frame {index}: {src} has no such frame")


def _check_models(ids: list[tuple[str, str]]) -> None:
    """Each (model id, the option naming it) can load, else one line before anything loads."""
    for model_id, option in ids:
        diffusion.check_model(model_id, option)


# -- generate ---------------------------------------------------------------------------------
def generate(src: str, alpha: str, out: str, tools: Toolchain, info: VideoInfo, opts: Options, *,
             say: Callable[[str], None], quiet: bool = False, overwrite: bool = False) -> dict:
    """Write ``out`` (PNG): frame ``opts.frame`` with its background generated; returns the log.
    ``overwrite``: replacing a file there (one that appeared meanwhile is kept without it)."""
    model_id = opts.ids()[0]
    _check_models([(model_id, "--model")])
    span = dict(start=opts.start, duration=opts.duration)
    picture = frame_at(src, tools, info, opts.frame, **span)
    a = frame_at(alpha, tools, info, opts.frame, "gray", **_alpha_span(opts)).astype(np.float32) / 255.0
    size = generation_size(info.width, info.height, opts.resolution or DEFAULT_RESOLUTION[opts.sd_model])
    grow = max(1, round(0.004 * max(size)))
    keep = cv2.resize((a > 0.5).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    keep = cv2.erode(keep, np.ones((2 * grow + 1,) * 2, np.uint8))  # redraw a rim round the subject
    dev = diffusion.device(opts.device)
    _say_device(dev, say)
    began = time.perf_counter()
    pipe = inpaint.load(model_id, dev, sdxl=opts.sd_model == "sdxl")
    loaded = time.perf_counter()
    result = inpaint.run(pipe, cv2.resize(picture, size, interpolation=cv2.INTER_AREA),
                         1.0 - keep.astype(np.float32), _settings(opts, opts.prompt),
                         on_step=_step_bar("generate", quiet))
    diffusion.free(pipe)
    drawn = cv2.resize(result.image, (info.width, info.height), interpolation=cv2.INTER_LANCZOS4)
    still = np.rint(a[..., None] * picture + (1 - a[..., None]) * drawn).astype(np.uint8)
    write_png(Path(out), still, overwrite=overwrite)
    return {"output": out, "model": {"id": model_id, "revision": revision(model_id)},
            "generation_size": list(size), "device": dev.name, "load_s": loaded - began,
            "step_s": result.step_seconds, "settings": _settings_log(opts)}


def _settings(opts: Options, prompt: str) -> inpaint.Settings:
    return inpaint.Settings(prompt=prompt, negative=opts.negative, seed=opts.seed, steps=opts.steps,
                    strength=opts.strength, guidance=opts.guidance)


def _settings_log(opts: Options) -> dict:
    return {k: v for k, v in asdict(opts).items() if k not in ("model", "controlnet", "depth_model")}


def _say_device(dev, say) -> None:
    if dev.name == "cpu":
        say("no GPU: the models run on the CPU in fp32, which is slow (minutes per image at full size)")
    else:
        say(f"models on {dev.name}" + (" in fp16 with CPU offload" if dev.fp16 else ""))


def _step_bar(name: str, quiet: bool) -> Callable[[int, int], None]:
    bar: list[ProgressBar] = []

    def on_step(i: int, total: int) -> None:
        if not bar:
            bar.append(ProgressBar(f"{name} (steps)", total, enabled=not quiet))
        bar[0].frames = i
        bar[0].draw(final=i >= total)
    return on_step


# -- studio -----------------------------------------------------------------------------------
@dataclass
class Assets:
    """What the render of a studio needs, and what its log says."""

    folder: Path                      # the cache folder holding them
    margin: int
    layers: list                      # parallax.Layer, far to near
    alpha: str                        # the cleaned alpha video
    offsets: list[tuple[float, float]]
    gains: list[float]
    log: dict = field(default_factory=dict)


@dataclass
class _Plan:
    """What the analysis found and where the generation for these settings is cached."""

    offsets: list[tuple[float, float]]
    light: exposure.Light             # gains unsmoothed (window 1): each render smooths its own
    prompt: str                       # the final prompt (light words joined)
    margin: int
    canvas: tuple[int, int]
    gen_size: tuple[int, int]
    folder: Path
    analysis_s: float


def _plan(src: str, alpha: str, tools: Toolchain, info: VideoInfo, opts: Options,
          say: Callable[[str], None]) -> _Plan:
    """The analysis (camera path, light) and the cache folder of the generation it selects."""
    span = dict(start=opts.start, duration=opts.duration)
    t0 = time.perf_counter()
    say("measuring camera motion and light (cached camera path)")
    path = camera.cached_path(src, tools, **span)
    light = exposure.analyse(src, alpha, tools, (info.width, info.height), reference=opts.frame,
                             window=1, alpha_ranged=opts.alpha_ranged, **span)
    prompt = f"{opts.prompt.strip()}, {light.words()}" if opts.light_prompt else opts.prompt.strip()
    margin = opts.bg_margin or needed_margin(path.offsets, 1.0) + 8
    canvas = (info.width + 2 * margin, info.height + 2 * margin)
    gen_size = generation_size(*canvas, opts.resolution or DEFAULT_RESOLUTION[opts.sd_model])
    key = cache.key({"v": ASSET_VERSION, "input": cache.file_identity(src),
                     "alpha": cache.file_identity(alpha), "start": opts.start, "duration": opts.duration,
                     "frame": opts.frame, "prompt": prompt, "negative": opts.negative, "seed": opts.seed,
                     "steps": opts.steps, "strength": opts.strength, "guidance": opts.guidance,
                     "size": gen_size, "margin": margin, "sd": opts.sd_model, "ids": opts.ids()})
    return _Plan(list(path.offsets), light, prompt, margin, canvas, gen_size,
                 cache.root() / "studio" / key, time.perf_counter() - t0)


def prepare(src: str, alpha: str, tools: Toolchain, info: VideoInfo, opts: Options, *,
            say: Callable[[str], None], quiet: bool = False) -> Assets:
    """Analysis and (cached) generation for ``studio``: everything but the render."""
    plan = _plan(src, alpha, tools, info, opts, say)
    gen_log = cache.load(plan.folder / "generation.json", _GENERATION)
    if gen_log is None:
        gen_log = _generate_assets(plan.folder, src, alpha, tools, info, opts, plan.prompt, plan.margin,
                                   plan.gen_size, say=say, quiet=quiet)
        gen_log["cache"] = "miss"
    else:
        say(f"generated background from the cache ({plan.folder})")
        gen_log["cache"] = "hit"
    return _assets(plan, gen_log, src, alpha, tools, opts, quiet)


class Stored:
    """The generated assets of one input, alpha and generation settings, for any render-time
    values (:data:`RENDER_PARAMS`; ``ffvfx tune studio``): the analysis runs once, and nothing is
    generated: without the cached generation, one line saying to run ``command`` once first."""

    def __init__(self, src: str, alpha: str, tools: Toolchain, info: VideoInfo, opts: Options, *,
                 command: str, say: Callable[[str], None]):
        self.src, self.alpha, self.tools = src, alpha, tools
        self.plan = _plan(src, alpha, tools, info, opts, say)
        self.gen_log = cache.load(self.plan.folder / "generation.json", _GENERATION)
        if self.gen_log is None:
            raise FfvfxError(f"no generated background for this input, alpha and these settings in the "
                             f"cache yet (tune runs no model): run `{command}` once first")
        self.gen_log["cache"] = "hit"

    def assets(self, opts: Options) -> Assets:
        """The assets for ``opts``' render-time values (layers, clean alpha, smoothed gains)."""
        return _assets(self.plan, dict(self.gen_log), self.src, self.alpha, self.tools, opts, True)


def _assets(plan: _Plan, gen_log: dict, src: str, alpha: str, tools: Toolchain, opts: Options,
            quiet: bool) -> Assets:
    """The render's assets from a cached generation: the layers, the clean alpha, the gains."""
    layers = _layers(plan.folder, opts.layers)
    clean = _clean_alpha(alpha, tools, opts, quiet)
    n = len(plan.offsets)
    raw = exposure.smooth(plan.light.gains, opts.exposure_smooth)
    gains = (raw + [raw[-1]] * n)[:n] if raw else [1.0] * n
    light = plan.light
    log = {"input": src, "alpha": alpha, "prompt": opts.prompt, "final_prompt": plan.prompt,
           "light": {"direction": light.direction, "camera": light.camera, "words": light.words()},
           "exposure": {"min": min(gains), "max": max(gains), "smooth_frames": opts.exposure_smooth},
           "canvas": list(plan.canvas), "margin": plan.margin, "generation_size": list(plan.gen_size),
           "layers": [{"file": Path(layer.path).name, "depth": layer.depth} for layer in layers],
           "depth_scale": opts.depth_scale, "cache_folder": str(plan.folder),
           "analysis_s": plan.analysis_s, "settings": _settings_log(opts), **gen_log}
    return Assets(plan.folder, plan.margin, layers, clean, list(plan.offsets), gains, log)


def _generate_assets(folder: Path, src: str, alpha: str, tools: Toolchain, info: VideoInfo,
                     opts: Options, prompt: str, margin: int, gen_size: tuple[int, int], *,
                     say: Callable[[str], None], quiet: bool) -> dict:
    """depth.png, control.png, background.png and generation.json into ``folder``."""
    sd_id, cn_id, depth_id = opts.ids()
    _check_models([(depth_id, "--depth-model"), (sd_id, "--model"), (cn_id, "--controlnet")])
    span = dict(start=opts.start, duration=opts.duration)
    picture = frame_at(src, tools, info, opts.frame, **span)
    a = frame_at(alpha, tools, info, opts.frame, "gray", **_alpha_span(opts)).astype(np.float32) / 255.0
    dev = diffusion.device(opts.device)
    _say_device(dev, say)
    cache.folder(folder)

    say(f"depth of frame {opts.frame} ({depth_id})")
    t0 = time.perf_counter()
    near = depth.without_subject(depth.estimate(picture, depth_id, dev), a)
    depth_s = time.perf_counter() - t0
    m = margin
    near_canvas = cv2.copyMakeBorder(near, m, m, m, m, cv2.BORDER_REPLICATE)
    write_png(folder / "depth.png", np.rint(near_canvas * 65535).astype(np.uint16), overwrite=True)
    control = cv2.resize(np.rint(near_canvas * 255).astype(np.uint8), gen_size,
                         interpolation=cv2.INTER_AREA)
    control = np.repeat(control[..., None], 3, axis=2)
    write_png(folder / "control.png", control, overwrite=True)

    # The starting picture: the reference frame with the subject filled in, mirrored into the margin.
    small = cv2.resize(cv2.copyMakeBorder(picture, m, m, m, m, cv2.BORDER_REFLECT), gen_size,
                       interpolation=cv2.INTER_AREA)
    hole = cv2.resize(cv2.copyMakeBorder((a > 0.1).astype(np.uint8), m, m, m, m, cv2.BORDER_CONSTANT,
                                         value=0), gen_size, interpolation=cv2.INTER_NEAREST)
    grow = max(2, round(0.015 * max(gen_size)))
    hole = cv2.dilate(hole, np.ones((2 * grow + 1,) * 2, np.uint8))
    start_image = cv2.inpaint(small, hole, grow, cv2.INPAINT_TELEA) if hole.any() else small

    say(f"generating the background at {gen_size[0]}x{gen_size[1]} ({sd_id} + {cn_id})")
    t1 = time.perf_counter()
    pipe = inpaint.load(sd_id, dev, controlnet=cn_id, sdxl=opts.sd_model == "sdxl")
    load_s = time.perf_counter() - t1
    result = inpaint.run(pipe, start_image, np.ones(start_image.shape[:2], np.float32),
                         _settings(opts, prompt), control=control, on_step=_step_bar("studio", quiet))
    diffusion.free(pipe)
    canvas = (info.width + 2 * m, info.height + 2 * m)
    background = cv2.resize(result.image, canvas, interpolation=cv2.INTER_LANCZOS4)
    write_png(folder / "background.png", background, overwrite=True)
    log = {"models": {name: {"id": mid, "revision": revision(mid)} for name, mid in
                      (("inpaint", sd_id), ("controlnet", cn_id), ("depth", depth_id))},
           "device": dev.name, "dtype": str(dev.dtype).replace("torch.", ""),
           "depth_s": depth_s, "load_s": load_s, "step_s": result.step_seconds,
           "generation_s": time.perf_counter() - t1}
    cache.save(folder / "generation.json", log, files=dict.fromkeys(FOLDER_IMAGES))
    return log


def _layers(folder: Path, count: int) -> list:
    """``count`` depth layers (:class:`~ffvfx.effects.parallax.Layer`) of the cached background,
    made once per count."""
    sub = folder / f"layers-{count}"
    found = cache.load(sub / "layers.json", _LAYERS)
    listing = found["layers"] if found is not None else None
    if listing is None or len(listing) != count:
        near = cv2.imread(str(folder / "depth.png"), cv2.IMREAD_UNCHANGED).astype(np.float32) / 65535
        rgb = cv2.cvtColor(cv2.imread(str(folder / "background.png"), cv2.IMREAD_COLOR),
                           cv2.COLOR_BGR2RGB)
        cache.folder(sub)
        listing = []
        for k, (alpha, nearness) in enumerate(depth.bands(near, count)):
            name = f"layer-{k}.png"
            image = rgb if k == 0 else np.dstack([rgb, np.rint(alpha * 255).astype(np.uint8)])
            write_png(sub / name, image, overwrite=True)
            listing.append({"file": name, "depth": nearness})
        cache.save(sub / "layers.json", {"layers": listing},
                   files=dict.fromkeys(item["file"] for item in listing))
    return [Layer(str(sub / item["file"]), float(item["depth"])) for item in listing]


def _alpha_span(opts: Options) -> dict:
    """``start``/``duration`` to read the alpha with: none when it was made for the range."""
    return {} if opts.alpha_ranged else dict(start=opts.start, duration=opts.duration)


def _clean_alpha(alpha: str, tools: Toolchain, opts: Options, quiet: bool) -> str:
    """ALPHA with stray blobs removed (as ``ffvfx matte`` does), over the rendered range, cached."""
    key = cache.key({"alpha": cache.file_identity(alpha), "blobs": opts.blobs, "start": opts.start,
                "duration": opts.duration})
    out = cache.root() / "studio" / f"alpha-{key}.mkv"
    entry = out.with_suffix(".json")
    if cache.load(entry, {**_CLEAN_ALPHA, cache.FILES: {out.name: dict}},
                  frames=lambda p: len(frame_times(str(p), tools.ffmpeg))) is None:
        cache.folder(out.parent)
        written = write_matte(alpha, tools, GivenAlpha(), out, blobs=opts.blobs, quiet=quiet,
                              info=probe(alpha, tools), **_alpha_span(opts))
        cache.save(entry, {"frames": written.frames}, files={out.name: written.frames})
    return str(out)


def effect(assets: Assets, info: VideoInfo, opts: Options) -> Windowed:
    """The studio's effect on the input stream (the render's one graph), per segment of it: the
    parallax crops and the gains are per frame."""
    first, _ = frame_range(info, opts.start, opts.duration)
    alpha = aligned_input(assets.alpha, None, info, "alpha", first)  # cleaned over the range

    def apply(stream, offsets: list, gains: list | None):
        behind = parallax(assets.layers, offsets, size=info.canvas, margin=assets.margin, fps=info.fps,
                          depth_scale=opts.depth_scale, gains=gains)
        return over(stream, alpha.video, behind, feather=opts.feather)
    return per_frame(apply, offsets=assets.offsets, gains=assets.gains if needed(assets.gains) else None)


def folder_for(output: str) -> Path:
    return Path(output).resolve().parent / FOLDER


def folder_files(layers: int) -> list[str]:
    """The names :func:`write_folder` writes in the studio folder for ``layers`` depth layers."""
    return [*FOLDER_IMAGES, *(f"layer-{k}.png" for k in range(layers)), "graph.txt", "studio.json"]


def check_folder(output: str, overwrite: bool, inputs: Sequence[str | None] = (),
                 layers: int = 3) -> None:
    """The studio folder beside ``output`` can be written: none of its files is one of ``inputs``
    and an earlier folder's files are replaced only with ``overwrite`` (one line otherwise)."""
    check_output(folder_for(output), inputs, overwrite, files=folder_files(layers))


def write_folder(output: str, assets: Assets, graph_script: str, overwrite: bool = False) -> Path:
    """The studio folder beside ``output``: depth, background, layers, graph script, JSON log.

    All or nothing (:func:`ffvfx.ffmpeg.atomic.atomic_folder`): built beside it and put in place whole, an
    earlier folder's files replaced only with ``overwrite``.
    """
    folder = folder_for(output)
    with atomic_folder(folder, overwrite=overwrite) as staging:
        for name in FOLDER_IMAGES:
            shutil.copyfile(assets.folder / name, staging / name)
        for layer in assets.layers:
            shutil.copyfile(layer.path, staging / Path(layer.path).name)
        write_text(staging / "graph.txt", graph_script, overwrite=False)
        write_text(staging / "studio.json", json.dumps({**assets.log, "output": output}, indent=1) + "\n",
                   overwrite=False)
    return folder
