// The reference interpreter: runs an IR graph on host tensors, op by op, with the kernels in ./interp.
// It defines what every backend must compute (see semantics.md); correctness and clarity come before speed.
import { CliCodes, IrCodes, makeDiagnostic, ShapeCodes } from "../../diagnostics/codes.js";
import { type Diagnostic, DiagnosticError, hasErrors } from "../../diagnostics/diagnostics.js";
import { f16BitsToNumber, type HostTensor, numberToF16Bits, numel } from "../../util/tensor.js";
import { type Dim, dimSubstitute, dimToString, isStatic, shapeToString } from "./dim.js";
import type { Graph, Node, Value } from "./ir.js";
import { bindParams, paramsReadBy } from "./bind-params.js";
import { evalOp } from "./ops/index.js";
import { lastUses, liveNodes } from "./liveness.js";
import { symbolFactor } from "./symbols.js";
import { KernelError } from "./interp/numeric.js";

export interface InterpretOptions {
  /** Values of symbolic dims; those not given are read off the inputs' shapes. */
  symbols?: ReadonlyMap<string, number>;
  /** Draws the parameters that have no value, as the back ends do with this seed; without it they are an error. */
  seed?: number;
  /**
   * `f16`: the reference for `--precision f16` bundles. Every f32 value the graph holds (inputs, weights, constants,
   * each op's result) is rounded to the nearest f16 when it is stored; each op still computes and accumulates in
   * f32 (or wider). Default `f32`: nothing is rounded.
   */
  storage?: "f32" | "f16";
}

export interface InterpretResult {
  outputs: Map<string, HostTensor>;
  taps: Map<string, HostTensor>;
}

const fail = (d: Diagnostic): never => {
  throw new DiagnosticError([d]);
};

/** Binds each symbol from the first input axis of the form c*S; polynomial dims are then only checked. */
function bindSymbols(
  graph: Graph,
  inputs: ReadonlyMap<string, HostTensor>,
  given: ReadonlyMap<string, number>,
): Map<string, Dim> {
  const symbols = new Map<string, Dim>(given);
  const bad = (msg: string, name: string) =>
    makeDiagnostic(CliCodes.BadInputBinding, msg, graph.inputs.find((i) => i.name === name)?.span);
  for (const { name, value } of graph.inputs) {
    const t = inputs.get(name) ?? fail(bad(`no value given for the input ${name}`, name));
    if (t.dtype !== value.dtype) fail(bad(`the input ${name} is ${t.dtype}, the model expects ${value.dtype}`, name));
    if (t.shape.length !== value.shape.length || t.data.length !== numel(t.shape))
      fail(
        bad(
          `the input ${name} has shape [${t.shape.join(", ")}], the model expects ${shapeToString(value.shape)}`,
          name,
        ),
      );
    value.shape.forEach((d, i) => {
      const s = symbolFactor(d);
      if (s && !symbols.has(s[0]) && t.shape[i] % s[1] === 0) symbols.set(s[0], t.shape[i] / s[1]);
    });
  }
  for (const { name, value } of graph.inputs) {
    const t = inputs.get(name)!;
    value.shape.forEach((d, i) => {
      const v = dimSubstitute(d, symbols);
      if (v !== t.shape[i])
        fail(
          bad(
            `the input ${name} has ${t.shape[i]} on axis ${i}, the model expects ` +
              `${dimToString(d)}${isStatic(v) && !isStatic(d) ? ` = ${v}` : ""}`,
            name,
          ),
        );
    });
  }
  return symbols;
}

export function interpret(
  graph: Graph,
  inputs: ReadonlyMap<string, HostTensor>,
  params: ReadonlyMap<string, HostTensor>,
  opts: InterpretOptions = {},
): InterpretResult {
  const symbols = bindSymbols(graph, inputs, opts.symbols ?? new Map());
  const resolve = (shape: readonly Dim[]): number[] =>
    shape.map((d) => {
      const v = dimSubstitute(d, symbols);
      return isStatic(v)
        ? v
        : fail(makeDiagnostic(CliCodes.BadInputBinding, `no value for the symbolic dim ${dimToString(v)}`, graph.span));
    });
  // Only what outputs and taps need runs, and each value is freed after its last use.
  const results = [...graph.outputs, ...graph.taps];
  const needed = liveNodes(results);
  const lastUse = lastUses(graph.nodes, (n) => n.inputs, results);
  const bound = bindParams(paramsReadBy(graph, needed), params, opts.seed);
  if (hasErrors(bound.diagnostics)) throw new DiagnosticError(bound.diagnostics);
  const env = new Map<Value, HostTensor>();
  graph.nodes.forEach((node, i) => {
    if (!needed.has(node)) return;
    const outs = evalNode(node, env, inputs, bound.tensors, resolve);
    node.outputs.forEach((v, j) => {
      const t = outs[j];
      if (t.dtype !== v.dtype || shapeToString(t.shape) !== shapeToString(resolve(v.shape)))
        fail(
          makeDiagnostic(
            IrCodes.VerifierFailed,
            `${node.op} computed ${t.dtype}[${t.shape.join(", ")}] where the IR says ` +
              `${v.dtype}${shapeToString(v.shape)}`,
            node.span,
          ),
        );
      env.set(v, opts.storage === "f16" ? storedAsF16(t) : t);
    });
    for (const v of node.inputs) if (lastUse.get(v) === i) env.delete(v);
  });
  const collect = (list: Graph["outputs"]) => new Map(list.map((o) => [o.name, env.get(o.value)!] as const));
  return { outputs: collect(graph.outputs), taps: collect(graph.taps) };
}

/** An f32 tensor rounded to f16 values (kept as f32); other dtypes as they are. */
function storedAsF16(t: HostTensor): HostTensor {
  if (t.dtype !== "f32") return t;
  const data = Float32Array.from(t.data as Float32Array, (x) => f16BitsToNumber(numberToF16Bits(x)));
  return { ...t, data };
}

function evalNode(
  node: Node,
  env: ReadonlyMap<Value, HostTensor>,
  inputs: ReadonlyMap<string, HostTensor>,
  params: ReadonlyMap<string, HostTensor>,
  resolve: (shape: readonly Dim[]) => number[],
): HostTensor[] {
  if (node.op === "input") return [inputs.get(node.attrs.name)!];
  if (node.op === "param") return [params.get(node.attrs.path)!];
  try {
    return evalOp(
      node.op,
      node.attrs,
      node.inputs.map((v) => env.get(v)!),
      resolve,
    );
  } catch (e) {
    if (e instanceof KernelError) return fail(makeDiagnostic(ShapeCodes.BadArgument, e.message, node.span));
    throw e;
  }
}
