// The `.net` grammar (chevrotain, LL(k) with error recovery) building the syntax tree directly.
import type { IParserErrorMessageProvider, IToken, TokenType } from "chevrotain";
import { EmbeddedActionsParser, EOF, tokenMatcher } from "./chevrotain.js";
import type { Span } from "../../diagnostics/diagnostics.js";
import type * as A from "./ast.js";
import * as T from "./lexer.js";
import { decodeString } from "./strings.js";

type Spanned = { span: Span };

const ASSIGNMENT_OPS: TokenType[] = [T.Equals, T.PlusAssign, T.MinusAssign, T.StarAssign, T.SlashAssign];

/**
 * How deep brackets, prefix operators, conditionals and statement blocks may nest. The parser recurses about a
 * dozen calls per level; this keeps it, and every later phase walking the tree, far from the stack's end.
 */
export const MAX_NESTING = 64;

/** Ends a parse whose nesting passes MAX_NESTING at `token` (not a chevrotain recognition error, so not recovered). */
export class NestingTooDeep extends Error {
  constructor(readonly token: IToken) {
    super("nesting too deep");
    this.name = "NestingTooDeep";
  }
}

/**
 * Past this many syntax errors the parse stops: one bad token early on must not flood the terminal (or take minutes).
 */
export const MAX_SYNTAX_ERRORS = 50;

/** Ends a parse that has reported MAX_SYNTAX_ERRORS errors. */
export class TooManyErrors extends Error {
  constructor() {
    super("too many syntax errors");
    this.name = "TooManyErrors";
  }
}

interface SliceRest {
  colon: IToken;
  end?: A.Expr;
  step?: A.Expr;
}

export class NetParser extends EmbeddedActionsParser {
  file = "<input>";

  /**
   * `validateGrammar`: chevrotain's checks of the grammar itself (ambiguities, left recursion), a third of the
   * parser's construction and of `netc check`'s start-up; test/lang/grammar-validation.test.ts runs them.
   */
  constructor({ validateGrammar = false }: { validateGrammar?: boolean } = {}) {
    super(T.allTokens, {
      recoveryEnabled: true,
      maxLookahead: 4,
      errorMessageProvider: messages,
      skipValidations: !validateGrammar,
    });
    this.performSelfAnalysis();
  }

  // ---- span helpers (only called inside ACTION, never while chevrotain records the grammar) ----

  private tokSpan(t: IToken): Span {
    const start = Number.isFinite(t.startOffset) ? t.startOffset : 0;
    const end = Number.isFinite(t.endOffset) ? (t.endOffset as number) + 1 : start;
    return { file: this.file, start, end, line: t.startLine ?? 1, col: t.startColumn ?? 1 };
  }

  private join(a: Spanned | IToken | undefined, b: Spanned | IToken | undefined): Span {
    const sa = a === undefined ? undefined : "span" in a ? a.span : this.tokSpan(a as IToken);
    const sb = b === undefined ? undefined : "span" in b ? b.span : this.tokSpan(b as IToken);
    if (!sa) return sb ?? { file: this.file, start: 0, end: 0, line: 1, col: 1 };
    if (!sb) return sa;
    return { ...sa, end: Math.max(sa.end, sb.end) };
  }

  private ident(t: IToken): A.Ident {
    return { name: t.image, span: this.tokSpan(t) };
  }

  private depth = 0;

  /** Parses `inner` one nesting level deeper (see MAX_NESTING). */
  private nested<R>(inner: () => R): R {
    if (this.RECORDING_PHASE) return inner();
    if (this.depth >= MAX_NESTING) throw new NestingTooDeep(this.LA(1));
    this.depth++;
    try {
      return inner();
    } finally {
      this.depth--;
    }
  }

  /** Called before each item and statement: stops the parse once it has found MAX_SYNTAX_ERRORS errors. */
  private checkErrorCount(): void {
    this.ACTION(() => {
      if (this.errors.length >= MAX_SYNTAX_ERRORS) throw new TooManyErrors();
    });
  }

  /**
   * Where the parser resumes after a syntax error (chevrotain's recovery, narrowed): at a token that may follow the
   * rules being parsed and begins a line, or at `;` or `}`. So a bad token costs its statement only, instead of the
   * rest of the line being read as new statements or declarations (`layer a.fn = ...` must not start a `fn`).
   */
  findReSyncTokenType(): TokenType {
    const follows = (this as unknown as { flattenFollowSet(): TokenType[] }).flattenFollowSet();
    // Inside brackets that span lines (a call's arguments one per line), a line start is not a statement start
    // until those brackets close.
    let depth = -this.unclosedBrackets();
    for (let k = 1; ; k++) {
      const next = this.LA(k);
      const atEnd = next.tokenType === EOF;
      const lineStart = next.startLine !== this.LA(k - 1).endLine && depth >= 0;
      const resumable = atEnd || next.tokenType === T.Semicolon || next.tokenType === T.RBrace || lineStart;
      const match = resumable ? follows.find((t) => tokenMatcher(next, t)) : undefined;
      if (match) return match;
      if (atEnd) return EOF;
      if (next.tokenType === T.LParen || next.tokenType === T.LBracket) depth--;
      else if (next.tokenType === T.RParen || next.tokenType === T.RBracket) depth++;
    }
  }

