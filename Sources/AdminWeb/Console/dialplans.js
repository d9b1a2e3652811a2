// 方案编辑 Dialplan editor: the YAML with highlighting (CodeMirror from libjs-codemirror); every
// issue of `hotline dialplan check` marked at its line and column as the admin types; simulate a
// call (keys, time, caller) through the draft; the flow drawn (Graphviz); publish (refused with
// its issues), versions with a diff against the draft, rollback.
import * as api from "./api.js";
import { t, translate } from "./i18n.js";
import { el } from "./dom.js";
import { codemirror } from "./vendor.js";
import { lineDiff } from "./diff.js";

async function text(method, path, body, type) {
  const session = api.current();
  const headers = {};
  if (type) headers["Content-Type"] = type;
  if (method !== "GET" && session) headers["X-CSRF-Token"] = session.csrf_token;
  const response = await fetch(path, { method, headers, body, credentials: "same-origin" });
  return { status: response.status, type: response.headers.get("Content-Type") || "", body: await response.text() };
}

export function mount(main) {
  let name = null, editor = null, checkTimer = null, checkSeq = 0, annotations = [];
  const canChange = api.current().role === "admin";
  const title = el("h1", { "data-i18n": "dp.title" });
  const version = el("span", { id: "dp-version", class: "updated" });
  const status = el("span", { id: "dp-status", class: "hint" });
  const publish = el("button", { type: "button", id: "dp-publish", "data-i18n": "dp.publish" });
  const host = el("div", { id: "dp-editor", class: "editor" });
  const issues = el("ol", { id: "dp-issues", class: "issues" });
  const side = el("section", { class: "card side" });
  const tabs = el("nav", { class: "tabs" });
  main.replaceChildren(
    el("div", { class: "page-head" }, title, version, el("span", { class: "spacer" }), canChange ? publish : "", status),
    el("div", { class: "editor-row" }, el("section", { class: "card" }, host, issues), el("div", {}, tabs, side)));

  // --- issues as the admin types
  function showIssues(found) {
    annotations = found.map((issue) => ({
      from: window.CodeMirror ? window.CodeMirror.Pos(issue.line - 1, Math.max(0, issue.column - 1)) : null,
      to: window.CodeMirror ? window.CodeMirror.Pos(issue.line - 1, Math.max(1, issue.column)) : null,
      message: `${issue.message}${issue.hint ? " — " + issue.hint : ""}`,
      severity: issue.severity === "error" ? "error" : "warning",
    }));
    issues.replaceChildren(...found.map((issue) => {
      const item = el("li", { class: `issue ${issue.severity}`, "data-line": issue.line, "data-column": issue.column, "data-code": issue.code },
        el("a", { href: "#" }, `${issue.line}:${issue.column}`), ` ${issue.severity}: ${issue.message}`,
        issue.hint ? el("span", { class: "hint" }, ` (${issue.hint})`) : "");
      item.querySelector("a").addEventListener("click", (event) => {
        event.preventDefault();
        if (editor) { editor.focus(); editor.setCursor(issue.line - 1, issue.column - 1); }
      });
      return item;
    }));
    if (found.length === 0) issues.append(el("li", { class: "issue ok", id: "dp-clean", "data-i18n": "dp.clean" }));
    translate(issues);
    if (editor) editor.performLint();
  }

  async function check() {
    const seq = ++checkSeq;
    const answer = await text("POST", `/api/dialplans/${name}/check`, draft(), "application/yaml");
    if (seq !== checkSeq) return; // a newer draft is being checked
    const result = JSON.parse(answer.body);
    showIssues(result.issues || []);
  }
  const draft = () => (editor ? editor.getValue() : "");
  function scheduleCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(check, 300);
  }

  // --- the side panel: simulate, flow, versions
  const panels = {
    simulate: () => {
      const number = el("input", { id: "sim-number", value: "12345", size: 8 });
      const keys = el("input", { id: "sim-keys", placeholder: "1,3", size: 10 });
      const time = el("input", { id: "sim-time", placeholder: "2026-12-01T20:00+08:00", size: 22 });
      const caller = el("input", { id: "sim-caller", value: "13800000000", size: 12 });
      const steps = el("ol", { id: "sim-steps", class: "steps" });
      const outcome = el("p", { id: "sim-outcome" });
      const form = el("form", { class: "stack" },
        el("label", {}, el("span", { "data-i18n": "dp.number" }), number),
        el("label", {}, el("span", { "data-i18n": "dp.keys" }), keys),
        el("label", {}, el("span", { "data-i18n": "dp.time" }), time),
        el("label", {}, el("span", { "data-i18n": "dp.caller" }), caller),
        el("button", { type: "submit", id: "sim-run", "data-i18n": "dp.simulate" }));
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const answer = await text("POST", `/api/dialplans/${name}/simulate`, JSON.stringify({
          yaml: draft(), number: number.value, keys: keys.value, time: time.value || undefined, caller: caller.value,
        }), "application/json");
        const result = JSON.parse(answer.body);
        if (answer.status !== 200) {
          outcome.textContent = result.error || (result.errors || []).map((e) => `${e.line}:${e.column} ${e.message}`).join("; ");
          steps.replaceChildren();
          return;
        }
        outcome.textContent = `${result.result.outcome} · ${t("dp.path")} ${result.result.menu_path.join(" → ")}`;
        steps.replaceChildren(...result.steps.map((s) => el("li", { class: s.kind }, el("span", { class: "at" }, `${s.seconds.toFixed(1)}s`), ` ${s.text}`)));
      });
      return [form, outcome, steps];
    },
    flow: () => {
      const image = el("img", { id: "dp-flow", alt: "flow" });
      const note = el("p", { class: "hint" });
      text("POST", `/api/dialplans/${name}/graph`, draft(), "application/yaml").then((answer) => {
        if (answer.status !== 200) { note.textContent = JSON.parse(answer.body).error || answer.body; return; }
        // A data: URL in an <img>: the SVG is drawn, never run.
        image.src = "data:image/svg+xml;base64," + btoa(unescape(encodeURIComponent(answer.body)));
      });
      return [note, el("div", { class: "flow" }, image)];
    },
    versions: () => {
      const list = el("table", { id: "dp-versions", class: "list" });
      const diff = el("pre", { id: "dp-diff", class: "diff" });
      api.get(`/api/dialplans/${name}/versions`).then((versions) => {
        list.replaceChildren(...versions.slice().reverse().map((v) => {
          const show = el("button", { type: "button", class: "link", "data-i18n": "dp.diff" });
          show.addEventListener("click", async () => {
            const old = await text("GET", `/api/dialplans/${name}/versions/${encodeURIComponent(v.version)}`);
            diff.replaceChildren(...lineDiff(old.body, draft()).filter(([op]) => op !== " ").map(([op, line]) =>
              el("div", { class: op === "+" ? "added" : "removed" }, `${op} ${line}`)));
            if (!diff.children.length) diff.textContent = t("dp.same");
          });
          const rollback = el("button", { type: "button", class: "link", "data-i18n": "dp.rollback", "data-version": v.version });
          rollback.addEventListener("click", async () => {
            const answer = await text("POST", `/api/dialplans/${name}/rollback?version=${encodeURIComponent(v.version)}`);
            status.textContent = answer.status === 200 ? `${t("dp.rolledback")} ${v.version}` : answer.body;
            await load();
          });
          return el("tr", { "data-version": v.version }, el("td", {}, v.version + (v.active ? " ●" : "")),
            el("td", {}, new Date(v.published_at).toLocaleString()), el("td", {}, show), el("td", {}, canChange && !v.active ? rollback : ""));
        }));
        translate(list);
      });
      return [list, diff];
    },
  };
  let current = "simulate";
  function showPanel(which) {
    current = which;
    for (const link of tabs.children) link.classList.toggle("active", link.dataset.panel === which);
    side.replaceChildren(...panels[which]());
    translate(side);
  }
  tabs.replaceChildren(...Object.keys(panels).map((which) => {
    const link = el("button", { type: "button", class: "tab", "data-panel": which, id: `tab-${which}`, "data-i18n": `dp.${which}` });
    link.addEventListener("click", () => showPanel(which));
    return link;
  }));

  publish.addEventListener("click", async () => {
    const answer = await text("PUT", `/api/dialplans/${name}`, draft(), "application/yaml");
    const result = JSON.parse(answer.body);
    if (answer.status === 200) {
      status.textContent = `${t("dp.published")} ${result.version}`;
      version.textContent = result.version;
      if (current === "versions") showPanel("versions");
    } else {
      status.textContent = t("dp.refused");
      if (result.errors) showIssues(result.errors);
      else status.textContent += " " + (result.error || answer.body);
    }
  });

  async function load() {
    const plans = await api.get("/api/dialplans");
    name = plans[0].name;
    version.textContent = `${name} · ${plans[0].version}`;
    const source = await text("GET", `/api/dialplans/${name}`);
    if (editor) editor.setValue(source.body); else host.textContent = source.body;
    await check();
    showPanel(current);
  }

  let closed = false;
  codemirror().then((CodeMirror) => {
    if (closed) return;
    CodeMirror.registerHelper("lint", "yaml-hotline", () => annotations);
    editor = CodeMirror(host, {
      mode: "yaml", lineNumbers: true, indentUnit: 2, tabSize: 2, readOnly: !canChange,
      extraKeys: { Tab: (cm) => cm.replaceSelection("  ") },
      gutters: ["CodeMirror-lint-markers"], lint: { getAnnotations: () => annotations, lintOnChange: false },
    });
    editor.on("change", scheduleCheck);
    window.hotlineEditor = editor; // for tests and the browser console
    load();
  }, (error) => { status.textContent = error.message; });
  translate(main);
  return () => { closed = true; clearTimeout(checkTimer); delete window.hotlineEditor; };
}
