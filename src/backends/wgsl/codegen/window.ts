// Convolution and pooling over [N, C, spatial...]: a pooling thread computes one output element, a convolution
// thread up to four output channels of one group at up to four pixels (convKernel). Convolutions with enough
// work and channels per group are implicit matrix products instead (conv-gemm.ts).
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
 * Nested loops over the taps of the window's first `axes` axes; `body` runs for taps inside the input with `xo`
 * (those axes' offset in the input plane) and `to` (their taps' offset in the kernel) defined. `at(d)` is the
 * output coordinate along axis d. Axes of one tap get no loop, and axes whose taps never reach the padding no
 * bounds check (a 1x1 convolution is then a plain dot product).
 */
function windowLoops(
  spatial: readonly number[],
  out: readonly number[],
  win: Window,
  axes: number,
  at: (d: number) => string,
  body: string,
): string {
  const xs = stridesOf(spatial);
  const ks = stridesOf(win.kernel);
  const open: string[] = [];
  const lead = [...Array(axes).keys()];
  for (const d of lead) {
    const n = spatial[d];
    const k = win.kernel[d];
    if (k > 1) open.push(`for (var t${d} = 0u; t${d} < ${u(k)}; t${d} = t${d} + 1u) {`);
    const q = `${at(d)} * ${u(win.strides[d])}${k > 1 ? ` + t${d} * ${u(win.dilations[d])}` : ""}`;
    const last = (out[d] - 1) * win.strides[d] + (k - 1) * win.dilations[d] - win.pads[d];
    if (win.pads[d] === 0 && last < n) open.push(`let q${d} = ${q};`);
    else open.push(`let q${d} = i32(${q}) - ${win.pads[d]}i;`, `if (q${d} >= 0i && q${d} < ${n}i) {`);
  }
  const offsets = [
    `let xo = ${linear(
      lead.map((d) => `u32(q${d})`),
      xs,
    )};`,
    `let to = ${linear(
      lead.map((d) => (win.kernel[d] > 1 ? `t${d}` : "0u")),
      ks,
    )};`,
  ];
  const close = open.filter((l) => l.endsWith("{")).map(() => "}");
  return [...open, ...offsets, ...body.split("\n"), ...close].map((l) => `    ${l}`).join("\n");
}

/** Output channels per thread: four when a group's channels divide evenly, else one. */
const channelsPerThread = (perGroup: number) => (perGroup % 4 === 0 ? 4 : 1);
/** Output pixels per thread, consecutive along the last axis. */
const PIXELS_PER_THREAD = 4;
/** Longer windows along the last axis are looped over like the other axes, one pixel per thread (code size). */
const UNROLLED_TAPS = 11;

/**
 * A thread computes up to four output channels at up to four consecutive pixels of the last axis. The last
 * axis's taps are unrolled: each input element of the row segment the pixels' windows cover is loaded once into
 * a register and serves every pixel and channel whose window holds it; each weight serves all the pixels.
 * Windows longer than UNROLLED_TAPS along that axis are looped over instead, at one pixel per thread.
 */
