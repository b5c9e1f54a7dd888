"""The render target interface (:class:`Target`) and the CPU, the target every render can use.
Each GPU target (``cuda.py``, ``vaapi.py``, ``qsv.py``) subclasses it with its ffmpeg names."""

from __future__ import annotations

from ffvfx.ffmpeg.probe import VideoInfo


class Target:
    """A place to run the graph; subclasses name the ffmpeg options and filters of one API."""

    name = "cpu"
    title = "CPU"
    hwaccel: str | None = None                 # ffmpeg -hwaccel name
    codecs: frozenset[str] = frozenset()       # codecs its decoder takes
    encoders: dict[str, str] = {}              # codec family -> encoder (h264 first: the default)
    scale_filter: str | None = None            # its scaler, the twin of a plain ``scale=w:h``

    def default_device(self) -> str | None:
        """The device used when ``--hw NAME`` names none (a GPU index, a render node)."""
        return None

    def global_args(self, device: str | None) -> list[str]:
        """Options before every input: device creation (``-init_hw_device``)."""
        return []

    def input_args(self, device: str | None, codec: str | None) -> list[str]:
        """Options before the main input's ``-i`` that decode it to device frames."""
        return []

    def upload(self, device: str | None) -> list[tuple[str, list, dict]]:
        """Filters (name, args, options) that move system-memory frames to the device."""
        return []

    def gpu_twin(self, name: str, opts: dict) -> tuple[str, dict] | None:
        """The device filter doing exactly what CPU filter ``name`` with ``opts`` does, if any."""
        if name == "scale" and self.scale_filter and set(opts) == {"w", "h"}:
            return self.scale_filter, dict(opts)
        return None

    def decoder_problem(self, info: VideoInfo, decoders: frozenset[str]) -> str | None:
        """Why this target's decoder cannot take ``info`` (None: it can); checks the stream only."""
        if info.codec not in self.codecs:
            return f"{info.codec or 'this codec'} is not decoded by {self.title}"
        return None

    def encoder_for(self, kind: str) -> str | None:
        return self.encoders.get(kind)

    def filters(self) -> set[str]:
        """The filters its download/upload use (checked against the installed ffmpeg)."""
        return {name for name, _, _ in self.upload(None)} | ({"hwdownload"} if self.hwaccel else set())


CPU = Target()
