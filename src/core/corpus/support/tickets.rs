//! Tickets and their resolutions. A ticket is written in one of five customer voices
//! (polite, frustrated, terse, rambling, formal) with the facts that decide the policy — how
//! long ago, which part, what happened — and noise that does not: typos, dates, order numbers,
//! irrelevant detail. The resolution, in an agent's voice, greets the customer by name,
//! acknowledges the problem, applies the policy (naming it about two times in three) and says
//! what happens next. Every template below is one of several for its slot, and slots combine,
//! so a ticket's wording cannot be memorised: what is predictable is the policy.

use super::catalogue::{
    AGENTS, MONTHS, Product, ProductKind, capitalise, fill, number_words, pick, with_article,
};
use crate::core::corpus::policy::{Action, Circumstance, Issue};
use crate::core::rng::Rng;

/// The customer's voice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Voice {
    Polite,
    Frustrated,
    Terse,
    Rambling,
    Formal,
}

const VOICES: [Voice; 5] = [
    Voice::Polite,
    Voice::Frustrated,
    Voice::Terse,
    Voice::Rambling,
    Voice::Formal,
];

/// A ticket and its resolution, as sentences.
pub struct Rendered {
    pub ticket: Vec<String>,
    pub resolution: Vec<String>,
}

/// The numbers a case is told with, drawn once so ticket and resolution agree.
struct Facts {
    days: u32,
    months: u32,
    date: String,
    part: &'static str,
    right: &'static str,
    wrong: &'static str,
    charged: u32,
    place: &'static str,
}

const PLACES: &[&str] = &[
    "Leeds depot",
    "Bristol hub",
    "Glasgow sorting centre",
    "Midlands hub",
    "Dover terminal",
    "Cardiff depot",
    "Manchester hub",
    "Norwich depot",
];
const CITIES: &[&str] = &[
    "Lagos", "Lima", "Oslo", "Hanoi", "Quito", "Riga", "Perth", "Nairobi", "Tbilisi", "Manila",
];

fn facts(rng: &mut Rng, product: &Product, c: Circumstance) -> Facts {
    use Circumstance::*;
    let range = |rng: &mut Rng, lo: u32, hi: u32| lo + rng.below((hi - lo + 1) as usize) as u32;
    let days = match c {
        WithinWindow => range(rng, 2, 27),
        AfterWindow => range(rng, 35, 120),
        FinalSale => range(rng, 3, 20),
        ReportedPromptly => range(rng, 1, 12),
        ReportedLate => range(rng, 21, 90),
        BeforeRenewal => range(rng, 2, 20),
        RenewedRecently => range(rng, 1, 12),
        RenewedLongAgo => range(rng, 20, 60),
        LateButMoving => range(rng, 2, 6),
        TrackingStalled => range(rng, 11, 25),
        _ => range(rng, 1, 9),
    };
    let months = match c {
        InWarranty | AccidentalDamage => range(rng, 2, 11),
        OutOfWarranty => range(rng, 14, 36),
        _ => range(rng, 1, 11),
    };
    let (right, wrong) = if product.variants.len() >= 2 {
        let i = rng.below(product.variants.len());
        let mut j = rng.below(product.variants.len() - 1);
        if j >= i {
            j += 1;
        }
        (product.variants[i], product.variants[j])
    } else {
        ("the one I ordered", "another one")
    };
    let charged = match c {
        WrongAmount => product.price + range(rng, 3, 30),
        _ => product.price,
    };
    Facts {
        days,
        months,
        date: format!("{} {}", pick(rng, MONTHS), range(rng, 1, 28)),
        part: pick(rng, product.parts),
        right,
        wrong,
        charged,
        place: pick(rng, PLACES),
    }
}

