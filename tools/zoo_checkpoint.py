"""What the zoo's checkpoint generators share: a manifest of (key, shape, dtype) rows and a seed become a state dict
of deterministic random tensors, saved in the container an official training script writes.

Imported by tools/make_*_checkpoint.py, tools/dfer_clip_checkpoint.py and tools/make_published_ifdd.py (Debian's
python3-torch, torch 1.13, and numpy; no official code). Each generator keeps its own `draw` (the scale of each
tensor is a choice about that model) and its own container; this module holds the rest:
  - `manifest_rows`: the manifest layouts the recorders write, as (key, shape, dtype, same_as) rows;
  - `random_state_dict`: every floating tensor drawn in manifest order, shared tensors aliased, integer counters
    given by the caller, optional per-key scale factors;
  - `optimizer_state`: an optimizer's state dict after one step with the learning rate held at 0 (state, no update);
  - `RecorderMeter`: the training-curve object the published DFER scripts (Former-DFER, DFER-CLIP, ...) define in
    their main script and save in the checkpoint, pickled as `__main__.RecorderMeter` as theirs is.
"""
import collections
import json
import sys

import numpy as np
import torch


def read_manifest(path):
    with open(path) as f:
        return json.load(f)


def manifest_rows(manifest):
    """(key, shape tuple, dtype, key of the tensor it shares or None) in manifest order, for either layout: a
    `tensors` or `state_dict` list of {"key", "shape", "dtype"[, "same_as"]} objects, or of [key, shape, dtype[,
    same_as]] lists."""
    rows = manifest["tensors"] if "tensors" in manifest else manifest["state_dict"]
    for row in rows:
        if isinstance(row, dict):
            yield row["key"], tuple(row["shape"]), row["dtype"], row.get("same_as")
        else:
            yield row[0], tuple(row[1]), row[2], row[3] if len(row) > 3 else None


def torch_generator(seed):
    return torch.Generator().manual_seed(seed)


def numpy_generator(seed):
    return np.random.Generator(np.random.PCG64(seed))


def random_state_dict(manifest, draw, rng, integer=None):
    """The state dict the manifest lists: `draw(key, shape, rng)` gives each floating tensor (a torch tensor, or a
    numpy array drawn from a numpy generator), multiplied by the manifest's `scale` factor for its key if it has
    one; a row naming an earlier key holds that key's tensor; `integer(key, index)` gives integer tensors (index:
    the row's position), and without it an integer row is an error."""
    factors = manifest.get("scale")
    weights = collections.OrderedDict()
    for key, shape, dtype, same_as in manifest_rows(manifest):
        if same_as is not None:
            weights[key] = weights[same_as]
            continue
        if not dtype.startswith("float"):
            if integer is None:
                raise SystemExit(f"{key}: only floating tensors are expected, the manifest says {dtype}")
            weights[key] = integer(key, len(weights))
            continue
        value = draw(key, shape, rng)
        if isinstance(value, (np.ndarray, np.generic)):
            if factors is not None:
                value = value * np.float32(factors.get(key, 1))
            value = torch.from_numpy(np.ascontiguousarray(value))
        elif factors is not None and key in factors:
            value = value * factors[key]
        weights[key] = value.to(getattr(torch, dtype))
    return weights


def under_module(weights):
    """The state dict of the model wrapped in nn.DataParallel: every key under 'module.'."""
    return collections.OrderedDict(("module." + k, v) for k, v in weights.items())


def smallest(params, count):
    """The `count` parameters with the fewest elements (stable: ties in the given order)."""
    return sorted(params, key=lambda p: p.numel())[:count]


def optimizer_state(optimizer, stepped, gradient):
    """`optimizer`'s state dict after one step in which the parameters `stepped` (in this order) got the gradients
    `gradient(shape)`; the learning rates are 0 during the step and restored after it, so the state (momentum
    buffers, moments) is that of a real step and the parameters do not move."""
    for p in stepped:
        p.grad = gradient(tuple(p.shape))
    rates = [group["lr"] for group in optimizer.param_groups]
    for group in optimizer.param_groups:
        group["lr"] = 0.0
    optimizer.step()
    for group, rate in zip(optimizer.param_groups, rates):
        group["lr"] = rate
    return optimizer.state_dict()


def torch_normal(generator):
    """A gradient source for optimizer_state: N(0, 1) from a torch generator."""
    return lambda shape: torch.randn(shape, generator=generator)


def numpy_normal(rng):
    """A gradient source for optimizer_state: N(0, 1) float32 from a numpy generator."""
    return lambda shape: torch.from_numpy(rng.standard_normal(shape, dtype=np.float32))


class RecorderMeter(object):
    """Computes and stores the minimum loss value and its epoch index (the published scripts' class)."""

    def __init__(self, total_epoch):
        self.total_epoch = total_epoch
        self.current_epoch = 0
        self.epoch_losses = np.zeros((total_epoch, 2), dtype=np.float32)  # [epoch, train/val]
        self.epoch_accuracy = np.zeros((total_epoch, 2), dtype=np.float32)

    def update(self, idx, train_loss, train_acc, val_loss, val_acc):
        self.epoch_losses[idx, 0] = train_loss * 50
        self.epoch_losses[idx, 1] = val_loss * 50
        self.epoch_accuracy[idx, 0] = train_acc
        self.epoch_accuracy[idx, 1] = val_acc
        self.current_epoch = idx + 1


# The official scripts define it in the script they run, so their checkpoints name it __main__.RecorderMeter; a
# generator that imports it from here binds it in its own __main__, where pickle finds it under that name.
RecorderMeter.__module__ = "__main__"


def arguments(doc, count, optional=0):
    """The command line's `count` arguments (and up to `optional` more), or the usage (the generator's docstring)
    and exit."""
    if not count + 1 <= len(sys.argv) <= count + optional + 1:
        sys.exit(doc)
    return sys.argv[1:]
