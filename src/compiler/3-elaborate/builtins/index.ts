// The builtins' implementations, one per name of the signature table (src/dsl/signatures/builtins.ts): the
// mapped type makes a builtin without an implementation, or an implementation without a signature, a type error.
import { BUILTIN_SIGNATURES, type BuiltinName, registerBuiltinSignature } from "../../../dsl/signatures/builtins.js";
import type { Signature } from "../../../dsl/signatures/signature.js";
import type { BuiltinImpl } from "./arguments.js";
import { COMPILE_TIME_BUILTINS } from "./compile-time.js";
import { CONSTANTS_BUILTINS } from "./constants.js";
import { EINOPS_BUILTINS } from "./einops.js";
import { ELEMENTWISE_BUILTINS } from "./elementwise.js";
import { LAYOUT_BUILTINS } from "./layout.js";
import { NETWORKS_BUILTINS } from "./networks.js";
import { REDUCTIONS_BUILTINS } from "./reductions.js";
import { SELECTION_BUILTINS } from "./selection.js";

export type { BuiltinContext, BuiltinImpl } from "./arguments.js";
export { toTensor } from "./arguments.js";
export { unaryBuiltin } from "./elementwise.js";

export const BUILTINS: { readonly [K in BuiltinName]: BuiltinImpl } = {
  ...ELEMENTWISE_BUILTINS,
  ...LAYOUT_BUILTINS,
  ...EINOPS_BUILTINS,
  ...REDUCTIONS_BUILTINS,
  ...NETWORKS_BUILTINS,
  ...SELECTION_BUILTINS,
  ...CONSTANTS_BUILTINS,
  ...COMPILE_TIME_BUILTINS,
};

/** Implementations added at run time with their signatures (a scratch op registered by a test). */
const registered = new Map<string, { sig: Signature; impl: BuiltinImpl }>();

/** Adds a builtin beside the table; returns the function that removes it again. */
export function registerBuiltin(name: string, sig: Signature, impl: BuiltinImpl): () => void {
  const unregister = registerBuiltinSignature(name, sig);
  registered.set(name, { sig, impl });
  return () => {
    registered.delete(name);
    unregister();
  };
}

/** A builtin's signature and implementation, if `name` is one. */
export function builtinOf(name: string): { sig: Signature; impl: BuiltinImpl } | undefined {
  if (Object.hasOwn(BUILTINS, name))
    return { sig: BUILTIN_SIGNATURES[name as BuiltinName], impl: BUILTINS[name as BuiltinName] };
  return registered.get(name);
}
