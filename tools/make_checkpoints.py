#!/usr/bin/python3
"""Writes the checkpoint fixtures of test/weights into test/fixtures/weights/.

Run with Debian's torch (apt-get install -y python3-torch; torch 1.13):
    /usr/bin/python3 tools/make_checkpoints.py [--ifdd]

Every good fixture `<name>` comes with `<name>.expected.json`: each tensor's dtype, shape and raw little-endian
bytes (hex, row-major), so the tests compare bit for bit without Python. The bad fixtures are what a hostile or
damaged download looks like. --ifdd also rewrites ifdd_spot.json from the shared IFDD checkpoint (150 MB).
Legacy files name storages by memory address, so they differ from run to run; their contents do not.
"""
import collections
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "weights")
IFDD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "fixtures", "ifdd",
                    "ifdd_dfew_random.pth")

DTYPE_NAMES = {
    torch.float32: "f32", torch.float16: "f16", torch.bfloat16: "bf16", torch.float64: "f64",
    torch.int64: "i64", torch.int32: "i32", torch.int8: "i8", torch.uint8: "u8", torch.bool: "bool",
}


def raw_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: take the bit patterns
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def tensor_record(t):
    return {"dtype": DTYPE_NAMES[t.dtype], "shape": list(t.shape), "hex": raw_bytes(t).hex()}


