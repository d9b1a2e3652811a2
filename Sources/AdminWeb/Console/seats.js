// Seats and agents: licensed seats (raised live, for the whole cluster), who is logged in,
// on site or at home, reachable or not. Pushed like the wallboard.
import * as api from "./api.js";
import { t, translate } from "./i18n.js";
import { el, duration, liveFeed } from "./dom.js";

export function mount(main) {
  const summary = el("section", { id: "seats", class: "card" });
  const table = el("section", { id: "agent-list", class: "card" });
  const input = el("input", { id: "licensed", type: "number", min: "0", max: "100000" });
  const status = el("span", { id: "seats-status", class: "hint" });
  const form = el("form", { id: "seats-form", class: "inline" }, el("label", { for: "licensed", "data-i18n": "seats.licensed" }), input,
    el("button", { type: "submit", "data-i18n": "seats.set" }), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.put("/api/seats", { licensed: Number(input.value) });
      status.textContent = t("seats.saved");
    } catch (error) {
      status.textContent = t("error.generic") + error.message;
    }
  });
  const canChange = api.current().role === "admin";
  main.replaceChildren(el("div", { class: "page-head" }, el("h1", { "data-i18n": "seats.title" })), summary, table);
  let edited = false;
  input.addEventListener("input", () => { edited = true; });

  function render(snapshot) {
    const seats = snapshot.seats;
    if (seats && !edited) input.value = seats.licensed;
    summary.replaceChildren(
      el("div", { class: "metrics" },
        el("div", { class: "metric" }, el("div", { class: "label", "data-i18n": "seats.licensed" }),
          el("div", { class: "value", id: "seats-licensed" }, seats ? seats.licensed : "–")),
        el("div", { class: "metric" }, el("div", { class: "label", "data-i18n": "seats.loggedin" }),
          el("div", { class: "value", id: "seats-logged-in" }, seats ? seats.logged_in : "–")),
        el("div", { class: "metric" }, el("div", { class: "label", "data-i18n": "seats.remote" }),
          el("div", { class: "value", id: "seats-remote" }, seats ? seats.remote : "–"))),
      canChange ? form : "");
    table.replaceChildren(el("table", { class: "list" },
      el("thead", {}, el("tr", {}, ...["id", "name", "seat", "state", "since", "reachable", "skills"]
        .map((k) => el("th", { "data-i18n": `agents.${k}` })))),
      el("tbody", {}, ...snapshot.agents.map((a) => el("tr", { "data-agent": a.id },
        el("td", {}, a.id), el("td", {}, a.name), el("td", { "data-i18n": `seat.${a.seat}` }),
        el("td", { class: `state ${a.state}`, "data-i18n": `state.${a.state}` }),
        el("td", {}, duration(a.time_in_state_seconds)),
        el("td", { class: a.reachable ? "ok" : "error", "data-i18n": a.reachable ? "agents.yes" : "agents.no" }),
        el("td", {}, Object.entries(a.skills).map(([s, level]) => `${s}:${level}`).join(" ")))))));
    translate(main);
  }
  return liveFeed(render);
}
