// The open documents, kept in step with the editor through incremental changes (LSP TextDocumentSyncKind.Incremental).
// LSP positions count UTF-16 code units, which is what JavaScript string offsets count.

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface ContentChange {
  range?: Range;
  text: string;
}

export class TextDocument {
  private lineStarts: number[] = [];

  constructor(
    readonly uri: string,
    public version: number,
    private content: string,
  ) {
    this.index();
  }

  get text(): string {
    return this.content;
  }

  private index(): void {
    this.lineStarts = [0];
    for (let i = 0; i < this.content.length; i++) if (this.content.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  offsetAt(p: Position): number {
    if (p.line < 0) return 0;
    if (p.line >= this.lineStarts.length) return this.content.length;
    const lineEnd = p.line + 1 < this.lineStarts.length ? this.lineStarts[p.line + 1] - 1 : this.content.length;
    return Math.min(this.lineStarts[p.line] + Math.max(p.character, 0), lineEnd);
  }

  positionAt(offset: number): Position {
    const at = Math.max(0, Math.min(offset, this.content.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: at - this.lineStarts[lo] };
  }

  /** Applies changes in order; a change without a range replaces the whole text. */
  apply(changes: readonly ContentChange[], version: number): void {
    for (const c of changes) {
      if (!c.range) this.content = c.text;
      else {
        const start = this.offsetAt(c.range.start);
        const end = Math.max(start, this.offsetAt(c.range.end));
        this.content = this.content.slice(0, start) + c.text + this.content.slice(end);
      }
      this.index();
    }
    this.version = version;
  }
}

/** A text's positions without a document (files that are not open, such as the standard library). */
export function positionIn(text: string, offset: number): Position {
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  return { line, character: Math.min(offset, text.length) - lineStart };
}
