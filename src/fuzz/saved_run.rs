//! Fuzz target `saved_run`: the four files of a saved run as a student might hand them to the
//! page — edited by hand, mixed from two runs, damaged in a download. It starts from a valid
//! saved run (an untrained decoder at the fast size, built once), mutates the files (the
//! record's bytes flipped, cut or extended; the JSON files' values swapped for extreme
//! numbers, nulls, other strings or types, keys deleted, text cut or sprinkled with noise),
//! then loads them. A refusal is a typed error; what loads must write a sample (from the
//! saved prompt and from a prompt taken from the bytes) and a summary that reads back.

use std::sync::OnceLock;

use arbitrary::{Result, Unstructured};
use serde_json::Value;

use super::Target;
use crate::core::backend::Backend;
use crate::core::config::{ModelSize, RunConfig};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::exec::{SystemClock, block_on};
use crate::core::generate::write_continuation;
use crate::core::mix::ObjectiveMix;
use crate::core::model::network::Network;
use crate::core::plan::plan;
use crate::core::saved::{self, SavedConfig, SavedFiles};
use crate::core::summary::RunSummary;
use crate::core::train::Trainer;

pub const TARGET: Target = Target {
    name: "saved_run",
    run,
};

/// Most tokens a loaded run writes per input: enough to run generation, short enough that
/// thousands of inputs fit a CI minute.
const SAMPLE_TOKENS: usize = 4;

/// The valid run every input starts from.
fn base() -> &'static SavedFiles {
    static BASE: OnceLock<SavedFiles> = OnceLock::new();
    BASE.get_or_init(|| match build_base() {
        Ok(files) => files,
        // Not an input's fault: the harness itself cannot run.
        Err(e) => panic!("the saved_run harness could not build its valid run: {e}"),
    })
}

/// An untrained GPT-style decoder at the fast size on the support corpus, saved.
fn build_base() -> std::result::Result<SavedFiles, CoreError> {
    let size = ModelSize::Fast;
    let dataset = Dataset::support(1, size.model().vocab_size)?;
    let (mix, preset) = ObjectiveMix::parse("gpt")?;
    let mut config = RunConfig::for_plan(size, &plan(&mix)?);
    config.sample_tokens = SAMPLE_TOKENS;
    let mut trainer = Trainer::new(
        dataset,
        config,
        mix,
        preset.map(str::to_string),
        Backend::cpu(),
        Box::new(SystemClock::default()),
    )?;
    let summary = trainer.cancel();
    let network = trainer
        .network()
        .ok_or_else(|| CoreError::Config("the trainer has no network".into()))?;
    saved::save(
        network,
        &SavedConfig::of(&trainer),
        trainer.tokenizer(),
        &summary,
    )
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let mut files = base().clone();
    // Which files to damage: any combination, none included (the valid run must load).
    let which: u8 = u.arbitrary()?;
    if which & 1 != 0 {
        files.model = mutate_bytes(u, files.model)?;
    }
    for (bit, text) in [
        (2, &mut files.tokenizer_json),
        (4, &mut files.config_json),
        (8, &mut files.summary_json),
    ] {
        if which & bit != 0 {
            *text = mutate_text(u, text)?;
        }
    }
    let backend = Backend::cpu();
    let Ok(mut loaded) = saved::load(&files, &backend.device) else {
        return Ok(());
    };
    loaded.saved.config.sample_tokens = loaded.saved.config.sample_tokens.min(SAMPLE_TOKENS);
    let _ = block_on(loaded.sample(&backend));
    if let Network::Stack(model) = &loaded.network {
        let prompt: &str = u.arbitrary()?;
        let _ = block_on(write_continuation(
            model,
            &loaded.tokenizer,
            prompt,
            loaded.saved.config.seed,
            SAMPLE_TOKENS,
            &backend,
        ));
    }
    // What loaded can be downloaded again and read back (NaN and infinities included).
    let json = serde_json::to_string(&loaded.summary)
        .unwrap_or_else(|e| panic!("a loaded run.json cannot be written: {e}"));
    if let Err(e) = serde_json::from_str::<RunSummary>(&json) {
        panic!("a loaded run.json does not read back: {e}");
    }
    Ok(())
}