  /**
   * `(` and `[` opened before the current token, back to the start of its statement (`{`, `}` or `;`), and not closed.
   */
  private unclosedBrackets(): number {
    let [unclosed, closers] = [0, 0];
    for (let k = 0; ; k--) {
      const t = this.LA(k);
      if (t.tokenType === EOF || t.tokenType === T.LBrace || t.tokenType === T.RBrace || t.tokenType === T.Semicolon)
        return unclosed;
      if (t.tokenType === T.RParen || t.tokenType === T.RBracket) closers++;
      else if (t.tokenType === T.LParen || t.tokenType === T.LBracket) {
        if (closers > 0) closers--;
        else unclosed++;
      }
    }
  }

  /** Every parse starts at depth 0, also after one that ended with NestingTooDeep. */
  override reset(): void {
    super.reset();
    this.depth = 0;
  }

  // ---- items ----

  public sourceFile = this.RULE("sourceFile", (): A.Item[] => {
    const items: A.Item[] = [];
    this.MANY(() => {
      this.checkErrorCount();
      const item = this.OR([
        { ALT: () => this.SUBRULE(this.importDecl) },
        { ALT: () => this.SUBRULE(this.blockDecl) },
        { ALT: () => this.SUBRULE(this.fnDecl) },
        { ALT: () => this.SUBRULE(this.modelDecl) },
      ]);
      this.ACTION(() => item && items.push(item));
    });
    return items;
  });

  private importDecl = this.RULE("importDecl", (): A.ImportDecl => {
    const kw = this.CONSUME(T.Import);
    const path = this.CONSUME(T.StringLiteral);
    return this.ACTION(() => ({
      kind: "Import",
      path: decodeString(path.image).value,
      pathSpan: this.tokSpan(path),
      span: this.join(kw, path),
    }));
  });

  private blockDecl = this.RULE("blockDecl", (): A.BlockDecl => {
    const kw = this.CONSUME(T.Block);
    const name = this.CONSUME(T.Identifier);
    const config = this.SUBRULE(this.paramList);
    const inputs = this.SUBRULE2(this.paramList);
    const outputs = this.OPTION(() => this.SUBRULE(this.outputs)) ?? [];
    const body = this.SUBRULE(this.body); // undefined after a recovered error inside it
    return this.ACTION(() => ({
      kind: "Block",
      name: this.ident(name),
      config,
      inputs,
      outputs,
      body: body?.stmts ?? [],
      span: this.join(kw, body?.close ?? name),
    }));
  });

  private fnDecl = this.RULE("fnDecl", (): A.FnDecl => {
    const kw = this.CONSUME(T.Fn);
    const name = this.CONSUME(T.Identifier);
    const params = this.SUBRULE(this.paramList);
    const outputs = this.OPTION(() => this.SUBRULE(this.outputs)) ?? [];
    const body = this.SUBRULE(this.body); // undefined after a recovered error inside it
    return this.ACTION(() => ({
      kind: "Fn",
      name: this.ident(name),
      params,
      outputs,
      body: body?.stmts ?? [],
      span: this.join(kw, body?.close ?? name),
    }));
  });

  private modelDecl = this.RULE("modelDecl", (): A.ModelDecl => {
    const kw = this.CONSUME(T.Model);
    const name = this.CONSUME(T.Identifier);
    const config = this.SUBRULE(this.paramList);
    const inputs = this.SUBRULE2(this.paramList);
    const outputs = this.SUBRULE(this.outputs);
    const body = this.SUBRULE(this.body); // undefined after a recovered error inside it
    return this.ACTION(() => ({
      kind: "Model",
      name: this.ident(name),
      config,
      inputs,
      outputs,
      body: body?.stmts ?? [],
      span: this.join(kw, body?.close ?? name),
    }));
  });

