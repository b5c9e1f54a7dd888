"""``ffvfx inpaint``: change one region of a video from a prompt by painting keyframes only.

1. the mask (white = change): a video, or ``auto`` (the default person model of ``ffvfx matte``);
2. keyframes where the masked region changed enough (:mod:`ffvfx.stages.analysis.keyframes`), or
   ``--keyframes``; written to ``keyframes.json``;
3. each keyframe's masked region cropped round the mask's bounding box, resized to the model's
   resolution, inpainted by Stable Diffusion at ``strength`` (``--denoise``) into ``candidates`` pictures
   (seeds seed, seed+1, ...), pasted back;
4. a pick per keyframe: automatically the candidate closest, inside the mask, to the previous
   keyframe's pick (the first keyframe: to the original), so the region does not jump from group
   to group; ``review.html`` shows all of them, ``--picks picks.json`` re-renders with a person's
   choice and loads no model, ``--redo 3,7`` paints those keyframes again with new seeds;
5. each pick carried through its group (:mod:`ffvfx.stages.analysis.flow`: held or warped by optical flow),
   crossfaded with the previous group's over ``blend`` frames, written as ``patches.mkv``;
6. one ffmpeg graph (:mod:`ffvfx.effects.patch`): the original, the patches through the grown and
   feathered mask, the light of each frame, optionally the original mixed back in;
7. groups whose patch jumps at its start much more than the original does are listed in the log
   and, with ``drop_bad``, rebuilt by ``minterpolate``;
8. the work folder beside OUT (``OUT-stem_inpaint/``): keyframes.json, candidates, picks.json,
   review.html, contact.png, compare.mp4 (original | result), inpaint.json. The candidates are
   kept in ``$FFVFX_CACHE/inpaint/KEY`` (KEY: input, mask, keyframes and painting settings), so
   ``--picks`` finds them for any output.
"""

from __future__ import annotations

import html
import json
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from ffvfx.compiler.numbers import within
from ffvfx.compiler.windows import Windowed, per_frame
from ffvfx.effects.exposure import needed
from ffvfx.effects.patch import patch
from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import cache
from ffvfx.ffmpeg.atomic import atomic_path, write_png, write_text
from ffvfx.ffmpeg.outputs import check_output, same_file
from ffvfx.ffmpeg.probe import VideoInfo, frame_range, frame_times, probe
from ffvfx.ffmpeg.progress import ProgressBar
from ffvfx.ffmpeg.rawvideo import FrameEncoder, encoder_argv, frames
from ffvfx.ffmpeg.render import aligned_input
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.stages import diffusion
from ffvfx.stages.analysis import keyframes as kf
from ffvfx.stages.analysis.flow import carry
from ffvfx.stages.diffusion import inpaint as sd

MAX_CANDIDATES = 16
"""Most pictures painted per keyframe (each is a full-size frame held in memory)."""
JUMP_FACTOR = 3.0     # a group start whose patch changes 3x more than the original ...
JUMP_FLOOR = 8.0      # ... and by more than 8 levels (mean, inside the mask) is a jump
PAINTING = ("prompt", "negative-prompt", "seed", "steps", "denoise", "guidance", "resolution", "model",
            "device", "candidates", "grow", "sensitivity", "max-group", "keyframes", "redo")
"""The options that select (or make) the painted keyframes: a new value is a diffusion run."""
CARRYING = ("propagate", "blend", "drop-bad", "picks")
"""The options that change the carried patches or the frames rebuilt: a new value carries the
picks through the clip again (optical flow over every frame). The render-time ones, which change
only the graph, are :data:`ffvfx.effects.patch.PARAMS` (``--feather``, ``--overlay-original``)."""


@dataclass
class Options:
    """What ``inpaint`` was asked (px, frames and seconds as the CLI says)."""

    prompt: str
    negative: str = ""
    seed: int = 0
    steps: int = 30
    strength: float = 0.3                # how far from the original the region may go (--denoise)
    guidance: float = 7.5
    resolution: int = 512
    model: str | None = None
    device: str = "auto"
    candidates: int = 2
    grow: int = 8
    feather: float = 4.0
    sensitivity: float = 1.0
    max_group: int = 48
    keyframes: str | None = None
    propagate: str = "flow"
    blend: int = 4
    overlay_original: float = 0.0
    drop_bad: bool = False
    picks: str | None = None
    redo: list[int] = field(default_factory=list)
    start: float | None = None
    duration: float | None = None


