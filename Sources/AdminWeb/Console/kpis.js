// KPI reports (绩效报表): the KPIs of docs/kpis.md for a period (and a unit subtree), each beside
// the previous period's and the change; charts by Chart.js (Debian's libjs-chart.js); the
// per-unit ranking; CSV of the report. Everything comes from GET /api/kpis.
import * as api from "./api.js";
import { t, translate } from "./i18n.js";
import { el, percent, unitOptions } from "./dom.js";
import * as vendor from "./vendor.js";

const rates = [
  ["calls", "connect_rate"], ["calls", "service_level"], ["work_orders", "direct_answer_rate"],
  ["work_orders", "completion_rate"], ["work_orders", "on_time_sign_in_rate"], ["work_orders", "on_time_completion_rate"],
  ["work_orders", "satisfaction_rate"],
];
const counts = [
  ["calls", "offered"], ["calls", "answered"], ["calls", "abandoned"], ["work_orders", "accepted"],
  ["work_orders", "open"], ["work_orders", "overdue"], ["work_orders", "repeat_calls"],
];
const times = [["calls", "average_speed_of_answer_seconds"], ["calls", "average_handle_time_seconds"]];
/** Figures where a rise is bad news (shown red). */
const lowerIsBetter = new Set(["abandoned", "open", "overdue", "repeat_calls", "average_speed_of_answer_seconds"]);

