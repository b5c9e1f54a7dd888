"""Matting: a Python stage that turns a video into an alpha (and foreground) video.

Frames stream from an ffmpeg rawvideo pipe through a model in batches into an ffmpeg encoder pipe
(:mod:`ffvfx.stages.matting.stream`), so memory stays flat whatever the length. One file per model;
:mod:`ffvfx.stages.matting.model` is the interface and the registry.
"""
