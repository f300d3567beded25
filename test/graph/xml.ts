// A small XML well-formedness check for rendered SVG: balanced, properly nested tags, quoted attributes, known
// entities.
import { expect } from "vitest";

const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;

export function expectWellFormedXml(text: string): void {
  const open: string[] = [];
  let roots = 0;
  let i = 0;
  const fail = (why: string) =>
    expect.fail(`not well-formed XML at offset ${i}: ${why}: ${JSON.stringify(text.slice(i, i + 60))}`);
  while (i < text.length) {
    const c = text[i];
    if (c === "&") {
      ENTITY.lastIndex = i;
      if (!ENTITY.test(text)) fail("a bare &");
      i = ENTITY.lastIndex;
    } else if (c !== "<") {
      if (open.length === 0 && !/\s/.test(c)) fail("text outside the root element");
      i++;
    } else if (text.startsWith("<?", i) || text.startsWith("<!--", i) || text.startsWith("<!DOCTYPE", i)) {
      const end = text.indexOf(text.startsWith("<?", i) ? "?>" : text.startsWith("<!--", i) ? "-->" : ">", i);
      if (end < 0) fail("an unterminated declaration or comment");
      i = text.indexOf(">", end) + 1;
    } else {
      const tag = /^<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(
        text.slice(i),
      );
      if (!tag) fail("a malformed tag");
      const [whole, closing, name, , selfClosing] = tag!;
      if (closing) {
        if (open.pop() !== name) fail(`</${name}> closes the wrong element`);
      } else if (!selfClosing) {
        if (open.length === 0) roots++;
        open.push(name);
      } else if (open.length === 0) roots++;
      i += whole.length;
    }
  }
  expect(open, "elements left open").toEqual([]);
  expect(roots, "root elements").toBe(1);
}
