/**
 * The dashboard page: one self-contained HTML document (inline CSS and JavaScript, canvas charts,
 * no external assets, nothing for the user to build). It opens an EventSource on its own URL and
 * redraws on every snapshot. `window.__perfDashboard` exposes the update count for tests.
 */
export function dashboardPage(title: string): string {
  const safeTitle = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${safeTitle}</title>
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#0f172a;color:#e2e8f0}
header{padding:12px 20px;background:#1e293b;display:flex;gap:16px;align-items:baseline}
h1{font-size:18px;margin:0}#status{font-size:12px;color:#94a3b8}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px;padding:16px}
section{background:#1e293b;border-radius:8px;padding:12px}h2{font-size:14px;margin:0 0 8px;color:#cbd5e1}
canvas{width:100%;height:160px;display:block}.legend span{margin-right:12px;font-size:12px}
table{width:100%;border-collapse:collapse;font-size:13px}td,th{text-align:left;padding:4px;border-bottom:1px solid #334155}
.open,.firing{color:#f87171}.half-open,.pending{color:#fbbf24}.closed{color:#4ade80}.isolated{color:#c084fc}
</style></head><body>
<header><h1>${safeTitle}</h1><span id="status">connecting…</span></header>
<main>
<section><h2>Request rate (per second)</h2><canvas id="rate" width="800" height="320"></canvas><div class="legend" id="rate-legend"></div></section>
<section><h2>Dedup ratio (duplicates prevented / calls)</h2><canvas id="dedup" width="800" height="320"></canvas><div class="legend" id="dedup-legend"></div></section>
<section><h2>Cache hit ratio per tier</h2><canvas id="hit" width="800" height="320"></canvas><div class="legend" id="hit-legend"></div></section>
<section><h2>Latency (ms)</h2><canvas id="latency" width="800" height="320"></canvas><div class="legend" id="latency-legend"></div></section>
<section><h2>Circuit breakers</h2><table><thead><tr><th>name</th><th>state</th></tr></thead><tbody id="breakers"><tr><td colspan="2">none yet</td></tr></tbody></table></section>
<section><h2>Alerts</h2><table><thead><tr><th>alert</th><th>state</th><th>labels</th><th>value</th></tr></thead><tbody id="alerts"><tr><td colspan="4">none</td></tr></tbody></table></section>
</main>
<script>
(function () {
  var MAX = 120;
  var COLORS = ['#60a5fa', '#4ade80', '#fbbf24', '#f87171', '#c084fc'];
  var charts = {
    rate: { series: ['http', 'cache', 'dedup', 'breaker'], data: [] },
    dedup: { series: ['ratio'], data: [], max: 1 },
    hit: { series: ['l1', 'l2', 'l3', 'overall'], data: [], max: 1 },
    latency: { series: ['p50', 'p95', 'p99'], data: [] }
  };
  var state = { updates: 0, last: null };
  window.__perfDashboard = state;
  function legend(id, names) {
    document.getElementById(id + '-legend').innerHTML = names.map(function (n, i) {
      return '<span style="color:' + COLORS[i] + '">■ ' + n + '</span>';
    }).join('');
  }
  Object.keys(charts).forEach(function (id) { legend(id, charts[id].series); });
  function draw(id) {
    var c = charts[id], canvas = document.getElementById(id), g = canvas.getContext('2d');
    var w = canvas.width, h = canvas.height, pad = 36;
    g.clearRect(0, 0, w, h);
    var max = c.max || 0;
    c.data.forEach(function (p) { p.forEach(function (v) { if (v != null && v > max) max = v; }); });
    if (max <= 0) max = 1;
    g.strokeStyle = '#334155'; g.fillStyle = '#94a3b8'; g.font = '18px system-ui';
    for (var k = 0; k <= 4; k++) {
      var y = pad / 2 + (h - pad) * k / 4;
      g.beginPath(); g.moveTo(pad, y); g.lineTo(w, y); g.stroke();
      g.fillText(String(+(max * (1 - k / 4)).toPrecision(3)), 0, y + 6);
    }
    c.series.forEach(function (_, s) {
      g.strokeStyle = COLORS[s]; g.lineWidth = 3; g.beginPath();
      var started = false;
      c.data.forEach(function (p, i) {
        var v = p[s]; if (v == null) { started = false; return; }
        var x = pad + (w - pad) * i / (MAX - 1), y = pad / 2 + (h - pad) * (1 - v / max);
        if (started) g.lineTo(x, y); else { g.moveTo(x, y); started = true; }
      });
      g.stroke();
    });
  }
  function push(id, values) {
    var c = charts[id]; c.data.push(values); if (c.data.length > MAX) c.data.shift(); draw(id);
  }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (ch) { return '&#' + ch.charCodeAt(0) + ';'; }); }
  function update(snap) {
    state.updates++; state.last = snap;
    push('rate', [snap.rates.http, snap.rates.cache, snap.rates.dedup, snap.rates.breaker]);
    push('dedup', [snap.dedupRatio]);
    push('hit', [snap.hitRatio.l1, snap.hitRatio.l2, snap.hitRatio.l3, snap.hitRatio.overall]);
    var lat = snap.latency.http.p50 != null ? snap.latency.http : snap.latency.cache;
    push('latency', [lat.p50, lat.p95, lat.p99]);
    document.getElementById('breakers').innerHTML = snap.breakers.length ? snap.breakers.map(function (b) {
      return '<tr><td>' + esc(b.name) + '</td><td class="' + esc(b.state) + '">' + esc(b.state) + '</td></tr>';
    }).join('') : '<tr><td colspan="2">none yet</td></tr>';
    document.getElementById('alerts').innerHTML = snap.alerts.length ? snap.alerts.map(function (a) {
      var labels = Object.keys(a.labels).filter(function (k) { return k !== 'alertname'; })
        .map(function (k) { return k + '=' + a.labels[k]; }).join(', ');
      return '<tr><td>' + esc(a.name) + '</td><td class="' + esc(a.state) + '">' + esc(a.state) + '</td><td>' + esc(labels) + '</td><td>' + esc(+a.value.toPrecision(4)) + '</td></tr>';
    }).join('') : '<tr><td colspan="4">none</td></tr>';
    document.getElementById('status').textContent = 'live · ' + new Date(snap.t).toLocaleTimeString() + ' · ' + state.updates + ' updates';
  }
  var source = new EventSource(location.pathname + location.search);
  source.addEventListener('snapshot', function (e) { update(JSON.parse(e.data)); });
  source.onerror = function () { document.getElementById('status').textContent = 'reconnecting…'; };
})();
</script></body></html>
`;
}
