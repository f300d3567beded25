#!/usr/bin/python3
"""Writes the fixtures of test/lang/lstm-layers.test.ts into test/fixtures/lstm/.

Run once from the repository root with Debian's python3-torch (1.13); nothing is downloaded:
    /usr/bin/python3 tools/make_lstm_fixtures.py

- lstm.pth: the state dict of two torch.nn.LSTMs past the old 2-layer limit of std/nn.net's LSTM:
  `deep` = LSTM(3, 5, num_layers=3, bidirectional=True) and `tall` = LSTM(3, 4, num_layers=4, batch_first=True),
  with torch's default (seeded) initialisation.
- lstm_x.npy: a sequence-first input [T=6, N=2, 3].
- lstm_deep_y.npy: deep(x)[0], [6, 2, 10]; lstm_tall_y.npy: tall(x.transpose(0, 1))[0], [2, 6, 4].
"""
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "lstm")


class Pair(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.deep = torch.nn.LSTM(3, 5, num_layers=3, bidirectional=True)
        self.tall = torch.nn.LSTM(3, 4, num_layers=4, batch_first=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20240701)
    model = Pair().eval()
    x = torch.randn(6, 2, 3)
    with torch.no_grad():
        deep_y = model.deep(x)[0]
        tall_y = model.tall(x.transpose(0, 1).contiguous())[0]
    torch.save(model.state_dict(), os.path.join(OUT, "lstm.pth"))
    np.save(os.path.join(OUT, "lstm_x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(OUT, "lstm_deep_y.npy"), deep_y.numpy().astype(np.float32))
    np.save(os.path.join(OUT, "lstm_tall_y.npy"), tall_y.numpy().astype(np.float32))
    print(f"wrote {len(model.state_dict())} weights and 3 arrays to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