/// Everything a template may name, as owned strings.
fn slot_values(
    product: &Product,
    f: &Facts,
    customer: &str,
    order: &str,
    agent: &str,
    rng: &mut Rng,
) -> Vec<(&'static str, String)> {
    let days_words = if f.days <= 12 && rng.below(2) == 0 {
        number_words(f.days)
    } else {
        f.days.to_string()
    };
    vec![
        ("name", product.name.to_string()),
        ("short", product.short.to_string()),
        ("a_short", with_article(product.short)),
        ("part", f.part.to_string()),
        ("customer", customer.to_string()),
        ("order", order.to_string()),
        ("agent", agent.to_string()),
        ("days", days_words),
        ("months", f.months.to_string()),
        ("date", f.date.clone()),
        ("right", f.right.to_string()),
        ("wrong", f.wrong.to_string()),
        ("price", f.charged.min(product.price).to_string()),
        ("charged", f.charged.to_string()),
        ("diff", f.charged.saturating_sub(product.price).to_string()),
        ("place", f.place.to_string()),
        ("city", pick(rng, CITIES).to_string()),
        (
            "other",
            pick(
                rng,
                &["laptop stand", "gaming chair", "pizza oven", "drone"],
            )
            .to_string(),
        ),
    ]
}

fn render(templates: &[&str], rng: &mut Rng, slots: &[(&str, String)]) -> String {
    let refs: Vec<(&str, &str)> = slots.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fill(pick(rng, templates), &refs)
}

// ---------------------------------------------------------------- ticket templates

const ORDER_PHYSICAL: &[&str] = &[
    "I ordered the {name} on {date} (order {order}).",
    "I bought {a_short} from you, order number {order}.",
    "My order {order} was the {name}.",
    "Order #{order}: the {name}.",
    "I'm writing about order {order}, {a_short} I bought on {date}.",
    "Recently I got the {name} from your shop, order {order}.",
];
const ORDER_SUBSCRIPTION: &[&str] = &[
    "I'm subscribed to the {name} (reference {order}).",
    "I have the {name}, order reference {order}.",
    "My {short} is under order {order}.",
    "This is about my {name}, reference {order}.",
];