def check(opts: Options) -> None:
    """One line for each option that cannot work, before the mask, the analysis or a model runs."""
    if not opts.prompt or not opts.prompt.strip():
        raise FfvfxError("--prompt is empty: say what the region should become")
    if not 0 < opts.strength <= 1:
        raise FfvfxError(f"--denoise takes 0 < d <= 1, got {opts.strength:g}")
    if opts.steps < 1 or opts.candidates < 1:
        raise FfvfxError("--steps and --candidates take 1 or more")
    if int(opts.steps * opts.strength) < 1:
        raise FfvfxError(f"--steps {opts.steps} at --denoise {opts.strength:g} leaves no denoising step "
                         f"(steps x denoise < 1); raise --steps")
    if not 64 <= opts.resolution <= 2048:
        raise FfvfxError(f"--resolution {opts.resolution}: 64..2048 px")
    if opts.propagate not in ("hold", "flow"):
        raise FfvfxError(f"--propagate {opts.propagate}: choose hold or flow")
    if not 0 <= opts.grow <= 64 or opts.blend < 0:
        raise FfvfxError("--grow takes 0..64 px and --blend 0 or more frames")
    if opts.candidates > MAX_CANDIDATES:
        raise FfvfxError(f"--candidates takes 1..{MAX_CANDIDATES} pictures per keyframe, "
                         f"got {opts.candidates}")
    within("--overlay-original", opts.overlay_original, 0, 1)
    if not 0 < opts.sensitivity <= 1000:
        raise FfvfxError(f"--sensitivity takes more than 0 and at most 1000, got {opts.sensitivity:g}")
    within("--feather", opts.feather, 0, 100, "px")
    within("--guidance", opts.guidance, 0, 100)
    if opts.max_group < 1:
        raise FfvfxError(f"--max-group takes 1 or more frames, got {opts.max_group}")


def work_folder(output: str) -> Path:
    out = Path(output)
    return out.with_name(out.stem + "_inpaint")


WORK_FILES = ("keyframes.json", "picks.json", "review.html", "contact.png", "patches.mkv",
              "compare.mp4", "inpaint.json")
"""What every run writes in the work folder (``mask.mkv`` too with MASK ``auto``; candidates)."""


def check_work_folder(output: str, inputs: Sequence[str | None], *, auto_mask: bool,
                      picks: str | None) -> None:
    """No file the run writes in the work folder beside ``output`` is one of ``inputs`` (one line).

    The folder's files are replaced on every run (no -y needed); ``--picks`` naming the folder's own
    picks.json is the review workflow, and that file is then read and left as it is.
    """
    work = work_folder(output)
    names = [n for n in WORK_FILES if not (n == "picks.json" and picks and same_file(picks, work / n))]
    names += ["mask.mkv"] if auto_mask else []
    names += sorted(str(p.relative_to(work)) for p in (work / "candidates").glob("key*-c*.png"))
    check_output(work, inputs, True, files=names)


def box(mask: np.ndarray, resolution: int, pad: float = 0.15) -> tuple[int, int, int, int, int, int]:
    """The crop (x0, y0, x1, y1) round the mask's bounding box (padded, inside the frame) and the
    model size (w, h) for it: long side ``resolution``, multiples of 8."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    px, py = max(8, int((x1 - x0) * pad)), max(8, int((y1 - y0) * pad))
    x0, y0, x1, y1 = max(0, x0 - px), max(0, y0 - py), min(w, x1 + px), min(h, y1 + py)
    gw, gh = sd.generation_size(x1 - x0, y1 - y0, resolution)
    return int(x0), int(y0), int(x1), int(y1), gw, gh


def grown(mask: np.ndarray, grow: int) -> np.ndarray:
    """The region the way the graph makes it: above 10 % is white, then ``grow`` px of 3x3 dilation."""
    region = (mask > 25).astype(np.uint8)
    if grow:
        region = cv2.dilate(region, np.ones((3, 3), np.uint8), iterations=grow)
    return region.astype(bool)


def settings_key(opts: Options, src_identity: str, mask_identity: str, keys: list[int]) -> str:
    """The cache key of the candidates: input, mask, keyframes and every painting setting."""
    return cache.key({"src": src_identity, "mask": mask_identity, "keys": keys, "prompt": opts.prompt,
                      "negative": opts.negative, "seed": opts.seed, "steps": opts.steps,
                      "denoise": opts.strength, "guidance": opts.guidance, "resolution": opts.resolution,
                      "model": opts.model, "candidates": opts.candidates, "grow": opts.grow,
                      "start": opts.start, "duration": opts.duration}, 12)


def _silent(message: str) -> None:
    """A Painter's ``say`` on a Ray worker: its notes stay there."""


