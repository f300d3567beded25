// One bad token costs about one error: the parser resumes at the next statement (a line start, `;` or `}`), not
// in the middle of the line where a keyword such as `fn` would start a new declaration. Seeded stray tokens are
// inserted into a real model; the old recovery reached 25 errors for one token.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { parseSource } from "../../src/dsl/1-parse/parse.js";
import { uniforms } from "../../src/util/random.js";

const STRAYS = ["(", ")", "[", "]", "{", "}", ",", "=", "*", "..", "-", "@", ":", "->", ".", "fn", "let", "7", "x"];

it("a stray token anywhere in models/ifdd.net gives at most 8 syntax errors, and usually one", () => {
  const text = readFileSync(join(import.meta.dirname, "../../models/ifdd.net"), "utf8");
  const spaces = [...text.matchAll(/ /g)].map((m) => m.index);
  const next = uniforms(3);
  const counts: number[] = [];
  for (let i = 0; i < 400; i++) {
    const at = spaces[Math.floor(next() * spaces.length)];
    const stray = STRAYS[Math.floor(next() * STRAYS.length)];
    const variant = `${text.slice(0, at)} ${stray}${text.slice(at)}`;
    counts.push(parseSource("ifdd.net", variant).diagnostics.length);
  }
  expect(Math.max(...counts)).toBeLessThanOrEqual(8);
  expect(counts.filter((n) => n <= 2).length / counts.length).toBeGreaterThan(0.85);
});

it("a stray token inside a call written one argument a line costs that call, not an error per line", () => {
  const text = `model M()(x: f32[B, 8]) -> (y: f32[B, 8]) {
  let y = f(
    x ..,
    heads = 2,
    scale = 0.5,
    out = g[0],
  )
  return y
}
`;
  const d = parseSource("call.net", text).diagnostics;
  expect(d.map((x) => `${x.span?.line}: ${x.message}`)).toEqual(["3: unexpected ',' where an expression was expected"]);
});
