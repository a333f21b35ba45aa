//! Reading a reply: the lexicon items of each clause, the scope of their cues, and what the
//! reply says about each action.

use std::collections::BTreeSet;

use super::super::policy::{Action, Policy};
use super::lexicon::{
    AFTER_NOT, AUXILIARIES, BARRIER_VERBS, CLAUSE_AUXILIARIES, CUE_PATTERNS, FILLER,
    MAYBE_SUBJECTS, POLICY_PATTERNS, Role, SUBJECTS, longest_matches,
};
use super::text::{Clause, Kind, Token, listed, mask_entities, normalise, segment, tokenize};

/// How a reply puts an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Affirmed,
    Negated,
    Hedged,
    /// Asked about, conditional, or the customer's request: no commitment either way.
    Mentioned,
}

#[derive(Debug, Clone, Copy)]
/// A lexicon match: its role, its token range and its clause.
struct Item {
    role: Role,
    start: usize,
    end: usize,
    clause: usize,
}

/// A policy the reply cites (mentions ruled out with `not` are left out).
#[derive(Debug, Clone)]
pub(super) struct PolicyMention {
    pub(super) policies: &'static [Policy],
    pub(super) clause: usize,
}

/// One action the reply talks about, and how.
#[derive(Debug, Clone, Copy)]
pub(super) struct Finding {
    pub(super) action: Action,
    pub(super) status: Status,
    pub(super) clause: usize,
    /// A request the reply has not (yet) granted, which a later `it has been processed` may.
    pub(super) open_request: bool,
}

/// The cues that reach one item, before or after it.
#[derive(Debug, Default)]
struct Scope {
    negators: Vec<usize>,
    hedged: bool,
    conditional: bool,
    request: bool,
    grants: Vec<usize>,
    until: bool,
}

/// A reply as tokens, clauses and lexicon items, with its policy mentions.
pub(super) struct Reading {
    text: String,
    tokens: Vec<Token>,
    clauses: Vec<Clause>,
    questions: Vec<bool>,
    items: Vec<Item>,
    /// The item each token belongs to.
    owner: Vec<Option<usize>>,
    pub(super) policies: Vec<PolicyMention>,
}

impl Reading {
    pub(super) fn new(reply: &str, names: &BTreeSet<String>) -> Reading {
        let text = normalise(reply);
        let tokens = mask_entities(tokenize(&text), names);
        let (clauses, questions) = segment(&tokens);
        let mut items = Vec::new();
        let mut owner = vec![None; tokens.len()];
        let mut policies = Vec::new();
        for (c, clause) in clauses.iter().enumerate() {
            for (start, end, role) in longest_matches(&CUE_PATTERNS, &tokens, clause) {
                owner[start..end]
                    .iter_mut()
                    .for_each(|o| *o = Some(items.len()));
                items.push(Item {
                    role,
                    start,
                    end,
                    clause: c,
                });
            }
        }
        let mut reading = Reading {
            text,
            tokens,
            clauses,
            questions,
            items,
            owner,
            policies: Vec::new(),
        };
        for (c, clause) in reading.clauses.iter().enumerate() {
            for (start, _, names) in longest_matches(&POLICY_PATTERNS, &reading.tokens, clause) {
                if !reading.policy_negated(clause, start) {
                    policies.push(PolicyMention {
                        policies: names,
                        clause: c,
                    });
                }
            }
        }
        reading.policies = policies;
        reading
    }

    fn is_subject(&self, j: usize) -> bool {
        let t = &self.tokens[j];
        if t.kind != Kind::Word {
            return false;
        }
        listed(SUBJECTS, t.text.as_str())
            || (listed(MAYBE_SUBJECTS, t.text.as_str())
                && self
                    .tokens
                    .get(j + 1)
                    .is_some_and(|n| listed(AUXILIARIES, n.text.as_str())))
    }

