"""Intel Quick Sync: the ``*_qsv`` decoders to QSV surfaces, ``hwdownload``/``hwupload``, ``*_qsv``.

One device, ``-init_hw_device qsv=qs:hw`` (``--hw qsv:/dev/dri/renderD129`` picks the render node
through ``child_device``), shared by the decoder, the upload and the encoder. The upload asks for
extra surfaces: the QSV encoder holds several frames in flight.
"""

from __future__ import annotations

from ffvfx.ffmpeg.targets.target import Target


class Qsv(Target):
    name = "qsv"
    title = "Intel QSV"
    hwaccel = "qsv"
    codecs = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg2video", "vc1", "mjpeg"})
    encoders = {"h264": "h264_qsv", "hevc": "hevc_qsv", "av1": "av1_qsv", "vp9": "vp9_qsv"}
    scale_filter = "scale_qsv"

    def global_args(self, device):
        spec = "qsv=qs:hw" + (f",child_device={device}" if device else "")
        return ["-init_hw_device", spec, "-filter_hw_device", "qs"]

    def input_args(self, device, codec):
        return ["-hwaccel", "qsv", "-hwaccel_device", "qs", "-hwaccel_output_format", "qsv",
                "-c:v", f"{codec or 'h264'}_qsv"]

    def upload(self, device):
        return [("format", ["nv12"], {}), ("hwupload", [], {"extra_hw_frames": 64})]

    def decoder_problem(self, info, decoders):
        if f"{info.codec}_qsv" not in decoders:
            return f"this ffmpeg has no {info.codec}_qsv decoder"
        return None


QSV = Qsv()
