#!/usr/bin/python3
"""Writes the tiny checkpoints of the command-line diagnostic cases into test/diagnostics/commands/files/.

Run with Debian's torch (apt-get install -y python3-torch; torch 1.13):
    /usr/bin/python3 tools/make_diagnostic_fixtures.py

tiny.pth is a good state dict for the mapping cases; the others are damaged in one precise way each. Legacy
files are written by hand with fixed storage keys (torch names them by memory address), so reruns give the
same bytes.
"""
import os
import pickle
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "diagnostics", "commands", "files")
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
SYS_INFO = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}


def path(name):
    return os.path.join(OUT, name)


def tiny_state_dict():
    return {"fc.weight": torch.arange(12, dtype=torch.float32).reshape(3, 4), "fc.bias": torch.ones(3)}


class Storage:
    def __init__(self, key, values):
        self.key, self.values = key, values


def rebuild_tensor(storage, offset, shape, stride):
    return torch._utils._rebuild_tensor_v2(storage, offset, shape, stride, False, {})


class LegacyPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", len(obj.values), None)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, LegacyTensor):
            return torch._utils._rebuild_tensor_v2, (obj.storage, 0, obj.shape, obj.stride, False, {})
        return NotImplemented


class LegacyTensor:
    def __init__(self, storage, shape, stride):
        self.storage, self.shape, self.stride = storage, shape, stride


def legacy_headers():
    return b"".join(pickle.dumps(h, protocol=2) for h in (LEGACY_MAGIC, 1001, SYS_INFO))


def legacy_checkpoint():
    """A legacy (pre-1.6) torch.save file with one 2x2 tensor 'w' in storage '0'."""
    import io
    storage = Storage("0", [1.0, 2.0, 3.0, 4.0])
    buf = io.BytesIO()
    LegacyPickler(buf, protocol=2).dump({"w": LegacyTensor(storage, (2, 2), (2, 1))})
    body = buf.getvalue() + pickle.dumps([storage.key], protocol=2)
    return legacy_headers() + body + struct.pack("<q4f", 4, *storage.values)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.save(tiny_state_dict(), path("tiny.pth"))
    with open(path("tiny.pth"), "rb") as f:
        tiny = f.read()
    with open(path("cut_zip.pth"), "wb") as f:  # the zip's end-of-central-directory record is gone
        f.write(tiny[:-10])

    legacy = legacy_checkpoint()
    assert torch.load(io_of(legacy))["w"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with open(path("cut_legacy.pth"), "wb") as f:  # cut inside the storage data
        f.write(legacy[:-3])
    with open(path("bad_pickle.pth"), "wb") as f:  # the state-dict pickle starts with opcode 0xff
        f.write(legacy_headers() + b"\x80\x02\xff")
    with open(path("stray_storage.pth"), "wb") as f:  # the list of storage keys names one that no tensor uses
        f.write(legacy_headers() + pickle.dumps({}, protocol=2) + pickle.dumps(["7"], protocol=2))

    torch.save({"w": torch.zeros(2, dtype=torch.complex64)}, path("complex.pth"))
    torch.save({"__metadata__": torch.ones(2)}, path("metadata_key.pth"))  # a name safetensors reserves

    header = b'{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]'  # the JSON never closes
    header += b" " * (-len(header) % 8)
    with open(path("bad_header.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + bytes(8))


def io_of(data):
    import io
    return io.BytesIO(data)


if __name__ == "__main__":
    main()
