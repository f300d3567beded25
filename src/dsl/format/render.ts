// Lays a Doc out within a line width: each group prints flat when it fits, else its lines break.
// Groups are decided outermost first, each on its own: a group inside a flat one may still break.
// Trailing `//` comments on consecutive lines of one indentation are aligned, as gofmt does.
import { type Doc, hardline, isDocArray, resolveBreaks } from "./doc.js";

type Mode = "flat" | "break";

interface Command {
  indent: number;
  mode: Mode;
  doc: Doc;
}

const INDENT_WIDTH = 2;

export function renderDoc(doc: Doc, width: number): string {
  resolveBreaks(doc);
  return new Renderer(width).run(doc);
}

class Renderer {
  private readonly out: string[] = [];
  private line = 0;
  private column = 0;
  /** Where the trailing `//` comment of a line starts, by line number. */
  private readonly commentColumns = new Map<number, number>();
  /** True until something other than indentation has been printed on the current line. */
  private lineIsEmpty = true;
  private pendingSuffixes: { command: Command; startsLine: boolean; endsLine: boolean }[] = [];

  constructor(private readonly width: number) {}

  run(doc: Doc): string {
    const stack: Command[] = [{ indent: 0, mode: "break", doc }];
    while (stack.length > 0 || this.pendingSuffixes.length > 0) {
      if (stack.length === 0) this.flushSuffixes(stack, 0);
      this.step(stack.pop()!, stack);
    }
    return alignTrailingComments(this.out.join(""), this.commentColumns);
  }

  private step(cmd: Command, stack: Command[]): void {
    const { doc, indent, mode } = cmd;
    if (typeof doc === "string") return this.text(doc);
    if (isDocArray(doc)) {
      for (let i = doc.length - 1; i >= 0; i--) stack.push({ indent, mode, doc: doc[i] });
      return;
    }
    switch (doc.kind) {
      case "indent":
        stack.push({ indent: indent + INDENT_WIDTH, mode, doc: doc.contents });
        return;
      case "group": {
        const flat: Command = { indent, mode: "flat", doc: doc.contents };
        const fitsFlat = !doc.broken && fits(flat, stack, this.width - this.column, doc.wrapsFirst);
        stack.push(fitsFlat ? flat : { indent, mode: "break", doc: doc.contents });
        return;
      }
      case "lineSuffix":
        this.pendingSuffixes.push({
          command: { indent, mode, doc: doc.contents },
          startsLine: doc.startsLine,
          endsLine: doc.endsLine,
        });
        return;
      case "breakNext":
        return;
      case "line":
        if (mode === "flat" && (doc.mode === "space" || doc.mode === "soft")) {
          if (doc.mode === "space") this.text(" ");
          return;
        }
        // A trailing comment goes out before the line ends.
        if (this.pendingSuffixes.length > 0) {
          stack.push(cmd);
          this.flushSuffixes(stack, indent);
          return;
        }
        if (doc.mode === "fresh" && this.lineIsEmpty) return;
        this.newline(indent);
    }
  }

  /**
   * Queues the pending suffixes to print now, in order, before the line break at `indent`. A suffix gets a line
   * of its own if it asks for one or follows one that ends its line, indented at least as deep as the next line.
   */
  private flushSuffixes(stack: Command[], indent: number): void {
    const suffixes = this.pendingSuffixes;
    this.pendingSuffixes = [];
    const [first] = suffixes;
    if (!first.startsLine) {
      this.trimTrailingSpaces();
      if (first.endsLine) this.commentColumns.set(this.line, this.column);
    }
    for (let i = suffixes.length - 1; i >= 0; i--) {
      const { command, startsLine } = suffixes[i];
      const deepest = Math.max(command.indent, indent);
      stack.push({ ...command, indent: deepest });
      if (startsLine || (i > 0 && suffixes[i - 1].endsLine))
        stack.push({ indent: deepest, mode: "break", doc: hardline });
    }
  }

  private text(s: string): void {
    // Indentation comes from the layout alone: a separating space never starts a line.
    if (this.lineIsEmpty && s.trim() === "") return;
    this.out.push(s);
    const lastNewline = s.lastIndexOf("\n");
    this.column = lastNewline < 0 ? this.column + s.length : s.length - lastNewline - 1;
    this.line += s.split("\n").length - 1;
    if (s.trim() !== "") this.lineIsEmpty = false;
  }

  private newline(indent: number): void {
    this.trimTrailingSpaces();
    this.out.push(`\n${" ".repeat(indent)}`);
    this.line++;
    this.column = indent;
    this.lineIsEmpty = true;
  }

  private trimTrailingSpaces(): void {
    while (this.out.length > 0) {
      const last = this.out[this.out.length - 1];
      const trimmed = last.replace(/ +$/, "");
      this.column -= last.length - trimmed.length;
      if (trimmed.length > 0) {
        this.out[this.out.length - 1] = trimmed;
        return;
      }
      this.out.pop();
    }
  }
}

/** Pads the code before trailing comments so that those on consecutive lines of one indentation line up. */
function alignTrailingComments(text: string, commentColumns: ReadonlyMap<number, number>): string {
  const lines = text.split("\n");
  const indentation = (line: number) => lines[line].length - lines[line].trimStart().length;
  let run: number[] = [];
  const alignRun = () => {
    const column = Math.max(...run.map((line) => commentColumns.get(line)!));
    for (const line of run) {
      const at = commentColumns.get(line)!;
      lines[line] = lines[line].slice(0, at) + " ".repeat(column - at) + lines[line].slice(at);
    }
    run = [];
  };
  for (const line of [...commentColumns.keys()].sort((a, b) => a - b)) {
    const previous = run.at(-1);
    if (previous !== undefined && (previous !== line - 1 || indentation(previous) !== indentation(line))) alignRun();
    run.push(line);
  }
  if (run.length > 0) alignRun();
  return lines.join("\n");
}

/**
 * Whether `next`, laid flat, fits in `room` columns together with what follows it up to the next line break.
 * The groups that follow count as broken (their first line break ends the measure) unless `restFlat`.
 */
function fits(next: Command, rest: readonly Command[], room: number, restFlat: boolean): boolean {
  const todo: Command[] = [next];
  let restIndex = rest.length;
  while (room >= 0) {
    if (todo.length === 0) {
      if (restIndex === 0) return true;
      todo.push(rest[--restIndex]);
      continue;
    }
    const { doc, indent, mode } = todo.pop()!;
    if (typeof doc === "string") {
      const newline = doc.indexOf("\n");
      if (newline >= 0) return room - newline >= 0;
      room -= doc.length;
    } else if (isDocArray(doc)) {
      for (let i = doc.length - 1; i >= 0; i--) todo.push({ indent, mode, doc: doc[i] });
    } else {
      switch (doc.kind) {
        case "indent":
          todo.push({ indent, mode, doc: doc.contents });
          break;
        case "group":
          todo.push({ indent, mode: doc.broken ? "break" : restFlat ? "flat" : mode, doc: doc.contents });
          break;
        case "line":
          if (mode === "break" || doc.mode === "hard" || doc.mode === "fresh") return true;
          if (doc.mode === "space") room -= 1;
          break;
        case "lineSuffix":
        case "breakNext":
          break;
      }
    }
  }
  return false;
}
