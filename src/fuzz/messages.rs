//! The page ↔ worker protocol: any message, well formed or not, is read as a typed message or
//! refused with an error — never a panic — and what is read writes back to the same message.

use arbitrary::Unstructured;

use crate::protocol::{WorkerInput, WorkerOutput};

/// Message shapes to mutate, so short inputs get past the `type` tag.
const SHAPES: [&str; 8] = [
    r#"{"type":"prepare","size":null,"backend":"auto","mix":"clm","seed":0,"corpus_seed":1,"budget_tokens":500000}"#,
    r#"{"type":"train"}"#,
    r#"{"type":"use_corpus","custom":{"name":"a.txt","text":"Hi."}}"#,
    r#"{"type":"tokenize","text":"the kettle"}"#,
    r#"{"type":"load_run","model":[0,1],"tokenizer_json":"{}","config_json":"{}","summary_json":"{}"}"#,
    r#"{"type":"bench","backend":"cpu","size":"fast","warmup":1,"steps":2}"#,
    r#"{"type":"event","kind":"eval","step":3,"tokens":768,"val_loss":2.5}"#,
    r#"{"type":"error","message":"x","fatal":true}"#,
];

pub fn run(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let mut text = u.choose(&SHAPES)?.as_bytes().to_vec();
    while !u.is_empty() {
        let at = u.choose_index(text.len() + 1)?;
        match u.choose_index(3)? {
            0 => text.insert(at, u.arbitrary()?),
            1 if at < text.len() => {
                text.remove(at);
            }
            _ => text.truncate(at),
        }
    }
    round_trips::<WorkerInput>(&text, "page")?;
    round_trips::<WorkerOutput>(&text, "worker")?;
    Ok(())
}

/// If `text` reads as a `T`, what it writes reads back.
fn round_trips<T: serde::Serialize + serde::de::DeserializeOwned>(
    text: &[u8],
    writer: &str,
) -> arbitrary::Result<()> {
    if let Ok(message) = serde_json::from_slice::<T>(text) {
        let json =
            serde_json::to_string(&message).map_err(|_| arbitrary::Error::IncorrectFormat)?;
        assert!(
            serde_json::from_str::<T>(&json).is_ok(),
            "a message written by the {writer} does not read back: {json}"
        );
    }
    Ok(())
}
