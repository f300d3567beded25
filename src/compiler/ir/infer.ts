// Type and shape inference for every core op: the single source of truth used by elaboration
// (to report errors at the `.net` line) and by the verifier (to re-check a graph after each pass).
import type { DType } from "../../util/tensor.js";
import { type Dim, dimAdd, dimEq, dimProduct, dimToString, isStatic, shapeToString } from "./dim.js";
import { type BinaryOp, binaryRow, type UnaryOp, unaryRow } from "./elementwise-ops.js";
import type { OpAttrs, OpName } from "./ir.js";

export interface TensorType {
  dtype: DType;
  shape: readonly Dim[];
}

/** A shape/type error, phrased for the user; the caller attaches the span. */
export class InferError extends Error {}
/** A symbolic dimension where the op needs a number (a kernel size, a sliced axis, ...). */
export class NotStaticError extends InferError {}

const FLOAT: ReadonlySet<DType> = new Set<DType>(["f32", "f16", "bf16", "f64"]);
export const isFloat = (t: DType) => FLOAT.has(t);
/** Numbers that arithmetic is defined on: every element type but bool. */
export const isNumeric = (t: DType) => t !== "bool";

function fail(msg: string): never {
  throw new InferError(msg);
}

export function normAxis(axis: number, rank: number, what = "axis"): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(`${what} ${axis} is out of range for a tensor of rank ${rank}`);
  return a;
}

export function broadcastShapes(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (dimEq(da, db) || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else
      fail(
        `shapes ${shapeToString(a)} and ${shapeToString(b)} do not broadcast (dimension ${dimToString(da)} vs ${dimToString(db)})`,
      );
  }
  return out;
}

function sameDType(types: readonly TensorType[], what: string): DType {
  const d = types[0].dtype;
  for (const t of types)
    if (t.dtype !== d)
      fail(`${what} needs operands of one element type, got ${types.map((x) => x.dtype).join(" and ")}`);
  return d;
}

function staticDim(d: Dim, what: string): number {
  if (!isStatic(d)) throw new NotStaticError(`${what} must be a static dimension, got ${dimToString(d)}`);
  return d;
}

function checkDims(shape: readonly Dim[], what: string): void {
  if (shape.some((d) => isStatic(d) && !(Number.isInteger(d) && d >= 0)))
    fail(`${what}: ${shapeToString(shape)} has a negative or fractional dimension`);
}

function windowOut(n: Dim, k: number, s: number, pb: number, pe: number, dil: number, what: string): number {
  const size = staticDim(n, `the spatial size of ${what}`);
  const out = Math.floor((size + pb + pe - dil * (k - 1) - 1) / s) + 1;
  if (out < 1) fail(`${what}: window ${k} (dilation ${dil}) does not fit in size ${size} with padding ${pb}+${pe}`);
  return out;
}

function checkWindowAttrs(rank: number, kernel: number[], strides: number[], pads: number[], what: string): number {
  const sp = rank - 2;
  if (sp < 1) fail(`${what} needs a tensor [N, C, spatial...], got rank ${rank}`);
  if (kernel.length !== sp || strides.length !== sp || pads.length !== 2 * sp)
    fail(`${what} over ${sp} spatial dims needs ${sp} kernel sizes, ${sp} strides and ${2 * sp} pads`);
  if (strides.some((s) => !(s >= 1)) || kernel.some((k) => !(k >= 1)) || pads.some((p) => !(p >= 0)))
    fail(`${what}: kernel sizes and strides must be >= 1 and pads >= 0`);
  return sp;
}

/** What a rule knows besides its op's attributes and operand types. */
interface RuleContext {
  readonly op: string;
  arity(n: number | [number, number]): void;
}

type Rule<K extends OpName> = (attrs: OpAttrs[K], ins: readonly TensorType[], c: RuleContext) => TensorType[];

const source = (_: unknown, __: readonly TensorType[], c: RuleContext): never =>
  fail(`${c.op} nodes have no inputs to infer from`);

