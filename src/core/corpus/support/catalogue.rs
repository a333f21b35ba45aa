//! What Brightwater Goods sells and who writes in: the products (with the parts that break and
//! whether they are electric), the customers' and agents' names, and a tiny template filler.

use crate::core::rng::Rng;

/// Physical goods or a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductKind {
    Physical { electric: bool },
    Subscription,
}

/// One product of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Product {
    /// Stable id (used in combination keys and the export).
    pub id: &'static str,
    /// Full name as the shop writes it.
    pub name: &'static str,
    /// How a customer usually calls it.
    pub short: &'static str,
    /// Parts or features that can be damaged or faulty.
    pub parts: &'static [&'static str],
    /// Colours or models it comes in (for wrong-item tickets).
    pub variants: &'static [&'static str],
    pub kind: ProductKind,
    /// Typical price in pounds.
    pub price: u32,
}

const fn physical(
    id: &'static str,
    name: &'static str,
    short: &'static str,
    parts: &'static [&'static str],
    variants: &'static [&'static str],
    electric: bool,
    price: u32,
) -> Product {
    Product {
        id,
        name,
        short,
        parts,
        variants,
        kind: ProductKind::Physical { electric },
        price,
    }
}

const fn subscription(
    id: &'static str,
    name: &'static str,
    short: &'static str,
    parts: &'static [&'static str],
    price: u32,
) -> Product {
    Product {
        id,
        name,
        short,
        parts,
        variants: &[],
        kind: ProductKind::Subscription,
        price,
    }
}

pub const PRODUCTS: &[Product] = &[
    physical(
        "kettle",
        "Aurora electric kettle",
        "kettle",
        &["lid", "handle", "base", "power switch", "water gauge"],
        &["white", "slate grey", "copper"],
        true,
        39,
    ),
    physical(
        "headphones",
        "Tidal wireless headphones",
        "headset",
        &[
            "left ear cup",
            "headband",
            "charging port",
            "ear cushion",
            "volume button",
        ],
        &["black", "sand", "navy"],
        true,
        129,
    ),
    physical(
        "tent",
        "Ridgeline two-person tent",
        "tent",
        &["zip", "pole", "rain fly", "groundsheet", "guy line"],
        &["green", "orange"],
        false,
        189,
    ),
    physical(
        "lamp",
        "Halden desk lamp",
        "lamp",
        &["hinge", "dimmer", "shade", "cable", "base"],
        &["matte black", "brass", "white"],
        true,
        59,
    ),
    physical(
        "blender",
        "Vortex 900 blender",
        "blender",
        &[
            "jug",
            "blade assembly",
            "lid seal",
            "speed dial",
            "motor base",
        ],
        &["red", "silver"],
        true,
        89,
    ),
    physical(
        "backpack",
        "Trailhead 30L backpack",
        "backpack",
        &["shoulder strap", "zip", "hip belt", "buckle", "rain cover"],
        &["olive", "charcoal", "blue"],
        false,
        75,
    ),
    physical(
        "watch",
        "Pulse smart watch",
        "watch",
        &[
            "screen",
            "strap",
            "charging cable",
            "heart-rate sensor",
            "crown button",
        ],
        &["midnight", "rose", "silver"],
        true,
        219,
    ),
    physical(
        "grinder",
        "Mill & Co coffee grinder",
        "grinder",
        &["burr", "hopper", "grind dial", "motor", "catch cup"],
        &["steel", "black"],
        true,
        95,
    ),
    physical(
        "airfryer",
        "Crisp 4L air fryer",
        "air fryer",
        &["basket", "timer dial", "heating element", "handle", "fan"],
        &["black", "cream"],
        true,
        110,
    ),
    physical(
        "toothbrush",
        "Gleam sonic toothbrush",
        "toothbrush",
        &["brush head", "charging base", "battery", "mode button"],
        &["white", "mint", "pink"],
        true,
        65,
    ),
    physical(
        "bikelight",
        "Beacon bike light set",
        "bike light",
        &["front light", "rear light", "mount", "USB cable"],
        &["two-pack", "four-pack"],
        true,
        35,
    ),
    physical(
        "speaker",
        "Echo Rock bluetooth speaker",
        "speaker",
        &[
            "grille",
            "power button",
            "battery",
            "charging port",
            "strap",
        ],
        &["teal", "black", "coral"],
        true,
        79,
    ),
    physical(
        "ricecooker",
        "Kome rice cooker",
        "rice cooker",
        &["inner pot", "lid hinge", "steam valve", "display", "cord"],
        &["white", "black"],
        true,
        99,
    ),
    physical(
        "hairdryer",
        "Zephyr hair dryer",
        "hair dryer",
        &[
            "nozzle",
            "heat switch",
            "filter",
            "cord",
            "cool shot button",
        ],
        &["lilac", "black"],
        true,
        69,
    ),
    physical(
        "stove",
        "Summit camping stove",
        "stove",
        &["burner", "pot support", "valve", "igniter", "carry case"],
        &["single burner", "double burner"],
        false,
        49,
    ),
    physical(
        "vacuum",
        "Roam robot vacuum",
        "vacuum",
        &[
            "brush roll",
            "dust bin",
            "wheel",
            "docking station",
            "bumper sensor",
        ],
        &["grey", "white"],
        true,
        299,
    ),
    physical(
        "ereader",
        "Folio e-reader",
        "e-reader",
        &["screen", "page button", "charging port", "case", "battery"],
        &["6 inch", "7 inch"],
        true,
        139,
    ),
    physical(
        "fan",
        "Breeze standing fan",
        "fan",
        &[
            "blade guard",
            "oscillation knob",
            "remote",
            "stand",
            "motor",
        ],
        &["white", "black"],
        true,
        55,
    ),
    physical(
        "bottle",
        "Canyon insulated bottle",
        "bottle",
        &["cap", "seal", "powder coating", "carry loop"],
        &["750 ml", "1 litre", "sage", "navy"],
        false,
        29,
    ),
    physical(
        "boots",
        "Scree hiking boots",
        "pair of boots",
        &["sole", "laces", "eyelet", "heel", "toe cap"],
        &["size 8", "size 9", "size 10", "brown", "grey"],
        false,
        145,
    ),
    physical(
        "chair",
        "Loft office chair",
        "chair",
        &["gas lift", "armrest", "castor", "back rest", "seat cushion"],
        &["black mesh", "grey fabric"],
        false,
        240,
    ),
    subscription(
        "coffeeclub",
        "Brightwater Coffee Club",
        "coffee club",
        &["monthly bag", "renewal", "delivery day"],
        18,
    ),
    subscription(
        "photocloud",
        "Brightwater Photo Cloud plan",
        "photo storage plan",
        &["storage plan", "renewal", "family sharing"],
        8,
    ),
    subscription(
        "mealkit",
        "Harvest meal kit box",
        "meal kit",
        &["weekly box", "renewal", "recipe cards"],
        45,
    ),
    subscription(
        "filters",
        "Pure filter refill plan",
        "filter plan",
        &["filter delivery", "renewal", "cartridges"],
        12,
    ),
    subscription(
        "petfood",
        "Happy Paws food delivery",
        "pet food plan",
        &["monthly delivery", "renewal", "portion plan"],
        32,
    ),
    subscription(
        "plus",
        "Brightwater Plus membership",
        "Plus membership",
        &["free delivery", "renewal", "member discount"],
        49,
    ),
];

