"""VA-API (Intel, AMD on Linux): decode to VAAPI surfaces, ``hwdownload``/``hwupload``, ``*_vaapi``.

The device is a DRM render node (``--hw vaapi:/dev/dri/renderD129``; the first one found by
default), created once with ``-init_hw_device vaapi=va:NODE`` and shared by the decoder, the
upload (``-filter_hw_device va``) and the encoder. VAAPI encoders take NV12 surfaces only.
"""

from __future__ import annotations

import glob

from ffvfx.ffmpeg.targets.target import Target


def render_nodes() -> list[str]:
    """DRM render nodes on this machine, in order (``/dev/dri/renderD128`` ...)."""
    return sorted(glob.glob("/dev/dri/renderD*"))


class Vaapi(Target):
    name = "vaapi"
    title = "VA-API"
    hwaccel = "vaapi"
    codecs = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg2video", "vc1", "mjpeg"})
    encoders = {"h264": "h264_vaapi", "hevc": "hevc_vaapi", "av1": "av1_vaapi", "vp9": "vp9_vaapi"}
    scale_filter = "scale_vaapi"

    def default_device(self):
        nodes = render_nodes()
        return nodes[0] if nodes else "/dev/dri/renderD128"

    def global_args(self, device):
        return ["-init_hw_device", f"vaapi=va:{device or self.default_device()}",
                "-filter_hw_device", "va"]

    def input_args(self, device, codec):
        return ["-hwaccel", "vaapi", "-hwaccel_device", "va", "-hwaccel_output_format", "vaapi"]

    def upload(self, device):
        return [("format", ["nv12"], {}), ("hwupload", [], {})]


VAAPI = Vaapi()
