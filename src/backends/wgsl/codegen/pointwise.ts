// A kernel anchored on an elementwise or layout node that has to be stored: one thread per output element.
import type { KernelOf } from "../plan.js";
import { shapeOf } from "../prepare.js";
import { numelOf, u } from "./indexing.js";
import { ENTRY, ENTRY_ARGS, type Extent, type KernelModule, type KernelWriter } from "./writer.js";

export const THREADS = 256;

/** The entry point shared by kernels that give each of `count` threads one output index `i`. */
export function perElementMain(
  w: KernelWriter,
  count: Extent,
  body: string,
): { main: string; workgroups: [number, number, number] } {
  const threads = Math.min(THREADS, w.ctx.maxInvocations);
  const g = w.grid(count, threads);
  const main = `${ENTRY}(${threads}) fn main(${ENTRY_ARGS}) {
  let i = ${g.index} * ${u(threads)} + lid;
  if (i >= ${w.times(count)}) { return; }
${body}
}`;
  return { main, workgroups: g.workgroups };
}

export function pointwiseKernel(w: KernelWriter, k: KernelOf<"pointwise">): KernelModule {
  const out = k.anchor.outputs[0];
  const { main, workgroups } = perElementMain(
    w,
    w.items(numelOf(shapeOf(out)), out),
    `  emit(i, ${w.read(out, "i")});`,
  );
  return w.finish(`${w.epilogue()}\n\n${main}`, workgroups);
}
