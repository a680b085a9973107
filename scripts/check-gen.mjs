// Fails when gen/ is not exactly what `buf generate` makes from proto/: the generated code is
// committed, so a contract change without `npm run gen` must not pass the tests.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const out = mkdtempSync(join(tmpdir(), "reviewflow-gen-"));

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

try {
  const buf = join(root, "node_modules", ".bin", "buf");
  execFileSync(buf, ["lint"], { cwd: root, stdio: "inherit" });
  execFileSync(buf, ["generate", "--output", out], { cwd: root, stdio: "inherit" });
  // the contracts' comments (scripts/proto-comments.ts), made the way `npm run gen` makes them
  execFileSync(process.execPath, ["--import", "tsx", join(root, "scripts", "proto-comments.ts"), join(out, "gen")], {
    cwd: root,
    stdio: "inherit",
  });
  const fresh = join(out, "gen");
  const committed = join(root, "gen");
  const a = listFiles(fresh)
    .map((f) => relative(fresh, f))
    .sort();
  const b = listFiles(committed)
    .map((f) => relative(committed, f))
    .sort();
  const stale = [
    ...a.filter((f) => !b.includes(f)).map((f) => `missing: gen/${f}`),
    ...b.filter((f) => !a.includes(f)).map((f) => `extra: gen/${f}`),
    ...a
      .filter((f) => b.includes(f))
      .filter((f) => !readFileSync(join(fresh, f)).equals(readFileSync(join(committed, f))))
      .map((f) => `differs: gen/${f}`),
  ];
  if (stale.length > 0) {
    console.error(`gen/ is stale; run \`npm run gen\` and commit gen/:\n  ${stale.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`gen/ is up to date (${a.length} files), buf lint clean`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
