"""The filtergraph compiler: graph IR, escaping, numbers as ffmpeg reads them, the timing chain,
ffmpeg-python interop and memory estimates. Pure: no subprocess, no numpy, nothing of effects."""