class Painter:
    """The SD inpainting pipeline, loaded on first use only (``--picks`` never loads it)."""

    def __init__(self, opts: Options, say: Callable[[str], None]):
        self.opts, self.say, self.pipe, self.step_seconds = opts, say, None, []

    def paint_timed(self, frame: np.ndarray, region: np.ndarray,
                    seed: int) -> tuple[np.ndarray, list[float]]:
        """:meth:`paint`, and the seconds of each diffusion step it took (what a Ray actor returns)."""
        before = len(self.step_seconds)
        image = self.paint(frame, region, seed)
        return image, self.step_seconds[before:]

    def paint(self, frame: np.ndarray, region: np.ndarray, seed: int) -> np.ndarray:
        """``frame`` with ``region`` (bool H x W) redrawn from the prompt with ``seed``."""
        if self.pipe is None:
            model = self.opts.model or sd.MODELS["sd15"][0]
            diffusion.check_model(model, "--model")
            dev = diffusion.device(self.opts.device)
            if dev.name == "cpu":
                self.say("no GPU: Stable Diffusion runs on the CPU in fp32, which is slow")
            self.pipe = sd.load(model, dev)
        x0, y0, x1, y1, gw, gh = box(region, self.opts.resolution)
        crop = cv2.resize(frame[y0:y1, x0:x1], (gw, gh), interpolation=cv2.INTER_AREA)
        m = cv2.resize(region[y0:y1, x0:x1].astype(np.uint8), (gw, gh), interpolation=cv2.INTER_NEAREST)
        settings = sd.Settings(prompt=self.opts.prompt, negative=self.opts.negative, seed=seed,
                               steps=self.opts.steps, strength=self.opts.strength,
                               guidance=self.opts.guidance)
        result = sd.run(self.pipe, crop, m.astype(np.float32), settings)
        self.step_seconds += result.step_seconds
        back = cv2.resize(result.image, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LANCZOS4)
        out = frame.copy()
        sub = out[y0:y1, x0:x1]
        sub[region[y0:y1, x0:x1]] = back[region[y0:y1, x0:x1]]
        return out


def pick(candidates: list[np.ndarray], region: np.ndarray, previous: np.ndarray | None,
         original: np.ndarray) -> tuple[int, list[float]]:
    """The candidate closest (mean absolute difference inside ``region``) to ``previous`` (the last
    pick), or to ``original`` for the first keyframe; returns (index, scores)."""
    if not region.any():  # nothing masked on this keyframe: every candidate is the original
        return 0, [0.0] * len(candidates)
    ref = previous if previous is not None else original
    scores = [float(np.abs(c.astype(np.int16) - ref.astype(np.int16))[region].mean()) for c in candidates]
    return int(np.argmin(scores)), scores


