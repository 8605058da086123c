import { html, raw, type Html } from './html.js';

const STYLE = `
:root { --fg:#1d2330; --muted:#5d6778; --line:#e3e7ee; --bg:#f6f8fb; --accent:#c62f3b; --link:#1f5fbf; --ok:#1e7b4a; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { background:#17202f; color:#fff; padding:0 24px; display:flex; align-items:center; gap:24px; height:52px; }
header .brand { font-weight:700; font-size:18px; letter-spacing:.3px; color:#fff; text-decoration:none; display:flex; align-items:center; gap:8px; }
header .brand span.dot { width:12px; height:12px; border-radius:50%; background:var(--accent); display:inline-block; box-shadow:0 0 0 3px rgba(198,47,59,.3); }
header nav a { color:#cdd6e4; text-decoration:none; margin-right:16px; }
header nav a:hover { color:#fff; }
main { max-width:1280px; margin:24px auto; padding:0 24px; }
h1 { font-size:22px; margin:0 0 16px; }
h2 { font-size:16px; margin:28px 0 10px; }
a { color:var(--link); }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin-bottom:16px; }
table { width:100%; border-collapse:collapse; background:#fff; }
th, td { text-align:left; padding:7px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.4px; background:#fafbfd; }
tr:hover td { background:#fbfcfe; }
table.kv th { width:200px; text-transform:none; font-size:13px; letter-spacing:0; background:none; }
.mono, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size:12.5px; }
.muted { color:var(--muted); }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; background:#eef1f6; color:var(--muted); }
.badge.err { background:#fdecee; color:var(--accent); }
.badge.ok { background:#e8f5ee; color:var(--ok); }
.badge.warn { background:#fff5d6; color:var(--warn); }
.empty { padding:32px; text-align:center; color:var(--muted); }
.crash-reason { color:var(--accent); font-weight:600; }
pre { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px; overflow:auto; }
.pager { margin-top:12px; display:flex; gap:12px; }
.stats { display:grid; grid-template-columns:repeat(auto-fit, minmax(200px, 1fr)); gap:16px; }
.stat .big { font-size:28px; font-weight:600; margin-top:4px; }
.charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(380px, 1fr)); gap:16px; margin-top:16px; }
.charts h2 { margin-top:0; }
.legend { display:flex; gap:14px; font-size:12px; color:var(--muted); margin-top:4px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
.chart-empty { padding:24px; text-align:center; }
`;

export function page(title: string, body: Html, options: { refreshSeconds?: number } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<title>${title} · Mayday</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<header><a class="brand" href="/"><span class="dot"></span>Mayday</a><nav><a href="/">Latest crashes</a><a href="/status">Status</a></nav></header>
<main>${body}</main>
</body>
</html>`.text;
}
