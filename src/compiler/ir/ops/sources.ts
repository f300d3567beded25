// Source ops: their values come from outside the computation (model inputs, parameters, constants).
import { fail } from "../infer.js";
import type { OpAttrs } from "../ir.js";
import { NO_MACS, type OpSpec } from "./row.js";

const noRule = (_: unknown, __: unknown, c: { op: string }): never =>
  fail(`${c.op} nodes have no inputs to infer from`);

export const SOURCE_OPS: { readonly [K in "input" | "param" | "const"]: OpSpec<OpAttrs[K]> } = {
  input: { doc: "a model input, bound by name", operands: [], infer: noRule, evaluate: "source", macs: NO_MACS },
  param: { doc: "a weight, bound by its path", operands: [], infer: noRule, evaluate: "source", macs: NO_MACS },
  const: {
    doc: "a constant tensor held in the graph",
    operands: [],
    infer: noRule,
    evaluate: (a) => [a.value],
    macs: NO_MACS,
  },
};
