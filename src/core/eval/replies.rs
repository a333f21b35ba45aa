//! Generated replies: each model answers the same held-out support tickets with its own
//! objective's natural decoding
//! ([`Decoding`](crate::core::objective::scoring::Decoding), set in each objective's file), once greedily and
//! once by sampling (temperature 0.8, top-k 40, as the live samples of a run), and every reply
//! is judged by the compliance checker ([`check`](crate::core::corpus::compliance::check)). A
//! set of replies is summarised by its compliance rate, distinct-2 (Li et al. 2016) and
//! repetition rate (`seq-rep-4`, Welleck et al. 2019; see [`super::text`]), both on token ids.
//! The model-free reply baselines ([`super::baselines::replies`]) go through the same checker
//! into the same [`RepliesReport`], so they are the same kind of number.
//!
//! The context is the ticket as the packed stream holds it, `[EOS] ticket [SEP]`, cut from
//! the front to leave room for a reply of at most `seq_len / 2` tokens
//! ([`ScoringExample::fitted`](crate::core::objective::scoring::ScoringExample::fitted)'s
//! cut). Every step's rows are built in the layout the
//! objective's scoring protocol uses ([`crate::core::objective::scoring`]), the tickets of one
//! step stacked into one batch; without a key-value cache each step runs the whole sequence
//! again, which at these lengths costs little. A reply stops where the model predicts `[EOS]`
//! or `[SEP]` (T5 also at a sentinel, which closes its span) and never contains a special
//! token: the others are never chosen.

pub mod decode;

use serde::{Deserialize, Serialize};

pub use self::decode::{Pick, TEMPERATURE, TOP_K, decode_replies};
use super::baselines::replies::{MajorityAction, RetrieveNearest, score_reply};
use super::text::{distinct_n, repetition_rate};
use crate::core::corpus::{Document, Split, TicketCase};
use crate::core::data::Dataset;
use crate::core::error::CoreError;
use crate::core::exec::Checkpoint;
use crate::core::metrics::accuracy_standard_error;
use crate::core::mix::Objective;
use crate::core::model::network::Network;
use crate::core::objective::scoring::Decoding;

/// Greedy replies a report keeps, with their verdicts, for a reader to look at.
pub const SAMPLES_KEPT: usize = 2;

/// One reply and the checker's verdict on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub ticket: String,
    pub reply: String,
    pub compliant: bool,
    /// [`Reason::name`](crate::core::corpus::compliance::Reason::name).
    pub reason: String,
    pub explanation: String,
}

/// A set of replies, one per ticket, as numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplySetScore {
    /// Share of replies the checker accepts.
    pub compliance: f64,
    /// √(p(1 − p)/n).
    pub compliance_se: f64,
    /// Distinct bigrams over all bigrams of the set (`None`: no reply has two tokens).
    pub distinct2: Option<f64>,
    /// Mean `seq-rep-4` of the replies that have a 4-gram (`None`: none has).
    pub repetition: Option<f64>,
    pub replies: usize,
}

/// How one writer — a model's objective or a model-free baseline — answers the tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepliesReport {
    /// The objective's name, or `majority-action` / `retrieve-nearest`.
    pub writer: String,
    /// [`Decoding::name`](crate::core::objective::scoring::Decoding::name), or `copy` for a
    /// baseline.
    pub decoding: String,
    /// The decoding in one line.
    pub how: String,
    /// Greedy (argmax) replies; a baseline's only set.
    pub greedy: ReplySetScore,
    /// Sampled replies (temperature [`TEMPERATURE`], top-k [`TOP_K`]); `None` for a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled: Option<ReplySetScore>,
    /// The seed of the sampled replies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The most tokens a reply could have: a model's decoding bound, and for a baseline the
    /// bound of the model it stands beside (its replies are cut there, so the two are the same
    /// kind of number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<usize>,
    /// The first [`SAMPLES_KEPT`] greedy replies with their verdicts.
    pub samples: Vec<Reply>,
    /// A model's greedy replies cut to the common bound
    /// ([`Decoding::common_reply_cap`](crate::core::objective::scoring::Decoding::common_reply_cap)),
    /// so compliance compares across writers; the same figures as `greedy` where `cap` is that
    /// bound. `None` for a baseline, whose `greedy` is already cut to the bound it stands at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common: Option<BoundScore>,
}

/// A set of replies cut to a bound, as numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundScore {
    /// The most tokens a reply keeps.
    pub cap: usize,
    pub greedy: ReplySetScore,
}

