// Algebraic identities that leave values unchanged: layout ops that undo or repeat each other, and arithmetic
// with a neutral constant. Each rule returns the replacement value or undefined when it does not apply.
import type { HostTensor } from "../../../util/tensor.js";
import type { GraphBuilder } from "../builder.js";
import { shapeEq } from "../dim.js";
import { callPerOp, type Graph, type Node, type OpName, type PerOp, type Value } from "../ir.js";
import { toNumbers } from "../interp/numeric.js";
import { originOf, rewriteGraph } from "./rewrite.js";

type Rule<K extends OpName = OpName> = (node: Node<K>, b: GraphBuilder) => Value | undefined;

const isIdentityPerm = (perm: readonly number[]) => perm.every((p, i) => p === i);

/** reshape to the input's shape is a no-op; reshape of a reshape needs only the outer one. */
const reshape: Rule<"reshape"> = (node, b) => {
  const [x] = node.inputs;
  const out = node.outputs[0];
  if (shapeEq(x.shape, out.shape)) return x;
  if (x.producer.op !== "reshape") return undefined;
  const src = x.producer.inputs[0];
  if (shapeEq(src.shape, out.shape)) return src;
  return b.op1("reshape", { shape: [...out.shape] }, [src], originOf(node));
};

/** transpose by the identity is a no-op; two transposes compose into one (or none). */
const transpose: Rule<"transpose"> = (node, b) => {
  const [x] = node.inputs;
  const { perm } = node.attrs;
  if (isIdentityPerm(perm)) return x;
  if (x.producer.op !== "transpose") return undefined;
  const inner = x.producer.attrs.perm;
  const composed = perm.map((p) => inner[p]);
  const src = x.producer.inputs[0];
  return isIdentityPerm(composed) ? src : b.op1("transpose", { perm: composed }, [src], originOf(node));
};

const expand: Rule = (node) => (shapeEq(node.inputs[0].shape, node.outputs[0].shape) ? node.inputs[0] : undefined);

const cast: Rule<"cast"> = (node) => (node.inputs[0].dtype === node.attrs.to ? node.inputs[0] : undefined);

const slice: Rule<"slice"> = (node) => {
  const [x] = node.inputs;
  const { start, step } = node.attrs;
  return start === 0 && step === 1 && shapeEq(x.shape, node.outputs[0].shape) ? x : undefined;
};

/** Neutral constants are scalars or small broadcast rows; larger ones are not worth scanning. */
const MAX_NEUTRAL_ELEMENTS = 4096;

/** Whether v is a (small) constant whose every element equals `k`. */
function isConstantOf(v: Value, k: number): boolean {
  if (v.producer.op !== "const") return false;
  const t: HostTensor = v.producer.attrs.value;
  return t.data.length <= MAX_NEUTRAL_ELEMENTS && toNumbers(t).every((x) => x === k);
}

/**
 * x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1 -> x, when the constant does not change x's shape or type.
 * (x + 0 may turn -0 into +0; no comparison can tell them apart.)
 */
function neutral(rightOnly: boolean, k: number): Rule {
  return (node) => {
    const out = node.outputs[0];
    const keeps = (x: Value) => x.dtype === out.dtype && shapeEq(x.shape, out.shape);
    const [a, c] = node.inputs;
    if (isConstantOf(c, k) && keeps(a)) return a;
    if (!rightOnly && isConstantOf(a, k) && keeps(c)) return c;
    return undefined;
  };
}

const RULES: PerOp<[GraphBuilder], Value | undefined> = {
  reshape,
  transpose,
  expand,
  cast,
  slice,
  add: neutral(false, 0),
  sub: neutral(true, 0),
  mul: neutral(false, 1),
  div: neutral(true, 1),
};

export function simplify(graph: Graph): boolean {
  return rewriteGraph(graph, (node, b) => {
    const r = callPerOp(RULES, node, b);
    return r && [r];
  });
}
