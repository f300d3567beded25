#!/usr/bin/python3
"""Writes a Former-DFER checkpoint and the case's input from a manifest, as the official main_DFEW.py saves one.

    /usr/bin/python3 tools/make_former_dfer_checkpoint.py <manifest.json> <out.pth> [<input.npy>]

Needs only Debian's python3-torch (1.13) and numpy, not the official code. The manifest
(test/fixtures/former_dfer/<case>/manifest.json, written by tools/record_former_dfer.py from the official model)
lists the state dict's (key, shape, dtype) in order, the configuration, the seed and the input's shape. Every
floating tensor is drawn (torch.Generator, the manifest's seed, manifest order) at a scale that keeps every path
alive: convolutions and linear layers N(0, 1/fan_in), to_qkv twice that (attention that prefers some tokens),
batch norms with affine terms U(0.7, 1.3) and N(0, 0.1^2) and running statistics N(0, 0.1^2) and U(0.5, 1.5),
LayerNorm gains 1 + N(0, 0.2^2), biases N(0, 0.1^2), the class token and the positions N(0, 0.5^2) (the official
init is N(0, 1)); a manifest may scale some keys further ("scale": {key: factor}).

The container is main_DFEW.py's save_checkpoint: {'epoch', 'state_dict': the state dict of the model in
nn.DataParallel ('module.' keys), 'best_acc': a tensor, 'optimizer': SGD(lr 0.01, momentum 0.9, weight decay 1e-4)
over model.parameters() with StepLR's 'initial_lr' and momentum buffers for the eight smallest parameters,
'recorder': a RecorderMeter of __main__}.

The input (the third argument) is seeded too (the manifest's seed + 1): N(0, 1) noise with a contrast and a
brightness per frame and channel, so that the frames of a clip differ after the pooling.
"""
import math

import numpy as np
import torch

from zoo_checkpoint import RecorderMeter, arguments, optimizer_state, random_state_dict, read_manifest, smallest, \
    torch_generator, torch_normal, under_module

BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def draw(key, shape, generator):
    """One tensor of `shape` for the official key `key`, from `generator`."""
    def normal(std, mean=0.0):
        return torch.randn(shape, generator=generator) * std + mean

    name = key.rsplit(".", 1)[-1]
    if name == "running_mean":
        return normal(0.1)
    if name == "running_var":
        return torch.rand(shape, generator=generator) + 0.5
    if name in ("cls_token", "pos_embedding"):
        return normal(0.5)
    if len(shape) == 1:
        if name == "bias":
            return normal(0.1)
        if ".norm." in key:  # PreNorm's LayerNorm
            return normal(0.2, 1.0)
        return torch.rand(shape, generator=generator) * 0.6 + 0.7  # batch norm
    fan_in = math.prod(shape[1:])
    return normal((2.0 if name == "weight" and ".to_qkv." in key else 1.0) / math.sqrt(fan_in))


def batches_tracked(key, index):
    return torch.tensor(1000 + index, dtype=torch.int64)


def video(manifest):
    """The case's input [B, 16, 3, 112, 112]: noise with a contrast and a brightness per frame and channel."""
    generator = torch_generator(manifest["seed"] + 1)
    shape = manifest["input_shape"]
    contrast = torch.rand(shape[:2] + [1, 1, 1], generator=generator) * 1.5 + 0.5
    brightness = torch.randn(shape[:3] + [1, 1], generator=generator)
    return torch.randn(shape, generator=generator) * contrast + brightness


def main(manifest_file, out, input_file=None):
    manifest = read_manifest(manifest_file)
    weights = random_state_dict(manifest, draw, torch_generator(manifest["seed"]), integer=batches_tracked)
    params = [v.clone().requires_grad_(True) for k, v in weights.items() if not k.endswith(BUFFERS)]
    optimizer = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
    for group in optimizer.param_groups:
        group["initial_lr"] = 0.01  # set by StepLR(optimizer, step_size=40, gamma=0.1)
    state = optimizer_state(optimizer, smallest(params, 8), torch_normal(torch_generator(manifest["seed"] + 2)))
    recorder = RecorderMeter(100)
    recorder.update(0, 1.7, 30.5, 1.6, 36.25)
    recorder.update(1, 1.5, 41.0, 1.4, 44.5)
    torch.save({"epoch": 2, "state_dict": under_module(weights), "best_acc": torch.tensor([44.5]),
                "optimizer": state, "recorder": recorder}, out)
    if input_file is not None:
        np.save(input_file, video(manifest).numpy())


if __name__ == "__main__":
    main(*arguments(__doc__, 2, optional=1))
