"""Same pixels on a GPU: every effect rendered with ``--hw cuda`` matches ``--hw cpu``.

These run only where a CUDA device opens (``ffvfx doctor`` says so); elsewhere they skip, and the
lowered graphs are covered by ``test_targets.py``. Both renders use a high constant quality
(``--qp 12``: libx264 on the CPU, NVENC constqp on the GPU), so the comparison measures the graph,
not the encoders: decoded frames must agree at PSNR >= 35 dB, frame for frame in count.
"""

from __future__ import annotations

import pytest

from bench.hw import EFFECTS
from ffvfx.ffmpeg.targets import probe as hw_probe
from ffvfx.ffmpeg.targets.cuda import CUDA


@pytest.fixture(scope="module")
def cuda(tools):
    problem = hw_probe.device_problem(tools, CUDA, None)
    if problem:
        pytest.skip(f"no CUDA device: {problem}")
    return hw_probe.encoder_problem(tools, CUDA, None, "h264_nvenc")  # None: NVENC works


@pytest.fixture(scope="module")
def scene(tmp_path_factory, ffvfx_cmd, cuda):
    d = tmp_path_factory.mktemp("gpu")
    res = ffvfx_cmd("demo", str(d / "scene.mp4"), "--seconds", "2", "--size", "640x360")
    assert res.returncode == 0, res.stderr
    return d / "scene.mp4"


@pytest.mark.parametrize("effect", sorted(EFFECTS))
def test_gpu_output_matches_cpu(ffvfx_cmd, media, scene, cuda, effect):
    alpha = scene.with_name("scene.alpha.mkv")
    args = [a.format(clip=scene, alpha=alpha) for a in EFFECTS[effect]]
    cpu, gpu = scene.with_name(f"{effect}-cpu.mp4"), scene.with_name(f"{effect}-gpu.mp4")
    extra = [] if cuda is None else ["--encoder", "libx264"]  # a GPU without NVENC: NVDEC only
    for out, hw in ((cpu, "cpu"), (gpu, "cuda")):
        res = ffvfx_cmd(*args, str(out), "--hw", hw, "--qp", "12", "-y",
                        *(extra if hw == "cuda" else []))
        assert res.returncode == 0, res.stderr
        assert hw == "cpu" or "decoding on the CPU" not in res.stderr, res.stderr
    a, b = media.decode(cpu), media.decode(gpu)
    assert len(a) == len(b) == 60
    assert media.psnr(a, b) >= 35


def test_auto_picks_cuda(ffvfx_cmd, scene, cuda, tmp_path):
    res = ffvfx_cmd("motion", str(scene), str(tmp_path / "auto.mp4"), "--hw", "auto")
    assert res.returncode == 0, res.stderr
    assert "--hw auto: cuda (cuda decode" in res.stderr
