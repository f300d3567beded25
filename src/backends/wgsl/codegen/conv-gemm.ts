// Dense and grouped convolutions as implicit matrix products (no im2col buffer): per group, the weights are an
// [out channels, in channels x taps] matrix read as stored, and the input is the [in channels x taps, batch x
// output pixels] matrix whose column is one output pixel's receptive field, gathered while it is staged. Tiled
// like the matmul kernel, by the same inner product (tiled-product.ts): 32 channels x 32 pixels per workgroup of
// 64 threads, each thread accumulating a 4x4 block in registers, both operands staged through workgroup memory in
// 16-deep slices of the reduction. Where there are few pixels (deep layers of a small input: 12 in the last stage
// of a 24x24 ResNet), the tile is narrower and taller (16 x 64 or 8 x 128) where that leaves fewer of its outputs
// outside the result.
import type { KernelOf } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { coord, linear, numelOf, u } from "./indexing.js";
import { THREADS, TILE, TILED_FROM, TILED_MIN_SIDE, tiledProduct } from "./tiled-product.js";
import { stridesOf } from "../../../util/tensor.js";
import {
  anchorType,
  DispatchTooLarge,
  ENTRY,
  ENTRY_ARGS,
  fixedExtent,
  type KernelModule,
  type KernelWriter,
} from "./writer.js";
import { zeroOf } from "./scalar-types.js";

/**
 * The sizes of a convolution as a product per group: M channels x K (channels x taps) times K x N pixels. N grows
 * with a run-time batch (`pixels`); `n` is its count at the largest batch, which every choice of kernel and tile
 * is made by, so that one kernel serves every batch.
 */
function gemmSizes(w: KernelWriter, k: KernelOf<"conv">) {
  const [x, weight] = k.anchor.inputs;
  const [cout, cpg, ...kernel] = shapeOf(weight);
  const [batch, , ...outSpatial] = shapeOf(k.anchor.outputs[0]);
  const groups = k.anchor.attrs.groups;
  const pixels = w.items(batch * numelOf(outSpatial), k.anchor.outputs[0]);
  return {
    groups,
    m: cout / groups,
    kk: cpg * numelOf(kernel),
    pixels,
    n: w.atMax(pixels),
    spatial: shapeOf(x).slice(2),
    kernel,
    outSpatial,
  };
}

/** Whether the implicit-GEMM kernel pays for its barriers: enough work, and both tile sides more than a sliver. */
export function convTiles(w: KernelWriter, k: KernelOf<"conv">): boolean {
  const { groups, m, kk, n } = gemmSizes(w, k);
  return groups * m * kk * n >= TILED_FROM && m >= TILED_MIN_SIDE && n >= TILED_MIN_SIDE;
}

/** Tile widths in pixels, each with a tile of THREADS * PER_THREAD² outputs. */
const WIDTHS = [TILE, TILE / 2, TILE / 4];

/** The width whose tiles cover m channels x n pixels with the least waste (the widest of equals). */
function tileWidth(m: number, n: number): number {
  const covered = (width: number) => {
    const height = (TILE * TILE) / width;
    return Math.ceil(n / width) * width * Math.ceil(m / height) * height;
  };
  return WIDTHS.reduce((best, width) => (covered(width) < covered(best) ? width : best));
}