export function convKernel(w: KernelWriter, k: KernelOf<"conv">): KernelModule {
  if (convTiles(w, k)) return convGemmKernel(w, k);
  const a = k.anchor.attrs;
  const [x, weight, bias] = k.anchor.inputs;
  const [, cin, ...spatial] = shapeOf(x);
  const [cout, cpg, ...kernel] = shapeOf(weight);
  const [batch, , ...outSpatial] = shapeOf(k.anchor.outputs[0]);
  const last = spatial.length - 1;
  const [width, outWidth, taps] = [spatial[last], outSpatial[last], kernel[last]];
  const [stride, dilation, pad] = [a.strides[last], a.dilations[last], a.pads[last]];
  const outPlane = numelOf(outSpatial);
  const rows = outPlane / outWidth;
  const perGroup = cout / a.groups;
  const cpt = channelsPerThread(perGroup);
  const unrolled = taps <= UNROLLED_TAPS;
  const ppt = unrolled ? Math.min(PIXELS_PER_THREAD, outWidth) : 1;
  const spans = Math.ceil(outWidth / ppt);
  const kSize = numelOf(kernel);
  const blocks = cout / cpt;
  const channels = [...Array(cpt).keys()];
  const pixels = [...Array(ppt).keys()];
  // Offsets along the last axis, from the first pixel's window start, that some pixel's tap reads.
  const offsets = [...new Set(pixels.flatMap((j) => [...Array(taps).keys()].map((t) => j * stride + t * dilation)))];
  const reach = (spans * ppt - 1) * stride + (taps - 1) * dilation - pad;
  const checked = pad > 0 || reach >= width;
  const load = (o: number) => {
    const q = o === 0 ? "q" : `q + ${checked ? `${o}i` : u(o)}`;
    const at = `xc + xo + ${checked ? `u32(${q})` : q}`;
    return checked
      ? `var x${o} = 0.0f;\nif (${q} >= 0i && ${q} < ${width}i) { x${o} = ${w.read(x, at)}; }`
      : `let x${o} = ${w.read(x, at)};`;
  };
  const unrolledBody = () => [...offsets.map(load), ...unrolledAccumulate()];
  const loopedBody = () => [
    `let xv = ${w.read(x, "xc + xo")};`,
    ...channels.map((c) => `acc${c}_0 = acc${c}_0 + xv * ${w.read(weight, `wc + ${u(c * cpg * kSize)} + to`)};`),
  ];
  const unrolledAccumulate = () =>
    channels.flatMap((c) =>
      [...Array(taps).keys()].flatMap((t) => [
        `let w${c}_${t} = ${w.read(weight, `wc + ${u(c * cpg * kSize)} + to + ${u(t)}`)};`,
        ...pixels.map((j) => `acc${c}_${j} = acc${c}_${j} + x${j * stride + t * dilation} * w${c}_${t};`),
      ]),
    );
  const leading = outSpatial.slice(0, last);
  const body = windowLoops(
    spatial,
    outSpatial,
    { kernel, ...a },
    unrolled ? last : spatial.length,
    (d) => (d < last ? coord("r", leading, d) : "ow"),
    (unrolled ? unrolledBody() : loopedBody()).join("\n"),
  );
  const emits = channels.flatMap((c) =>
    pixels.map((j) => {
      const m = c === 0 ? "m0" : `m0 + ${u(c)}`;
      const value = `acc${c}_${j}${bias ? ` + ${w.read(bias, m)}` : ""}`;
      const store = `emit((nb * ${u(cout)} + ${m}) * ${u(outPlane)} + r * ${u(outWidth)} + ow + ${u(j)}, ${value});`;
      return outWidth % ppt === 0 || j === 0 ? `  ${store}` : `  if (ow + ${u(j)} < ${u(outWidth)}) { ${store} }`;
    }),
  );
  const firstTap = unrolled ? `  let q = ${checked ? `i32(ow * ${u(stride)}) - ${pad}i` : `ow * ${u(stride)}`};\n` : "";
  const accumulators = channels.flatMap((c) => pixels.map((j) => `  var acc${c}_${j} = 0.0f;`)).join("\n");
  const main = `  let nb = i / ${u(blocks * rows * spans)};
  let m0 = (i / ${u(rows * spans)}) % ${u(blocks)} * ${u(cpt)};
  let r = (i / ${u(spans)}) % ${u(rows)};
  let ow = i % ${u(spans)} * ${u(ppt)};
  let g = m0 / ${u(perGroup)};
${firstTap}${accumulators}
  for (var c = 0u; c < ${u(cpg)}; c = c + 1u) {
    let xc = ((nb * ${u(cin)}) + g * ${u(cpg)} + c) * ${u(numelOf(spatial))};
    let wc = (m0 * ${u(cpg)} + c) * ${u(kSize)};
${body}
  }
${emits.join("\n")}`;
  const items = w.items(batch * blocks * rows * spans, k.anchor.outputs[0]);
  const { main: entry, workgroups } = perElementMain(w, items, main);
  return w.finish(`${w.epilogue()}\n\n${entry}`, workgroups);
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
    spatial.length,
    (d) => coord("p", outSpatial, d),
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
  const { main, workgroups } = perElementMain(w, w.items(numelOf(out), node.outputs[0]), body);
  return w.finish(`${w.epilogue()}\n\n${main}`, workgroups);
}
