// The unit desk (承办单位工作台): the work orders of the signed-in unit's subtree (everyone's for
// the centre), overdue ones first, each with its SLA clock ticking; a work order's log and only
// the events its lifecycle allows next (sign, handle, feedback... for unit staff); CSV export.
import * as api from "./api.js";
import { t, translate } from "./i18n.js";
import { el, duration, when, unitOptions } from "./dom.js";

/** Which events each role is offered (the lifecycle narrows them further per work order). */
const offered = {
  unit_staff: ["signed", "handled", "feedback", "dispatched"],
  admin: ["answered_directly", "dispatched", "signed", "handled", "feedback", "return_visit", "closed", "reopened"],
  auditor: [],
};

/** The deadline a work order runs against now, if any. */
function deadline(order) {
  if (order.status === "dispatched") return order.sign_deadline || order.completion_deadline;
  if (order.status === "signed") return order.completion_deadline;
  return null;
}

function overdue(order, now) {
  if (order.status === "dispatched") {
    return (order.sign_deadline && now > new Date(order.sign_deadline)) || (order.completion_deadline && now > new Date(order.completion_deadline));
  }
  return order.status === "signed" && order.completion_deadline && now > new Date(order.completion_deadline);
}

/** Overdue first (longest overdue first), then by the nearest deadline, then newest. */
export function ordered(items, now) {
  return [...items].sort((a, b) => {
    const oa = overdue(a, now), ob = overdue(b, now);
    if (oa !== ob) return oa ? -1 : 1;
    const da = deadline(a), db = deadline(b);
    if (da && db) return new Date(da) - new Date(db);
    if (da || db) return da ? -1 : 1;
    return new Date(b.accepted_at) - new Date(a.accepted_at);
  });
}

