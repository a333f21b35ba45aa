//! The page's entry point (wasm): mount the Leptos app. Natively a no-op so `cargo test`
//! builds every target.

#[cfg(target_arch = "wasm32")]
fn main() {
    pretrain_playground::shell::run_static_constructors();
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(pretrain_playground::shell::app::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
