// Prints the gzipped JavaScript of the dashboard (its entry and every page it can load lazily, so any
// first load is within it) and fails the build above the budget. /docs (Swagger UI) is a separate page,
// loaded only there, and is printed apart.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_KB = 150;
const dist = new URL("../dist/", import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(join(dist, ".vite/manifest.json"), "utf8"));

function reachable(entry) {
  const seen = new Set();
  const visit = (key) => {
    if (seen.has(key)) return;
    seen.add(key);
    const chunk = manifest[key];
    [...(chunk.imports ?? []), ...(chunk.dynamicImports ?? [])].forEach(visit);
  };
  visit(entry);
  return [...seen].map((key) => manifest[key].file).filter((file) => file.endsWith(".js"));
}

function gzippedKB(files) {
  return files.reduce((sum, file) => sum + gzipSync(readFileSync(join(dist, file))).length, 0) / 1024;
}

const app = gzippedKB(reachable("index.html"));
const docs = gzippedKB(reachable("docs/index.html"));
console.log(`dashboard: ${app.toFixed(1)} KB of JavaScript gzipped, every page included (budget ${BUDGET_KB} KB)`);
console.log(`/docs (Swagger UI, its own page): ${docs.toFixed(1)} KB of JavaScript gzipped`);
if (app > BUDGET_KB) {
  console.error(`the dashboard's JavaScript is over its budget of ${BUDGET_KB} KB`);
  process.exit(1);
}
