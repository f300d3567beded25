#!/usr/bin/python3
"""Records the official MAE-DFER outputs that test/models/mae_dfer.test.ts holds models/mae_dfer.net to.

    PYTHONPATH=<timm> /usr/bin/python3 tools/record_mae_dfer.py <official checkout> [--full <scratch dir>]

<official checkout>: github sunlicai/MAE-DFER (80b651d), kept outside this repository; its modeling_finetune.py needs
einops and three timm helpers (drop_path, to_2tuple, trunc_normal_, register_model; docs/zoo.md). For each reduced
configuration below, the official VisionTransformer is built with the arguments run_class_finetuning.py passes
(LayerNorm eps 1e-6, qkv_bias and mlp_ratio 4 as its registered vit_base_dim512_no_depth_patch16_160 sets them), and
test/fixtures/mae_dfer/<name>/ gets: manifest.json (the state dict's keys, shapes and dtypes, the seed and the
configuration), the checkpoint's official outputs on input.npy (logits, feature, the embedded tokens, each block's
output). The checkpoint is made by tools/make_mae_dfer_checkpoint.py from the manifest alone, loaded the way the
official evaluation loads it (model.load_state_dict(checkpoint['model']), strict), and run in eval mode.
--full also runs the full configuration (16 frames, 160x160, depth 16) once for 7 classes (DFEW, FERV39k) and once for
11 (MAFW): the checkpoints and outputs go to <scratch>/classes7 and <scratch>/classes11, not into the repository.
"""
import argparse
import json
import os
import sys
import tempfile
from functools import partial

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "mae_dfer")
sys.path.insert(0, HERE)
import make_mae_dfer_checkpoint  # noqa: E402

# The reduced token grid (frames 8 / tubelet 2, 48 / 8 patches a side) splits into 2 x 2 x 3 regions of 2 x 3 x 2
# tokens: every axis of the region rearrangement has its own size. Batch 2, so the (b n) grouping shows.
SMALL = dict(img_size=48, patch_size=8, embed_dim=32, depth=2, num_heads=4, all_frames=8, tubelet_size=2,
             num_classes=7, lg_region_size=[2, 3, 2])
CONFIGS = {
    # The official fine-tuning configuration at a reduced size.
    "small": dict(SMALL),
    # Every LGBlock option the other way: region token reads its region, shared attention, self-attention to finish,
    # all tokens classified through the class-token path with a learnable position embedding and a tanh head.
    "alternative": dict(SMALL, num_classes=11, lg_first_attn_type="cross", lg_third_attn_type="self",
                        lg_attn_param_sharing_all=True, lg_classify_token_type="all", use_mean_pooling=False,
                        use_learnable_pos_emb=True, head_activation_func="tanh", qk_scale=0.2),
    # No global attention (the third reads the region tokens as the first left them), first and third shared.
    "no-second": dict(SMALL, lg_no_second=True, lg_attn_param_sharing_first_third=True, lg_classify_token_type="org"),
    # No interaction step (the region tokens then only gather), a sigmoid head.
    "no-third": dict(SMALL, lg_no_third=True, head_activation_func="sigmoid"),
    # The plain ViT branch, with layer scale and frame-level outputs.
    "joint": dict(SMALL, attn_type="joint", init_values=0.1, keep_temporal_dim=True),
}
FULL = dict(img_size=160, patch_size=16, embed_dim=512, depth=16, num_heads=8, all_frames=16, tubelet_size=2,
            num_classes=7, lg_region_size=[2, 5, 10])
ARGS_DEFAULTS = dict(attn_type="local_global", lg_classify_token_type="region", use_mean_pooling=True)
SEED = 20230702


def build(modeling, config):
    kwargs = dict(config)
    kwargs.update(drop_rate=0.0, drop_path_rate=0.1, attn_drop_rate=0.0, init_scale=0.001)
    kwargs.setdefault("attn_type", "local_global")
    kwargs.setdefault("lg_classify_token_type", "region")  # the fine-tuning scripts' --lg_classify_token_type
    return modeling.VisionTransformer(mlp_ratio=4, qkv_bias=True, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), **kwargs)


def manifest_of(model, config):
    rows, first_name = [], {}
    for key, tensor in model.state_dict(keep_vars=True).items():
        row = [key, list(tensor.shape), str(tensor.dtype).replace("torch.", "")]
        if id(tensor) in first_name:
            row.append(first_name[id(tensor)])
        else:
            first_name[id(tensor)] = key
        rows.append(row)
    return {"model": "MAE-DFER fine-tuned VisionTransformer (github sunlicai/MAE-DFER, modeling_finetune.py)",
            "seed": SEED, "config": {**ARGS_DEFAULTS, **config}, "state_dict": rows}


def record(modeling, config, folder, video, scratch):
    model = build(modeling, config)
    manifest = manifest_of(model, config)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    checkpoint_path = os.path.join(scratch, "checkpoint.pth")
    make_mae_dfer_checkpoint.main(os.path.join(folder, "manifest.json"), checkpoint_path)
    checkpoint = torch.load(checkpoint_path, map_location="cpu")
    model.load_state_dict(checkpoint["model"])
    model.eval()

    outputs = {}
    model.pos_drop.register_forward_hook(lambda m, i, o: outputs.__setitem__("embedded", o.clone()))
    for i, block in enumerate(model.blocks):
        block.register_forward_hook(lambda m, i_, o, i=i: outputs.__setitem__(f"block{i}_out", o.clone()))
    with torch.no_grad():
        logits, feature = model(torch.from_numpy(video), save_feature=True)
    outputs.update(logits=logits, feature=feature)
    for name, value in outputs.items():
        np.save(os.path.join(folder, f"{name}.npy"), np.ascontiguousarray(value.numpy()))
    return outputs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("official")
    parser.add_argument("--full", help="scratch folder for the full configuration's checkpoint and outputs")
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.official))
    import modeling_finetune  # noqa: E402  (the official code)

    video = torch.randn(2, 3, 8, 48, 48, generator=torch.Generator().manual_seed(SEED)).numpy()
    os.makedirs(OUT, exist_ok=True)
    np.save(os.path.join(OUT, "input.npy"), video)
    with tempfile.TemporaryDirectory() as scratch:
        for name, config in CONFIGS.items():
            out = record(modeling_finetune, config, os.path.join(OUT, name), video, scratch)
            print(name, "logits", out["logits"].shape, float(out["logits"].abs().max()))
    if args.full:
        clip = torch.randn(1, 3, 16, 160, 160, generator=torch.Generator().manual_seed(SEED)).numpy()
        np.save(os.path.join(args.full, "input.npy"), clip)
        for classes in (7, 11):
            folder = os.path.join(args.full, f"classes{classes}")
            out = record(modeling_finetune, dict(FULL, num_classes=classes), folder, clip, folder)
            print(f"full, {classes} classes: logits", out["logits"].numpy())


if __name__ == "__main__":
    main()
