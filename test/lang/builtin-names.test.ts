// Phase 2 resolves predefined names from src/dsl/builtin-names.ts, phase 3 implements them: the two must list the
// same names, or `netc check` accepts a call that compiling rejects (or the reverse).
import { describe, expect, it } from "vitest";
import { BUILTINS } from "../../src/compiler/3-elaborate/builtins.js";
import { CONSTRUCTS } from "../../src/compiler/3-elaborate/constructs.js";
import { checkSource } from "../../src/driver.js";
import { BUILTIN_NAMES } from "../../src/dsl/builtin-names.js";

const named = (kind: string) => Object.keys(BUILTIN_NAMES).filter((n) => BUILTIN_NAMES[n] === kind).sort();

describe("the table of predefined names", () => {
  it("names every builtin and construct phase 3 implements, and nothing else", () => {
    expect(named("builtin")).toEqual(Object.keys(BUILTINS).sort());
    expect(named("construct")).toEqual(Object.keys(CONSTRUCTS).sort());
  });

  it("is what phase 2 (parse and static checks) resolves names against", () => {
    const source = "model M()(x: f32[2]) -> f32[2] {\n  return frobnicate(x)\n}\n";
    expect(checkSource(source, { file: "m.net" }).diagnostics.map((d) => d.code)).toEqual(["NET2001"]);
    BUILTIN_NAMES.frobnicate = "builtin";
    try {
      expect(checkSource(source, { file: "m.net" }).diagnostics).toEqual([]);
    } finally {
      delete BUILTIN_NAMES.frobnicate;
    }
  });
});
