//! The policy table of Brightwater Goods, the fictional shop of the support-desk corpus.
//!
//! Each ticket raises one [`Issue`] under one [`Circumstance`]; the issue decides which
//! [`Policy`] applies and the circumstance which [`Action`] that policy requires. The table is
//! the single source of truth for the generator (resolutions apply it), the hard negatives
//! (same issue, other action) and the compliance checker (does a reply take the required
//! action under the right policy?).
//!
//! | issue | policy | circumstance → action |
//! | --- | --- | --- |
//! | return | 30-day return policy | within 30 days → refund; after 30 days → decline; final-sale item → decline |
//! | damaged | damaged-on-arrival policy | reported within 14 days of delivery → replacement; reported later → decline |
//! | defect | one-year warranty | fault within 12 months → repair; after 12 months → decline; accidental damage → decline |
//! | subscription | subscription policy | cancel before renewal → cancel; renewal charged within 14 days → refund; renewal charged earlier → cancel |
//! | security | account security policy | unknown login, changed password, unknown order → escalate |
//! | delivery | delivery policy | late but moving → decline (a refund request); no tracking update for 10+ days → replacement; marked delivered, not received → escalate |
//! | billing | billing policy | charged twice, wrong amount → refund |
//! | wrong_item | wrong-item policy | wrong colour, wrong model → replacement |
//! | safety | product safety policy | overheating, sparks, burning smell → escalate |

use serde::{Deserialize, Serialize};

/// What support does about a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Money back to the original payment method.
    Refund,
    /// A new unit sent out (also a re-shipment of a lost parcel).
    Replacement,
    /// The unit repaired under warranty.
    Repair,
    /// The request refused, with the policy's reason.
    Decline,
    /// Handed to a specialist team (security, safety, carrier investigation).
    Escalate,
    /// A subscription cancelled.
    Cancel,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Refund,
        Action::Replacement,
        Action::Repair,
        Action::Decline,
        Action::Escalate,
        Action::Cancel,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Action::Refund => "refund",
            Action::Replacement => "replacement",
            Action::Repair => "repair",
            Action::Decline => "decline",
            Action::Escalate => "escalate",
            Action::Cancel => "cancel",
        }
    }
}

/// The shop's written policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    Returns,
    DamagedOnArrival,
    Warranty,
    Subscription,
    AccountSecurity,
    Delivery,
    Billing,
    WrongItem,
    ProductSafety,
}

impl Policy {
    pub const ALL: [Policy; 9] = [
        Policy::Returns,
        Policy::DamagedOnArrival,
        Policy::Warranty,
        Policy::Subscription,
        Policy::AccountSecurity,
        Policy::Delivery,
        Policy::Billing,
        Policy::WrongItem,
        Policy::ProductSafety,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Returns => "returns",
            Policy::DamagedOnArrival => "damaged_on_arrival",
            Policy::Warranty => "warranty",
            Policy::Subscription => "subscription",
            Policy::AccountSecurity => "account_security",
            Policy::Delivery => "delivery",
            Policy::Billing => "billing",
            Policy::WrongItem => "wrong_item",
            Policy::ProductSafety => "product_safety",
        }
    }

    /// How the shop's own documents name the policy.
    pub fn title(self) -> &'static str {
        match self {
            Policy::Returns => "30-day return policy",
            Policy::DamagedOnArrival => "damaged-on-arrival policy",
            Policy::Warranty => "one-year warranty",
            Policy::Subscription => "subscription policy",
            Policy::AccountSecurity => "account security policy",
            Policy::Delivery => "delivery policy",
            Policy::Billing => "billing policy",
            Policy::WrongItem => "wrong-item policy",
            Policy::ProductSafety => "product safety policy",
        }
    }

    /// The rule in one sentence, as a help-centre article states it.
    pub fn rule(self) -> &'static str {
        match self {
            Policy::Returns => {
                "Items returned within 30 days of delivery are refunded in full; after 30 days, and for final-sale items, returns are declined."
            }
            Policy::DamagedOnArrival => {
                "Items that arrive damaged and are reported within 14 days of delivery are replaced free of charge; later reports are declined."
            }
            Policy::Warranty => {
                "Faults that appear within 12 months of purchase under normal use are repaired free of charge; older faults and accidental damage are declined."
            }
            Policy::Subscription => {
                "Subscriptions can be cancelled at any time; a renewal charged in the last 14 days is refunded, an older renewal is not."
            }
            Policy::AccountSecurity => {
                "Any sign that someone else used an account is escalated to the security team at once."
            }
            Policy::Delivery => {
                "A parcel that is late but still moving is not refunded; a parcel without a tracking update for 10 days is re-sent; a parcel marked delivered but not received is escalated to the carrier investigation team."
            }
            Policy::Billing => "Duplicate charges and wrong amounts are refunded.",
            Policy::WrongItem => "A wrong item is replaced with the one that was ordered.",
            Policy::ProductSafety => {
                "Any report of overheating, sparks or a burning smell is escalated to the product safety team."
            }
        }
    }
}

/// What the customer writes about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Issue {
    Return,
    Damaged,
    Defect,
    Subscription,
    Security,
    Delivery,
    Billing,
    WrongItem,
    Safety,
}

