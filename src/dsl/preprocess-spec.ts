// What a model's `preprocess { }` declaration means: its fields, their kinds and defaults, and the checked spec
// that compiled artifacts carry (ONNX metadata `netc.preprocess`, the bundle manifest's `preprocess`) and that
// `netc infer` follows. Values are literals, so a spec is known without elaborating the model.
import type * as A from "./1-parse/ast.js";
import { makeDiagnostic } from "../diagnostics/codes.js";
import type { Diagnostic } from "../diagnostics/diagnostics.js";
import { closestName } from "../util/suggest.js";
import { PreprocessCodes } from "../diagnostics/preprocess-codes.js";

export const SAMPLINGS = ["segment-middle", "segment-start", "segments", "uniform", "consecutive", "windows"] as const;
export const SHORT_CLIPS = ["repeat-last", "from-start"] as const;
export const INTERPOLATIONS = ["bilinear", "bicubic", "nearest"] as const;
export const LAYOUTS = ["BCTHW", "BTCHW"] as const;
export const CHANNEL_ORDERS = ["RGB", "BGR"] as const;
export const MERGES = ["mean-logits", "mean-softmax", "none"] as const;

/** A clip's preparation, every field filled (defaults where the model declares nothing). */
export interface PreprocessSpec {
  /** The model input the clip feeds; absent: the model's only input. */
  input?: string;
  /** The output that holds the class scores; absent: the model's first output. */
  output?: string;
  /** Frames per view; absent: the input's time dimension. */
  frames?: number;
  /** How `frames` frames are picked from a clip's frames (docs/evaluating.md). */
  sampling: (typeof SAMPLINGS)[number];
  /** `segments` sampling: consecutive frames per segment (the TSN-style loaders' `duration`); absent: 1. */
  segment_length?: number;
  /** `segments` sampling, a clip too short for the segments: where they start; absent: "repeat-last". */
  short_clips?: (typeof SHORT_CLIPS)[number];
  /** Sampling runs on every `frame_stride`-th frame of the clip (VideoMAE's `frame_sample_rate`); absent: 1. */
  frame_stride?: number;
  /** `[H, W]`: each frame resized to exactly this; a single number: the shorter side resized to it (aspect kept). */
  resize?: number | [number, number];
  /** A centre crop `[H, W]` after the resize. */
  crop?: [number, number];
  interpolation: (typeof INTERPOLATIONS)[number];
  /** Shrinking widens the kernel as PIL and torchvision's antialiased resize do. */
  antialias: boolean;
  /** Pixel values 0..255 are mapped linearly onto this range before mean/std. */
  range: [number, number];
  /** Clamp resized values to `range` (bicubic overshoots). */
  clamp: boolean;
  mean: number[];
  std: number[];
  channels: (typeof CHANNEL_ORDERS)[number];
  layout: (typeof LAYOUTS)[number];
  /** Class names, in the order of the output's scores. */
  labels?: string[];
  /** Test-time views: start positions spread over the clip (`consecutive` sampling). */
  temporal_views: number;
  /** Test-time views: crops spread along the longer side of the resized frame. */
  spatial_views: number;
  /** How the views' outputs become the clip's scores. */
  merge: (typeof MERGES)[number];
}

export const DEFAULT_PREPROCESS: PreprocessSpec = {
  sampling: "segment-middle",
  interpolation: "bilinear",
  antialias: true,
  range: [0, 1],
  clamp: false,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  channels: "RGB",
  layout: "BCTHW",
  temporal_views: 1,
  spatial_views: 1,
  merge: "mean-logits",
};

/** A literal as written: number, string, bool, or a list of them. */
type Literal = number | string | boolean | Literal[];

interface Field {
  /** What the value must be, for the message. */
  expects: string;
  /** The value for the spec, or undefined when it is not of the field's kind. */
  read(value: Literal): unknown;
}

const isInt = (v: Literal, min: number): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= min;
const intPair = (v: Literal): [number, number] | undefined =>
  Array.isArray(v) && v.length === 2 && v.every((x) => isInt(x, 1)) ? (v as [number, number]) : undefined;
const oneOf = <T extends string>(values: readonly T[]): Field => ({
  expects: values.map((x) => `"${x}"`).join(", "),
  read: (v) => (values.includes(v as T) ? v : undefined),
});
const numbers = (v: Literal): number[] | undefined =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "number" && Number.isFinite(x))
    ? (v as number[])
    : undefined;