@dataclass
class _Clip:
    """The input and its mask as the run reads them: ``size`` (w, h) px, over the range."""

    src: str
    mask: str
    tools: Toolchain
    size: tuple[int, int]
    span: dict
    mask_span: dict

    def frames(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(RGB frame, gray mask) pairs, in order, to the end of the shorter."""
        return zip(frames(self.src, self.tools, self.size, "rgb24", **self.span),
                   frames(self.mask, self.tools, self.size, "gray", **self.mask_span), strict=False)


def run(src: str, mask: str, output: str, tools: Toolchain, info: VideoInfo, opts: Options, *,
        say: Callable[[str], None], quiet: bool, render: Callable, mask_ranged: bool = False,
        cluster=None) -> dict:
    """Everything up to and including the render (``render(effect)`` runs the graph).

    ``mask_ranged``: the mask already covers only ``opts.start``/``duration`` (``auto`` makes it so).
    ``cluster``: a :class:`ffvfx.scale.cluster.Cluster` that paints the keyframes (one actor per GPU).
    """
    t0 = time.perf_counter()
    work = work_folder(output)
    span = dict(start=opts.start, duration=opts.duration)
    clip = _Clip(src, mask, tools, (info.width, info.height), span, {} if mask_ranged else span)
    keys, detected = _keyframes(clip, info, opts, say)
    originals, regions, count = _keyframe_regions(clip, keys, opts.grow)
    work.mkdir(exist_ok=True)
    write_text(work / "keyframes.json", json.dumps(
        {"keyframes": keys, "source": "--keyframes" if detected is None else "detected",
         "scores": detected.scores if detected else None,
         "thresholds": detected.thresholds if detected else None}, indent=1), overwrite=True)

    key = settings_key(opts, cache.file_identity(src), cache.file_identity(mask), keys)
    cand_dir = cache.root() / "inpaint" / key  # shared by every output of these settings
    painter = Painter(opts, say)
    candidates, attempts = _candidates(cand_dir, keys, originals, regions, opts, painter,
                                       say=say, quiet=quiet, cluster=cluster)
    chosen, scores = _choose(work, keys, candidates, originals, regions, opts)
    _review(work, cand_dir, keys, chosen, scores, opts)
    _contact(work, keys, originals, candidates, chosen)

    say(f"carrying {len(keys)} keyframes through {count} frames ({opts.propagate})")
    groups = list(zip(keys, keys[1:] + [count], strict=True))
    picked = {k: candidates[k][chosen[k]] for k in keys}
    patches = work / "patches.mkv"
    gains, jumps, stats = _write_patches(clip, patches, info.fps, groups, picked, originals, regions, opts)
    drop = _dropped(groups, jumps, opts, say)
    effect = _effect(clip, patches, info, gains, drop, count, mask_ranged, opts)
    analysis_s = time.perf_counter() - t0
    render(effect)
    log = {"input": src, "mask": mask, "output": output, "keyframes": keys,
           "groups": [[a, b - 1] for a, b in groups], "picks": {str(k): chosen[k] for k in keys},
           "pick_scores": {str(k): scores[k] for k in keys},
           "seeds": {str(k): [opts.seed + 1000 * attempts.get(str(k), 0) + j for j in range(opts.candidates)]
                     for k in keys},
           "group_stats": _group_stats(stats, groups, jumps),
           "jumps": [groups[g][0] for g in jumps], "dropped": [list(d) for d in drop],
           "model": opts.model, "settings": _settings_log(opts), "candidates_folder": str(cand_dir),
           "analysis_and_paint_s": analysis_s, "step_s": painter.step_seconds,
           "model_loaded": bool(painter.step_seconds)}
    write_text(work / "inpaint.json", json.dumps(log, indent=1) + "\n", overwrite=True)
    return log


def _settings_log(opts: Options) -> dict:
    """The options as the log records them: the strength under its flag's name, ``denoise``."""
    return {"denoise" if k == "strength" else k: v for k, v in asdict(opts).items()}


def _keyframes(clip: _Clip, info: VideoInfo, opts: Options,
               say: Callable[[str], None]) -> tuple[list[int], kf.Keyframes | None]:
    """The keyframes: ``--keyframes`` as given (and no detection: None), else detected in the mask."""
    if opts.keyframes:
        return kf.parse_keys(opts.keyframes, info.frames), None
    say("finding keyframes inside the mask")
    detected = kf.detect(clip.src, clip.mask, clip.tools, clip.size, sensitivity=opts.sensitivity,
                         max_group=opts.max_group, mask_span=clip.mask_span, **clip.span)
    if max(detected.coverage) == 0:
        raise FfvfxError(f"{clip.mask}: the mask is empty (no white anywhere): nothing to inpaint")
    return detected.keys, detected


def _keyframe_regions(clip: _Clip, keys: list[int],
                      grow: int) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray], int]:
    """The keyframes' originals and regions (:func:`grown`, 2 px more than the graph's), full
    size, and the frame count of the clip."""
    key_set = set(keys)
    originals, regions = {}, {}
    count = 0
    for f, (rgb, m) in enumerate(clip.frames()):
        if f in key_set:
            originals[f], regions[f] = rgb.copy(), grown(m, grow + 2)
        count = f + 1
    if not any(r.any() for r in regions.values()):
        raise FfvfxError(f"{clip.mask}: the mask is empty on every keyframe: nothing to inpaint")
    return originals, regions, count


