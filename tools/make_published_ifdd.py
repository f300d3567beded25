#!/usr/bin/python3
"""Re-saves the IFDD fixture checkpoint the way published DFER training scripts save theirs.

    /usr/bin/python3 tools/make_published_ifdd.py <ifdd_dfew_random.pth> <out.pth>

Run with Debian's torch (apt-get install -y python3-torch; torch 1.13). The weights are the fixture's, unchanged;
around them, what a script such as Former-DFER's main.py writes with
torch.save({'epoch', 'state_dict', 'best_acc', 'optimizer', 'recorder', 'args'}):
  - 'state_dict': the state_dict of an nn.DataParallel, every key under 'module.';
  - 'best_acc': a numpy float64 scalar;
  - 'optimizer': an SGD state_dict with momentum buffers (for the eight smallest parameters, to stay small);
  - 'recorder': a RecorderMeter, a class of this script's __main__, holding numpy arrays;
  - 'args': an argparse.Namespace.
test/models/ifdd-published.test.ts runs it into a temporary folder and checks the official logits.
"""
import argparse
import collections
import sys

import numpy
import torch


class RecorderMeter:
    """Computes and stores the minimum loss value and its epoch index (as the published scripts define it)."""

    def __init__(self, total_epoch):
        self.total_epoch = total_epoch
        self.current_epoch = 0
        self.epoch_losses = numpy.zeros((total_epoch, 2), dtype=numpy.float32)  # [epoch, train/val]
        self.epoch_accuracy = numpy.zeros((total_epoch, 2), dtype=numpy.float32)

    def update(self, idx, train_loss, train_acc, val_loss, val_acc):
        self.epoch_losses[idx, 0] = train_loss * 50
        self.epoch_losses[idx, 1] = val_loss * 50
        self.epoch_accuracy[idx, 0] = train_acc
        self.epoch_accuracy[idx, 1] = val_acc
        self.current_epoch = idx + 1


def main(src, out):
    checkpoint = torch.load(src, map_location="cpu")
    weights = checkpoint["model"]
    state_dict = collections.OrderedDict(("module." + k, v) for k, v in weights.items())

    params = [v.clone().requires_grad_(True) for v in weights.values() if v.is_floating_point()]
    optimizer = torch.optim.SGD(params, lr=0.0, momentum=0.9, weight_decay=1e-4)  # lr 0: buffers, no update
    generator = torch.Generator().manual_seed(0)
    for p in sorted(params, key=lambda p: p.numel())[:8]:
        p.grad = torch.randn(p.shape, generator=generator)
    optimizer.step()

    recorder = RecorderMeter(100)
    recorder.update(0, 1.9, 21.5, 1.8, 25.25)
    recorder.update(1, 1.7, 30.0, 1.6, 33.5)
    args = argparse.Namespace(data_set=1, epochs=100, batch_size=32, lr=0.01, momentum=0.9, weight_decay=1e-4,
                              workers=8, print_freq=10, resume=None, gpu=[0, 1])
    torch.save({"epoch": 2, "state_dict": state_dict, "best_acc": numpy.float64(33.5),
                "optimizer": optimizer.state_dict(), "recorder": recorder, "args": args}, out)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
