// The agent desk: the agent's state and levers (log in, pause with a reason, log out: what the
// feature codes do), the screen pop of the call ringing or connected (pushed by the server on
// every ACD change), the caller's earlier work orders, the work-order form filed to the call's
// work order while talking, the wrap-up countdown, and the agent's calls today.
import * as api from "./api.js";
import { t, translate } from "./i18n.js";
import { el, duration, liveFeed, when, unitOptions } from "./dom.js";

const pauseReasons = ["break", "lunch", "training", "meeting", "after_call"];
const categories = ["consultation", "complaint", "help", "suggestion", "report"];

export function mount(main) {
  const state = el("span", { id: "desk-state", class: "badge" });
  const countdown = el("span", { id: "desk-wrapup", class: "hint" });
  const reason = el("select", { id: "pause-reason" }, ...pauseReasons.map((r) => el("option", { value: r, "data-i18n": `pause.${r}` })));
  const message = el("span", { id: "desk-message", class: "hint" });
  const lever = (id, path, body) => {
    const button = el("button", { type: "button", id, "data-i18n": `desk.${id.replace("desk-", "")}` });
    button.addEventListener("click", async () => {
      try {
        render(await api.post(path, body ? body() : undefined));
        message.textContent = "";
      } catch (error) { message.textContent = t("error.generic") + error.message; }
    });
    return button;
  };
  const levers = el("div", { class: "levers" },
    lever("desk-login", "/api/desk/login"),
    reason, lever("desk-pause", "/api/desk/pause", () => ({ reason: reason.value })),
    lever("desk-unpause", "/api/desk/unpause"),
    lever("desk-logout", "/api/desk/logout"), message);

  const pop = el("section", { id: "desk-pop", class: "card" });
  const history = el("section", { id: "desk-history", class: "card" });
  const calls = el("section", { id: "desk-calls", class: "card" });

  // The work-order form.
  const category = el("select", { id: "wo-category" }, ...categories.map((c) => el("option", { value: c, "data-i18n": `cat.${c}` })));
  const subject = el("input", { id: "wo-subject", maxlength: "200" });
  const description = el("textarea", { id: "wo-description", rows: "5", maxlength: "10000" });
  const resolution = el("select", { id: "wo-resolution" },
    ...["pending", "answered_directly", "dispatched"].map((r) => el("option", { value: r, "data-i18n": `res.${r}` })));
  const unit = el("select", { id: "wo-unit" });
  const unitRow = el("label", { class: "unit-row" }, el("span", { "data-i18n": "wo.unit" }), unit);
  const status = el("p", { id: "wo-status", class: "hint" });
  const save = el("button", { type: "submit", id: "wo-save", "data-i18n": "wo.save" });
  const form = el("form", { id: "wo-form", class: "card stack" },
    el("h2", { "data-i18n": "wo.title" }), el("p", { id: "wo-call", class: "hint" }),
    el("label", {}, el("span", { "data-i18n": "wo.category" }), category),
    el("label", {}, el("span", { "data-i18n": "wo.subject" }), subject),
    el("label", {}, el("span", { "data-i18n": "wo.description" }), description),
    el("label", {}, el("span", { "data-i18n": "wo.resolution" }), resolution),
    unitRow, el("div", {}, save), status);
  const showUnit = () => { unitRow.hidden = resolution.value !== "dispatched"; };
  resolution.addEventListener("change", showUnit);
  showUnit();

  main.replaceChildren(
    el("div", { class: "page-head" }, el("h1", { "data-i18n": "desk.title" }), state, countdown),
    levers,
    el("div", { class: "desk-row" }, el("div", { class: "stack" }, pop, history), form),
    calls);

  let current = null; // the ticket the form is for
  let wrapUpEnds = null;
  let lastState = null;
  let mounted = true;

  api.get("/api/units").then((data) => unitOptions(unit, data.units, "")).catch(() => {});

  function renderPop(call, live) {
    if (!call) {
      pop.replaceChildren(el("h2", { "data-i18n": "desk.pop" }), el("p", { class: "hint", id: "pop-none", "data-i18n": "desk.nocall" }));
      return;
    }
    const row = (key, id, value) => el("div", { class: "field" }, el("span", { class: "label", "data-i18n": key }), el("span", { id }, value));
    pop.replaceChildren(
      el("h2", {}, el("span", { "data-i18n": "desk.pop" }), " ",
        el("span", { id: "pop-live", class: live ? "badge live-call" : "badge" }, t(live ? `call.${live}` : "call.ended"))),
      el("div", { class: "pop-grid" },
        row("pop.caller", "pop-caller", call.caller),
        row("pop.name", "pop-name", call.caller_name || "–"),
        row("pop.line", "pop-line", call.business_line || "–"),
        row("pop.path", "pop-path", (call.menu_path || []).join(" › ") || "–"),
        row("pop.keys", "pop-keys", call.keys || "–"),
        row("pop.queue", "pop-queue", call.queue ? `${call.queue} · ${duration(call.wait_seconds)}` : "–"),
        row("pop.ticket", "pop-ticket", call.ticket || "–"),
        row("pop.arrived", "pop-arrived", when(call.arrived_at))));
  }

  function renderHistory(orders) {
    history.replaceChildren(el("h2", { "data-i18n": "desk.history" }),
      orders.length === 0 ? el("p", { class: "hint", id: "history-none", "data-i18n": "desk.nohistory" })
        : el("table", { class: "list", id: "history-list" },
          el("thead", {}, el("tr", {}, ...["wo.id", "wo.accepted", "wo.subject", "wo.status", "wo.unit"].map((k) => el("th", { "data-i18n": k })))),
          el("tbody", {}, ...orders.map((o) => el("tr", { "data-order": o.id },
            el("td", {}, o.id), el("td", {}, when(o.accepted_at)), el("td", {}, o.subject || "–"),
            el("td", { "data-i18n": `status.${o.status}` }), el("td", {}, o.unit || "–"))))));
    translate(history);
  }

  /** Opens a call's file: its pop (if not live), its work order into the form, the caller's history. */
  async function open(ticket, live) {
    current = ticket;
    document.getElementById("wo-call").textContent = ticket ? `${t("pop.ticket")}: ${ticket}` : "";
    status.textContent = "";
    if (!ticket) return;
    try {
      const file = await api.get(`/api/desk/calls/${encodeURIComponent(ticket)}`);
      if (current !== ticket) return;
      if (!live) renderPop(file.call, null);
      renderHistory(file.earlier_work_orders);
      const order = file.work_order;
      category.value = (order && order.category) || file.call.category || "consultation";
      subject.value = (order && order.subject) || "";
      description.value = (order && order.details) || "";
      if (order) status.textContent = `${t("wo.saved")} ${order.id} · ${t("status." + order.status)}`;
      translate(pop);
    } catch (error) { status.textContent = t("error.generic") + error.message; }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!current) { status.textContent = t("wo.nocall"); return; }
    try {
      const order = await api.post(`/api/desk/calls/${encodeURIComponent(current)}/work-order`, {
        category: category.value, subject: subject.value, description: description.value,
        resolution: resolution.value, unit: resolution.value === "dispatched" ? unit.value : undefined,
      });
      status.textContent = `${t("wo.saved")} ${order.id} · ${t("status." + order.status)}`;
      status.dataset.order = order.id;
      loadCalls();
    } catch (error) { status.textContent = t("error.generic") + error.message; }
  });

  /** Reloads the list; `expect` is a call that just ended, retried for a few seconds until its end is stored. */
  async function loadCalls(expect, attempt = 0) {
    try {
      const data = await api.get("/api/desk/calls");
      if (mounted && expect && attempt < 5 && !data.calls.some((c) => c.ticket === expect)) {
        setTimeout(() => loadCalls(expect, attempt + 1), 1000);
      }
      calls.replaceChildren(el("h2", { "data-i18n": "desk.calls" }),
        data.calls.length === 0 ? el("p", { class: "hint", "data-i18n": "desk.nocalls" })
          : el("table", { class: "list", id: "calls-list" },
            el("thead", {}, el("tr", {}, ...["pop.arrived", "pop.caller", "pop.line", "desk.talk", "wo.id", "wo.status"].map((k) => el("th", { "data-i18n": k })))),
            el("tbody", {}, ...data.calls.map((c) => {
              const row = el("tr", { "data-call": c.ticket, class: "clickable" },
                el("td", {}, when(c.arrived_at)), el("td", {}, c.caller), el("td", {}, c.business_line || "–"),
                el("td", {}, duration(c.talk_seconds)), el("td", {}, c.work_order || "–"),
                el("td", { "data-i18n": c.work_order_status ? `status.${c.work_order_status}` : "wo.none" }));
              row.addEventListener("click", () => open(c.ticket, null));
              return row;
            }))));
      translate(calls);
    } catch (error) { calls.replaceChildren(el("p", { class: "error" }, t("error.generic") + error.message)); }
  }

  function render(desk) {
    const agent = desk.agent;
    state.dataset.state = agent.state;
    state.textContent = t(`state.${agent.state}`) + (agent.pause_reason ? ` · ${t("pause." + agent.pause_reason)}` : "");
    wrapUpEnds = desk.wrap_up_left_seconds !== null ? Date.now() + desk.wrap_up_left_seconds * 1000 : null;
    tick();
    if (desk.call) {
      renderPop(desk.call, desk.call_state);
      if (desk.call.ticket && desk.call.ticket !== current) open(desk.call.ticket, desk.call_state);
    } else if (!current) {
      renderPop(null);
    } else if (lastState === "on_call" || lastState === "reserved") {
      // The call ended: the pop stays for the form, marked ended.
      const badge = document.getElementById("pop-live");
      if (badge) { badge.textContent = t("call.ended"); badge.className = "badge"; }
    }
    if (lastState !== agent.state && (lastState === "on_call" || agent.state === "wrap_up")) loadCalls(current);
    lastState = agent.state;
    translate(main);
  }

  function tick() {
    countdown.textContent = wrapUpEnds ? `${t("desk.wrapup")} ${duration((wrapUpEnds - Date.now()) / 1000)}` : "";
  }
  const timer = setInterval(tick, 250);

  renderPop(null);
  renderHistory([]);
  loadCalls();
  translate(main);
  const stop = liveFeed(render, "/api/desk/events", "desk");
  return () => { mounted = false; clearInterval(timer); stop(); };
}