/// One to three changes to the record's bytes, mostly in its header and tensor table (the
/// first few kilobytes), where a change reaches the parser rather than a weight.
fn mutate_bytes(u: &mut Unstructured<'_>, mut bytes: Vec<u8>) -> Result<Vec<u8>> {
    for _ in 0..u.int_in_range(1..=3)? {
        let reach = if u.ratio(3, 4)? {
            bytes.len().min(4096)
        } else {
            bytes.len()
        };
        let at = if reach == 0 {
            0
        } else {
            u.choose_index(reach)?
        };
        match u.int_in_range(0..=4)? {
            0 => {
                if let Some(b) = bytes.get_mut(at) {
                    *b ^= 1 << u.int_in_range(0..=7)?;
                }
            }
            1 => {
                if let Some(b) = bytes.get_mut(at) {
                    *b = u.arbitrary()?;
                }
            }
            2 => bytes.truncate(at),
            3 => {
                let extra: Vec<u8> = u.arbitrary()?;
                bytes.extend(extra);
            }
            _ => {
                // A little-endian length or offset set to an extreme.
                let value: u64 = *u.choose(&[0, 1, u64::from(u32::MAX), u64::MAX, 1 << 40])?;
                let end = (at + 8).min(bytes.len());
                let width = end.saturating_sub(at);
                bytes[at..end].copy_from_slice(&value.to_le_bytes()[..width]);
            }
        }
    }
    Ok(bytes)
}

/// One to three changes to a JSON file: mostly to a value found by a random walk from the
/// root (so every top-level setting is as likely as any vocabulary entry), sometimes to the
/// text itself.
fn mutate_text(u: &mut Unstructured<'_>, text: &str) -> Result<String> {
    let mut text = text.to_string();
    for _ in 0..u.int_in_range(1..=3)? {
        text = match u.int_in_range(0..=9)? {
            0 => {
                let cut = floor_char_boundary(&text, u.choose_index(text.len().max(1))?);
                text[..cut].to_string()
            }
            1 => {
                let at = floor_char_boundary(&text, u.choose_index(text.len().max(1))?);
                let noise: &str = u.arbitrary()?;
                format!("{}{noise}{}", &text[..at], &text[at..])
            }
            _ => match serde_json::from_str::<Value>(&text) {
                Ok(mut doc) => {
                    mutate_value(u, &mut doc)?;
                    doc.to_string()
                }
                Err(_) => text,
            },
        };
    }
    Ok(text)
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Walks down from `doc` to a random node and replaces or deletes it.
fn mutate_value(u: &mut Unstructured<'_>, doc: &mut Value) -> Result<()> {
    let mut node = doc;
    loop {
        let children = match node {
            Value::Object(map) => map.len(),
            Value::Array(items) => items.len(),
            _ => 0,
        };
        if children == 0 || u.ratio(1, 4)? {
            break;
        }
        let index = u.choose_index(children)?;
        // Deleting a key or an element instead of descending into it.
        if u.ratio(1, 8)? {
            match node {
                Value::Object(map) => {
                    if let Some(key) = map.keys().nth(index).cloned() {
                        map.remove(&key);
                    }
                }
                Value::Array(items) => {
                    items.remove(index);
                }
                _ => {}
            }
            return Ok(());
        }
        node = match node {
            Value::Object(map) => match map.values_mut().nth(index) {
                Some(child) => child,
                None => return Ok(()),
            },
            Value::Array(items) => &mut items[index],
            _ => return Ok(()),
        };
    }
    *node = interesting_value(u, node)?;
    Ok(())
}

/// A value a hand edit or another version might leave: extreme and non-finite-looking
/// numbers, a nearby number, null, another type, another string.
fn interesting_value(u: &mut Unstructured<'_>, old: &Value) -> Result<Value> {
    use serde_json::json;
    let nearby = old
        .as_i64()
        .map(|n| json!(n.saturating_add(u.int_in_range(-2..=2).unwrap_or(1))));
    Ok(match u.int_in_range(0..=13)? {
        0 => json!(u64::MAX),
        1 => json!(i64::MIN),
        2 => json!(-1),
        3 => json!(0),
        4 => json!(1e300),
        5 => json!(-0.5),
        6 => json!(1.5),
        7 => Value::Null,
        8 => json!("NaN"),
        9 => json!(u.arbitrary::<&str>()?),
        10 => json!(true),
        11 => json!([]),
        12 => json!({}),
        _ => nearby.unwrap_or_else(|| json!(u32::MAX)),
    })
}
