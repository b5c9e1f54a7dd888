"""Python stages that read video, compute and write side files the graph reads: analysis
(camera, masks, loops, plates, alphas, exposure, keyframes, flow), matting, diffusion, the demo."""
