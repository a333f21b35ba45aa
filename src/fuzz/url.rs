//! The URL a lecturer puts on a slide: any query reads as settings that train, with a note for
//! each key it could not use ([`crate::protocol::Settings::from_query`]).

use arbitrary::Unstructured;

use crate::protocol::Settings;

/// Pieces a hand-edited link is made of, so short inputs reach every key and its checks.
const PIECES: [&str; 24] = [
    "mix=",
    "size=",
    "budget=",
    "seed=",
    "corpus_seed=",
    "backend=",
    "plm_k=",
    "mask_rate=",
    "noise_density=",
    "mean_span=",
    "bert",
    "mlm+sop@",
    "nsp+sop",
    "%2B",
    "%",
    "&",
    "=",
    "+",
    "fast",
    "1e9",
    "-1",
    "0.5",
    "é",
    "?",
];

pub fn run(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let mut query = String::new();
    while !u.is_empty() {
        if u.ratio(1, 3)? {
            query.push_str(u.arbitrary::<&str>()?);
        } else {
            query.push_str(u.choose(&PIECES)?);
        }
    }
    let (settings, notes) = Settings::from_query(&query);
    assert!(
        settings.check_trainable().is_ok(),
        "`{query}` gave settings that cannot train"
    );
    // What the page writes back into the URL reads as the same settings, with no note.
    let (again, again_notes) = Settings::from_query(&settings.to_query());
    assert!(
        again == settings && again_notes.is_empty(),
        "`{query}` does not round-trip: {again_notes:?}"
    );
    for note in notes {
        assert!(
            !note.reason.is_empty(),
            "`{query}`: a note without a reason"
        );
    }
    Ok(())
}