def flatten_tensors(obj, prefix=""):
    """Dotted key -> tensor, in the order netc walks containers (dict order, list index)."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else []
    out = {}
    for k, v in items:
        key = f"{prefix}{k}"
        if isinstance(v, torch.Tensor):
            out[key] = v
        else:
            out.update(flatten_tensors(v, key + "."))
    return out


def save(name, obj, legacy=False):
    path = os.path.join(OUT, name)
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    check = torch.load(path)  # torch itself must read back what the tests expect
    tensors = flatten_tensors(check)
    for key, t in flatten_tensors(obj).items():
        assert torch.equal(raw_as_int(tensors[key]), raw_as_int(t)), key
    expected = {"tensors": {k: tensor_record(t) for k, t in tensors.items()}}
    with open(path + ".expected.json", "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


def raw_as_int(t):
    """Compares bit patterns (NaN payloads included) rather than values."""
    t = t.detach().contiguous()
    if t.dtype == torch.bool:
        return t.to(torch.uint8)
    size = t.element_size()
    return t.view({1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[size])


def dtype_tensors():
    f32 = torch.tensor([0.0, -0.0, 1.5, -2.25, float("inf"), float("-inf"), float("nan"), 1e-45, 3.4e38])
    payload_nan = torch.tensor([0x7FC00001, 0x7F800001, -1], dtype=torch.int32).view(torch.float32)
    return collections.OrderedDict([
        ("f32", f32.reshape(3, 3)),
        ("f32_nan_payloads", payload_nan),
        ("f16", torch.tensor([0.0, -0.0, 1.0, -65504.0, 6e-8, float("inf"), float("nan"), 0.333], dtype=torch.float16)),
        ("bf16", torch.tensor([[0.0, 1.0, -3.140625], [1e38, float("-inf"), 2.0 ** -130]], dtype=torch.bfloat16)),
        ("f64", torch.tensor([0.1, -1e308, 5e-324, float("nan")], dtype=torch.float64)),
        ("i64", torch.tensor([0, -1, 2 ** 62, -(2 ** 63), 2 ** 53 + 1, 7], dtype=torch.int64)),
        ("i32", torch.tensor([[-(2 ** 31), 2 ** 31 - 1], [0, -5]], dtype=torch.int32)),
        ("i8", torch.tensor([-128, 127, 0, -1], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255, 128], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True], dtype=torch.bool)),
        ("scalar", torch.tensor(3.5)),
        ("empty", torch.zeros(0, 3)),
    ])


def view_tensors():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    cube = torch.arange(24, dtype=torch.float16).reshape(2, 3, 4)
    ints = torch.arange(10, dtype=torch.int64) * (2 ** 40)
    return collections.OrderedDict([
        ("base", base),
        ("transposed", base.t()),
        ("block", base[1:3, 2:5]),
        ("flat", base.view(-1)),
        ("every_other", base[:, ::2]),
        ("last_row", base[3]),
        ("expanded", torch.arange(3, dtype=torch.float32).expand(4, 3)),
        ("permuted_f16", cube.permute(2, 0, 1)),
        ("i64_tail", ints[6:]),
        ("scalar_view", base[2, 3]),
    ])


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3)
        self.bn = torch.nn.BatchNorm2d(3)
        self.qkv = torch.nn.Linear(4, 12)
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.head(self.qkv(x)[..., :4])


def trained_checkpoint():
    torch.manual_seed(0)
    model = torch.nn.DataParallel(TinyNet())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.module.head(model.module.qkv(torch.randn(2, 4))[..., :4]).sum().backward()
    opt.step()
    return model, opt


def good_fixtures():
    save("zip_dtypes.pth", dtype_tensors())
    save("legacy_dtypes.pth", dtype_tensors(), legacy=True)
    save("zip_views.pth", view_tensors())
    save("legacy_views.pth", view_tensors(), legacy=True)

    model, opt = trained_checkpoint()
    # The ImageNet-example layout: DataParallel keys under 'state_dict', with the optimizer beside them.
    classic = {"epoch": 7, "arch": "tinynet", "best_acc1": torch.tensor(71.5),
               "state_dict": model.state_dict(), "optimizer": opt.state_dict()}
    save("dataparallel.pth.tar", classic)
    save("legacy_dataparallel.pth.tar", classic, legacy=True)
    transform_fixtures(model)
    cast_fixtures()

    torch.manual_seed(1)
    plain = TinyNet()
    ema = {k: v.half() if v.is_floating_point() else v for k, v in plain.state_dict().items()}
    nested = {
        "epoch": 3,
        "model": plain.state_dict(),
        "ema": collections.OrderedDict(ema),
        "meta": {"tags": ["a", "b"], "size": (1, 2), "flag": True, "none": None, "big": 2 ** 70, "neg": -5,
                 "blob": b"\x00\xff", "ids": {3, 1}, "lr": 0.5, "name": "tiny"},
        "runs": [{"wrapped": {"deep": plain.state_dict()["head.bias"]}}],
    }
    save("nested.pth", nested)

    # safetensors written here by hand, from the format description, as an independent peer of netc's writer.
    tensors = collections.OrderedDict([("b.weight", torch.arange(6, dtype=torch.float32).reshape(2, 3)),
                                       ("a.bias", torch.tensor([1.5, -2.0], dtype=torch.bfloat16)),
                                       ("c.idx", torch.tensor([[1, -2]], dtype=torch.int64)),
                                       ("d.mask", torch.tensor([True, False])),
                                       ("e.half", torch.tensor([0.5], dtype=torch.float16))])
    write_safetensors(os.path.join(OUT, "peer.safetensors"), tensors, {"format": "pt", "source": "make_checkpoints"})
    with open(os.path.join(OUT, "peer.safetensors.expected.json"), "w") as f:
        json.dump({"tensors": {k: tensor_record(t) for k, t in tensors.items()}}, f, indent=1)
        f.write("\n")


def cast_fixtures():
    """casts.pth holds awkward values; casts.derived.json what torch makes of them in every conversion netc does."""
    f32 = torch.tensor([1.0, -2.5, 65504.0, 65519.99, 65520.0, 1e-8, 2 ** -24, 2 ** -25, 3e-8, 6.1035156e-05,
                        6.097555e-05, 1.00048828125, 1.00146484375, 1.00390625, 1.01171875, 3.4e38, -3.4e38,
                        float("nan"), float("inf"), -0.0, 1e-40], dtype=torch.float32)
    f32 = torch.cat([f32, torch.randn(64, generator=torch.Generator().manual_seed(5)) * 100])
    f64 = torch.tensor([0.1, 1e-300, 1e300, 1 + 2 ** -24, 1 + 2 ** -24 + 2 ** -40, 1 + 2 ** -11 + 2 ** -30, -7.25,
                        float("nan"), 65519.99999], dtype=torch.float64)
    i64 = torch.tensor([-3, 0, 7, 2 ** 40, 2 ** 60 + 2 ** 36 + 1, -(2 ** 60) - 2 ** 36 - 1, 2 ** 24 + 1, 2 ** 63 - 1],
                       dtype=torch.int64)
    whole = torch.tensor([-2.7, 2.7, 0.5, -0.5, 1e9, -0.0, 255.9], dtype=torch.float32)
    save("casts.pth", collections.OrderedDict(f32=f32, f64=f64, i64=i64, whole=whole))
    derived = {
        "f32->f16": f32.half(), "f32->bf16": f32.bfloat16(), "f32->f64": f32.double(),
        "f64->f32": f64.float(), "f64->f16": f64.half(), "f64->bf16": f64.bfloat16(),
        "f16->f32": f32.half().float(), "bf16->f32": f32.bfloat16().float(), "f16->bf16": f32.half().bfloat16(),
        "i64->f32": i64.float(), "i64->f64": i64.double(), "i64->i32": i64.int(), "i64->f16": i64[:4].half(),
        "whole->i32": whole.int(), "whole->i64": whole.long(), "whole->i8": whole[:4].to(torch.int8),
        "whole->u8": whole[[1, 2, 5, 6]].to(torch.uint8), "f32->bool": f32.bool(), "i64->bool": i64.bool(),
    }
    with open(os.path.join(OUT, "casts.derived.json"), "w") as f:
        json.dump({k: tensor_record(t) for k, t in derived.items()}, f, indent=1)
        f.write("\n")


def transform_fixtures(model):
    """What torch's own ops make of the DataParallel fixture's tensors, for the mapping transforms."""
    sd = model.state_dict()
    q, k, v = sd["module.qkv.weight"].chunk(3, dim=0)
    qb, kb, vb = sd["module.qkv.bias"].chunk(3)
    conv = sd["module.conv.weight"]
    derived = {"q.weight": q, "k.weight": k, "v.weight": v, "q.bias": qb, "k.bias": kb, "v.bias": vb,
               "head.weight.T": sd["module.head.weight"].t(), "conv.weight.permute(1,0,2,3)": conv.permute(1, 0, 2, 3),
               "conv.weight.reshape(3,-1)": conv.reshape(3, -1)}
    with open(os.path.join(OUT, "dataparallel.derived.json"), "w") as f:
        json.dump({k: tensor_record(t) for k, t in derived.items()}, f, indent=1)
        f.write("\n")


def canonical(v):
    """A text form of a Python value that the unpickler tests rebuild from netc's result (floats by their bits)."""
    if v is None or isinstance(v, bool):
        return repr(v)
    if isinstance(v, int):
        return f"i:{v}"
    if isinstance(v, float):
        return "f:" + struct.pack(">d", v).hex()
    if isinstance(v, str):
        return "s:" + json.dumps(v, ensure_ascii=False)
    if isinstance(v, bytes):
        return "b:" + v.hex()
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(canonical(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(canonical(k) + "=" + canonical(x) for k, x in v.items()) + "}"
    if isinstance(v, (set, frozenset)):
        return "set(" + ",".join(sorted(canonical(x) for x in v)) + ")"
    raise TypeError(type(v))


def pickle_fixtures():
    """The same plain values pickled with every protocol CPython writes, for the unpickler's tests."""
    shared = [1, 2]
    value = {
        "ints": [0, 1, -1, 255, 256, 65535, 65536, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 53, 2 ** 53 + 1,
                 2 ** 62, -(2 ** 63), 2 ** 100, -(2 ** 100)],
        "floats": [0.0, -0.0, 1.5, 1e300, float("inf"), float("-inf")],
        "text": ["", "ascii", "ü€😀", "x" * 300],
        "bytes": [b"", b"\x00\xff", bytes(range(256))],
        "consts": [None, True, False],
        "tuples": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)],
        "shared": [shared, shared],
        "od": collections.OrderedDict([("z", 1), ("a", 2)]),
        "sets": [{3, 1}, frozenset({2})],
        7: "int key",
        "__proto__": {"polluted": True},
    }
    cases = [{"protocol": p, "hex": pickle.dumps(value, protocol=p).hex(), "expected": canonical(value)} for p in (2, 3, 4, 5)]
    with open(os.path.join(OUT, "pickles.json"), "w") as f:
        json.dump(cases, f, indent=1)
        f.write("\n")


