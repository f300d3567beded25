// Tokens of the `.net` language (chevrotain lexer).
import type { IToken, TokenType } from "chevrotain";
import { createToken, Lexer } from "./chevrotain.js";

/**
 * Any word, keywords included: after a `.` (in a layer path or a member access) a keyword is a name, since
 * checkpoints use them as path segments (`layers.0.0.fn.fn.to_qkv.weight`, `blocks.3.in.weight`).
 */
export const AnyWord = createToken({ name: "AnyWord", pattern: Lexer.NA, label: "a name" });
export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, categories: [AnyWord] });

const keyword = (word: string) =>
  createToken({
    name: word[0].toUpperCase() + word.slice(1).replace(/_(\w)/g, (_, c: string) => c.toUpperCase()),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    label: `'${word}'`,
    categories: [AnyWord],
  });

export const Import = keyword("import");
export const Block = keyword("block");
/**
 * `fn` and `model` begin a declaration and are ordinary names everywhere else (contextual keywords): PyTorch modules
 * often hold an nn.Sequential named `model`, and lucidrains-style wrappers a `fn` (`layer fn.norm = LayerNorm(dim)`
 * inside a PreNorm block), so weight paths such as `conv_3.model.0` and `fn.fn.to_qkv` must be spelled from their
 * first segment.
 */
export const Fn = createToken({
  name: "Fn",
  pattern: /fn/,
  longer_alt: Identifier,
  label: "'fn'",
  categories: [Identifier, AnyWord],
});
export const Model = createToken({
  name: "Model",
  pattern: /model/,
  longer_alt: Identifier,
  label: "'model'",
  categories: [Identifier, AnyWord],
});
export const Param = keyword("param");
/** `named` gives a param a computed weight name (`param w: f32[4] named "w_" + str(i)`); an ordinary name elsewhere. */
export const Named = createToken({
  name: "Named",
  pattern: /named/,
  longer_alt: Identifier,
  label: "'named'",
  categories: [Identifier, AnyWord],
});
export const Layer = keyword("layer");
/**
 * `unused` marks a `layer` or `param` whose weights only a checkpoint needs (the official module declares it and its
 * forward never reads it); an ordinary name elsewhere (`unused = ...`).
 */
export const Unused = createToken({
  name: "Unused",
  pattern: /unused/,
  longer_alt: Identifier,
  label: "'unused'",
  categories: [Identifier, AnyWord],
});
export const Let = keyword("let");
export const Return = keyword("return");
export const If = keyword("if");
export const Then = keyword("then");
export const Else = keyword("else");
export const For = keyword("for");
export const In = keyword("in");
export const True = keyword("true");
export const False = keyword("false");
export const Tap = keyword("tap");
export const Assert = keyword("assert");
export const Weights = keyword("weights");
export const Lift = keyword("lift");
export const SplitIndex = keyword("split_index");
export const Along = keyword("along");
export const By = keyword("by");
export const And = keyword("and");
export const Or = keyword("or");
export const Not = keyword("not");
export const List = keyword("list");

export const Float = createToken({
  name: "Float",
  pattern: /\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+/,
  label: "a number",
});
export const Integer = createToken({ name: "Integer", pattern: /\d+/, label: "a number" });
export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /"(?:[^"\\\n]|\\[^\n])*"/,
  label: "a string",
});
/** `r"..."`: a raw string, whose backslashes are its own (for regular expressions); it cannot hold `"`. */
export const RawString = createToken({
  name: "RawString",
  pattern: /r"[^"\r\n]*"/,
  label: "a string",
  categories: [StringLiteral],
});
/** An opening quote with no closing one on the line: reported as NET1002 rather than as stray characters. */
export const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /r?"(?:[^"\\\n]|\\[^\n])*\\?/ });