    /// A plain word where a cue's reach ends.
    fn is_barrier(&self, j: usize) -> bool {
        let t = &self.tokens[j];
        t.kind == Kind::Word
            && (self.is_subject(j)
                || listed(BARRIER_VERBS, t.text.as_str())
                || (matches!(t.text.as_str(), "and" | "or") && self.opens_clause(j)))
    }

    /// Whether the `and`/`or` at `j` joins two clauses rather than two words: a comma before
    /// it, or an auxiliary within three words after it (`and will replace it`, `and the
    /// subscription is closed`).
    fn opens_clause(&self, j: usize) -> bool {
        let comma = j > 0 && self.tokens[j - 1].text == ",";
        let auxiliary = self.tokens[j + 1..(j + 4).min(self.tokens.len())]
            .iter()
            .take_while(|t| t.kind != Kind::Punct)
            .any(|t| t.kind == Kind::Word && listed(CLAUSE_AUXILIARIES, t.text.as_str()));
        comma || auxiliary
    }

    /// A policy mention directly refused (`not covered by our warranty`, `rather than the
    /// warranty`) is ruled out, not cited.
    fn policy_negated(&self, clause: &Clause, start: usize) -> bool {
        let mut j = start;
        let mut words = 0;
        while j > clause.start && words < 4 {
            j -= 1;
            if let Some(k) = self.owner[j] {
                let item = self.items[k];
                match item.role {
                    Role::Neg | Role::No | Role::Act(Action::Decline) => return true,
                    Role::Act(_) => return false,
                    _ => {}
                }
                j = item.start;
            } else if self.is_barrier(j) {
                return false;
            }
            words += 1;
        }
        false
    }

    /// Whether the token at `next` (right after a negator) is a past participle of some other
    /// verb (`not received`, `not arrived`), so the negation stops there. Participles that
    /// govern a following action (`not allowed to refund`) do not stop it.
    fn negates_own_participle(&self, next: usize, action_start: usize) -> bool {
        const GOVERNING: &str = "allowed permitted authorised authorized entitled obliged \
            required prepared supposed pleased inclined expected needed";
        next < action_start
            && self.tokens.get(next).is_some_and(|t| {
                t.kind == Kind::Word
                    && t.text.len() > 4
                    && t.text.ends_with("ed")
                    && !listed(GOVERNING, t.text.as_str())
            })
    }

    /// The cues before item `k` in its clause, up to the nearest barrier.
    fn scan_back(&self, k: usize) -> Scope {
        let item = self.items[k];
        let clause = self.clauses[item.clause];
        let mut scope = Scope::default();
        let mut j = item.start;
        let mut words = 0;
        let mut comma = false;
        while j > clause.start && words <= 10 {
            j -= 1;
            if let Some(c) = self.owner[j] {
                let cue = self.items[c];
                j = cue.start;
                match cue.role {
                    // `not received … goes to our team`: a negator directly before another
                    // verb's participle negates that verb, not the action further on.
                    Role::Neg if self.negates_own_participle(cue.end, item.start) => {}
                    Role::Neg | Role::Act(Action::Decline) => scope.negators.push(c),
                    Role::No if words <= 2 => scope.negators.push(c),
                    Role::Hedge | Role::HedgeAfter => scope.hedged = true,
                    Role::Cond if !comma => scope.conditional = true,
                    Role::Request if !comma => scope.request = true,
                    Role::Grant => scope.grants.push(c),
                    _ => {}
                }
                words += 1;
                continue;
            }
            let t = &self.tokens[j];
            match t.kind {
                Kind::Punct => {
                    if t.text == "," {
                        comma = true;
                    }
                }
                _ if self.is_barrier(j) => {
                    // A complementiser before the subject still governs it: `see if we can`,
                    // `if you would like`.
                    let before = if j > clause.start + 1 && self.tokens[j - 1].is("that") {
                        j - 2
                    } else {
                        j.saturating_sub(1)
                    };
                    if self.is_subject(j)
                        && j > clause.start
                        && let Some(c) = self.owner[before]
                    {
                        match self.items[c].role {
                            Role::Hedge | Role::HedgeAfter => scope.hedged = true,
                            Role::Cond if !comma => scope.conditional = true,
                            Role::Request if !comma => scope.request = true,
                            _ => {}
                        }
                    }
                    break;
                }
                _ => words += 1,
            }
        }
        scope
    }

