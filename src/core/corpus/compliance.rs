//! The policy-compliance checker: does a support reply take the action the policy requires,
//! and if not, why not?
//!
//! The lab generates replies to support tickets with a tiny language model and scores them
//! here against the [`policy`](super::policy) table. The checker is a rule-based reader of
//! English support replies — lexicons of action expressions, negation and hedge cues with
//! clause scope, policy mentions — not a matcher of known sentences. It reads a reply in five
//! steps:
//!
//! 1. **Normalise and mask.** Curly quotes become straight, contractions are expanded
//!    (`can’t` → `can not`, `we'll` → `we will`), and whatever names a person, an order or a
//!    date becomes one opaque entity token: capitalised words inside a sentence, greeting and
//!    sign-off names (`Hi Will,`, `— May`), names the ticket uses, months beside numbers, digits.
//!    Cues are matched on what is left, so `may` only hedges when a writer did not capitalise
//!    it, and swapping the customer for `May`, `Will` or `Hope` cannot change a verdict.
//! 2. **Sentences and clauses.** Sentences end at `.`, `!`, `?` and line breaks; clauses at
//!    `;`, `:`, dashes, brackets and contrastive or causal conjunctions (`but`, `however`,
//!    `although`, `so`, `because`, `which`…).
//! 3. **Lexicons.** Phrase patterns mark action expressions (refund, replacement, repair,
//!    cancel, escalate, and explicit declines such as `not eligible`), negators, hedges,
//!    conditions, the customer's own request (`you asked for`) and generic remedy verbs
//!    (`accept`, `help`, `approve`); a second pass marks mentions of each policy (`30-day
//!    window`, `warranty`, `transit damage`, `security team`…).
//! 4. **Scope.** An action takes the cues before it in its clause back to the nearest subject
//!    (`we`, `I`, `you will`…) or a verb that opens another predicate (`worry`, `charge`), and
//!    the predicates after it (`a replacement isn't possible`, `may be an option`). A question
//!    or a condition only mentions an action; a hedge wins over a negation; an odd number of
//!    negators refuses it. Refusing a positive action affirms a decline.
//! 5. **Verdict.** The findings are weighed in the fixed order of precedence documented on
//!    [`check`].
//!
//! `text` does step 1 and 2, `lexicon` holds the patterns as plain-text tables (a new cue is
//! one line), `reading` does step 4; this file weighs the findings and explains the verdict.

mod lexicon;
mod reading;
mod text;

use serde::{Deserialize, Serialize};

use super::policy::{Action, Policy};
use reading::{Finding, Reading, Status};

/// Why a reply does or does not comply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Commits to the required action and cites no other policy.
    Complies,
    /// Refuses the required action.
    Negated,
    /// Only hedges about the required action, without committing.
    Hedged,
    /// Commits to the required action but cites a policy that does not apply.
    WrongPolicy,
    /// Commits to the required action and refuses it, or promises incompatible outcomes.
    Contradictory,
    /// Commits to another action and not the required one.
    WrongAction,
    /// Commits to no action at all.
    NoAction,
}

impl Reason {
    pub const ALL: [Reason; 7] = [
        Reason::Complies,
        Reason::Negated,
        Reason::Hedged,
        Reason::WrongPolicy,
        Reason::Contradictory,
        Reason::WrongAction,
        Reason::NoAction,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Reason::Complies => "complies",
            Reason::Negated => "negated",
            Reason::Hedged => "hedged",
            Reason::WrongPolicy => "wrong_policy",
            Reason::Contradictory => "contradictory",
            Reason::WrongAction => "wrong_action",
            Reason::NoAction => "no_action",
        }
    }
}

/// The checker's judgement of one reply, with what it found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub compliant: bool,
    pub reason: Reason,
    /// One sentence for a student, quoting the clause that decided.
    pub explanation: String,
    /// Actions the reply commits to; `decline` when it declines outright or refuses a
    /// positive action.
    pub affirmed: Vec<Action>,
    /// Actions the reply refuses (`decline` when it refuses to decline).
    pub negated: Vec<Action>,
    /// Actions the reply only hedges about.
    pub hedged: Vec<Action>,
    /// Policies the reply names (a mention that fits several policies counts as the one that
    /// applies when it is among them).
    pub policies_cited: Vec<Policy>,
}

