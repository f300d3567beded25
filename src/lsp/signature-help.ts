// Signature help: inside the parentheses of a call, the callee's parameters with the one being written marked. Read
// from the text around the cursor (while an argument is typed the file rarely parses), the callee resolved against
// the latest analysis: a block's configuration (`Linear(`), a layer's or `Block(...)(`'s inputs, a fn, a builtin.
import type * as A from "../dsl/1-parse/ast.js";
import { callableSignature } from "../dsl/signatures/builtins.js";
import type { ParamSignature } from "../dsl/signatures/signature.js";
import { forEachStmt } from "../dsl/2-analyze/rules/walk.js";
import { type Analysis, sourceFileOf } from "./analysis.js";
import { type Decl, docComment, enclosing, globalDefinitions, localDefinitions } from "./features.js";

export interface SignatureHelpResult {
  label: string;
  /** Each parameter's [start, end) in the label. */
  parameters: [number, number][];
  activeParameter: number;
  documentation?: string;
}

const OPEN: Record<string, string> = { ")": "(", "]": "[", "}": "{" };

/** The unclosed `(` before an offset (through list brackets), and the commas at its depth: undefined outside any call. */
function openCall(text: string, offset: number): { paren: number; argStart: number; commas: number } | undefined {
  const stack: string[] = [];
  let commas = 0;
  let argStart = offset;
  for (let i = offset - 1; i >= 0; i--) {
    const c = text[i];
    if (c === "\n" && /^\s*\/\//.test(text.slice(i + 1, offset))) continue;
    if (c in OPEN) stack.push(OPEN[c]);
    else if (c === "(" || c === "[" || c === "{") {
      if (stack.length) {
        if (stack.pop() !== c) return undefined;
      } else if (c === "(") return { paren: i, argStart, commas };
      else if (c === "[") {
        // Inside a list argument: the argument is the list's, counted among the call's from here.
        commas = 0;
        argStart = i;
      } else return undefined;
    } else if (c === "," && !stack.length) {
      if (commas === 0) argStart = i + 1;
      commas++;
    }
  }
  return undefined;
}

/** The name before a `(` (skipping spaces), and whether it is a second pair of parentheses (`Block(...)(`). */
function calleeBefore(text: string, paren: number): { name: string; start: number; inputs: boolean } | undefined {
  let i = paren - 1;
  while (i >= 0 && /\s/.test(text[i])) i--;
  let inputs = false;
  if (text[i] === ")") {
    let depth = 0;
    for (; i >= 0; i--) {
      if (text[i] === ")") depth++;
      else if (text[i] === "(" && --depth === 0) break;
    }
    i--;
    while (i >= 0 && /\s/.test(text[i])) i--;
    inputs = true;
  }
  const end = i + 1;
  while (i >= 0 && /[A-Za-z0-9_]/.test(text[i])) i--;
  const name = text.slice(i + 1, end);
  return /^[A-Za-z_]/.test(name) ? { name, start: i + 1, inputs } : undefined;
}

/** A label made of parts, recording where each parameter sits in it. */
function labelled(head: string, params: string[], tail = ")"): { label: string; parameters: [number, number][] } {
  let label = `${head}(`;
  const parameters: [number, number][] = [];
  params.forEach((p, i) => {
    if (i) label += ", ";
    parameters.push([label.length, label.length + p.length]);
    label += p;
  });
  return { label: label + tail, parameters };
}

function builtinParam(p: ParamSignature): string {
  return `${p.name}${p.optional ? "?" : ""}: ${p.kinds.join("|")}${p.default === undefined ? "" : ` = ${p.default}`}`;
}

/** The block a layer name in a declaration was made from (`layer q = Linear(...)`). */
function layerBlock(decl: Decl, name: string): string | undefined {
  let found: string | undefined;
  forEachStmt(decl.body, (s: A.Stmt) => {
    if (s.kind === "Layer" && s.path[0]?.kind === "Name" && s.path[0].name === name)
      if (s.init.kind === "Call" && s.init.callee.kind === "Name") found ??= s.init.callee.name;
  });
  return found;
}

export function signatureHelpAt(analysis: Analysis, file: string, offset: number): SignatureHelpResult | undefined {
  const text = analysis.sources.text(file);
  if (text === undefined) return undefined;
  const call = openCall(text, Math.min(offset, text.length));
  if (!call) return undefined;
  const callee = calleeBefore(text, call.paren);
  if (!callee) return undefined;
  const written = text.slice(call.argStart, offset);
  const named = /^\s*([A-Za-z_]\w*)\s*=(?!=)/.exec(written)?.[1];
  const source = sourceFileOf(analysis, file);
  const here = source ? enclosing(source, offset) : undefined;
  // A layer of the enclosing declaration called on its inputs: its block's inputs.
  let name = callee.name;
  let inputs = callee.inputs;
  const local = here ? localDefinitions(here).find((d) => d.name === name && d.what === "layer") : undefined;
  if (local && here) {
    const block = layerBlock(here, name);
    if (!block) return undefined;
    name = block;
    inputs = true;
  }
  const choose = (names: string[]) => {
    const byName = named ? names.findIndex((n) => n === named) : -1;
    return byName >= 0 ? byName : Math.min(call.commas, Math.max(names.length - 1, 0));
  };
  const global = globalDefinitions(analysis).find((d) => d.name === name && d.decl);
  if (global?.decl && global.decl.kind !== "Model") {
    const d = global.decl;
    const declText = analysis.sources.text(global.span.file) ?? "";
    const params = d.kind === "Fn" ? d.params : inputs ? d.inputs : d.config;
    const shown = params.map((p) => declText.slice(p.span.start, p.span.end));
    const head = d.kind === "Fn" ? `fn ${d.name.name}` : inputs ? `${d.name.name}(...)` : `block ${d.name.name}`;
    const { label, parameters } = labelled(head, shown);
    const defFile = sourceFileOf(analysis, global.span.file);
    const documentation = defFile ? docComment(defFile, declText, d) : undefined;
    return {
      label,
      parameters,
      activeParameter: choose(params.map((p) => p.name.name)),
      ...(documentation ? { documentation } : {}),
    };
  }
  const sig = !inputs ? callableSignature(name) : undefined;
  if (!sig) return undefined;
  const { label, parameters } = labelled(name, sig.params.map(builtinParam));
  return { label, parameters, activeParameter: choose(sig.params.map((p) => p.name)), documentation: sig.doc };
}
