// Building elements without HTML strings: whatever a caller or an agent typed stays text.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** 0:07, 3:05, 1:02:03 */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? `${h}:` : "") + `${mm}:${String(r).padStart(2, "0")}`;
}

export function percent(value) {
  return value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`;
}

/** A live feed (server-sent events; the contact centre's by default); calls back with each snapshot. */
export function liveFeed(onSnapshot, path = "/api/events", name = "contact_centre") {
  const indicator = document.getElementById("live");
  const source = new EventSource(path);
  source.addEventListener(name, (event) => {
    indicator.dataset.state = "on";
    indicator.textContent = "● " + (document.documentElement.lang === "en" ? "Live" : "实时");
    onSnapshot(JSON.parse(event.data));
  });
  source.addEventListener("error", () => {
    indicator.dataset.state = "off";
    indicator.textContent = "○ " + (document.documentElement.lang === "en" ? "Disconnected" : "已断开");
  });
  return () => source.close();
}

/** A local date and time, short: 12-05 14:03. */
export function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, "0");
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A <select> of the unit tree, indented by depth; `units` as /api/units gives them. */
export function unitOptions(select, units, placeholder) {
  const children = new Map();
  for (const u of units) {
    const key = u.parent || "";
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(u);
  }
  const options = placeholder ? [el("option", { value: "" }, placeholder)] : [];
  const ids = new Set(units.map((u) => u.id));
  const walk = (parent, depth) => {
    for (const u of children.get(parent) || []) {
      options.push(el("option", { value: u.id }, "\u3000".repeat(depth) + u.name));
      walk(u.id, depth + 1);
    }
  };
  // Roots: no parent, or a parent outside the list (a unit clerk's own subtree).
  for (const u of units) if (!u.parent || !ids.has(u.parent)) { options.push(el("option", { value: u.id }, u.name)); walk(u.id, 1); }
  select.replaceChildren(...options);
}
