//! The embeddable widgets (wasm): the ES module `scripts/pkg.sh` writes to `pkg/`, which a
//! lecturer imports in their own slide page to mount one of the lab's pictures. The pictures
//! are computed and written by the core ([`pretrain_playground::core::embed`]); this file only
//! reads the options, puts the SVG into the page and turns every error into a rejected
//! promise with the core's message (and the same message shown in place). Natively a no-op.
//!
//! ```js
//! import init, { mountMasks, mountScatter } from "./pkg/pretrain_playground.js";
//! await init();
//! await mountMasks(document.getElementById("masks"), { mix: "t5", seed: 1 });
//! mountScatter(document.getElementById("scatter"), await (await fetch("class.json")).text(),
//!              { generation: "compliance", pair: "probe", negatives: "hard" });
//! ```

#[cfg(target_arch = "wasm32")]
fn main() {
    pretrain_playground::shell::run_static_constructors();
    console_error_panic_hook::set_once();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}

#[cfg(target_arch = "wasm32")]
mod widget {
    use std::cell::Cell;

    use pretrain_playground::core::backend::Backend;
    use pretrain_playground::core::embed::{
        MaskFigures, MaskOptions, ScatterOptions, mask_figures, scatter_figure,
    };
    use pretrain_playground::core::exec::Checkpoint;
    use pretrain_playground::core::viz::palette;
    use pretrain_playground::core::viz::svg::escape;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;

    thread_local! {
        static NEXT_ID: Cell<usize> = const { Cell::new(0) };
    }

    /// A prefix unique in the page, for the SVG pattern ids of one mount.
    fn next_id() -> String {
        NEXT_ID.with(|n| {
            n.set(n.get() + 1);
            format!("pp-widget-{}", n.get())
        })
    }

    /// Yields to the page's event loop (a macrotask) at most every 40 ms of work, so a slide
    /// deck stays responsive while the corpus and tokenizer are built.
    struct YieldEvery {
        last: f64,
    }

    fn now_ms() -> f64 {
        js_sys::Date::now()
    }

    impl Checkpoint for YieldEvery {
        fn checkpoint(&mut self) -> impl std::future::Future<Output = ()> {
            let due = now_ms() - self.last >= 40.0;
            async move {
                if due {
                    let promise = js_sys::Promise::new(&mut |resolve, _| {
                        if let Some(window) = web_sys::window() {
                            let _ = window.set_timeout_with_callback(&resolve);
                        }
                    });
                    let _ = JsFuture::from(promise).await;
                    self.last = now_ms();
                }
            }
        }
    }

    /// The options object (absent: every default), or why it cannot be read.
    fn options<T: serde::de::DeserializeOwned + Default>(value: JsValue) -> Result<T, String> {
        if value.is_undefined() || value.is_null() {
            return Ok(T::default());
        }
        serde_wasm_bindgen::from_value(value).map_err(|e| {
            let e = e.to_string();
            let reason = e.strip_prefix("Error: ").unwrap_or(&e);
            format!("these widget options cannot be read: {reason}")
        })
    }

    fn js_error(message: &str) -> JsValue {
        js_sys::Error::new(message).into()
    }

    /// Shows `message` in `element` and returns it as the error to reject with.
    fn fail(element: &web_sys::Element, message: &str) -> JsValue {
        element.set_inner_html(&format!(
            "<p class=\"pp-widget-error\" role=\"alert\" style=\"color:#B3261E;font:14px system-ui,sans-serif\">{}</p>",
            escape(message)
        ));
        js_error(message)
    }

    fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsValue> {
        value
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .map_err(|e| js_error(&e.to_string()))
    }

    /// The attention masks of one example of a mix before training, as plain data: the mix,
    /// how its plan trains it, and one figure (title, size, blocked cells, SVG) per matrix.
    #[wasm_bindgen(js_name = drawMasks)]
    pub async fn draw_masks(options: JsValue) -> Result<JsValue, JsValue> {
        let options: MaskOptions = self::options(options).map_err(|e| js_error(&e))?;
        let drawn = masks(&options, &next_id())
            .await
            .map_err(|e| js_error(&e))?;
        to_js(&drawn)
    }

    async fn masks(options: &MaskOptions, id: &str) -> Result<MaskFigures, String> {
        let mut cp = YieldEvery { last: now_ms() };
        mask_figures(options, &Backend::cpu(), id, &mut cp)
            .await
            .map_err(|e| e.to_string())
    }

