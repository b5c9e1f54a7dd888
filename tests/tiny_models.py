"""Tiny random-weight models, built and saved locally, loaded by ffvfx through its real code path.

No download: the configs follow diffusers' and transformers' own test configs (UNet/ControlNet/VAE
with 32/64 channels, a 2-layer CLIP text model, a 2-layer Dinov2 Depth Anything at 56 px). The
tokenizer is built here from a byte-level vocabulary with no merges (loading a tiny tokenizer by
hub name is slow and broken offline). Each builder writes a ``save_pretrained`` folder.
"""

from __future__ import annotations

from pathlib import Path

TEXT_DIM = 32


def _byte_chars() -> list[str]:
    """CLIP's byte-to-unicode table (the characters its BPE vocabulary is made of)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def tokenizer():
    from transformers import CLIPTokenizer
    chars = _byte_chars()
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in chars:
        vocab.setdefault(c, len(vocab))
        vocab.setdefault(c + "</w>", len(vocab))
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77, pad_token="<|endoftext|>")


def text_encoder(vocab_size: int):
    import torch
    from transformers import CLIPTextConfig, CLIPTextModel
    torch.manual_seed(0)
    return CLIPTextModel(CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1,
                                        hidden_size=TEXT_DIM, intermediate_size=37,
                                        num_attention_heads=4, num_hidden_layers=2,
                                        vocab_size=vocab_size, projection_dim=TEXT_DIM))


def sd_inpaint(folder: str | Path) -> Path:
    """A tiny SD 1.5-style inpainting pipeline (UNet with 9 input channels)."""
    import torch
    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel
    torch.manual_seed(0)
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=2, sample_size=32,
                                in_channels=9, out_channels=4,
                                down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                                cross_attention_dim=TEXT_DIM)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2,
                        up_block_types=["UpDecoderBlock2D"] * 2, latent_channels=4)
    tok = tokenizer()
    pipe = StableDiffusionInpaintPipeline(vae=vae, text_encoder=text_encoder(len(tok)), tokenizer=tok,
                                          unet=unet, scheduler=PNDMScheduler(skip_prk_steps=True),
                                          safety_checker=None, feature_extractor=None,
                                          requires_safety_checker=False)
    pipe.save_pretrained(folder)
    return Path(folder)


def controlnet(folder: str | Path) -> Path:
    """A tiny depth ControlNet matching :func:`sd_inpaint`'s UNet."""
    import torch
    from diffusers import ControlNetModel
    torch.manual_seed(0)
    net = ControlNetModel(block_out_channels=(32, 64), layers_per_block=2, in_channels=4,
                          down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                          cross_attention_dim=TEXT_DIM, conditioning_embedding_out_channels=(16, 32))
    net.save_pretrained(folder)
    return Path(folder)


def depth_anything(folder: str | Path) -> Path:
    """A tiny Depth Anything (2-layer Dinov2 backbone, 56 px) with its image processor."""
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config
    try:
        from transformers import DPTImageProcessorPil as Processor
    except ImportError:
        from transformers import DPTImageProcessor as Processor
    torch.manual_seed(0)
    backbone = Dinov2Config(hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=32, image_size=56, patch_size=14,
                            out_features=["stage1", "stage2"], reshape_hidden_states=False)
    config = DepthAnythingConfig(backbone_config=backbone, reassemble_hidden_size=16,
                                 neck_hidden_sizes=[8, 16], fusion_hidden_size=16,
                                 head_hidden_size=8, patch_size=14)
    DepthAnythingForDepthEstimation(config).eval().save_pretrained(folder)
    Processor(size={"height": 56, "width": 56}, keep_aspect_ratio=False, ensure_multiple_of=14,
              do_pad=False).save_pretrained(folder)
    return Path(folder)
