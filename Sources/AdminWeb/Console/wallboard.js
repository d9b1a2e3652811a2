// 大屏: per queue waiting, longest wait, service level, abandoned; agents by state, on site and
// at home; today's connect rate, answered within 15 s and direct-answer rate. Pushed by the
// server on every change of the ACD; only the waiting clocks tick here between pushes.
import * as api from "./api.js";
import { t, translate, lang } from "./i18n.js";
import { el, duration, percent, liveFeed } from "./dom.js";

const states = ["available", "reserved", "on_call", "wrap_up", "paused", "unreachable"];

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function metric(id, labelKey, value, extra) {
  return el("div", { class: `metric ${extra || ""}` },
    el("div", { class: "label", "data-i18n": labelKey }),
    el("div", { class: "value", id }, value));
}

export function mount(main) {
  const queues = el("section", { id: "queues", class: "queues" });
  const agents = el("section", { id: "agents", class: "card agents" });
  const kpis = el("section", { id: "kpis", class: "card kpis" });
  const updated = el("span", { id: "updated", class: "updated" });
  main.replaceChildren(
    el("div", { class: "page-head" }, el("h1", { "data-i18n": "wall.title" }), updated),
    queues, el("div", { class: "row" }, agents, kpis));
  let waitingClocks = [];
  let lastCalls = null, kpiTimer = null;

  async function loadKPIs() {
    kpiTimer = null;
    try {
      const report = await api.get(`/api/kpis?from=${today()}`);
      const calls = report.calls || {};
      const within = calls.service_level && calls.service_level.value;
      kpis.replaceChildren(
        el("h2", { "data-i18n": "wall.today" }),
        el("div", { class: "metrics" },
          metric("kpi-connect", "wall.connect", percent(calls.connect_rate && calls.connect_rate.value)),
          metric("kpi-within", "wall.within", percent(within)),
          metric("kpi-direct", "wall.direct", percent(report.work_orders.direct_answer_rate && report.work_orders.direct_answer_rate.value))));
      translate(kpis);
    } catch (error) {
      kpis.replaceChildren(el("p", { class: "error" }, t("error.generic") + error.message));
    }
  }

  function render(snapshot) {
    const received = Date.now();
    waitingClocks = [];
    if (snapshot.queues.length === 0) queues.replaceChildren(el("p", { "data-i18n": "wall.noqueues" }));
    else queues.replaceChildren(...snapshot.queues.map((q) => {
      const longest = el("div", { class: "value", id: `longest-${q.name}` }, duration(q.longest_wait_seconds));
      if (q.longest_wait_seconds !== null) waitingClocks.push({ element: longest, base: q.longest_wait_seconds, received });
      return el("article", { class: "card queue", "data-queue": q.name },
        el("h2", {}, q.name),
        el("div", { class: "metric big" + (q.waiting > 0 ? " alert" : "") },
          el("div", { class: "label", "data-i18n": "wall.waiting" }),
          el("div", { class: "value waiting", id: `waiting-${q.name}` }, q.waiting)),
        el("div", { class: "metrics" },
          el("div", { class: "metric" }, el("div", { class: "label", "data-i18n": "wall.longest" }), longest),
          metric(`sl-${q.name}`, "wall.sl", percent(q.service_level)),
          metric(`answered-${q.name}`, "wall.answered", q.answered),
          metric(`abandoned-${q.name}`, "wall.abandoned", q.abandoned),
          metric(`callbacks-${q.name}`, "wall.callbacks", q.callbacks_waiting)));
    }));
    const loggedIn = snapshot.agents.filter((a) => a.state !== "logged_out");
    const count = (list, state) => list.filter((a) => (state === "unreachable" ? !a.reachable : a.reachable && a.state === state)).length;
    const seatRow = (key, list, id) => el("tr", { id },
      el("th", { "data-i18n": key }), el("td", { class: "total" }, list.length),
      ...states.map((s) => el("td", { "data-state": s }, count(list, s))));
    agents.replaceChildren(
      el("h2", { "data-i18n": "wall.agents" }),
      el("table", { class: "states" },
        el("thead", {}, el("tr", {}, el("th"), el("th", { "data-i18n": "state.logged_in" }),
          ...states.map((s) => el("th", { "data-i18n": `state.${s}` })))),
        el("tbody", {},
          seatRow("wall.onsite", loggedIn.filter((a) => a.seat !== "home"), "seat-on-site"),
          seatRow("wall.home", loggedIn.filter((a) => a.seat === "home"), "seat-home"))));
    updated.textContent = `${t("wall.updated")} ${new Date(snapshot.at).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB")}`;
    translate(main);
    // Today's figures move when calls end: refreshed on such a push, at most every 5 s.
    const calls = snapshot.queues.reduce((sum, q) => sum + q.answered + q.abandoned, 0);
    if (calls !== lastCalls && !kpiTimer) kpiTimer = setTimeout(loadKPIs, lastCalls === null ? 0 : 5000);
    lastCalls = calls;
  }

  const tick = setInterval(() => {
    const now = Date.now();
    for (const clock of waitingClocks) clock.element.textContent = duration(clock.base + (now - clock.received) / 1000);
  }, 1000);
  const close = liveFeed(render);
  return () => { close(); clearInterval(tick); if (kpiTimer) clearTimeout(kpiTimer); };
}
