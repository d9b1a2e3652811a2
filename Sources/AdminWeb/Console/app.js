// The console's shell: sign-in, navigation by #hash, language, full screen. Every page is a
// module with mount(element) returning its unmount; all text goes in through textContent.
import * as api from "./api.js";
import { t, lang, setLang, translate } from "./i18n.js";
import { el } from "./dom.js";
import * as wallboard from "./wallboard.js";
import * as seats from "./seats.js";
import * as dialplans from "./dialplans.js";
import * as desk from "./desk.js";
import * as orders from "./orders.js";
import * as kpis from "./kpis.js";

const pages = {
  wallboard: { module: wallboard, roles: ["admin", "auditor"] },
  seats: { module: seats, roles: ["admin", "auditor"] },
  dialplans: { module: dialplans, roles: ["admin", "auditor"] },
  desk: { module: desk, roles: ["agent"] },
  orders: { module: orders, roles: ["unit_staff", "admin", "auditor"] },
  kpis: { module: kpis, roles: ["admin", "auditor", "unit_staff"] },
};
let unmount = null;

function navigation(session) {
  const nav = document.getElementById("nav");
  nav.replaceChildren();
  for (const [name, page] of Object.entries(pages)) {
    if (!page.roles.includes(session.role)) continue;
    nav.append(el("a", { href: `#/${name}`, id: `nav-${name}`, "data-i18n": `nav.${name}` }));
  }
  translate(nav);
}

function showSignIn(message) {
  document.getElementById("bar").hidden = true;
  const main = document.getElementById("main");
  const input = el("input", { id: "token", type: "password", autocomplete: "current-password" });
  const status = el("p", { id: "signin-error", class: "error" }, message || "");
  const form = el("form", { id: "signin", class: "card signin" },
    el("h1", { "data-i18n": "signin.title" }),
    el("label", { for: "token", "data-i18n": "signin.token" }), input,
    el("p", { class: "hint", "data-i18n": "signin.hint" }),
    el("button", { type: "submit", id: "signin-submit", "data-i18n": "signin.submit" }),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.signIn(input.value);
      start();
    } catch (error) {
      status.textContent = t("signin.failed") + error.message;
    }
  });
  main.replaceChildren(el("div", { class: "lang-corner" }, langButton()), form);
  translate(main);
  input.focus();
}

function langButton() {
  const button = el("button", { type: "button", class: "link", id: "lang-corner" }, t("lang.other"));
  button.addEventListener("click", () => { setLang(lang === "zh" ? "en" : "zh"); route(); });
  return button;
}

function route() {
  const session = api.current();
  if (!session) return showSignIn();
  const allowed = Object.keys(pages).filter((name) => pages[name].roles.includes(session.role));
  // #/page or #/page/argument (a work order's number).
  const [first, ...rest] = location.hash.replace(/^#\//, "").split("/");
  const name = first || allowed[0];
  const argument = decodeURIComponent(rest.join("/"));
  if (unmount) { unmount(); unmount = null; }
  const main = document.getElementById("main");
  document.getElementById("bar").hidden = false;
  document.getElementById("lang").textContent = t("lang.other");
  document.getElementById("who").textContent = `${session.name} · ${t("role." + session.role)}`;
  for (const link of document.querySelectorAll("#nav a")) link.classList.toggle("active", link.getAttribute("href") === `#/${name}`);
  if (!pages[name] || !pages[name].roles.includes(session.role)) {
    main.replaceChildren(el("p", { class: "error", id: "forbidden" }, t(allowed.length ? "error.forbidden" : "error.nopages")));
    return;
  }
  document.body.dataset.page = name;
  unmount = pages[name].module.mount(main, argument);
  translate(document);
}

async function start() {
  const session = api.current() || await api.resume();
  if (!session) return showSignIn();
  navigation(session);
  route();
}

document.getElementById("lang").addEventListener("click", () => { setLang(lang === "zh" ? "en" : "zh"); route(); });
document.getElementById("signout").addEventListener("click", async () => {
  if (unmount) { unmount(); unmount = null; }
  await api.signOut();
  location.hash = "";
  showSignIn();
});
document.getElementById("fullscreen").addEventListener("click", () => {
  if (document.fullscreenElement) document.exitFullscreen(); else document.documentElement.requestFullscreen();
});
window.addEventListener("hashchange", route);
setLang(lang);
start();
