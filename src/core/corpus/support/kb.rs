//! The help centre: one kind of article per policy and FAQ question/answer pairs. Articles
//! keep a fixed rhetorical order — what the policy is, the rule, worked examples with real
//! products, how to ask, the exceptions, where to go next — so two consecutive sentences of an
//! article have an order a model can learn (what SOP tests) while the voice stays the same.

use super::catalogue::{PRODUCTS, Product, ProductKind, capitalise, fill, pick, with_article};
use crate::core::corpus::policy::{Circumstance, Issue, Policy};
use crate::core::rng::Rng;

fn intro(policy: Policy) -> &'static [&'static str] {
    match policy {
        Policy::Returns => &[
            "This article explains our 30-day return policy.",
            "Changed your mind about something you bought? Here is how returns work.",
            "Our 30-day return policy lets you send most items back.",
        ],
        Policy::DamagedOnArrival => &[
            "This article explains what happens when an order arrives damaged.",
            "Sometimes a parcel is knocked about on its way to you.",
            "Our damaged-on-arrival policy protects you against damage in transit.",
        ],
        Policy::Warranty => &[
            "Every physical product we sell comes with our one-year warranty.",
            "This article explains what the one-year warranty covers.",
            "If something stops working, our warranty may help.",
        ],
        Policy::Subscription => &[
            "This article explains how to stop a subscription and when renewals are refunded.",
            "Our subscriptions renew automatically until you cancel them.",
            "Here is everything about cancelling a subscription.",
        ],
        Policy::AccountSecurity => &[
            "This article explains what to do if you think someone else used your account.",
            "Your account's safety matters to us.",
            "Our account security policy covers logins, passwords and orders you did not make.",
        ],
        Policy::Delivery => &[
            "This article explains our delivery policy for late and missing parcels.",
            "Most parcels arrive on time, but not all of them.",
            "Here is what happens when a parcel is late, lost or missing.",
        ],
        Policy::Billing => &[
            "This article explains how we fix mistakes with payments.",
            "Our billing policy covers duplicate charges and wrong amounts.",
            "Seen a charge you did not expect?",
        ],
        Policy::WrongItem => &[
            "This article explains what happens when we send the wrong item.",
            "Our warehouse team is careful, but mix-ups happen.",
            "Received a different colour or model from the one you ordered?",
        ],
        Policy::ProductSafety => &[
            "This article explains our product safety policy.",
            "Your safety comes before everything else.",
            "Some faults are a safety risk rather than an inconvenience.",
        ],
    }
}

fn rule_restated(policy: Policy) -> &'static [&'static str] {
    match policy {
        Policy::Returns => &[
            "You can return an item within 30 days of delivery for a full refund, even if you have opened it.",
            "After 30 days we can no longer accept returns.",
            "Items bought in the final sale cannot be returned.",
        ],
        Policy::DamagedOnArrival => &[
            "Tell us within 14 days of delivery and we will send a replacement free of charge.",
            "Damage reported more than 14 days after delivery is not covered.",
            "You do not need to pay for the replacement or for sending the damaged item back.",
        ],
        Policy::Warranty => &[
            "If a fault appears within 12 months of purchase under normal use, we repair the item for free.",
            "Faults that appear after 12 months are not covered.",
            "Accidental damage, such as a drop or water, is not covered by the warranty.",
        ],
        Policy::Subscription => &[
            "You can cancel a subscription at any time from your account page.",
            "If a renewal was charged in the last 14 days, we refund it in full.",
            "Renewals older than 14 days are not refunded, but the subscription still stops.",
        ],
        Policy::AccountSecurity => &[
            "If you see a login, a password change or an order you do not recognise, contact us at once.",
            "We escalate every such report to our security team, who lock the account and review it.",
            "Never share your password or the codes we send you.",
        ],
        Policy::Delivery => &[
            "If a parcel is late but its tracking is still moving, please give it a few more days.",
            "If the tracking has not changed for 10 days, we treat the parcel as lost and send a replacement.",
            "If a parcel is marked delivered but you did not receive it, our carrier investigation team looks into it.",
        ],
        Policy::Billing => &[
            "If you were charged twice, we refund the duplicate payment.",
            "If you were charged the wrong amount, we refund the difference.",
            "Refunds reach your original payment method within 5 working days.",
        ],
        Policy::WrongItem => &[
            "If we sent the wrong colour or model, we send the right one as a replacement.",
            "We include a prepaid label so you can send the wrong item back.",
            "You do not pay anything for the exchange.",
        ],
        Policy::ProductSafety => &[
            "If a product overheats, sparks or smells of burning, stop using it and unplug it.",
            "We escalate every safety report to our product safety team the same day.",
            "Do not try to repair the product yourself.",
        ],
    }
}

