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

/** The contact centre's live feed (server-sent events); calls back with each snapshot. */
export function liveFeed(onSnapshot) {
  const indicator = document.getElementById("live");
  const source = new EventSource("/api/events");
  source.addEventListener("contact_centre", (event) => {
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