/// A held-out ticket to answer.
struct Ticket<'a> {
    doc: &'a Document,
    case: &'a TicketCase,
    text: String,
}

/// The first `n` test-split tickets, or why there are none.
fn test_tickets(dataset: &Dataset, n: usize) -> Result<Vec<Ticket<'_>>, CoreError> {
    let tickets: Vec<Ticket> = dataset
        .corpus
        .split(Split::Test)
        .filter_map(|doc| {
            let case = doc.case.as_ref()?;
            let text = doc.parts.first()?.text();
            Some(Ticket { doc, case, text })
        })
        .take(n)
        .collect();
    if tickets.is_empty() {
        return Err(CoreError::Corpus(
            "generated replies are judged on the test split's support tickets, and this corpus \
             has none: only the support-desk corpus has tickets"
                .to_string(),
        ));
    }
    Ok(tickets)
}

/// The longest reply a model with `seq_len` positions writes.
pub fn reply_cap(seq_len: usize) -> usize {
    seq_len / 2
}

/// `[EOS] ticket [SEP]` cut from the front to its last `seq_len − 1 − cap` tokens, so the
/// reply (and under every decoding one `[SPAN0]`, `[MASK]` or `[BOS]`) fits.
pub fn reply_context(
    dataset: &Dataset,
    ticket: &str,
    seq_len: usize,
) -> Result<Vec<u32>, CoreError> {
    let specials = dataset.tokenizer.specials();
    let mut context = vec![specials.eos];
    context.extend(dataset.tokenizer.encode(ticket)?);
    context.push(specials.sep);
    let room = seq_len.saturating_sub(1 + reply_cap(seq_len));
    Ok(context.split_off(context.len().saturating_sub(room)))
}

impl ReplySetScore {
    /// The scores of `replies`, whose token ids are `ids`.
    fn of<R: AsRef<[u32]>>(replies: &[Reply], ids: &[R]) -> Self {
        let n = replies.len();
        let compliance = replies.iter().filter(|r| r.compliant).count() as f64 / n.max(1) as f64;
        Self {
            compliance,
            compliance_se: accuracy_standard_error(compliance, n).unwrap_or(f64::NAN),
            distinct2: distinct_n(ids, 2),
            repetition: repetition_rate(ids),
            replies: n,
        }
    }
}

/// The checker's verdict on each ticket's reply.
fn judge(tickets: &[Ticket], texts: Vec<String>) -> Vec<Reply> {
    tickets
        .iter()
        .zip(texts)
        .map(|(t, reply)| {
            let verdict = score_reply(t.case, &t.text, &reply);
            Reply {
                ticket: t.text.clone(),
                reply,
                compliant: verdict.compliant,
                reason: verdict.reason.name().to_string(),
                explanation: verdict.explanation,
            }
        })
        .collect()
}

/// Decoded reply ids as text; an untrained model emits stray bytes, shown as spaces.
fn reply_texts(dataset: &Dataset, ids: &[Vec<u32>]) -> Result<Vec<String>, CoreError> {
    ids.iter()
        .map(|r| {
            Ok(dataset
                .tokenizer
                .decode_text(r)?
                .chars()
                .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
                .collect())
        })
        .collect()
}

