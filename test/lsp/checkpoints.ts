// Checkpoints the language-server tests pair with models.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { writeSafetensors } from "../../src/weights/safetensors.js";
import { random } from "../helpers/ir.js";

/** Writes a checkpoint of a Linear(4, 3) whose tensors are `<layer>.weight` and `<layer>.bias` (folders made). */
export function linearCheckpoint(path: string, layer: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeSafetensors(
    path,
    new Map([
      [`${layer}.weight`, random("f32", [3, 4], 1)],
      [`${layer}.bias`, random("f32", [3], 2)],
    ]),
  );
  return path;
}