export const Arrow = createToken({ name: "Arrow", pattern: /->/, label: "'->'" });
export const PlusAssign = createToken({ name: "PlusAssign", pattern: /\+=/, label: "'+='" });
export const MinusAssign = createToken({ name: "MinusAssign", pattern: /-=/, label: "'-='" });
export const StarAssign = createToken({ name: "StarAssign", pattern: /\*=/, label: "'*='" });
export const SlashAssign = createToken({ name: "SlashAssign", pattern: /\/=/, label: "'/='" });
export const EqEq = createToken({ name: "EqEq", pattern: /==/, label: "'=='" });
export const NotEq = createToken({ name: "NotEq", pattern: /!=/, label: "'!='" });
export const LessEq = createToken({ name: "LessEq", pattern: /<=/, label: "'<='" });
export const GreaterEq = createToken({ name: "GreaterEq", pattern: />=/, label: "'>='" });
export const Less = createToken({ name: "Less", pattern: /</, label: "'<'" });
export const Greater = createToken({ name: "Greater", pattern: />/, label: "'>'" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "'='" });
export const Power = createToken({ name: "Power", pattern: /\*\*/, label: "'**'" });
export const Plus = createToken({ name: "Plus", pattern: /\+/, label: "'+'" });
export const Minus = createToken({ name: "Minus", pattern: /-/, label: "'-'" });
export const Star = createToken({ name: "Star", pattern: /\*/, label: "'*'" });
export const Slash = createToken({ name: "Slash", pattern: /\//, label: "'/'" });
export const Percent = createToken({ name: "Percent", pattern: /%/, label: "'%'" });
export const At = createToken({ name: "At", pattern: /@/, label: "'@'" });
export const Ellipsis = createToken({ name: "Ellipsis", pattern: /\.\.\./, label: "'...'" });
export const DotDot = createToken({ name: "DotDot", pattern: /\.\./, label: "'..'" });
export const Dot = createToken({ name: "Dot", pattern: /\./, label: "'.'" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "','" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "':'" });
export const Semicolon = createToken({ name: "Semicolon", pattern: /;/, label: "';'" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "')'" });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: "']'" });
export const LBrace = createToken({ name: "LBrace", pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: "RBrace", pattern: /\}/, label: "'}'" });

export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\n]*/, group: "comments" });
export const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[\s\S]*?\*\//,
  group: "comments",
  line_breaks: true,
});
/** A `/*` that never closes, kept as a comment token so the rest of the file is not lexed as code. */
export const UnterminatedComment = createToken({
  name: "UnterminatedComment",
  pattern: /\/\*[\s\S]*/,
  group: "comments",
  line_breaks: true,
});
/** Also the byte order mark some editors write at the start of a UTF-8 file. */
export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n\uFEFF]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

export const KEYWORDS: TokenType[] = [
  Import,
  Block,
  Fn,
  Model,
  Param,
  Named,
  Layer,
  Unused,
  Let,
  Return,
  If,
  Then,
  Else,
  For,
  In,
  True,
  False,
  Tap,
  Assert,
  Weights,
  Lift,
  SplitIndex,
  Along,
  By,
  And,
  Or,
  Not,
  List,
];

export const allTokens: TokenType[] = [
  WhiteSpace,
  BlockComment,
  UnterminatedComment,
  LineComment,
  RawString,
  StringLiteral,
  UnterminatedString,
  Float,
  Integer,
  ...KEYWORDS,
  Identifier,
  AnyWord,
  Arrow,
  PlusAssign,
  MinusAssign,
  StarAssign,
  SlashAssign,
  EqEq,
  NotEq,
  LessEq,
  GreaterEq,
  Less,
  Greater,
  Equals,
  Power,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  At,
  Ellipsis,
  DotDot,
  Dot,
  Comma,
  Colon,
  Semicolon,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
];

/** The lexer's options; chevrotain's checks of the token definitions run in test/lang/grammar-validation.test.ts. */
export const LEXER_CONFIG = { ensureOptimizations: false, positionTracking: "full" } as const;
export const netLexer = new Lexer(allTokens, { ...LEXER_CONFIG, skipValidations: true });

export type Token = IToken;