fn problem(c: Circumstance) -> &'static [&'static str] {
    use Circumstance::*;
    match c {
        WithinWindow => &[
            "It arrived {days} days ago but it's not really what I expected.",
            "It was delivered {days} days ago and I've changed my mind about it.",
            "I received it {days} days ago and it turns out I don't need it after all.",
            "It came {days} days ago, it's unused and still in the box.",
        ],
        AfterWindow => &[
            "It was delivered {days} days ago and I've decided I don't want it.",
            "I got it about {days} days ago but never really used it.",
            "It arrived {days} days ago, I only just got round to trying it and I don't like it.",
        ],
        FinalSale => &[
            "I bought it in your final sale {days} days ago and it doesn't suit me.",
            "It was a clearance item marked final sale, delivered {days} days ago, and I'd like to send it back.",
            "I got it in the final-sale section and I have changed my mind.",
        ],
        ReportedPromptly => &[
            "It arrived {days} days ago with the {part} cracked.",
            "When I opened the box {days} days ago the {part} was broken.",
            "The parcel came {days} days ago, the box was crushed and the {part} is damaged.",
            "It was delivered {days} days ago and the {part} was snapped in the packaging.",
        ],
        ReportedLate => &[
            "It was delivered {days} days ago, I only unpacked it now and the {part} is cracked.",
            "I finally opened the box today, {days} days after it arrived, and the {part} is broken.",
            "It came {days} days ago but I have only just noticed the {part} was damaged in transit.",
        ],
        InWarranty => &[
            "I bought it {months} months ago and now the {part} has stopped working.",
            "After {months} months of normal use the {part} is faulty.",
            "The {part} started failing this week; I've had it {months} months.",
        ],
        OutOfWarranty => &[
            "I bought it {months} months ago and now the {part} has stopped working.",
            "It's about {months} months old and the {part} just died.",
            "The {part} failed yesterday, I've had it for {months} months.",
        ],
        AccidentalDamage => &[
            "I dropped it on the kitchen floor last week and now the {part} doesn't work.",
            "My son knocked it into the sink and the {part} has stopped working since it got wet.",
            "It fell off the table and the {part} is cracked; I bought it {months} months ago.",
        ],
        BeforeRenewal => &[
            "It renews in {days} days and I don't want it to.",
            "I'd like to stop it before the next renewal in {days} days.",
            "I no longer need it and it is due to renew on {date}.",
        ],
        RenewedRecently => &[
            "It renewed {days} days ago and I hadn't meant to keep it.",
            "You charged the renewal {days} days ago but I wanted to stop the plan.",
            "I forgot to cancel and it renewed {days} days ago, I haven't used it since.",
        ],
        RenewedLongAgo => &[
            "It renewed {days} days ago and I'd like my money back for this period.",
            "The renewal went through {days} days ago and I want to stop it now.",
            "I noticed the renewal charge from {days} days ago on my statement and I don't use the plan any more.",
        ],
        UnknownLogin => &[
            "I got an email about a login from {city} and it wasn't me.",
            "Someone signed in to my account from {city} last night.",
            "There's a login on my account from a device I don't recognise in {city}.",
        ],
        PasswordChanged => &[
            "My password was changed and I didn't do it.",
            "I can't log in, someone seems to have changed my password.",
            "I received a password reset email I never asked for and now my password doesn't work.",
        ],
        UnknownOrder => &[
            "There's an order for a {other} on my account that I never placed.",
            "I see a purchase of a {other} in my account history that isn't mine.",
            "Someone ordered a {other} with my account on {date}.",
        ],
        LateButMoving => &[
            "It was due on {date} and it's now {days} days late, the tracking says it's at the {place}.",
            "It's {days} days late, although tracking shows it moving through the {place}.",
            "The parcel is running {days} days behind, last scan at the {place} yesterday.",
        ],
        TrackingStalled => &[
            "The tracking hasn't changed for {days} days, it's stuck at the {place}.",
            "There has been no tracking update for {days} days.",
            "It's been sitting at the {place} for {days} days with no movement.",
        ],
        DeliveredNotReceived => &[
            "Tracking says it was delivered on {date} but nothing arrived.",
            "It's marked as delivered but there is no parcel here or with my neighbours.",
            "The app shows it delivered on {date}, yet I never received it.",
        ],
        ChargedTwice => &[
            "I was charged twice, two payments of £{price} on my card.",
            "My bank shows the £{price} payment twice.",
            "You took the money two times for the same order.",
        ],
        WrongAmount => &[
            "I was charged £{charged} but the price was £{price}.",
            "The discount didn't apply and I paid £{charged} instead of £{price}.",
            "My card was billed £{charged}, not the £{price} shown at checkout.",
        ],
        WrongColour => &[
            "I ordered it in {right} but got {wrong}.",
            "The box says {right} but the one inside is {wrong}.",
            "You sent the {wrong} one, I chose {right}.",
        ],
        WrongModel => &[
            "I ordered the {right} version and received the {wrong} one.",
            "It's the wrong model, {wrong} instead of the {right} I ordered.",
            "The one that arrived is {wrong}, not {right}.",
        ],
        Overheating => &[
            "It gets extremely hot around the {part}, too hot to touch.",
            "The {part} overheated yesterday and the casing looks warped.",
            "After a few minutes it becomes dangerously hot near the {part}.",
        ],
        Sparks => &[
            "Sparks came out of the {part} when I switched it on.",
            "I saw sparks near the {part} this morning.",
            "There was a spark and a pop from the {part}.",
        ],
        BurningSmell => &[
            "There's a strong burning smell coming from the {part}.",
            "It smells like burning plastic when it's on, near the {part}.",
            "A burning smell comes from it every time I use it.",
        ],
    }
}

