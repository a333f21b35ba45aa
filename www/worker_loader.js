// Starts the training worker: load wasm-bindgen's no-modules glue, then the worker's wasm.
// `worker_loader.js?build=cpu` loads the CPU-only build (no WebGPU code: a far smaller
// download), `worker_loader.js` the WebGPU build; the page picks by asking for an adapter.
// (Trunk's own loader shim uses an initialisation form wasm-bindgen reports as deprecated.)
// A failure to load becomes a message the page shows, never a silent blank.
// A lost WebGPU device (a driver reset, the GPU process gone, a test hook calling `destroy()` on
// `self.__ppGpuDevice`) must not leave a run waiting on read-backs that never come: every
// device the training code asks for is watched, and its loss becomes a fatal error, which the
// page answers by restarting on the CPU and saying why. (burn asks for the device inside its
// runtime, so the watch goes on the adapter's `requestDevice`.)
if (self.GPUAdapter && GPUAdapter.prototype.requestDevice) {
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    const device = await requestDevice.apply(this, args);
    self.__ppGpuDevice = device;
    device.lost.then((info) => {
      postMessage({ type: "error", message: `the WebGPU device was lost (${info.reason || "unknown"}: ${info.message || "no details"})`, fatal: true });
    });
    return device;
  };
}
const build = new URLSearchParams(self.location.search).get("build") === "cpu" ? "worker_cpu" : "worker";
try {
  importScripts(`./${build}.js`);
  wasm_bindgen({ module_or_path: `./${build}_bg.wasm` }).catch((err) => {
    postMessage({ type: "error", message: `could not load the training code: ${err}`, fatal: true });
  });
} catch (err) {
  postMessage({ type: "error", message: `could not load the training code: ${err}`, fatal: true });
}
