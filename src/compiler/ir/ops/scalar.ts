// Per-element ops with attributes or three operands (beside the elementwise registry's unary and binary rows).
import { broadcastShapes, fail, isNumeric, sameDType } from "../infer.js";
import { cast, clip, where } from "../interp/elementwise.js";
import type { OpAttrs } from "../ir.js";
import { NO_MACS, type OpSpec } from "./row.js";

export const SCALAR_OPS: { readonly [K in "where" | "cast" | "clip"]: OpSpec<OpAttrs[K]> } = {
  where: {
    doc: "x where the condition holds, else y (numpy broadcasting)",
    operands: ["condition", "x", "y"],
    infer: (_, ins) => {
      if (ins[0].dtype !== "bool") fail(`where needs a bool condition, got ${ins[0].dtype}`);
      const dtype = sameDType(ins.slice(1), "where");
      return [{ dtype, shape: broadcastShapes(broadcastShapes(ins[0].shape, ins[1].shape), ins[2].shape) }];
    },
    evaluate: (_, [c, x, y]) => [where(c, x, y)],
    macs: NO_MACS,
  },
  cast: {
    doc: "converts the element type",
    operands: ["x"],
    infer: (attrs, ins) => [{ dtype: attrs.to, shape: ins[0].shape }],
    evaluate: (a, [x]) => [cast(x, a.to)],
    macs: NO_MACS,
  },
  clip: {
    doc: "clamps to [min, max] (either bound optional)",
    operands: ["x"],
    infer: (_, ins) => {
      if (!isNumeric(ins[0].dtype)) fail(`clip is not defined for ${ins[0].dtype}`);
      return [{ dtype: ins[0].dtype, shape: ins[0].shape }];
    },
    evaluate: (a, [x]) => [clip(x, a.min, a.max)],
    macs: NO_MACS,
  },
};