function inferPool(attrs: OpAttrs["max_pool"], ins: readonly TensorType[], c: RuleContext): TensorType[] {
  c.arity(1);
  const { kernel, strides, pads } = attrs;
  const x = ins[0];
  if (!isFloat(x.dtype)) fail(`${c.op} needs a float tensor, got ${x.dtype}`);
  const sp = checkWindowAttrs(x.shape.length, kernel, strides, pads, c.op);
  const spatial = x.shape.slice(2).map((n, i) => {
    if (pads[i] * 2 > kernel[i] || pads[i + sp] * 2 > kernel[i])
      fail(`${c.op}: padding must be at most half the window`);
    return windowOut(n, kernel[i], strides[i], pads[i], pads[i + sp], 1, c.op);
  });
  return [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...spatial] }];
}

/** The rule of every op but the elementwise ones (their registry rows have theirs): a missing rule does not compile. */
const RULES: { readonly [K in Exclude<OpName, UnaryOp | BinaryOp>]: Rule<K> } = {
  input: source,
  param: source,
  const: source,
  where: (_, ins, c) => {
    c.arity(3);
    if (ins[0].dtype !== "bool") fail(`where needs a bool condition, got ${ins[0].dtype}`);
    const dtype = sameDType(ins.slice(1), "where");
    return [{ dtype, shape: broadcastShapes(broadcastShapes(ins[0].shape, ins[1].shape), ins[2].shape) }];
  },
  cast: (attrs, ins, c) => {
    c.arity(1);
    return [{ dtype: attrs.to, shape: ins[0].shape }];
  },
  clip: (_, ins, c) => {
    c.arity(1);
    if (!isNumeric(ins[0].dtype)) fail(`clip is not defined for ${ins[0].dtype}`);
    return [{ dtype: ins[0].dtype, shape: ins[0].shape }];
  },
  matmul: (_, ins, c) => {
    c.arity(2);
    const dtype = sameDType(ins, "matmul");
    if (!isNumeric(dtype)) fail(`matmul is not defined for ${dtype}`);
    const [x, y] = ins.map((t) => t.shape);
    if (x.length < 1 || y.length < 1) fail("matmul needs tensors of rank >= 1");
    const xs = x.length === 1 ? [1, x[0]] : x;
    const ys = y.length === 1 ? [y[0], 1] : y;
    const kx = xs[xs.length - 1];
    const ky = ys[ys.length - 2];
    if (!dimEq(kx, ky))
      fail(
        `matmul: contracted dimensions differ: ${shapeToString(x)} @ ${shapeToString(y)} (${dimToString(kx)} vs ${dimToString(ky)})`,
      );
    const batch = broadcastShapes(xs.slice(0, -2), ys.slice(0, -2));
    const shape = [
      ...batch,
      ...(x.length === 1 ? [] : [xs[xs.length - 2]]),
      ...(y.length === 1 ? [] : [ys[ys.length - 1]]),
    ];
    return [{ dtype, shape }];
  },
  reduce: (attrs, ins, c) => {
    c.arity(1);
    const { axes, keepdims } = attrs;
    if (!isNumeric(ins[0].dtype)) fail(`reduce is not defined for ${ins[0].dtype}`);
    const rank = ins[0].shape.length;
    const set = new Set(axes.map((x) => normAxis(x, rank)));
    if (set.size !== axes.length) fail("reduce: an axis is listed twice");
    const shape = ins[0].shape.flatMap((d, i) => (set.has(i) ? (keepdims ? [1] : []) : [d]));
    return [{ dtype: ins[0].dtype, shape }];
  },
  argmax: (attrs, ins, c) => {
    c.arity(1);
    const { axis, keepdims } = attrs;
    if (!isNumeric(ins[0].dtype)) fail(`argmax is not defined for ${ins[0].dtype}`);
    const ax = normAxis(axis, ins[0].shape.length);
    const shape = ins[0].shape.flatMap((d, i) => (i === ax ? (keepdims ? [1] : []) : [d]));
    return [{ dtype: "i64", shape }];
  },
  softmax: (attrs, ins, c) => {
    c.arity(1);
    normAxis(attrs.axis, ins[0].shape.length);
    if (!isFloat(ins[0].dtype)) fail(`softmax needs a float tensor, got ${ins[0].dtype}`);
    return [{ dtype: ins[0].dtype, shape: ins[0].shape }];
  },
  layer_norm: (attrs, ins, c) => {
    c.arity([1, 3]);
    const x = ins[0];
    const ax = normAxis(attrs.axis, x.shape.length);
    const normShape = x.shape.slice(ax);
    for (const [i, t] of ins.slice(1).entries()) {
      if (t.shape.length !== normShape.length || !t.shape.every((d, j) => dimEq(d, normShape[j])))
        fail(
          `layer_norm: ${i === 0 ? "scale" : "bias"} has shape ${shapeToString(t.shape)}, expected ${shapeToString(normShape)} (the normalised axes of ${shapeToString(x.shape)})`,
        );
    }
    if (!isFloat(sameDType(ins, "layer_norm"))) fail(`layer_norm needs float tensors, got ${x.dtype}`);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  batch_norm: (_, ins, c) => {
    c.arity(5);
    const x = ins[0];
    if (x.shape.length < 2) fail(`batch_norm needs [N, C, ...], got ${shapeToString(x.shape)}`);
    for (const [i, t] of ins.slice(1).entries())
      if (t.shape.length !== 1 || !dimEq(t.shape[0], x.shape[1]))
        fail(
          `batch_norm: ${["scale", "bias", "mean", "var"][i]} has shape ${shapeToString(t.shape)}, expected [${dimToString(x.shape[1])}] (the channels of ${shapeToString(x.shape)})`,
        );
    if (!isFloat(sameDType(ins, "batch_norm"))) fail(`batch_norm needs float tensors, got ${x.dtype}`);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  attention: (_, ins, c) => {
    c.arity([3, 4]);
    const [q, k, v] = ins;
    const dtype = sameDType(ins, "attention");
    if (!isFloat(dtype)) fail(`attention needs float tensors, got ${dtype}`);
    const r = q.shape.length;
    if (r < 2 || k.shape.length !== r || v.shape.length !== r) fail("attention: q, k and v need one rank >= 2");
    if (!dimEq(q.shape[r - 1], k.shape[r - 1]))
      fail(
        `attention: query width ${dimToString(q.shape[r - 1])} differs from key width ${dimToString(k.shape[r - 1])}`,
      );
    if (!dimEq(k.shape[r - 2], v.shape[r - 2]))
      fail(`attention: ${dimToString(k.shape[r - 2])} keys but ${dimToString(v.shape[r - 2])} values`);
    const batch = broadcastShapes(broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2)), v.shape.slice(0, -2));
    const scores = [...batch, q.shape[r - 2], k.shape[r - 2]];
    if (ins[3]) {
      const b = broadcastShapes(scores, ins[3].shape);
      if (b.length !== scores.length || !b.every((d, i) => dimEq(d, scores[i])))
        fail(
          `attention: bias ${shapeToString(ins[3].shape)} does not broadcast to the scores ${shapeToString(scores)}`,
        );
    }
    return [{ dtype, shape: [...batch, q.shape[r - 2], v.shape[r - 1]] }];
  },
  lstm: (attrs, ins) => inferLstm(attrs, ins),
  transpose: (attrs, ins, c) => {
    c.arity(1);
    const perm = attrs.perm;
    const rank = ins[0].shape.length;
    if (
      perm.length !== rank ||
      new Set(perm).size !== rank ||
      perm.some((p) => p < 0 || p >= rank || !Number.isInteger(p))
    )
      fail(`transpose: [${perm.join(", ")}] is not a permutation of ${rank} axes`);
    return [{ dtype: ins[0].dtype, shape: perm.map((p) => ins[0].shape[p]) }];
  },
  reshape: (attrs, ins, c) => {
    c.arity(1);
    const shape = attrs.shape;
    checkDims(shape, "reshape");
    if (!dimEq(dimProduct(shape), dimProduct(ins[0].shape)))
      fail(
        `reshape: ${shapeToString(ins[0].shape)} has ${dimToString(dimProduct(ins[0].shape))} elements, ${shapeToString(shape)} has ${dimToString(dimProduct(shape))}`,
      );
    return [{ dtype: ins[0].dtype, shape }];
  },
  expand: (attrs, ins, c) => {
    c.arity(1);
    const shape = attrs.shape;
    checkDims(shape, "expand");
    const b = broadcastShapes(ins[0].shape, shape);
    if (b.length !== shape.length || !b.every((d, i) => dimEq(d, shape[i])))
      fail(`expand: ${shapeToString(ins[0].shape)} cannot be expanded to ${shapeToString(shape)}`);
    return [{ dtype: ins[0].dtype, shape }];
  },
  slice: (attrs, ins, c) => {
    c.arity(1);
    const { axis, start, end, step } = attrs;
    const ax = normAxis(axis, ins[0].shape.length);
    const n = staticDim(ins[0].shape[ax], "a sliced axis");
    if (![start, end, step].every(Number.isInteger) || step < 1)
      fail("slice: start and end must be integers and step an integer >= 1");
    if (start < 0 || end > n || start > end) fail(`slice ${start}:${end} is outside an axis of size ${n}`);
    const shape = [...ins[0].shape];
    shape[ax] = Math.ceil((end - start) / step);
    return [{ dtype: ins[0].dtype, shape }];
  },
  concat: (attrs, ins, _c) => {
    if (ins.length < 1) fail("concat needs at least one tensor");
    const ax = normAxis(attrs.axis, ins[0].shape.length);
    const dtype = sameDType(ins, "concat");
    let total: Dim = 0;
    for (const t of ins) {
      if (t.shape.length !== ins[0].shape.length)
        fail(`concat: ranks differ (${ins.map((x) => shapeToString(x.shape)).join(", ")})`);
      t.shape.forEach((d, i) => {
        if (i !== ax && !dimEq(d, ins[0].shape[i]))
          fail(
            `concat along axis ${ax}: shapes ${ins.map((x) => shapeToString(x.shape)).join(", ")} differ on axis ${i}`,
          );
      });
      total = dimAdd(total, t.shape[ax]);
    }
    const shape = [...ins[0].shape];
    shape[ax] = total;
    return [{ dtype, shape }];
  },
  pad: (attrs, ins, c) => {
    c.arity(1);
    const pads = attrs.pads;
    const r = ins[0].shape.length;
    if (pads.length !== 2 * r || pads.some((p) => !(p >= 0))) fail(`pad needs ${2 * r} non-negative pads`);
    return [{ dtype: ins[0].dtype, shape: ins[0].shape.map((d, i) => dimAdd(d, pads[i] + pads[i + r])) }];
  },
  gather: (attrs, ins, c) => {
    c.arity(2);
    const ax = normAxis(attrs.axis, ins[0].shape.length);
    if (ins[1].dtype !== "i64") fail(`gather needs i64 indices, got ${ins[1].dtype}`);
    const s = ins[0].shape;
    return [{ dtype: ins[0].dtype, shape: [...s.slice(0, ax), ...ins[1].shape, ...s.slice(ax + 1)] }];
  },
  gather_elements: (attrs, ins, c) => {
    c.arity(2);
    const ax = normAxis(attrs.axis, ins[0].shape.length);
    if (ins[1].dtype !== "i64") fail(`gather_elements needs i64 indices, got ${ins[1].dtype}`);
    if (ins[1].shape.length !== ins[0].shape.length) fail("gather_elements: indices must have the data's rank");
    ins[1].shape.forEach((d, i) => {
      if (i !== ax && !dimEq(d, ins[0].shape[i]))
        fail(
          `gather_elements: indices ${shapeToString(ins[1].shape)} differ from data ${shapeToString(ins[0].shape)} on axis ${i}`,
        );
    });
    return [{ dtype: ins[0].dtype, shape: ins[1].shape }];
  },
  conv: (attrs, ins, c) => {
    c.arity([2, 3]);
    const { strides, pads, dilations, groups } = attrs;
    const [x, w] = ins;
    const dtype = sameDType(ins, "conv");
    if (!isFloat(dtype)) fail(`conv needs float tensors, got ${dtype}`);
    const sp = checkWindowAttrs(
      x.shape.length,
      w.shape.slice(2).map((d) => staticDim(d, "a kernel size")),
      strides,
      pads,
      "conv",
    );
    if (w.shape.length !== x.shape.length) fail(`conv: weight ${shapeToString(w.shape)} needs rank ${x.shape.length}`);
    if (dilations.length !== sp) fail(`conv needs ${sp} dilations`);
    const cin = staticDim(x.shape[1], "conv input channels");
    const cout = staticDim(w.shape[0], "conv output channels");
    if (!(groups >= 1) || cin % groups !== 0 || cout % groups !== 0)
      fail(`conv: ${groups} groups do not divide ${cin} input and ${cout} output channels`);
    if (!dimEq(w.shape[1], cin / groups))
      fail(
        `conv: weight ${shapeToString(w.shape)} expects ${dimToString(w.shape[1])} input channels per group, the input ${shapeToString(x.shape)} gives ${cin / groups}`,
      );
    if (ins[2] && !(ins[2].shape.length === 1 && dimEq(ins[2].shape[0], cout)))
      fail(`conv: bias ${shapeToString(ins[2].shape)} should be [${cout}]`);
    const spatial = x.shape
      .slice(2)
      .map((n, i) => windowOut(n, w.shape[2 + i] as number, strides[i], pads[i], pads[i + sp], dilations[i], "conv"));
    return [{ dtype, shape: [x.shape[0], cout, ...spatial] }];
  },
  max_pool: inferPool,
  avg_pool: inferPool,
  resize: (attrs, ins, c) => {
    c.arity(1);
    const { sizes } = attrs;
    const x = ins[0];
    if (!isFloat(x.dtype)) fail(`resize needs a float tensor, got ${x.dtype}`);
    const sp = x.shape.length - 2;
    if (sp < 1 || sp > 3)
      fail(`resize needs a tensor [N, C, spatial...] with 1 to 3 spatial axes, got rank ${x.shape.length}`);
    if (sizes.length !== sp) fail(`resize over ${sp} spatial axes needs ${sp} sizes, got [${sizes.join(", ")}]`);
    if (sizes.some((s) => !(Number.isInteger(s) && s >= 1)))
      fail(`resize: sizes [${sizes.join(", ")}] must be integers >= 1`);
    x.shape.slice(2).forEach((d) => staticDim(d, "resize's input spatial size"));
    return [{ dtype: x.dtype, shape: [x.shape[0], x.shape[1], ...sizes] }];
  },
  topk: (attrs, ins, c) => {
    c.arity(1);
    const { axis, k } = attrs;
    if (!isNumeric(ins[0].dtype)) fail(`topk is not defined for ${ins[0].dtype}`);
    const ax = normAxis(axis, ins[0].shape.length);
    const n = staticDim(ins[0].shape[ax], "the top-k axis");
    if (!Number.isInteger(k) || k < 1 || k > n) fail(`topk: k = ${k} must be in 1..${n}`);
    const shape = [...ins[0].shape];
    shape[ax] = k;
    return [
      { dtype: ins[0].dtype, shape },
      { dtype: "i64", shape },
    ];
  },
  sample_linear: (attrs, ins, c) => {
    c.arity(2);
    const [x, pos] = ins;
    const ax = normAxis(attrs.axis, x.shape.length);
    if (!isFloat(x.dtype) || !isFloat(pos.dtype))
      fail(`sample_linear needs float data and positions, got ${x.dtype} and ${pos.dtype}`);
    if (pos.shape.length !== ax + 1)
      fail(
        `sample_linear along axis ${ax}: positions must be [${x.shape.slice(0, ax).map(dimToString).concat("K").join(", ")}] (one leading dim per axis before it), got ${shapeToString(pos.shape)}`,
      );
    pos.shape.slice(0, ax).forEach((d, i) => {
      if (!dimEq(d, x.shape[i]) && d !== 1)
        fail(
          `sample_linear: positions ${shapeToString(pos.shape)} do not match data ${shapeToString(x.shape)} on axis ${i}`,
        );
    });
    const shape = [...x.shape];
    shape[ax] = pos.shape[ax];
    return [{ dtype: x.dtype, shape }];
  },
};