fn example(policy: Policy) -> &'static [&'static str] {
    match policy {
        Policy::Returns => &[
            "For example, {a_short} delivered three weeks ago can still be returned for a refund.",
            "For example, if your {short} arrived two months ago, it is too late to return it.",
        ],
        Policy::DamagedOnArrival => &[
            "For example, if your {short} arrives with a cracked {part}, tell us within 14 days and a new one is on its way.",
            "For example, a broken {part} on {a_short} noticed a month after delivery is not covered.",
        ],
        Policy::Warranty => &[
            "For example, if the {part} of your {short} stops working after six months, we will repair it.",
            "For example, {a_short} whose {part} broke after it was dropped is not covered.",
        ],
        Policy::Subscription => &[
            "For example, if your {short} renewed five days ago, you can cancel it and get that renewal refunded.",
            "For example, if your {short} renewed last month, cancelling stops the next renewal but the current period is not refunded.",
        ],
        Policy::AccountSecurity => &[
            "For example, an email about a login from another country that was not you is a reason to contact us.",
            "For example, an order for {a_short} that you never placed should be reported straight away.",
        ],
        Policy::Delivery => &[
            "For example, a parcel that is two days late and scanned at a depot yesterday is still on its way.",
            "For example, {a_short} whose tracking has been stuck for two weeks will be sent again.",
        ],
        Policy::Billing => &[
            "For example, if your {short} shows up twice on your statement, the second payment is refunded.",
            "For example, if a discount code was not applied to your {short}, we refund the difference.",
        ],
        Policy::WrongItem => &[
            "For example, if you ordered a {right} {short} and received a {wrong} one, we send the {right} one.",
            "For example, the wrong size of {short} is replaced with the size you chose.",
        ],
        Policy::ProductSafety => &[
            "For example, {a_short} that gets too hot to touch near the {part} must not be used again.",
            "For example, sparks from the {part} of {a_short} are always a safety report.",
        ],
    }
}

const HOW_TO_ASK: &[&str] = &[
    "To ask for help, reply to your order confirmation email or use the contact form.",
    "Please include your order number when you contact us.",
    "Photos help us resolve your request faster.",
    "Our support team answers within one working day.",
];
const CLOSINGS: &[&str] = &[
    "If you are unsure which policy applies, our support team will help.",
    "You can find more answers in our help centre.",
    "Thank you for shopping with Brightwater Goods.",
];

fn product_for(policy: Policy, rng: &mut Rng) -> &'static Product {
    let wants_subscription = policy == Policy::Subscription;
    let wants_electric = policy == Policy::ProductSafety;
    let fits = |p: &&Product| match p.kind {
        ProductKind::Subscription => wants_subscription,
        ProductKind::Physical { electric } => !wants_subscription && (electric || !wants_electric),
    };
    let candidates: Vec<&Product> = PRODUCTS.iter().filter(fits).collect();
    candidates[rng.below(candidates.len())]
}