/// Judges whether `reply` takes the `required` action under `policy`. The `ticket` only helps
/// to recognise the customer's name.
///
/// Order of precedence, for a positive required action X (refund, replacement, repair,
/// escalate, cancel):
/// 1. **contradictory** — X is affirmed and also refused, or the reply declines outright, or
///    it also promises an incompatible remedy (two of refund, replacement, repair);
/// 2. **wrong_policy** — X is affirmed but the reply cites a policy that does not apply;
/// 3. **complies** — X is affirmed;
/// 4. **negated** — X is refused, or the reply declines outright;
/// 5. **hedged** — X is only hedged about;
/// 6. **wrong_action** — another action is affirmed (refusing another positive action
///    affirms a decline);
/// 7. **no_action**.
///
/// For a required decline: contradictory (a decline together with an affirmed remedy —
/// refund, replacement or repair — or two incompatible remedies), wrong_policy, complies (a
/// decline is affirmed), negated (the reply refuses to decline), hedged (any hedged action),
/// wrong_action (a remedy, escalation or cancellation is affirmed), no_action.
pub fn check(policy: Policy, required: Action, ticket: &str, reply: &str) -> Verdict {
    let names = text::ticket_names(ticket);
    let reading = Reading::new(reply, &names);
    let findings = reading.findings();
    decide(policy, required, &reading, &findings)
}

fn remedy(action: Action) -> bool {
    matches!(
        action,
        Action::Refund | Action::Replacement | Action::Repair
    )
}

fn noun(action: Action) -> &'static str {
    match action {
        Action::Refund => "refund",
        Action::Replacement => "replacement",
        Action::Repair => "repair",
        Action::Decline => "decline",
        Action::Escalate => "escalation",
        Action::Cancel => "cancellation",
    }
}

fn phrase(action: Action) -> &'static str {
    match action {
        Action::Refund => "a refund",
        Action::Replacement => "a replacement",
        Action::Repair => "a repair",
        Action::Decline => "declining the request",
        Action::Escalate => "escalating the case",
        Action::Cancel => "a cancellation",
    }
}

