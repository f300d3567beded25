#!/usr/bin/python3
"""Writes the small fixtures of test/models/s2d.test.ts and test/lang/stdlib.test.ts into test/fixtures/s2d/.

Run once from the repository root with Debian's python3-torch (1.13); nothing is downloaded:
    /usr/bin/python3 tools/make_s2d_fixtures.py

- pretrained_small.pth: a checkpoint in the layout of S2D's *pretrained static image model* (the file
  run_class_finetuning.py gets as --finetune, read by model_finetuning._create_vision_transformer), at a tiny size
  (embed_dim 32, depth 2, 2 heads, 56x56 images of 4x4 patches, so the token grid is still 14x14). The layout is
  what that loader implies (no file of it is available): the image ViT with its MCPs but without the video parts
  (no TMA, no temporal_embedding), its final LayerNorm named `norm`, a timm classifier `head` for AffectNet's 7
  classes, and the landmark net inside it under keys containing 'landmark', in {'epoch', 'model'}.
- bn_prelu.pth, bn_prelu_x.npy, bn_prelu_y.npy, bn_prelu_z.npy: y = PReLU(C)(BatchNorm2d(x)) and
  z = PReLU()(BatchNorm1d(mean of y over H, W)) in eval mode with non-trivial running statistics (stdlib blocks).
"""
import collections
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "s2d")


def pretrained_small():
    g = torch.Generator().manual_seed(20240614)

    def t(*shape, scale=0.1):
        return (torch.randn(*shape, generator=g) * scale).float()

    d, depth, patch, hidden, classes = 32, 2, 4, 8, 7
    sd = collections.OrderedDict()
    sd["cls_token"] = t(1, 1, d)
    sd["pos_embed"] = t(1, 197, d)
    sd["patch_embed.proj.weight"] = t(d, 3, patch, patch)
    sd["patch_embed.proj.bias"] = t(d)
    sd["patch_embed_prompt.proj.weight"] = t(d, 128, 1, 1)
    sd["patch_embed_prompt.proj.bias"] = t(d)
    for i in range(depth):
        p = f"prompt_blocks.{i}."
        sd[p + "conv0_0.weight"], sd[p + "conv0_0.bias"] = t(hidden, d, 1, 1), t(hidden)
        sd[p + "conv0_1.weight"], sd[p + "conv0_1.bias"] = t(hidden, d, 1, 1), t(hidden)
        sd[p + "conv1x1.weight"], sd[p + "conv1x1.bias"] = t(d, hidden, 1, 1), t(d)
        sd[p + "fovea.smooth"] = torch.tensor([10.0]) + t(1)
    for i in range(depth):
        sd[f"prompt_norms.{i}.weight"], sd[f"prompt_norms.{i}.bias"] = 1 + t(d), t(d)
    for i in range(depth):
        p = f"blocks.{i}."
        sd[p + "norm1.weight"], sd[p + "norm1.bias"] = 1 + t(d), t(d)
        sd[p + "attn.qkv.weight"], sd[p + "attn.qkv.bias"] = t(3 * d, d), t(3 * d)
        sd[p + "attn.proj.weight"], sd[p + "attn.proj.bias"] = t(d, d), t(d)
        sd[p + "norm2.weight"], sd[p + "norm2.bias"] = 1 + t(d), t(d)
        sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"] = t(4 * d, d), t(4 * d)
        sd[p + "mlp.fc2.weight"], sd[p + "mlp.fc2.bias"] = t(d, 4 * d), t(d)
    sd["norm.weight"], sd["norm.bias"] = 1 + t(d), t(d)
    sd["head.weight"], sd["head.bias"] = t(classes, d), t(classes)
    # The landmark net the static model carried (only its first block here: the loader drops all of it).
    for name, shape in [("conv.weight", (64, 3, 3, 3)), ("bn.weight", (64,)), ("bn.bias", (64,)), ("bn.running_mean", (64,)),
                        ("bn.running_var", (64,)), ("prelu.weight", (64,))]:
        sd[f"landmark.backbone.conv1.{name}"] = t(*shape)
    sd["landmark.backbone.conv1.bn.num_batches_tracked"] = torch.tensor(1000)
    torch.save({"epoch": 19, "model": sd}, os.path.join(OUT, "pretrained_small.pth"))


def bn_prelu():
    torch.manual_seed(20240615)
    c = 3
    m = torch.nn.ModuleDict({"bn2d": torch.nn.BatchNorm2d(c), "act2d": torch.nn.PReLU(c), "bn1d": torch.nn.BatchNorm1d(c), "act1d": torch.nn.PReLU()})
    with torch.no_grad():
        for bn in (m["bn2d"], m["bn1d"]):
            n = bn.num_features
            bn.weight.copy_(1 + 0.3 * torch.randn(n))
            bn.bias.copy_(0.3 * torch.randn(n))
            bn.running_mean.copy_(torch.randn(n))
            bn.running_var.copy_(0.2 + torch.rand(n) * 2)
            bn.num_batches_tracked.fill_(57)
        m["act2d"].weight.copy_(torch.tensor([0.1, -0.4, 0.7]))
        m["act1d"].weight.fill_(0.3)
    m.eval()
    x = torch.randn(2, c, 5, 4)
    with torch.no_grad():
        y = m["act2d"](m["bn2d"](x))
        z = m["act1d"](m["bn1d"](y.mean((2, 3))))
    torch.save(m.state_dict(), os.path.join(OUT, "bn_prelu.pth"))
    for name, v in [("x", x), ("y", y), ("z", z)]:
        np.save(os.path.join(OUT, f"bn_prelu_{name}.npy"), v.numpy())


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    pretrained_small()
    bn_prelu()