class FakeStorage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class StoragePickler(pickle.Pickler):
    """torch.save's persistent ids, for storages that exist only on paper (the > 4 GB zip64 test)."""

    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None


class FakeView:
    """Elements [offset, offset + numel) of the storage `root` (of `root_numel` elements), named `key`."""

    def __init__(self, key, root, root_numel, offset, numel):
        self.key, self.root, self.root_numel, self.offset, self.numel = key, root, root_numel, offset, numel


class LegacyPickler(pickle.Pickler):
    """Legacy persistent ids, with the view metadata torch < 1.0 wrote for storage views (1.13 still reads them)."""

    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel, None)
        if isinstance(obj, FakeView):
            return ("storage", torch.FloatStorage, obj.root, "cpu", obj.root_numel, (obj.key, obj.offset, obj.numel))
        return None


def legacy_storage_view():
    """A legacy file, written by hand, whose tensor 'a' lies in a view of elements 2..6 of storage '0'."""
    root = FakeStorage("0", 10)
    obj = collections.OrderedDict(a=RawTensor(FakeView("1", "0", 10, 2, 5), 1, (3,), (1,)), b=RawTensor(root, 0, (2,), (1,)))
    path = os.path.join(OUT, "legacy_storage_view.pth")
    with open(path, "wb") as f:
        sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
        for header in (0x1950A86A20F9469CFC6C, 1001, sys_info):
            pickle.dump(header, f, protocol=2)
        LegacyPickler(f, protocol=2).dump(obj)
        pickle.dump([root.key], f, protocol=2)
        f.write(struct.pack("<q10f", 10, *range(10)))
    loaded = torch.load(path)
    assert loaded["a"].tolist() == [3.0, 4.0, 5.0] and loaded["b"].tolist() == [0.0, 1.0], loaded
    with open(path + ".expected.json", "w") as f:
        json.dump({"tensors": {k: tensor_record(t) for k, t in loaded.items()}}, f, indent=1)
        f.write("\n")