def _candidates(cand_dir: Path, keys: list[int], originals: dict, regions: dict, opts: Options,
                painter: Painter, *, say: Callable[[str], None], quiet: bool,
                cluster) -> tuple[dict[int, list[np.ndarray]], dict[str, int]]:
    """Each keyframe's candidate pictures, painted where the cache has none (or ``--redo``), and
    the attempts made per keyframe (each attempt paints with new seeds)."""
    attempts = cache.load(cand_dir / "attempts.json", cache.Table(int)) or {}  # seeds tried per keyframe
    redo = set(opts.redo)
    unknown = redo - set(keys)
    if unknown:
        raise FfvfxError(f"--redo {','.join(map(str, sorted(unknown)))}: not keyframes ({keys})")
    files = {k: [cand_dir / f"key{k:05d}-c{j}.png" for j in range(opts.candidates)] for k in keys}
    work_items = []  # (keyframe, file, seed) still to paint
    for k in keys:
        if k in redo:
            attempts[str(k)] = attempts.get(str(k), 0) + 1
        fresh = k in redo or not all(_sound_picture(p) for p in files[k])
        if fresh and opts.picks:
            raise FfvfxError(f"--picks: keyframe {k} has no candidates for these settings; run without "
                             "--picks (or with the settings that made them) first")
        if fresh and regions[k].any():
            base = opts.seed + 1000 * attempts.get(str(k), 0)
            work_items += [(k, p, base + j) for j, p in enumerate(files[k])]
    if work_items:
        cache.folder(cand_dir)
        _paint(work_items, originals, regions, opts, painter, say=say, quiet=quiet, cluster=cluster)
    candidates = {k: [_picture(p) if p.exists() else originals[k] for p in files[k]] for k in keys}
    if cand_dir.exists():
        cache.save(cand_dir / "attempts.json", attempts)
    painter.pipe = None
    return candidates, attempts


def _paint(work_items: list[tuple[int, Path, int]], originals: dict, regions: dict, opts: Options,
           painter: Painter, *, say: Callable[[str], None], quiet: bool, cluster) -> None:
    """Paint each (keyframe, file, seed) into its file: on the Ray ``cluster`` when given."""
    if cluster is not None:
        say(f"painting {len(work_items)} candidates on Ray at {cluster.address}")
        items = [(originals[k], regions[k], seed) for k, _, seed in work_items]
        painted = cluster.actors(partial(Painter, opts, say=_silent), "paint_timed", items, "inpainting")
        for (_, p, _), (image, steps) in zip(work_items, painted, strict=True):
            write_png(p, image, overwrite=True)
            painter.step_seconds += steps
        return
    bar = ProgressBar("keyframes", len(work_items), enabled=not quiet)
    for i, (k, p, seed) in enumerate(work_items):
        write_png(p, painter.paint(originals[k], regions[k], seed), overwrite=True)
        bar.frames = i + 1
        bar.draw(final=i + 1 == len(work_items))


def _choose(work: Path, keys: list[int], candidates: dict, originals: dict, regions: dict,
            opts: Options) -> tuple[dict[int, int], dict[int, list[float]]]:
    """The pick of each keyframe (``--picks``, else :func:`pick`) and every candidate's score;
    written to picks.json unless that is the file the picks came from."""
    chosen, scores = _picks(keys, candidates, originals, regions, opts)
    if not (opts.picks and same_file(opts.picks, work / "picks.json")):  # never write an input
        write_text(work / "picks.json", json.dumps({str(k): chosen[k] for k in keys}, indent=1),
                   overwrite=True)
    return chosen, scores


def _picks(keys: list[int], candidates: dict, originals: dict, regions: dict,
           opts: Options) -> tuple[dict[int, int], dict[int, list[float]]]:
    """The pick of each keyframe (``--picks``, else :func:`pick`) and every candidate's score."""
    chosen, scores = {}, {}
    previous = None
    given = _read_picks(opts.picks, keys, opts.candidates) if opts.picks else None
    for k in keys:
        auto, scores[k] = pick(candidates[k], regions[k], previous, originals[k])
        chosen[k] = given[k] if given else auto
        previous = candidates[k][chosen[k]]
    return chosen, scores


