#!/usr/bin/python3
"""Writes the .npy files in test/fixtures/npy with numpy itself, plus manifest.json with their contents.

Run once from the repository root: /usr/bin/python3 tools/gen_npy_fixtures.py
"""
import json
import os

import numpy as np
from numpy.lib import format as npformat

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "npy")


def save(name, arr, version=None):
    with open(os.path.join(OUT, name), "wb") as f:
        npformat.write_array(f, arr, version=version)


def main():
    os.makedirs(OUT, exist_ok=True)
    good = {
        "f4_2x3.npy": (np.arange(6, dtype=np.float32).reshape(2, 3) / 7, None),
        "f8_scalar.npy": (np.array(np.pi), None),
        "i8.npy": (np.array([-(2**62), -1, 0, 2**53 + 1], dtype=np.int64), None),
        "i4.npy": (np.array([[-5, 7]], dtype=np.int32), None),
        "b1.npy": (np.array([True, False, True]), None),
        "u1.npy": (np.array([0, 128, 255], dtype=np.uint8), None),
        "f2.npy": (np.array([1.0, -0.5, 65504.0, 0.1], dtype=np.float16), None),
        "empty_0x3.npy": (np.zeros((0, 3), dtype=np.float32), None),
        "v2.npy": (np.arange(4, dtype=np.float32), (2, 0)),
        "v3.npy": (np.arange(3, dtype=np.int64), (3, 0)),
    }
    manifest = {}
    for name, (arr, version) in good.items():
        save(name, arr, version)
        data = arr.view(np.uint16) if arr.dtype == np.float16 else arr
        # int64 values go as strings: JSON numbers lose precision beyond 2^53.
        as_json = str if arr.dtype == np.int64 else int if arr.dtype.kind in "iub" or arr.dtype == np.float16 else float
        manifest[name] = {"shape": list(arr.shape), "data": [as_json(v) for v in data.flat]}
    bad = {
        "big_endian.npy": np.arange(3, dtype=">f4"),
        "fortran_2x3.npy": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "complex.npy": np.arange(2, dtype=np.complex64),
    }
    for name, arr in bad.items():
        save(name, arr)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "tools/gen_npy_fixtures.py", "good": manifest, "bad": list(bad)}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