export function mount(main, argument) {
  const session = api.current();
  const unitNames = new Map();
  const status = el("select", { id: "orders-status" },
    ...[["open", "dispatched,signed"], ["all", ""], ["handled", "handled"], ["closed", "closed"]]
      .map(([key, value]) => el("option", { value, "data-i18n": `orders.filter.${key}` })));
  const overdueOnly = el("input", { type: "checkbox", id: "orders-overdue" });
  const unitFilter = el("select", { id: "orders-unit" });
  const csv = el("a", { id: "orders-csv", class: "button", href: "#", "data-i18n": "orders.csv" });
  const refresh = el("button", { type: "button", id: "orders-refresh", "data-i18n": "orders.refresh" });
  const count = el("span", { id: "orders-count", class: "hint" });
  const list = el("section", { id: "orders-list", class: "card" });
  const detail = el("section", { id: "order-detail", class: "card" });
  main.replaceChildren(
    el("div", { class: "page-head" }, el("h1", { "data-i18n": "orders.title" }), el("span", { class: "hint" }, session.unit || "")),
    el("div", { class: "levers" },
      el("label", {}, el("span", { "data-i18n": "orders.status" }), " ", status),
      el("label", {}, overdueOnly, " ", el("span", { "data-i18n": "orders.overdue" })),
      el("label", {}, el("span", { "data-i18n": "wo.unit" }), " ", unitFilter),
      refresh, csv, count),
    el("div", { class: "desk-row orders-row" }, list, detail));

  let items = [];
  let selected = argument || null;

  function query() {
    const q = new URLSearchParams();
    if (status.value) q.set("status", status.value);
    if (overdueOnly.checked) q.set("overdue", "true");
    if (unitFilter.value) q.set("unit", unitFilter.value);
    return q;
  }

  async function load() {
    const q = query();
    csv.href = "/api/tickets.csv?" + q.toString();
    q.set("limit", "200");
    q.set("total", "true");
    try {
      const page = await api.get("/api/tickets?" + q.toString());
      items = page.items;
      count.textContent = `${t("orders.count")} ${page.total}` + (page.total > items.length ? ` · ${t("orders.first")} ${items.length}` : "");
      render();
    } catch (error) {
      list.replaceChildren(el("p", { class: "error", id: "orders-error" }, t("error.generic") + error.message));
    }
  }

  function clock(order, now) {
    const due = deadline(order);
    if (!due) return el("td", { class: "clock" }, "–");
    const left = (new Date(due) - now) / 1000;
    return el("td", { class: left < 0 ? "clock error" : "clock" },
      left < 0 ? `${t("orders.late")} ${duration(-left)}` : `${t("orders.left")} ${duration(left)}`);
  }

  function render() {
    const now = new Date();
    list.replaceChildren(items.length === 0 ? el("p", { class: "hint", id: "orders-none", "data-i18n": "orders.none" })
      : el("table", { class: "list", id: "orders-table" },
        el("thead", {}, el("tr", {}, ...["wo.id", "wo.accepted", "wo.subject", "wo.category", "wo.unit", "wo.status", "orders.clock"]
          .map((k) => el("th", { "data-i18n": k })))),
        el("tbody", {}, ...ordered(items, now).map((o) => {
          const row = el("tr", { "data-order": o.id, class: "clickable" + (overdue(o, now) ? " overdue" : "") + (o.id === selected ? " selected" : "") },
            el("td", {}, o.id), el("td", {}, when(o.accepted_at)), el("td", {}, o.subject || "–"),
            el("td", { "data-i18n": o.category ? `cat.${o.category}` : "wo.none" }),
            el("td", {}, unitNames.get(o.unit) || o.unit || "–"),
            el("td", { "data-i18n": `status.${o.status}` }), clock(o, now));
          row.addEventListener("click", () => { location.hash = `#/orders/${encodeURIComponent(o.id)}`; });
          return row;
        }))));
    translate(list);
  }

  async function open(id) {
    selected = id;
    if (!id) {
      detail.replaceChildren(el("p", { class: "hint", "data-i18n": "orders.pick" }));
      translate(detail);
      return;
    }
    try {
      const file = await api.get(`/api/tickets/${encodeURIComponent(id)}`);
      showDetail(file);
    } catch (error) {
      detail.replaceChildren(el("h2", {}, id), el("p", { class: "error", id: "order-error" }, t("error.generic") + error.message));
    }
    render();
  }

  function showDetail(file) {
    const o = file.work_order;
    const field = (key, value, id) => el("div", { class: "field" }, el("span", { class: "label", "data-i18n": key }), el("span", { id }, value));
    const note = el("input", { id: "act-note", placeholder: t("orders.note") });
    const target = el("select", { id: "act-unit" });
    const score = el("select", { id: "act-score" }, ...[5, 4, 3, 2, 1].map((s) => el("option", { value: String(s) }, String(s))));
    const reason = el("input", { id: "act-reason", placeholder: t("orders.reason") });
    const result = el("p", { id: "act-status", class: "hint" });
    const allowed = file.allowed_events.filter((name) => (offered[session.role] || []).includes(name));
    const buttons = allowed.map((name) => {
      const button = el("button", { type: "button", "data-event": name, "data-i18n": `event.${name}` });
      button.addEventListener("click", async () => {
        const body = { kind: name, note: note.value || undefined };
        if (name === "signed") body.unit = o.unit;
        if (name === "dispatched") body.unit = target.value;
        if (name === "return_visit") body.score = Number(score.value);
        if (name === "reopened") body.reason = reason.value;
        try {
          await api.post(`/api/tickets/${encodeURIComponent(o.id)}/events`, body);
          await open(o.id);
          load();
        } catch (error) { result.textContent = t("error.generic") + error.message; }
      });
      return button;
    });
    if (allowed.includes("dispatched")) api.get("/api/units").then((data) => unitOptions(target, data.units.filter((u) => u.id !== o.unit), "")).catch(() => {});
    detail.replaceChildren(
      el("h2", {}, el("span", { "data-i18n": "wo.title" }), " ", el("span", { id: "order-id" }, o.id), " ",
        el("span", { class: "badge", id: "order-status", "data-i18n": `status.${o.status}` })),
      el("div", { class: "pop-grid" },
        field("wo.subject", o.subject || "–", "order-subject"), field("wo.category", o.category ? t(`cat.${o.category}`) : "–"),
        field("pop.caller", o.caller, "order-caller"), field("pop.line", o.business_line || "–"),
        field("wo.unit", unitNames.get(o.unit) || o.unit || "–", "order-unit"), field("wo.accepted", when(o.accepted_at)),
        field("orders.sign_deadline", when(o.sign_deadline)), field("orders.completion_deadline", when(o.completion_deadline))),
      el("p", { class: "details", id: "order-details" }, o.details || ""),
      el("h3", { "data-i18n": "orders.log" }),
      el("ol", { id: "order-events", class: "steps" }, ...file.events.map((e) => el("li", { "data-kind": e.kind },
        el("span", { class: "at" }, when(e.at)), " ", el("span", { "data-i18n": `event.${e.kind}` }),
        e.unit ? ` · ${unitNames.get(e.unit) || e.unit}` : "", ` · ${e.actor}`, e.note ? ` · ${e.note}` : ""))),
      allowed.length === 0 ? el("p", { class: "hint", id: "order-no-actions", "data-i18n": "orders.noactions" })
        : el("div", { id: "order-actions", class: "stack" },
          el("div", { class: "levers" }, ...buttons),
          note,
          allowed.includes("dispatched") ? el("label", {}, el("span", { "data-i18n": "orders.to" }), target) : "",
          allowed.includes("return_visit") ? el("label", {}, el("span", { "data-i18n": "orders.score" }), score) : "",
          allowed.includes("reopened") ? reason : "",
          result));
    translate(detail);
  }

  for (const control of [status, overdueOnly, unitFilter]) control.addEventListener("change", load);
  refresh.addEventListener("click", () => { load(); if (selected) open(selected); });
  // Each second the clocks tick in place; the rows are rebuilt only when the order changes
  // (a work order falling overdue moves up), so a row is never replaced under the pointer.
  function tick() {
    if (!items.length) return;
    const now = new Date();
    const rows = [...list.querySelectorAll("#orders-table tbody tr")];
    const order = ordered(items, now);
    if (rows.length !== order.length || rows.some((row, i) => row.dataset.order !== order[i].id)) return render();
    rows.forEach((row, i) => {
      const fresh = clock(order[i], now);
      const cell = row.querySelector("td.clock");
      if (cell.textContent !== fresh.textContent) cell.textContent = fresh.textContent;
      if (cell.className !== fresh.className) cell.className = fresh.className;
      row.classList.toggle("overdue", overdue(order[i], now));
    });
  }
  const timer = setInterval(tick, 1000);

  api.get("/api/units").then((data) => {
    for (const u of data.units) unitNames.set(u.id, u.name);
    unitOptions(unitFilter, data.units, t("orders.allunits"));
    render();
  }).catch(() => {});
  translate(main);
  load();
  open(selected);
  return () => clearInterval(timer);
}
