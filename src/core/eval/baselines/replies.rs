//! Reply baselines for the support-desk corpus: answer a held-out ticket with a training
//! resolution, chosen without a model, and score it with the compliance checker
//! ([`check`](crate::core::corpus::compliance::check)) as a generated reply is scored.
//!
//! A ticket document holds the ticket (`parts[0]`) and its true resolution (`parts[1]`); the
//! baselines read only the ticket and, for [`MajorityAction`], its issue type.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::bow::{BowVectorizer, MAX_TERMS};
use crate::core::corpus::compliance::{Verdict, check};
use crate::core::corpus::policy::{Action, Issue};
use crate::core::corpus::{Corpus, Document, Split, TicketCase};
use crate::core::eval::probe::EvalError;
use crate::core::metrics::accuracy_standard_error;

/// The ticket text, case and true resolution of a ticket document.
fn ticket_of(doc: &Document) -> Option<(&TicketCase, String, String)> {
    let case = doc.case.as_ref()?;
    let ticket = doc.parts.first()?.text();
    let resolution = doc.parts.get(1)?.text();
    Some((case, ticket, resolution))
}

/// The training split's tickets as (case, ticket text, resolution text), or why there are none.
fn training_tickets(corpus: &Corpus) -> Result<Vec<(&TicketCase, String, String)>, EvalError> {
    let tickets: Vec<_> = corpus.split(Split::Train).filter_map(ticket_of).collect();
    if tickets.is_empty() {
        return Err(EvalError::Corpus(
            "the reply baselines need tickets with resolutions in the training split: only the \
             support-desk corpus has them"
                .to_string(),
        ));
    }
    Ok(tickets)
}

/// For each issue type, the resolution of the action training tickets of that type most often
/// require.
///
/// Every resolution greets its customer by name and quotes an order number, so no two are
/// the same text: counting exact texts alone would pick the alphabetically first resolution of
/// the issue, whatever action it takes. So the majority is taken in two steps: the most common
/// required action among the issue's training tickets (ties: the first in [`Action::ALL`]
/// order), then the most common exact resolution text among the tickets of that issue and
/// action (ties: the alphabetically first). An issue with no training ticket gets the same
/// choice made over all training tickets.
#[derive(Debug, Clone, PartialEq)]
pub struct MajorityAction {
    by_issue: BTreeMap<Issue, (Action, String)>,
    overall: (Action, String),
}

impl MajorityAction {
    pub fn fit(corpus: &Corpus) -> Result<Self, EvalError> {
        let tickets = training_tickets(corpus)?;
        let mut by_issue = BTreeMap::new();
        for issue in Issue::ALL {
            let of_issue: Vec<_> = tickets.iter().filter(|t| t.0.issue == issue).collect();
            if let Some(choice) = majority(&of_issue) {
                by_issue.insert(issue, choice);
            }
        }
        let all: Vec<_> = tickets.iter().collect();
        let overall = majority(&all).ok_or_else(|| EvalError::Corpus("no tickets".into()))?;
        Ok(Self { by_issue, overall })
    }

    /// The action the baseline's reply for `issue` takes.
    pub fn action(&self, issue: Issue) -> Action {
        self.by_issue.get(&issue).unwrap_or(&self.overall).0
    }

    /// The reply to a ticket document; `None` for a document that is not a ticket.
    pub fn reply(&self, ticket: &Document) -> Option<&str> {
        let case = ticket.case.as_ref()?;
        Some(&self.by_issue.get(&case.issue).unwrap_or(&self.overall).1)
    }
}

/// The majority action of `tickets` and its most common resolution (see [`MajorityAction`]).
fn majority(tickets: &[&(&TicketCase, String, String)]) -> Option<(Action, String)> {
    let mut actions: BTreeMap<Action, usize> = BTreeMap::new();
    for t in tickets {
        *actions.entry(t.0.action).or_default() += 1;
    }
    // Most tickets first; among equal counts the smaller key compares as greater.
    let (&action, _) = actions
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
    let mut texts: BTreeMap<&str, usize> = BTreeMap::new();
    for t in tickets.iter().filter(|t| t.0.action == action) {
        *texts.entry(t.2.as_str()).or_default() += 1;
    }
    let (&text, _) = texts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
    Some((action, text.to_string()))
}

/// The resolution of the training ticket most similar to the ticket asked about: cosine of
/// TF-IDF vectors over the training tickets' words ([`MAX_TERMS`] most frequent), ties to the
/// earlier ticket in corpus order (so a ticket sharing no word gets the first one).
#[derive(Debug, Clone, PartialEq)]
pub struct RetrieveNearest {
    vectorizer: BowVectorizer,
    tickets: Vec<Vec<(usize, f64)>>,
    resolutions: Vec<String>,
}

impl RetrieveNearest {
    pub fn fit(corpus: &Corpus) -> Result<Self, EvalError> {
        let training = training_tickets(corpus)?;
        let vectorizer = BowVectorizer::fit(training.iter().map(|t| t.1.as_str()), MAX_TERMS)?;
        let tickets = training.iter().map(|t| vectorizer.sparse(&t.1)).collect();
        let resolutions = training.into_iter().map(|t| t.2).collect();
        Ok(Self {
            vectorizer,
            tickets,
            resolutions,
        })
    }

    /// Index of the training ticket nearest `text` (see the type's doc).
    pub fn nearest(&self, text: &str) -> usize {
        let mut query = vec![0.0; self.vectorizer.dims()];
        for (j, w) in self.vectorizer.sparse(text) {
            query[j] = w;
        }
        let (mut best, mut best_cosine) = (0, f64::NEG_INFINITY);
        for (i, ticket) in self.tickets.iter().enumerate() {
            let cosine: f64 = ticket.iter().map(|&(j, w)| w * query[j]).sum();
            if cosine > best_cosine {
                (best, best_cosine) = (i, cosine);
            }
        }
        best
    }

    /// The reply to a ticket document; `None` for a document that is not a ticket.
    pub fn reply(&self, ticket: &Document) -> Option<&str> {
        ticket.case.as_ref()?;
        let text = ticket.parts.first()?.text();
        self.resolutions
            .get(self.nearest(&text))
            .map(String::as_str)
    }
}

/// The compliance checker's verdict on `reply` to the ticket `ticket_text` of `case`.
pub fn score_reply(case: &TicketCase, ticket_text: &str, reply: &str) -> Verdict {
    check(case.policy, case.action, ticket_text, reply)
}

/// Share of tickets whose reply complies, with its standard error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceRate {
    pub compliant: usize,
    pub scored: usize,
    pub rate: f64,
    /// √(p(1 − p)/n).
    pub rate_se: f64,
}

/// Scores `reply` on every ticket document among `docs` (others are skipped, as are tickets
/// it gives no reply for). `None` when nothing was scored.
pub fn compliance_rate<'a, 'r>(
    docs: impl IntoIterator<Item = &'a Document>,
    reply: impl Fn(&Document) -> Option<&'r str>,
) -> Option<ComplianceRate> {
    let (mut compliant, mut scored) = (0, 0);
    for doc in docs {
        let (Some((case, ticket, _)), Some(answer)) = (ticket_of(doc), reply(doc)) else {
            continue;
        };
        let ok = score_reply(case, &ticket, answer).compliant;
        compliant += usize::from(ok);
        scored += 1;
    }
    let rate = compliant as f64 / scored.max(1) as f64;
    Some(ComplianceRate {
        compliant,
        scored,
        rate,
        rate_se: accuracy_standard_error(rate, scored)?,
    })
}
