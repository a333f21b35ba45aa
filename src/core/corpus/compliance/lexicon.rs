//! The lexicons of the compliance checker — action expressions, negators, hedges,
//! conditions, requests, remedy verbs and policy mentions — and the small pattern language
//! they are written in.

use std::sync::LazyLock;

use super::super::policy::{Action, Policy};
use super::text::{Clause, Kind, Token, listed};

/// What a matched phrase does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// An action expression. `Decline` marks an explicit decline (`refuse`, `not eligible`),
    /// which also refuses any action in its scope.
    Act(Action),
    /// A specialist team (`our security team will…`): an escalation unless its clause already
    /// has an escalation verb (`no need to escalate it to our security team`).
    Team,
    /// A negator: before the action, or after it with an auxiliary (`is not possible`).
    Neg,
    /// `no` before a noun: reaches an action at most two words on (`no further refunds`).
    No,
    /// A hedge before the action (`may`, `try to`, `see if`).
    Hedge,
    /// A hedging predicate after the action (`may be possible`, `is under review`).
    HedgeAfter,
    /// A hedging adverb over the rest of its clause (`perhaps`, `hopefully`).
    HedgeBefore,
    /// A hedge over its whole clause (`if possible`, `subject to`).
    HedgeClause,
    /// A condition (`if`, `whether`): the action is only mentioned.
    Cond,
    /// The customer's request (`you asked for`, `regarding`): only mentioned unless granted.
    Request,
    /// A generic remedy verb (`accept`, `help`, `approve`, `processed`): refused on its own it
    /// is a decline; after a request it commits to what was requested.
    Grant,
    /// `until`, `unless`: a refusal followed by it is a condition, not a refusal.
    Until,
    /// A fixed phrase that must not trigger anything (`no problem`, `refund window`).
    Neutral,
}

