// netc's own ONNX protobuf codec: round trips through itself and through the reference implementation (python3-onnx,
// Google's protobuf), int64 values beyond 2^53, and malformed input.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AttributeType,
  DataLocation,
  DataType,
  decodeModel,
  encodeModel,
  type ModelProto,
} from "../../src/backends/onnx/proto.js";
import { ProtobufError } from "../../src/backends/onnx/wire.js";
import { onnxCheckerAvailable } from "../helpers/onnx-check.js";

/** A model that uses every kind of field the codec knows: int64 beyond 2^53 and negative, floats, bytes, unicode. */
function sample(): ModelProto {
  return {
    irVersion: 8,
    producerName: "netc",
    producerVersion: "0.1.0",
    docString: "ünïcødé ✓ 𝄞",
    modelVersion: 2n ** 60n,
    opsetImport: [{ domain: "", version: 17 }],
    metadataProps: [{ key: "k", value: "" }],
    graph: {
      name: "g",
      node: [
        {
          name: "n0",
          opType: "Slice",
          input: ["x", "starts", "ends"],
          output: ["y"],
          attribute: [
            { name: "big", type: AttributeType.INT, i: 9223372036854775807n },
            { name: "neg", type: AttributeType.INT, i: -1 },
            { name: "ints", type: AttributeType.INTS, ints: [0, -3, 2 ** 40, -(2n ** 63n)] },
            { name: "f", type: AttributeType.FLOAT, f: 0.5 },
            { name: "floats", type: AttributeType.FLOATS, floats: [1.5, -2.25] },
            { name: "s", type: AttributeType.STRING, s: new TextEncoder().encode("same_upper") },
          ],
        },
      ],
      initializer: [
        { name: "starts", dataType: DataType.INT64, dims: [1], rawData: new Uint8Array(8) },
        { name: "ends", dataType: DataType.INT64, dims: [1], int64Data: [-(2n ** 62n)] },
        {
          name: "w",
          dataType: DataType.FLOAT,
          dims: [2],
          dataLocation: DataLocation.EXTERNAL,
          externalData: [
            { key: "location", value: "w.data" },
            { key: "offset", value: "0" },
          ],
        },
      ],
      input: [
        {
          name: "x",
          type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: "B" }, { dimValue: 3 }] } } },
        },
      ],
      output: [
        {
          name: "y",
          type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: "B" }, { dimValue: 1 }] } } },
        },
      ],
    },
  };
}

/** What decoding adds: every repeated field as an array, absent ones empty. */
function withEmptyLists(m: ModelProto): unknown {
  return JSON.parse(
    JSON.stringify(m, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? [...v] : v)),
  );
}

const normalised = (m: ModelProto) => {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.entries(v)
          .filter(([, x]) => !(Array.isArray(x) && x.length === 0))
          .map(([k, x]) => [k, strip(x)]),
      );
    return v;
  };
  return strip(withEmptyLists(m));
};

describe("ONNX protobuf codec", () => {
  it("decodes what it encodes, int64 values beyond 2^53 exactly", () => {
    const decoded = decodeModel(encodeModel(sample()));
    expect(normalised(decoded)).toEqual(normalised(sample()));
    const attrs = decoded.graph!.node![0].attribute!;
    expect(attrs[0].i).toBe(9223372036854775807n);
    expect(attrs[1].i).toBe(-1);
    expect(attrs[2].ints).toEqual([0, -3, 2 ** 40, -(2n ** 63n)]);
    expect(decoded.modelVersion).toBe(2n ** 60n);
    // Repeated fields are arrays even when the message had none.
    expect(decoded.graph!.valueInfo).toEqual([]);
  });

  it("skips fields it does not know", () => {
    // ModelProto field 20 (training_info), a length-delimited field netc does not read, before the graph name.
    const known = encodeModel({ irVersion: 8, graph: { name: "g" } });
    const withUnknown = new Uint8Array([...known, 0xa2, 0x01, 0x02, 0x08, 0x01]);
    expect(decodeModel(withUnknown)).toMatchObject({ irVersion: 8, graph: { name: "g" } });
  });

  it("rejects malformed bytes and values a field cannot hold", () => {
    const bytes = encodeModel(sample());
    expect(() => decodeModel(bytes.subarray(0, bytes.byteLength - 3))).toThrow(ProtobufError);
    expect(() => decodeModel(Uint8Array.from([0x0f]))).toThrow(ProtobufError); // field 1 with wire type 7
    expect(() => encodeModel({ graph: { initializer: [{ dims: [1.5] }] } })).toThrow(/dims must be an integer/);
    expect(() => encodeModel({ irVersion: 2n ** 63n })).toThrow(/out of the int64 range/);
    expect(() => encodeModel({ graph: { initializer: [{ dataType: 2 ** 31 }] } })).toThrow(/int32 range/);
  });

  it.skipIf(!onnxCheckerAvailable())("agrees with the reference protobuf implementation both ways", () => {
    const dir = mkdtempSync(join(tmpdir(), "netc-proto-"));
    writeFileSync(join(dir, "ours.onnx"), encodeModel(sample()));
    // python3-onnx parses our bytes and serializes them again with Google's protobuf (repeated ints unpacked).
    const script = [
      "import onnx, sys",
      "m = onnx.load(sys.argv[1], load_external_data=False)",
      "assert m.graph.node[0].attribute[0].i == 9223372036854775807",
      "assert list(m.graph.node[0].attribute[2].ints) == [0, -3, 2**40, -2**63]",
      "assert m.doc_string == 'ünïcødé ✓ 𝄞' and m.model_version == 2**60",
      "open(sys.argv[2], 'wb').write(m.SerializeToString())",
    ].join("\n");
    const r = spawnSync("/usr/bin/python3", ["-c", script, join(dir, "ours.onnx"), join(dir, "theirs.onnx")], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(normalised(decodeModel(new Uint8Array(readFileSync(join(dir, "theirs.onnx")))))).toEqual(
      normalised(sample()),
    );
  });
});
