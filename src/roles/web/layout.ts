import { html, raw, type Html } from './html.js';

const STYLE = `
:root { --fg:#1d2330; --muted:#5d6778; --line:#e3e7ee; --bg:#f6f8fb; --accent:#c62f3b; --link:#1f5fbf; --ok:#1e7b4a; --warn:#9a6700; }
* { box-sizing: border-box; }
body { margin:0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { background:#17202f; color:#fff; padding:0 24px; display:flex; flex-wrap:wrap; align-items:center; gap:0 24px; min-height:52px; }
header .brand { font-weight:700; font-size:18px; letter-spacing:.3px; color:#fff; text-decoration:none; display:flex; align-items:center; gap:8px; }
header .brand span.dot { width:12px; height:12px; border-radius:50%; background:var(--accent); display:inline-block; box-shadow:0 0 0 3px rgba(198,47,59,.3); }
header nav a { color:#cdd6e4; text-decoration:none; margin-right:16px; }
header form { margin-left:auto; } header form input { width:min(280px, 36vw); background:#243049; border-color:#34425f; color:#fff; }
header nav a:hover { color:#fff; }
main { max-width:1280px; margin:24px auto; padding:0 24px; }
main.wide { max-width:none; margin:16px 0; padding:0 16px; }
h1 { font-size:22px; margin:0 0 16px; }
h2 { font-size:16px; margin:28px 0 10px; }
a { color:var(--link); }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; margin-bottom:16px; min-width:0; }
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
.stat .big.mono { font-size:20px; }
.table-scroll { overflow-x:auto; max-width:100%; }
.charts { display:grid; grid-template-columns:repeat(auto-fit, minmax(380px, 1fr)); gap:16px; margin-top:16px; }
.charts h2 { margin-top:0; }
.legend { display:flex; gap:14px; font-size:12px; color:var(--muted); margin-top:4px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
.chart-empty { padding:24px; text-align:center; }
table.bars { background:none; table-layout:fixed; width:100%; }
table.bars td { border:none; padding:2px 6px; }
table.bars col.bar-label-col { width:50%; } table.bars col.bar-cell-col { width:auto; } table.bars col.bar-num-col { width:4.2em; }
table.bars .bar-label { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; font-size:13px; }
table.bars .bar-label a { display:block; overflow:hidden; text-overflow:ellipsis; }
.bar { display:block; height:10px; border-radius:2px; background:#1f5fbf; opacity:.75; min-width:2px; }
.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.up { color:var(--accent); } .down { color:var(--ok); }
.grid2 { display:grid; grid-template-columns:repeat(auto-fit, minmax(300px, 1fr)); gap:16px; }
.grid2 > *, .stats > *, .charts > * { min-width:0; }
.grid2 > .card, .stats > .card { margin-bottom:0; }
.grid2, .stats { margin-bottom:16px; }
.grid2 h3, .stat .big { overflow-wrap:anywhere; }
.grid2 h3 { font-size:13px; margin:0 0 6px; color:var(--muted); text-transform:uppercase; letter-spacing:.4px; }
form.filters { display:flex; flex-wrap:wrap; gap:10px; align-items:flex-end; }
form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:3px; }
input, select, button { font:inherit; font-size:13px; padding:5px 8px; border:1px solid #cfd6e2; border-radius:6px; background:#fff; }
button { background:var(--link); color:#fff; border-color:var(--link); cursor:pointer; }
.subnav { display:flex; gap:6px; flex-wrap:wrap; margin:-6px 0 14px; }
.subnav a { padding:3px 10px; border-radius:12px; background:#eef1f6; text-decoration:none; font-size:13px; }
.subnav a.on { background:var(--link); color:#fff; }
details.thread { background:#fff; border:1px solid var(--line); border-radius:8px; margin-bottom:8px; }
details.thread summary { padding:8px 14px; cursor:pointer; }
tr.inline td { color:var(--muted); }
tr.inline td.fn::before { content:'↳ inlined '; font-size:11px; }
h1.mono { font-size:20px; }
td.nowrap, th.nowrap { white-space:nowrap; }
td.ellip { max-width:520px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
`;

export interface PageOptions {
  refreshSeconds?: number;
  /** Extra elements for the head: the site's own stylesheets and scripts (the CSP allows no inline script). */
  head?: Html;
  /** Use the whole window's width (tools with several columns), not the reading width. */
  wide?: boolean;
}

export function page(title: string, body: Html, options: PageOptions = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}">` : ''}
<title>${title} · Mayday</title>
<style>${raw(STYLE)}</style>
${options.head ?? ''}
</head>
<body>
<header><a class="brand" href="/"><span class="dot"></span>Mayday</a><nav><a href="/">Home</a><a href="/topcrashers/">Top crashers</a><a href="/search/">Super Search</a><a href="/documentation/datadictionary/" title="Every crash field: type, meaning, source annotation, searchable, protected">Fields</a><a href="/missing-symbols/" title="Modules whose symbols crashes missed: upload them, reprocess">Missing symbols</a><a href="/status">Status</a><a href="/dashboard">Dashboard</a><a href="/configurator">Configurator</a><a href="/account" title="Log in, log out, API tokens">Account</a></nav>
<form method="get" action="/quick-search" role="search"><input type="search" name="q" maxlength="1000" placeholder="Crash ID or signature" aria-label="Crash ID or signature" title="A crash id (bp- too) or a report URL opens the report, an exact signature its page; other words search the signatures containing them"></form></header>
<main${options.wide ? raw(' class="wide"') : ''}>${body}</main>
</body>
</html>`.text;
}
