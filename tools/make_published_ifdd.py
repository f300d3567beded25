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

import numpy
import torch

from zoo_checkpoint import RecorderMeter, arguments, optimizer_state, smallest, torch_generator, torch_normal, \
    under_module


def main(src, out):
    checkpoint = torch.load(src, map_location="cpu")
    weights = checkpoint["model"]
    params = [v.clone().requires_grad_(True) for v in weights.values() if v.is_floating_point()]
    optimizer = torch.optim.SGD(params, lr=0.0, momentum=0.9, weight_decay=1e-4)
    state = optimizer_state(optimizer, smallest(params, 8), torch_normal(torch_generator(0)))

    recorder = RecorderMeter(100)
    recorder.update(0, 1.9, 21.5, 1.8, 25.25)
    recorder.update(1, 1.7, 30.0, 1.6, 33.5)
    args = argparse.Namespace(data_set=1, epochs=100, batch_size=32, lr=0.01, momentum=0.9, weight_decay=1e-4,
                              workers=8, print_freq=10, resume=None, gpu=[0, 1])
    torch.save({"epoch": 2, "state_dict": under_module(weights), "best_acc": numpy.float64(33.5),
                "optimizer": state, "recorder": recorder, "args": args}, out)


if __name__ == "__main__":
    main(*arguments(__doc__, 2))