const MAX_SIDE = 16384;
const MAX_FRAMES = 4096;
const MAX_VIEWS = 64;

const FIELDS: Record<keyof PreprocessSpec, Field> = {
  input: { expects: "an input name (a string)", read: (v) => (typeof v === "string" && v !== "" ? v : undefined) },
  output: { expects: "an output name (a string)", read: (v) => (typeof v === "string" && v !== "" ? v : undefined) },
  frames: {
    expects: `a whole number from 1 to ${MAX_FRAMES}`,
    read: (v) => (isInt(v, 1) && v <= MAX_FRAMES ? v : undefined),
  },
  sampling: oneOf(SAMPLINGS),
  segment_length: {
    expects: `a whole number from 1 to ${MAX_FRAMES}`,
    read: (v) => (isInt(v, 1) && v <= MAX_FRAMES ? v : undefined),
  },
  short_clips: oneOf(SHORT_CLIPS),
  frame_stride: {
    expects: `a whole number from 1 to ${MAX_FRAMES}`,
    read: (v) => (isInt(v, 1) && v <= MAX_FRAMES ? v : undefined),
  },
  resize: {
    expects: `a size [H, W] or a shorter side, whole numbers from 1 to ${MAX_SIDE}`,
    read: (v) => (isInt(v, 1) && v <= MAX_SIDE ? v : intPair(v)?.every((x) => x <= MAX_SIDE) ? v : undefined),
  },
  crop: {
    expects: `a size [H, W] of whole numbers from 1 to ${MAX_SIDE}`,
    read: (v) => (intPair(v)?.every((x) => x <= MAX_SIDE) ? v : undefined),
  },
  interpolation: oneOf(INTERPOLATIONS),
  antialias: { expects: "true or false", read: (v) => (typeof v === "boolean" ? v : undefined) },
  range: { expects: "two numbers [low, high]", read: (v) => (numbers(v)?.length === 2 ? v : undefined) },
  clamp: { expects: "true or false", read: (v) => (typeof v === "boolean" ? v : undefined) },
  mean: { expects: "a list of numbers, one per channel", read: (v) => numbers(v) },
  std: { expects: "a list of numbers, one per channel", read: (v) => numbers(v) },
  channels: oneOf(CHANNEL_ORDERS),
  layout: oneOf(LAYOUTS),
  labels: {
    expects: "a list of class names (strings)",
    read: (v) => (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string") ? v : undefined),
  },
  temporal_views: {
    expects: `a whole number from 1 to ${MAX_VIEWS}`,
    read: (v) => (isInt(v, 1) && v <= MAX_VIEWS ? v : undefined),
  },
  spatial_views: {
    expects: `a whole number from 1 to ${MAX_VIEWS}`,
    read: (v) => (isInt(v, 1) && v <= MAX_VIEWS ? v : undefined),
  },
  merge: oneOf(MERGES),
};

export const PREPROCESS_FIELDS: readonly string[] = Object.keys(FIELDS);

/** The literal an expression spells, or undefined when it is not one (names and arithmetic are not allowed). */
function literalOf(e: A.Expr): Literal | undefined {
  switch (e.kind) {
    case "Number":
    case "String":
    case "Bool":
      return e.value;
    case "Unary":
      return e.op === "-" && e.operand.kind === "Number" ? -e.operand.value : undefined;
    case "List": {
      const items = e.elements.map(literalOf);
      return items.every((x) => x !== undefined) ? (items as Literal[]) : undefined;
    }
    default:
      return undefined;
  }
}

/** The fields in the order FIELDS lists them, so records read the same whatever order the source used. */
function inFieldOrder(fields: Record<string, unknown>): PreprocessSpec {
  return Object.fromEntries(
    PREPROCESS_FIELDS.filter((k) => fields[k] !== undefined).map((k) => [k, fields[k]]),
  ) as unknown as PreprocessSpec;
}

/** The spec a declaration gives, and what is wrong with it (every problem, each at its field). */
export function readPreprocess(stmt: A.PreprocessStmt): { spec: PreprocessSpec; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const spec: Record<string, unknown> = { ...DEFAULT_PREPROCESS };
  const seen = new Map<string, A.PreprocessField>();
  for (const f of stmt.fields) {
    const name = f.name.name;
    const field = Object.hasOwn(FIELDS, name) ? FIELDS[name as keyof PreprocessSpec] : undefined;
    if (!field) {
      const near = closestName(name, PREPROCESS_FIELDS);
      diagnostics.push(
        makeDiagnostic(
          PreprocessCodes.UnknownField,
          `preprocess has no field '${name}'`,
          f.name.span,
          near ? { hint: `did you mean '${near}'?` } : {},
        ),
      );
      continue;
    }
    const first = seen.get(name);
    if (first) {
      diagnostics.push(
        makeDiagnostic(PreprocessCodes.DuplicateField, `preprocess field '${name}' is given twice`, f.name.span, {
          related: [{ message: "first given here", span: first.name.span }],
        }),
      );
      continue;
    }
    seen.set(name, f);
    const literal = literalOf(f.value);
    const value = literal === undefined ? undefined : field.read(literal);
    if (value === undefined) {
      const why =
        literal === undefined
          ? "preprocess values are literals (numbers, strings, true/false, lists of them)"
          : `'${name}' expects ${field.expects}`;
      diagnostics.push(
        makeDiagnostic(
          PreprocessCodes.BadValue,
          why,
          f.value.span,
          literal === undefined ? { hint: `'${name}' expects ${field.expects}` } : {},
        ),
      );
      continue;
    }
    spec[name] = value;
  }
  const result = inFieldOrder(spec);
  const at = (name: string) => (seen.get(name) ?? stmt.fields[0] ?? stmt).span;
  const inconsistent = (message: string, name: string) =>
    diagnostics.push(makeDiagnostic(PreprocessCodes.Inconsistent, message, at(name)));
  if (result.mean.length !== 3) inconsistent(`mean has ${result.mean.length} values; frames have 3 channels`, "mean");
  if (result.std.length !== 3) inconsistent(`std has ${result.std.length} values; frames have 3 channels`, "std");
  if (result.std.some((s) => s === 0)) inconsistent("std has a zero: normalising would divide by zero", "std");
  if (!(result.range[0] < result.range[1]))
    inconsistent(`range [${result.range.join(", ")}] is empty: low must be below high`, "range");
  if (result.temporal_views * result.spatial_views > 1 && result.merge === "none")
    inconsistent('several test-time views need a merge ("mean-logits" or "mean-softmax")', "merge");
  for (const name of ["segment_length", "short_clips"] as const)
    if (result[name] !== undefined && result.sampling !== "segments")
      inconsistent(`${name} belongs to sampling = "segments" (it is "${result.sampling}")`, name);
  if (result.frames !== undefined && result.frames % (result.segment_length ?? 1) !== 0)
    inconsistent(
      `${result.frames} frames do not split into segments of ${result.segment_length} frames`,
      "segment_length",
    );
  if (result.temporal_views > 1 && result.sampling !== "consecutive")
    inconsistent(
      `temporal_views place windows of consecutive frames: they need sampling = "consecutive" (it is ` +
        `"${result.sampling}")`,
      "temporal_views",
    );
  return { spec: result, diagnostics };
}

/** The model input's `[T, H, W]` for a layout, from its shape (`[B, C, T, H, W]` or `[B, T, C, H, W]`). */
export function videoDims(
  layout: PreprocessSpec["layout"],
  shape: readonly (number | string)[],
): { channels: number | string; frames: number | string; height: number | string; width: number | string } | undefined {
  if (shape.length !== 5) return undefined;
  const [, a, b, height, width] = shape;
  return layout === "BCTHW" ? { channels: a, frames: b, height, width } : { channels: b, frames: a, height, width };
}

/** The ONNX metadata_props key holding the spec as JSON. */
export const PREPROCESS_METADATA_KEY = "netc.preprocess";

/** A spec read back from an artifact (ONNX metadata, bundle manifest): checked field by field like the source. */
export function preprocessFromJson(value: unknown): { spec?: PreprocessSpec; problem?: string } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { problem: "not a JSON object" };
  const spec: Record<string, unknown> = { ...DEFAULT_PREPROCESS };
  for (const [name, v] of Object.entries(value)) {
    const field = Object.hasOwn(FIELDS, name) ? FIELDS[name as keyof PreprocessSpec] : undefined;
    if (!field) return { problem: `unknown field '${name}'` };
    if (field.read(v as Literal) === undefined) return { problem: `'${name}' expects ${field.expects}` };
    spec[name] = v;
  }
  return { spec: inFieldOrder(spec) };
}
