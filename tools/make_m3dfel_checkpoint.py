#!/usr/bin/python3
"""Writes a deterministic M3DFEL checkpoint from a manifest, the way the official training script saves one.

    /usr/bin/python3 tools/make_m3dfel_checkpoint.py <manifest.json> <seed> <out.pth>

Needs only torch and numpy (Debian's python3-torch), not the official code. The manifest lists the official
state_dict's (key, shape, dtype) and the configuration (test/fixtures/m3dfel/<case>/manifest.json, recorded by
tools/record_m3dfel.py). Every floating tensor is drawn at a scale that keeps each path alive: convolutions at
1/sqrt(fan_in), batch norms with non-trivial affine terms and running statistics, the BiLSTM and attention strong
enough to be non-uniform, DMIN's mixing weights away from one half. Around the weights, what Tencent/TFace
attribute/M3DFEL/solver.py saves: {'epoch', 'state_dict', 'best_wa', 'best_ua', 'optimizer', 'args'}, the model
in nn.DataParallel (the default gpu_ids '0,1,2,3'), so every key is under 'module.'; an AdamW state (for the eight
smallest parameters, to stay small) and an argparse.Namespace of the official options.
"""
import argparse
import math

import torch

from zoo_checkpoint import arguments, optimizer_state, random_state_dict, read_manifest, smallest, torch_generator, \
    torch_normal, under_module


def draw(key, shape, generator):
    """One tensor of `shape` for the official key `key`, from `generator`."""
    def normal(std, mean=0.0):
        return torch.randn(shape, generator=generator) * std + mean

    def uniform(low, high):
        return torch.rand(shape, generator=generator) * (high - low) + low

    name = key.rsplit(".", 1)[-1]
    if name == "running_mean":
        return normal(0.1)
    if name == "running_var":
        return uniform(0.5, 1.5)
    if key.startswith("norm."):  # DMIN
        if name == "weight":
            return uniform(0.5, 1.5)
        if name == "bias":
            return normal(0.2)
        return normal(1.0)  # mean_weight, var_weight: softmax-mixed, so any spread matters
    if key.startswith("lstm."):
        return normal(0.15)
    if len(shape) == 1:  # batch-norm affine terms and biases
        return uniform(0.7, 1.3) if name == "weight" else normal(0.1)
    fan_in = math.prod(shape[1:])
    if key.startswith("to_qkv."):
        return normal(8.0 / math.sqrt(fan_in))  # peaked attention, not a uniform average
    if key.startswith("fc."):
        return normal(4.0 / math.sqrt(fan_in))  # logits of order one
    return normal(1.0 / math.sqrt(fan_in))


def batches_tracked(key, index):
    return torch.tensor(1000 + index, dtype=torch.int64)


def main(manifest_file, seed, out):
    manifest = read_manifest(manifest_file)
    weights = random_state_dict(manifest, draw, torch_generator(seed), integer=batches_tracked)

    config = manifest["config"]
    args = argparse.Namespace(mode="train", dataset="DFEW", gpu_ids=[0, 1, 2, 3], resume=None, start_epoch=0, fold="1",
                              seed=42, data_root="/dockerdata/", workers=16, epochs=300, batch_size=256,
                              num_classes=config["num_classes"], num_frames=config["num_frames"],
                              instance_length=config["instance_length"], crop_size=config["crop_size"], model="r3d",
                              label_smoothing=0.1, random_sample=True, color_jitter=0.4, optimizer="AdamW", lr=5e-4,
                              momentum=0.9, weight_decay=0.05, eps=1e-8, lr_scheduler="cosine", warmup_epochs=20,
                              min_lr=5e-6, warmup_lr=0, name="DFEW-[01-01]-[00:00]",
                              output_path="outputs/DFEW-[01-01]-[00:00]/")
    params = [v.clone().requires_grad_(True) for v in weights.values() if v.is_floating_point()]
    optimizer = torch.optim.AdamW(params, lr=0.0, eps=args.eps, weight_decay=args.weight_decay)
    state = optimizer_state(optimizer, smallest(params, 8), torch_normal(torch_generator(seed + 1)))
    torch.save({"epoch": 41, "state_dict": under_module(weights), "best_wa": 0.5625, "best_ua": 0.4375,
                "optimizer": state, "args": args}, out)


if __name__ == "__main__":
    manifest_file, seed, out = arguments(__doc__, 3)
    main(manifest_file, int(seed), out)