impl Issue {
    pub const ALL: [Issue; 9] = [
        Issue::Return,
        Issue::Damaged,
        Issue::Defect,
        Issue::Subscription,
        Issue::Security,
        Issue::Delivery,
        Issue::Billing,
        Issue::WrongItem,
        Issue::Safety,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Issue::Return => "return",
            Issue::Damaged => "damaged",
            Issue::Defect => "defect",
            Issue::Subscription => "subscription",
            Issue::Security => "security",
            Issue::Delivery => "delivery",
            Issue::Billing => "billing",
            Issue::WrongItem => "wrong_item",
            Issue::Safety => "safety",
        }
    }

    pub fn policy(self) -> Policy {
        match self {
            Issue::Return => Policy::Returns,
            Issue::Damaged => Policy::DamagedOnArrival,
            Issue::Defect => Policy::Warranty,
            Issue::Subscription => Policy::Subscription,
            Issue::Security => Policy::AccountSecurity,
            Issue::Delivery => Policy::Delivery,
            Issue::Billing => Policy::Billing,
            Issue::WrongItem => Policy::WrongItem,
            Issue::Safety => Policy::ProductSafety,
        }
    }

    /// The circumstances a ticket about this issue can come with.
    pub fn circumstances(self) -> &'static [Circumstance] {
        use Circumstance::*;
        match self {
            Issue::Return => &[WithinWindow, AfterWindow, FinalSale],
            Issue::Damaged => &[ReportedPromptly, ReportedLate],
            Issue::Defect => &[InWarranty, OutOfWarranty, AccidentalDamage],
            Issue::Subscription => &[BeforeRenewal, RenewedRecently, RenewedLongAgo],
            Issue::Security => &[UnknownLogin, PasswordChanged, UnknownOrder],
            Issue::Delivery => &[LateButMoving, TrackingStalled, DeliveredNotReceived],
            Issue::Billing => &[ChargedTwice, WrongAmount],
            Issue::WrongItem => &[WrongColour, WrongModel],
            Issue::Safety => &[Overheating, Sparks, BurningSmell],
        }
    }
}

/// The facts of a ticket that decide the action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Circumstance {
    WithinWindow,
    AfterWindow,
    FinalSale,
    ReportedPromptly,
    ReportedLate,
    InWarranty,
    OutOfWarranty,
    AccidentalDamage,
    BeforeRenewal,
    RenewedRecently,
    RenewedLongAgo,
    UnknownLogin,
    PasswordChanged,
    UnknownOrder,
    LateButMoving,
    TrackingStalled,
    DeliveredNotReceived,
    ChargedTwice,
    WrongAmount,
    WrongColour,
    WrongModel,
    Overheating,
    Sparks,
    BurningSmell,
}

impl Circumstance {
    pub fn name(self) -> &'static str {
        use Circumstance::*;
        match self {
            WithinWindow => "within_window",
            AfterWindow => "after_window",
            FinalSale => "final_sale",
            ReportedPromptly => "reported_promptly",
            ReportedLate => "reported_late",
            InWarranty => "in_warranty",
            OutOfWarranty => "out_of_warranty",
            AccidentalDamage => "accidental_damage",
            BeforeRenewal => "before_renewal",
            RenewedRecently => "renewed_recently",
            RenewedLongAgo => "renewed_long_ago",
            UnknownLogin => "unknown_login",
            PasswordChanged => "password_changed",
            UnknownOrder => "unknown_order",
            LateButMoving => "late_but_moving",
            TrackingStalled => "tracking_stalled",
            DeliveredNotReceived => "delivered_not_received",
            ChargedTwice => "charged_twice",
            WrongAmount => "wrong_amount",
            WrongColour => "wrong_colour",
            WrongModel => "wrong_model",
            Overheating => "overheating",
            Sparks => "sparks",
            BurningSmell => "burning_smell",
        }
    }

    /// The issue this circumstance belongs to.
    pub fn issue(self) -> Issue {
        Issue::ALL
            .into_iter()
            .find(|i| i.circumstances().contains(&self))
            .unwrap_or(Issue::Return) // every circumstance is listed under one issue (tested)
    }

    /// The action the policy requires.
    pub fn action(self) -> Action {
        use Circumstance::*;
        match self {
            WithinWindow => Action::Refund,
            AfterWindow | FinalSale => Action::Decline,
            ReportedPromptly => Action::Replacement,
            ReportedLate => Action::Decline,
            InWarranty => Action::Repair,
            OutOfWarranty | AccidentalDamage => Action::Decline,
            BeforeRenewal | RenewedLongAgo => Action::Cancel,
            RenewedRecently => Action::Refund,
            UnknownLogin | PasswordChanged | UnknownOrder => Action::Escalate,
            LateButMoving => Action::Decline,
            TrackingStalled => Action::Replacement,
            DeliveredNotReceived => Action::Escalate,
            ChargedTwice | WrongAmount => Action::Refund,
            WrongColour | WrongModel => Action::Replacement,
            Overheating | Sparks | BurningSmell => Action::Escalate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_circumstance_belongs_to_exactly_one_issue() {
        let mut seen = Vec::new();
        for issue in Issue::ALL {
            for &c in issue.circumstances() {
                assert!(!seen.contains(&c), "{c:?} listed twice");
                assert_eq!(c.issue(), issue);
                seen.push(c);
            }
        }
        assert_eq!(seen.len(), 24);
    }

    #[test]
    fn policies_map_one_to_one_and_names_round_trip_through_serde() {
        let policies: Vec<_> = Issue::ALL.iter().map(|i| i.policy()).collect();
        assert_eq!(policies, Policy::ALL.to_vec());
        for action in Action::ALL {
            let json = serde_json::to_string(&action).expect("ser");
            assert_eq!(json, format!("\"{}\"", action.name()));
        }
        for policy in Policy::ALL {
            let json = serde_json::to_string(&policy).expect("ser");
            assert_eq!(json, format!("\"{}\"", policy.name()));
        }
    }
}