#[derive(Debug)]
enum Elem {
    /// One of these words; optional when the flag is set.
    Word(Vec<&'static str>, bool),
    /// Up to this many words (no punctuation, no subject pronoun).
    Skip(usize),
    /// The next word is none of these (consumes nothing).
    Not(Vec<&'static str>),
}

#[derive(Debug)]
pub(super) struct Pattern {
    elems: Vec<Elem>,
    /// The match is void when one of the next two words is among these.
    unless_next: Vec<&'static str>,
}

impl Pattern {
    /// `a|b` alternatives, `?a` optional, `*N` up to N words, `~a|b` not followed by these, a
    /// final `!a|b` exclusion of the two words after the match.
    fn parse(spec: &'static str) -> Pattern {
        let mut elems = Vec::new();
        let mut unless_next = Vec::new();
        for part in spec.split_whitespace() {
            if let Some(skip) = part.strip_prefix('*') {
                elems.push(Elem::Skip(skip.parse().unwrap_or(1)));
            } else if let Some(words) = part.strip_prefix('~') {
                elems.push(Elem::Not(words.split('|').collect()));
            } else if let Some(words) = part.strip_prefix('!') {
                unless_next = words.split('|').collect();
            } else if let Some(words) = part.strip_prefix('?') {
                elems.push(Elem::Word(words.split('|').collect(), true));
            } else {
                elems.push(Elem::Word(part.split('|').collect(), false));
            }
        }
        Pattern { elems, unless_next }
    }

    /// The end of a match starting at `i` (exclusive), if any.
    fn match_at(&self, tokens: &[Token], i: usize, end: usize) -> Option<usize> {
        let found = match_elems(&self.elems, tokens, i, end)?;
        let void = tokens[found..end.min(found + 2)]
            .iter()
            .any(|t| t.kind == Kind::Word && self.unless_next.contains(&t.text.as_str()));
        (!void && found > i).then_some(found)
    }
}

fn match_elems(elems: &[Elem], tokens: &[Token], i: usize, end: usize) -> Option<usize> {
    let Some((first, rest)) = elems.split_first() else {
        return Some(i);
    };
    let word_at = |j: usize| tokens.get(j).filter(|_| j < end);
    match first {
        Elem::Word(words, optional) => {
            let here = word_at(i).filter(|t| {
                matches!(t.kind, Kind::Word | Kind::Number) && words.contains(&t.text.as_str())
            });
            if here.is_some()
                && let Some(found) = match_elems(rest, tokens, i + 1, end)
            {
                return Some(found);
            }
            if *optional {
                return match_elems(rest, tokens, i, end);
            }
            None
        }
        Elem::Not(words) => {
            if word_at(i).is_some_and(|t| words.contains(&t.text.as_str())) {
                return None;
            }
            match_elems(rest, tokens, i, end)
        }
        Elem::Skip(n) => {
            for j in i..=i + n {
                if let Some(found) = match_elems(rest, tokens, j, end) {
                    return Some(found);
                }
                let skippable = word_at(j)
                    .is_some_and(|t| t.kind != Kind::Punct && !listed(SUBJECTS, t.text.as_str()));
                if !skippable {
                    return None;
                }
            }
            None
        }
    }
}

/// The lexicon of actions and cues, one pattern a line after its role (`#` starts a comment).
/// A pattern is words separated by spaces: `a|b` alternatives, `?a` optional, `*N` up to N
/// words, `~a|b` not followed by these, a final `!a|b` voiding the match when one of the next
/// two words is among these. At each position the longest match wins (the first listed on a
/// tie), and matched words are not matched again.
const CUES: &str = "
    # Phrases that look like cues but are not.
    neutral      refund|refunds|replacement|repair|cancellation|exchange|returns|return window|windows|policy|policies|period|periods|deadline|timeframe|terms|rules
    neutral      no problem|problems|worries|worry|trouble|hassle|fuss|charge|cost|questions|obligation|later|doubt
    neutral      no need to worry
    neutral      not only|just|long
    neutral      not a problem|worry
    neutral      not the case
    neutral      not at all
    neutral      without delay|charge|cost|hassle|fuss|question|questions|fail
    neutral      without any delay|charge|cost|hassle|fuss
    neutral      in good faith
    neutral      in exchange
    neutral      as soon|quickly|fast as possible|we|you
    neutral      as possible
    neutral      card|payment|transaction|bank ?was|is|were|has|had ?been declined|rejected|refused
    neutral      store credit
    neutral      gift card|voucher
    neutral      fix|fixed|fixing|fixes ?the|this|that|your|any|an *1 charge|charges|billing|error|errors|mistake|problem|issue|account|password|address|typo|invoice|payment|login
    # Refund.
    refund       refund|refunds|refunded|refunding|refundable|reimburse|reimburses|reimbursed|reimbursing|reimbursement|repay|repays|repaid|repaying|repayment|chargeback
    refund       money|funds|cash back
    refund       pay|paid|paying|pays *2 back
    refund       back to|onto|on|into ?your|the ?original|same card|account|bank|payment|paypal
    refund       return|returned|returning ?the|your|that ?full money|funds|payment|charge|amount|difference
    refund       reverse|reversed|reversing|reversal|void|voided|voiding|remove|removed|removing|cancel|cancelled|canceled|cancelling|canceling|undo|undone|refund|refunded ?the|that|this|your|one|both ?of ?the ?duplicate|extra|second|double|incorrect|wrong|additional|erroneous|duplicated|overcharged charge|charges|payment|payments|transaction|transactions|amount|overcharge|difference
    refund       credit|credited|crediting ?back ?the|your ?full ?amount|difference|account|card|payment|money|sum|balance
    refund       accept|accepted|accepting|approve|approved|approving|process|processed|processing ?the|your|this|that return
    # Repair (before replacement: `replace the faulty part` is a repair).
    repair       repair|repairs|repaired|repairing|mend|mends|mended|mending|fix|fixes|fixed|fixing|refurbish|refurbished
    repair       working again|order
    repair       good as new
    repair       technician|technicians|engineer|engineers|workshop
    repair       service|repair centre|center|centres|centers
    repair       replace|replaced|replacing|replaces ?the|its|a|any|your|faulty|broken|failed|defective *1 part|parts|battery|batteries|fuse|cable|cord|filter|component|components|lid|handle|seal|element|switch|motor|thermostat|hinge|screen|button|plug|heating
    repair       replacement part|parts|battery|batteries|fuse|component|components|element|lid|cable|cord|filter|motor|thermostat
    # Replacement.
    replacement  replace|replaces|replaced|replacing|replacement|replacements|exchange|exchanged|exchanging|swap|swapped|swapping|resend|resends|resent|resending|reship|reships|reshipped|reshipping|redeliver|redelivered|redispatch|redispatched|substitute
    replacement  re send|sent|sending|ship|shipped|shipping|dispatch|dispatched|deliver|delivered|post|posted|issue|issued
    replacement  send|sends|sending|sent|ship|ships|shipping|shipped|dispatch|dispatches|dispatching|dispatched|post|posting|posted|mail|mailing|mailed|courier|deliver|delivering|delivered|arrange|arranging|arranged|provide|providing|provided *3 new|another|fresh|second|correct|right|brand|replacement|substitute !label|labels|link|links|email|code|password|invoice|tracking|card|form|address|message|number|reference|receipt|statement|update|updates|information|details|quote|back
    replacement  send|sending|sent|ship|shipping|shipped|dispatch|dispatched|post|posted *3 again|out again
    replacement  you ?actually|originally|really ordered *3 sent|dispatched|shipped|posted|sending|dispatching|shipping|couriered|delivered
    replacement  send|sending|sent|ship|shipping|shipped|dispatch|dispatching|dispatched|post|posting|posted|deliver|delivering *3 you ?actually|originally|really ordered
    replacement  new|fresh|another|second ~label|labels|link|links|email|code|password|invoice|tracking|card|form|address|message|number|reference|receipt|statement|update|updates|information|details|quote|account|policy *2 will|is|has|have|are ?be|been|being sent|dispatched|shipped|posted|delivered|mailed|couriered
    replacement  new|fresh|brand ?new one|unit|units
    replacement  another one|unit
    # Cancel.
    cancel       cancel|cancels|cancelled|canceled|cancelling|canceling|cancellation|cancellations|unsubscribe|unsubscribed|unsubscribing|terminate|terminated|terminating|termination
    cancel       stop|stops|stopped|stopping|close|closed|closing|deactivate|deactivated|disable|disabled|switch|switched|turn|turned ?off *3 subscription|subscriptions|membership|plan|renewal|renewals|auto
    cancel       end|ended|ending ?your|the|this subscription|membership|plan
    cancel       subscription|membership|plan|renewal|renewals *3 stopped|end|ends|ended|closed|deactivated|terminated|disabled|off
    cancel       not|never ?be ?auto renew|renews|renewed|renewing
    cancel       no longer ?be ?auto renew|renews|renewed|renewing
    cancel       no further|more renewals|renewal
    # Escalate.
    escalate     escalate|escalates|escalated|escalating|escalation|escalations|investigate|investigates|investigated|investigating|investigation|investigations
    escalate     pass|passes|passed|passing|forward|forwards|forwarded|forwarding|refer|refers|referred|referring|hand|hands|handed|handing|report|reported|reporting|flag|flagged|flagging|raise|raised|raising|alert|alerted|alerting|notify|notified|notifying|transfer|transferred|transferring|assign|assigned|loop|looped|send|sent|sending|share|shared *4 to|with|in *3 team|teams|department|specialist|specialists|experts|expert|investigators|carrier|courier|colleagues|unit|supervisor|manager|managers
    team         security|safety|fraud|investigations|specialist|escalations|trust|risk|claims team|teams|department|specialists|experts|unit|investigators|colleagues
    team         specialist|specialists|investigators|experts
    escalate     open|opened|opening|lodge|lodged|lodging|file|filed|launch|launched|start|started|raise|raised *2 trace|enquiry|inquiry|investigation
    escalate     claim|case with|against ?the|our carrier|courier|carriers|couriers
    # Explicit declines.
    decline      decline|declines|declined|declining|refuse|refuses|refused|refusing|reject|rejects|rejected|rejecting|deny|denies|denied|denying
    decline      turn|turns|turned|turning ?it|this|that|your ?request down
    decline      say|said no
    decline      not|never ?be|been eligible|entitled|covered|valid|applicable|qualify|qualifies|qualified|possible|feasible|something|returnable|allowed|permitted
    decline      no longer eligible|entitled|covered|valid|possible|qualify|qualifies
    decline      not fall|falls within|under|inside
    decline      not meet|meets
    decline      ineligible|impossible
    decline      too late
    decline      nothing ?more|further|else we|i can do|offer
    decline      nothing ?more|further|else can be done|offered
    decline      out of the question
    decline      off the table
    decline      void|voids|voided|invalidate|invalidates|invalidated ?the|your warranty|guarantee
    # Negators.
    neg          not|never|nor|neither|unable|non|without
    neg          no longer|way
    neg          no way ?that we|i can|could|will
    neg          instead of
    neg          rather than
    neg          in place of
    neg          could|would not
    no           no|zero
    no           no need|reason to|for
    # Hedges.
    hedge        may|might|could
    hedge        may|might not
    hedge        may|might well
    hedge        should be able
    hedge        hope|hopes|hoping|hoped|try|tries|trying|tried|attempt|attempts|attempting|consider|considers|considering|explore|exploring|aim|aiming|intend|wish
    hedge        do|doing ?our|my ?very best
    hedge        everything|all we|i can
    hedge        see|check|checking|ask|asking|confirm|determine|establish|assess|review|reviewing|investigate|investigating|enquire|inquire|wonder|wondering if|whether|what|how
    hedge        find|finding out ?if|whether
    hedge        look|looking into|at|over ?whether|if
    hedge        not sure|certain|guaranteed
    hedge        unsure|uncertain
    hedge        can|could not promise|guarantee|commit|confirm
    hedge        would like to see
    hedge_after  may|might|could ?possibly|potentially|well|also be possible|available|an|arranged|approved|considered|granted|offered|issued|authorised|authorized|feasible|eligible|due|warranted|appropriate|justified|option
    hedge_after  is|are|be|remains|remain possible|feasible
    hedge_after  is|are|remains|remain ?still ?being under|pending review|consideration|assessment
    hedge_after  is|are ?still being considered|reviewed|assessed
    hedge_before perhaps|maybe|possibly|potentially|hopefully|probably|likely|unlikely|conceivably|ideally|theoretically
    hedge_clause if|where|when possible|feasible|eligible|approved|applicable|appropriate|warranted
    hedge_clause if we|i can
    hedge_clause subject to
    hedge_clause depending|depends|dependent|depend on|upon
    hedge_clause pending review|approval|inspection|assessment|investigation|confirmation
    hedge_clause at our discretion
    hedge_clause case by case
    hedge_clause in some|certain|many|most cases
    hedge_clause with any luck
    hedge_clause fingers crossed
    hedge_clause chance|chances
    hedge_clause no guarantee|guarantees|promise|promises
    hedge_clause in principle
    # Conditions and requests.
    cond         if|whether
    cond         should you
    cond         in the event
    request      you ?have|had|are|were|would|might ?also asked|requested|want|wanted|wish|wished|like|hoping|hoped|mentioned|asking|looking|need|needed|prefer|preferred|requesting|expecting|expected
    request      request|requests|requested|requesting|asking|asked|enquiring|inquiring|enquired|inquired|hoping|apply|applying|applied for|about
    request      request|requesting a|an
    request      interested in
    request      regarding|concerning|re
    request      question|questions|query|enquiry|inquiry about
    # Generic remedy verbs.
    grant        help|helps|helped|assist|assisted|accept|accepts|accepted|approve|approves|approved|process|processes|processed|honour|honours|honoured|honor|honored|authorise|authorised|authorize|authorized|grant|grants|granted|proceed|offer|offers|offered|offering|issued|issuing|arrange|arranged|arranging|dispatched|booked|confirmed|agree|agreed|allow|allowed|sorted|completed
    grant        go|gone ahead|through
    grant        take|taking|took ?it|them|this|that|the|your ?item|product|order back
    grant        make|made an exception
    grant        do that|this|anything|so
    grant        on its|the way
    grant        taken care of
    until        until|till|unless
";

/// Mentions of each policy: the policies a mention could mean (serde names), then the pattern.
const POLICY_NAMES: &str = "
    returns                               30|thirty day|days
    returns                               return|returns ?and ?refund|refunds|exchange|exchanges policy|policies|window|period|terms|rules|guarantee|deadline
    returns,subscription,billing          refund|refunds policy|policies|terms|rules
    returns,subscription                  refund|refunds window|period|deadline|timeframe
    returns                               money back guarantee|policy
    returns                               satisfaction guarantee
    returns                               final sale
    returns                               cooling off period
    returns,wrong_item                    exchange policy
    damaged_on_arrival                    damaged|damage on|upon arrival|delivery
    damaged_on_arrival                    damaged|damage in transit|shipping|delivery|post
    damaged_on_arrival                    transit|shipping|arrival|courier damage
    damaged_on_arrival                    damage|damages|damaged ?goods|item|items|parcel|parcels policy|policies|guarantee|window|rules
    damaged_on_arrival                    doa
    damaged_on_arrival,subscription       14|fourteen day|days
    damaged_on_arrival,wrong_item,delivery  replacement policy|guarantee
    warranty                              warranty|warranties
    warranty                              our|the|your|a|this|its|product|manufacturer|manufacturers|year|month|lifetime|quality|standard|limited|full guarantee|guarantees
    warranty                              guarantee period|policy|terms|cover|coverage
    warranty                              12|twelve month|months
    warranty                              one|1 year|years
    warranty                              repair policy|terms
    subscription                          subscription|subscriptions|membership|renewal|renewals|cancellation|auto ?renewal ?plan terms|policy|policies|rules|agreement|conditions
    subscription                          terms of ?your|the|our subscription|membership|plan
    account_security                      account security|protection
    account_security                      security policy|policies|procedure|procedures|protocol|protocols|team|rules|guidelines|department|specialists|unit|colleagues|experts
    account_security                      fraud policy|team|department|prevention|unit|specialists
    delivery                              delivery|shipping|postage|courier|dispatch policy|policies|terms|guarantee|rules
    delivery                              lost parcel|parcels|package|packages|shipment|shipments|delivery|deliveries
    delivery                              lost item|items|order|orders policy
    delivery                              missing parcel|parcels|package|packages
    delivery                              10|ten day
    delivery                              10|ten days without|with|of ?no|any ?tracking
    delivery                              carrier|courier investigation|investigations|claim|claims
    billing                               billing|payment|payments|charging|charges policy|policies|terms|rules|team|department
    wrong_item                            wrong|incorrect ?item|items|product|order policy|policies|guarantee|rules
    product_safety                        product safety
    product_safety                        safety policy|policies|procedure|procedures|protocol|protocols|team|rules|guidelines|department|specialists|recall|standards|unit|experts
";

fn role_named(name: &str) -> Option<Role> {
    Some(match name {
        "refund" => Role::Act(Action::Refund),
        "replacement" => Role::Act(Action::Replacement),
        "repair" => Role::Act(Action::Repair),
        "decline" => Role::Act(Action::Decline),
        "escalate" => Role::Act(Action::Escalate),
        "cancel" => Role::Act(Action::Cancel),
        "team" => Role::Team,
        "neg" => Role::Neg,
        "no" => Role::No,
        "hedge" => Role::Hedge,
        "hedge_after" => Role::HedgeAfter,
        "hedge_before" => Role::HedgeBefore,
        "hedge_clause" => Role::HedgeClause,
        "cond" => Role::Cond,
        "request" => Role::Request,
        "grant" => Role::Grant,
        "until" => Role::Until,
        "neutral" => Role::Neutral,
        _ => return None,
    })
}

fn policies_named(names: &str) -> Option<Vec<Policy>> {
    names
        .split(',')
        .map(|name| Policy::ALL.into_iter().find(|p| p.name() == name))
        .collect()
}

/// The table's lines as (label, pattern); a line whose label does not parse is skipped (a
/// unit test checks there are none).
fn table(text: &'static str) -> impl Iterator<Item = (&'static str, &'static str)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(char::is_whitespace))
        .map(|(label, spec)| (label, spec.trim()))
}

pub(super) static CUE_PATTERNS: LazyLock<Vec<(Pattern, Role)>> = LazyLock::new(|| {
    table(CUES)
        .filter_map(|(label, spec)| Some((Pattern::parse(spec), role_named(label)?)))
        .collect()
});

pub(super) static POLICY_PATTERNS: LazyLock<Vec<(Pattern, &'static [Policy])>> =
    LazyLock::new(|| {
        table(POLICY_NAMES)
            .filter_map(|(label, spec)| {
                let policies: &'static [Policy] = policies_named(label)?.leak();
                Some((Pattern::parse(spec), policies))
            })
            .collect()
    });

pub(super) fn longest_matches<R: Copy>(
    patterns: &[(Pattern, R)],
    tokens: &[Token],
    clause: &Clause,
) -> Vec<(usize, usize, R)> {
    let mut found = Vec::new();
    let mut i = clause.start;
    while i < clause.end {
        let best = patterns
            .iter()
            .filter_map(|(p, r)| p.match_at(tokens, i, clause.end).map(|end| (end, *r)))
            .fold(None, |best: Option<(usize, R)>, (end, r)| match best {
                Some((b, _)) if b >= end => best,
                _ => Some((end, r)),
            });
        match best {
            Some((end, r)) => {
                found.push((i, end, r));
                i = end;
            }
            None => i += 1,
        }
    }
    found
}

/// Subject pronouns: the start of another predicate, so the end of a cue's reach.
pub(super) const SUBJECTS: &str = "we i they he she";

/// Pronouns that are subjects when an auxiliary follows (`you will`, `it has`).
pub(super) const MAYBE_SUBJECTS: &str = "you it this that there which who";

/// Auxiliaries and adverbs that make a pronoun before them a subject (`you will`, `it has`),
/// and before which `not` refuses the action before them (`a refund is not possible`).
pub(super) const AUXILIARIES: &str = "\
    will would can could shall should may might must am is are was were have has had do does \
    did be been need needs also already now still just get gets got receive received not";

/// Auxiliaries that show a new clause after `and` / `or`.
pub(super) const CLAUSE_AUXILIARIES: &str = "\
    will would can could shall should must is are was were has have had";

/// Verbs that open a predicate of their own: a negation before them does not reach an action
/// after them (`don't worry about the refund`, `we won't charge you for the repair`).
pub(super) const BARRIER_VERBS: &str = "\
    worry worried hesitate forget mind hear wait waiting charge charged charging cost costs \
    take takes taking took expect expecting apologise apologize know think believe understand \
    need needs needed mean matter delay delayed lose miss hurt happen happened notice noticed \
    realise realize keep pay paying leave want like hesitate bother sorry bill billed";

/// Words after which `not` refuses the action before it (`a refund is not possible`).
pub(super) const AFTER_NOT: &str = "\
    be been possible available an a something eligible permitted allowed feasible applicable \
    due covered offered given issued processed approved granted provided arranged authorised \
    authorized accepted made sent going happening currently able on an";

/// Words that do not count between a negator and a generic remedy verb (`not in a position
/// to accept`).
pub(super) const FILLER: &str = "\
    be able to in a position going willing currently at this time unfortunately sadly really \
    simply afraid am are any longer stage point the it that your you us such further anything \
    more therefore";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_line_parses() {
        for (label, spec) in table(CUES) {
            assert!(role_named(label).is_some(), "unknown role {label:?}");
            assert!(
                !Pattern::parse(spec).elems.is_empty(),
                "empty pattern for {label}"
            );
        }
        for (label, spec) in table(POLICY_NAMES) {
            assert!(
                policies_named(label).is_some(),
                "unknown policy in {label:?}"
            );
            assert!(
                !Pattern::parse(spec).elems.is_empty(),
                "empty pattern for {label}"
            );
        }
        assert_eq!(CUE_PATTERNS.len(), table(CUES).count());
        assert_eq!(POLICY_PATTERNS.len(), table(POLICY_NAMES).count());
    }
}
