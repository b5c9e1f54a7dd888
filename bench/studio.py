"""Studio benchmark: ``bin/bench studio`` times the two phases of ``ffvfx studio`` on this machine.

1. Render: the studio graph (3 depth layers moving with the demo's camera, exposure curve, subject
   over them through its alpha) on the 1080p demo scene, end to end through ``render.run`` into
   libx264 crf 18, against a plain transcode of the same clip. The layers are made from the demo's
   own background without a model: the render does not depend on what the picture shows.
2. Generation: one denoising step of full-size SD 1.5 inpainting + depth ControlNet (the real
   architectures from their default configs, random weights: the same arithmetic as the real
   weights) at 512x512 with classifier-free guidance (batch 2), fp32 on the CPU, and Depth
   Anything V2 Small's architecture on one 518 px frame.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from ffvfx.ffmpeg import toolchain
from ffvfx.ffmpeg.probe import probe


def render_phase(clip: str, tmp: str, tools) -> tuple[float, float, int]:
    """(studio render fps, plain transcode fps, frames) for ``clip``."""
    import cv2

    from bench.bench import measure, plain_row
    from ffvfx.compiler.graph import Input
    from ffvfx.effects.composite import over
    from ffvfx.effects.parallax import Layer, needed_margin, parallax
    from ffvfx.ffmpeg.render import Encoding, Job, run
    from ffvfx.ffmpeg.sources import Source
    from ffvfx.stages.analysis import camera, exposure

    info = probe(clip, tools)
    alpha = str(Path(clip).with_name(Path(clip).stem + ".alpha.mkv"))
    path = camera.cached_path(clip, tools)
    light = exposure.analyse(clip, alpha, tools, (info.width, info.height))
    margin = needed_margin(path.offsets, 1.0) + 8
    w, h = info.width + 2 * margin, info.height + 2 * margin
    rng = np.random.default_rng(0)
    rgb = cv2.resize((rng.random((h // 8, w // 8, 3)) * 255).astype(np.uint8), (w, h))
    depth = np.linspace(0, 1, h, dtype=np.float32)[:, None].repeat(w, 1)
    layers = []
    for k, cut in enumerate((0.0, 0.4, 0.7)):
        name = f"{tmp}/layer-{k}.png"
        a = np.full((h, w), 255, np.uint8) if k == 0 else np.where(depth >= cut, 255, 0).astype(np.uint8)
        cv2.imwrite(name, cv2.cvtColor(np.dstack([rgb, a]) if k else rgb,
                                       cv2.COLOR_RGBA2BGRA if k else cv2.COLOR_RGB2BGR))
        layers.append(Layer(name, (cut + 1) / 2))
    side = Input(alpha, label="alpha")

    def effect(stream):
        bg = parallax(layers, path.offsets, size=(info.width, info.height), margin=margin,
                      fps=Fraction(info.fps), depth_scale=0.3, gains=light.gains)
        return over(stream, side.video, bg)

    began = time.perf_counter()
    run(Job(Source(clip), f"{tmp}/studio.mp4", effect, Encoding(), audio=False, quiet=True), tools, info)
    studio_s = time.perf_counter() - began
    plain = plain_row(clip, tmp, tools, info.frames)
    plain_s = measure(plain.argv).wall
    return info.frames / studio_s, info.frames / plain_s, info.frames


def generation_step(size: int = 512) -> dict[str, float]:
    """Seconds for one SD 1.5 inpaint + ControlNet step (CFG) and one Depth Anything pass."""
    import torch
    from diffusers import ControlNetModel, UNet2DConditionModel
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=64, in_channels=9, out_channels=4, cross_attention_dim=768,
                                attention_head_dim=8).eval()
    net = ControlNetModel(in_channels=4, cross_attention_dim=768, attention_head_dim=8).eval()
    lat = size // 8
    x, masked = torch.randn(2, 4, lat, lat), torch.randn(2, 5, lat, lat)
    text, cond = torch.randn(2, 77, 768), torch.rand(2, 3, size, size)
    t = torch.tensor([500])
    with torch.inference_mode():
        def step():
            down, mid = net(x, t, encoder_hidden_states=text, controlnet_cond=cond, return_dict=False)
            unet(torch.cat([x, masked], 1), t, encoder_hidden_states=text,
                 down_block_additional_residuals=down, mid_block_additional_residual=mid)
        step()  # warm-up
        began = time.perf_counter()
        step()
        step_s = time.perf_counter() - began
    backbone = Dinov2Config(hidden_size=384, num_hidden_layers=12, num_attention_heads=6, image_size=518,
                            patch_size=14, out_features=["stage3", "stage6", "stage9", "stage12"],
                            reshape_hidden_states=False)
    model = DepthAnythingForDepthEstimation(DepthAnythingConfig(
        backbone_config=backbone, neck_hidden_sizes=[48, 96, 192, 384], fusion_hidden_size=64)).eval()
    with torch.inference_mode():
        pixels = torch.rand(1, 3, 518, 518)
        model(pixel_values=pixels)
        began = time.perf_counter()
        model(pixel_values=pixels)
        depth_s = time.perf_counter() - began
    return {"step_s": step_s, "depth_s": depth_s, "threads": torch.get_num_threads()}


def bench_studio(args: argparse.Namespace) -> int:
    from bench.bench import demo_clip, machine
    tools = toolchain.find()
    clip = args.input or demo_clip(args.size, args.seconds, tools)
    mach = machine(tools)
    with tempfile.TemporaryDirectory(prefix="ffvfx-bench-studio-") as tmp:
        print("bench studio: render phase ...", file=sys.stderr, flush=True)
        studio_fps, plain_fps, frames = render_phase(clip, tmp, tools)
    print(f"Machine: {mach['cpu']}, {mach['cores']} cores; ffmpeg {mach['ffmpeg']}\n")
    print("| phase | measure | value |\n|---|---|---:|")
    print(f"| render ({args.size}, {frames} frames, 3 layers, exposure, libx264 crf 18) | fps | "
          f"{studio_fps:.1f} |")
    print(f"| plain transcode of the same clip | fps | {plain_fps:.1f} |")
    print(f"| render / plain | ratio | {studio_fps / plain_fps:.2f}x |")
    if not args.no_generation:
        print("bench studio: one SD 1.5 + ControlNet step at 512 px (random weights) ...",
              file=sys.stderr, flush=True)
        g = generation_step()
        print(f"| SD 1.5 inpaint + ControlNet depth, 512x512, CFG, fp32 CPU ({g['threads']} threads) "
              f"| s/step | {g['step_s']:.1f} |")
        print(f"| the same x 28 steps (--steps 30 --strength 0.95) | s | {28 * g['step_s']:.0f} |")
        print(f"| Depth Anything V2 Small, 518 px, fp32 CPU | s | {g['depth_s']:.2f} |")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("studio", help="ffvfx studio: render fps at 1080p and generation s/step on the CPU")
    p.add_argument("--size", default="1920x1080", help="demo clip size (default 1920x1080)")
    p.add_argument("--seconds", type=float, default=10.0, help="demo clip length (default 10)")
    p.add_argument("--input", help="a clip with IN.alpha.mkv beside it instead of the demo")
    p.add_argument("--no-generation", action="store_true", help="skip the SD step timing")
