// Starts the training worker: load wasm-bindgen's no-modules glue, then the worker's wasm.
// `worker_loader.js?build=cpu` loads the CPU-only build (no WebGPU code: a far smaller
// download), `worker_loader.js` the WebGPU build; the page picks by asking for an adapter.
// (Trunk's own loader shim uses an initialisation form wasm-bindgen reports as deprecated.)
// A failure to load becomes a message the page shows, never a silent blank.
const build = new URLSearchParams(self.location.search).get("build") === "cpu" ? "worker_cpu" : "worker";
try {
  importScripts(`./${build}.js`);
  wasm_bindgen({ module_or_path: `./${build}_bg.wasm` }).catch((err) => {
    postMessage({ type: "error", message: `could not load the training code: ${err}`, fatal: true });
  });
} catch (err) {
  postMessage({ type: "error", message: `could not load the training code: ${err}`, fatal: true });
}