def _write_patches(clip: _Clip, out: Path, fps: Fraction, groups: list[tuple[int, int]],
                   picked: dict[int, np.ndarray], originals: dict, regions: dict,
                   opts: Options) -> tuple[list[float], list[int], list[tuple]]:
    """``out`` (FFV1 RGB): each pick carried through its group, crossfaded at the boundaries.

    Returns per frame the light gain against its keyframe (clamped 0.5..2), the groups whose
    patch jumps at their start, and per masked frame (group, patch change, original change,
    patch level, original level) for :func:`_group_stats`.
    """
    key_gray = {k: cv2.cvtColor(originals[k], cv2.COLOR_RGB2GRAY) for k, _ in groups}
    gains, jumps, stats = [], [], []
    with atomic_path(out, overwrite=True) as tmp:
        enc = FrameEncoder(encoder_argv(clip.tools.ffmpeg, clip.size, fps, "rgb24", tmp,
                                        ["-c:v", "ffv1", "-level", "3", "-pix_fmt", "gbrp"]))
        try:
            gi, prev_patch, prev_frame = 0, None, None
            for f, (rgb, m) in enumerate(clip.frames()):
                while gi + 1 < len(groups) and f >= groups[gi + 1][0]:
                    gi += 1
                k = groups[gi][0]
                gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
                here = _carried(f, gi, groups, picked, key_gray, gray, opts)
                region = grown(m, opts.grow)
                gains.append(float(gray[region].mean() / max(key_gray[k][region].mean(), 1.0))
                             if region.any() and regions[k].any() else 1.0)
                if region.any():
                    stats.append(_frame_stats(f, gi, k, here, rgb, region, prev_patch, prev_frame, jumps))
                enc.write(np.ascontiguousarray(here).tobytes())
                prev_patch, prev_frame = here.astype(np.int16), rgb.astype(np.int16)
            enc.finish("patches")
        except BaseException:
            enc.kill()
            raise
    # Gains relative to the keyframe, for the patch painted on it (clamped against wild masks).
    return [min(max(g, 0.5), 2.0) for g in gains], jumps, stats


def _carried(f: int, gi: int, groups: list[tuple[int, int]], picked: dict[int, np.ndarray],
             key_gray: dict[int, np.ndarray], gray: np.ndarray, opts: Options) -> np.ndarray:
    """Frame ``f``'s patch: group ``gi``'s pick carried to it, crossfaded from the previous
    group's over the first ``opts.blend`` frames of the group."""
    k = groups[gi][0]
    here = carry(picked[k], key_gray[k], gray, opts.propagate)
    if gi > 0 and f - k < opts.blend:
        kp = groups[gi - 1][0]
        before = carry(picked[kp], key_gray[kp], gray, opts.propagate)
        w = (f - k + 1) / (opts.blend + 1)
        here = np.rint((1 - w) * before + w * here).astype(np.uint8)
    return here


def _frame_stats(f: int, gi: int, k: int, here: np.ndarray, rgb: np.ndarray, region: np.ndarray,
                 prev_patch: np.ndarray | None, prev_frame: np.ndarray | None, jumps: list[int]) -> tuple:
    """(group, patch change, original change, patch level, original level) inside ``region``; a
    group start whose patch changes far more than the original is added to ``jumps``."""
    colour = (float(here[region].mean()), float(rgb[region].mean()))
    d_out = d_in = None
    if prev_patch is not None:
        d_out = float(np.abs(here.astype(np.int16) - prev_patch)[region].mean())
        d_in = float(np.abs(rgb.astype(np.int16) - prev_frame)[region].mean())
        if f == k and f > 0 and d_out > JUMP_FACTOR * d_in + JUMP_FLOOR:
            jumps.append(gi)
    return (gi, d_out, d_in, *colour)


def _dropped(groups: list[tuple[int, int]], jumps: list[int], opts: Options,
             say: Callable[[str], None]) -> list[tuple[int, int]]:
    """Say which groups jump; with ``drop_bad`` the interior ones' frames (first, last) to rebuild."""
    bad = [groups[g] for g in jumps if 0 < g < len(groups) - 1]  # interior groups can be rebuilt
    if jumps:
        say(f"{len(jumps)} group(s) jump at their start: {', '.join(str(groups[g][0]) for g in jumps)}"
            + ("; rebuilt by interpolation" if opts.drop_bad and bad else "; see inpaint.json"))
    return [(a, b - 1) for a, b in bad] if opts.drop_bad else []


