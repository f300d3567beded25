#!/usr/bin/python3
"""Generates the reference values in test/fixtures/ops/*.json with numpy and PyTorch.

The interpreter (src/compiler/ir/interpret.ts) is checked against these, so that it is not only compared with
onnxruntime. Run once from the repository root with Debian's python3-numpy and python3-torch:

    /usr/bin/python3 tools/gen_op_fixtures.py

Each case names an IR op, its attributes (as in src/compiler/ir/ir.ts) and its inputs and outputs. Float
references are computed in float64 and rounded once to the output type.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "ops")
rng = np.random.default_rng(20240611)

DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16, "i64": np.int64, "i32": np.int32, "u8": np.uint8, "bool": np.bool_}


def tensor(dtype, a):
    a = np.asarray(a).astype(DTYPES[dtype])
    data = [int(bool(v)) for v in a.flat] if dtype == "bool" else [v.item() for v in a.flat]
    return {"dtype": dtype, "shape": list(a.shape), "data": data}


def randf(*shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def case(name, op, attrs, inputs, outputs):
    return {"name": name, "op": op, "attrs": attrs, "inputs": inputs, "outputs": outputs}


def f32(a):
    return tensor("f32", a)


def t64(a):
    """float32 inputs promoted to float64 for the reference computation."""
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def elementwise():
    x = randf(3, 4)
    pos = rng.uniform(0.1, 3.0, size=(3, 4)).astype(np.float32)
    xd = x.astype(np.float64)
    pd = pos.astype(np.float64)
    unary = {
        "neg": -xd, "abs": np.abs(xd), "exp": np.exp(xd), "tanh": np.tanh(xd), "sin": np.sin(xd), "cos": np.cos(xd),
        "sigmoid": 1 / (1 + np.exp(-xd)), "relu": np.maximum(xd, 0), "floor": np.floor(xd), "ceil": np.ceil(xd),
        "erf": np.vectorize(math.erf)(xd),
    }
    cases = [case(f"{op} f32", op, {}, [f32(x)], [f32(v)]) for op, v in unary.items()]
    cases += [
        case("log f32", "log", {}, [f32(pos)], [f32(np.log(pd))]),
        case("sqrt f32", "sqrt", {}, [f32(pos)], [f32(np.sqrt(pd))]),
        case("reciprocal f32", "reciprocal", {}, [f32(pos)], [f32(1 / pd)]),
    ]
    a, b = randf(2, 3, 4), randf(4)
    ad, bd = a.astype(np.float64), b.astype(np.float64)
    cases += [
        case("add broadcast", "add", {}, [f32(a), f32(b)], [f32(ad + bd)]),
        case("sub broadcast", "sub", {}, [f32(a), f32(b)], [f32(ad - bd)]),
        case("mul broadcast", "mul", {}, [f32(a), f32(b)], [f32(ad * bd)]),
        case("div broadcast", "div", {}, [f32(a), f32(b)], [f32(ad / bd)]),
        case("pow", "pow", {}, [f32(pos), f32(x)], [f32(np.power(pd, xd))]),
        case("maximum", "maximum", {}, [f32(a), f32(b)], [f32(np.maximum(ad, bd))]),
        case("minimum", "minimum", {}, [f32(a), f32(b)], [f32(np.minimum(ad, bd))]),
        case("lt", "lt", {}, [f32(a), f32(b)], [tensor("bool", a < b)]),
        case("ge", "ge", {}, [f32(a), f32(b)], [tensor("bool", a >= b)]),
    ]
    ia = np.array([7, -7, 7, -7, 0, 13], dtype=np.int64)
    ib = np.array([2, 2, -2, -2, 5, 4], dtype=np.int64)
    cases += [
        case("div i64 truncates", "div", {}, [tensor("i64", ia), tensor("i64", ib)], [tensor("i64", np.trunc(ia / ib))]),
        case("div i32 truncates", "div", {}, [tensor("i32", ia), tensor("i32", ib)], [tensor("i32", np.trunc(ia / ib))]),
        case("pow i64", "pow", {}, [tensor("i64", ia), tensor("i64", np.abs(ib))], [tensor("i64", ia ** np.abs(ib))]),
    ]
    big = np.array([2**31 - 1, -(2**31)], dtype=np.int32)
    one = np.array([1, -1], dtype=np.int32)
    with np.errstate(over="ignore"):
        cases.append(case("add i32 wraps", "add", {}, [tensor("i32", big), tensor("i32", one)], [tensor("i32", big + one)]))
    cond = rng.uniform(size=(3, 1)) > 0.5
    cases.append(case("where", "where", {}, [tensor("bool", cond), f32(x), f32(np.zeros(4))], [f32(np.where(cond, x, 0))]))
    cases.append(case("clip", "clip", {"min": -0.5, "max": 1.0}, [f32(x)], [f32(np.clip(x, -0.5, 1.0))]))
    wide = np.array([-2.7, -0.5, 0.5, 2.7, 1e4, 65519.0, 1e-8], dtype=np.float32)
    cases += [
        case("cast f32 to i64 truncates", "cast", {"to": "i64"}, [f32(wide)], [tensor("i64", np.trunc(wide))]),
        case("cast f32 to f16 rounds to nearest even", "cast", {"to": "f16"}, [f32(wide)], [tensor("f16", wide.astype(np.float16))]),
        case("cast i64 to i32 wraps", "cast", {"to": "i32"}, [tensor("i64", [2**40 + 5, -1, 2**31])],
             [tensor("i32", np.array([2**40 + 5, -1, 2**31], dtype=np.int64).astype(np.int32))]),
        case("cast f32 to bool", "cast", {"to": "bool"}, [f32([0.0, -0.0, 0.5, -3])], [tensor("bool", [0, 0, 1, 1])]),
    ]
    return cases


def linalg():
    a, b = randf(2, 1, 3, 5), randf(4, 5, 2)
    v = randf(5)
    x = randf(2, 3, 4)
    xd = x.astype(np.float64)
    cases = [
        case("matmul batched broadcast", "matmul", {}, [f32(a), f32(b)], [f32(np.matmul(a.astype(np.float64), b.astype(np.float64)))]),
        case("matmul vector", "matmul", {}, [f32(v), f32(b)], [f32(np.matmul(v.astype(np.float64), b.astype(np.float64)))]),
    ]
    for kind, fn in [("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min), ("prod", np.prod)]:
        cases.append(case(f"reduce {kind}", "reduce", {"kind": kind, "axes": [0, -1], "keepdims": kind == "sum"},
                          [f32(x)], [f32(fn(xd, axis=(0, 2), keepdims=kind == "sum"))]))
    ints = np.array([[3, -7, 5], [-2, 9, -9]], dtype=np.int64)
    cases.append(case("reduce mean i64 truncates", "reduce", {"kind": "mean", "axes": [1], "keepdims": False},
                      [tensor("i64", ints)], [tensor("i64", np.trunc(ints.sum(1) / 3))]))
    ties = np.array([[1, 5, 5, 2], [7, 7, 7, 7], [0, -1, 3, 3]], dtype=np.float32)
    cases.append(case("argmax first of ties", "argmax", {"axis": 1, "keepdims": True}, [f32(ties)], [tensor("i64", ties.argmax(1)[:, None])]))
    cases.append(case("softmax axis 1", "softmax", {"axis": 1}, [f32(x)], [f32(torch.softmax(t64(x), 1).numpy())]))
    scale, bias = randf(3, 4), randf(3, 4)
    ln = F.layer_norm(t64(x), (3, 4), t64(scale), t64(bias), eps=1e-5).numpy()
    cases.append(case("layer_norm over two axes", "layer_norm", {"axis": 1, "eps": 1e-5}, [f32(x), f32(scale), f32(bias)], [f32(ln)]))
    cases.append(case("layer_norm without affine", "layer_norm", {"axis": -1, "eps": 1e-3}, [f32(x)],
                      [f32(F.layer_norm(t64(x), (4,), eps=1e-3).numpy())]))
    q, k, vv, ab = randf(2, 2, 3, 4), randf(2, 2, 5, 4), randf(2, 2, 5, 6), randf(3, 5)
    s = np.matmul(q.astype(np.float64), np.swapaxes(k.astype(np.float64), -1, -2)) * 0.5 + ab.astype(np.float64)
    att = np.matmul(torch.softmax(torch.from_numpy(s), -1).numpy(), vv.astype(np.float64))
    cases.append(case("attention with bias", "attention", {"scale": 0.5}, [f32(q), f32(k), f32(vv), f32(ab)], [f32(att)]))
    return cases


def layout():
    x = randf(2, 3, 4)
    idx = np.array([[2, -1], [0, 1]], dtype=np.int64)
    ge_idx = rng.integers(-3, 3, size=(2, 5, 4)).astype(np.int64)
    return [
        case("transpose", "transpose", {"perm": [2, 0, 1]}, [f32(x)], [f32(np.transpose(x, (2, 0, 1)))]),
        case("reshape", "reshape", {"shape": [4, 6]}, [f32(x)], [f32(x.reshape(4, 6))]),
        case("expand", "expand", {"shape": [2, 2, 3, 4]}, [f32(x[:, :1])], [f32(np.broadcast_to(x[:, :1], (2, 2, 3, 4)))]),
        case("slice with step", "slice", {"axis": 2, "start": 1, "end": 4, "step": 2}, [f32(x)], [f32(x[:, :, 1:4:2])]),
        case("concat", "concat", {"axis": 1}, [f32(x), f32(x[:, :2])], [f32(np.concatenate([x, x[:, :2]], 1))]),
        case("pad constant", "pad", {"pads": [0, 1, 2, 1, 0, 1], "value": 1.5}, [f32(x)],
             [f32(np.pad(x, ((0, 1), (1, 0), (2, 1)), constant_values=1.5))]),
        case("gather 2-d negative indices", "gather", {"axis": 1}, [f32(x), tensor("i64", idx)], [f32(np.take(x, idx, axis=1))]),
        case("gather_elements", "gather_elements", {"axis": 1}, [f32(x), tensor("i64", ge_idx)],
             [f32(np.take_along_axis(x, np.where(ge_idx < 0, ge_idx + 3, ge_idx), axis=1))]),
    ]


def windows():
    x2 = randf(2, 4, 6, 5)
    w2 = randf(6, 2, 3, 2)
    b2 = randf(6)
    padded = F.pad(t64(x2), (1, 0, 2, 1))  # (left, right, top, bottom) = W begin/end, H begin/end
    conv2 = F.conv2d(padded, t64(w2), t64(b2), stride=(2, 1), dilation=(1, 2), groups=2).numpy()
    x1 = randf(1, 3, 9)
    w1 = randf(2, 3, 3)
    conv1 = F.conv1d(F.pad(t64(x1), (2, 2)), t64(w1), stride=2).numpy()
    xp = randf(1, 2, 5, 6)
    mp = F.max_pool2d(F.pad(t64(xp), (1, 0, 1, 1), value=-math.inf), (3, 2), stride=(2, 2)).numpy()
    ap_in = F.avg_pool2d(t64(xp), 3, stride=2, padding=1, count_include_pad=True).numpy()
    ap_ex = F.avg_pool2d(t64(xp), 3, stride=2, padding=1, count_include_pad=False).numpy()
    return [
        case("conv2d groups dilation asymmetric pads", "conv", {"strides": [2, 1], "pads": [2, 1, 1, 0], "dilations": [1, 2], "groups": 2},
             [f32(x2), f32(w2), f32(b2)], [f32(conv2)]),
        case("conv1d no bias", "conv", {"strides": [2], "pads": [2, 2], "dilations": [1], "groups": 1}, [f32(x1), f32(w1)], [f32(conv1)]),
        case("max_pool asymmetric pads", "max_pool", {"kernel": [3, 2], "strides": [2, 2], "pads": [1, 1, 1, 0]}, [f32(xp)], [f32(mp)]),
        case("avg_pool count_include_pad", "avg_pool", {"kernel": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "countIncludePad": True},
             [f32(xp)], [f32(ap_in)]),
        case("avg_pool exclude pad", "avg_pool", {"kernel": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "countIncludePad": False},
             [f32(xp)], [f32(ap_ex)]),
    ]


def selection():
    x = randf(3, 7)
    vals, ids = torch.topk(torch.from_numpy(x), 3, dim=1, largest=True, sorted=True)
    svals, sids = torch.topk(torch.from_numpy(x), 2, dim=0, largest=False, sorted=True)
    ties = np.array([[1, 3, 3, 0, 3, 1]], dtype=np.float32)
    order = np.argsort(-ties, axis=1, kind="stable")[:, :4]
    cases = [
        case("topk largest", "topk", {"axis": 1, "k": 3, "largest": True}, [f32(x)], [f32(vals.numpy()), tensor("i64", ids.numpy())]),
        case("topk smallest axis 0", "topk", {"axis": 0, "k": 2, "largest": False}, [f32(x)], [f32(svals.numpy()), tensor("i64", sids.numpy())]),
        case("topk ties by lower index", "topk", {"axis": -1, "k": 4, "largest": True}, [f32(ties)],
             [f32(np.take_along_axis(ties, order, 1)), tensor("i64", order)]),
    ]
    # sample_linear along the time axis of [B, T, C] equals grid_sample over a [B, C, 1, T] image with
    # align_corners=True (pixel x = p) and border padding (clamp to [0, T-1]).
    for name, pos_shape in [("per-batch positions", (2, 4)), ("shared positions", (1, 4))]:
        data = randf(2, 6, 3)
        pos = rng.uniform(-1.0, 6.5, size=pos_shape).astype(np.float32)
        img = t64(data).permute(0, 2, 1).unsqueeze(2)  # [B, C, 1, T]
        gx = torch.from_numpy(np.broadcast_to(pos.astype(np.float64), (2, 4)).copy()) / 5 * 2 - 1
        grid = torch.stack([gx, torch.zeros_like(gx)], -1).unsqueeze(1)  # [B, 1, K, 2]
        out = F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)  # [B, C, 1, K]
        cases.append(case(f"sample_linear {name}", "sample_linear", {"axis": 1}, [f32(data), f32(pos)],
                          [f32(out.squeeze(2).permute(0, 2, 1).numpy())]))
    return cases


def recurrent():
    """lstm against torch.nn.LSTM in float64, with PyTorch's own weight layout (gates i, f, g, o)."""
    r = np.random.default_rng(20240612)  # its own stream, so the other groups' data does not change
    steps, n, inp, hid = 5, 2, 3, 4

    def u(*shape):
        return r.uniform(-1.0, 1.0, size=shape).astype(np.float32)

    x, h0, c0 = u(steps, n, inp), u(n, hid), u(n, hid)
    w_ih, w_hh, b_ih, b_hh = u(4 * hid, inp), u(4 * hid, hid), u(4 * hid), u(4 * hid)
    cases = []
    for name, bias, reverse, state in [("lstm with biases", True, False, False), ("lstm reverse with initial state", True, True, True),
                                       ("lstm without biases, initial state", False, False, True)]:
        m = torch.nn.LSTM(inp, hid, bias=bias, bidirectional=reverse).double()
        sfx = "_reverse" if reverse else ""
        with torch.no_grad():
            for key, value in [("weight_ih_l0", w_ih), ("weight_hh_l0", w_hh)] + ([("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)] if bias else []):
                getattr(m, key + sfx).copy_(t64(value))
            dirs = 2 if reverse else 1
            hs = (t64(np.stack([h0] * dirs)), t64(np.stack([c0] * dirs))) if state else None
            y, (hn, cn) = m(t64(x), hs)
        k = dirs - 1  # the reverse direction is the second half of a bidirectional LSTM's outputs
        ins = [f32(x), f32(w_ih), f32(w_hh)] + ([f32(b_ih), f32(b_hh)] if bias else []) + ([f32(h0), f32(c0)] if state else [])
        outs = [f32(y[:, :, k * hid:(k + 1) * hid].numpy()), f32(hn[k].numpy()), f32(cn[k].numpy())]
        cases.append(case(name, "lstm", {"reverse": reverse, "bias": bias}, ins, outs))
    return cases


def prelu():
    """F.prelu (x < 0: slope * x) with a slope per channel and a single slope, in float64."""
    r = np.random.default_rng(20240616)  # its own stream, so the other groups' data does not change
    x = r.uniform(-2.0, 2.0, size=(2, 3, 4)).astype(np.float32)
    per_channel = r.uniform(-1.0, 1.0, size=(3,)).astype(np.float32)
    single = np.array([0.25], dtype=np.float32)
    return [
        case("prelu per channel", "prelu", {}, [f32(x), f32(per_channel.reshape(3, 1))],
             [f32(F.prelu(t64(x), t64(per_channel)).numpy())]),
        case("prelu one slope", "prelu", {}, [f32(x), f32(single)], [f32(F.prelu(t64(x), t64(single)).numpy())]),
    ]


def resize():
    """F.interpolate in its linear modes on float32 tensors: PyTorch rounds the scale to float32 (as semantics.md
    says), which float64 tensors would not show."""
    r = np.random.default_rng(20240613)  # its own stream, so the other groups' data does not change
    cases = []
    for name, shape, size, mode, align in [
        ("bilinear align_corners shrink", (1, 2, 9, 7), (4, 3), "bilinear", True),
        ("bilinear align_corners grow", (2, 1, 3, 4), (7, 5), "bilinear", True),
        ("bilinear half-pixel grow and shrink", (1, 2, 4, 5), (9, 2), "bilinear", False),
        ("linear half-pixel grow", (2, 3, 5), (7,), "linear", False),
        ("trilinear align_corners", (1, 2, 2, 3, 5), (3, 4, 2), "trilinear", True),
    ]:
        x = r.uniform(-2.0, 2.0, size=shape).astype(np.float32)
        y = F.interpolate(torch.from_numpy(x), size=size, mode=mode, align_corners=align).numpy()
        cases.append(case(f"resize {name}", "resize", {"sizes": list(size), "alignCorners": align}, [f32(x)], [f32(y)]))
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    for group, fn in [("elementwise", elementwise), ("linalg", linalg), ("layout", layout), ("windows", windows), ("selection", selection),
                      ("recurrent", recurrent), ("resize", resize),
                      ("prelu", prelu)]:
        with open(os.path.join(OUT, f"{group}.json"), "w") as f:
            json.dump({"generator": "tools/gen_op_fixtures.py", "cases": fn()}, f, indent=None, separators=(",", ":"))
            f.write("\n")


if __name__ == "__main__":
    main()