/// `network`, trained with `objective`, answers the first `n` test tickets of `dataset` with
/// the objective's decoding, greedily and sampled from `seed`, in `seq_len` positions (the
/// model's `max_seq_len`); each reply judged by the compliance checker.
#[allow(clippy::too_many_arguments)]
pub async fn write_replies(
    network: &Network,
    objective: Objective,
    dataset: &Dataset,
    n: usize,
    seq_len: usize,
    seed: u64,
    backend_label: &str,
    cp: &mut impl Checkpoint,
) -> Result<RepliesReport, CoreError> {
    let Some(role) = objective.spec().tokens() else {
        return Err(CoreError::Config(format!(
            "{objective} judges sentence pairs and writes no text"
        )));
    };
    let positions = network.max_seq_len();
    if !(4..=positions).contains(&seq_len) {
        return Err(CoreError::Config(format!(
            "replies are written in {seq_len} positions, but the model has {positions} and a \
             ticket and its reply need at least 4"
        )));
    }
    let decoding = role.scoring.decoding;
    let specials = dataset.tokenizer.specials();
    let tickets = test_tickets(dataset, n)?;
    let contexts = tickets
        .iter()
        .map(|t| reply_context(dataset, &t.text, seq_len))
        .collect::<Result<Vec<_>, CoreError>>()?;
    let cap = decoding.reply_cap(seq_len);
    let common_cap = Decoding::common_reply_cap(seq_len);
    let mut common = None;
    let mut sets = Vec::with_capacity(2);
    for pick in [Pick::Greedy, Pick::Sampled { seed }] {
        let ids = decode_replies(
            network,
            decoding,
            &contexts,
            cap,
            pick,
            specials,
            backend_label,
            cp,
        )
        .await?;
        let replies = judge(&tickets, reply_texts(dataset, &ids)?);
        if pick == Pick::Greedy {
            // A reply's first tokens are what a writer with the shorter bound writes: no
            // decoding's first `common_cap` steps depend on its bound but mask filling's, whose
            // later masks are in view (see `Decoding::common_reply_cap`).
            let cut: Vec<Vec<u32>> = ids
                .iter()
                .map(|r| r[..r.len().min(common_cap)].to_vec())
                .collect();
            let replies = judge(&tickets, reply_texts(dataset, &cut)?);
            common = Some(BoundScore {
                cap: common_cap,
                greedy: ReplySetScore::of(&replies, &cut),
            });
        }
        sets.push((ReplySetScore::of(&replies, &ids), replies));
        cp.checkpoint().await;
    }
    let (sampled, _) = sets
        .pop()
        .ok_or_else(|| CoreError::Config("no replies".into()))?;
    let (greedy, replies) = sets
        .pop()
        .ok_or_else(|| CoreError::Config("no replies".into()))?;
    Ok(RepliesReport {
        writer: objective.name().to_string(),
        decoding: decoding.name().to_string(),
        how: decoding.describe().to_string(),
        greedy,
        sampled: Some(sampled),
        seed: Some(seed),
        cap: Some(cap),
        samples: replies.into_iter().take(SAMPLES_KEPT).collect(),
        common,
    })
}

/// The model-free baselines ([`MajorityAction`], [`RetrieveNearest`]) on the same first `n`
/// test tickets, judged by the same checker; distinct-2 and repetition on the replies'
/// token ids.
///
/// With `cap`, each copied reply is cut to its first `cap` tokens, the bound of the model it is
/// compared with: a checker that reads the action in a reply's third sentence would otherwise
/// compare whole resolutions with replies that could never reach it.
pub fn baseline_replies(
    dataset: &Dataset,
    n: usize,
    cap: Option<usize>,
) -> Result<Vec<RepliesReport>, CoreError> {
    let tickets = test_tickets(dataset, n)?;
    let unfit = |e: super::probe::EvalError| CoreError::Corpus(e.to_string());
    let majority = MajorityAction::fit(&dataset.corpus).map_err(unfit)?;
    let nearest = RetrieveNearest::fit(&dataset.corpus).map_err(unfit)?;
    let copy = |reply: Option<&str>| reply.unwrap_or_default().to_string();
    let by_majority = tickets.iter().map(|t| copy(majority.reply(t.doc)));
    let by_nearest = tickets.iter().map(|t| copy(nearest.reply(t.doc)));
    let writers = [
        (
            "majority-action",
            "copies the training resolution of the action most often required for the \
             ticket's issue type",
            by_majority.collect::<Vec<_>>(),
        ),
        (
            "retrieve-nearest",
            "copies the resolution of the most similar training ticket (TF-IDF cosine)",
            by_nearest.collect::<Vec<_>>(),
        ),
    ];
    let mut out = Vec::with_capacity(writers.len());
    for (writer, how, texts) in writers {
        let mut ids = texts
            .iter()
            .map(|r| dataset.tokenizer.encode(r))
            .collect::<Result<Vec<_>, CoreError>>()?;
        let texts = match cap {
            Some(cap) => {
                ids.iter_mut().for_each(|r| r.truncate(cap));
                reply_texts(dataset, &ids)?
            }
            None => texts,
        };
        let replies = judge(&tickets, texts);
        out.push(RepliesReport {
            writer: writer.to_string(),
            decoding: "copy".to_string(),
            how: how.to_string(),
            greedy: ReplySetScore::of(&replies, &ids),
            sampled: None,
            seed: None,
            cap,
            samples: replies.into_iter().take(SAMPLES_KEPT).collect(),
            common: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[path = "replies_tests.rs"]
mod tests;
