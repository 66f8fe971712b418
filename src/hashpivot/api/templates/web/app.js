// hashpivot dashboard helpers: API calls with the bearer token, errors, formatting, charts.
const hp = {
  // red (low NPV) → white → green (high): the report's scale too (hashpivot.reports.sweep)
  NPV_SCALE: [[0, "#b2182b"], [0.5, "#f7f7f7"], [1, "#1a9850"]],
  initToken() {
    const el = document.getElementById("token");
    el.value = localStorage.getItem("hashpivot-token") || "";
    el.addEventListener("change", () => localStorage.setItem("hashpivot-token", el.value.trim()));
  },
  async api(path, opts = {}) {
    const headers = Object.assign({}, opts.headers || {});
    const token = localStorage.getItem("hashpivot-token") || "";
    if (token) headers["Authorization"] = "Bearer " + token;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(opts.json);
    }
    const res = await fetch(path, Object.assign({}, opts, { headers }));
    let data = null;
    try { data = await res.json(); } catch (e) { data = { detail: res.statusText }; }
    return { ok: res.ok, status: res.status, data };
  },
  errorLines(data) {
    const d = data && data.detail;
    if (Array.isArray(d)) return d.map(e => (e.loc || []).filter(x => x !== "body").join(".") + ": " + e.msg);
    return [String(d)];
  },
  showErrors(ul, lines) {
    ul.innerHTML = "";
    for (const l of lines) { const li = document.createElement("li"); li.textContent = l; ul.appendChild(li); }
  },
  usd(x) {
    if (x === null || x === undefined) return "—";
    const a = Math.abs(x), s = x < 0 ? "-" : "";
    if (a >= 1e9) return s + "$" + (a / 1e9).toFixed(2) + "B";
    if (a >= 1e6) return s + "$" + (a / 1e6).toFixed(1) + "M";
    return s + "$" + a.toLocaleString(undefined, { maximumFractionDigits: 0 });
  },
  pct(x) { return x === null || x === undefined ? "—" : (100 * x).toFixed(1) + "%"; },
  table(el, rows) {
    el.innerHTML = "";
    for (const r of rows) {
      const tr = document.createElement("tr");
      for (const c of r) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
      el.appendChild(tr);
    }
  },
  months(start, n) {  // "YYYY-MM" → the first day of each of n months, as dates for Plotly
    const [y, m] = start.split("-").map(Number);
    return Array.from({ length: n }, (_, i) => {
      const d = new Date(Date.UTC(y, m - 1 + i, 1));
      return d.toISOString().slice(0, 10);
    });
  },
  fan(el, name, s, title, start, log) {
    const x = start ? hp.months(start, s.p50.length) : s.p50.map((_, i) => i + 1);
    const band = (lo, hi, label, alpha) => [
      { x, y: s[hi], line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { x, y: s[lo], fill: "tonexty", fillcolor: `rgba(31,119,180,${alpha})`, line: { width: 0 }, name: label },
    ];
    Plotly.newPlot(el, [...band("p5", "p95", "P5–P95", 0.15), ...band("p25", "p75", "P25–P75", 0.3),
      { x, y: s.p50, name: "median", line: { color: "#1f77b4" } }],
      { title: { text: title || name }, height: 330, margin: { t: 40, l: 70, r: 10, b: 40 },
        xaxis: start ? { type: "date", title: { text: "month" } } : { title: { text: "month" } },
        yaxis: { type: log ? "log" : "linear" } },
      { displaylogo: false, responsive: true });
  },
  // A stored sweep (GET /api/sweeps/{id}): one heat map per pair of varied keys (a line with one
  // key), the tornado, and the variants' table.
  sweep(d) {
    const label = v => typeof v === "number" && !Number.isInteger(v) ? Number(v.toPrecision(4)).toString() : String(v);
    const seeds = d.seed_per_variant ? "each variant its own seed" : "common random numbers";
    document.getElementById("about").textContent =
      `${d.plan_name}: ${d.variants_done} of ${d.n_variants} variants × ${d.paths.toLocaleString()} paths, ${seeds}; ` +
      `${d.status}` + (d.seconds === null ? "" : ` in ${d.seconds.toFixed(1)} s ${d.where_run}`) + `; hashpivot ${d.version}.`;
    const maps = document.getElementById("sweep-maps");
    const layout = extra => Object.assign({ height: 420, margin: { t: 40, l: 110, r: 10, b: 60 } }, extra);
    const config = { displaylogo: false, responsive: true };
    if (d.heat_maps.length === 0 && d.keys.length === 1) {
      const k = d.keys[0], vs = d.variants.slice().sort((a, b) => a.overrides[k] < b.overrides[k] ? -1 : 1);
      const x = vs.map(v => label(v.overrides[k]));
      const div = document.createElement("div"); div.className = "sweep-map"; maps.appendChild(div);
      Plotly.newPlot(div, [
        { x, y: vs.map(v => v.npv_usd.p95 / 1e6), line: { width: 0 }, showlegend: false },
        { x, y: vs.map(v => v.npv_usd.p5 / 1e6), fill: "tonexty", line: { width: 0 }, name: "P5–P95" },
        { x, y: vs.map(v => v.npv_usd.mean / 1e6), name: "mean" }],
        layout({ title: { text: "NPV against " + k }, xaxis: { title: { text: k } }, yaxis: { title: { text: "NPV (USD M)" } } }), config);
    }
    for (const m of d.heat_maps) {
      const div = document.createElement("div"); div.className = "sweep-map"; maps.appendChild(div);
      Plotly.newPlot(div, [{
        type: "heatmap", colorscale: hp.NPV_SCALE,
        x: m.x_values.map(label), y: m.y_values.map(label),
        z: m.npv_usd.map(row => row.map(v => v === null ? null : v / 1e6)),
        text: m.npv_usd.map(row => row.map(v => v === null ? "" : hp.usd(v))), texttemplate: "%{text}",
        colorbar: { title: { text: "mean NPV (USD M)" } },
      }], layout({ title: { text: `${m.y_key} × ${m.x_key}` + (m.binned ? " (binned)" : "") },
        xaxis: { title: { text: m.x_key }, type: "category" }, yaxis: { title: { text: m.y_key }, type: "category" } }), config);
    }
    // bars from the sweep's mean NPV (over every variant) to each key's low and high end
    const t = d.tornado.slice().reverse();
    const centre = d.variants.reduce((a, v) => a + v.npv_usd.mean, 0) / d.variants.length / 1e6;
    const bar = (end, name, value) => ({ type: "bar", orientation: "h", name, base: centre,
      y: t.map(r => r.key), x: t.map(r => r[end] / 1e6 - centre), text: t.map(r => label(r[value])) });
    Plotly.newPlot(document.getElementById("sweep-tornado"), [
      bar("low_npv_usd", "lowest value", "low_value"), bar("high_npv_usd", "highest value", "high_value")],
      layout({ barmode: "overlay", height: 120 + 50 * t.length, margin: { t: 30, l: 200, r: 10, b: 50 },
        xaxis: { title: { text: "mean NPV (USD M), from the sweep's mean" } } }), config);
    // the variants' rows as the report formats them (engine.sweep.variant_table, via the API)
    hp.table(document.getElementById("sweep-variants"), [d.table.columns, ...d.table.rows]);
  },
  decision(target, d, table, plan) {
    // Where each megawatt goes: the table and the portfolio rows as the API formats them (the
    // CLI's and the report's formatter), the decision map (sites × alternatives, NPV per MW
    // against keeping, the choice starred) and the efficient frontier.
    const h = document.createElement("h2"); h.textContent = `Where each megawatt goes — ${plan}`; target.appendChild(h);
    const t = document.createElement("table"); t.id = "decision-table";
    hp.table(t, [table.columns].concat(table.rows));
    t.rows[0].className = "head";
    target.appendChild(t);
    const pt = document.createElement("table"); pt.id = "decision-portfolio";
    hp.table(pt, table.portfolio);
    target.appendChild(pt);
    const names = [];
    for (const x of d.sites) for (const a of x.alternatives) if (!names.includes(a.name)) names.push(a.name);
    const z = d.sites.map((x) => names.map((n) => { const a = x.alternatives.find((q) => q.name === n); return a && !a.ruled_out ? (a.npv_vs_keep_usd || 0) / x.mw : null; }));
    const text = d.sites.map((x) => names.map((n) => { const a = x.alternatives.find((q) => q.name === n); if (!a) return ""; if (a.ruled_out) return "✕"; return (n === x.action ? "★ " : "") + hp.usd((a.npv_vs_keep_usd || 0) / x.mw); }));
    const grid = document.createElement("div"); grid.className = "cols"; target.appendChild(grid);
    const m = document.createElement("div"); m.className = "chart"; m.id = "decision-map"; grid.appendChild(m);
    Plotly.newPlot(m, [{ type: "heatmap", z, x: names, y: d.sites.map((x) => x.site), text, texttemplate: "%{text}", colorscale: "RdBu", zmid: 0 }],
      { title: { text: "NPV per MW against keeping (★ chosen, ✕ ruled out)" }, yaxis: { autorange: "reversed" }, margin: { l: 110 } }, { responsive: true });
    if (d.frontier.length) {
      const f = document.createElement("div"); f.className = "chart"; f.id = "decision-frontier"; grid.appendChild(f);
      const pts = [{ x: d.frontier.map((p) => p.cvar_usd), y: d.frontier.map((p) => p.expected_npv_usd), mode: "lines+markers", name: "efficient frontier" }];
      for (const [k, label] of [["portfolio", "decided"], ["keep", "every site kept"], ["greedy", "each site's own best"]])
        pts.push({ x: [d[k].cvar_usd], y: [d[k].expected_npv_usd], mode: "markers", marker: { size: 12 }, name: label });
      Plotly.newPlot(f, pts, { title: { text: "Expected NPV against CVaR (USD)" }, xaxis: { title: { text: "CVaR" } } }, { responsive: true });
    }
  },
  async runCharts(runId, target) {
    const [run, ser] = await Promise.all([hp.api(`/api/runs/${runId}`), hp.api(`/api/runs/${runId}/series`)]);
    if (!run.ok) { target.textContent = hp.errorLines(run.data).join("\n"); return null; }
    const s = run.data.summary;
    const kpi = document.createElement("table"); kpi.id = "kpis";
    hp.table(kpi, [["plan", s.plan], ["paths × months", `${s.paths} × ${s.months}`],
      ["NPV mean", hp.usd(s.npv_usd.mean)], ["NPV P5 / P50 / P95", [s.npv_usd.p5, s.npv_usd.p50, s.npv_usd.p95].map(hp.usd).join(" / ")],
      ["P(default) 12m / horizon", hp.pct(s.p_default["12m"]) + " / " + hp.pct(s.p_default.horizon)]]);
    const m = s.market_assumptions;
    if (m) {  // runs stored before these keys existed have none
      const rows = [["market start", `${m.start_month}, data to ${m.data_end}: BTC ${hp.usd(m.start_btc_price_usd)}, ${Math.round(m.start_hashrate_eh_s)} EH/s`],
        ["BTC drift / volatility", `μ ${hp.pct(m.mu_annual)}/yr, σ ${hp.pct(m.sigma_annual)}/√yr — ${m.drift_rule_text}`],
        ["discount rate", hp.pct(m.discount_rate_annual) + "/yr"], ["NPV is", s.npv_definition]];
      if (m.backtest_text) rows.push(["backtest of the model", m.backtest_text]);
      for (const f of m.flags || []) rows.push(["FLAG", f]);
      for (const [k, v] of rows) {
        const tr = document.createElement("tr"); tr.className = k === "FLAG" ? "flag" : "";
        for (const c of [k, v]) { const td = document.createElement("td"); td.textContent = c; tr.appendChild(td); }
        kpi.appendChild(tr);
      }
    }
    if (s.decision) hp.decision(target, s.decision, run.data.decision_table, s.plan);
    target.appendChild(kpi);
    const link = document.createElement("p");
    link.innerHTML = `<a id="report-link" href="/api/runs/${runId}/report" target="_blank">full report</a>`;
    target.appendChild(link);
    const grid = document.createElement("div"); grid.className = "cols"; target.appendChild(grid);
    const names = { company_cash_usd: ["Company cash (USD)", false], btc_price_usd: ["BTC price (USD, log)", true],
      hashprice_usd_per_ph_day: ["Hashprice (USD per PH/s per day, log)", true],
      network_hashrate_eh_s: ["Network hashrate (EH/s, log)", true] };
    for (const [k, [title, log]] of Object.entries(names)) {
      if (!ser.data.series[k]) continue;
      const d = document.createElement("div"); d.className = "chart"; grid.appendChild(d);
      hp.fan(d, k, ser.data.series[k], title, s.start, log);
    }
    const h = document.createElement("div"); h.className = "chart"; grid.appendChild(h);
    const v = [...ser.data.npv_usd].sort((a, b) => a - b);
    const q = (p) => v[Math.min(v.length - 1, Math.max(0, Math.round(p * (v.length - 1))))];
    const lo = q(0.01), hi = q(0.99);
    const out = v.filter((x) => x < lo || x > hi).length;
    Plotly.newPlot(h, [{ type: "histogram", x: v.filter((x) => x >= lo && x <= hi), nbinsx: 60 }],
      { title: { text: "NPV across paths (USD), P1–P99" + (out ? ` (${out} paths outside)` : "") },
        height: 330, margin: { t: 40, l: 60, r: 10, b: 40 } }, { displaylogo: false });
    const p = ser.data.series.p_cash_negative_ever;
    if (p) {
      const d = document.createElement("div"); d.className = "chart"; grid.appendChild(d);
      Plotly.newPlot(d, [{ x: s.start ? hp.months(s.start, p.mean.length) : p.mean.map((_, i) => i + 1), y: p.mean, name: "P(cash < 0 by month)" }],
        { title: { text: "P(cumulative cash < 0) by month" }, height: 330, yaxis: { tickformat: ".0%" },
          xaxis: { type: s.start ? "date" : "linear" }, margin: { t: 40, l: 60, r: 10, b: 40 } }, { displaylogo: false });
    }
    return run.data;
  },
};
