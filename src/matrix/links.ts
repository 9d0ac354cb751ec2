import { existsSync, readdirSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { REPRODUCER_FILE } from "../files/store.js";
import { signatureSlug } from "../oracle/classify.js";

// Where a signature's saved reproducer report lives (crashes/<slug>/s<size>-<hash>.txt, or an
// .html report beside it), as a link relative to a page.

export function reportPath(crashes: string, signature: string): string | undefined {
  const dir = join(crashes, signatureSlug(signature));
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir);
  const json = files.find((f) => REPRODUCER_FILE.test(f));
  if (!json) return undefined;
  const base = json.replace(/\.json$/, "");
  const report = [`${base}.html`, `${base}.txt`].find((f) => files.includes(f));
  return report ? join(dir, report) : undefined;
}

/** A `reportHref` for matrixHtml: the report of a signature relative to the page at `page`. */
export function reportHrefFrom(crashes: string, page: string): (signature: string) => string | undefined {
  return (signature) => {
    const p = reportPath(crashes, signature);
    return p ? relative(dirname(page), p).split(sep).map(encodeURIComponent).join("/") : undefined;
  };
}
