import { statSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { InputError } from "../errors.js";
import { readInputFile } from "../files/read.js";
import { writeOutputFile } from "../files/atomic.js";
import { plotModel } from "../report/html/plot-model.js";
import { plotHtml, plotSvg } from "../report/html/plot.js";

interface PlotOptions {
  out: string;
}

/** `plot <campaign dir> -o out.html|out.svg`: the campaign's stats history as charts. */
export function plotCommand(campaign: string, opts: PlotOptions): void {
  const ext = extname(opts.out).toLowerCase();
  if (ext !== ".html" && ext !== ".htm" && ext !== ".svg") throw new InputError(`${opts.out}: the output must end in .html or .svg`);
  let file = campaign;
  try {
    if (statSync(campaign).isDirectory()) file = join(campaign, "stats.json");
  } catch {
    throw new InputError(`${campaign}: no such campaign directory or stats file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readInputFile(file, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === "ENOENT" ? "missing (is this a campaign directory?)" : code ? `cannot read (${code})` : "not valid JSON"}`);
  }
  const name = basename(resolve(campaign === file ? join(file, "..") : campaign));
  const model = plotModel(json, `xmcfuzz campaign ${name}`);
  if (typeof model === "string") throw new InputError(`${file}: ${model}`);
  try {
    writeOutputFile(opts.out, ext === ".svg" ? plotSvg(model) : plotHtml(model));
  } catch (e) {
    throw new InputError(`${opts.out}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
