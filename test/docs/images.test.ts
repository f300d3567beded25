// The pictures in docs/images are what `netc graph` draws today (regenerate: npx tsx tools/gen-doc-images.ts).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import { DOC_IMAGES, docImage } from "../../tools/gen-doc-images.js";

const IMAGES = resolve(import.meta.dirname, "../../docs/images");

it.each(DOC_IMAGES)(
  "docs/images/$name is up to date",
  async ({ name, model, depth }) => {
    expect(await docImage(model, depth), `run npx tsx tools/gen-doc-images.ts`).toBe(
      readFileSync(join(IMAGES, name), "utf8"),
    );
  },
  60_000,
);
