//! Downloads for slides: an SVG as the file the page drew (or, for the HTML strip, the SVG the
//! core laid out for it), and a PNG of it rendered through a canvas at twice its size (and a
//! canvas, such as the heatmaps, as PNG directly).

use std::cell::Cell;

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

thread_local! {
    static NEXT_ID: Cell<usize> = const { Cell::new(0) };
}

/// A number unique in the page (for SVG pattern ids).
pub(super) fn next_id() -> usize {
    NEXT_ID.with(|n| {
        n.set(n.get() + 1);
        n.get()
    })
}

/// Saves `url` as `name` through a temporary link.
fn save(url: &str, name: &str) {
    let document = document();
    if let Ok(a) = document.create_element("a")
        && let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>()
    {
        a.set_href(url);
        a.set_download(name);
        a.click();
    }
}

fn blob_url(text: &str, mime: &str) -> Option<String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

fn svg_blob_url(text: &str) -> Option<String> {
    blob_url(text, "image/svg+xml")
}

/// Saves `text` as the file `name` (a `Blob`, not a `data:` URL: Chromium caps those).
pub(crate) fn download_text(text: &str, mime: &str, name: &str) {
    if let Some(url) = blob_url(text, mime) {
        save(&url, name);
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

/// Saves `svg` as an SVG file.
pub(super) fn download_svg(svg: &web_sys::Element, name: &str) {
    download_svg_text(&svg.outer_html(), name);
}

/// Saves SVG markup as an SVG file.
pub(crate) fn download_svg_text(text: &str, name: &str) {
    if let Some(url) = svg_blob_url(text) {
        save(&url, &format!("{name}.svg"));
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}

/// Saves `svg` as a PNG at twice its size, on white.
pub(super) fn download_png(svg: &web_sys::Element, name: &str) {
    let width = svg.client_width().max(1) as f64;
    let height = svg.client_height().max(1) as f64;
    download_png_text(&svg.outer_html(), width, height, name);
}

/// Saves SVG markup of `width × height` pixels as a PNG at twice that size, on white.
pub(crate) fn download_png_text(text: &str, width: f64, height: f64, name: &str) {
    let Some(url) = svg_blob_url(text) else {
        return;
    };
    let Ok(img) = web_sys::HtmlImageElement::new() else {
        return;
    };
    let name = format!("{name}.png");
    let loaded = img.clone();
    let revoke = url.clone();
    let onload = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&revoke);
        let Some(canvas) = document()
            .create_element("canvas")
            .ok()
            .and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            return;
        };
        canvas.set_width((width * 2.0) as u32);
        canvas.set_height((height * 2.0) as u32);
        if let Ok(Some(ctx)) = canvas.get_context("2d")
            && let Ok(ctx) = ctx.dyn_into::<web_sys::CanvasRenderingContext2d>()
        {
            ctx.set_fill_style_str("#FFFFFF");
            ctx.fill_rect(0.0, 0.0, width * 2.0, height * 2.0);
            let _ = ctx.draw_image_with_html_image_element_and_dw_and_dh(
                &loaded,
                0.0,
                0.0,
                width * 2.0,
                height * 2.0,
            );
            if let Ok(data) = canvas.to_data_url() {
                save(&data, &name);
            }
        }
    });
    img.set_onload(Some(onload.unchecked_ref()));
    img.set_src(&url);
}

/// Saves a canvas as a PNG.
pub(super) fn download_canvas(canvas: &web_sys::HtmlCanvasElement, name: &str) {
    if let Ok(data) = canvas.to_data_url() {
        save(&data, &format!("{name}.png"));
    }
}

/// "SVG" and "PNG" buttons for one SVG view.
#[component]
pub fn DownloadButtons(svg: NodeRef<leptos::svg::Svg>, name: String) -> impl IntoView {
    let name_png = name.clone();
    view! {
        <span class="downloads">
            <button class="small" data-testid="viz-download-svg" on:click=move |_| {
                if let Some(el) = svg.get_untracked() { download_svg(el.unchecked_ref(), &name); }
            }>"⤓ SVG"</button>
            <button class="small" data-testid="viz-download-png" on:click=move |_| {
                if let Some(el) = svg.get_untracked() { download_png(el.unchecked_ref(), &name_png); }
            }>"⤓ PNG"</button>
        </span>
    }
}
