#!/usr/bin/python3
"""Writes test/fixtures/docs/weights-example.pth, the checkpoint that docs/weights.md's `weights { }` example maps
(checked by test/docs/examples.test.ts).

Run once from the repository root with Debian's python3-torch (1.13); nothing is downloaded:
    /usr/bin/python3 tools/make_docs_weights_fixture.py

The layout is the one each rule of the example is for: a DataParallel state dict (`module.` prefix) saved as
{'epoch', 'state_dict'}, an `encoder` renamed to `backbone`, timm-style `blocks.N.ln_M` norms, a head stored
transposed, a `cls_token` with extra axes, int32 indices, a packed `attn.in_proj_weight`, a distillation head the
model does not have, and a patch embedding of another size (8 x 3 where the model declares 8 x 6).
"""
import collections
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "docs", "weights-example.pth")


def main():
    g = torch.Generator().manual_seed(20261206)

    def t(*shape):
        return torch.randn(*shape, generator=g).float()

    sd = collections.OrderedDict()
    sd["encoder.proj.weight"] = t(8, 8)
    sd["encoder.proj.bias"] = t(8)
    for i in range(2):
        for n in (1, 2):
            sd[f"blocks.{i}.ln_{n}.weight"] = t(8)
            sd[f"blocks.{i}.ln_{n}.bias"] = t(8)
    sd["head.weight"] = t(8, 3)  # [in, out]: the model's Linear(8, 3) wants [3, 8]
    sd["head.bias"] = t(3)
    sd["cls_token"] = t(1, 1, 8)
    sd["index_even"] = torch.tensor([0, 2, 4, 6], dtype=torch.int32)
    sd["attn.in_proj_weight"] = t(24, 8)
    sd["head_dist.weight"] = t(3, 8)
    sd["patch_embed.proj.weight"] = t(8, 3)
    state = collections.OrderedDict((f"module.{k}", v) for k, v in sd.items())
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    torch.save({"epoch": 3, "state_dict": state}, OUT)


if __name__ == "__main__":
    main()
