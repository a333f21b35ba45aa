//! Models kept in this browser on request: the four files of a saved run
//! ([`crate::core::saved`]), stored in the browser's Cache Storage under a key of the panel's
//! row ([`crate::core::compare::KeptModel`]), so a reload or a crashed worker keeps not only
//! the figures of a run but its weights, and the model can write in the page again. Cache
//! Storage takes binary files of any size the browser's quota allows (localStorage takes a few
//! MB of text) and exists wherever the service worker does: over HTTPS and on the same machine.
//! The service worker (`www/sw.js`) leaves this cache alone.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::core::compare::MODELS_CACHE as CACHE;
use crate::core::saved::{CONFIG_FILE, MODEL_FILE, SUMMARY_FILE, SavedFiles, TOKENIZER_FILE};

/// The browser's Cache Storage, where the page may use it: `window.caches` is missing (not an
/// error) outside a secure context, e.g. a page served over plain HTTP on a classroom LAN.
fn caches() -> Option<web_sys::CacheStorage> {
    let window = web_sys::window()?;
    let value = js_sys::Reflect::get(&window, &JsValue::from_str("caches")).ok()?;
    if !value.is_object() {
        return None;
    }
    value.dyn_into().ok()
}

fn js_text(e: &JsValue) -> String {
    if let Some(e) = e.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", String::from(e.name()), String::from(e.message()));
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// The cache, or why this browser has none for the page.
async fn cache() -> Result<web_sys::Cache, String> {
    let unavailable = || {
        "this browser keeps no models for the page (it allows it over HTTPS or from 127.0.0.1, not in every private window)".to_string()
    };
    let caches = caches().ok_or_else(unavailable)?;
    let cache = JsFuture::from(caches.open(CACHE))
        .await
        .map_err(|_| unavailable())?;
    cache.dyn_into().map_err(|_| unavailable())
}

fn url(key: &str, file: &str) -> String {
    format!("./__kept-models/{key}/{file}")
}

/// Stores `files` under `key`; returns their size in bytes. A full storage is said as such.
pub async fn put(key: &str, files: &SavedFiles) -> Result<u64, String> {
    let cache = cache().await?;
    let mut model = files.model.clone();
    let entries: [(&str, Result<web_sys::Response, JsValue>); 4] = [
        (
            MODEL_FILE,
            web_sys::Response::new_with_opt_u8_array(Some(&mut model)),
        ),
        (
            TOKENIZER_FILE,
            web_sys::Response::new_with_opt_str(Some(&files.tokenizer_json)),
        ),
        (
            CONFIG_FILE,
            web_sys::Response::new_with_opt_str(Some(&files.config_json)),
        ),
        (
            SUMMARY_FILE,
            web_sys::Response::new_with_opt_str(Some(&files.summary_json)),
        ),
    ];
    for (name, response) in entries {
        let response = response.map_err(|e| js_text(&e))?;
        if let Err(e) = JsFuture::from(cache.put_with_str(&url(key, name), &response)).await {
            // Leave nothing half-written behind.
            forget(key).await;
            let text = js_text(&e);
            return Err(if text.contains("Quota") {
                "the browser's storage is full".to_string()
            } else {
                text
            });
        }
    }
    Ok((files.model.len()
        + files.tokenizer_json.len()
        + files.config_json.len()
        + files.summary_json.len()) as u64)
}

async fn read(cache: &web_sys::Cache, key: &str, file: &str) -> Result<Vec<u8>, String> {
    let found = JsFuture::from(cache.match_with_str(&url(key, file)))
        .await
        .map_err(|e| js_text(&e))?;
    let response: web_sys::Response = found
        .dyn_into()
        .map_err(|_| format!("{file} of this model is no longer in the browser's storage"))?;
    let buffer = JsFuture::from(response.array_buffer().map_err(|e| js_text(&e))?)
        .await
        .map_err(|e| js_text(&e))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The files stored under `key`, as the four files of a saved run.
pub async fn get(key: &str) -> Result<SavedFiles, String> {
    let cache = cache().await?;
    let mut named = Vec::with_capacity(4);
    for file in [MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE, SUMMARY_FILE] {
        named.push((file.to_string(), read(&cache, key, file).await?));
    }
    SavedFiles::from_named(named).map_err(|e| e.to_string())
}

/// Removes the files stored under `key` (nothing if there are none).
pub async fn forget(key: &str) {
    if let Ok(cache) = cache().await {
        for file in [MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE, SUMMARY_FILE] {
            let _ = JsFuture::from(cache.delete_with_str(&url(key, file))).await;
        }
    }
}

/// Removes every kept model.
pub async fn forget_all() {
    if let Some(caches) = caches() {
        let _ = JsFuture::from(caches.delete(CACHE)).await;
    }
}

/// Removes the files of every model whose key is not in `keep` (a page closed between storing
/// the files and naming them in its row leaves such files behind).
pub async fn prune(keep: Vec<String>) {
    let Ok(cache) = cache().await else { return };
    let Ok(requests) = JsFuture::from(cache.keys()).await else {
        return;
    };
    let requests: js_sys::Array = requests.unchecked_into();
    for request in requests.iter() {
        let Some(url) = js_sys::Reflect::get(&request, &JsValue::from_str("url"))
            .ok()
            .and_then(|u| u.as_string())
        else {
            continue;
        };
        let key = url
            .split("/__kept-models/")
            .nth(1)
            .and_then(|rest| rest.split('/').next());
        if key.is_some_and(|k| !keep.iter().any(|kept| kept == k)) {
            let _ = JsFuture::from(cache.delete_with_str(&url)).await;
        }
    }
}
