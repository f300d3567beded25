// The functions the language predefines, by name: builtins (implemented by BUILTINS in
// compiler/3-elaborate/builtins.ts) and DFER constructs (CONSTRUCTS in compiler/3-elaborate/constructs.ts). Phase 2
// resolves names against this table without importing phase 3; test/lang/builtin-names.test.ts keeps the two equal.
// A plain table, so that a test or an extension registering a builtin adds its name here too.
export type PredefinedKind = "builtin" | "construct";

export const BUILTIN_NAMES: Record<string, PredefinedKind> = {
  exp: "builtin", log: "builtin", sqrt: "builtin", tanh: "builtin", sigmoid: "builtin", erf: "builtin",
  gelu: "builtin", relu: "builtin", abs: "builtin", floor: "builtin", ceil: "builtin", sin: "builtin",
  cos: "builtin", reciprocal: "builtin", maximum: "builtin", minimum: "builtin", prelu: "builtin", where: "builtin",
  clamp: "builtin", cast: "builtin", matmul: "builtin", permute: "builtin", transpose: "builtin", reshape: "builtin",
  flatten: "builtin", unsqueeze: "builtin", squeeze: "builtin", expand: "builtin", concat: "builtin",
  split: "builtin", rearrange: "builtin", repeat: "builtin", reduce: "builtin", sum: "builtin", mean: "builtin",
  amax: "builtin", amin: "builtin", prod: "builtin",
  argmax: "builtin", softmax: "builtin", layer_norm: "builtin", batch_norm: "builtin", attention: "builtin",
  lstm: "builtin", conv: "builtin", max_pool: "builtin", avg_pool: "builtin", resize_linear: "builtin",
  pad: "builtin", gather: "builtin", take_along: "builtin", topk: "builtin", sample_linear: "builtin",
  tensor: "builtin", full: "builtin", arange: "builtin", len: "builtin", shape: "builtin", floor_div: "builtin",
  int: "builtin", str: "builtin", dim_eq: "builtin", print: "builtin",
  lift: "construct", split_index: "construct", cross_attention: "construct",
};