  private paramList = this.RULE("paramList", (): A.ParamDecl[] => {
    const params: A.ParamDecl[] = [];
    const push = (p: A.ParamDecl) => this.ACTION(() => p && params.push(p));
    this.CONSUME(T.LParen);
    // Comma-separated, with an optional trailing comma (two tokens of lookahead tell `, name` from `, )`).
    this.OPTION(() => {
      push(this.SUBRULE(this.paramDecl));
      this.MANY(() => {
        this.CONSUME(T.Comma);
        push(this.SUBRULE2(this.paramDecl));
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RParen);
    return params;
  });

  private paramDecl = this.RULE("paramDecl", (): A.ParamDecl => {
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    const type = this.SUBRULE(this.typeExpr);
    const def = this.OPTION(() => {
      this.CONSUME(T.Equals);
      return this.SUBRULE(this.expr);
    });
    return this.ACTION(() => ({ name: this.ident(name), type, default: def, span: this.join(name, def ?? type) }));
  });

  private outputs = this.RULE("outputs", (): A.OutputDecl[] => {
    this.CONSUME(T.Arrow);
    return this.OR([
      {
        GATE: () => this.LA(1).tokenType === T.LParen,
        ALT: () => {
          const outs: A.OutputDecl[] = [];
          const push = (o: A.OutputDecl) => this.ACTION(() => o && outs.push(o));
          this.CONSUME(T.LParen);
          push(this.SUBRULE(this.outputDecl));
          this.MANY(() => {
            this.CONSUME(T.Comma);
            push(this.SUBRULE2(this.outputDecl));
          });
          this.OPTION(() => this.CONSUME2(T.Comma));
          this.CONSUME(T.RParen);
          return outs;
        },
      },
      {
        ALT: () => {
          const type = this.SUBRULE(this.typeExpr);
          return this.ACTION(() => [{ type, span: type.span }]);
        },
      },
    ]);
  });

  private outputDecl = this.RULE("outputDecl", (): A.OutputDecl => {
    const name = this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Colon,
      DEF: () => {
        const n = this.CONSUME(T.Identifier);
        this.CONSUME(T.Colon);
        return n;
      },
    });
    const type = this.SUBRULE(this.typeExpr);
    return this.ACTION(() => ({
      name: name ? this.ident(name) : undefined,
      type,
      span: this.join(name ?? type, type),
    }));
  });

  // ---- types ----

  private typeExpr = this.RULE(
    "typeExpr",
    (): A.TypeExpr =>
      this.OR([
        {
          ALT: () =>
            this.nested(() => {
              const kw = this.CONSUME(T.List);
              this.CONSUME(T.Less);
              const element = this.SUBRULE(this.typeExpr);
              const close = this.CONSUME(T.Greater);
              return this.ACTION((): A.TypeExpr => ({ kind: "ListType", element, span: this.join(kw, close) }));
            }),
        },
        {
          ALT: () =>
            this.nested(() => {
              const open = this.CONSUME(T.LParen);
              const elements: A.TypeExpr[] = [];
              const push = (t: A.TypeExpr) => this.ACTION(() => t && elements.push(t));
              push(this.SUBRULE2(this.typeExpr));
              this.MANY(() => {
                this.CONSUME(T.Comma);
                push(this.SUBRULE3(this.typeExpr));
              });
              this.OPTION2(() => this.CONSUME2(T.Comma));
              const close = this.CONSUME(T.RParen);
              return this.ACTION((): A.TypeExpr => ({ kind: "TupleType", elements, span: this.join(open, close) }));
            }),
        },
        {
          ALT: () => {
            const name = this.CONSUME(T.Identifier);
            const dims = this.OPTION(() => {
              this.CONSUME(T.LBracket);
              const ds: A.DimExpr[] = [];
              this.MANY_SEP({
                SEP: T.Comma,
                DEF: () => {
                  const d = this.SUBRULE(this.dimExpr);
                  this.ACTION(() => d && ds.push(d));
                },
              });
              const close = this.CONSUME(T.RBracket);
              return { ds, close };
            });
            return this.ACTION(
              (): A.TypeExpr =>
                dims
                  ? { kind: "TensorType", dtype: name.image, dims: dims.ds, span: this.join(name, dims.close) }
                  : { kind: "NamedType", name: name.image, span: this.tokSpan(name) },
            );
          },
        },
      ]),
  );

  private dimExpr = this.RULE(
    "dimExpr",
    (): A.DimExpr =>
      this.OR([
        {
          ALT: () => {
            const star = this.CONSUME(T.Star);
            const name = this.CONSUME(T.Identifier);
            return this.ACTION((): A.DimExpr => ({ kind: "DimRest", name: name.image, span: this.join(star, name) }));
          },
        },
        {
          ALT: () => {
            const t = this.CONSUME(T.Ellipsis);
            return this.ACTION((): A.DimExpr => ({ kind: "DimRest", span: this.tokSpan(t) }));
          },
        },
        {
          ALT: () => {
            const expr = this.SUBRULE(this.addExpr);
            return this.ACTION(
              (): A.DimExpr =>
                expr.kind === "Name" && expr.name === "_"
                  ? { kind: "DimAny", span: expr.span }
                  : { kind: "Dim", expr, span: expr.span },
            );
          },
        },
      ]),
  );

  // ---- statements ----

  private body = this.RULE("body", (): { stmts: A.Stmt[]; close: IToken } =>
    this.nested(() => {
      this.CONSUME(T.LBrace);
      const stmts: A.Stmt[] = [];
      this.MANY(() => {
        this.checkErrorCount();
        const s = this.SUBRULE(this.stmt);
        this.OPTION(() => this.CONSUME(T.Semicolon));
        this.ACTION(() => s && stmts.push(s));
      });
      const close = this.CONSUME(T.RBrace);
      return { stmts, close };
    }),
  );

  private stmt = this.RULE(
    "stmt",
    (): A.Stmt =>
      this.OR([
        // `unused` is a modifier only before a declaration: followed by an assignment operator it is a name.
        {
          GATE: () => this.LA(1).tokenType === T.Unused && !ASSIGNMENT_OPS.includes(this.LA(2).tokenType),
          ALT: () => this.SUBRULE(this.unusedStmt),
        },
        { ALT: () => this.SUBRULE(this.paramStmt) },
        { ALT: () => this.SUBRULE(this.layerStmt) },
        { ALT: () => this.SUBRULE(this.letStmt) },
        { ALT: () => this.SUBRULE(this.ifStmt) },
        { ALT: () => this.SUBRULE(this.forStmt) },
        { ALT: () => this.SUBRULE(this.returnStmt) },
        { ALT: () => this.SUBRULE(this.tapStmt) },
        { ALT: () => this.SUBRULE(this.assertStmt) },
        {
          GATE: () => this.LA(1).image === "print" && this.LA(2).tokenType === T.LParen,
          ALT: () => this.SUBRULE(this.printStmt),
        },
        { ALT: () => this.SUBRULE(this.weightsStmt) },
        // `preprocess` is a keyword only before `{`: elsewhere it stays an ordinary name.
        {
          GATE: () => this.LA(1).image === "preprocess" && this.LA(2).tokenType === T.LBrace,
          ALT: () => this.SUBRULE(this.preprocessStmt),
        },
        { ALT: () => this.SUBRULE(this.assignStmt) },
      ]),
  );

  private unusedStmt = this.RULE("unusedStmt", (): A.ParamStmt | A.LayerStmt => {
    const kw = this.CONSUME(T.Unused);
    const decl = this.OR([{ ALT: () => this.SUBRULE(this.paramStmt) }, { ALT: () => this.SUBRULE(this.layerStmt) }]);
    return this.ACTION(() => ({ ...decl, unused: { span: this.tokSpan(kw) }, span: this.join(kw, decl) }));
  });

  private paramStmt = this.RULE("paramStmt", (): A.ParamStmt => {
    const kw = this.CONSUME(T.Param);
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    const type = this.SUBRULE(this.typeExpr);
    // `named` is also an ordinary name: followed by an assignment operator it begins the next statement.
    const weightName = this.OPTION2({
      GATE: () => !ASSIGNMENT_OPS.includes(this.LA(2).tokenType),
      DEF: () => {
        this.CONSUME(T.Named);
        return this.SUBRULE2(this.expr);
      },
    });
    const init = this.OPTION(() => {
      this.CONSUME(T.Equals);
      return this.SUBRULE(this.expr);
    });
    return this.ACTION(() => ({
      kind: "Param",
      name: this.ident(name),
      type,
      weightName,
      init,
      span: this.join(kw, init ?? weightName ?? type),
    }));
  });

  private layerStmt = this.RULE("layerStmt", (): A.LayerStmt => {
    const kw = this.CONSUME(T.Layer);
    const first = this.CONSUME(T.Identifier);
    const path: A.PathSegment[] = [];
    this.ACTION(() => path.push({ kind: "Name", name: first.image, span: this.tokSpan(first) }));
    this.MANY(() =>
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.Dot);
            const n = this.CONSUME(T.AnyWord);
            this.ACTION(() => path.push({ kind: "Name", name: n.image, span: this.tokSpan(n) }));
          },
        },
        {
          ALT: () => {
            const open = this.CONSUME(T.LBracket);
            const e = this.SUBRULE(this.expr);
            const close = this.CONSUME(T.RBracket);
            this.ACTION(() => path.push({ kind: "Index", expr: e, span: this.join(open, close) }));
          },
        },
      ]),
    );
    this.CONSUME(T.Equals);
    const init = this.SUBRULE2(this.expr);
    return this.ACTION(() => ({ kind: "Layer", path, init: init as A.CallExpr, span: this.join(kw, init) }));
  });

  private letStmt = this.RULE("letStmt", (): A.LetStmt => {
    const kw = this.CONSUME(T.Let);
    const pattern = this.SUBRULE(this.pattern);
    const type = this.OPTION(() => {
      this.CONSUME(T.Colon);
      return this.SUBRULE(this.typeExpr);
    });
    this.CONSUME(T.Equals);
    const value = this.SUBRULE(this.expr);
    return this.ACTION(() => ({ kind: "Let", pattern, type, value, span: this.join(kw, value) }));
  });

  private assignStmt = this.RULE("assignStmt", (): A.AssignStmt => {
    const target = this.SUBRULE(this.pattern);
    const op = this.OR([
      { ALT: () => this.CONSUME(T.Equals) },
      { ALT: () => this.CONSUME(T.PlusAssign) },
      { ALT: () => this.CONSUME(T.MinusAssign) },
      { ALT: () => this.CONSUME(T.StarAssign) },
      { ALT: () => this.CONSUME(T.SlashAssign) },
    ]);
    const value = this.SUBRULE(this.expr);
    return this.ACTION(() => ({
      kind: "Assign",
      target,
      op: op.image as A.AssignStmt["op"],
      value,
      span: this.join(target, value),
    }));
  });

  private pattern = this.RULE(
    "pattern",
    (): A.Pattern =>
      this.OR([
        {
          ALT: () => {
            const n = this.CONSUME(T.Identifier);
            return this.ACTION((): A.Pattern => ({ kind: "NamePattern", name: n.image, span: this.tokSpan(n) }));
          },
        },
        {
          ALT: () =>
            this.nested(() => {
              const open = this.CONSUME(T.LParen);
              const elements: A.Pattern[] = [];
              const push = (p: A.Pattern) => this.ACTION(() => p && elements.push(p));
              push(this.SUBRULE(this.pattern));
              this.MANY(() => {
                this.CONSUME(T.Comma);
                push(this.SUBRULE2(this.pattern));
              });
              this.OPTION(() => this.CONSUME2(T.Comma));
              const close = this.CONSUME(T.RParen);
              return this.ACTION((): A.Pattern => ({ kind: "TuplePattern", elements, span: this.join(open, close) }));
            }),
        },
      ]),
  );

  /** `if ... else if ... else ...`: the `else if`s are read in a loop (a long chain must not recurse), then nested. */
  private ifStmt = this.RULE("ifStmt", (): A.IfStmt => {
    const kw = this.CONSUME(T.If);
    const cond = this.SUBRULE(this.expr);
    const then = this.SUBRULE(this.body);
    const elseIfs: { kw: IToken; cond: A.Expr; then: { stmts: A.Stmt[]; close: IToken } }[] = [];
    this.MANY(() => {
      this.CONSUME(T.Else);
      const k = this.CONSUME2(T.If);
      const c = this.SUBRULE2(this.expr);
      const b = this.SUBRULE2(this.body);
      this.ACTION(() => elseIfs.push({ kw: k, cond: c, then: b }));
    });
    const last = this.OPTION(() => {
      this.CONSUME2(T.Else);
      return this.SUBRULE3(this.body);
    });
    return this.ACTION(() => {
      let tail: { stmts?: A.Stmt[]; end?: Spanned | IToken } = { stmts: last?.stmts, end: last?.close };
      for (let i = elseIfs.length - 1; i >= 0; i--) {
        const e = elseIfs[i];
        const nested: A.IfStmt = {
          kind: "If",
          cond: e.cond,
          then: e.then?.stmts ?? [],
          else: tail.stmts,
          span: this.join(e.kw, tail.end ?? e.then?.close),
        };
        tail = { stmts: [nested], end: nested };
      }
      return {
        kind: "If",
        cond,
        then: then?.stmts ?? [],
        else: tail.stmts,
        span: this.join(kw, tail.end ?? then?.close),
      };
    });
  });

  private forStmt = this.RULE("forStmt", (): A.ForStmt => {
    const kw = this.CONSUME(T.For);
    const variable = this.CONSUME(T.Identifier);
    this.CONSUME(T.In);
    const iterable = this.SUBRULE(this.expr);
    const b = this.SUBRULE(this.body);
    return this.ACTION(() => ({
      kind: "For",
      variable: this.ident(variable),
      iterable,
      body: b.stmts,
      span: this.join(kw, b.close),
    }));
  });

  private returnStmt = this.RULE("returnStmt", (): A.ReturnStmt => {
    const kw = this.CONSUME(T.Return);
    const value = this.SUBRULE(this.expr);
    return this.ACTION(() => ({ kind: "Return", value, span: this.join(kw, value) }));
  });

  private tapStmt = this.RULE("tapStmt", (): A.TapStmt => {
    const kw = this.CONSUME(T.Tap);
    const name = this.CONSUME(T.Identifier);
    const index = this.OPTION(() => {
      this.CONSUME(T.LBracket);
      const e = this.SUBRULE(this.expr);
      this.CONSUME(T.RBracket);
      return e;
    });
    this.CONSUME(T.Equals);
    const value = this.SUBRULE2(this.expr);
    return this.ACTION(() => ({ kind: "Tap", name: this.ident(name), index, value, span: this.join(kw, value) }));
  });

  private assertStmt = this.RULE("assertStmt", (): A.AssertStmt => {
    const kw = this.CONSUME(T.Assert);
    const cond = this.SUBRULE(this.expr);
    const message = this.OPTION(() => {
      this.CONSUME(T.Comma);
      return this.SUBRULE2(this.expr);
    });
    return this.ACTION(() => ({ kind: "Assert", cond, message, span: this.join(kw, message ?? cond) }));
  });

  private printStmt = this.RULE("printStmt", (): A.PrintStmt => {
    const name = this.CONSUME(T.Identifier);
    const call = this.SUBRULE(this.argList); // undefined after a recovered error inside it
    return this.ACTION(() => ({ kind: "Print", args: call?.args ?? [], span: this.join(name, call?.close ?? name) }));
  });

  private weightsStmt = this.RULE("weightsStmt", (): A.WeightsStmt => {
    const kw = this.CONSUME(T.Weights);
    const name = this.OPTION1(() => this.CONSUME1(T.Identifier));
    this.CONSUME(T.LBrace);
    const rules: A.WeightRule[] = [];
    this.MANY(() => {
      const verb = this.CONSUME(T.Identifier);
      const args: A.Expr[] = [];
      const first = this.SUBRULE(this.expr);
      this.ACTION(() => args.push(first));
      this.MANY2(() => {
        this.OR([{ ALT: () => this.CONSUME(T.Comma) }, { ALT: () => this.CONSUME(T.Arrow) }]);
        const next = this.SUBRULE2(this.expr);
        this.ACTION(() => args.push(next));
      });
      this.OPTION(() => this.CONSUME(T.Semicolon));
      this.ACTION(() =>
        rules.push({ verb: this.ident(verb), args, span: this.join(verb, args[args.length - 1] ?? verb) }),
      );
    });
    const close = this.CONSUME(T.RBrace);
    return this.ACTION(() => ({ kind: "Weights", name: name && this.ident(name), rules, span: this.join(kw, close) }));
  });

  private preprocessStmt = this.RULE("preprocessStmt", (): A.PreprocessStmt => {
    const kw = this.CONSUME(T.Identifier);
    this.CONSUME(T.LBrace);
    const fields: A.PreprocessField[] = [];
    this.MANY(() => {
      const name = this.CONSUME2(T.Identifier);
      this.CONSUME(T.Equals);
      const value = this.SUBRULE(this.expr);
      this.OPTION(() => this.OR([{ ALT: () => this.CONSUME(T.Comma) }, { ALT: () => this.CONSUME(T.Semicolon) }]));
      this.ACTION(() => fields.push({ name: this.ident(name), value, span: this.join(name, value) }));
    });
    const close = this.CONSUME(T.RBrace);
    return this.ACTION(() => ({ kind: "Preprocess", fields, span: this.join(kw, close) }));
  });

  // ---- expressions, lowest precedence first ----

  public expr = this.RULE(
    "expr",
    (): A.Expr =>
      this.OR([
        {
          ALT: () =>
            this.nested(() => {
              const kw = this.CONSUME(T.If);
              const cond = this.SUBRULE(this.expr);
              this.CONSUME(T.Then);
              const then = this.SUBRULE2(this.expr);
              this.CONSUME(T.Else);
              const els = this.SUBRULE3(this.expr);
              return this.ACTION((): A.Expr => ({ kind: "Cond", cond, then, else: els, span: this.join(kw, els) }));
            }),
        },
        { ALT: () => this.SUBRULE(this.rangeExpr) },
      ]),
  );

  private rangeExpr = this.RULE("rangeExpr", (): A.Expr => {
    const start = this.SUBRULE(this.orExpr);
    const end = this.OPTION(() => {
      this.CONSUME(T.DotDot);
      return this.SUBRULE2(this.orExpr);
    });
    return this.ACTION(() => (end ? { kind: "Range", start, end, span: this.join(start, end) } : start));
  });

  private orExpr = this.RULE("orExpr", (): A.Expr => {
    let left = this.SUBRULE(this.andExpr);
    this.MANY(() => {
      const op = this.CONSUME(T.Or);
      const right = this.SUBRULE2(this.andExpr);
      left = this.ACTION(() => this.binary(left, op, right));
    });
    return left;
  });

  private andExpr = this.RULE("andExpr", (): A.Expr => {
    let left = this.SUBRULE(this.notExpr);
    this.MANY(() => {
      const op = this.CONSUME(T.And);
      const right = this.SUBRULE2(this.notExpr);
      left = this.ACTION(() => this.binary(left, op, right));
    });
    return left;
  });

  private notExpr = this.RULE(
    "notExpr",
    (): A.Expr =>
      this.OR([
        {
          ALT: () =>
            this.nested(() => {
              const op = this.CONSUME(T.Not);
              const operand = this.SUBRULE(this.notExpr);
              return this.ACTION((): A.Expr => ({ kind: "Unary", op: "not", operand, span: this.join(op, operand) }));
            }),
        },
        { ALT: () => this.SUBRULE(this.cmpExpr) },
      ]),
  );

  private cmpExpr = this.RULE("cmpExpr", (): A.Expr => {
    let left = this.SUBRULE(this.addExpr);
    this.OPTION(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.EqEq) },
        { ALT: () => this.CONSUME(T.NotEq) },
        { ALT: () => this.CONSUME(T.LessEq) },
        { ALT: () => this.CONSUME(T.GreaterEq) },
        { ALT: () => this.CONSUME(T.Less) },
        { ALT: () => this.CONSUME(T.Greater) },
      ]);
      const right = this.SUBRULE2(this.addExpr);
      left = this.ACTION(() => this.binary(left, op, right));
    });
    return left;
  });

  private addExpr = this.RULE("addExpr", (): A.Expr => {
    let left = this.SUBRULE(this.mulExpr);
    this.MANY(() => {
      const op = this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      const right = this.SUBRULE2(this.mulExpr);
      left = this.ACTION(() => this.binary(left, op, right));
    });
    return left;
  });

  private mulExpr = this.RULE("mulExpr", (): A.Expr => {
    let left = this.SUBRULE(this.unaryExpr);
    this.MANY(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.Slash) },
        { ALT: () => this.CONSUME(T.Percent) },
        { ALT: () => this.CONSUME(T.At) },
      ]);
      const right = this.SUBRULE2(this.unaryExpr);
      left = this.ACTION(() => this.binary(left, op, right));
    });
    return left;
  });

  private unaryExpr = this.RULE(
    "unaryExpr",
    (): A.Expr =>
      this.OR([
        {
          ALT: () =>
            this.nested(() => {
              const op = this.CONSUME(T.Minus);
              const operand = this.SUBRULE(this.unaryExpr);
              return this.ACTION((): A.Expr => ({ kind: "Unary", op: "-", operand, span: this.join(op, operand) }));
            }),
        },
        { ALT: () => this.SUBRULE(this.powExpr) },
      ]),
  );

  private powExpr = this.RULE("powExpr", (): A.Expr => {
    const base = this.SUBRULE(this.postfixExpr);
    const exp = this.OPTION(() =>
      this.nested(() => {
        const op = this.CONSUME(T.Power);
        const e = this.SUBRULE(this.unaryExpr);
        return { op, e };
      }),
    );
    return this.ACTION(() => (exp ? this.binary(base, exp.op, exp.e) : base));
  });

  private postfixExpr = this.RULE("postfixExpr", (): A.Expr => {
    let target = this.SUBRULE(this.primary);
    // A call or subscript continues an expression only on the same line, so a statement may start with `(`.
    const continues = () => this.LA(1).tokenType === T.Dot || this.LA(1).startLine === this.LA(0).endLine;
    this.MANY({
      GATE: continues,
      DEF: () =>
        this.OR([
          {
            ALT: () => {
              const call = this.SUBRULE(this.argList); // undefined after a recovered error inside it
              target = this.ACTION(
                (): A.Expr =>
                  call
                    ? { kind: "Call", callee: target, args: call.args, span: this.join(target, call.close) }
                    : target,
              );
            },
          },
          {
            ALT: () =>
              this.nested(() => {
                this.CONSUME(T.LBracket);
                const subscripts: A.Subscript[] = [];
                this.AT_LEAST_ONE_SEP({
                  SEP: T.Comma,
                  DEF: () => {
                    const s = this.SUBRULE(this.subscript);
                    this.ACTION(() => s && subscripts.push(s));
                  },
                });
                const close = this.CONSUME(T.RBracket);
                target = this.ACTION(
                  (): A.Expr => ({ kind: "Index", target, subscripts, span: this.join(target, close) }),
                );
              }),
          },
          {
            ALT: () => {
              this.CONSUME(T.Dot);
              const member = this.CONSUME(T.AnyWord);
              target = this.ACTION(
                (): A.Expr => ({ kind: "Member", target, member: this.ident(member), span: this.join(target, member) }),
              );
            },
          },
        ]),
    });
    return target;
  });

  private argList = this.RULE("argList", (): { args: A.Arg[]; close: IToken } =>
    this.nested(() => {
      this.CONSUME(T.LParen);
      const args: A.Arg[] = [];
      const push = (a: A.Arg) => this.ACTION(() => a && args.push(a));
      this.OPTION(() => {
        push(this.SUBRULE(this.arg));
        this.MANY(() => {
          this.CONSUME(T.Comma);
          push(this.SUBRULE2(this.arg));
        });
        this.OPTION2(() => this.CONSUME2(T.Comma));
      });
      const close = this.CONSUME(T.RParen);
      return { args, close };
    }),
  );

  private arg = this.RULE("arg", (): A.Arg => {
    const name = this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Equals,
      DEF: () => {
        const n = this.CONSUME(T.Identifier);
        this.CONSUME(T.Equals);
        return n;
      },
    });
    const value = this.SUBRULE(this.expr);
    return this.ACTION(() => ({
      name: name ? this.ident(name) : undefined,
      value,
      span: this.join(name ?? value, value),
    }));
  });

  private subscript = this.RULE(
    "subscript",
    (): A.Subscript =>
      this.OR([
        {
          ALT: () => {
            const t = this.CONSUME(T.Ellipsis);
            return this.ACTION((): A.Subscript => ({ kind: "Ellipsis", span: this.tokSpan(t) }));
          },
        },
        {
          // `i` or `a:...`: an index, or a slice with a start.
          ALT: () => {
            const start = this.SUBRULE(this.expr);
            const slice = this.OPTION(() => this.SUBRULE(this.sliceRest));
            return this.ACTION(
              (): A.Subscript => (slice ? this.slice(start, slice) : { kind: "At", expr: start, span: start.span }),
            );
          },
        },
        {
          // `:...`: a slice from the beginning.
          ALT: () => {
            const slice = this.SUBRULE2(this.sliceRest);
            return this.ACTION((): A.Subscript => this.slice(undefined, slice));
          },
        },
      ]),
  );

  /** What follows a slice's start: `:end`, `:end:step`, each part optional. */
  private sliceRest = this.RULE("sliceRest", (): SliceRest => {
    const colon = this.CONSUME(T.Colon);
    const end = this.OPTION(() => this.SUBRULE(this.expr));
    const step = this.OPTION2(() => {
      this.CONSUME2(T.Colon);
      return this.OPTION3(() => this.SUBRULE2(this.expr));
    });
    return { colon, end, step };
  });

  private slice(start: A.Expr | undefined, rest: SliceRest): A.Subscript {
    const first: Spanned | IToken = start ?? rest.colon;
    const last: Spanned | IToken = rest.step ?? rest.end ?? rest.colon;
    return { kind: "Slice", start, end: rest.end, step: rest.step, span: this.join(first, last) };
  }

  private primary = this.RULE(
    "primary",
    (): A.Expr =>
      this.OR([
        {
          ALT: () => {
            const t = this.CONSUME(T.Float);
            return this.ACTION(
              (): A.Expr => ({
                kind: "Number",
                value: Number(t.image),
                isFloat: true,
                raw: t.image,
                span: this.tokSpan(t),
              }),
            );
          },
        },
        {
          ALT: () => {
            const t = this.CONSUME(T.Integer);
            return this.ACTION(
              (): A.Expr => ({
                kind: "Number",
                value: Number(t.image),
                isFloat: false,
                raw: t.image,
                span: this.tokSpan(t),
              }),
            );
          },
        },
        {
          ALT: () => {
            const t = this.CONSUME(T.StringLiteral);
            return this.ACTION((): A.Expr => {
              const { value, raw } = decodeString(t.image);
              return { kind: "String", value, ...(raw ? { raw } : {}), span: this.tokSpan(t) };
            });
          },
        },
        {
          ALT: () => {
            const t = this.OR2([{ ALT: () => this.CONSUME(T.True) }, { ALT: () => this.CONSUME(T.False) }]);
            return this.ACTION((): A.Expr => ({ kind: "Bool", value: t.image === "true", span: this.tokSpan(t) }));
          },
        },
        {
          ALT: () => {
            const t = this.CONSUME(T.Identifier);
            return this.ACTION((): A.Expr => ({ kind: "Name", name: t.image, span: this.tokSpan(t) }));
          },
        },
        {
          ALT: () =>
            this.nested(() => {
              const open = this.CONSUME(T.LParen);
              const elements: A.Expr[] = [];
              let trailingComma = false;
              this.OPTION(() => {
                const first = this.SUBRULE(this.expr);
                this.ACTION(() => elements.push(first));
                this.MANY(() => {
                  this.CONSUME(T.Comma);
                  this.OPTION2(() => {
                    const next = this.SUBRULE2(this.expr);
                    this.ACTION(() => elements.push(next));
                  });
                  trailingComma = true;
                });
              });
              const close = this.CONSUME(T.RParen);
              return this.ACTION(
                (): A.Expr =>
                  elements.length === 1 && !trailingComma
                    ? { ...elements[0], span: this.join(open, close) }
                    : { kind: "Tuple", elements, span: this.join(open, close) },
              );
            }),
        },
        {
          ALT: () =>
            this.nested(() => {
              const open = this.CONSUME(T.LBracket);
              const elements: A.Expr[] = [];
              let comp: { variable: IToken; iterable: A.Expr } | undefined;
              this.OPTION4(() => {
                const first = this.SUBRULE3(this.expr);
                this.ACTION(() => elements.push(first));
                this.OR3([
                  {
                    ALT: () => {
                      this.CONSUME(T.For);
                      const variable = this.CONSUME2(T.Identifier);
                      this.CONSUME(T.In);
                      const iterable = this.SUBRULE4(this.expr);
                      comp = { variable, iterable };
                    },
                  },
                  {
                    ALT: () => {
                      this.MANY2(() => {
                        this.CONSUME2(T.Comma);
                        this.OPTION5(() => {
                          const next = this.SUBRULE5(this.expr);
                          this.ACTION(() => elements.push(next));
                        });
                      });
                    },
                  },
                ]);
              });
              const close = this.CONSUME(T.RBracket);
              return this.ACTION(
                (): A.Expr =>
                  comp
                    ? {
                        kind: "ListComp",
                        element: elements[0],
                        variable: this.ident(comp.variable),
                        iterable: comp.iterable,
                        span: this.join(open, close),
                      }
                    : { kind: "List", elements, span: this.join(open, close) },
              );
            }),
        },
        { ALT: () => this.SUBRULE(this.splitIndexExpr) },
        { ALT: () => this.SUBRULE(this.liftExpr) },
      ]),
  );

  private splitIndexExpr = this.RULE(
    "splitIndexExpr",
    (): A.Expr =>
      this.nested(() => {
        const kw = this.CONSUME(T.SplitIndex);
        const input = this.SUBRULE(this.postfixExpr);
        this.CONSUME(T.Along);
        const axis = this.SUBRULE(this.addExpr);
        this.CONSUME(T.By);
        const mode = this.CONSUME(T.Identifier);
        // Arguments only on the same line, as for any call: a `(` on the next line begins a statement.
        const args = this.OPTION({
          GATE: () => this.LA(1).startLine === this.LA(0).endLine,
          DEF: () => this.SUBRULE(this.argList),
        });
        return this.ACTION(
          (): A.Expr => ({
            kind: "SplitIndex",
            input,
            axis,
            mode: this.ident(mode),
            args: args?.args ?? [],
            span: this.join(kw, args?.close ?? mode),
          }),
        );
      }),
  );

  private liftExpr = this.RULE(
    "liftExpr",
    (): A.Expr =>
      this.nested(() => {
        const kw = this.CONSUME(T.Lift);
        this.CONSUME(T.LParen);
        const aName = this.CONSUME(T.Identifier);
        this.CONSUME(T.Equals);
        const aValue = this.SUBRULE(this.expr);
        this.CONSUME(T.Comma);
        const dName = this.CONSUME2(T.Identifier);
        this.CONSUME2(T.Equals);
        const dValue = this.SUBRULE2(this.expr);
        this.CONSUME(T.RParen);
        this.CONSUME(T.LBrace);
        const steps: A.LiftStep[] = [];
        this.MANY(() => {
          const step = this.CONSUME3(T.Identifier);
          const target = this.CONSUME4(T.Identifier);
          const op = this.OR([{ ALT: () => this.CONSUME(T.PlusAssign) }, { ALT: () => this.CONSUME(T.MinusAssign) }]);
          const value = this.SUBRULE3(this.expr);
          this.OPTION(() => this.CONSUME(T.Semicolon));
          this.ACTION(() =>
            steps.push({
              step: this.ident(step),
              target: this.ident(target),
              op: op.image as "+=" | "-=",
              value,
              span: this.join(step, value),
            }),
          );
        });
        const close = this.CONSUME(T.RBrace);
        return this.ACTION(
          (): A.Expr => ({
            kind: "Lift",
            approx: { name: this.ident(aName), value: aValue },
            detail: { name: this.ident(dName), value: dValue },
            steps,
            span: this.join(kw, close),
          }),
        );
      }),
  );

  private binary(left: A.Expr, op: IToken, right: A.Expr): A.Expr {
    return {
      kind: "Binary",
      op: op.image as A.BinaryOp,
      left,
      right,
      opSpan: this.tokSpan(op),
      span: this.join(left, right),
    };
  }
}

