// `--tap name,...`: intermediates chosen on the command line become extra graph outputs, as if a `tap` statement
// named them, without editing the file. While the model is elaborated every tensor a block or model body binds is
// offered under `<layer path>/<name>` (the model's own as `<name>`), every layer's tensor inputs as
// `<layer path>/<input>` and its tensor result as `<layer path>`, and every `tap` under its name; the last value
// offered under a requested name is the one tapped
// (the value after a loop, the last call of a layer called twice).
import type * as A from "../../dsl/1-parse/ast.js";
import { closestName } from "../../util/suggest.js";
import { CliCodes, makeDiagnostic } from "../../diagnostics/codes.js";
import type { Diagnostic, Span, SourceMap } from "../../diagnostics/diagnostics.js";
import type { GraphOutput, Value as IrValue } from "../ir/ir.js";
import type { Val } from "./values.js";

/** How the `--tap` text is named in diagnostics (a source of its own, so a bad name gets a caret). */
export const TAP_SOURCE = "--tap";

export interface RequestedTap {
  name: string;
  span: Span;
}

/** Splits the `--tap` values (each a comma-separated list) into names with their spans in the `--tap` source. */
export function parseTapOption(values: readonly string[], sources: SourceMap): RequestedTap[] {
  const text = values.join(",");
  sources.add(TAP_SOURCE, text);
  const out: RequestedTap[] = [];
  let at = 0;
  for (const part of text.split(",")) {
    const name = part.trim();
    const start = at + part.indexOf(name);
    if (name) out.push({ name, span: sources.span(TAP_SOURCE, start, start + name.length) });
    at += part.length + 1;
  }
  return out;
}

export class TapSelection {
  private readonly offered = new Map<string, { value: IrValue; span?: Span }>();
  private readonly wanted: Set<string>;

  constructor(readonly requested: readonly RequestedTap[]) {
    this.wanted = new Set(requested.map((r) => r.name));
  }

  /** A value under a name; only requested names keep their value, every name counts for suggestions. */
  offer(name: string, v: Val, span?: Span): void {
    if (v.kind !== "tensor") return;
    this.offered.set(name, this.wanted.has(name) ? { value: v.v, span } : (this.offered.get(name) ?? NOT_KEPT));
  }

  /** The names a `let` or an assignment binds in a block or model body. */
  offerBinding(pattern: A.Pattern, v: Val, path: string): void {
    if (pattern.kind === "NamePattern")
      return void (
        pattern.name !== "_" && this.offer(path ? `${path}/${pattern.name}` : pattern.name, v, pattern.span)
      );
    if (v.kind === "tuple" || v.kind === "list")
      pattern.elements.forEach((p, i) => v.items[i] && this.offerBinding(p, v.items[i], path));
  }

  /** The requested values as graph outputs, or a NET8020 for each name nothing was offered under. */
  finish(): { taps: GraphOutput[]; diagnostics: Diagnostic[] } {
    const taps: GraphOutput[] = [];
    const diagnostics: Diagnostic[] = [];
    const seen = new Set<string>();
    for (const r of this.requested) {
      if (seen.has(r.name)) continue;
      seen.add(r.name);
      const got = this.offered.get(r.name);
      if (got && got !== NOT_KEPT) {
        taps.push({ name: r.name, value: got.value, span: got.span });
        continue;
      }
      const near = closestName(r.name, this.offered.keys());
      const within = [...this.offered.keys()]
        .filter((k) => k.endsWith(`/${r.name}`) || k.endsWith(`.${r.name}`))
        .slice(0, 3);
      const hint = near
        ? `did you mean '${near}'?`
        : within.length
          ? `did you mean ${within.map((k) => `'${k}'`).join(" or ")}?`
          : undefined;
      diagnostics.push(
        makeDiagnostic(CliCodes.UnknownTap, `--tap ${r.name}: the model has no tensor of that name`, r.span, { hint }),
      );
    }
    return { taps, diagnostics };
  }
}

/** Marks a name that was offered but not requested (kept for suggestions only). */
const NOT_KEPT = { value: undefined as unknown as IrValue };
