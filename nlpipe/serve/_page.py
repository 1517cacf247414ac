"""The page at ``GET /``: type texts, see the model's output. One file, no external assets (works offline)."""

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nlpipe serve</title>
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; } .muted { color: #666; font-size: .9rem; }
  textarea { width: 100%; min-height: 8rem; font: inherit; padding: .5rem; box-sizing: border-box; }
  button { font: inherit; padding: .4rem 1.2rem; margin-top: .5rem; cursor: pointer; }
  select { font: inherit; padding: .3rem; }
  table { border-collapse: collapse; width: 100%; margin-top: 1rem; }
  th, td { border: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f4f4f8; } #error { color: #b00020; margin-top: .6rem; white-space: pre-wrap; }
  dl { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; font-size: .9rem; }
  dt { color: #666; } dd { margin: 0; word-break: break-all; }
</style>
</head>
<body>
<h1>nlpipe serve: <span id="estimator">loading...</span></h1>
<div class="muted">One input per line; questions as <code>question ||| context</code>.
  API: <a href="openapi.json">OpenAPI schema</a> (<a href="docs">interactive docs</a>, which load Swagger UI from a CDN) &middot; <a href="metadata">metadata</a> &middot; <a href="metrics">metrics</a></div>
<p><textarea id="input" aria-label="inputs">a wonderful, moving film
the plot was a mess and the acting was worse</textarea></p>
<label>Method <select id="method"></select></label>
<button id="run">Run</button>
<div id="error" role="alert"></div>
<table id="output" hidden><thead><tr id="head"></tr></thead><tbody id="rows"></tbody></table>
<h2 style="font-size:1.1rem">Model</h2>
<dl id="meta"></dl>
<script>
"use strict";
let meta = null;
const $ = (id) => document.getElementById(id);
function cell(row, value, tag) {
  const el = document.createElement(tag || "td");
  el.textContent = typeof value === "string" ? value : JSON.stringify(value);
  row.appendChild(el);
}
async function load() {
  const response = await fetch("metadata");
  meta = await response.json();
  $("estimator").textContent = meta.estimator.split(".").pop();
  for (const m of meta.methods) {
    const option = document.createElement("option");
    option.value = option.textContent = m;
    $("method").appendChild(option);
  }
  const shown = {estimator: meta.estimator, classes: meta.classes, input: meta.input,
                 "nlpipe version": meta.nlpipe_version, "model sha256": meta.model_sha256};
  for (const [k, v] of Object.entries(shown)) {
    if (v === null || v === undefined) continue;
    const dt = document.createElement("dt"); dt.textContent = k; $("meta").appendChild(dt);
    const dd = document.createElement("dd"); dd.textContent = typeof v === "string" ? v : JSON.stringify(v);
    $("meta").appendChild(dd);
  }
}
async function run() {
  $("error").textContent = "";
  const lines = $("input").value.split("\\n").map((s) => s.trim()).filter((s) => s.length > 0);
  const method = $("method").value;
  let body;
  if (meta.input === "pairs") {
    body = {pairs: lines.map((line) => { const [q, c] = line.split("|||"); return {question: (q || "").trim(), context: (c || "").trim()}; })};
  } else {
    body = {texts: lines};
  }
  const response = await fetch(method, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const answer = await response.json();
  if (!response.ok) { $("error").textContent = "Error " + response.status + ": " + answer.error; $("output").hidden = true; return; }
  const key = Object.keys(answer).find((k) => k !== "classes");
  const head = $("head"), rows = $("rows");
  head.replaceChildren(); rows.replaceChildren();
  cell(head, "input", "th");
  const columns = answer.classes && method === "predict_proba" ? answer.classes : [key];
  for (const c of columns) cell(head, String(c), "th");
  answer[key].forEach((out, i) => {
    const row = document.createElement("tr");
    cell(row, lines[i]);
    if (columns.length > 1 && Array.isArray(out)) out.forEach((v) => cell(row, typeof v === "number" ? v.toFixed(3) : v));
    else cell(row, out);
    rows.appendChild(row);
  });
  $("output").hidden = false;
}
$("run").addEventListener("click", () => run().catch((e) => { $("error").textContent = String(e); }));
load().catch((e) => { $("error").textContent = "Cannot read /metadata: " + e; });
</script>
</body>
</html>
"""
