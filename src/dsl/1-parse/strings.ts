// String literals: `"..."` with the escapes below, and raw `r"..."` whose backslashes are kept as written.
// The lexer, the parser (decoding) and the formatter (encoding) all use this one table.

/** The escapes a `"..."` literal understands, by the character after the backslash. Any other is NET1006. */
export const STRING_ESCAPES: Readonly<Record<string, string>> = { "\\": "\\", '"': '"', n: "\n", t: "\t", r: "\r" };

const ENCODED: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(STRING_ESCAPES).map(([c, v]) => [v, `\\${c}`]),
);

export interface UnknownEscape {
  /** Offset of the backslash within the literal's text. */
  offset: number;
  /** The backslash and the character after it, e.g. `\d`. */
  text: string;
}

export interface DecodedString {
  value: string;
  raw: boolean;
  /** Escapes that mean nothing (kept as written in `value`, which is then unusable: the literal is an error). */
  unknownEscapes: UnknownEscape[];
}

/** The value of a string token's text (`"a\tb"` or `r"^x\.\d+"`). */
export function decodeString(image: string): DecodedString {
  if (image.startsWith("r")) return { value: image.slice(2, -1), raw: true, unknownEscapes: [] };
  const unknownEscapes: UnknownEscape[] = [];
  const value = image.slice(1, -1).replace(/\\(.)/g, (text: string, c: string, at: number) => {
    const known = STRING_ESCAPES[c];
    if (known !== undefined) return known;
    unknownEscapes.push({ offset: at + 1, text });
    return text;
  });
  return { value, raw: false, unknownEscapes };
}

/** A literal whose value is `value`: raw when asked and possible (no `"` or line break), else escaped. */
export function encodeString(value: string, raw = false): string {
  if (raw && !/["\r\n]/.test(value)) return `r"${value}"`;
  return `"${value.replace(/[\\"\n\t\r]/g, (c) => ENCODED[c]!)}"`;
}
