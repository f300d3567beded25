// Batched matmul with numpy broadcasting over the batch dims. Large products use 32x32 output tiles per workgroup
// of 64 threads, each thread accumulating a 4x4 block (unrolled, in registers), operands staged through workgroup
// memory in 16-wide slices of K; small ones give each thread one output (no barriers, which also keeps software
// adapters' compiles short).
// Operands are read through their index functions, so transposed or reshaped inputs cost no copy.
import { broadcastShapes } from "../../../compiler/ir/infer.js";
import type { KernelOf } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { broadcastIndex, numelOf, u } from "./indexing.js";
import { perElementMain } from "./pointwise.js";
import { zeroOf } from "./scalar-types.js";
import {
  anchorType,
  DispatchTooLarge,
  ENTRY,
  ENTRY_ARGS,
  fixedExtent,
  type KernelModule,
  type KernelWriter,
} from "./writer.js";

export const TILE = 32;
export const SLICE = 16;
export const THREADS = 64;
export const PER_THREAD = 4;
export const SIDE = TILE / PER_THREAD;
/** Products of at least this many multiply-adds, with both sides at least a few rows, are tiled. */
const TILED_FROM = 1 << 20;
const TILED_MIN_SIDE = 8;

/** The per-thread block, unrolled: its accumulators and operands are scalars, so they stay in registers. */
const range = [...Array(PER_THREAD).keys()];
const each = (line: (r: number, c: number) => string) => range.flatMap((r) => range.map((c) => line(r, c))).join("\n");

export function matmulKernel(w: KernelWriter, k: KernelOf<"matmul">): KernelModule {
  const [a, b] = k.anchor.inputs;
  const as = shapeOf(a).length === 1 ? [1, ...shapeOf(a)] : shapeOf(a);
  const bs = shapeOf(b).length === 1 ? [...shapeOf(b), 1] : shapeOf(b);
  const [m, kk, n] = [as[as.length - 2], as[as.length - 1], bs[bs.length - 1]];
  const batchShape = broadcastShapes(as.slice(0, -2), bs.slice(0, -2)) as number[];
  const out = k.anchor.outputs[0];
  // A run-time batch is the output's first axis: in the batch dims, or the rows when there are none.
  const rowsGrow = shapeOf(a).length === 2 && batchShape.length === 0;
  const batch = w.items(numelOf(batchShape), out, !rowsGrow);
  const rows = w.items(m, out, rowsGrow);
  const t = anchorType(k);
  const aAt = (row: string, col: string) =>
    `${broadcastIndex(batchShape, as.slice(0, -2), "bi")} * ${w.times(rows, kk)} + ${row} * ${u(kk)} + ${col}`;
  const bAt = (row: string, col: string) =>
    `${broadcastIndex(batchShape, bs.slice(0, -2), "bi")} * ${u(kk * n)} + ${row} * ${u(n)} + ${col}`;
  const [batchMax, mMax] = [w.atMax(batch), w.atMax(rows)];
  if (batchMax * mMax * n * kk < TILED_FROM || mMax < TILED_MIN_SIDE || n < TILED_MIN_SIDE) {
    const product = `${w.read(a, aAt("row", "c"))} * ${w.read(b, bAt("c", "col"))}`;
    const body = `  let bi = i / ${w.times(rows, n)};
  let row = i / ${u(n)} % ${w.times(rows)};
  let col = i % ${u(n)};
  var acc = ${zeroOf(t)};
  for (var c = 0u; c < ${u(kk)}; c = c + 1u) { acc = acc + ${product}; }
  emit(i, acc);`;
    const { main, workgroups } = perElementMain(w, w.items(numelOf(shapeOf(out)), out), body);
    return w.finish(
      `${w.epilogue()}

${main}`,
      workgroups,
    );
  }
  const main = `var<workgroup> tileA: array<${t}, ${TILE * SLICE}>;
var<workgroup> tileB: array<${t}, ${SLICE * TILE}>;

fn loadA(bi: u32, row: u32, col: u32) -> ${t} {
  if (row >= ${w.times(rows)} || col >= ${u(kk)}) { return ${zeroOf(t)}; }
  return ${w.read(a, aAt("row", "col"))};
}

fn loadB(bi: u32, row: u32, col: u32) -> ${t} {
  if (row >= ${u(kk)} || col >= ${u(n)}) { return ${zeroOf(t)}; }
  return ${w.read(b, bAt("row", "col"))};
}

${w.epilogue()}

fn store(bi: u32, row: u32, col: u32, acc: ${t}) {
  if (row < ${w.times(rows)} && col < ${u(n)}) { emit((bi * ${w.times(rows)} + row) * ${u(n)} + col, acc); }
}

${ENTRY}(${THREADS}) fn main(${ENTRY_ARGS}) {
  let bi = wid.z;
  let m0 = wid.y * ${u(TILE)};
  let n0 = wid.x * ${u(TILE)};
  let tx = lid % ${u(SIDE)};
  let ty = lid / ${u(SIDE)};
${each((r, c) => `  var acc${r}${c} = ${zeroOf(t)};`)}
  for (var k0 = 0u; k0 < ${u(kk)}; k0 = k0 + ${u(SLICE)}) {
    for (var e = lid; e < ${u(TILE * SLICE)}; e = e + ${u(THREADS)}) {
      tileA[e] = loadA(bi, m0 + e / ${u(SLICE)}, k0 + e % ${u(SLICE)});
      tileB[e] = loadB(bi, k0 + e / ${u(TILE)}, n0 + e % ${u(TILE)});
    }
    workgroupBarrier();
    for (var s = 0u; s < ${u(SLICE)}; s = s + 1u) {
${range.map((r) => `      let a${r} = tileA[(ty + ${u(r * SIDE)}) * ${u(SLICE)} + s];`).join("\n")}
${range.map((c) => `      let b${c} = tileB[s * ${u(TILE)} + tx + ${u(c * SIDE)}];`).join("\n")}
${each((r, c) => `      acc${r}${c} = acc${r}${c} + a${r} * b${c};`)}
    }
    workgroupBarrier();
  }
${each((r, c) => `  store(bi, m0 + ty + ${u(r * SIDE)}, n0 + tx + ${u(c * SIDE)}, acc${r}${c});`)}
}`;
  const tiles: [number, number, number] = [Math.ceil(n / TILE), Math.ceil(mMax / TILE), batchMax];
  if (tiles.some((c) => c > w.ctx.maxWorkgroupsPerDimension))
    throw new DispatchTooLarge(`a ${mMax}x${n} product needs ${tiles.join("x")} workgroups`);
  w.setDispatch([
    [fixedExtent(n), TILE],
    [rows, TILE],
    [batch, 1],
  ]);
  return w.finish(main, tiles);
}
