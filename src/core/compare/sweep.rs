//! A class is a cluster: a lecturer's link (`?mixes=gpt,roberta,bert&seeds=3`, the words of
//! the CLI's `compare --mixes … --seeds …`) names a grid of (mix, seed) cells; each student
//! types their number and trains cell `number mod cells`, so any run of numbers 0, 1, 2, …
//! covers every cell. Cells go mix by mix first (student 0 gets the first mix's first seed,
//! student 1 the second mix's first seed, …), so a room smaller than the grid still covers
//! every mix once before any mix gets a second seed.

use serde::{Deserialize, Serialize};

use crate::core::mix::ObjectiveMix;

/// Most cells a link may name.
pub const MAX_CELLS: usize = 1_000;

/// The grid of a class sweep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sweep {
    /// Canonical mixes or preset names, in the link's order.
    pub mixes: Vec<String>,
    pub seeds: Vec<u64>,
}

/// A comma list of mixes (each a mix or a preset), read like `--mixes`.
pub fn parse_mixes(text: &str) -> Result<Vec<String>, String> {
    let mut mixes = Vec::new();
    for m in text.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let (mix, preset) = ObjectiveMix::parse(m).map_err(|e| e.to_string())?;
        let name = preset.map_or_else(|| mix.canonical(), str::to_string);
        if mixes.contains(&name) {
            return Err(format!("`{m}` is named twice"));
        }
        mixes.push(name);
    }
    if mixes.is_empty() {
        return Err("name at least one mix, e.g. gpt,roberta".into());
    }
    Ok(mixes)
}

/// `K` is seeds 0..K; a list (`3,4,5`, or `7,` for seed 7 alone) names them, read like
/// `--seeds`.
pub fn parse_seeds(text: &str) -> Result<Vec<u64>, String> {
    let number = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("`{s}` is not a whole number"))
    };
    let seeds: Vec<u64> = if text.contains(',') {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(number)
            .collect::<Result<_, _>>()?
    } else {
        let k = number(text.trim())?;
        if k > MAX_CELLS as u64 {
            return Err(format!("at most {MAX_CELLS} seeds"));
        }
        (0..k).collect()
    };
    if seeds.is_empty() {
        return Err("name at least one seed (a count K for seeds 0..K, or a list)".into());
    }
    let mut sorted = seeds.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return Err(format!("a seed is named twice: {text}"));
    }
    Ok(seeds)
}

impl Sweep {
    /// The grid, refused when it has more than [`MAX_CELLS`] cells.
    pub fn new(mixes: Vec<String>, seeds: Vec<u64>) -> Result<Self, String> {
        if mixes.is_empty() || seeds.is_empty() {
            return Err("a sweep needs at least one mix and one seed".into());
        }
        if mixes.len() * seeds.len() > MAX_CELLS {
            return Err(format!(
                "{} mixes × {} seeds is more than {MAX_CELLS} cells",
                mixes.len(),
                seeds.len()
            ));
        }
        Ok(Self { mixes, seeds })
    }

    pub fn cells(&self) -> usize {
        self.mixes.len() * self.seeds.len()
    }

    /// Student `number`'s cell: `number mod cells`, mixes first. Also the cell's index.
    pub fn cell(&self, number: u64) -> (usize, &str, u64) {
        let index = (number % self.cells() as u64) as usize;
        let m = self.mixes.len();
        (index, &self.mixes[index % m], self.seeds[index / m])
    }

    /// `mixes=…&seeds=…` for a link (seeds as a count when they are 0..K).
    pub fn query(&self) -> String {
        let counted = self.seeds.iter().enumerate().all(|(i, s)| *s == i as u64);
        let seeds = if counted {
            self.seeds.len().to_string()
        } else {
            let mut list: Vec<String> = self.seeds.iter().map(u64::to_string).collect();
            if list.len() == 1 {
                list.push(String::new());
            }
            list.join(",")
        };
        format!("mixes={}&seeds={seeds}", self.mixes.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_is_covered_by_consecutive_numbers_mixes_first() {
        let sweep = Sweep::new(
            parse_mixes("gpt,roberta,bert").expect("mixes"),
            parse_seeds("3").expect("seeds"),
        )
        .expect("sweep");
        assert_eq!(sweep.cells(), 9);
        assert_eq!(sweep.cell(0), (0, "gpt", 0));
        assert_eq!(sweep.cell(1), (1, "roberta", 0));
        assert_eq!(sweep.cell(3), (3, "gpt", 1));
        assert_eq!(sweep.cell(9), (0, "gpt", 0), "numbers wrap around");
        let mut seen: Vec<(String, u64)> = (0..9)
            .map(|n| {
                let (_, m, s) = sweep.cell(n);
                (m.to_string(), s)
            })
            .collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 9);
        assert_eq!(sweep.cell(u64::MAX).0, (u64::MAX % 9) as usize);
    }

    #[test]
    fn lists_read_like_the_cli_and_bad_ones_say_why() {
        assert_eq!(parse_seeds("7,").expect("one"), [7]);
        assert_eq!(parse_seeds("3, 4,5").expect("list"), [3, 4, 5]);
        assert!(parse_seeds("0").is_err());
        assert!(parse_seeds("1,1").expect_err("twice").contains("twice"));
        assert!(parse_seeds("x").expect_err("nan").contains("`x`"));
        assert!(parse_seeds("100000").is_err());
        assert_eq!(
            parse_mixes("mlm+sop@0.5, gpt").expect("mixes"),
            ["mlm+sop@0.5", "gpt"]
        );
        assert!(parse_mixes("gpt,gpt").is_err());
        assert!(parse_mixes("gpt5").is_err());
        assert!(parse_mixes(",").is_err());
        let sweep = Sweep::new(vec!["gpt".into()], vec![7]).expect("sweep");
        assert_eq!(sweep.query(), "mixes=gpt&seeds=7,");
        let sweep = Sweep::new(vec!["gpt".into(), "bert".into()], vec![0, 1, 2]).expect("sweep");
        assert_eq!(sweep.query(), "mixes=gpt,bert&seeds=3");
        assert!(Sweep::new(vec!["gpt".into(); 2], (0..600).collect()).is_err());
    }
}