/// Customers' first names, from many backgrounds.
pub const CUSTOMERS: &[&str] = &[
    "Maria", "Tom", "Priya", "Jonas", "Aisha", "Kenji", "Sofia", "Liam", "Fatima", "Oliver", "Mei",
    "Carlos", "Hannah", "Tariq", "Ingrid", "Samuel", "Chloe", "Dmitri", "Amara", "Lucas", "Noor",
    "Ethan", "Yuki", "Grace", "Mateo", "Zara", "Ben", "Leila", "Oscar", "Elif", "Rosa", "Kwame",
    "Anya", "Felix", "Nadia", "Jack", "Ines", "Ravi", "Clara", "Omar", "Lena", "Diego", "Sara",
    "Hugo", "Mina", "Patrick", "Julia", "Arjun", "Emma", "Tobias", "Laila", "Victor", "Nina",
    "George", "Ayumi", "Pablo", "Freya", "Hassan", "Ella", "Marek",
];

/// Support agents' first names (kept apart from customers so a reply's sign-off never looks
/// like a customer's name).
pub const AGENTS: &[&str] = &[
    "Sam", "Alex", "Jordan", "Robin", "Morgan", "Casey", "Jamie", "Taylor", "Riley", "Quinn",
];

pub const MONTHS: &[&str] = &[
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    // Every table passed here is a non-empty constant (checked by the tests).
    items[rng.below(items.len()).min(items.len().saturating_sub(1))]
}

/// Fills `{key}` placeholders from `slots`; unknown keys are left as they are (a test checks
/// that no generated sentence keeps a brace).
pub fn fill(template: &str, slots: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let key = &after[..close];
                match slots.iter().find(|(k, _)| *k == key) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(key);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `noun` with its indefinite article ("an air fryer", "a kettle").
pub fn with_article(noun: &str) -> String {
    let vowel = noun.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']);
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

/// Upper-cases the first letter.
pub fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A number written out for small values ("three days"), as people often do.
pub fn number_words(n: u32) -> String {
    const WORDS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    WORDS
        .get(n as usize)
        .map_or_else(|| n.to_string(), |w| w.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_keys_and_keeps_unknown_ones() {
        assert_eq!(fill("Hi {name}, {x}", &[("name", "Ana")]), "Hi Ana, {x}");
        assert_eq!(fill("open { brace", &[]), "open { brace");
    }

    #[test]
    fn catalogue_is_consistent() {
        for p in PRODUCTS {
            assert!(!p.parts.is_empty(), "{}", p.id);
            if matches!(p.kind, ProductKind::Physical { .. }) {
                assert!(p.variants.len() >= 2, "{}", p.id);
            }
        }
        let mut ids: Vec<_> = PRODUCTS.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), PRODUCTS.len());
        assert!(CUSTOMERS.iter().all(|c| !AGENTS.contains(c)));
    }
}
