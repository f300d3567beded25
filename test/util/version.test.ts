// netc's version is a constant (bundled programs have no netc package.json to read): it must be package.json's.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import { emitOnnx } from "../../src/backends/onnx/emit.js";
import { decodeModel } from "../../src/backends/onnx/proto.js";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import { VERSION } from "../../src/util/version.js";
import { at } from "../helpers/ir.js";

const ROOT = resolve(__dirname, "../..");

it("src/util/version.ts says package.json's version, which the ONNX models record", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  expect(VERSION).toBe(pkg.version);
  const b = new GraphBuilder("Id");
  b.output("y", b.op1("neg", {}, [b.input("x", "f32", [2], at(1))], at(2)));
  const model = decodeModel(emitOnnx(b.graph).bytes!);
  expect(model.producerVersion).toBe(pkg.version);
  expect(model.metadataProps?.find((p) => p.key === "netc.version")?.value).toBe(pkg.version);
});
