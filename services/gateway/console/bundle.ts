// The console's browser code, bundled by esbuild from app/ when the gateway first serves it and
// kept in memory: no build step beyond `npm install`, and the bundle always matches the source.
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export interface Asset {
  body: Buffer;
  /** The same bytes gzipped once, for browsers that accept it (all do): about a third of the size. */
  gzipped: Buffer;
  contentType: string;
  etag: string;
}

export interface ConsoleAssets {
  script: Asset;
  style: Asset;
}

const APP_DIR = fileURLToPath(new URL("./app/", import.meta.url));

let built: Promise<ConsoleAssets> | undefined;

/** The bundled script and the stylesheet, built once per process (every gateway in it shares them). */
export function consoleAssets(): Promise<ConsoleAssets> {
  built ??= buildAssets().catch((err: unknown) => {
    // a failed build is retried on the next request rather than cached
    built = undefined;
    throw err;
  });
  return built;
}

async function buildAssets(): Promise<ConsoleAssets> {
  const result = await build({
    entryPoints: [`${APP_DIR}main.tsx`],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    target: "es2020",
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    logLevel: "silent",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const script = Buffer.from(result.outputFiles[0].contents);
  const style = await readFile(`${APP_DIR}console.css`);
  return { script: asset(script, "text/javascript; charset=utf-8"), style: asset(style, "text/css; charset=utf-8") };
}

function asset(body: Buffer, contentType: string): Asset {
  return {
    body,
    gzipped: gzipSync(body, { level: 9 }),
    contentType,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
  };
}