def big_storage_pickle():
    """data.pkl of a checkpoint whose one storage holds 2^30 + 16 floats (4 GiB + 64 bytes); the tensor views
    its last 8 floats. The test assembles a sparse zip64 file around it."""
    storage = FakeStorage("0", 2 ** 30 + 16)
    buf = io.BytesIO()
    StoragePickler(buf, protocol=2).dump({"tail": RawTensor(storage, 2 ** 30 + 8, (8,), (1,))})
    with open(os.path.join(OUT, "big_storage.data.pkl"), "wb") as f:
        f.write(buf.getvalue())


def write_safetensors(path, tensors, metadata):
    st_names = {"f32": "F32", "f16": "F16", "bf16": "BF16", "f64": "F64", "i64": "I64", "i32": "I32",
                "i8": "I8", "u8": "U8", "bool": "BOOL"}
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = raw_bytes(t)
        header[name] = {"dtype": st_names[DTYPE_NAMES[t.dtype]], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


class Evil:
    """Pickles as a call of os.system: what a booby-trapped checkpoint does."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/netc_pwned",))


class Config:
    """An arbitrary class: loading it would construct an object of the attacker's choosing."""

    def __init__(self):
        self.depth = 3


class RawTensor:
    """Pickles exactly like a tensor, but with whatever offset, size and stride the test needs."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride)

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args + (False, collections.OrderedDict()))


def bad_fixtures():
    small = collections.OrderedDict(w=torch.arange(16, dtype=torch.float32))
    torch.save({"state_dict": small, "hook": Evil()}, os.path.join(OUT, "evil_system.pth"))
    torch.save({"state_dict": small, "hook": Evil()}, os.path.join(OUT, "evil_system_legacy.pth"),
               _use_new_zipfile_serialization=False)
    torch.save({"state_dict": small, "config": Config()}, os.path.join(OUT, "evil_object.pth"))

    proto = collections.OrderedDict([("__proto__", torch.tensor([1.0])), ("constructor", torch.tensor([2.0])),
                                     ("toString", torch.tensor([3.0]))])
    torch.save({"__proto__": {"polluted": torch.tensor([4.0])}, "model": proto}, os.path.join(OUT, "proto_keys.pth"))

    storage = torch.arange(4, dtype=torch.float32).storage()
    torch.save({"w": RawTensor(storage, 0, (3, 3), (3, 1))}, os.path.join(OUT, "view_past_storage.pth"))
    torch.save({"w": RawTensor(storage, 0, (2 ** 40, 2 ** 40, 2 ** 40), (1, 1, 1))},
               os.path.join(OUT, "shape_overflow.pth"))
    torch.save({"w": RawTensor(storage, 0, (-1, 4), (4, 1))}, os.path.join(OUT, "negative_dim.pth"))

    # A storage entry with fewer bytes than its declared element count (half of it cut away).
    rewrite_zip(os.path.join(OUT, "zip_dtypes.pth"), os.path.join(OUT, "short_storage.pth"),
                lambda name, data: data[: len(data) // 2] if name.endswith("/data/0") else data)
    # Someone re-zipped the checkpoint with compression, which torch never writes.
    rewrite_zip(os.path.join(OUT, "zip_dtypes.pth"), os.path.join(OUT, "deflated.pth"), lambda name, data: data,
                zipfile.ZIP_DEFLATED)

    with open(os.path.join(OUT, "plain_pickle.pkl"), "wb") as f:
        pickle.dump({"a": 1}, f, protocol=2)
    with open(os.path.join(OUT, "not_a_checkpoint.txt"), "w") as f:
        f.write("epoch,loss\n1,0.5\n")
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), os.path.join(OUT, "torchscript.pt"))


def rewrite_zip(src, dst, edit, compression=zipfile.ZIP_STORED):
    """Copies a zip entry by entry through `edit`, with fixed timestamps so the output is reproducible."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for info in zin.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zout.writestr(entry, edit(info.filename, zin.read(info.filename)), compress_type=compression)


class RecorderMeter:
    """What published DFER training scripts pickle beside the weights: a class of the script's __main__ holding
    numpy curves (e.g. Former-DFER's main.py)."""

    def __init__(self, total_epoch):
        self.total_epoch = total_epoch
        self.current_epoch = 0
        self.epoch_losses = numpy.zeros((total_epoch, 2), dtype=numpy.float32)
        self.epoch_accuracy = numpy.zeros((total_epoch, 2), dtype=numpy.float32)
        self.epoch_losses[0] = [1.25, 1.5]
        self.epoch_accuracy[0] = [40.5, 38.0]


class WeirdStorage:
    """An object that is no torch storage, where a tensor's storage belongs: netc keeps it opaque."""

    def __reduce__(self):
        return (WeirdStorage, ())


class TensorOf:
    """Pickles as torch's tensor rebuild, applied to whatever `storage` is (an opaque object, an attack)."""

    def __init__(self, storage, size):
        self.storage, self.size = storage, size

    def __reduce__(self):
        stride = tuple(int(numpy.prod(self.size[i + 1:])) for i in range(len(self.size)))
        return (torch._utils._rebuild_tensor_v2, (self.storage, 0, self.size, stride, False, collections.OrderedDict()))


class SmallNet(torch.nn.Module):
    """test/weights/published.test.ts writes the same model in netc: Linear, LayerNorm, Linear."""

    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(4, 8)
        self.norm = torch.nn.LayerNorm(8)
        self.fc2 = torch.nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(self.norm(self.fc1(x)))


def published_fixtures():
    """Checkpoints as published training scripts and frameworks save them, around one small model whose output
    for a fixed input is recorded in published.expected.json."""
    import argparse
    import functools
    torch.manual_seed(5)
    net = SmallNet()
    with torch.no_grad():  # a trained LayerNorm is no identity
        net.norm.weight.uniform_(0.5, 1.5)
        net.norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 4, generator=torch.Generator().manual_seed(6))
    with torch.no_grad():
        y = net(x)
    with open(os.path.join(OUT, "published.expected.json"), "w") as f:
        json.dump({"input": tensor_record(x), "output": tensor_record(y)}, f, indent=1)
        f.write("\n")

    # The published-script layout: DataParallel keys, SGD momentum, a __main__ recorder, numpy scalars, argparse.
    parallel = torch.nn.DataParallel(net)
    opt = torch.optim.SGD(parallel.parameters(), lr=0.0, momentum=0.9)  # lr 0: momentum buffers, same weights
    parallel(x).sum().backward()
    opt.step()
    state = parallel.state_dict()
    recorder = RecorderMeter(4)
    args = argparse.Namespace(lr=0.1, epochs=4, arch="smallnet", gpu=[0])
    published = {"epoch": 1, "state_dict": state, "best_acc": numpy.float64(40.5), "optimizer": opt.state_dict(),
                 "recorder": recorder, "args": args, "steps": numpy.int64(12), "flags": numpy.array([True, False])}
    torch.save(published, os.path.join(OUT, "published.pth.tar"))
    torch.save(published, os.path.join(OUT, "published_legacy.pth.tar"), _use_new_zipfile_serialization=False)

    # PyTorch Lightning's checkpoint (trainer.save_checkpoint): the LightningModule's attribute as a key prefix,
    # callbacks whose states hold tensors too (ModelCheckpoint's best_k_models), schedulers, hyper-parameters.
    lightning = {
        "epoch": 3, "global_step": 120, "pytorch-lightning_version": "1.9.0",
        "state_dict": collections.OrderedDict((f"model.{k}", v) for k, v in net.state_dict().items()),
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 4, "completed": 3}}}},
        "callbacks": {
            "ModelCheckpoint{'monitor': 'val_acc', 'mode': 'max'}": {
                "monitor": "val_acc", "best_model_score": torch.tensor(0.91),
                "best_model_path": "/runs/epoch=3.ckpt",
                "best_k_models": {"/runs/epoch=3.ckpt": torch.tensor(0.91), "/runs/epoch=2.ckpt": torch.tensor(0.88)},
            },
            "EarlyStopping{'monitor': 'val_loss', 'mode': 'min'}": {"wait_count": 0, "best_score": torch.tensor(0.3)},
        },
        "optimizer_states": [torch.optim.Adam(net.parameters()).state_dict()],
        "lr_schedulers": [{"step_size": 10, "gamma": 0.1, "base_lrs": [0.001], "last_epoch": 3}],
        "hparams_name": "kwargs",
        "hyper_parameters": {"lr": 0.001, "norm_layer": functools.partial(torch.nn.LayerNorm, eps=1e-6)},
    }
    torch.save(lightning, os.path.join(OUT, "lightning.ckpt"))

    # Nothing but an object of a script's own class: no state dict to find.
    torch.save({"epoch": 1, "net": RecorderMeter(2)}, os.path.join(OUT, "objects_only.pth"))

    # The whole model pickled (torch.save(model)), as some repositories publish it; and wrapped in DataParallel.
    torch.save(net, os.path.join(OUT, "whole_model.pth"))
    torch.save(torch.nn.DataParallel(net), os.path.join(OUT, "whole_model_parallel.pth"))

    # Sharded as Hugging Face writes them: an index mapping each key to its shard, in both formats.
    sharded = os.path.join(OUT, "sharded")
    os.makedirs(sharded, exist_ok=True)
    sd = net.state_dict()
    halves = [["fc1.weight", "fc1.bias", "norm.weight"], ["norm.bias", "fc2.weight", "fc2.bias"]]
    for ext, stem in (("safetensors", "model"), ("bin", "pytorch_model")):
        weight_map = {}
        for i, keys in enumerate(halves):
            name = f"{stem}-{i + 1:05d}-of-00002.{ext}"
            part = collections.OrderedDict((k, sd[k]) for k in keys)
            if ext == "safetensors":
                write_safetensors(os.path.join(sharded, name), part, {"format": "pt"})
            else:
                torch.save(part, os.path.join(sharded, name))
            weight_map.update({k: name for k in keys})
        index = {"metadata": {"total_size": sum(t.numel() * 4 for t in sd.values())}, "weight_map": weight_map}
        with open(os.path.join(sharded, f"{stem}.{ext}.index.json"), "w") as f:
            json.dump(index, f, indent=2)
            f.write("\n")

    # Tensors that depend on objects netc does not rebuild: an unknown class where a storage belongs.
    weird = collections.OrderedDict(net.state_dict())
    weird["extra"] = TensorOf(WeirdStorage(), (2, 2))
    torch.save({"state_dict": weird}, os.path.join(OUT, "opaque_tensor.pth"))
    weird = collections.OrderedDict(net.state_dict())
    weird["fc1.bias"] = TensorOf(WeirdStorage(), (8,))
    torch.save({"state_dict": weird}, os.path.join(OUT, "opaque_needed.pth"))
    # ... and an attack hidden where a storage belongs: refused as a whole, nothing runs.
    torch.save({"state_dict": {"w": TensorOf(Evil(), (2,))}}, os.path.join(OUT, "evil_storage.pth"))


