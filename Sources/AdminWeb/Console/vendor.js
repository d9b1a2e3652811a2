// Debian's front-end libraries (libjs-* packages, served at /vendor/): loaded once, on demand.
const loaded = new Map();

export function script(path) {
  if (!loaded.has(path)) {
    loaded.set(path, new Promise((resolve, reject) => {
      const element = document.createElement("script");
      element.src = `/vendor/${path}`;
      element.onload = resolve;
      element.onerror = () => reject(new Error(`${path} is not installed`));
      document.head.append(element);
    }));
  }
  return loaded.get(path);
}

export function stylesheet(path) {
  if (document.querySelector(`link[href="/vendor/${path}"]`)) return;
  const element = document.createElement("link");
  element.rel = "stylesheet";
  element.href = `/vendor/${path}`;
  document.head.append(element);
}

/** CodeMirror 5 with YAML and the lint gutter (libjs-codemirror). */
export async function codemirror() {
  stylesheet("codemirror/lib/codemirror.css");
  stylesheet("codemirror/addon/lint/lint.css");
  await script("codemirror/lib/codemirror.js");
  await Promise.all([script("codemirror/mode/yaml/yaml.js"), script("codemirror/addon/lint/lint.js")]);
  return window.CodeMirror;
}

/** Chart.js 3 (libjs-chart.js). */
export async function chart() {
  await script("chart.js/chart.min.js");
  return window.Chart;
}