fn decide(policy: Policy, required: Action, reading: &Reading, findings: &[Finding]) -> Verdict {
    let with = |action: Action, status: Status| {
        findings
            .iter()
            .find(|f| f.action == action && f.status == status)
            .map(|f| f.clause)
    };
    let positives = [
        Action::Refund,
        Action::Replacement,
        Action::Repair,
        Action::Escalate,
        Action::Cancel,
    ];
    let affirmed_pos: Vec<Action> = positives
        .into_iter()
        .filter(|&a| with(a, Status::Affirmed).is_some())
        .collect();
    let negated_pos: Vec<Action> = positives
        .into_iter()
        .filter(|&a| with(a, Status::Negated).is_some())
        .collect();
    let hedged_pos: Vec<Action> = positives
        .into_iter()
        .filter(|&a| with(a, Status::Hedged).is_some())
        .collect();
    let outright = with(Action::Decline, Status::Affirmed);
    let refused_decline = with(Action::Decline, Status::Negated);
    let hedged_decline = with(Action::Decline, Status::Hedged);
    // Refusing a positive action affirms a decline.
    let decline = outright.or_else(|| negated_pos.first().and_then(|&a| with(a, Status::Negated)));

    let mut affirmed = affirmed_pos.clone();
    if decline.is_some() {
        affirmed.push(Action::Decline);
    }
    let mut negated = negated_pos.clone();
    if refused_decline.is_some() {
        negated.push(Action::Decline);
    }
    let mut hedged = hedged_pos.clone();
    if hedged_decline.is_some() {
        hedged.push(Action::Decline);
    }
    let mut policies_cited: Vec<Policy> = Vec::new();
    let mut other_policy = None;
    for mention in &reading.policies {
        let cited = if mention.policies.contains(&policy) {
            policy
        } else {
            mention.policies[0]
        };
        if cited != policy && other_policy.is_none() {
            other_policy = Some((cited, mention.clause));
        }
        if !policies_cited.contains(&cited) {
            policies_cited.push(cited);
        }
    }

    let title = policy.title();
    let q = |clause: usize| reading.quote(clause);
    let (reason, explanation) = if required == Action::Decline {
        let remedy_promised = affirmed_pos.iter().find(|&&a| remedy(a));
        if let (Some(d), Some(&r)) = (decline, remedy_promised) {
            let rc = with(r, Status::Affirmed).unwrap_or(d);
            (
                Reason::Contradictory,
                format!(
                    "The reply declines the request (“{}”) but also promises {} (“{}”).",
                    q(d),
                    phrase(r),
                    q(rc)
                ),
            )
        } else if let Some(d) = decline {
            match other_policy {
                Some((other, c)) => (
                    Reason::WrongPolicy,
                    format!(
                        "The reply declines the request but cites the {} instead of the {title}: “{}”.",
                        other.title(),
                        q(c)
                    ),
                ),
                None => (
                    Reason::Complies,
                    format!(
                        "The reply declines the request, as the {title} requires: “{}”.",
                        q(d)
                    ),
                ),
            }
        } else if let Some(d) = refused_decline {
            (
                Reason::Negated,
                format!(
                    "The reply refuses the decline the {title} requires: “{}”.",
                    q(d)
                ),
            )
        } else if let Some(h) =
            hedged_decline.or_else(|| hedged_pos.first().and_then(|&a| with(a, Status::Hedged)))
        {
            (
                Reason::Hedged,
                format!(
                    "The reply only hedges where the {title} requires a clear decline: “{}”.",
                    q(h)
                ),
            )
        } else if let Some(&a) = affirmed_pos.first() {
            (
                Reason::WrongAction,
                format!(
                    "The reply commits to {} where the {title} requires declining the request: “{}”.",
                    phrase(a),
                    q(with(a, Status::Affirmed).unwrap_or(0))
                ),
            )
        } else {
            (
                Reason::NoAction,
                format!("The reply takes no action; the {title} requires declining the request."),
            )
        }
    } else {
        let yes = with(required, Status::Affirmed);
        let no = with(required, Status::Negated);
        let rival = affirmed_pos
            .iter()
            .find(|&&a| a != required && remedy(a) && remedy(required));
        match yes {
            Some(y) if no.is_some() || outright.is_some() || rival.is_some() => {
                let (what, c) = match (no, outright, rival) {
                    (Some(n), _, _) => ("refuses it".to_string(), n),
                    (None, Some(d), _) => ("declines the request".to_string(), d),
                    (None, None, Some(&r)) => (
                        format!("also promises {}", phrase(r)),
                        with(r, Status::Affirmed).unwrap_or(y),
                    ),
                    (None, None, None) => (String::new(), y),
                };
                (
                    Reason::Contradictory,
                    format!(
                        "The reply commits to the {} (“{}”) but {what} (“{}”).",
                        noun(required),
                        q(y),
                        q(c)
                    ),
                )
            }
            Some(y) => match other_policy {
                Some((other, c)) => (
                    Reason::WrongPolicy,
                    format!(
                        "The reply commits to the {} but cites the {} instead of the {title}: “{}”.",
                        noun(required),
                        other.title(),
                        q(c)
                    ),
                ),
                None => (
                    Reason::Complies,
                    format!(
                        "The reply commits to the {} the {title} requires: “{}”.",
                        noun(required),
                        q(y)
                    ),
                ),
            },
            None => {
                if let Some(n) = no.or(outright) {
                    (
                        Reason::Negated,
                        format!(
                            "The reply refuses the {} the {title} requires: “{}”.",
                            noun(required),
                            q(n)
                        ),
                    )
                } else if let Some(h) = with(required, Status::Hedged) {
                    (
                        Reason::Hedged,
                        format!(
                            "The reply only hedges about the {} the {title} requires and never commits to it: “{}”.",
                            noun(required),
                            q(h)
                        ),
                    )
                } else if let Some((a, c)) = affirmed_pos
                    .iter()
                    .find_map(|&a| with(a, Status::Affirmed).map(|c| (a, c)))
                    .or_else(|| decline.map(|d| (Action::Decline, d)))
                {
                    (
                        Reason::WrongAction,
                        format!(
                            "The reply commits to {} instead of the {} the {title} requires: “{}”.",
                            phrase(a),
                            noun(required),
                            q(c)
                        ),
                    )
                } else {
                    (
                        Reason::NoAction,
                        format!(
                            "The reply takes no action; the {title} requires {}.",
                            phrase(required)
                        ),
                    )
                }
            }
        }
    };
    Verdict {
        compliant: reason == Reason::Complies,
        reason,
        explanation,
        affirmed,
        negated,
        hedged,
        policies_cited,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use text::{Kind, mask_entities, normalise, tokenize};

    fn reason(policy: Policy, required: Action, reply: &str) -> Reason {
        check(policy, required, "", reply).reason
    }

    fn assert_all(policy: Policy, required: Action, expected: Reason, replies: &[&str]) {
        for reply in replies {
            let verdict = check(policy, required, "", reply);
            assert_eq!(
                verdict.reason, expected,
                "{reply:?} → {}",
                verdict.explanation
            );
            assert_eq!(verdict.compliant, expected == Reason::Complies);
        }
    }

    #[test]
    fn contractions_expand_and_entities_merge() {
        let words = |s: &str| -> Vec<String> {
            mask_entities(tokenize(&normalise(s)), &BTreeSet::new())
                .into_iter()
                .map(|t| match t.kind {
                    Kind::Entity => "<e>".to_string(),
                    _ => t.text,
                })
                .collect()
        };
        assert_eq!(words("We can’t"), ["we", "can", "not"]);
        assert_eq!(words("it won't"), ["it", "will", "not"]);
        assert_eq!(words("we'll"), ["we", "will"]);
        assert_eq!(
            words("Order #48213 on May 3, 2026."),
            ["order", "<e>", "on", "<e>", "."]
        );
        assert_eq!(
            words("on 2026-05-01 or 12 March"),
            ["on", "<e>", "or", "<e>"]
        );
        assert_eq!(words("a 30-day window"), ["a", "30", "day", "window"]);
        assert_eq!(
            words("Hi Will, thanks — May"),
            ["hi", "<e>", ",", "thanks", "—", "<e>"]
        );
        assert_eq!(words("Will, we may"), ["<e>", ",", "we", "may"]);
        assert_eq!(words("Unfortunately, we"), ["unfortunately", ",", "we"]);
    }

    #[test]
    fn clear_commitments_comply() {
        assert_all(
            Policy::Returns,
            Action::Refund,
            Reason::Complies,
            &[
                "As you're within our 30-day return policy, we'll refund the full amount once the kettle is back with us.",
                "You'll get your money back within five working days.",
                "We cannot process your refund until we receive the item.",
                "If you send it back within 30 days, we will refund you.",
                "We're happy to process your return and refund you in full.",
                "You asked about a refund. I've processed it today.",
            ],
        );
        assert_all(
            Policy::Billing,
            Action::Refund,
            Reason::Complies,
            &[
                "We've reversed the duplicate charge; it'll be back on your card in 3-5 days.",
                "The overcharge will be credited back to your account.",
            ],
        );
        assert_all(
            Policy::DamagedOnArrival,
            Action::Replacement,
            Reason::Complies,
            &[
                "Sorry it arrived damaged! A new one is on its way to you today.",
                "Don't worry, we'll send a replacement right away.",
                "We won't charge you for the replacement, which ships today.",
            ],
        );
        assert_all(
            Policy::Warranty,
            Action::Repair,
            Reason::Complies,
            &[
                "Our technicians will fix it free of charge under the one-year warranty.",
                "We'll replace the faulty thermostat free of charge.",
                "Our engineers will get it working again.",
            ],
        );
        assert_all(
            Policy::Subscription,
            Action::Cancel,
            Reason::Complies,
            &[
                "I've cancelled your subscription and you won't be charged again.",
                "Your plan won't renew.",
                "We've switched off auto-renewal for you.",
            ],
        );
        assert_all(
            Policy::Subscription,
            Action::Refund,
            Reason::Complies,
            &["We've canceled the subscription and refunded the renewal charge."],
        );
        assert_all(
            Policy::AccountSecurity,
            Action::Escalate,
            Reason::Complies,
            &[
                "I've passed this to our security team, who will contact you shortly.",
                "Our fraud team will investigate this today.",
            ],
        );
        assert_all(
            Policy::Delivery,
            Action::Escalate,
            Reason::Complies,
            &["I've opened an investigation with the carrier."],
        );
        assert_all(
            Policy::WrongItem,
            Action::Replacement,
            Reason::Complies,
            &[
                "We'll send you the correct model straight away.",
                "We'll swap it for the right colour, no questions asked.",
            ],
        );
    }

    #[test]
    fn refusing_a_positive_action_is_a_decline() {
        assert_all(
            Policy::Returns,
            Action::Decline,
            Reason::Complies,
            &[
                "We are unable to refund this order as it is past the 30-day window.",
                "I'm afraid we can't accept returns after 30 days.",
                "We must decline your refund request.",
                "A refund isn't possible for final-sale items.",
            ],
        );
        assert_all(
            Policy::Warranty,
            Action::Decline,
            Reason::Complies,
            &[
                "Accidental damage isn't covered by our one-year warranty.",
                "Your kettle is no longer covered by our warranty, so we're unable to repair it.",
            ],
        );
        assert_all(
            Policy::Delivery,
            Action::Decline,
            Reason::Complies,
            &[
                "Your parcel is still moving, so a refund isn't something we can offer.",
                "As your parcel is still moving, we're not able to offer a refund at this stage.",
            ],
        );
    }

    #[test]
    fn refusals_of_the_required_action_are_negated() {
        assert_all(
            Policy::Returns,
            Action::Refund,
            Reason::Negated,
            &[
                "Unfortunately we cannot refund this order.",
                "A refund isn't possible for this order.",
                "We're not in a position to issue a refund.",
                "I'm sorry, but no refund will be issued.",
                "Refunds are not issued for this item.",
                "We'll send you a replacement instead of a refund.",
                "We have to decline your request.",
            ],
        );
        assert_all(
            Policy::ProductSafety,
            Action::Escalate,
            Reason::Negated,
            &["We won't be escalating this."],
        );
    }

    #[test]
    fn hedges_without_commitment_are_hedged() {
        assert_all(
            Policy::Returns,
            Action::Refund,
            Reason::Hedged,
            &[
                "We may be able to offer a refund once we look at it.",
                "It may be possible to refund you.",
                "We'll refund you if possible.",
                "We will try to refund you.",
                "Perhaps we could refund you.",
                "Hopefully we can sort out a refund soon.",
                "We'll see whether a refund is possible.",
                "We can't promise a refund.",
                "We may not be able to refund this.",
            ],
        );
        assert_all(
            Policy::DamagedOnArrival,
            Action::Replacement,
            Reason::Hedged,
            &[
                "A replacement might be an option.",
                "We'll see if we can send a replacement.",
            ],
        );
    }

    #[test]
    fn other_policies_and_contradictions() {
        assert_eq!(
            reason(
                Policy::DamagedOnArrival,
                Action::Replacement,
                "Under our one-year warranty we will replace it."
            ),
            Reason::WrongPolicy
        );
        assert_eq!(
            reason(
                Policy::DamagedOnArrival,
                Action::Replacement,
                "This isn't a warranty matter: under our damaged-on-arrival policy we will replace it."
            ),
            Reason::Complies
        );
        assert_all(
            Policy::Returns,
            Action::Refund,
            Reason::Contradictory,
            &[
                "We will refund you in full, and we'll also send a replacement.",
                "We will refund you, but a refund is not possible for this item.",
            ],
        );
        assert_all(
            Policy::Returns,
            Action::Decline,
            Reason::Contradictory,
            &[
                "We can't accept this return, but we'll refund you anyway.",
                "We can't refund this, but we'll send you a replacement.",
            ],
        );
    }

    #[test]
    fn other_actions_and_no_action() {
        assert_eq!(
            reason(
                Policy::Warranty,
                Action::Repair,
                "We will send you a new kettle."
            ),
            Reason::WrongAction
        );
        assert_eq!(
            reason(
                Policy::Returns,
                Action::Decline,
                "We will refund you in full."
            ),
            Reason::WrongAction
        );
        assert_eq!(
            reason(
                Policy::Subscription,
                Action::Refund,
                "We're unable to cancel your subscription."
            ),
            Reason::WrongAction
        );
        assert_all(
            Policy::Returns,
            Action::Refund,
            Reason::NoAction,
            &[
                "Thanks for your message. We hope you enjoy your day.",
                "Would you like a refund or a replacement?",
                "I understand you'd like a refund.",
                "We'll send you a return label.",
            ],
        );
    }

    #[test]
    fn names_that_are_words_do_not_change_the_verdict() {
        let replies = [
            (
                "Hi {n}, we will refund your order from {d}.",
                Reason::Complies,
            ),
            (
                "{n}, a full refund has been issued to your card.",
                Reason::Complies,
            ),
            ("Thanks, {n}. We may be able to refund it.", Reason::Hedged),
            ("We can't refund this order, {n}. — {n}", Reason::Negated),
        ];
        for (template, expected) in replies {
            for name in [
                "Sam", "May", "Will", "Grant", "Hope", "Faith", "Chance", "Case", "Sue",
            ] {
                for date in ["May 3", "12 March", "2026-05-01"] {
                    let reply = template.replace("{n}", name).replace("{d}", date);
                    let ticket = format!("Hello, I bought it on {date}. Thanks, {name}");
                    let verdict = check(Policy::Returns, Action::Refund, &ticket, &reply);
                    assert_eq!(verdict.reason, expected, "{reply}: {}", verdict.explanation);
                }
            }
        }
    }

    #[test]
    fn scope_follows_clauses_and_predicates() {
        assert_all(
            Policy::Returns,
            Action::Refund,
            Reason::Negated,
            &[
                "There's no need to refund the order.",
                "Having checked, a refund will not be possible.",
                "I've checked the dates, and a refund isn't possible now.",
                "There is no way we can refund this.",
            ],
        );
        assert_all(
            Policy::Returns,
            Action::Decline,
            Reason::Complies,
            &[
                "We're not able to take it back, I'm afraid.",
                "Sadly, nothing more can be done.",
            ],
        );
        assert_all(
            Policy::Returns,
            Action::Decline,
            Reason::Hedged,
            &["It's possible that we can't accept it, but I'll check."],
        );
        assert_all(
            Policy::WrongItem,
            Action::Replacement,
            Reason::Complies,
            &[
                "The model you actually ordered will be dispatched tomorrow.",
                "A fresh unit will be sent out on Monday.",
            ],
        );
        assert_all(
            Policy::Warranty,
            Action::Repair,
            Reason::Complies,
            &["Our technicians will repair it, usually within ten days."],
        );
        assert_all(
            Policy::Subscription,
            Action::Cancel,
            Reason::Complies,
            &[
                "Done — you won't be billed again and the subscription is closed.",
                "Your membership will end on the next renewal date.",
            ],
        );
    }

    #[test]
    fn odd_text_reads_as_no_action() {
        for reply in [
            "",
            " ",
            ".",
            "\n\n",
            "'",
            "’s",
            "—",
            "#",
            "May",
            "n't",
            "😀 é …",
            "e.g. Mr. (",
            "- - -",
        ] {
            let verdict = check(Policy::Returns, Action::Refund, reply, reply);
            assert_eq!(verdict.reason, Reason::NoAction, "{reply:?}");
        }
    }

    #[test]
    fn explanations_quote_the_deciding_clause() {
        let verdict = check(
            Policy::Returns,
            Action::Refund,
            "",
            "Sorry! We cannot refund this order.",
        );
        assert_eq!(
            verdict.explanation,
            "The reply refuses the refund the 30-day return policy requires: “We cannot refund this order”."
        );
        assert_eq!(verdict.negated, vec![Action::Refund]);
        assert_eq!(verdict.affirmed, vec![Action::Decline]);
        let json = serde_json::to_string(&verdict.reason).unwrap_or_default();
        assert_eq!(json, "\"negated\"");
    }
}
