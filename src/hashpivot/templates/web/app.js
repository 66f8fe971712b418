// hashpivot dashboard helpers: API calls with the bearer token, errors, formatting, charts.
const hp = {
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
  fan(el, name, s, title) {
    const x = s.p50.map((_, i) => i + 1);
    const band = (lo, hi, label, alpha) => [
      { x, y: s[hi], line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
      { x, y: s[lo], fill: "tonexty", fillcolor: `rgba(31,119,180,${alpha})`, line: { width: 0 }, name: label },
    ];
    Plotly.newPlot(el, [...band("p5", "p95", "P5–P95", 0.15), ...band("p25", "p75", "P25–P75", 0.3),
      { x, y: s.p50, name: "median", line: { color: "#1f77b4" } }],
      { title: { text: title || name }, height: 330, margin: { t: 40, l: 70, r: 10, b: 40 }, xaxis: { title: { text: "month" } } },
      { displaylogo: false, responsive: true });
  },
  async runCharts(runId, target) {
    const [run, ser] = await Promise.all([hp.api(`/api/runs/${runId}`), hp.api(`/api/runs/${runId}/series`)]);
    if (!run.ok) { target.textContent = hp.errorLines(run.data).join("\n"); return null; }
    const s = run.data.summary;
    const kpi = document.createElement("table"); kpi.id = "kpis";
    hp.table(kpi, [["plan", s.plan], ["paths × months", `${s.paths} × ${s.months}`],
      ["NPV mean", hp.usd(s.npv_usd.mean)], ["NPV P5 / P50 / P95", [s.npv_usd.p5, s.npv_usd.p50, s.npv_usd.p95].map(hp.usd).join(" / ")],
      ["P(default) 12m / horizon", hp.pct(s.p_default["12m"]) + " / " + hp.pct(s.p_default.horizon)]]);
    target.appendChild(kpi);
    const link = document.createElement("p");
    link.innerHTML = `<a id="report-link" href="/api/runs/${runId}/report" target="_blank">full report</a>`;
    target.appendChild(link);
    const grid = document.createElement("div"); grid.className = "cols"; target.appendChild(grid);
    const names = { company_cash_usd: "Company cash (USD)", btc_price_usd: "BTC price (USD)",
      hashprice_usd_per_ph_day: "Hashprice (USD per PH/s per day)", network_hashrate_eh_s: "Network hashrate (EH/s)" };
    for (const [k, title] of Object.entries(names)) {
      if (!ser.data.series[k]) continue;
      const d = document.createElement("div"); d.className = "chart"; grid.appendChild(d);
      hp.fan(d, k, ser.data.series[k], title);
    }
    const h = document.createElement("div"); h.className = "chart"; grid.appendChild(h);
    Plotly.newPlot(h, [{ type: "histogram", x: ser.data.npv_usd, nbinsx: 60 }],
      { title: { text: "NPV across paths (USD)" }, height: 330, margin: { t: 40, l: 60, r: 10, b: 40 } }, { displaylogo: false });
    const p = ser.data.series.p_cash_negative_ever;
    if (p) {
      const d = document.createElement("div"); d.className = "chart"; grid.appendChild(d);
      Plotly.newPlot(d, [{ x: p.mean.map((_, i) => i + 1), y: p.mean, name: "P(cash < 0 by month)" }],
        { title: { text: "P(cumulative cash < 0) by month" }, height: 330, yaxis: { tickformat: ".0%" },
          margin: { t: 40, l: 60, r: 10, b: 40 } }, { displaylogo: false });
    }
    return run.data;
  },
};
