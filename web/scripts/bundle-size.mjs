// Prints the gzip size of the main bundle (the entry's JS and CSS, i.e. what the first page
// load needs) and fails the build above the budget. Lazy chunks (the explorer) are listed
// separately and do not count.
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const BUDGET = 250 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const entry = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const gz = (file) => gzipSync(readFileSync(join(dist, file))).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

let main = 0;
for (const file of entry) main += gz(file);
const lazy = readdirSync(join(dist, "assets"))
  .map((f) => `assets/${f}`)
  .filter((f) => !entry.includes(f) && /\.(js|css)$/.test(f));
const lazyTotal = lazy.reduce((sum, file) => sum + gz(file), 0);
console.log(`main bundle (gzip): ${kb(main)} of ${kb(BUDGET)} [${entry.join(", ")}]`);
console.log(`lazy chunks (the explorer), not in the budget: ${lazy.length} files, ${kb(lazyTotal)} gzip`);
if (main > BUDGET) {
  console.error(`main bundle is over budget: ${kb(main)} > ${kb(BUDGET)}`);
  process.exit(1);
}
