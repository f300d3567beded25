// Convolution and pooling over [N, C, spatial...]: one thread per output element (a convolution thread computes
// up to four output channels of one group, so each input element it loads serves all four). Convolutions with
// enough work and channels per group are implicit matrix products instead (conv-gemm.ts).
import type { KernelOf } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { coord, linear, numelOf, u } from "./indexing.js";
import { stridesOf } from "../../../util/tensor.js";
import { perElementMain } from "./pointwise.js";
import { convGemmKernel, convTiles } from "./conv-gemm.js";
import type { KernelModule, KernelWriter } from "./writer.js";

interface Window {
  kernel: number[];
  strides: number[];
  pads: number[];
  dilations: number[];
}

/**
 * Nested loops over the window's taps; `body` runs for taps inside the input with `xo` (the spatial offset in
 * the input plane) and `to` (the tap's flat index in the kernel) defined. Axes of one tap get no loop, and axes
 * whose taps never reach the padding no bounds check (a 1x1 convolution is then a plain dot product).
 */
function windowLoops(spatial: readonly number[], out: readonly number[], win: Window, body: string): string {
  const xs = stridesOf(spatial);
  const ks = stridesOf(win.kernel);
  const open: string[] = [];
  spatial.forEach((n, d) => {
    const k = win.kernel[d];
    if (k > 1) open.push(`for (var t${d} = 0u; t${d} < ${u(k)}; t${d} = t${d} + 1u) {`);
    const at = `${coord("p", out, d)} * ${u(win.strides[d])}${k > 1 ? ` + t${d} * ${u(win.dilations[d])}` : ""}`;
    const last = (out[d] - 1) * win.strides[d] + (k - 1) * win.dilations[d] - win.pads[d];
    if (win.pads[d] === 0 && last < n) open.push(`let q${d} = ${at};`);
    else open.push(`let q${d} = i32(${at}) - ${win.pads[d]}i;`, `if (q${d} >= 0i && q${d} < ${n}i) {`);
  });
  const offsets = [
    `let xo = ${linear(
      spatial.map((_, d) => `u32(q${d})`),
      xs,
    )};`,
    `let to = ${linear(
      win.kernel.map((k, d) => (k > 1 ? `t${d}` : "0u")),
      ks,
    )};`,
  ];
  const close = open.filter((l) => l.endsWith("{")).map(() => "}");
  return [...open, ...offsets, body, ...close].map((l) => `    ${l}`).join("\n");
}

/** Output channels per thread: four when a group's channels divide evenly, else one. */
const channelsPerThread = (perGroup: number) => (perGroup % 4 === 0 ? 4 : 1);

export function convKernel(w: KernelWriter, k: KernelOf<"conv">): KernelModule {
  if (convTiles(k)) return convGemmKernel(w, k);
  const a = k.anchor.attrs;
  const [x, weight, bias] = k.anchor.inputs;
  const [, cin, ...spatial] = shapeOf(x);
  const [cout, cpg, ...kernel] = shapeOf(weight);
  const [batch, , ...outSpatial] = shapeOf(k.anchor.outputs[0]);
  const outPlane = numelOf(outSpatial);
  const perGroup = cout / a.groups;
  const cpt = channelsPerThread(perGroup);
  const kSize = numelOf(kernel);
  const blocks = cout / cpt;
  // One accumulator variable per channel (not an array), so that they stay in registers.
  const acc = Array.from({ length: cpt }, (_, j) => `acc${j}`);
  const taps = windowLoops(
    spatial,
    outSpatial,
    { kernel, ...a },
    [
      `let xv = ${w.read(x, `xc + xo`)};`,
      ...acc.map(
        (v, j) => `${v} = ${v} + xv * ${w.read(weight, j === 0 ? "wc + to" : `wc + ${u(j * cpg * kSize)} + to`)};`,
      ),
    ].join("\n"),
  );
  const body = `  let nb = i / ${u(blocks * outPlane)};
  let m0 = (i / ${u(outPlane)}) % ${u(blocks)} * ${u(cpt)};
  let p = i % ${u(outPlane)};
  let g = m0 / ${u(perGroup)};
${acc.map((v) => `  var ${v} = 0.0f;`).join("\n")}
  for (var c = 0u; c < ${u(cpg)}; c = c + 1u) {
    let xc = ((nb * ${u(cin)}) + g * ${u(cpg)} + c) * ${u(numelOf(spatial))};
    let wc = (m0 * ${u(cpg)} + c) * ${u(kSize)};
${taps}
  }
${acc
  .map((v, j) => {
    const m = j === 0 ? "m0" : `m0 + ${u(j)}`;
    return `  emit((nb * ${u(cout)} + ${m}) * ${u(outPlane)} + p, ${v}${bias ? ` + ${w.read(bias, m)}` : ""});`;
  })
  .join("\n")}`;
  const { main, workgroups } = perElementMain(w, batch * blocks * outPlane, body);
  return w.finish(`${w.epilogue()}\n\n${main}`, workgroups);
}

export function poolKernel(w: KernelWriter, k: KernelOf<"pool">): KernelModule {
  const node = k.anchor;
  const a = node.attrs;
  const [x] = node.inputs;
  const [, , ...spatial] = shapeOf(x);
  const out = shapeOf(node.outputs[0]);
  const outSpatial = out.slice(2);
  const outPlane = numelOf(outSpatial);
  const isMax = node.op === "max_pool";
  const taps = windowLoops(
    spatial,
    outSpatial,
    { ...a, dilations: a.kernel.map(() => 1) },
    [
      `let xv = ${w.read(x, "xc + xo")};`,
      isMax ? "acc = max(acc, xv);" : "acc = acc + xv;",
      "count = count + 1u;",
    ].join("\n"),
  );
  const divisor = node.op === "avg_pool" && node.attrs.countIncludePad ? u(numelOf(a.kernel)) : "count";
  const body = `  let p = i % ${u(outPlane)};
  let xc = i / ${u(outPlane)} * ${u(numelOf(spatial))};
  var acc = ${isMax ? "from_bits(0xff800000u)" : "0.0f"};
  var count = 0u;
${taps}
  emit(i, ${isMax ? "acc" : `acc / f32(${divisor})`});`;
  const { main, workgroups } = perElementMain(w, numelOf(out), body);
  return w.finish(`${w.epilogue()}\n\n${main}`, workgroups);
}
