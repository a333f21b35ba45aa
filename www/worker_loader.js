// Starts the training worker: load wasm-bindgen's no-modules glue, then the worker's wasm.
// (Trunk's own loader shim uses an initialisation form wasm-bindgen reports as deprecated.)
importScripts("./worker.js");
wasm_bindgen({ module_or_path: "./worker_bg.wasm" });