fn request(issue: Issue) -> &'static [&'static str] {
    match issue {
        Issue::Return => &[
            "Can I send it back for a refund?",
            "I'd like to return it and get my money back.",
            "How do I return it?",
            "Please tell me how to get a refund.",
        ],
        Issue::Damaged => &[
            "Could you send me a new one?",
            "I'd like a replacement please.",
            "What can you do about this?",
            "Can I get a refund or a new one?",
        ],
        Issue::Defect => &[
            "Can it be fixed?",
            "Is this covered?",
            "I'd like it repaired or replaced.",
            "What are my options?",
        ],
        Issue::Subscription => &[
            "Please cancel it.",
            "Can you cancel and refund me?",
            "I want to stop the subscription.",
            "Please stop it and tell me if I get anything back.",
        ],
        Issue::Security => &[
            "Please help, I'm worried someone has access.",
            "Can you lock my account?",
            "What should I do?",
        ],
        Issue::Delivery => &[
            "Where is my parcel?",
            "I want a refund.",
            "Can you sort this out?",
            "Please send it again or refund me.",
        ],
        Issue::Billing => &[
            "Please refund the extra charge.",
            "Can you fix this?",
            "I'd like the money back.",
        ],
        Issue::WrongItem => &[
            "Can you swap it for the right one?",
            "Please send the one I ordered.",
            "What do I do now?",
        ],
        Issue::Safety => &[
            "Is this dangerous?",
            "What should I do?",
            "I've stopped using it, please advise.",
        ],
    }
}

const ASIDES: &[&str] = &[
    "It was meant to be a present for my sister.",
    "I've been a customer for years, so this is disappointing.",
    "Sorry if this is the wrong address for this.",
    "I'm writing from my phone, excuse any typos.",
    "The courier was very friendly, by the way.",
    "We moved house last month, in case that matters.",
    "My partner usually deals with these things.",
    "I work nights, so email is best.",
    "I also have another order coming next week.",
    "Your website was a bit confusing on my tablet.",
    "I bought it after reading a review in a magazine.",
    "The weather here has been awful all week.",
];
const FRUSTRATION: &[&str] = &[
    "This is really not good enough.",
    "Honestly I expected better.",
    "I've already waited on the phone for an hour.",
    "Third time I'm writing about this!",
];
const FORMAL_OPEN: &[&str] = &[
    "I am writing to raise a problem with a recent purchase.",
    "I would like to report an issue with my account.",
    "Please find the details of my complaint below.",
];
const GREETINGS: &[&str] = &["Hi", "Hello", "Hi there", "Good morning", "Hey"];
const SIGNOFFS: &[&str] = &[
    "Thanks, {customer}.",
    "Regards, {customer}.",
    "Cheers, {customer}.",
    "Many thanks, {customer}.",
    "{customer}.",
];