export function convGemmKernel(w: KernelWriter, k: KernelOf<"conv">): KernelModule {
  const { strides, pads, dilations } = k.anchor.attrs;
  const [x, weight, bias] = k.anchor.inputs;
  const { groups, m, kk, pixels, n, spatial, kernel, outSpatial } = gemmSizes(w, k);
  const cin = shapeOf(x)[1];
  const cpg = cin / groups;
  const inPlane = numelOf(spatial);
  const outPlane = numelOf(outSpatial);
  const taps = numelOf(kernel);
  const t = anchorType(k);
  const tileN = tileWidth(m, n);
  const tileM = (TILE * TILE) / tileN;
  const xs = stridesOf(spatial);
  // The input coordinate of output coordinate o{d} at tap t{d}; signed, and bounds-checked, only on axes whose
  // window reaches into the padding.
  const reaches = spatial.map(
    (size, d) => pads[d] > 0 || (outSpatial[d] - 1) * strides[d] + (kernel[d] - 1) * dilations[d] - pads[d] >= size,
  );
  const inputCoord = (d: number) => {
    const q = `o${d} * ${u(strides[d])}${kernel[d] > 1 ? ` + t${d} * ${u(dilations[d])}` : ""}`;
    return reaches[d] ? `i32(${q}) - ${pads[d]}i` : q;
  };
  const tapCoords = kernel
    .map((_, d) => (kernel[d] > 1 ? `let t${d} = ${coord("tap", kernel, d)};` : ""))
    .filter(Boolean);
  const inputCoords = spatial.map((_, d) => `let q${d} = ${inputCoord(d)};`);
  const checks = spatial.flatMap((size, d) => (reaches[d] ? [`q${d} < 0i || q${d} >= ${size}i`] : []));
  const inputOffset = linear(
    spatial.map((_, d) => (reaches[d] ? `u32(q${d})` : `q${d}`)),
    xs,
  );
  // The pixel whose column a thread stages is the same in every slice (the workgroup is a multiple of the tile
  // width), so its output coordinates are worked out once, before the reduction loop.
  const paddingCheck = checks.length ? `  if (${checks.join(" || ")}) { return ${zeroOf(t)}; }\n` : "";
  const pixelArgs = outSpatial.map((_, d) => `o${d}`).join(", ");
  // The pixel count at the batch given: a literal, or read from the run-time batch.
  const columns = w.times(pixels);
  const lastColumn = pixels.perBatch === 0 ? u(n - 1) : `${columns} - 1u`;
  const product = tiledProduct({
    type: t,
    rows: tileM,
    cols: tileN,
    depth: kk,
    left: { name: "W", load: (row, col) => `loadW(g, ${row}, ${col})` },
    // The column's pixel was worked out once per thread (o0, o1, ...): `col` is not needed.
    right: { name: "X", load: (row) => `select(${zeroOf(t)}, loadX(xc, ${row}, ${pixelArgs}), staged)` },
    store: (row, col, acc) => `store(g, ${row}, ${col}, ${acc});`,
  });
  const main = `${product.workgroupTiles}

fn loadW(g: u32, row: u32, col: u32) -> ${t} {
  if (row >= ${u(m)} || col >= ${u(kk)}) { return ${zeroOf(t)}; }
  return ${w.read(weight, `(g * ${u(m)} + row) * ${u(kk)} + col`)};
}

fn loadX(xc: u32, r: u32, ${outSpatial.map((_, d) => `o${d}: u32`).join(", ")}) -> ${t} {
  if (r >= ${u(kk)}) { return ${zeroOf(t)}; }
  let c = r / ${u(taps)};
  let tap = r % ${u(taps)};
${[...tapCoords, ...inputCoords].map((l) => `  ${l}`).join("\n")}
${paddingCheck}  return ${w.read(x, `xc + c * ${u(inPlane)} + ${inputOffset}`)};
}

${w.epilogue()}

fn store(g: u32, row: u32, col: u32, acc: ${t}) {
  if (row >= ${u(m)} || col >= ${columns}) { return; }
  let nb = col / ${u(outPlane)};
  let p = col % ${u(outPlane)};
  let channel = g * ${u(m)} + row;
  emit((nb * ${u(m * groups)} + channel) * ${u(outPlane)} + p, acc${bias ? ` + ${w.read(bias, "channel")}` : ""});
}

${ENTRY}(${THREADS}) fn main(${ENTRY_ARGS}) {
  let g = wid.z;
${product.tilePosition}
  let column = n0 + lid % ${u(tileN)};
  let nb = min(column, ${lastColumn}) / ${u(outPlane)};
  let p = column % ${u(outPlane)};
${outSpatial.map((_, d) => `  let o${d} = ${coord("p", outSpatial, d)};`).join("\n")}
  let xc = (nb * ${u(cin)} + g * ${u(cpg)}) * ${u(inPlane)};
  let staged = column < ${columns};
${product.accumulate}
}`;
  const tiles: [number, number, number] = [Math.ceil(n / tileN), Math.ceil(m / tileM), groups];
  if (tiles.some((c) => c > w.ctx.maxWorkgroupsPerDimension))
    throw new DispatchTooLarge(`a convolution of ${m}x${n} outputs per group needs ${tiles.join("x")} workgroups`);
  w.setDispatch([
    [pixels, tileN],
    [fixedExtent(m), tileM],
    [fixedExtent(groups), 1],
  ]);
  return w.finish(main, tiles);
}
