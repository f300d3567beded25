// netc's version: the CLI's --version, a model's producer_version and `netc.version` metadata, a bundle's manifest.
// A constant, not read from package.json at run time: a program that bundles netc (esbuild, a browser) has no netc
// package.json above it, or has its own. test/util/version.test.ts keeps it equal to package.json's version.
export const VERSION = "0.1.0";
