"""Analysis stages: read video frame-accurately through ffmpeg, compute, write side files."""

from ffvfx.stages.analysis.camera import CameraPath, cached_path, measure_path

__all__ = ["CameraPath", "cached_path", "measure_path"]
