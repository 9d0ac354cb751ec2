// What every self-contained HTML page of xmcfuzz shares: escaping and the document shell.
// No page loads anything from the network: styles and scripts are inline.

/** Escapes text for HTML element content and attribute values. */
export const esc = (s: string | number): string => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const BASE_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1f24; background: #fff; }
h1 { font-size: 1.3em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
code, .mono, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
table { border-collapse: collapse; } th, td { padding: 2px 8px; text-align: left; vertical-align: top; }
.muted { color: #57606a; }
`;

export function htmlPage(title: string, css: string, body: string, script = ""): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${BASE_CSS}${css}</style></head>
<body>
${body}
${script ? `<script>${script}</script>` : ""}
</body></html>
`;
}
