// Runs the netc command line in-process, capturing what it prints.
import { vi } from "vitest";
import { main } from "../../src/cli/main.js";

export interface NetcRun {
  code: number;
  out: string;
  err: string;
}

export async function runNetc(...args: string[]): Promise<NetcRun> {
  let [out, err] = ["", ""];
  const o = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi
    .spyOn(process.stderr, "write")
    .mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await main(args), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