    /// The predicates after item `k` in its clause.
    fn scan_forward(&self, k: usize) -> Scope {
        let item = self.items[k];
        let clause = self.clauses[item.clause];
        let mut scope = Scope::default();
        let mut j = item.end;
        let mut words = 0;
        while j < clause.end && words <= 8 {
            if let Some(c) = self.owner[j] {
                let cue = self.items[c];
                match cue.role {
                    Role::Neg => {
                        let after_aux = j > 0
                            && listed(AUXILIARIES, self.tokens[j - 1].text.as_str())
                            && self.tokens[j - 1].kind == Kind::Word;
                        let predicate = self
                            .tokens
                            .get(cue.end)
                            .is_some_and(|n| listed(AFTER_NOT, n.text.as_str()));
                        if after_aux && predicate {
                            scope.negators.push(c);
                        }
                    }
                    Role::Act(Action::Decline) => scope.negators.push(c),
                    Role::HedgeAfter | Role::HedgeClause => scope.hedged = true,
                    Role::Grant => scope.grants.push(c),
                    Role::Until => {
                        scope.until = true;
                        break;
                    }
                    Role::Cond => break,
                    _ => {}
                }
                j = cue.end;
                words += 1;
                continue;
            }
            if self.is_barrier(j) {
                break;
            }
            if self.tokens[j].kind != Kind::Punct {
                words += 1;
            }
            j += 1;
        }
        scope
    }

    /// Whether a clause-wide hedge covers item `k`.
    fn clause_hedged(&self, k: usize) -> bool {
        let item = self.items[k];
        self.items.iter().any(|cue| {
            cue.clause == item.clause
                && match cue.role {
                    Role::HedgeBefore => cue.end <= item.start,
                    Role::HedgeClause => true,
                    _ => false,
                }
        })
    }

    /// How item `k` is put, and which cues it used.
    fn status(&self, k: usize) -> (Status, Scope, Scope) {
        let item = self.items[k];
        let back = self.scan_back(k);
        let forward = self.scan_forward(k);
        let question = self.questions[self.clauses[item.clause].sentence];
        let hedged = back.hedged || forward.hedged || self.clause_hedged(k);
        let negators = back.negators.len() + forward.negators.len();
        let requested = back.request || self.is_request_noun(&item);
        let status = if question {
            Status::Mentioned
        } else if back.conditional {
            if hedged {
                Status::Hedged
            } else {
                Status::Mentioned
            }
        } else if hedged {
            Status::Hedged
        } else if negators % 2 == 1 && !forward.until {
            Status::Negated
        } else if requested && back.grants.is_empty() && forward.grants.is_empty() {
            Status::Mentioned
        } else {
            Status::Affirmed
        };
        (status, back, forward)
    }

    /// Words between two token positions that are not filler.
    fn content_gap(&self, from: usize, to: usize) -> usize {
        self.tokens[from..to]
            .iter()
            .filter(|t| t.kind != Kind::Punct && !listed(FILLER, t.text.as_str()))
            .count()
    }

