// Top-k along an axis: one thread per row picks the k elements in order, each pass taking the best element
// that ranks after the previous pick (value first, then the lower index), so no sorting buffer is needed.
import { normAxis } from "../../../compiler/ir/infer.js";
import type { KernelOf } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { around } from "./expr.js";
import { u } from "./indexing.js";
import { perElementMain } from "./pointwise.js";
import { exprTypeOf, zeroOf } from "./scalar-types.js";
import type { KernelModule, KernelWriter } from "./writer.js";

export function topkKernel(w: KernelWriter, k: KernelOf<"topk">): KernelModule {
  const { axis, k: count, largest } = k.anchor.attrs;
  const [x] = k.anchor.inputs;
  const [values, indices] = k.anchor.outputs;
  const shape = shapeOf(x);
  const [outer, n, inner] = around(shape, normAxis(axis, shape.length));
  const t = exprTypeOf(x.dtype);
  const [beyond, better] = largest ? ["<", ">"] : [">", "<"];
  const slot = `(i / ${u(inner)} * ${u(count)} + s) * ${u(inner)} + i % ${u(inner)}`;
  const stores = [w.store(values, slot, "best"), w.store(indices, slot, "pick")];
  const body = `  var last = ${zeroOf(t)};
  var lastIndex = -1i;
  for (var s = 0u; s < ${u(count)}; s = s + 1u) {
    var best = ${zeroOf(t)};
    var pick = -1i;
    for (var j = 0u; j < ${u(n)}; j = j + 1u) {
      let v = ${w.read(x, `(i / ${u(inner)} * ${u(n)} + j) * ${u(inner)} + i % ${u(inner)}`)};
      let after = lastIndex < 0i || v ${beyond} last || (v == last && i32(j) > lastIndex);
      if (after && (pick < 0i || v ${better} best)) { best = v; pick = i32(j); }
    }
    ${stores.join("\n    ")}
    last = best;
    lastIndex = pick;
  }`;
  const { main, workgroups } = perElementMain(w, w.items(outer * inner, x, normAxis(axis, shape.length) !== 0), body);
  return w.finish(main, workgroups);
}