fn render_with(template: &str, product: &Product, rng: &mut Rng) -> String {
    let right = product.variants.first().copied().unwrap_or("standard");
    let wrong = product.variants.get(1).copied().unwrap_or("other");
    let a_short = with_article(product.short);
    capitalise(&fill(
        template,
        &[
            ("short", product.short),
            ("a_short", a_short.as_str()),
            ("part", pick(rng, product.parts)),
            ("right", right),
            ("wrong", wrong),
        ],
    ))
}

/// One help-centre article about `policy`, 5–9 sentences in a fixed rhetorical order.
pub fn article(policy: Policy, rng: &mut Rng) -> Vec<String> {
    let mut out = vec![pick(rng, intro(policy)).to_string()];
    out.push(policy.rule().to_string());
    let rules = rule_restated(policy);
    let first = rng.below(rules.len());
    out.push(rules[first].to_string());
    if rng.below(2) == 0 {
        out.push(rules[(first + 1) % rules.len()].to_string());
    }
    let examples = example(policy);
    let order = rng.below(examples.len());
    for k in 0..1 + rng.below(2) {
        let product = product_for(policy, rng);
        out.push(render_with(
            examples[(order + k) % examples.len()],
            product,
            rng,
        ));
    }
    out.push(pick(rng, HOW_TO_ASK).to_string());
    if rng.below(2) == 0 {
        out.push(pick(rng, CLOSINGS).to_string());
    }
    out
}

fn questions(c: Circumstance) -> &'static [&'static str] {
    use Circumstance::*;
    match c {
        WithinWindow => &[
            "Can I return my {short} if I have already opened it?",
            "I changed my mind about {a_short} that came last week, can I get a refund?",
        ],
        AfterWindow => &[
            "Can I still return {a_short} I bought two months ago?",
            "Is it too late to return something after 30 days?",
        ],
        FinalSale => &[
            "Can I return {a_short} from the final sale?",
            "Are clearance items refundable?",
        ],
        ReportedPromptly => &[
            "My {short} arrived with a broken {part}, what do I do?",
            "What happens if my order is damaged when it arrives?",
        ],
        ReportedLate => &[
            "I noticed damage on my {short} a month after it arrived, is that covered?",
            "Is there a time limit for reporting a damaged delivery?",
        ],
        InWarranty => &[
            "The {part} on my {short} stopped working after a few months, will you fix it?",
            "What does the warranty cover?",
        ],
        OutOfWarranty => &[
            "My {short} is two years old and broke, can you repair it for free?",
            "Is my {short} still under warranty after 18 months?",
        ],
        AccidentalDamage => &[
            "I dropped my {short}, does the warranty cover it?",
            "Is water damage covered by the warranty?",
        ],
        BeforeRenewal => &[
            "How do I cancel my {short} before it renews?",
            "Can I stop my subscription at any time?",
        ],
        RenewedRecently => &[
            "My {short} renewed a few days ago by mistake, can I get the money back?",
            "Do you refund a renewal I forgot to cancel?",
        ],
        RenewedLongAgo => &[
            "My {short} renewed last month, can I get a refund if I cancel now?",
            "If I cancel mid-way through a period, is it refunded?",
        ],
        UnknownLogin => &["I got an alert about a login that was not me, what should I do?"],
        PasswordChanged => &["Someone changed my password, can you help?"],
        UnknownOrder => &["There is an order on my account I did not make, what now?"],
        LateButMoving => &["My parcel is a few days late but still moving, can I get a refund?"],
        TrackingStalled => &["My tracking has not updated for two weeks, what happens now?"],
        DeliveredNotReceived => &["My parcel says delivered but I never got it, what can you do?"],
        ChargedTwice => &["I was charged twice for one order, how do I get it back?"],
        WrongAmount => &["My discount code did not apply, can you refund the difference?"],
        WrongColour => &["I received the wrong colour of {short}, can you swap it?"],
        WrongModel => &["You sent me a different model of {short}, what should I do?"],
        Overheating => &["My {short} gets very hot, is that normal?"],
        Sparks => &["I saw sparks coming from my {short}, what should I do?"],
        BurningSmell => &["My {short} smells of burning, is it safe?"],
    }
}

