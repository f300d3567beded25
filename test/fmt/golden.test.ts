// Golden files: test/fmt/cases/NAME.net formats to NAME.expected.net, which is itself a fixed point.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectFormattingProperties, format, readText } from "./helpers.js";

const CASES = join(import.meta.dirname, "cases");
const inputs = readdirSync(CASES).filter((f) => f.endsWith(".net") && !f.endsWith(".expected.net"));

describe("fmt golden cases", () => {
  it("has cases", () => expect(inputs.length).toBeGreaterThan(0));

  for (const input of inputs) {
    const expectedPath = join(CASES, input.replace(/\.net$/, ".expected.net"));
    it(input, () => {
      expect(existsSync(expectedPath), `${expectedPath} is missing`).toBe(true);
      const text = readText(join(CASES, input));
      expect(format(input, text)).toBe(readText(expectedPath));
      expectFormattingProperties(input, text);
    });
  }
});
