// softmax(q @ kᵀ · scale + bias) @ v in one kernel, flash-attention style: each thread owns one query and keeps
// a running maximum, a running sum and its output row, so the scores never exist in memory whatever the sequence
// length. Large problems give a workgroup 64 queries of one batch/head and stream keys and values through
// workgroup memory in tiles; small ones read them directly (no barriers). The bias is read through its index
// function: a relative-position bias built from small tables costs no buffer.
import { broadcastShapes } from "../../../compiler/ir/infer.js";
import type { KernelOf } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { broadcastIndex, numelOf, u } from "./indexing.js";
import { f32Literal } from "./scalar-types.js";
import { perElementMain } from "./pointwise.js";
import { ENTRY, ENTRY_ARGS, grid, type KernelModule, type KernelWriter } from "./writer.js";

const QUERIES = 64;
/** Problems of at least this many multiply-adds share key/value tiles through workgroup memory. */
const TILED_FROM = 1 << 20;
const MAX_TILE = 32;
/** Below any score a finite model produces, and safe to subtract from (unlike -inf). */
const LOWEST = "-3.0e38f";

export function attentionKernel(w: KernelWriter, k: KernelOf<"attention">): KernelModule {
  const [q, key, v, bias] = k.anchor.inputs;
  const { scale } = k.anchor.attrs;
  const [qs, ks, vs] = [shapeOf(q), shapeOf(key), shapeOf(v)];
  const [sq, d] = qs.slice(-2);
  const sk = ks[ks.length - 2];
  const dv = vs[vs.length - 1];
  const batchShape = broadcastShapes(broadcastShapes(qs.slice(0, -2), ks.slice(0, -2)), vs.slice(0, -2)) as number[];
  const batch = numelOf(batchShape);
  const batchOf = (shape: number[]) => broadcastIndex(batchShape, shape.slice(0, -2), "bi");
  const scoreAt = `(bi * ${u(sq)} + qi) * ${u(sk)} + j`;
  const score = (dot: string) =>
    `${dot} * ${f32Literal(scale)}` +
    `${bias ? ` + ${w.read(bias, broadcastIndex([...batchShape, sq, sk], shapeOf(bias), scoreAt))}` : ""}`;
  const setup = `  let qBase = ${batchOf(qs)} * ${u(sq * d)} + qi * ${u(d)};
  let kBase = ${batchOf(ks)} * ${u(sk * d)};
  let vBase = ${batchOf(vs)} * ${u(sk * dv)};
  var query: array<f32, ${d}>;
  var out: array<f32, ${dv}>;
  var running = ${LOWEST};
  var total = 0.0f;`;
  const loadQuery = `for (var c = 0u; c < ${u(d)}; c = c + 1u) { query[c] = ${w.read(q, "qBase + c")}; }`;
  const outAt = `(bi * ${u(sq)} + qi) * ${u(dv)} + c`;
  const store = `for (var c = 0u; c < ${u(dv)}; c = c + 1u) { emit(${outAt}, out[c] / total); }`;
  if (batch * sq * sk * (d + dv) < TILED_FROM) {
    // Read in the order the body uses them (each read may declare a binding).
    const keyAt = w.read(key, `kBase + j * ${u(d)} + c`);
    const scored = score("dot");
    const value = w.read(v, `vBase + j * ${u(dv)} + c`);
    const body = `  let bi = i / ${u(sq)};
  let qi = i % ${u(sq)};
${setup}
  ${loadQuery}
  for (var j = 0u; j < ${u(sk)}; j = j + 1u) {
    var dot = 0.0f;
    for (var c = 0u; c < ${u(d)}; c = c + 1u) { dot = dot + query[c] * ${keyAt}; }
    let s = ${scored};
    let peak = max(running, s);
    let correction = exp(running - peak);
    let p = exp(s - peak);
    total = total * correction + p;
    for (var c = 0u; c < ${u(dv)}; c = c + 1u) { out[c] = out[c] * correction + p * ${value}; }
    running = peak;
  }
  ${store}`;
    const { main, workgroups } = perElementMain(w, batch * sq, body);
    return w.finish(`${w.epilogue()}\n\n${main}`, workgroups);
  }
  const tile = Math.max(1, Math.min(MAX_TILE, Math.floor(w.ctx.maxWorkgroupStorageBytes / 4 / (d + dv))));
  const blocks = Math.ceil(sq / QUERIES);
  const g = grid(batch * blocks, w.ctx.maxWorkgroupsPerDimension);
  const main = `var<workgroup> keys: array<f32, ${tile * d}>;
var<workgroup> values: array<f32, ${tile * dv}>;

${w.epilogue()}

${ENTRY}(${QUERIES}) fn main(${ENTRY_ARGS}) {
  let wg = ${g.index};
  let bi = wg / ${u(blocks)};
  let qi = wg % ${u(blocks)} * ${u(QUERIES)} + lid;
  let live = qi < ${u(sq)} && bi < ${u(batch)};
${setup}
  if (live) { ${loadQuery} }
  for (var j0 = 0u; j0 < ${u(sk)}; j0 = j0 + ${u(tile)}) {
    workgroupBarrier();
    for (var e = lid; e < ${u(tile * d)}; e = e + ${u(QUERIES)}) {
      let j = j0 + e / ${u(d)};
      if (j < ${u(sk)} && bi < ${u(batch)}) { keys[e] = ${w.read(key, `kBase + j * ${u(d)} + e % ${u(d)}`)}; }
    }
    for (var e = lid; e < ${u(tile * dv)}; e = e + ${u(QUERIES)}) {
      let j = j0 + e / ${u(dv)};
      if (j < ${u(sk)} && bi < ${u(batch)}) { values[e] = ${w.read(v, `vBase + j * ${u(dv)} + e % ${u(dv)}`)}; }
    }
    workgroupBarrier();
    if (live) {
      let count = min(${u(tile)}, ${u(sk)} - j0);
      var scores: array<f32, ${tile}>;
      var peak = running;
      for (var t = 0u; t < count; t = t + 1u) {
        let j = j0 + t;
        var dot = 0.0f;
        for (var c = 0u; c < ${u(d)}; c = c + 1u) { dot = dot + query[c] * keys[t * ${u(d)} + c]; }
        scores[t] = ${score("dot")};
        peak = max(peak, scores[t]);
      }
      let correction = exp(running - peak);
      total = total * correction;
      for (var c = 0u; c < ${u(dv)}; c = c + 1u) { out[c] = out[c] * correction; }
      running = peak;
      for (var t = 0u; t < count; t = t + 1u) {
        let p = exp(scores[t] - running);
        total = total + p;
        for (var c = 0u; c < ${u(dv)}; c = c + 1u) { out[c] = out[c] + p * values[t * ${u(dv)} + c]; }
      }
    }
  }
  if (live) { ${store} }
}`;
  return w.finish(main, g.workgroups);
}
