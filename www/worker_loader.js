// Starts the training worker: load wasm-bindgen's no-modules glue, then the worker's wasm.
// (Trunk's own loader shim uses an initialisation form wasm-bindgen reports as deprecated.)
// A failure to load becomes a message the page shows, never a silent blank.
try {
  importScripts("./worker.js");
  wasm_bindgen({ module_or_path: "./worker_bg.wasm" }).catch((err) => {
    postMessage({ type: "error", message: `could not load the training code: ${err}`, fatal: true });
  });
} catch (err) {
  postMessage({ type: "error", message: `could not load the training code: ${err}`, fatal: true });
}
