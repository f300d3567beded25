// The one parameter-binding step, shared by the ONNX and WGSL back ends and the reference interpreter: the value of
// every parameter a graph reads is the given (checkpoint) tensor, checked against the declaration, else the
// declaration's default, else a deterministic pseudo-random draw (normal(0, 0.02) for floats, zeros otherwise) keyed
// by seed and path. Without a seed (the interpreter's default) a parameter with no value is an error instead.
import { CliCodes, makeDiagnostic, ShapeCodes } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError } from "../../diagnostics/diagnostics.js";
import type { Graph, Node, ParamInfo } from "./ir.js";
import { fromNumbers } from "./interp/numeric.js";
import { isFloat } from "./infer.js";
import { drawNormals, streamSeed } from "../../util/seeded-normals.js";
import { asLazy, heldTensor, type LazyTensor, lazyTensor, type WeightMap } from "../../util/lazy-tensor.js";
import { allocData, byteSize, type HostTensor, numel } from "../../util/tensor.js";

export interface BoundParams {
  tensors: Map<string, HostTensor>;
  /** For the `netc.weights` metadata: `checkpoint`, `random(seed=N)` or `checkpoint+random(seed=N)`. */
  provenance: string;
  diagnostics: Diagnostic[];
}

export interface LazyBoundParams extends Omit<BoundParams, "tensors"> {
  tensors: Map<string, LazyTensor>;
}

const INIT_STD = 0.02;

export function randomParam(info: Pick<ParamInfo, "path" | "dtype" | "shape">, seed: number): HostTensor {
  const n = numel(info.shape);
  const shape = [...info.shape];
  if (!isFloat(info.dtype)) return { dtype: info.dtype, shape, data: allocData(info.dtype, n) };
  if (info.dtype === "f32" || info.dtype === "f64") {
    const data = allocData(info.dtype, n) as Float32Array | Float64Array;
    drawNormals(data, streamSeed(seed, info.path), INIT_STD);
    return { dtype: info.dtype, shape, data };
  }
  const values = new Float64Array(n);
  drawNormals(values, streamSeed(seed, info.path), INIT_STD);
  return fromNumbers(info.dtype, shape, values);
}

/** The seeded draw, made when read; an allocation the machine refuses is a diagnostic at the parameter. */
function lazyDraw(info: ParamInfo, seed: number): LazyTensor {
  // f16/bf16 are drawn in f64 and converted, which only this thread does.
  const recipe =
    info.dtype === "f32" || info.dtype === "f64"
      ? { kind: "normal" as const, stream: streamSeed(seed, info.path), std: INIT_STD }
      : undefined;
  const draw = () => {
    try {
      return randomParam(info, seed);
    } catch (e) {
      // An absurd shape (or too little memory): typed arrays refuse lengths and allocations they cannot hold.
      if (!(e instanceof RangeError)) throw e;
      const gib = (numel(info.shape) * 4) / 2 ** 30;
      throw new DiagnosticError([
        makeDiagnostic(
          ShapeCodes.TooLarge,
          `cannot hold the weight ${info.path} (${info.dtype}[${info.shape.join(", ")}], ${gib.toFixed(1)} GiB ` +
            `as f32) in memory to draw its values`,
          info.span,
          {
            hint: "check its dimensions; `netc inspect` reports a model's size without materialising its weights",
          },
        ),
      ]);
    }
  };
  return lazyTensor(info.dtype, info.shape, draw, recipe);
}

function checkWeight(info: ParamInfo, t: LazyTensor): Diagnostic | undefined {
  const declared = `${info.dtype}[${info.shape.join(", ")}]`;
  const given = `${t.dtype}[${t.shape.join(", ")}]`;
  if (t.dtype !== info.dtype)
    return makeDiagnostic(
      ShapeCodes.DTypeMismatch,
      `the weight ${info.path} is ${given}, the model declares ${declared}`,
      info.span,
    );
  if (
    t.shape.length !== info.shape.length ||
    t.shape.some((d, i) => d !== info.shape[i]) ||
    t.byteLength !== numel(t.shape) * byteSize(t.dtype)
  )
    return makeDiagnostic(
      ShapeCodes.ShapeMismatch,
      `the weight ${info.path} is ${given}, the model declares ${declared}`,
      info.span,
    );
  return undefined;
}

/** The parameters that `nodes` read, in the graph's order. */
export function paramsReadBy(graph: Graph, nodes: Iterable<Node>): ParamInfo[] {
  const read = new Set<string>();
  for (const n of nodes) if (n.op === "param") read.add(n.attrs.path);
  return graph.params.filter((p) => read.has(p.path));
}

/**
 * Binds a value to each of `params`, reading nothing: checkpoint tensors are checked by their dtype and shape, and
 * each value is read (or drawn) when its consumer asks for it. `seed` draws the values no tensor and no default gives.
 */
export function bindParamsLazily(
  params: readonly ParamInfo[],
  weights: WeightMap | undefined,
  seed: number | undefined,
): LazyBoundParams {
  const tensors = new Map<string, LazyTensor>();
  const diagnostics: Diagnostic[] = [];
  let fromCheckpoint = 0;
  let drawn = 0;
  for (const info of params) {
    const given = weights?.get(info.path);
    if (given) {
      const lazy = asLazy(given);
      const bad = checkWeight(info, lazy);
      if (bad) diagnostics.push(bad);
      tensors.set(info.path, lazy);
      fromCheckpoint++;
    } else if (info.init) tensors.set(info.path, heldTensor(info.init));
    else if (seed === undefined)
      diagnostics.push(makeDiagnostic(CliCodes.BadInputBinding, `no value for the parameter ${info.path}`, info.span));
    else {
      tensors.set(info.path, lazyDraw(info, seed));
      drawn++;
    }
  }
  const random = `random(seed=${seed})`;
  const provenance = drawn === 0 ? "checkpoint" : fromCheckpoint === 0 ? random : `checkpoint+${random}`;
  return { tensors, provenance, diagnostics };
}

/** bindParamsLazily, then every value read: for consumers that need them all at once (kernels, the interpreter). */
export function bindParams(
  params: readonly ParamInfo[],
  weights: WeightMap | undefined,
  seed: number | undefined,
): BoundParams {
  const lazy = bindParamsLazily(params, weights, seed);
  const tensors = new Map<string, HostTensor>();
  const diagnostics = [...lazy.diagnostics];
  for (const [path, t] of lazy.tensors) {
    try {
      tensors.set(path, t.read());
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      diagnostics.push(...e.diagnostics);
    }
  }
  return { tensors, provenance: lazy.provenance, diagnostics };
}
