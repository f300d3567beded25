// The span-blind syntax comparison the formatter tests (and fmt's own safety check) rely on.
import { describe, expect, it } from "vitest";
import { parseSource } from "../../src/dsl/1-parse/parse.js";
import { syntaxDifference, verifyFormatting } from "../../src/dsl/format/verify.js";

const tree = (text: string) => parseSource("t.net", text).ast;

describe("syntaxDifference", () => {
  it("ignores positions, layout and comments", () => {
    expect(
      syntaxDifference(tree("fn f() { return a+b }"), tree("// c\nfn f() {\n  return (a + b) // d\n}\n")),
    ).toBeUndefined();
  });

  it("names the first place where two trees differ", () => {
    expect(syntaxDifference(tree("fn f() { return a + b }"), tree("fn f() { return a - b }"))).toBe(
      "$.items[0].body[0].value.op",
    );
    expect(syntaxDifference(tree("fn f() { return (a + b) * c }"), tree("fn f() { return a + b * c }"))).toBe(
      "$.items[0].body[0].value.op",
    );
    expect(syntaxDifference(tree("fn f() { return (a,) }"), tree("fn f() { return (a) }"))).toBe(
      "$.items[0].body[0].value.kind",
    );
    expect(syntaxDifference(tree("fn f() { return [1, 2] }"), tree("fn f() { return [1] }"))).toBe(
      "$.items[0].body[0].value.elements.length",
    );
  });

  it("keeps number literals' text: 1e-6 is not 0.000001", () => {
    expect(syntaxDifference(tree("fn f() { return 1e-6 }"), tree("fn f() { return 0.000001 }"))).toBe(
      "$.items[0].body[0].value.raw",
    );
  });

  it("treats an absent optional and an undefined one alike", () => {
    expect(syntaxDifference({ kind: "X", a: undefined }, { kind: "X" })).toBeUndefined();
    expect(syntaxDifference({ kind: "X", a: 1 }, { kind: "X" })).toBe("$.a");
  });
});

describe("verifyFormatting", () => {
  const original = tree("// keep\nfn f() { return a * (b + c) }");

  it("accepts a layout change", () => {
    expect(() => verifyFormatting(original, "// keep\nfn f() {\n  return a * (b + c)\n}\n")).not.toThrow();
  });

  it("throws when the program changed", () => {
    expect(() => verifyFormatting(original, "// keep\nfn f() {\n  return a * b + c\n}\n")).toThrow(
      /syntax tree differs/,
    );
  });

  it("throws when a comment was lost", () => {
    expect(() => verifyFormatting(original, "fn f() {\n  return a * (b + c)\n}\n")).toThrow(/comments/);
  });

  it("throws when the output does not parse", () => {
    expect(() => verifyFormatting(original, "// keep\nfn f() {\n  return a * (b + c\n}\n")).toThrow(/does not parse/);
  });
});
