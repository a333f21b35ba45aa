//! Choosing the device: ask the browser for a WebGPU adapter (the page does, to pick which
//! worker build to start; the worker does again), describe it, and initialise burn's wgpu
//! runtime on it; any failure on the way becomes a reason and the CPU. The CPU-only worker
//! build (without the `wgpu` feature) always answers with the CPU.
//! The WebGPU JS API is reached through `js_sys::Reflect` so the build needs no unstable
//! web-sys APIs.

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::core::backend::Backend;
use crate::core::summary::BackendKind;
use crate::protocol::{BackendInfo, BackendRequest};

fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn text(target: &JsValue, key: &str) -> String {
    get(target, key)
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn describe(err: &JsValue) -> String {
    err.as_string()
        .or_else(|| get(err, "message").and_then(|m| m.as_string()))
        .unwrap_or_else(|| format!("{err:?}"))
}

/// What the adapter says about itself.
#[cfg_attr(not(feature = "wgpu"), allow(dead_code))]
struct Adapter {
    name: String,
    software: bool,
}

async fn request_adapter() -> Result<Adapter, String> {
    let global = js_sys::global();
    let navigator = get(&global, "navigator").ok_or("the worker has no navigator")?;
    let gpu =
        get(&navigator, "gpu").ok_or("this browser has no WebGPU (navigator.gpu is missing)")?;
    let request = get(&gpu, "requestAdapter")
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or("navigator.gpu.requestAdapter is missing")?;
    let promise = request
        .call0(&gpu)
        .map_err(|e| format!("requestAdapter failed: {}", describe(&e)))?
        .dyn_into::<Promise>()
        .map_err(|_| "requestAdapter did not return a promise".to_string())?;
    let adapter = JsFuture::from(promise)
        .await
        .map_err(|e| format!("requestAdapter failed: {}", describe(&e)))?;
    if adapter.is_null() || adapter.is_undefined() {
        return Err("the browser granted no WebGPU adapter".into());
    }
    let info = get(&adapter, "info").unwrap_or(JsValue::UNDEFINED);
    let fallback_flag = get(&info, "isFallbackAdapter")
        .or_else(|| get(&adapter, "isFallbackAdapter"))
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let (vendor, architecture, description) = (
        text(&info, "vendor"),
        text(&info, "architecture"),
        text(&info, "description"),
    );
    let software = fallback_flag
        || architecture.eq_ignore_ascii_case("swiftshader")
        || vendor.eq_ignore_ascii_case("mesa") && architecture.contains("llvmpipe");
    let name = if !description.is_empty() {
        description
    } else if architecture.eq_ignore_ascii_case("swiftshader") {
        "SwiftShader".to_string()
    } else {
        [vendor, architecture]
            .iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    };
    Ok(Adapter {
        name: if name.is_empty() {
            "unnamed adapter".into()
        } else {
            name
        },
        software,
    })
}

/// Whether this browser grants a WebGPU adapter (the page asks before it picks a worker build).
pub async fn adapter_available() -> bool {
    request_adapter().await.is_ok()
}

fn cpu(reason: Option<String>) -> (Backend, BackendInfo) {
    let label = match &reason {
        Some(why) => format!("CPU (WebGPU unavailable: {why})"),
        None => "CPU (chosen in the URL)".to_string(),
    };
    let backend = Backend {
        label: label.clone(),
        ..Backend::cpu()
    };
    (
        backend,
        BackendInfo {
            kind: BackendKind::Cpu,
            label,
            fallback_reason: reason,
            software: true,
        },
    )
}

/// The device for this run: WebGPU when asked for and granted, else the CPU with the reason.
pub async fn choose_backend(request: BackendRequest) -> (Backend, BackendInfo) {
    if request == BackendRequest::Cpu {
        return cpu(None);
    }
    let adapter = match request_adapter().await {
        Ok(adapter) => adapter,
        Err(why) => return cpu(Some(why)),
    };
    #[cfg(not(feature = "wgpu"))]
    {
        let _ = adapter;
        cpu(Some("the page started the CPU build of the worker".into()))
    }
    #[cfg(feature = "wgpu")]
    webgpu(adapter).await
}

#[cfg(feature = "wgpu")]
async fn webgpu(adapter: Adapter) -> (Backend, BackendInfo) {
    let device = match burn::tensor::Device::wgpu_options().init_async().await {
        Ok(device) => device,
        Err(e) => return cpu(Some(format!("burn could not open the adapter: {e}"))),
    };
    let label = format!(
        "WebGPU: {}{}",
        adapter.name,
        if adapter.software { " (software)" } else { "" }
    );
    let backend = Backend {
        device,
        kind: BackendKind::Webgpu,
        label: label.clone(),
    };
    (
        backend,
        BackendInfo {
            kind: BackendKind::Webgpu,
            label,
            fallback_reason: None,
            software: adapter.software,
        },
    )
}
