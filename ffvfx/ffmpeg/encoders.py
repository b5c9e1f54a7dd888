"""Encoder options: one quality knob (``--crf``/``--qp``) and ``--preset`` mapped to each encoder.

Software: libx264/libx265 take ``-crf``/``-qp`` as they are (crf 18 by default); libvpx-vp9 needs
``-b:v 0`` for constant quality (crf 32 by default). Hardware encoders have no CRF, so:

- NVENC (``*_nvenc``): ``--qp N`` is ``-rc constqp -qp N``; ``--crf N`` (default 18) is constant
  quality in VBR mode, ``-rc vbr -cq N -b:v 0``; presets ``p1`` (fastest) .. ``p7`` (best), the x264
  names mapped onto them (``medium`` = ``p4``), and whatever else this ffmpeg lists (5.1: hp, hq).
- VAAPI (``*_vaapi``): ``-rc_mode CQP -qp N`` for both (ICQ is not in every driver); no presets.
- QSV (``*_qsv``): ``--qp N`` is ``-q:v N`` (CQP), ``--crf N`` is ``-global_quality N`` (ICQ);
  presets veryfast .. veryslow, ``p1`` .. ``p7`` mapped onto them.
"""

from __future__ import annotations

from collections.abc import Collection

from ffvfx.compiler.numbers import decimal
from ffvfx.errors import FfvfxError

DEFAULT_CRF = 18

X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                "veryslow", "placebo")
"""The presets libx264 and libx265 take, fastest first."""
_X264_TO_NVENC = {"ultrafast": "p1", "superfast": "p1", "veryfast": "p2", "faster": "p3",
                  "fast": "p3", "medium": "p4", "slow": "p5", "slower": "p6", "veryslow": "p7",
                  "placebo": "p7"}
_QSV_PRESETS = ("veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
_TO_QSV = {"ultrafast": "veryfast", "superfast": "veryfast", "placebo": "veryslow",
           **{f"p{i + 1}": name for i, name in enumerate(_QSV_PRESETS)}}


def family(encoder: str) -> str:
    """``nvenc``, ``vaapi``, ``qsv``, ``vp9``, ``x26x`` or ``other``: whose options ``encoder`` takes."""
    for suffix in ("nvenc", "vaapi", "qsv"):
        if encoder.endswith("_" + suffix):
            return suffix
    if encoder == "libvpx-vp9":
        return "vp9"
    if encoder in ("libx264", "libx265"):
        return "x26x"
    return "other"


def quality_args(encoder: str, crf: float | None = None, qp: int | None = None,
                 preset: str | None = None, presets: Collection[str] = ()) -> list[str]:
    """``-c:v ENCODER`` and its quality and preset options; ``presets``: what this ffmpeg's
    ``-h encoder=ENCODER`` lists (hardware encoders), to refuse an unknown preset in one line."""
    kind = family(encoder)
    args = ["-c:v", encoder]
    if kind == "vp9":  # constant quality needs -b:v 0; row-mt uses every core
        args += ["-crf", decimal(32 if crf is None else crf), "-b:v", "0", "-row-mt", "1"]
    elif kind == "nvenc":
        args += (["-rc", "constqp", "-qp", str(qp)] if qp is not None
                 else ["-rc", "vbr", "-cq", decimal(DEFAULT_CRF if crf is None else crf), "-b:v", "0"])
    elif kind == "vaapi":
        args += ["-rc_mode", "CQP", "-qp", str(qp if qp is not None else round(
            DEFAULT_CRF if crf is None else crf))]
    elif kind == "qsv":
        args += (["-q:v", str(qp)] if qp is not None
                 else ["-global_quality", f"{round(DEFAULT_CRF if crf is None else crf)}"])
    elif qp is not None:
        args += ["-qp", str(qp)]
    elif crf is not None or kind == "x26x":
        args += ["-crf", decimal(DEFAULT_CRF if crf is None else crf)]
    if preset:
        args += ["-preset", _preset(encoder, kind, preset, presets)]
    return args


def check_preset(encoder: str, preset: str) -> None:
    """Refuse, in one line listing the valid ones, a ``--preset`` that ``encoder`` does not take,
    where that is known without asking ffmpeg: x264/x265 names, none for VP9 and VAAPI. NVENC and
    QSV presets depend on the ffmpeg build and are checked against its list (:func:`quality_args`)."""
    kind = family(encoder)
    if kind == "vaapi":
        raise FfvfxError(f"{encoder} has no presets (speed and quality are the driver's); drop --preset")
    if kind == "vp9":
        raise FfvfxError(f"--preset {preset}: {encoder} has no presets (its speed is set by its "
                         "-deadline and -cpu-used); drop --preset")
    if kind == "x26x" and preset not in X264_PRESETS:
        raise FfvfxError(f"--preset {preset}: {encoder} knows {', '.join(X264_PRESETS)}")


def _preset(encoder: str, kind: str, preset: str, presets: Collection[str]) -> str:
    if kind in ("vaapi", "vp9", "x26x"):
        check_preset(encoder, preset)
        return preset
    if kind == "nvenc":
        name = _X264_TO_NVENC.get(preset, preset)
    elif kind == "qsv":
        name = _TO_QSV.get(preset, preset)
    else:
        return preset
    if presets and name not in presets:
        raise FfvfxError(f"--preset {preset}: {encoder} knows {', '.join(sorted(presets))} "
                         f"(and the x264 names{' mapped onto p1..p7' if kind == 'nvenc' else ''})")
    return name