@dataclass
class Carried:
    """The picks carried through the clip: what the merge needs besides its render-time values
    (:data:`~ffvfx.effects.patch.PARAMS`), kept in the cache for re-renders of them."""

    clip: _Clip
    patches: Path
    gains: list[float]
    drop: list[tuple[int, int]]
    count: int
    mask_ranged: bool


_CARRIED = {"gains": [float], "jumps": [int], cache.FILES: dict}
"""A cached carry's ``carried/KEY.json``: the gains, the groups that jump, the patches' manifest."""


def stored(src: str, mask: str, tools: Toolchain, info: VideoInfo, opts: Options, *,
           say: Callable[[str], None], quiet: bool = True, mask_ranged: bool = False,
           command: str | None = None) -> Carried:
    """The painted keyframes of these settings carried through the clip, for renders that differ
    only in their render-time values (``ffvfx tune inpaint``, ``--sweep``): the patches go to
    ``$FFVFX_CACHE/inpaint/KEY/carried/`` (once per picks and carry settings), no work folder is
    written. ``command``: paint nothing; when keyframes are not painted yet, one line saying to run
    it once first (None: paint what is missing, as a run does)."""
    span = dict(start=opts.start, duration=opts.duration)
    clip = _Clip(src, mask, tools, (info.width, info.height), span, {} if mask_ranged else span)
    keys, _ = _keyframes(clip, info, opts, say)
    originals, regions, count = _keyframe_regions(clip, keys, opts.grow)
    cand_dir = cache.root() / "inpaint" / settings_key(opts, cache.file_identity(src),
                                                       cache.file_identity(mask), keys)
    missing = [k for k in keys if regions[k].any() and not all(
        _sound_picture(cand_dir / f"key{k:05d}-c{j}.png") for j in range(opts.candidates))]
    if command is not None and missing:
        raise FfvfxError(f"keyframe {missing[0]} is not painted for this input, mask and these settings "
                         f"yet (tune runs no model): run `{command}` once first")
    candidates, _ = _candidates(cand_dir, keys, originals, regions, opts, Painter(opts, say), say=say,
                                quiet=quiet, cluster=None)
    chosen, _ = _picks(keys, candidates, originals, regions, opts)
    groups = list(zip(keys, keys[1:] + [count], strict=True))
    carry_key = cache.key({"picks": [chosen[k] for k in keys], "keys": keys, "propagate": opts.propagate,
                           "blend": opts.blend, "grow": opts.grow, "mask_ranged": mask_ranged}, 12)
    out = cand_dir / "carried" / f"{carry_key}.mkv"
    found = cache.load(out.with_suffix(".json"), {**_CARRIED, cache.FILES: {out.name: dict}},
                       frames=lambda p: len(frame_times(str(p), tools.ffmpeg)))
    if found is None:
        say(f"carrying {len(keys)} keyframes through {count} frames ({opts.propagate})")
        cache.folder(out.parent)
        picked = {k: candidates[k][chosen[k]] for k in keys}
        gains, jumps, _ = _write_patches(clip, out, info.fps, groups, picked, originals, regions, opts)
        cache.save(out.with_suffix(".json"), {"gains": gains, "jumps": jumps}, files={out.name: count})
    else:
        gains, jumps = found["gains"], found["jumps"]
    return Carried(clip, out, gains, _dropped(groups, jumps, opts, say), count, mask_ranged)


def effect(carried: Carried, info: VideoInfo, opts: Options) -> Windowed:
    """The render's effect with ``opts``' render-time values on ``carried`` patches."""
    return _effect(carried.clip, carried.patches, info, carried.gains, carried.drop, carried.count,
                   carried.mask_ranged, opts)


def _effect(clip: _Clip, patches_path: Path, info: VideoInfo, gains: list[float],
            drop: list[tuple[int, int]], count: int, mask_ranged: bool, opts: Options) -> Windowed:
    """The render's effect: the patches merged into the input through the mask, per segment.

    Frames dropped for interpolation are numbered in the whole range: ``--drop-bad`` renders in
    one pass (minterpolate needs the frames after each one), so only the gains are windowed.
    """
    first, _ = frame_range(info, opts.start, opts.duration)
    patches = aligned_input(str(patches_path), None, info, "patches", first)  # painted for the range
    region = aligned_input(clip.mask, None if mask_ranged else probe(clip.mask, clip.tools), info, "mask",
                           first if mask_ranged else 0)

    def apply(stream, gains: list[float] | None):
        return patch(stream, patches.video, region.video, grow=opts.grow, feather=opts.feather,
                     gains=gains, overlay_original=opts.overlay_original, drop=drop, fps=info.fps,
                     count=count)
    return per_frame(apply, gains=gains if needed(gains) else None)


