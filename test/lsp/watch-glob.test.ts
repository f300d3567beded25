// The string globs the server registers for clients without relative patterns (and the names under a base folder
// for those with them) match the checkpoint they name, whatever glob characters its name holds, read by a matcher of
// LSP 3.17's glob syntax in its strictest common reading (below).
import { describe, expect, it } from "vitest";
import { checkpointWatchers } from "../../src/lsp/checkpoint-watch.js";

/**
 * LSP 3.17 globs as a RegExp, refusing what clients read differently: `**` a whole segment, `*` and `?` within one
 * segment, `{a,b}` alternatives, `[...]` and `[!...]` classes of ranges `x-y` only (Neovim's matcher reads no
 * single characters; every reader ends a class at its first `]`), no escape (backslash is literal). A `]` or `}`
 * outside a class or braces, an empty class or a `[` that opens none is refused: VS Code reads a stray `]` as a class
 * that matches nothing and drops a stray `}`, Neovim reads them as themselves.
 */
function referenceGlob(glob: string): RegExp {
  let i = 0;
  const literal = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
  const escapeInClass = (c: string) => c.replace(/[\\^\][/-]/g, "\\$&");
  const sequence = (inBraces: boolean): string => {
    let out = "";
    while (i < glob.length) {
      const c = glob[i];
      if (inBraces && (c === "," || c === "}")) return out;
      if (c === "*" && glob[i + 1] === "*") {
        const segmentStart = i === 0 || glob[i - 1] === "/";
        const segmentEnd = i + 2 === glob.length || glob[i + 2] === "/";
        if (!segmentStart || !segmentEnd) throw new Error(`'**' inside a segment at ${i}`);
        out += glob[i + 2] === "/" ? "(?:[^/]+/)*" : ".*";
        i += glob[i + 2] === "/" ? 3 : 2;
      } else if (c === "*") (out += "[^/]+"), i++;
      else if (c === "?") (out += "[^/]"), i++;
      else if (c === "[") out += characterClass();
      else if (c === "{") {
        i++;
        const choices = [sequence(true)];
        while (glob[i] === ",") i++, choices.push(sequence(true));
        if (glob[i] !== "}") throw new Error("unclosed '{'");
        i++;
        out += `(?:${choices.join("|")})`;
      } else if (c === "]" || c === "}") throw new Error(`a stray '${c}' at ${i}`);
      else (out += literal(c)), i++;
    }
    if (inBraces) throw new Error("unclosed '{'");
    return out;
  };
  const characterClass = (): string => {
    const close = glob.indexOf("]", i + 1);
    if (close < 0) throw new Error(`'[' at ${i} opens no class`);
    let body = glob.slice(i + 1, close);
    const negated = body.startsWith("!");
    if (negated) body = body.slice(1);
    if (body.length === 0 || body.length % 3 !== 0) throw new Error(`'[' at ${i}: not a class of ranges`);
    let ranges = "";
    for (let k = 0; k < body.length; k += 3) {
      if (body[k + 1] !== "-" || body[k] > body[k + 2]) throw new Error(`'[' at ${i}: not a class of ranges`);
      ranges += `${escapeInClass(body[k])}-${escapeInClass(body[k + 2])}`;
    }
    i = close + 1;
    return negated ? `[^/${ranges}]` : `[${ranges}]`;
  };
  return new RegExp(`^${sequence(false)}$`, "u");
}

/** The reference reads the syntax as documented (so that it can judge the builder). */
describe("the reference matcher", () => {
  it("reads LSP globs", () => {
    expect(referenceGlob("**/*.{ts,js}").test("a/b/c.ts")).toBe(true);
    expect(referenceGlob("**/*.{ts,js}").test("c.js")).toBe(true);
    expect(referenceGlob("**/*.{ts,js}").test("c.py")).toBe(false);
    expect(referenceGlob("example.[0-9]").test("example.7")).toBe(true);
    expect(referenceGlob("example.[!0-9]").test("example.a")).toBe(true);
    expect(referenceGlob("example.[!0-9]").test("example.0")).toBe(false);
    expect(referenceGlob("a?c").test("abc")).toBe(true);
    expect(referenceGlob("a?c").test("a/c")).toBe(false);
    expect(referenceGlob("a\\b").test("a\\b")).toBe(true);
    for (const refused of ["a]b", "a}b", "a[b", "a[]b", "a[b]", "{a,b", "a**b"])
      expect(() => referenceGlob(refused), refused).toThrow();
  });
});

const METACHARACTERS = ["[", "]", "*", "?", "{", "}", ",", "!", "\\", "-", "^"];
/** What the builder cannot tell from a `]` (see literalGlob): the other ends of the range `[\-^]`. */
const SAME_AS_CLOSING_BRACKET = ["\\", "^"];

/** Names that differ from `name` in one place: where it holds a glob character, each other such character, or x. */
function neighbours(name: string): string[] {
  const out = new Set<string>();
  for (let k = 0; k < name.length; k++) {
    if (!METACHARACTERS.includes(name[k])) continue;
    for (const other of [...METACHARACTERS, "x", "xx", ""]) {
      if (other === name[k] || (name[k] === "]" && SAME_AS_CLOSING_BRACKET.includes(other))) continue;
      out.add(name.slice(0, k) + other + name.slice(k + 1));
    }
  }
  out.delete(name);
  return [...out];
}

const NAMES = [
  ...METACHARACTERS.map((c) => `model${c}1.safetensors`),
  ...METACHARACTERS.map((c) => `${c}model.pt`),
  "ckpt[0].pt",
  "run{a,b}*?.pt",
  "[!x].pt",
  "]x[.pt",
  "a]b]c.pt",
  "back\\slash]{}.pt",
];

describe("checkpoint watchers' globs", () => {
  it.each(NAMES)("match %s and no name one glob character away", (name) => {
    const folder = "/work/ckpt {1}/run[2]";
    const path = `${folder}/${name}`;
    const [absolute] = checkpointWatchers([path], false);
    const [relative] = checkpointWatchers([path], true);
    if (typeof absolute.globPattern !== "string" || typeof relative.globPattern === "string")
      throw new Error("a string glob without relative patterns, a base folder with them");
    const full = referenceGlob(absolute.globPattern);
    const base = referenceGlob(relative.globPattern.pattern);
    expect(full.test(path)).toBe(true);
    expect(base.test(name)).toBe(true);
    for (const other of neighbours(name)) {
      expect(full.test(`${folder}/${other}`), other).toBe(false);
      expect(base.test(other), other).toBe(false);
    }
    for (const other of neighbours(folder)) expect(full.test(`${other}/${name}`), other).toBe(false);
  });

  it("match a `]` as the narrowest range can: also `\\` or `^` in its place (the server ignores those)", () => {
    const [watcher] = checkpointWatchers(["/w/a]b.pt"], true);
    if (typeof watcher.globPattern === "string") throw new Error("a base folder with relative patterns");
    const glob = referenceGlob(watcher.globPattern.pattern);
    expect(["a]b.pt", "a\\b.pt", "a^b.pt", "a_b.pt"].map((n) => glob.test(n))).toEqual([true, true, true, false]);
  });
});
