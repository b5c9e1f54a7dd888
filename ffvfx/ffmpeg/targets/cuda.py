"""NVIDIA: NVDEC decode to CUDA frames, ``hwdownload``/``hwupload_cuda``, NVENC encode.

Frames go up as NV12, NVENC's own layout (an RGB graph output would otherwise be uploaded as
4:4:4 and encoded in a profile few players take).

``-hwaccel cuda -hwaccel_output_format cuda`` keeps decoded frames in GPU memory; ``scale`` next to
the decoder or the encoder becomes ``scale_cuda``. ``overlay_cuda`` is not used: it blends in YUV
with the alpha taken at chroma resolution, while ffvfx composites in planar RGB (see
:mod:`ffvfx.effects.composite`), so it is not the same picture. The device is a GPU index
(``--hw cuda:1``).
"""

from __future__ import annotations

from ffvfx.ffmpeg.targets.target import Target

# scale's flags -> scale_cuda's interp_algo (area and the others have no CUDA kernel)
_INTERP = {"neighbor": "nearest", "bilinear": "bilinear", "bicubic": "bicubic", "lanczos": "lanczos"}


class Cuda(Target):
    name = "cuda"
    title = "CUDA (NVDEC/NVENC)"
    hwaccel = "cuda"
    codecs = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg1video", "mpeg2video", "mpeg4",
                        "vc1", "mjpeg"})
    encoders = {"h264": "h264_nvenc", "hevc": "hevc_nvenc", "av1": "av1_nvenc"}

    def input_args(self, device, codec):
        return ["-hwaccel", "cuda"] + (["-hwaccel_device", device] if device else []) \
            + ["-hwaccel_output_format", "cuda"]

    def upload(self, device):
        return [("format", ["nv12"], {}), ("hwupload_cuda", [], {"device": int(device)} if device else {})]

    def gpu_twin(self, name, opts):
        if name != "scale" or not set(opts) <= {"w", "h", "flags"} or not {"w", "h"} <= set(opts):
            return None
        twin = {"w": opts["w"], "h": opts["h"]}
        if "flags" in opts:
            if opts["flags"] not in _INTERP:
                return None
            twin["interp_algo"] = _INTERP[opts["flags"]]
        return "scale_cuda", twin


CUDA = Cuda()
