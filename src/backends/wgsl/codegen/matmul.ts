// Batched matmul with numpy broadcasting over the batch dims. Large products use 32x32 output tiles per workgroup
// of 64 threads, each thread accumulating a 4x4 block (unrolled, in registers), operands staged through workgroup
// memory in 16-wide slices of K (tiled-product.ts); small ones give each thread one output (no barriers, which also
// keeps software adapters' compiles short).
// Operands are read through their index functions, so transposed or reshaped inputs cost no copy.
import { broadcastShapes } from "../../../compiler/ir/infer.js";
import type { KernelOf } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { broadcastIndex, numelOf, u } from "./indexing.js";
import { perElementMain } from "./pointwise.js";
import { zeroOf } from "./scalar-types.js";
import { THREADS, TILE, TILED_FROM, TILED_MIN_SIDE, tiledProduct } from "./tiled-product.js";
import {
  anchorType,
  DispatchTooLarge,
  ENTRY,
  ENTRY_ARGS,
  fixedExtent,
  type KernelModule,
  type KernelWriter,
} from "./writer.js";

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
  const product = tiledProduct({
    type: t,
    rows: TILE,
    cols: TILE,
    depth: kk,
    left: { name: "A", load: (row, col) => `loadA(bi, ${row}, ${col})` },
    right: { name: "B", load: (row, col) => `loadB(bi, ${row}, ${col})` },
    store: (row, col, acc) => `store(bi, ${row}, ${col}, ${acc});`,
  });
  const main = `${product.workgroupTiles}

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
${product.tilePosition}
${product.accumulate}
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