function day(date) {
  const p = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}`;
}

/** The value of a figure: a rate's value, a count, seconds; null when the report has none. */
function value(report, [section, key]) {
  const part = report && report[section];
  if (!part) return null;
  const v = part[key];
  if (v === null || v === undefined) return null;
  return typeof v === "object" ? v.value : v;
}

export function mount(main) {
  const today = new Date();
  const from = el("input", { type: "date", id: "kpi-from", value: day(new Date(today.getFullYear(), today.getMonth(), 1)) });
  const to = el("input", { type: "date", id: "kpi-to", value: day(today) });
  const unit = el("select", { id: "kpi-unit" });
  const run = el("button", { type: "button", id: "kpi-run", "data-i18n": "kpi.run" });
  const csv = el("a", { id: "kpi-csv", class: "button", href: "#", "data-i18n": "orders.csv" });
  const presets = [["today", 0], ["week", 6], ["month", -1], ["lastmonth", -2]].map(([key, span]) => {
    const button = el("button", { type: "button", class: "link", "data-preset": key, "data-i18n": `kpi.${key}` });
    button.addEventListener("click", () => {
      const now = new Date();
      if (span === -1) { from.value = day(new Date(now.getFullYear(), now.getMonth(), 1)); to.value = day(now); }
      else if (span === -2) { from.value = day(new Date(now.getFullYear(), now.getMonth() - 1, 1)); to.value = day(new Date(now.getFullYear(), now.getMonth(), 0)); }
      else { from.value = day(new Date(now.getTime() - span * 86400000)); to.value = day(now); }
      load();
    });
    return button;
  });
  const status = el("p", { id: "kpi-status", class: "hint" });
  const cards = el("section", { id: "kpi-cards", class: "kpi-cards" });
  const rateCanvas = el("canvas", { id: "kpi-rates-chart", width: "640", height: "280" });
  const unitCanvas = el("canvas", { id: "kpi-units-chart", width: "640", height: "280" });
  const ranking = el("section", { id: "kpi-units", class: "card" });
  main.replaceChildren(
    el("div", { class: "page-head" }, el("h1", { "data-i18n": "kpi.title" })),
    el("div", { class: "levers" }, el("label", {}, el("span", { "data-i18n": "kpi.from" }), " ", from),
      el("label", {}, el("span", { "data-i18n": "kpi.to" }), " ", to), ...presets,
      el("label", {}, el("span", { "data-i18n": "wo.unit" }), " ", unit), run, csv),
    status, cards,
    el("div", { class: "row kpi-charts" },
      el("section", { class: "card" }, el("h2", { "data-i18n": "kpi.rates" }), rateCanvas),
      el("section", { class: "card" }, el("h2", { "data-i18n": "kpi.unitchart" }), unitCanvas)),
    ranking);

  const charts = [];
  let generation = 0;

  function change(now, before, kind, key) {
    if (now === null || before === null) return el("span", { class: "change", "data-change": "none" }, t("kpi.nochange"));
    const delta = now - before;
    const text = kind === "rate" ? `${(delta * 100).toFixed(1)} ${t("kpi.points")}`
      : kind === "time" ? `${delta.toFixed(1)} s` : String(delta);
    const sign = delta > 0 ? "▲ +" : delta < 0 ? "▼ " : "＝ ";
    const good = lowerIsBetter.has(key) ? delta < 0 : delta > 0;
    return el("span", { class: `change ${delta === 0 ? "" : good ? "better" : "worse"}`, "data-change": String(delta) }, sign + text);
  }

  function card(figure, kind, report, previous) {
    const id = `kpi-${figure[1]}`;
    const now = value(report, figure), before = value(previous, figure);
    const shown = now === null ? "–" : kind === "rate" ? percent(now) : kind === "time" ? `${now.toFixed(1)} s` : String(now);
    const part = report[figure[0]] && report[figure[0]][figure[1]];
    const ratio = part && typeof part === "object" ? `${part.numerator}/${part.denominator}` : "";
    return el("div", { class: "metric card", id },
      el("div", { class: "label", "data-i18n": `kpi.${figure[1]}` }),
      el("div", { class: "value" }, shown), el("div", { class: "hint" }, ratio),
      el("div", { class: "hint" }, t("kpi.previous"), " ", before === null ? "–" : kind === "rate" ? percent(before) : kind === "time" ? `${before.toFixed(1)} s` : String(before)),
      change(now, before, kind, figure[1]));
  }

  async function draw(report, previous) {
    const Chart = await vendor.chart();
    for (const chart of charts.splice(0)) chart.destroy();
    const labels = rates.filter((r) => report[r[0]]).map((r) => t(`kpi.${r[1]}`));
    const pick = (source) => rates.filter((r) => report[r[0]]).map((r) => { const v = value(source, r); return v === null ? null : +(v * 100).toFixed(1); });
    charts.push(new Chart(rateCanvas, {
      type: "bar",
      data: { labels, datasets: [
        { label: t("kpi.thisperiod"), data: pick(report), backgroundColor: "#c8102e" },
        { label: t("kpi.previous"), data: pick(previous), backgroundColor: "#9aa5b1" }] },
      options: { animation: false, responsive: false, scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } } },
    }));
    const units = report.units.slice(0, 12);
    charts.push(new Chart(unitCanvas, {
      type: "bar",
      data: { labels: units.map((u) => u.name || u.unit), datasets: [
        { label: t("kpi.on_time_completion_rate"), data: units.map((u) => u.on_time_completion_rate.value === null ? null : +(u.on_time_completion_rate.value * 100).toFixed(1)), backgroundColor: "#1b7f3b" },
        { label: t("kpi.on_time_sign_in_rate"), data: units.map((u) => u.on_time_sign_in_rate.value === null ? null : +(u.on_time_sign_in_rate.value * 100).toFixed(1)), backgroundColor: "#b45309" }] },
      options: { animation: false, responsive: false, indexAxis: "y", scales: { x: { min: 0, max: 100 } } },
    }));
    rateCanvas.dataset.ready = unitCanvas.dataset.ready = "true";
  }

  function renderRanking(report) {
    ranking.replaceChildren(el("h2", { "data-i18n": "kpi.ranking" }),
      report.units.length === 0 ? el("p", { class: "hint", "data-i18n": "kpi.nounits" })
        : el("table", { class: "list", id: "kpi-ranking" },
          el("thead", {}, el("tr", {}, ...["kpi.rank", "wo.unit", "kpi.dispatched", "kpi.handled", "kpi.on_time_sign_in_rate",
            "kpi.on_time_completion_rate", "kpi.satisfaction_rate"].map((k) => el("th", { "data-i18n": k })))),
          el("tbody", {}, ...report.units.map((u) => el("tr", { "data-unit": u.unit },
            el("td", {}, String(u.rank)), el("td", {}, u.name || u.unit), el("td", {}, String(u.dispatched)), el("td", {}, String(u.handled)),
            el("td", {}, percent(u.on_time_sign_in_rate.value)), el("td", {}, percent(u.on_time_completion_rate.value)),
            el("td", {}, percent(u.satisfaction_rate.value)))))));
  }

  async function load() {
    const mine = ++generation;
    const q = new URLSearchParams({ from: from.value, to: to.value });
    if (unit.value) q.set("unit", unit.value);
    csv.href = `/api/kpis?${q}&format=csv`;
    status.textContent = t("kpi.loading");
    try {
      const report = await api.get(`/api/kpis?${q}`);
      const p = new URLSearchParams({ from: report.period.previous_start, to: report.period.previous_end });
      if (unit.value) p.set("unit", unit.value);
      const previous = await api.get(`/api/kpis?${p}`);
      if (mine !== generation) return;
      status.textContent = `${report.period.from} – ${report.period.to} · ${t("kpi.versus")} ${previous.period.start.slice(0, 10)} – ${new Date(new Date(previous.period.end) - 1).toISOString().slice(0, 10)}`;
      cards.replaceChildren(
        ...counts.filter((f) => report[f[0]]).map((f) => card(f, "count", report, previous)),
        ...rates.filter((f) => report[f[0]]).map((f) => card(f, "rate", report, previous)),
        ...times.filter((f) => report[f[0]]).map((f) => card(f, "time", report, previous)));
      renderRanking(report);
      translate(main);
      await draw(report, previous);
    } catch (error) {
      status.textContent = t("error.generic") + error.message;
    }
  }

  run.addEventListener("click", load);
  unit.addEventListener("change", load);
  api.get("/api/units").then((data) => unitOptions(unit, data.units, t("orders.allunits"))).catch(() => {});
  translate(main);
  load();
  return () => { generation++; for (const chart of charts.splice(0)) chart.destroy(); };
}
