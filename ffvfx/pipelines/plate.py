"""``ffvfx plate``: a clean background plate of a clip as a PNG, the subject taken out: the per-pixel
median of the background over sampled frames (the alpha given, or computed with the default person
model for ``auto``), or ffmpeg's temporal median with no alpha."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ffvfx.errors import FfvfxError
from ffvfx.ffmpeg import sources
from ffvfx.ffmpeg.outputs import check_output
from ffvfx.ffmpeg.probe import VideoInfo, probe
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.pipelines import demo
from ffvfx.pipelines.delivery import Say, silent
from ffvfx.stages.analysis import plate as plate_analysis
from ffvfx.stages.analysis.alpha import check_alpha
from ffvfx.stages.matting import model as matting
from ffvfx.stages.matting.stream import write_matte


@dataclass(frozen=True)
class PlateOptions:
    """How the plate is made (fractions 0..1, frames, px, seconds)."""

    threshold: float = 0.1          # background where the alpha is below this fraction of full
    samples: int = 32               # frames sampled evenly over the clip
    inpaint: str = "telea"          # OpenCV inpainting of pixels never seen uncovered
    inpaint_radius: float = 5.0     # px
    start: float | None = None
    duration: float | None = None
    overwrite: bool = False
    quiet: bool = False


def write_plate(spec: str, alpha: str | None, output: str, tools: Toolchain, opts: PlateOptions, *,
                say: Say = silent) -> Path:
    """The plate of INPUT ``spec`` into ``output`` (.png): with ``alpha`` (a matte, or ``auto``) the
    median of the background, without it the temporal median; the share of pixels never uncovered
    is said. Returns the plate's path."""
    src = demo.resolve(spec)
    if src.device:
        raise FfvfxError("ffvfx plate reads a file; record the camera first")
    out = Path(output)
    if out.suffix.lower() != ".png":
        raise FfvfxError(f"{output}: the plate is a PNG image; give an output ending in .png")
    check_output(out, [src.path, alpha], opts.overwrite)
    info = probe(src.path, tools)
    span = dict(start=opts.start, duration=opts.duration)
    if alpha is None:
        result = plate_analysis.tmedian_plate(src.path, str(out), tools, info, samples=opts.samples,
                                              overwrite=opts.overwrite, **span)
    else:
        plate_analysis.check_options(samples=opts.samples, threshold=opts.threshold,
                                     inpaint=opts.inpaint, radius=opts.inpaint_radius)
        result = _median_plate(src.path, alpha, out, tools, info, opts, say)
    say(plate_analysis.say_uncovered(result, opts.inpaint, opts.inpaint_radius))
    return out


def _median_plate(src: str, alpha: str, out: Path, tools: Toolchain, info: VideoInfo, opts: PlateOptions,
                  say: Say):
    """The median of the background where ``alpha`` (a file, or ``auto``: computed for the range
    with the default person model) is below the threshold."""
    span = dict(start=opts.start, duration=opts.duration)
    with tempfile.TemporaryDirectory(prefix="ffvfx-plate-") as tmp:
        auto = sources.keyword(alpha, "auto") is not None  # a file named auto is that file
        seeked = not auto  # the alpha covers the whole input: seek it like the input
        if auto:
            model = matting.build(matting.DEFAULT_MODEL, matting.ModelOptions(), info)
            say(f"computing the alpha with {matting.DEFAULT_MODEL}"
                + (f" ({model.licence})" if model.licence else ""))
            alpha = str(Path(tmp) / "alpha.mkv")
            write_matte(src, tools, model, alpha, quiet=opts.quiet, info=info, **span)
        else:
            seeked = not check_alpha(alpha, info, tools, **span)
        return plate_analysis.median_plate(src, alpha, str(out), tools, info, alpha_ranged=seeked,
                                           overwrite=opts.overwrite, samples=opts.samples,
                                           threshold=opts.threshold, inpaint=opts.inpaint,
                                           radius=opts.inpaint_radius, **span)
