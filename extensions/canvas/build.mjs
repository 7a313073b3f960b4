// Bundle the canvas once: one ES module in the anywidget shape, CSS inlined as text,
// React and React Flow included (no CDN at run time). Output goes into the Python
// package so the wheel ships it.
import { build, context } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = path.resolve(here, "../../workbench/widgets/static/canvas.js");
const options = {
  entryPoints: [path.join(here, "src/index.jsx")],
  bundle: true,
  format: "esm",
  minify: true,
  jsx: "automatic",
  loader: { ".css": "text", ".js": "jsx" },
  define: { "process.env.NODE_ENV": '"production"' },
  target: ["es2020"],
  legalComments: "eof",
  outfile,
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const ctx = await context(options);
  await ctx.watch();
} else {
  await build(options);
}
