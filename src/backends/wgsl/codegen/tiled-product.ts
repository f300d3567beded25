// The register-blocked inner product shared by the tiled matmul (matmul.ts) and the implicit-GEMM convolution
// (conv-gemm.ts): a workgroup of THREADS threads computes one tile of rows x cols outputs of a [M, K] x [K, N]
// product, each thread a PER_THREAD x PER_THREAD block strided across the tile (so neighbouring threads read
// neighbouring columns). K is walked in SLICE-deep slices: both operands' slices are staged into workgroup memory,
// a barrier, then each thread loads its block's PER_THREAD left and PER_THREAD right values into registers and
// multiply-accumulates; a second barrier before the next slice overwrites the tiles.
import { u } from "./indexing.js";
import { type ExprType, zeroOf } from "./scalar-types.js";

/** The tile side (in outputs) of a square tile, and the number of outputs every tile holds: TILE x TILE. */
export const TILE = 32;
/** How deep a slice of the reduction is staged at a time. */
const SLICE = 16;
export const THREADS = 64;
/**
 * A product (matmul, or a convolution as one) is tiled from this many multiply-adds, with both sides at least
 * TILED_MIN_SIDE wide (narrower sides would leave most of a tile empty); smaller products run the plain kernel.
 */
export const TILED_FROM = 1 << 20;
export const TILED_MIN_SIDE = 8;
/** A thread's block of accumulators is PER_THREAD x PER_THREAD. */
const PER_THREAD = 4;

/** One operand of the product as staged: `load(row, col)` is the WGSL value of its element (zero outside). */
export interface StagedOperand {
  /** Names its workgroup tile (`tile<name>`) and its registers (`<name in lower case><index>`). */
  name: string;
  /** `row` and `col` are u32 WGSL expressions of the element's coordinates in the operand. */
  load: (row: string, col: string) => string;
}

export interface TiledProduct {
  /** The WGSL scalar type of the operands and accumulators. */
  type: ExprType;
  /** The tile's height (rows of the left operand) and width (columns of the right); rows x cols = TILE². */
  rows: number;
  cols: number;
  /** K, the length of the reduction. */
  depth: number;
  /** The [M, K] operand, staged rows x SLICE. */
  left: StagedOperand;
  /** The [K, N] operand, staged SLICE x cols. */
  right: StagedOperand;
  /** A WGSL statement writing back `acc`, the finished output at (`row`, `col`) (it bounds-checks them). */
  store: (row: string, col: string, acc: string) => string;
}

/** The per-thread block, unrolled: its accumulators and operands are scalars, so they stay in registers. */
const range = [...Array(PER_THREAD).keys()];
const eachOfBlock = (line: (r: number, c: number) => string) =>
  range.flatMap((r) => range.map((c) => line(r, c))).join("\n");

/**
 * The WGSL of a tiled product, in three pieces for the caller to place: `workgroupTiles` (module scope), and, in
 * the entry point, `tilePosition` (defines m0 and n0, the tile's first row and column, from `wid.y` and `wid.x`,
 * and the thread's place in it, tx and ty), then `accumulate` (the reduction and the write-back).
 */
export function tiledProduct(p: TiledProduct): { workgroupTiles: string; tilePosition: string; accumulate: string } {
  const { type: t, rows, cols, left, right } = p;
  const [sideM, sideN] = [rows / PER_THREAD, cols / PER_THREAD];
  const [leftTile, rightTile] = [`tile${left.name}`, `tile${right.name}`];
  const [leftReg, rightReg] = [left.name.toLowerCase(), right.name.toLowerCase()];
  const [leftSize, rightSize] = [rows * SLICE, SLICE * cols];
  const stageLeft = `${leftTile}[e] = ${left.load(`m0 + e / ${u(SLICE)}`, `k0 + e % ${u(SLICE)}`)};`;
  const stageRight = `${rightTile}[e] = ${right.load(`k0 + e / ${u(cols)}`, `n0 + e % ${u(cols)}`)};`;
  const stageLoop = (size: number, body: string[]) => [
    `for (var e = lid; e < ${u(size)}; e = e + ${u(THREADS)}) {`,
    ...body.map((l) => `  ${l}`),
    "}",
  ];
  // Tiles of one size are staged by one loop (square tiles: fewer loop trips and branches).
  const staging =
    leftSize === rightSize
      ? stageLoop(leftSize, [stageLeft, stageRight])
      : [...stageLoop(leftSize, [stageLeft]), ...stageLoop(rightSize, [stageRight])];
  const workgroupTiles = `var<workgroup> ${leftTile}: array<${t}, ${leftSize}>;
var<workgroup> ${rightTile}: array<${t}, ${rightSize}>;`;
  const tilePosition = `  let m0 = wid.y * ${u(rows)};
  let n0 = wid.x * ${u(cols)};
  let tx = lid % ${u(sideN)};
  let ty = lid / ${u(sideN)};`;
  const accumulate = `${eachOfBlock((r, c) => `  var acc${r}${c} = ${zeroOf(t)};`)}
  for (var k0 = 0u; k0 < ${u(p.depth)}; k0 = k0 + ${u(SLICE)}) {
${staging.map((l) => `    ${l}`).join("\n")}
    workgroupBarrier();
    for (var s = 0u; s < ${u(SLICE)}; s = s + 1u) {
${range.map((r) => `      let ${leftReg}${r} = ${leftTile}[(ty + ${u(r * sideM)}) * ${u(SLICE)} + s];`).join("\n")}
${range.map((c) => `      let ${rightReg}${c} = ${rightTile}[s * ${u(cols)} + tx + ${u(c * sideN)}];`).join("\n")}
${eachOfBlock((r, c) => `      acc${r}${c} = acc${r}${c} + ${leftReg}${r} * ${rightReg}${c};`)}
    }
    workgroupBarrier();
  }
${eachOfBlock((r, c) => `  ${p.store(`m0 + ty + ${u(r * sideM)}`, `n0 + tx + ${u(c * sideN)}`, `acc${r}${c}`)}`)}`;
  return { workgroupTiles, tilePosition, accumulate };
}