const describe = (t: IToken) => (t.tokenType.name === "EOF" ? "the end of the file" : `'${t.image}'`);
const label = (t: TokenType) => (typeof t.LABEL === "string" ? t.LABEL : t.name);

/** Short messages in the compiler's voice instead of chevrotain's defaults. */
const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) => `expected ${label(expected)}, found ${describe(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) =>
    `unexpected ${describe(firstRedundant)}: expected a block, fn, model or import`,
  buildNoViableAltMessage: ({ actual, ruleName }) =>
    ruleName === "stmt" && actual[0].tokenType === T.Unused && actual[1]
      ? `unexpected ${describe(actual[1])} ${ruleContext("unusedStmt")}` // the statement after `unused`
      : `unexpected ${describe(actual[0])} ${ruleContext(ruleName)}`,
  buildEarlyExitMessage: ({ actual, ruleName }) => `unexpected ${describe(actual[0])} ${ruleContext(ruleName)}`,
};

const EXPRESSION_RULES = new Set([
  "expr",
  "rangeExpr",
  "orExpr",
  "andExpr",
  "notExpr",
  "cmpExpr",
  "addExpr",
  "mulExpr",
  "unaryExpr",
  "powExpr",
  "postfixExpr",
  "primary",
  "subscript",
  "arg",
]);

function ruleContext(rule: string): string {
  if (EXPRESSION_RULES.has(rule)) return "where an expression was expected";
  const what: Record<string, string> = {
    stmt:
      "where a statement was expected (param, layer, let, if, for, return, tap, assert, print, weights or " +
      "an assignment)",
    assignStmt:
      "where '=', '+=', '-=', '*=' or '/=' was expected (a statement starts with param, layer, let, if, for, " +
      "return, tap, assert, print, weights or a name)",
    typeExpr: "where a type was expected (e.g. f32[B, 3], int, list<int>)",
    dimExpr: "where a dimension was expected",
    pattern: "where a name or a tuple of names was expected",
    unusedStmt: "after 'unused', which marks a layer or param declaration (`unused layer ...`, `unused param ...`)",
    sourceFile: "at the top level: expected a block, fn, model or import",
    outputs: "where the output types were expected",
  };
  return what[rule] ?? `in ${rule}`;
}