    pub(super) fn findings(&self) -> Vec<Finding> {
        let mut used = vec![false; self.items.len()];
        let mut findings: Vec<Finding> = Vec::new();
        // Positive actions first: they claim the declines and remedy verbs in their scope.
        for (k, item) in self.items.iter().enumerate() {
            let action = match item.role {
                Role::Act(Action::Decline) => continue,
                Role::Act(action) => action,
                Role::Team
                    if !self.items.iter().any(|a| {
                        a.clause == item.clause && a.role == Role::Act(Action::Escalate)
                    }) =>
                {
                    Action::Escalate
                }
                _ => continue,
            };
            let (status, back, forward) = self.status(k);
            for &c in back.negators.iter().chain(&forward.negators) {
                used[c] = true;
            }
            for &c in back.grants.iter().chain(&forward.grants) {
                used[c] = true;
            }
            let open_request = status == Status::Mentioned
                && (back.request || self.is_request_noun(item))
                && !self.questions[self.clauses[item.clause].sentence]
                && !back.conditional;
            findings.push(Finding {
                action,
                status,
                clause: item.clause,
                open_request,
            });
        }
        // Then explicit declines and generic remedy verbs no action claimed.
        for (k, item) in self.items.iter().enumerate() {
            if used[k] {
                continue;
            }
            match item.role {
                Role::Act(Action::Decline) => {
                    let (status, _, _) = self.status(k);
                    findings.push(Finding {
                        action: Action::Decline,
                        status,
                        clause: item.clause,
                        open_request: false,
                    });
                }
                Role::Grant => {
                    let (status, back, _) = self.status(k);
                    // `it has been processed` grants an open request before it.
                    let anaphoric = self.has_anaphor(item);
                    let open = findings.iter().rposition(|f| {
                        f.open_request
                            && f.clause < item.clause
                            && self.clauses[item.clause].sentence
                                <= self.clauses[f.clause].sentence + 1
                    });
                    let clause_has_action = self
                        .items
                        .iter()
                        .any(|a| a.clause == item.clause && matches!(a.role, Role::Act(_)));
                    if anaphoric
                        && !clause_has_action
                        && let Some(f) = open
                    {
                        findings[f].status = status;
                        findings[f].clause = item.clause;
                        findings[f].open_request = false;
                        continue;
                    }
                    let close_negator = back.negators.iter().any(|&c| {
                        self.items[c].role != Role::No
                            && self.content_gap(self.items[c].end, item.start) <= 1
                    });
                    let decline = match status {
                        Status::Negated if close_negator => Some(Status::Affirmed),
                        Status::Hedged if close_negator => Some(Status::Hedged),
                        _ => None,
                    };
                    if let Some(status) = decline {
                        findings.push(Finding {
                            action: Action::Decline,
                            status,
                            clause: item.clause,
                            open_request: false,
                        });
                    }
                }
                _ => {}
            }
        }
        findings.sort_by_key(|f| f.clause);
        findings
    }

    /// `refund request`, `warranty claim`: the action named as something asked for.
    fn is_request_noun(&self, item: &Item) -> bool {
        self.tokens.get(item.end).is_some_and(|n| {
            n.kind == Kind::Word
                && matches!(
                    n.text.as_str(),
                    "request" | "requests" | "claim" | "application" | "enquiry" | "inquiry"
                )
        })
    }

    /// `it`, `this`, `one`, `request`… within three words of a remedy verb.
    fn has_anaphor(&self, item: &Item) -> bool {
        let clause = self.clauses[item.clause];
        let from = item.start.saturating_sub(3).max(clause.start);
        let to = (item.end + 3).min(clause.end);
        self.tokens[from..to].iter().any(|t| {
            t.kind == Kind::Word
                && matches!(
                    t.text.as_str(),
                    "it" | "this" | "that" | "one" | "same" | "request" | "everything"
                )
        })
    }

    /// The clause's text, trimmed to a quotable length.
    pub(super) fn quote(&self, clause: usize) -> String {
        let Some(c) = self.clauses.get(clause) else {
            return String::new();
        };
        let (Some(first), Some(last)) = (self.tokens.get(c.start), self.tokens.get(c.end - 1))
        else {
            return String::new();
        };
        let text = self.text[first.start..last.end]
            .trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '—'));
        const LIMIT: usize = 90;
        if text.chars().count() <= LIMIT {
            text.to_string()
        } else {
            let cut: String = text.chars().take(LIMIT).collect();
            format!("{} …", cut.trim_end())
        }
    }
}
