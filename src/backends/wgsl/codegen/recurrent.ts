// One direction of an LSTM layer as one kernel: a workgroup per sequence in the batch walks the time steps in
// order; each thread owns some hidden units (their cell state stays in its registers), the hidden state of the
// previous step sits in workgroup memory (double-buffered, so one barrier per step suffices).
import type { KernelOf } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { u } from "./indexing.js";
import { ENTRY, ENTRY_ARGS, type KernelModule, type KernelWriter } from "./writer.js";

const THREADS = 256;

export function lstmKernel(w: KernelWriter, k: KernelOf<"lstm">): KernelModule {
  const { reverse, bias } = k.anchor.attrs;
  const [x, wih, whh, ...rest] = k.anchor.inputs;
  const [bih, bhh] = bias ? rest : [];
  const [h0, c0] = bias ? rest.slice(2) : rest;
  const [y, hn, cn] = k.anchor.outputs;
  const [steps, batch, inputs] = shapeOf(x);
  const hidden = shapeOf(whh)[1];
  const units = Math.ceil(hidden / THREADS);
  w.use("sigmoid_f");
  w.use("tanh_f");
  const gate = (g: number) => {
    const row = `${u(g * hidden)} + unit`;
    const biases = bias ? `${w.read(bih, row)} + ${w.read(bhh, row)}` : "0.0f";
    const xAt = w.read(x, `(t * ${u(batch)} + n) * ${u(inputs)} + c`);
    const input = `${xAt} * ${w.read(wih, `(${row}) * ${u(inputs)} + c`)}`;
    const recurrent = `state[now + c] * ${w.read(whh, `(${row}) * ${u(hidden)} + c`)}`;
    return `    var z${g} = ${biases};
    for (var c = 0u; c < ${u(inputs)}; c = c + 1u) { z${g} = z${g} + ${input}; }
    for (var c = 0u; c < ${u(hidden)}; c = c + 1u) { z${g} = z${g} + ${recurrent}; }`;
  };
  const batches = w.itemsAlong(x, 1);
  const g = w.grid(batches, 1);
  const main = `var<workgroup> state: array<f32, ${2 * hidden}>;

${ENTRY}(${THREADS}) fn main(${ENTRY_ARGS}) {
  let n = ${g.index};
  if (n >= ${w.times(batches)}) { return; }
  var cell: array<f32, ${units}>;
  for (var q = 0u; q < ${u(units)}; q = q + 1u) {
    let unit = lid + q * ${u(THREADS)};
    if (unit < ${u(hidden)}) {
      state[unit] = ${h0 ? w.read(h0, `n * ${u(hidden)} + unit`) : "0.0f"};
      cell[q] = ${c0 ? w.read(c0, `n * ${u(hidden)} + unit`) : "0.0f"};
    }
  }
  workgroupBarrier();
  for (var s = 0u; s < ${u(steps)}; s = s + 1u) {
    let t = ${reverse ? `${u(steps - 1)} - s` : "s"};
    let now = (s % 2u) * ${u(hidden)};
    let next = ${u(hidden)} - now;
    for (var q = 0u; q < ${u(units)}; q = q + 1u) {
      let unit = lid + q * ${u(THREADS)};
      if (unit >= ${u(hidden)}) { continue; }
${[0, 1, 2, 3].map(gate).join("\n")}
      cell[q] = sigmoid_f(z1) * cell[q] + sigmoid_f(z0) * tanh_f(z2);
      let h = sigmoid_f(z3) * tanh_f(cell[q]);
      state[next + unit] = h;
      ${w.store(y, `(t * ${u(batch)} + n) * ${u(hidden)} + unit`, "h")}
    }
    workgroupBarrier();
  }
  for (var q = 0u; q < ${u(units)}; q = q + 1u) {
    let unit = lid + q * ${u(THREADS)};
    if (unit < ${u(hidden)}) {
      ${w.store(hn, `n * ${u(hidden)} + unit`, `state[${u(steps % 2 === 0 ? 0 : hidden)} + unit]`)}
      ${w.store(cn, `n * ${u(hidden)} + unit`, "cell[q]")}
    }
  }
}`;
  return w.finish(main, g.workgroups);
}
