// The reference interpreter against values computed independently with numpy and PyTorch
// (test/fixtures/ops, made by tools/gen_op_fixtures.py).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "vitest";
import { GraphBuilder } from "../../src/compiler/ir/builder.js";
import type { OpAttrs, OpName } from "../../src/compiler/ir/ir.js";
import { interpret } from "../../src/compiler/ir/interpret.js";
import type { DType, HostTensor } from "../../src/util/tensor.js";
import { at, expectClose, tensor } from "../helpers/ir.js";

interface FixtureTensor {
  dtype: DType;
  shape: number[];
  data: number[];
}

interface FixtureCase {
  name: string;
  op: OpName;
  attrs: OpAttrs[OpName];
  inputs: FixtureTensor[];
  outputs: FixtureTensor[];
}

const DIR = join(import.meta.dirname, "../fixtures/ops");

/** f16 fixtures hold exactly representable values, which `tensor` turns into bits without rounding. */
function host(t: FixtureTensor): HostTensor {
  return tensor(t.dtype, t.shape, t.data);
}

function run(c: FixtureCase): HostTensor[] {
  const b = new GraphBuilder(c.name);
  const inputs = new Map<string, HostTensor>();
  const values = c.inputs.map((t, i) => {
    inputs.set(`in${i}`, host(t));
    return b.input(`in${i}`, t.dtype, t.shape, at(1));
  });
  b.op(c.op, c.attrs, values, at(2)).forEach((v, i) => b.output(`out${i}`, v));
  const { outputs } = interpret(b.graph, inputs, new Map());
  return c.outputs.map((_, i) => outputs.get(`out${i}`)!);
}

for (const file of readdirSync(DIR).filter((f) => f.endsWith(".json"))) {
  const { cases } = JSON.parse(readFileSync(join(DIR, file), "utf8")) as { cases: FixtureCase[] };
  describe(`interpreter matches numpy/torch: ${file}`, () => {
    for (const c of cases)
      it(c.name, () => {
        const got = run(c);
        c.outputs.forEach((t, i) => expectClose(got[i], host(t), 1e-6, `${c.name} output ${i}`));
      });
  });
}
