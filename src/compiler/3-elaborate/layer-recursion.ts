// Layers that would nest without end: refused with the chain of layers that leads there.
import { ShapeCodes } from "../../diagnostics/codes.js";
import { fail } from "./context.js";
import type { LayerInstance, Val } from "./values.js";

export const MAX_DEPTH = 256;

/** The configuration as text when every value is a plain compile-time value, else undefined (not comparable). */
function configKey(config: ReadonlyMap<string, Val>): string | undefined {
  const text = (v: Val): string | undefined => {
    switch (v.kind) {
      case "int":
        return typeof v.v === "number" ? String(v.v) : undefined;
      case "float":
      case "bool":
      case "string":
      case "dtype":
        return `${v.kind}:${JSON.stringify(v.v)}`;
      case "list":
      case "tuple": {
        const items = v.items.map(text);
        return items.every((i) => i !== undefined) ? `${v.kind}(${items.join(",")})` : undefined;
      }
      case "none":
        return "none";
      default:
        return undefined;
    }
  };
  const parts = [...config].map(([k, v]) => [k, text(v)] as const);
  return parts.every(([, t]) => t !== undefined) ? JSON.stringify(parts) : undefined;
}

/**
 * A layer whose block, with the same configuration, is among the layers that declared it would nest without end
 * (declared but uncalled layers are elaborated too, so no call is needed for that): refused with the chain.
 * A recursion whose configuration changes (a depth counting down) is bounded by MAX_DEPTH instead.
 */
export function checkNotRecursive(layer: LayerInstance): void {
  const chain: LayerInstance[] = [];
  for (let p = layer.parent; p; p = p.parent) chain.push(p);
  const key = configKey(layer.config);
  const again = key === undefined ? undefined : chain.find((p) => p.decl === layer.decl && configKey(p.config) === key);
  if (!again && chain.length < MAX_DEPTH) return;
  const name = layer.decl.name.name;
  if (again) {
    const shown = chain.slice(0, chain.indexOf(again) + 1).reverse();
    const related = shown.map((p) => ({ message: `${p.path} is a ${p.decl.name.name}`, span: p.span }));
    fail(
      ShapeCodes.RecursionLimit,
      `layer ${layer.path} is a ${name} declared inside a ${name} with the same configuration: the blocks would ` +
        `nest without end ` +
        `(${[...shown.map((p) => p.path.split(".").pop()), layer.path.split(".").pop()].join(" -> ")})`,
      layer.span,
      related,
      "make the inner layer smaller (e.g. a depth that counts down to a base case under an `if`)",
    );
  }
  const blocks = [...new Set(chain.slice(0, 8).map((p) => p.decl.name.name))].join(", ");
  fail(
    ShapeCodes.RecursionLimit,
    `layers nest deeper than ${MAX_DEPTH} levels, through ${blocks} (layer ${layer.path.slice(0, 60)}...)`,
    layer.span,
    [],
    "a block probably instantiates itself",
  );
}
