// index.html of the page `adarec export --web` writes: the layout and its style, inline; the
// behaviour is lib/web/app.js (serve/web/app.ts), and a few inline lines say why when that script
// cannot run (a file:// page, a missing file). No resource outside the folder is referenced.

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function indexHtml(o: { name: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(o.name)}: recommendations in your browser</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem; color: #222; }
  header p { color: #555; margin: 0.2rem 0; }
  #status { padding: 0.5rem 0.8rem; border-radius: 4px; margin: 0.6rem 0; background: #eef3fb; }
  #status[data-state="error"] { background: #fde8e8; color: #8a1010; font-weight: 600; }
  #status[data-state="ready"] { background: #eaf6ea; }
  main { display: grid; grid-template-columns: 1.3fr 1fr 1fr; gap: 1.2rem; }
  @media (max-width: 50rem) { main { grid-template-columns: 1fr; } }
  h2 { font-size: 1.05rem; margin: 0.4rem 0; }
  ol, ul { padding-left: 1.6rem; margin: 0.3rem 0; }
  #items { list-style: none; padding: 0; max-height: 70vh; overflow-y: auto; }
  li { margin: 0.15rem 0; }
  button { font: inherit; text-align: left; cursor: pointer; border: 1px solid #ccd; background: #fafafe; border-radius: 3px; padding: 0.1rem 0.4rem; }
  button:hover { background: #e8ecfa; }
  #search { width: 100%; box-sizing: border-box; font: inherit; padding: 0.3rem; }
  .score, #count, #latency { color: #666; font-size: 0.9em; }
</style>
</head>
<body>
<header>
  <h1>What next?</h1>
  <p>Recommendations computed in this page (onnxruntime-web, WebAssembly): your clicks never leave your browser.</p>
  <p id="model"></p>
</header>
<div id="status" data-state="loading" role="status">loading ...</div>
<noscript><p>This page needs JavaScript.</p></noscript>
<main>
  <section>
    <h2>Catalog</h2>
    <input id="search" type="search" placeholder="search the catalog" aria-label="search the catalog">
    <p id="count"></p>
    <ul id="items"></ul>
  </section>
  <section>
    <h2>Your history</h2>
    <label><input id="exclude" type="checkbox" checked> leave out items already in the history</label>
    <ol id="history"></ol>
    <button id="clear" type="button">clear the history</button>
  </section>
  <section>
    <h2>Top 10</h2>
    <ol id="top"></ol>
    <p id="latency"></p>
  </section>
</main>
<script>
  // before the module loads: a file:// page cannot load modules, its model or WebAssembly
  function fail(text) {
    var s = document.getElementById('status');
    if (s.dataset.state !== 'error') { s.dataset.state = 'error'; s.textContent = text; } // the first reason is the one to read
  }
  if (location.protocol === 'file:') fail('This page must be served over http(s): browsers do not let a file:// page load its script, model or WebAssembly. Run e.g. "python3 -m http.server 8000" in its folder and open http://localhost:8000/.');
</script>
<script type="module" src="lib/web/app.js" onerror="fail('could not start: cannot load lib/web/app.js (is the whole folder on the server?)')"></script>
</body>
</html>
`;
}
