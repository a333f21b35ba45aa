//! The training worker's entry point (wasm): install the message handler. Natively a no-op.

#[cfg(target_arch = "wasm32")]
fn main() {
    pretrain_playground::shell::run_static_constructors();
    // The worker installs its own panic hook (it logs, then tells the page).
    pretrain_playground::shell::worker::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
