// Kernels that walk rows (softmax, layer norm, long reductions) come in two shapes: a workgroup per row that
// reduces in workgroup memory, for long rows, and a thread per row, for short ones. The second needs no barriers,
// which matters on software adapters, where a barrier makes a pipeline take seconds to compile.
import { u } from "./indexing.js";
import { perElementMain } from "./pointwise.js";
import { ENTRY, ENTRY_ARGS, type Extent, type KernelWriter } from "./writer.js";

/** Rows at least this long get a workgroup each. */
export const WIDE_ROW = 256;
export const GROUP_THREADS = 64;

/** A tree reduction of one value per thread over the workgroup; every thread gets the result. */
export function workgroupReduce(name: string, t: string, op: (a: string, b: string) => string): string {
  return `var<workgroup> ${name}_part: array<${t}, ${GROUP_THREADS}>;

fn ${name}(lid: u32, v: ${t}) -> ${t} {
  ${name}_part[lid] = v;
  workgroupBarrier();
  for (var s = ${u(GROUP_THREADS / 2)}; s > 0u; s = s >> 1u) {
    if (lid < s) { ${name}_part[lid] = ${op(`${name}_part[lid]`, `${name}_part[lid + s]`)}; }
    workgroupBarrier();
  }
  let r = ${name}_part[0];
  workgroupBarrier();
  return r;
}`;
}

export interface RowShape {
  /** Whether a workgroup shares each row (then partial results go through workgroup memory). */
  parallel: boolean;
  /** A loop header over the row's elements that this thread handles, counted by `index`. */
  each: (index?: string) => string;
  /** Prefix of a statement one thread per row runs. */
  once: string;
  /** Combines the per-thread partial results of a row (the identity when one thread has the whole row). */
  combine: (reduction: string, value: string) => string;
  /** The entry point around `body`, which sees the row index `r`. */
  main: (body: string) => { main: string; workgroups: [number, number, number] };
}

export function rowShape(w: KernelWriter, rows: Extent, n: number): RowShape {
  if (n < WIDE_ROW)
    return {
      parallel: false,
      each: (j = "j") => `for (var ${j} = 0u; ${j} < ${u(n)}; ${j} = ${j} + 1u)`,
      once: "",
      combine: (_reduction, value) => value,
      main: (body) => perElementMain(w, rows, `  let r = i;\n${body}`),
    };
  return {
    parallel: true,
    each: (j = "j") => `for (var ${j} = lid; ${j} < ${u(n)}; ${j} = ${j} + ${u(GROUP_THREADS)})`,
    once: "if (lid == 0u) ",
    combine: (reduction, value) => `${reduction}(lid, ${value})`,
    main: (body) => {
      const g = w.grid(rows, 1);
      const main = `${ENTRY}(${GROUP_THREADS}) fn main(${ENTRY_ARGS}) {
  let r = ${g.index};
  if (r >= ${w.times(rows)}) { return; }
${body}
}`;
      return { main, workgroups: g.workgroups };
    },
  };
}