def _group_stats(stats, groups, jumps) -> list[dict]:
    """Per group, inside the mask: mean frame-to-frame change (motion) and mean level (colour) of
    the carried patches against the original's, and whether the group jumps at its start."""
    out = []
    for g, (a, b) in enumerate(groups):
        rows = [r for r in stats if r[0] == g]
        moves = [r for r in rows if r[1] is not None]

        def mean(values):
            return float(np.mean(values)) if values else None
        out.append({"first": a, "last": b - 1, "motion_out": mean([r[1] for r in moves]),
                    "motion_in": mean([r[2] for r in moves]), "colour_out": mean([r[3] for r in rows]),
                    "colour_in": mean([r[4] for r in rows]), "jump": g in jumps})
    return out


def _sound_picture(path: Path) -> bool:
    """The cached candidate ``path`` is there and decodes; one that does not is damage (said on
    stderr, removed) and is painted again."""
    if not path.exists():
        return False
    if cv2.imread(str(path), cv2.IMREAD_REDUCED_GRAYSCALE_8) is None:
        cache.damaged(path)
        return False
    return True


def _picture(path: Path) -> np.ndarray:
    """The candidate ``path`` as RGB; one line when it cannot be read (removed meanwhile)."""
    image = cv2.imread(str(path))
    if image is None:
        raise FfvfxError(f"{path}: the cached candidate cannot be read; run again to paint it anew")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_picks(path: str, keys: list[int], count: int) -> dict[int, int]:
    data = _load(Path(path))
    if not isinstance(data, dict):
        raise FfvfxError(f"--picks {path}: not a JSON object like {{\"0\": 1, \"24\": 0}}")
    picks = {}
    for k in keys:
        value = data.get(str(k), 0)
        if not isinstance(value, int) or not 0 <= value < count:
            raise FfvfxError(f"--picks {path}: keyframe {k} takes a candidate 0..{count - 1}, got {value!r}")
        picks[k] = value
    return picks


def _review(work: Path, cand_dir: Path, keys, chosen, scores, opts: Options) -> None:
    """review.html: every keyframe's candidates, the pick marked; picks.json says how to change it."""
    shown = work / "candidates"
    shown.mkdir(exist_ok=True)
    rows = []
    for k in keys:
        cells = []
        for j in range(opts.candidates):
            name = f"key{k:05d}-c{j}.png"
            if (cand_dir / name).exists():
                shutil.copyfile(cand_dir / name, shown / name)
            src = html.escape(f"candidates/{name}")
            mark = " class=\"pick\"" if j == chosen[k] else ""
            cells.append(f"<figure{mark}><img src=\"{src}\" loading=\"lazy\"><figcaption>candidate {j}"
                         f"{' (picked)' if j == chosen[k] else ''}, score {scores[k][j]:.1f}"
                         "</figcaption></figure>")
        rows.append(f"<section><h2>keyframe {k}</h2>{''.join(cells)}</section>")
    page = ("<!doctype html><meta charset=\"utf-8\"><title>ffvfx inpaint review</title><style>"
            "body{font:14px sans-serif;background:#111;color:#ddd}figure{display:inline-block;margin:6px}"
            "img{max-width:360px;border:3px solid #333}.pick img{border-color:#3c3}</style>"
            f"<h1>{html.escape(opts.prompt)}</h1><p>Edit picks.json (keyframe: candidate) and rerun with "
            "--picks picks.json; no model runs.</p>" + "".join(rows))
    write_text(work / "review.html", page, overwrite=True)


def _contact(work: Path, keys, originals, candidates, chosen, width: int = 320) -> None:
    """contact.png: each keyframe's original beside its pick, one row per keyframe."""
    rows = []
    for k in keys:
        a, b = originals[k], candidates[k][chosen[k]]
        h = max(2, round(a.shape[0] * width / a.shape[1]))
        rows.append(np.hstack([cv2.resize(a, (width, h), interpolation=cv2.INTER_AREA),
                               cv2.resize(b, (width, h), interpolation=cv2.INTER_AREA)]))
    write_png(work / "contact.png", np.vstack(rows), overwrite=True)
