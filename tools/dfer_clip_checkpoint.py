#!/usr/bin/python3
"""Writes a DFER-CLIP checkpoint from a manifest and a seed, as the official main.py saves it; needs no official code.

    /usr/bin/python3 tools/dfer_clip_checkpoint.py <manifest.json> <out.pth>

Run with Debian's torch (apt-get install -y python3-torch; torch 1.13) and numpy. The manifest
(test/fixtures/dfer_clip/<case>/manifest.json, written by tools/record_dfer_clip.py from the official model) lists
the state dict's keys in order with shape and dtype, and for a key that shares its tensor with an earlier key (the
official GenerateModel holds the CLIP model twice, as image_encoder/text_encoder and as clip_model_) that key.

Every floating tensor is drawn from numpy's PCG64 with the manifest's seed, in manifest order, at a scale that keeps
every path alive: matrices and convolutions N(0, 1/fan_in), LayerNorm gains 1 + N(0, 0.2^2), biases N(0, 0.1^2),
the learned embeddings, class tokens, prompt contexts and token embeddings N(0, 0.5^2) (the learned part of the
text prompt and the positions must matter), the CLIP logit_scale log(1/0.07). A manifest may scale some keys
further ("scale": {key: factor}): small7 draws the image encoder's patch and position embeddings 50 times smaller,
so that the tokens entering ln_pre have a variance near 5e-4 and its epsilon matters.

The container is main.py's save_checkpoint: {'epoch', 'state_dict': the DataParallel state dict ('module.' keys,
shared tensors saved once), 'best_acc': a tensor, 'optimizer': SGD's state dict with main.py's three parameter
groups (temporal_net, image_encoder, prompt_learner) and momentum buffers for the smallest parameters of each,
'recorder': a RecorderMeter of this script's __main__ holding numpy arrays}.
"""
import math

import numpy as np
import torch

from zoo_checkpoint import RecorderMeter, arguments, numpy_generator, numpy_normal, optimizer_state, \
    random_state_dict, read_manifest, smallest

EMBEDDINGS = ("class_embedding", "positional_embedding", "cls_token", "pos_embedding", "prompt_learner.ctx",
              "token_prefix", "token_suffix", "token_embedding.weight")


def draw(key, shape, rng):
    """One tensor of the given key and shape at a scale fit for its role."""
    normal = rng.standard_normal(shape, dtype=np.float32) if shape else np.float32(rng.standard_normal())
    if key.endswith("logit_scale"):
        return np.full(shape, math.log(1 / 0.07), dtype=np.float32)
    if any(key.endswith(e) for e in EMBEDDINGS):
        return normal * np.float32(0.5)
    if len(shape) >= 2:
        fan_in = int(np.prod(shape[1:])) if not key.endswith(("proj", "text_projection")) else shape[0]
        return normal / np.float32(math.sqrt(fan_in))
    if key.endswith("weight"):  # LayerNorm gains
        return np.float32(1) + normal * np.float32(0.2)
    return normal * np.float32(0.1)


def sgd_state(sd):
    """SGD(momentum 0.9) over main.py's three groups, with momentum buffers for the two smallest tensors of each."""
    groups = [[k for k in sd if k.startswith("module." + part + ".")] for part in ("temporal_net", "image_encoder", "prompt_learner")]
    stepped, param_groups = [], []
    for lr, keys in zip((1e-2, 1e-5, 1e-3), groups):
        group = [torch.nn.Parameter(sd[k].clone()) for k in keys]
        stepped += smallest(group, 2)
        param_groups.append({"params": group, "lr": lr})
    optimizer = torch.optim.SGD(param_groups, lr=1e-2, momentum=0.9, weight_decay=1e-4)
    return optimizer_state(optimizer, stepped, numpy_normal(numpy_generator(1)))


def main(manifest_file, out):
    manifest = read_manifest(manifest_file)
    sd = random_state_dict(manifest, draw, numpy_generator(manifest["seed"]))
    recorder = RecorderMeter(50)
    recorder.update(0, 1.6, 38.5, 1.4, 45.25)
    recorder.update(1, 1.3, 52.0, 1.2, 55.75)
    torch.save({"epoch": 2, "state_dict": sd, "best_acc": torch.tensor([55.75]), "optimizer": sgd_state(sd),
                "recorder": recorder}, out)


if __name__ == "__main__":
    main(*arguments(__doc__, 2))
