// chevrotain's own checks of the grammar and of the token definitions, which netc skips at start-up (they cost a
// third of `netc check`'s time there): an ambiguous alternative, left recursion or a token that can never match
// fails here instead.
import { describe, expect, it } from "vitest";
import { createToken, EmbeddedActionsParser, Lexer } from "../../src/dsl/1-parse/chevrotain.js";
import { allTokens, LEXER_CONFIG } from "../../src/dsl/1-parse/lexer.js";
import { NetParser } from "../../src/dsl/1-parse/parser.js";

describe("chevrotain's validations", () => {
  it("pass for the parser's grammar", () => {
    expect(() => new NetParser({ validateGrammar: true })).not.toThrow();
  });

  it("pass for the lexer's tokens", () => {
    const lexer = new Lexer(allTokens, { ...LEXER_CONFIG, skipValidations: false });
    expect(lexer.lexerDefinitionErrors).toEqual([]);
  });

  it("are what catches a grammar error (an ambiguous alternation), and netc's start-up would not", () => {
    const A = createToken({ name: "A", pattern: /a/ });
    class Ambiguous extends EmbeddedActionsParser {
      constructor(skipValidations: boolean) {
        super([A], { skipValidations });
        this.RULE("top", () => this.OR([{ ALT: () => this.CONSUME(A) }, { ALT: () => this.CONSUME2(A) }]));
        this.performSelfAnalysis();
      }
    }
    expect(() => new Ambiguous(false)).toThrow(/Parser Definition Errors detected/);
    expect(() => new Ambiguous(true)).not.toThrow();
  });
});