/// Swaps two inner letters of some lowercase words, as hurried writers do.
fn typos(sentence: &str, rate: f64, rng: &mut Rng) -> String {
    sentence
        .split(' ')
        .map(|word| {
            let letters: Vec<char> = word.chars().collect();
            let plain = letters.len() >= 5 && letters.iter().all(|c| c.is_ascii_lowercase());
            if plain && rng.next_f64() < rate {
                let mut letters = letters;
                let i = 1 + rng.below(letters.len() - 3);
                letters.swap(i, i + 1);
                letters.into_iter().collect()
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn ticket(
    product: &Product,
    c: Circumstance,
    voice: Voice,
    rng: &mut Rng,
    slots: &[(&str, String)],
) -> Vec<String> {
    let subscription = product.kind == ProductKind::Subscription;
    let mut out = Vec::new();
    if voice == Voice::Formal {
        out.push(format!(
            "Dear Brightwater team, {}",
            lower_first(pick(rng, FORMAL_OPEN))
        ));
    }
    let order_templates = if subscription || c.issue() == Issue::Security {
        if subscription {
            ORDER_SUBSCRIPTION
        } else {
            ORDER_PHYSICAL
        }
    } else {
        ORDER_PHYSICAL
    };
    let mut opening = render(order_templates, rng, slots);
    if matches!(voice, Voice::Polite | Voice::Rambling | Voice::Frustrated) && rng.below(3) > 0 {
        opening = format!("{}, {}", pick(rng, GREETINGS), lower_first(&opening));
    }
    // Security and billing tickets often lead with the problem.
    let lead_with_problem =
        matches!(c.issue(), Issue::Security | Issue::Billing) && rng.below(2) == 0;
    let problem_sentence = render(problem(c), rng, slots);
    if lead_with_problem {
        out.push(problem_sentence);
        out.push(opening);
    } else {
        out.push(opening);
        out.push(problem_sentence);
    }
    match voice {
        Voice::Rambling => {
            let first = rng.below(ASIDES.len());
            out.push(ASIDES[first].to_string());
            if rng.below(2) == 0 {
                out.push(
                    ASIDES[(first + 1 + rng.below(ASIDES.len() - 1)) % ASIDES.len()].to_string(),
                );
            }
        }
        Voice::Frustrated => out.push(pick(rng, FRUSTRATION).to_string()),
        Voice::Polite if rng.below(3) == 0 => out.push(pick(rng, ASIDES).to_string()),
        _ => {}
    }
    if voice != Voice::Terse || rng.below(2) == 0 {
        out.push(render(request(c.issue()), rng, slots));
    }
    // The name is always there: the resolution greets the customer by it.
    let signoff = if voice == Voice::Terse {
        render(&["{customer}."], rng, slots)
    } else {
        render(SIGNOFFS, rng, slots)
    };
    let rate = match voice {
        Voice::Terse | Voice::Frustrated => 0.06,
        Voice::Rambling => 0.03,
        _ => 0.01,
    };
    out.into_iter()
        .map(|s| {
            let s = match s.strip_suffix('.') {
                Some(body) if voice == Voice::Frustrated => format!("{body}!"),
                _ => s,
            };
            typos(&s, rate, rng)
        })
        .chain(std::iter::once(signoff))
        .collect()
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        // Keep "I" and product names as written.
        Some(first) if first != 'I' && !s.starts_with("Order") && !s.starts_with("My") => {
            first.to_lowercase().chain(chars).collect()
        }
        Some(_) if s.starts_with("My") => format!("m{}", &s[1..]),
        _ => s.to_string(),
    }
}

// ------------------------------------------------------------ resolution templates

const REPLY_OPEN: &[&str] = &[
    "Hi {customer}, thank you for contacting Brightwater Goods.",
    "Dear {customer}, thanks for your message about order {order}.",
    "Hello {customer}, thanks for getting in touch.",
    "Hi {customer}, thanks for writing to us about your {short}.",
    "Dear {customer}, thank you for reaching out.",
];

fn acknowledge(issue: Issue) -> &'static [&'static str] {
    match issue {
        Issue::Return => &[
            "I understand you would like to return the {short}.",
            "I can see you want to send back order {order}.",
        ],
        Issue::Damaged => &[
            "I'm sorry the {short} reached you with a damaged {part}.",
            "I'm sorry to hear the {part} was broken when you opened the box.",
        ],
        Issue::Defect => &[
            "I'm sorry to hear the {part} of your {short} is giving you trouble.",
            "Thanks for describing the problem with the {part}.",
        ],
        Issue::Subscription => &[
            "I've looked at the {name} on your account.",
            "I can see the renewal history of your {short}.",
        ],
        Issue::Security => &[
            "Thank you for telling us so quickly; your account's safety comes first.",
            "I'm sorry for the worry this has caused.",
        ],
        Issue::Delivery => &[
            "I'm sorry your parcel for order {order} has not reached you.",
            "I've checked the tracking for order {order}.",
        ],
        Issue::Billing => &[
            "I'm sorry about the mistake with your payment for order {order}.",
            "I've checked the payments on order {order}.",
        ],
        Issue::WrongItem => &[
            "I'm sorry we sent the {wrong} one instead of {right}.",
            "Apologies for the mix-up with order {order}.",
        ],
        Issue::Safety => &[
            "Thank you for reporting this; please stop using the {short} and unplug it now.",
            "Please stop using the {short} straight away and keep it unplugged.",
        ],
    }
}

fn decision(c: Circumstance) -> &'static [&'static str] {
    use Circumstance::*;
    match c {
        WithinWindow => &[
            "As the {short} was delivered {days} days ago, it is covered by our 30-day return policy, so we will refund you in full once it is back with us.",
            "You are within the 30-day return window, so I have approved a full refund of £{price}.",
            "Returns within 30 days of delivery are refunded in full, so your refund has been approved.",
            "Since you are returning it within 30 days, we will give you a full refund.",
        ],
        AfterWindow => &[
            "I'm afraid the {short} was delivered {days} days ago, which is outside our 30-day return window, so we can't accept the return.",
            "Our 30-day return policy only covers returns within 30 days of delivery, and as it has been {days} days we have to decline this return.",
            "Unfortunately we are unable to refund this order, because the 30-day return window closed before your request.",
        ],
        FinalSale => &[
            "The {short} was bought in our final sale, and final-sale items are not eligible for a refund under our return policy, so we must decline the return.",
            "I'm sorry, but final-sale items cannot be returned, so we are unable to offer a refund.",
        ],
        ReportedPromptly => &[
            "Because you reported the damage within 14 days of delivery, our damaged-on-arrival policy covers it and we are sending you a replacement {short} free of charge.",
            "Under our damaged-on-arrival policy a replacement {short} will be sent to you at no cost.",
            "I have arranged a free replacement, since damage reported within 14 days of delivery is covered.",
        ],
        ReportedLate => &[
            "Our damaged-on-arrival policy covers damage reported within 14 days of delivery; as the {short} arrived {days} days ago, we have to decline a replacement.",
            "Unfortunately, because the damage was reported more than 14 days after delivery, we are unable to replace the {short}.",
        ],
        InWarranty => &[
            "Your {short} is {months} months old, so it is covered by our one-year warranty and we will repair it free of charge.",
            "As the fault appeared within 12 months of purchase, our warranty covers a free repair.",
            "Under the one-year warranty our repair centre will repair the {part} at no cost to you.",
        ],
        OutOfWarranty => &[
            "Your {short} was bought {months} months ago, so it is outside our one-year warranty and we must decline a free repair.",
            "I'm sorry, but the one-year warranty ended before the fault appeared, so we can't repair it free of charge.",
        ],
        AccidentalDamage => &[
            "Our one-year warranty covers faults under normal use but not accidental damage, so we are unable to repair the {short} for free.",
            "Accidental damage is not covered by the warranty, so we have to decline this claim.",
        ],
        BeforeRenewal => &[
            "I have cancelled your {short}, so it will not renew again.",
            "Your subscription has been cancelled and you won't be charged again.",
            "As requested, we have cancelled the {name}; you keep access until the end of the period you paid for.",
        ],
        RenewedRecently => &[
            "Because the renewal was charged {days} days ago, within 14 days, our subscription policy lets us refund it in full, and the refund is on its way.",
            "The renewal was only {days} days ago, so we have refunded the full £{price}.",
            "Renewals charged in the last 14 days are refunded, so I have refunded this one to your card.",
        ],
        RenewedLongAgo => &[
            "I have cancelled your subscription so it won't renew again; as the renewal was charged {days} days ago, more than 14 days, it can't be refunded.",
            "Your {short} is now cancelled, and you keep access until the end of the current period.",
            "I've cancelled the plan; under our subscription policy only renewals from the last 14 days are refunded, so this period stays paid.",
        ],
        UnknownLogin | PasswordChanged | UnknownOrder => &[
            "I have escalated this to our security team straight away, and they will contact you within 24 hours.",
            "Under our account security policy I have passed your case to the security team, who will lock the account and review the activity.",
            "Our security team now has your case as a priority and will be in touch today.",
        ],
        LateButMoving => &[
            "The tracking shows your parcel is still moving, so under our delivery policy we can't offer a refund yet; it should reach you within a few days.",
            "I'm afraid we are unable to refund a parcel that is late but still in transit; the latest scan puts it at the {place}.",
        ],
        TrackingStalled => &[
            "As the tracking has not changed for {days} days, our delivery policy treats the parcel as lost and we are sending a replacement {short} today.",
            "Since there has been no tracking update for over 10 days, I have sent a replacement order free of charge.",
        ],
        DeliveredNotReceived => &[
            "I have escalated this to our carrier investigation team, who will check the delivery record and get back to you within 48 hours.",
            "Under our delivery policy a parcel marked delivered but not received goes to our investigation team, and I have escalated your case to them.",
        ],
        ChargedTwice => &[
            "I can see the duplicate charge of £{price}, and under our billing policy we have refunded it to your card.",
            "The second payment was a mistake on our side, so we have issued a refund of £{price}.",
        ],
        WrongAmount => &[
            "You were charged £{charged} instead of £{price}, so we have refunded the difference of £{diff}.",
            "Under our billing policy the overcharge of £{diff} has been refunded to your card.",
        ],
        WrongColour | WrongModel => &[
            "A replacement in {right} is on its way to you under our wrong-item policy.",
            "We are sending you a replacement {short} in {right} today at no cost.",
            "I have arranged a replacement with the {right} one you ordered.",
        ],
        Overheating | Sparks | BurningSmell => &[
            "I have escalated your report to our product safety team, who will contact you today.",
            "Under our product safety policy this goes straight to our safety team, and I have escalated it to them now.",
        ],
    }
}

fn next_steps(action: Action) -> &'static [&'static str] {
    match action {
        Action::Refund => &[
            "The money will reach your original payment method within 5 working days.",
            "You should see it on your statement in 3 to 5 working days.",
        ],
        Action::Replacement => &[
            "It will be dispatched within 2 working days, and you will get the tracking number by email.",
            "A prepaid label for the old one is on its way by email.",
        ],
        Action::Repair => &[
            "Please use the prepaid label we have emailed to send it to our repair centre; repairs take about 10 days.",
            "A courier will collect it from you within two working days.",
        ],
        Action::Decline => &[
            "I'm sorry this isn't the answer you hoped for.",
            "If there is anything else we can help with, just reply to this message.",
        ],
        Action::Escalate => &[
            "Please keep any emails or photos that relate to this.",
            "You will get a case number by email shortly.",
        ],
        Action::Cancel => &[
            "You will get a confirmation email in a few minutes.",
            "You can rejoin at any time from your account page.",
        ],
    }
}

