// Tests that compile models or compile WebGPU pipelines on a software adapter take seconds on a 2-core machine;
// the defaults (5 s, 10 s) would make them flaky under load, never faster.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ["test/setup/temp-root.ts"],
  },
});
