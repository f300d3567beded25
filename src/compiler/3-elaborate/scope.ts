// Variables by lexical scope, and the running body (block, fn or model) an evaluation belongs to.
import type { Span } from "../../diagnostics/diagnostics.js";
import type { Val } from "./values.js";

export class Scope {
  private readonly vars = new Map<string, { value: Val; span?: Span }>();
  constructor(readonly parent?: Scope) {}

  lookup(name: string): { value: Val; span?: Span } | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }

  define(name: string, value: Val, span?: Span): void {
    this.vars.set(name, { value, span });
  }

  /** Rebinds an existing variable where it was defined; false when there is none. */
  assign(name: string, value: Val): boolean {
    const here = this.vars.get(name);
    if (here) {
      here.value = value;
      return true;
    }
    return this.parent?.assign(name, value) ?? false;
  }

  names(): string[] {
    return [...this.vars.keys(), ...(this.parent?.names() ?? [])];
  }
}

/** One running body: a block call, fn call or the model. */
export interface Activation {
  /** Weight-path prefix of this block instance ("" at the model). */
  path: string;
  /** Layer group namespace of this activation, holding `layer` declarations. */
  layers: Map<string, Val>;
  /** Params and layers declared so far (`param:<path>`, `layer:<path>`), with where. */
  declared: Map<string, Span>;
  kind: "model" | "block" | "fn";
  construct?: string;
}

/** What a statement does to its body: go on (undefined), or return a value. */
export type Signal = { returned: Val } | undefined;

/** The activation of the model's own body (and of compile-time values evaluated outside any body). */
export function rootActivation(): Activation {
  return { path: "", layers: new Map(), declared: new Map(), kind: "model" };
}
