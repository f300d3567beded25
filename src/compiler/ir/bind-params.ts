// The one parameter-binding step, shared by the ONNX and WGSL back ends and the reference interpreter: the value of
// every parameter a graph reads is the given (checkpoint) tensor, checked against the declaration, else the
// declaration's default, else a deterministic pseudo-random draw (normal(0, 0.02) for floats, zeros otherwise) keyed
// by seed and path. Without a seed (the interpreter's default) a parameter with no value is an error instead.
import { CliCodes, makeDiagnostic, ShapeCodes } from "../../diagnostics/codes.js";
import type { Diagnostic } from "../../diagnostics/diagnostics.js";
import type { Graph, Node, ParamInfo } from "./ir.js";
import { fromNumbers } from "./interp/numeric.js";
import { isFloat } from "./infer.js";
import { uniforms } from "../../util/random.js";
import { allocData, type HostTensor, numel } from "../../util/tensor.js";

export interface BoundParams {
  tensors: Map<string, HostTensor>;
  /** For the `netc.weights` metadata: `checkpoint`, `random(seed=N)` or `checkpoint+random(seed=N)`. */
  provenance: string;
  diagnostics: Diagnostic[];
}

const INIT_STD = 0.02;

/** FNV-1a of the path mixed with the seed, so each parameter's draw is independent of the others. */
function streamSeed(seed: number, path: string): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function randomParam(info: Pick<ParamInfo, "path" | "dtype" | "shape">, seed: number): HostTensor {
  const n = numel(info.shape);
  if (!isFloat(info.dtype)) return { dtype: info.dtype, shape: [...info.shape], data: allocData(info.dtype, n) };
  const u = uniforms(streamSeed(seed, info.path));
  const values = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    // Box-Muller: two normals from two uniforms.
    const r = INIT_STD * Math.sqrt(-2 * Math.log(u()));
    const theta = 2 * Math.PI * u();
    values[i] = r * Math.cos(theta);
    if (i + 1 < n) values[i + 1] = r * Math.sin(theta);
  }
  return fromNumbers(info.dtype, [...info.shape], values);
}

function checkWeight(info: ParamInfo, t: HostTensor): Diagnostic | undefined {
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
    t.data.length !== numel(t.shape)
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

/** Binds a value to each of `params`; `seed` draws the values no tensor and no default gives. */
export function bindParams(
  params: readonly ParamInfo[],
  weights: ReadonlyMap<string, HostTensor> | undefined,
  seed: number | undefined,
): BoundParams {
  const tensors = new Map<string, HostTensor>();
  const diagnostics: Diagnostic[] = [];
  let fromCheckpoint = 0;
  let drawn = 0;
  for (const info of params) {
    const given = weights?.get(info.path);
    if (given) {
      const bad = checkWeight(info, given);
      if (bad) diagnostics.push(bad);
      tensors.set(info.path, given);
      fromCheckpoint++;
    } else if (info.init) tensors.set(info.path, info.init);
    else if (seed === undefined)
      diagnostics.push(makeDiagnostic(CliCodes.BadInputBinding, `no value for the parameter ${info.path}`, info.span));
    else {
      let drawnTensor: HostTensor;
      try {
        drawnTensor = randomParam(info, seed);
      } catch (e) {
        // An absurd shape (or too little memory): typed arrays refuse lengths and allocations they cannot hold.
        if (!(e instanceof RangeError)) throw e;
        const gib = (numel(info.shape) * 4) / 2 ** 30;
        diagnostics.push(
          makeDiagnostic(
            ShapeCodes.TooLarge,
            `cannot hold the weight ${info.path} (${info.dtype}[${info.shape.join(", ")}], ${gib.toFixed(1)} ` +
              `GiB as f32) in memory to draw its values`,
            info.span,
            {
              hint: "check its dimensions; `netc inspect` reports a model's size without materialising its weights",
            },
          ),
        );
        continue;
      }
      tensors.set(info.path, drawnTensor);
      drawn++;
    }
  }
  const random = `random(seed=${seed})`;
  const provenance = drawn === 0 ? "checkpoint" : fromCheckpoint === 0 ? random : `checkpoint+${random}`;
  return { tensors, provenance, diagnostics };
}