const REPLY_CLOSE: &[&str] = &[
    "Best regards, {agent} from Brightwater Support.",
    "Kind regards, {agent}.",
    "Thanks for your patience, {agent} at Brightwater.",
    "All the best, {agent}.",
];

fn resolution(c: Circumstance, rng: &mut Rng, slots: &[(&str, String)]) -> Vec<String> {
    let issue = c.issue();
    let mut out = vec![render(REPLY_OPEN, rng, slots)];
    if rng.below(3) > 0 {
        out.push(render(acknowledge(issue), rng, slots));
    }
    out.push(render(decision(c), rng, slots));
    out.push(render(next_steps(c.action()), rng, slots));
    if rng.below(2) == 0 {
        out.push(render(REPLY_CLOSE, rng, slots));
    }
    out.into_iter().map(|s| capitalise(&s)).collect()
}

/// Writes one ticket and its resolution.
pub fn write(
    product: &Product,
    c: Circumstance,
    customer: &str,
    order: &str,
    rng: &mut Rng,
) -> Rendered {
    let f = facts(rng, product, c);
    let agent = pick(rng, AGENTS);
    let slots = slot_values(product, &f, customer, order, agent, rng);
    let voice = pick(rng, &VOICES);
    Rendered {
        ticket: ticket(product, c, voice, rng, &slots),
        resolution: resolution(c, rng, &slots),
    }
}