def budget_fixtures():
    """Tiny files that name far more than they hold, through the pickle memo: each must stop at a budget (NET6017)."""
    def doubled(leaf, times):
        x = [leaf]
        for _ in range(times):
            x = [x, x]
        return x
    # One tensor, 2^22 times.
    torch.save({"state_dict": {"w": torch.zeros(1)}, "shared": doubled(torch.zeros(1), 22)},
               os.path.join(OUT, "budget_fanout.pth"))
    # 2^16 full views of a 2048-element storage: 128 Mi elements viewed, 2 Ki stored.
    torch.save({"views": doubled(torch.zeros(2048), 16)}, os.path.join(OUT, "budget_elements.pth"))
    # 2^23 numbers, no tensors.
    torch.save({"state_dict": {"w": torch.zeros(1)}, "log": doubled(0.5, 23)}, os.path.join(OUT, "budget_values.pth"))


def ifdd_spot():
    ckpt = torch.load(IFDD)
    sd = ckpt["model"]
    digest = hashlib.sha256()
    for t in sd.values():
        digest.update(raw_bytes(t))
    picks = ["embed.conv_proj.weight", "backbone.backbone.pos_encoding.class_token",
             "backbone.backbone.blocks.0.attn.qkv.weight", "backbone.WaveLifts.adapt_split.index_even"] + list(sd)[-2:]
    spot = {
        "entries": len(sd),
        "elements": sum(t.numel() for t in sd.values()),
        "topKeys": list(ckpt.keys()),
        "epoch": ckpt["epoch"],
        "sha256": digest.hexdigest(),
        "tensors": {k: {"dtype": DTYPE_NAMES[sd[k].dtype], "shape": list(sd[k].shape),
                        "firstHex": raw_bytes(sd[k].flatten()[:8]).hex(),
                        "sha256": hashlib.sha256(raw_bytes(sd[k])).hexdigest()} for k in picks},
    }
    with open(os.path.join(OUT, "ifdd_spot.json"), "w") as f:
        json.dump(spot, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    if "--published" in sys.argv:  # only these: legacy fixtures differ from run to run
        published_fixtures()
        budget_fixtures()
        sys.exit(0)
    published_fixtures()
    budget_fixtures()
    good_fixtures()
    bad_fixtures()
    pickle_fixtures()
    big_storage_pickle()
    legacy_storage_view()
    if "--ifdd" in sys.argv:
        ifdd_spot()
