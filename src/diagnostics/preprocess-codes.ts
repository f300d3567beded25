// Diagnostic codes of the `preprocess { }` declaration (NET2050-NET2059: static checks of the model's source).
import type { CodeInfo } from "./codes.js";

const code = (c: string, title: string, hint?: string): CodeInfo => ({ code: c, severity: "error", title, hint });

export const PreprocessCodes = {
  UnknownField: code(
    "NET2050",
    "a `preprocess` field that netc does not define",
    "the fields are listed in docs/evaluating.md",
  ),
  BadValue: code("NET2051", "a `preprocess` value of the wrong kind, or outside the values the field allows"),
  DuplicateField: code("NET2052", "a `preprocess` field given twice", "keep one of them"),
  Misplaced: code(
    "NET2053",
    "a `preprocess { }` declaration outside a model body, or a second one in the same model",
    "declare it once, in the model body",
  ),
  Inconsistent: code(
    "NET2054",
    "`preprocess` fields that contradict each other (mean/std lengths, a value range, views without a merge, " +
      "segment fields)",
  ),
} as const;
