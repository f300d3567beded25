// Facts about the original text that the syntax tree does not keep: line breaks, braces, separators.
import type { IToken } from "chevrotain";
import { Arrow, LBrace, netLexer, RBrace } from "../1-parse/lexer.js";

export class SourceText {
  /** The file's tokens without comments and whitespace, in order. */
  private readonly tokens: IToken[];

  constructor(readonly text: string) {
    this.tokens = netLexer.tokenize(text).tokens;
  }

  /** How many line breaks lie between two offsets. */
  newlinesBetween(start: number, end: number): number {
    let count = 0;
    for (let i = start; i < end; i++) if (this.text.charCodeAt(i) === 10) count++;
    return count;
  }

  /** Whether only spaces and tabs precede `offset` on its line. */
  startsLine(offset: number): boolean {
    for (let i = offset - 1; i >= 0; i--) {
      const c = this.text[i];
      if (c === "\n") return true;
      if (c !== " " && c !== "\t") return false;
    }
    return true;
  }

  /** Whether only whitespace follows `offset` up to the end of its line. */
  endsLine(offset: number): boolean {
    for (let i = offset; i < this.text.length; i++) {
      const c = this.text[i];
      if (c === "\n") return true;
      if (c !== " " && c !== "\t" && c !== "\r") return false;
    }
    return true;
  }

  /** Whether only whitespace lies in [start, end). */
  isBlank(start: number, end: number): boolean {
    return this.text.slice(start, end).trim() === "";
  }

  /** Whether a `{` token starts in [start, end). */
  hasBraceBetween(start: number, end: number): boolean {
    for (let i = this.firstTokenAt(start); i < this.tokens.length && this.tokens[i].startOffset < end; i++)
      if (this.tokens[i].tokenType === LBrace) return true;
    return false;
  }

  /** The offsets of the first `{ ... }` that opens at or after `offset`: [open brace, just past the close brace]. */
  braces(offset: number): { open: number; end: number } {
    let i = this.firstTokenAt(offset);
    while (i < this.tokens.length && this.tokens[i].tokenType !== LBrace) i++;
    const open = this.tokens[i];
    let depth = 0;
    for (; i < this.tokens.length; i++) {
      const type = this.tokens[i].tokenType;
      if (type === LBrace) depth++;
      else if (type === RBrace && --depth === 0) return { open: open.startOffset, end: this.tokens[i].startOffset + 1 };
    }
    throw new Error(`unbalanced braces after offset ${offset}`);
  }

  /** Whether the first token at or after `offset` is `->` (how a weight rule's arguments were separated). */
  isArrowAt(offset: number): boolean {
    return this.tokens[this.firstTokenAt(offset)]?.tokenType === Arrow;
  }

  private firstTokenAt(offset: number): number {
    let lo = 0;
    let hi = this.tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tokens[mid].startOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