export function inferOp<K extends OpName>(op: K, attrs: OpAttrs[K], ins: readonly TensorType[]): TensorType[] {
  const arity = (n: number | [number, number]) => {
    const [lo, hi] = typeof n === "number" ? [n, n] : n;
    if (ins.length < lo || ins.length > hi)
      fail(`${op} takes ${lo === hi ? lo : `${lo} to ${hi}`} inputs, got ${ins.length}`);
  };
  const unary = unaryRow(op);
  if (unary) {
    arity(1);
    const t = ins[0].dtype;
    const ok = unary.domain === "bool" ? t === "bool" : unary.domain === "numeric" ? isNumeric(t) : isFloat(t);
    if (!ok) fail(`${op} is not defined for ${t}`);
    return [{ dtype: ins[0].dtype, shape: ins[0].shape }];
  }
  const binary = binaryRow(op);
  if (binary) {
    arity(2);
    const dtype = sameDType(ins, op);
    if (binary.operands === "bool" && dtype !== "bool") fail(`${op} needs bool operands, got ${dtype}`);
    if ((binary.operands === "numeric" && !isNumeric(dtype)) || (binary.operands === "float" && !isFloat(dtype)))
      fail(`${op} is not defined for ${dtype}`);
    const shape = broadcastShapes(ins[0].shape, ins[1].shape);
    const broken = binary.check?.(ins[0].shape, ins[1].shape, shape);
    if (broken) fail(broken);
    return [{ dtype: binary.result === "bool" ? "bool" : dtype, shape }];
  }
  if (!Object.hasOwn(RULES, op)) fail(`unknown op ${op}`);
  return (RULES[op as keyof typeof RULES] as Rule<K>)(attrs, ins, { op, arity });
}

