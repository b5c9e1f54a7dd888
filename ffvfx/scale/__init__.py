"""Scale: a render split into segments side by side (:mod:`~ffvfx.scale.segments`), many files in
a batch (:mod:`~ffvfx.scale.batch`), Ray as the transport for both (:mod:`~ffvfx.scale.cluster`).

:func:`render` is what pipelines and the CLI call to render a job: one ffmpeg, or segments when the
job asks for ``--jobs``/``--ray``.
"""

from __future__ import annotations

from ffvfx.ffmpeg import render as one_pass
from ffvfx.ffmpeg.probe import VideoInfo
from ffvfx.ffmpeg.toolchain import Toolchain
from ffvfx.scale import segments


def render(job: one_pass.Job, tools: Toolchain, info: VideoInfo | None = None) -> VideoInfo | None:
    """Render ``job``: in segments side by side when it asks for ``jobs > 1`` or a Ray address,
    else in one pass. Returns the input info (probed here when not given)."""
    if job.jobs > 1 or job.ray:
        one_pass.check_container(job.output)
        return segments.render(job, tools, info)
    return one_pass.run(job, tools, info)
