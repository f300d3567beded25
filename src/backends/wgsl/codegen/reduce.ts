// Reductions (sum, mean, max, min, prod over any axes) and argmax: the reduced elements of each output form a
// row (see rows.ts), addressed through the input's strides, so any set of axes reduces without a transpose.
import type { OpAttrs } from "../../../compiler/ir/ir.js";
import { normAxis } from "../../../compiler/ir/infer.js";
import type { KernelOf } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { around } from "./expr.js";
import { coord, linear, numelOf, u } from "./indexing.js";
import { stridesOf } from "../../../util/tensor.js";
import { perElementMain } from "./pointwise.js";
import { type ExprType, exprTypeOf } from "./scalar-types.js";
import { rowShape, workgroupReduce } from "./rows.js";
import type { KernelModule, KernelWriter } from "./writer.js";

type Kind = OpAttrs["reduce"]["kind"];

function identity(kind: Kind, t: ExprType): string {
  const float = t === "f32";
  switch (kind) {
    case "max":
      return float ? "from_bits(0xff800000u)" : "i32(-2147483647 - 1)";
    case "min":
      return float ? "from_bits(0x7f800000u)" : "2147483647i";
    case "prod":
      return float ? "1.0f" : "1i";
    default:
      return float ? "0.0f" : "0i";
  }
}

function combine(kind: Kind, a: string, b: string): string {
  if (kind === "max" || kind === "min") return `${kind}(${a}, ${b})`;
  return kind === "prod" ? `${a} * ${b}` : `${a} + ${b}`;
}

export function reduceKernel(w: KernelWriter, k: KernelOf<"reduce">): KernelModule {
  const { kind, axes } = k.anchor.attrs;
  const [x] = k.anchor.inputs;
  const xShape = shapeOf(x);
  const xs = stridesOf(xShape);
  const reduced = new Set(axes.map((a) => normAxis(a, xShape.length)));
  const keptAxes = xShape.map((_, d) => d).filter((d) => !reduced.has(d));
  const redAxes = [...reduced].sort((a, b) => a - b);
  const keptShape = keptAxes.map((d) => xShape[d]);
  const redShape = redAxes.map((d) => xShape[d]);
  const [outputs, count] = [numelOf(keptShape), numelOf(redShape)];
  const t = exprTypeOf(x.dtype);
  const base = linear(
    keptAxes.map((_, j) => coord("o", keptShape, j)),
    keptAxes.map((d) => xs[d]),
  );
  const offset = linear(
    redAxes.map((_, j) => coord("e", redShape, j)),
    redAxes.map((d) => xs[d]),
  );
  const element = w.read(x, `base + ${offset}`);
  const finish = (acc: string) => (kind !== "mean" ? acc : t === "f32" ? `${acc} / ${count}.0f` : `${acc} / ${count}i`);
  const rows = rowShape(w, w.items(outputs, x, !reduced.has(0)), count);
  const body = `  let o = r;
  let base = ${base};
  var acc = ${identity(kind, t)};
  ${rows.each("e")} { acc = ${combine(kind, "acc", element)}; }
  let total = ${rows.combine("reduce_all", "acc")};
  ${rows.once}{ emit(o, ${finish("total")}); }`;
  const { main, workgroups } = rows.main(body);
  const shared = rows.parallel ? [workgroupReduce("reduce_all", t, (a, b) => combine(kind, a, b))] : [];
  return w.finish([...shared, w.epilogue(), main].join("\n\n"), workgroups);
}

export function argmaxKernel(w: KernelWriter, k: KernelOf<"argmax">): KernelModule {
  const [x] = k.anchor.inputs;
  const xShape = shapeOf(x);
  const axis = normAxis(k.anchor.attrs.axis, xShape.length);
  const [outer, n, inner] = around(xShape, axis);
  const at = (j: string) => w.read(x, `(i / ${u(inner)} * ${u(n)} + ${j}) * ${u(inner)} + i % ${u(inner)}`);
  const body = `  var best = ${at("0u")};
  var index = 0i;
  for (var j = 1u; j < ${u(n)}; j = j + 1u) {
    let v = ${at("j")};
    if (v > best) { best = v; index = i32(j); }
  }
  emit(i, index);`;
  const { main, workgroups } = perElementMain(w, w.items(outer * inner, x, axis !== 0), body);
  return w.finish(`${w.epilogue()}\n\n${main}`, workgroups);
}
