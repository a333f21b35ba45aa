//! The CPU-only training worker (wasm): the worker of `worker.rs`, built without the `wgpu`
//! feature for browsers that grant no WebGPU adapter. Natively a no-op.

#[cfg(target_arch = "wasm32")]
fn main() {
    pretrain_playground::shell::run_static_constructors();
    // The worker installs its own panic hook (it logs, then tells the page).
    pretrain_playground::shell::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
