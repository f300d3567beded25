#!/usr/bin/python3
"""Writes a MAE-DFER fine-tuned checkpoint with deterministic random weights, from a manifest alone.

    /usr/bin/python3 tools/make_mae_dfer_checkpoint.py <manifest.json> <out.pth>

Needs only Debian's python3-torch (1.13), not the official code. The manifest (test/fixtures/mae_dfer/*/manifest.json,
written by tools/record_mae_dfer.py) lists the state dict as [key, shape, dtype] rows in the official order, with a
fourth field naming an earlier key where the official module is shared (LGBlock's parameter sharing: one tensor
under two names), and the seed. Every floating tensor is drawn at a scale that keeps activations near 1 through
the blocks, none of them zero or one, so that every path (biases, q/v biases, norms, region tokens) shows:
  - LayerNorm weights (`norm` in the key, rank 1, `.weight`): 1 + 0.2 N(0, 1); other vectors: 0.2 N(0, 1);
  - lg_region_tokens: 0.02 N(0, 1), the official init's scale (trunc_normal_ std .02), small next to the patch
    tokens, so that LayerNorm's epsilon shows in the region tokens' rows (1e-6 against 1e-5 moves them by about 2%);
  - a learnable pos_embed: 0.5 N(0, 1);
  - other tensors: N(0, 1) / sqrt(fan-in) (fan-in: the product of all dims but the first).
It is saved as run_class_finetuning.py's utils.save_model saves it: torch.save of {'model': state_dict,
'optimizer': AdamW state_dict (after one step, layer-decay parameter groups as optim_factory names them),
'epoch', 'scaler': the CUDA GradScaler state, 'args': the argparse.Namespace of the fine-tuning run}.
"""
import argparse
import collections
import math

import torch

from zoo_checkpoint import arguments, optimizer_state, random_state_dict, read_manifest, torch_generator, torch_normal


def draw(key, shape, generator):
    """One tensor of the given shape at the scale the docstring gives for its key."""
    noise = torch.randn(shape, generator=generator, dtype=torch.float32)
    if len(shape) == 1:
        is_norm_weight = "norm" in key and key.endswith(".weight")
        return 1 + 0.2 * noise if is_norm_weight else 0.2 * noise
    if key == "lg_region_tokens":
        return 0.02 * noise
    if key == "pos_embed":
        return 0.5 * noise
    fan_in = math.prod(shape[1:])
    return noise / math.sqrt(fan_in)


def layer_id(name, depth):
    """The layer-decay layer of a parameter as the fine-tuning script numbers them: 0 for the embeddings, i + 1 for
    block i, depth + 1 for the rest (lg_region_tokens included)."""
    if name in ("cls_token", "mask_token", "pos_embed") or name.startswith("patch_embed"):
        return 0
    if name.startswith("blocks."):
        return int(name.split(".")[1]) + 1
    return depth + 1


def adamw_state(weights, config, generator):
    """AdamW after one step, in the official parameter groups (layer_<id>_<decay|no_decay>, weight_decay, lr_scale)."""
    depth, layer_decay, weight_decay = config["depth"], 0.75, 0.05
    groups, seen = collections.OrderedDict(), set()
    for name, tensor in weights.items():
        if id(tensor) in seen:  # named_parameters() gives a shared module once
            continue
        seen.add(id(tensor))
        no_decay = tensor.dim() == 1 or name.endswith(".bias") or name in ("pos_embed", "lg_region_tokens")
        lid = layer_id(name, depth)
        group = groups.setdefault(f"layer_{lid}_{'no_decay' if no_decay else 'decay'}", {
            "weight_decay": 0.0 if no_decay else weight_decay, "params": [], "lr_scale": layer_decay ** (depth + 1 - lid)})
        group["params"].append(tensor.clone().requires_grad_(True))
    optimizer = torch.optim.AdamW(list(groups.values()), lr=1e-3 * 96 / 256, betas=(0.9, 0.999), eps=1e-8)
    stepped = [p for group in optimizer.param_groups for p in group["params"]]
    return optimizer_state(optimizer, stepped, torch_normal(generator))


def fine_tuning_args(config):
    """The argparse.Namespace a fine-tuning run saves (the values of scripts/dfew/finetune_*.sh, sizes from config)."""
    return argparse.Namespace(
        model="vit_base_dim512_no_depth_patch16_160", depth=config["depth"], data_set="DFEW", nb_classes=config["num_classes"],
        input_size=config["img_size"], num_frames=config["all_frames"], tubelet_size=config["tubelet_size"], sampling_rate=4,
        opt="adamw", lr=1e-3 * 96 / 256, opt_betas=[0.9, 0.999], weight_decay=0.05, layer_decay=0.75, epochs=100,
        attn_type=config["attn_type"], lg_region_size=list(config["lg_region_size"]),
        lg_classify_token_type=config["lg_classify_token_type"], test_num_segment=2, test_num_crop=2, model_ema=False,
        use_mean_pooling=config["use_mean_pooling"], init_scale=0.001, drop_path=0.1, output_dir="./saved/model/finetuning",
    )


def main(manifest_path, out):
    manifest = read_manifest(manifest_path)
    weights = random_state_dict(manifest, draw, torch_generator(manifest["seed"]))
    generator = torch_generator(manifest["seed"] + 1)
    scaler = {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000, "_growth_tracker": 0}
    torch.save({
        "model": weights,
        "optimizer": adamw_state(weights, manifest["config"], generator),
        "epoch": 99,
        "scaler": scaler,
        "args": fine_tuning_args(manifest["config"]),
    }, out)


if __name__ == "__main__":
    main(*arguments(__doc__, 2))