    /// Draws the mask matrices of `options` into `element` (replacing what it held) and
    /// resolves to the same plain data as `drawMasks`. Options: `mix` (an objective, preset
    /// or mix; default `mlm`), `seed`, `corpusSeed`, `size` (`fast` or `default`), `example`,
    /// `width` (pixels per matrix), `projector` (large type).
    #[wasm_bindgen(js_name = mountMasks)]
    pub async fn mount_masks(
        element: web_sys::Element,
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let options: MaskOptions = self::options(options).map_err(|e| fail(&element, &e))?;
        element.set_inner_html(
            "<p class=\"pp-widget-status\" style=\"font:14px system-ui,sans-serif\">Writing the corpus and training the tokenizer…</p>",
        );
        let drawn = match masks(&options, &next_id()).await {
            Ok(d) => d,
            Err(message) => return Err(fail(&element, &message)),
        };
        let text_px = if options.projector { 22 } else { 14 };
        let mut html = format!(
            "<div class=\"pp-widget pp-masks\" data-mix=\"{mix}\" style=\"font:{text_px}px system-ui,sans-serif;color:#1F2328\">\
             <p class=\"pp-widget-title\" style=\"margin:0 0 .4em\"><strong>{mix}</strong> — {how}</p>\
             <div style=\"display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start\">",
            mix = escape(&drawn.mix),
            how = escape(&drawn.how),
        );
        for f in &drawn.figures {
            html.push_str(&format!(
                "<figure class=\"pp-mask\" data-title=\"{title}\" data-kind=\"{kind}\" style=\"margin:0\">\
                 <figcaption style=\"margin-bottom:.3em\"><strong>{title}</strong> ({kind}): {blocked} of {total} cells blocked</figcaption>{svg}</figure>",
                title = escape(&f.title),
                kind = escape(&f.kind),
                blocked = f.blocked_cells,
                total = f.rows * f.cols,
                svg = f.svg,
            ));
        }
        html.push_str(&format!(
            "</div><p class=\"pp-legend\" style=\"margin:.4em 0 0\">Rows are queries, columns the keys they may read. \
             <span style=\"display:inline-block;width:1em;height:1em;vertical-align:middle;background:{allowed}\"></span> {allowed_name} (solid) \
             <span style=\"display:inline-block;width:1em;height:1em;vertical-align:middle;background:repeating-linear-gradient(45deg,{blocked_ink} 0 2px,{blocked_bg} 2px 5px)\"></span> {blocked_name} (hatched). \
             An untrained model's masks: training changes the weights, never the masks.</p></div>",
            allowed = palette::ALLOWED.fill,
            allowed_name = palette::ALLOWED.name,
            blocked_ink = palette::BLOCKED.text,
            blocked_bg = palette::BLOCKED.fill,
            blocked_name = palette::BLOCKED.name,
        ));
        element.set_inner_html(&html);
        to_js(&drawn)
    }

    /// The text of a results file given as a string, bytes or an already parsed object.
    fn file_bytes(file: &JsValue) -> Result<Vec<u8>, String> {
        if let Some(text) = file.as_string() {
            return Ok(text.into_bytes());
        }
        if file.is_instance_of::<js_sys::Uint8Array>()
            || file.is_instance_of::<js_sys::ArrayBuffer>()
        {
            return Ok(js_sys::Uint8Array::new(file).to_vec());
        }
        if file.is_object() {
            return js_sys::JSON::stringify(file)
                .ok()
                .and_then(|s| s.as_string())
                .map(String::into_bytes)
                .ok_or_else(|| "this object cannot be written as JSON".to_string());
        }
        Err("give the results file as text, bytes or a parsed object".into())
    }

    fn scatter(
        file: &JsValue,
        options: JsValue,
    ) -> Result<pretrain_playground::core::compare::scatter::Scatter, String> {
        let options: ScatterOptions = self::options(options)?;
        let bytes = file_bytes(file)?;
        scatter_figure("the results file", &bytes, options).map_err(|e| e.to_string())
    }

    /// The comparison scatter of a results file (the panel's Export JSON, or a `run.json`) as
    /// an SVG document. Options: `generation` (`compliance` or `perplexity`), `pair` (`probe`
    /// or `zero_shot`), `negatives` (`random`, `hard` or `swapped`).
    #[wasm_bindgen(js_name = scatterSvg)]
    pub fn scatter_svg(file: JsValue, options: JsValue) -> Result<String, JsValue> {
        scatter(&file, options)
            .map(|s| s.svg)
            .map_err(|e| js_error(&e))
    }

    /// Draws the comparison scatter of a results file into `element` and returns its points
    /// (mix, runs pooled, x, y, error bars, frontier) and what it left out, as plain data.
    #[wasm_bindgen(js_name = mountScatter)]
    pub fn mount_scatter(
        element: web_sys::Element,
        file: JsValue,
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let drawn = scatter(&file, options).map_err(|e| fail(&element, &e))?;
        element.set_inner_html(&format!(
            "<div class=\"pp-widget pp-scatter\" data-points=\"{}\" style=\"max-width:100%\">{}</div>",
            drawn.points.len(),
            drawn.svg.replacen("<svg ", "<svg style=\"max-width:100%;height:auto\" ", 1),
        ));
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Plain<'a> {
            points: &'a [pretrain_playground::core::compare::scatter::Point],
            left_out: &'a [String],
        }
        to_js(&Plain {
            points: &drawn.points,
            left_out: &drawn.left_out,
        })
    }

    /// The lab's version, to put beside a picture.
    #[wasm_bindgen]
    pub fn version() -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }
}