fn answers(c: Circumstance) -> &'static [&'static str] {
    use Circumstance::*;
    match c {
        WithinWindow => &[
            "Yes. Items returned within 30 days of delivery are refunded in full, opened or not. Start the return from your order page.",
            "You can, as long as it is within 30 days of delivery. We refund the full price once the item is back with us.",
        ],
        AfterWindow => &[
            "No, we are sorry. Our 30-day return policy only accepts returns within 30 days of delivery.",
            "After 30 days we can no longer accept a return or give a refund. If the item is faulty, the warranty may apply instead.",
        ],
        FinalSale => &[
            "Final-sale items cannot be returned or refunded. This is shown on the product page before you buy.",
        ],
        ReportedPromptly => &[
            "Tell us within 14 days of delivery and we send a replacement free of charge. A photo of the damage helps.",
            "Contact us within 14 days and our damaged-on-arrival policy covers a free replacement.",
        ],
        ReportedLate => &[
            "Damage must be reported within 14 days of delivery. Later reports are not covered by the damaged-on-arrival policy.",
        ],
        InWarranty => &[
            "Yes. Faults within 12 months of purchase under normal use are repaired free of charge under our one-year warranty.",
        ],
        OutOfWarranty => &[
            "Our warranty lasts 12 months from purchase, so a fault after that is not repaired for free.",
        ],
        AccidentalDamage => &[
            "No. The one-year warranty covers faults under normal use, not drops or water damage.",
        ],
        BeforeRenewal => &[
            "You can cancel at any time from your account page, and it will not renew again. You keep access until the end of the paid period.",
        ],
        RenewedRecently => &[
            "Yes. If the renewal was charged in the last 14 days, we refund it in full when you cancel.",
        ],
        RenewedLongAgo => &[
            "Cancelling stops the next renewal, but a renewal older than 14 days is not refunded.",
        ],
        UnknownLogin | PasswordChanged | UnknownOrder => &[
            "Contact us straight away. We escalate it to our security team, who lock the account and review the activity.",
            "Please tell us at once. Our account security policy sends every such report to the security team the same day.",
        ],
        LateButMoving => &[
            "A parcel that is still moving is not refunded. Please give it a few more days and watch the tracking.",
        ],
        TrackingStalled => &[
            "If the tracking has not changed for 10 days, we treat the parcel as lost and send a replacement.",
        ],
        DeliveredNotReceived => &[
            "Check with your neighbours first. If it is still missing, we escalate it to our carrier investigation team.",
        ],
        ChargedTwice => &["We refund the duplicate payment to your card within 5 working days."],
        WrongAmount => {
            &["Yes. We refund the difference between what you paid and the right price."]
        }
        WrongColour | WrongModel => &[
            "We send the one you ordered as a replacement and include a prepaid label for the wrong one.",
        ],
        Overheating | Sparks | BurningSmell => &[
            "Stop using it and unplug it now. We escalate every safety report to our product safety team, who contact you the same day.",
        ],
    }
}

/// Splits an answer template into sentences at ". " boundaries (answers are written with
/// one sentence per clause, no abbreviations).
fn sentences_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(". ") {
        out.push(rest[..=i].to_string());
        rest = &rest[i + 2..];
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// One FAQ entry: a question about `c` and its answer.
pub fn faq(c: Circumstance, rng: &mut Rng) -> (Vec<String>, Vec<String>) {
    let policy = c.issue().policy();
    let product = product_for(policy, rng);
    let question = render_with(pick(rng, questions(c)), product, rng);
    let answer = sentences_of(pick(rng, answers(c)));
    (vec![question], answer)
}

/// The circumstance behind a question, weighted so every issue is asked about.
pub fn faq_circumstance(rng: &mut Rng) -> Circumstance {
    let issue = pick(rng, &Issue::ALL);
    pick(rng, issue.circumstances())
}