/**
 * lstm (x [T, N, I], w_ih [4H, I], w_hh [4H, H], then b_ih [4H], b_hh [4H] when `bias`, then optionally h0 and c0
 * [N, H]) -> (y [T, N, H], h_n [N, H], c_n [N, H]).
 */
function inferLstm({ bias }: OpAttrs["lstm"], ins: readonly TensorType[]): TensorType[] {
  const base = bias ? 5 : 3;
  if (ins.length !== base && ins.length !== base + 2)
    fail(
      `lstm ${bias ? "with" : "without"} biases takes ${base} inputs, or ${base + 2} with an initial state (h0, c0), got ${ins.length}`,
    );
  const dtype = sameDType(ins, "lstm");
  if (!isFloat(dtype)) fail(`lstm needs float tensors, got ${dtype}`);
  const [x, wIh, wHh] = ins;
  if (x.shape.length !== 3) fail(`lstm: the input must be [T, N, input_size], got ${shapeToString(x.shape)}`);
  if (wIh.shape.length !== 2 || wHh.shape.length !== 2) fail("lstm: w_ih and w_hh must be matrices");
  const gates = staticDim(wHh.shape[0], "lstm's 4 * hidden_size");
  if (gates % 4 !== 0) fail(`lstm: w_hh has ${gates} rows, not a multiple of 4 (the gates i, f, g, o)`);
  const h = gates / 4;
  const expect = (t: TensorType, shape: Dim[], what: string) => {
    if (t.shape.length !== shape.length || !t.shape.every((d, i) => dimEq(d, shape[i])))
      fail(`lstm: ${what} has shape ${shapeToString(t.shape)}, expected ${shapeToString(shape)}`);
  };
  expect(wHh, [4 * h, h], "w_hh");
  expect(wIh, [4 * h, x.shape[2]], "w_ih");
  if (bias) {
    expect(ins[3], [4 * h], "b_ih");
    expect(ins[4], [4 * h], "b_hh");
  }
  if (ins.length === base + 2) {
    expect(ins[base], [x.shape[1], h], "h0");
    expect(ins[base + 1], [x.shape[1], h], "c0");
  }
  const state = { dtype, shape: [x.shape[1], h] };
  return [{ dtype, shape: [x.shape[0], x.shape[1], h] }, state, state];
}

/** Elements of a shape when static, for size limits. */
export function staticNumel(shape: readonly Dim[]): number | undefined {
  const p = dimProduct(shape);
  return isStatic(p) ? p : undefined;
}
