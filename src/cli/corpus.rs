//! `pretrain-playground corpus`: builds the corpus a run would train on, trains its
//! tokenizer, prints what is in it and its fingerprint, and writes it out as JSON Lines.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::core::audit::{self, AuditLine};
use crate::core::config::ModelSize;
use crate::core::corpus::export::{self, CorpusStats, ExportFile};
use crate::core::corpus::{CorpusInput, custom};
use crate::core::data::Dataset;
use crate::core::error::CoreError;

use super::{number, value};

/// What `corpus` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusArgs {
    pub input: CorpusInput,
    pub corpus_seed: u64,
    pub size: ModelSize,
    pub out: Option<String>,
    /// Run the shortcut audit on every labelled set.
    pub audit: bool,
}

/// Reads `--corpus FILE` as a student's text (UTF-8 checked, size capped). At most one byte
/// past [`custom::MAX_BYTES`] is read, so a huge file or a device (`/dev/zero`) is refused
/// without being read into memory.
pub fn read_corpus_file(path: &str) -> Result<CorpusInput, CoreError> {
    let unreadable =
        |e: std::io::Error| CoreError::Config(format!("could not read --corpus {path}: {e}"));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_or(0, |m| m.len());
    let mut bytes = Vec::new();
    file.take(custom::MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() > custom::MAX_BYTES {
        return Err(custom::CustomTextError::TooLarge {
            bytes: usize::try_from(size).unwrap_or(usize::MAX).max(bytes.len()),
            cap: custom::MAX_BYTES,
        }
        .into());
    }
    let text = custom::decode(&bytes)?;
    let name = Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned());
    Ok(CorpusInput::Custom { name, text })
}

pub fn parse(args: &[String]) -> Result<CorpusArgs, CoreError> {
    let mut parsed = CorpusArgs {
        input: CorpusInput::Support,
        corpus_seed: 1,
        size: ModelSize::Default,
        out: None,
        audit: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--corpus-seed" => parsed.corpus_seed = number(flag, value(flag, &mut it)?)?,
            "--corpus" => parsed.input = read_corpus_file(value(flag, &mut it)?)?,
            "--size" => parsed.size = value(flag, &mut it)?.parse()?,
            "--out" => parsed.out = Some(value(flag, &mut it)?.clone()),
            "--audit" => parsed.audit = true,
            other => {
                return Err(CoreError::Config(format!(
                    "unknown option `{other}` for corpus (see --help)"
                )));
            }
        }
    }
    Ok(parsed)
}

fn write_files(dir: &Path, files: &[ExportFile]) -> Result<(), CoreError> {
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                CoreError::Config(format!("could not create {}: {e}", parent.display()))
            })?;
        }
        std::fs::write(&path, &file.contents)
            .map_err(|e| CoreError::Config(format!("could not write {}: {e}", path.display())))?;
    }
    Ok(())
}

fn print_stats(stats: &CorpusStats, fingerprint: &str) {
    println!(
        "corpus            {}",
        serde_json::to_string(&stats.source).unwrap_or_default()
    );
    println!(
        "documents         {} ({} sentences, {} tokens, vocabulary {})",
        stats.documents, stats.sentences, stats.tokens, stats.vocab_size
    );
    for split in &stats.splits {
        println!(
            "  {:<15} {:>6} documents {:>7} sentences {:>8} tokens",
            split.split.name(),
            split.documents,
            split.sentences,
            split.tokens
        );
    }
    let genres: Vec<String> = stats
        .genres
        .iter()
        .map(|(g, n)| format!("{} {n}", g.name()))
        .collect();
    println!("genres            {}", genres.join(", "));
    println!(
        "segment pairs     {} (NSP/SOP, training split)",
        stats.segment_pairs
    );
    println!(
        "pair sets         split × kind: positives/negatives · sources · within-genre pairs by genre"
    );
    for set in &stats.pair_sets {
        let sources: Vec<String> = set
            .sources
            .iter()
            .map(|(s, n)| {
                format!(
                    "{} {n}",
                    serde_json::to_string(s)
                        .unwrap_or_default()
                        .trim_matches('"')
                )
            })
            .collect();
        let within: Vec<String> = set
            .within_genre
            .iter()
            .map(|(g, n)| format!("{} {n}", g.name()))
            .collect();
        println!(
            "  {:<10} {:<7} {:>4}/{:<4} · {} · {}",
            set.split.name(),
            set.kind.name(),
            set.positives,
            set.negatives,
            sources.join(", "),
            within.join(", ")
        );
    }
    println!("fingerprint       {fingerprint}");
}

/// Builds, prints and writes the corpus; with `--audit`, returns whether every artifact
/// classifier stayed at chance.
pub fn run(args: &CorpusArgs) -> Result<bool, CoreError> {
    let started = std::time::Instant::now();
    let needs = if args.audit {
        custom::Needs::PAIRS
    } else {
        custom::Needs::TOKENS
    };
    let corpus = args.input.build(args.corpus_seed, needs)?;
    let built = started.elapsed().as_secs_f64();
    let dataset = Dataset::new(Arc::new(corpus), args.size.model().vocab_size)?;
    let tokenized = started.elapsed().as_secs_f64() - built;
    let files = export::files(&dataset.corpus, &dataset.tokenizer)?;
    let fingerprint = export::fingerprint(&files);
    let stats = dataset.stats();
    print_stats(&stats, &fingerprint);
    println!(
        "built in          {built:.2} s; tokenizer trained and splits tokenized in {tokenized:.2} s"
    );
    if let Some(out) = &args.out {
        let dir = Path::new(out);
        write_files(dir, &files)?;
        let stats_json = serde_json::to_string_pretty(&stats)
            .map_err(|e| CoreError::Config(format!("could not serialise the stats: {e}")))?;
        write_files(
            dir,
            &[ExportFile {
                path: "stats.json".into(),
                contents: stats_json + "\n",
            }],
        )?;
        println!("written to        {}", dir.display());
    }
    if !args.audit {
        return Ok(true);
    }
    let started = std::time::Instant::now();
    let lines = audit::audit(&dataset, &ModelSize::ALL)?;
    for line in &lines {
        println!("{}", line.line());
    }
    let failed: Vec<&AuditLine> = lines.iter().filter(|l| !l.passes()).collect();
    println!(
        "audit took        {:.1} s; artifact limit {:.2}: {}",
        started.elapsed().as_secs_f64(),
        audit::ARTIFACT_LIMIT,
        if failed.is_empty() {
            "every set at chance".to_string()
        } else {
            format!("{} set(s) above it", failed.len())
        }
    );
    Ok(failed.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_flags_and_names_bad_ones() {
        let a = parse(&args("--corpus-seed 3 --size fast --out d --audit")).expect("parse");
        assert!(a.audit);
        assert_eq!(
            (a.corpus_seed, a.size, a.out.as_deref()),
            (3, ModelSize::Fast, Some("d"))
        );
        for bad in [
            "--corpus-seed x",
            "--size huge",
            "--out",
            "--what 1",
            "--corpus /nonexistent/file",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_corpus_file_over_the_cap_is_refused_without_reading_it_whole() {
        let too_large = |result: Result<CorpusInput, CoreError>| {
            matches!(
                result,
                Err(CoreError::CustomText(custom::CustomTextError::TooLarge { bytes, cap }))
                    if bytes > cap && cap == custom::MAX_BYTES
            )
        };
        // An endless device: only MAX_BYTES + 1 bytes are ever read.
        #[cfg(unix)]
        assert!(too_large(read_corpus_file("/dev/zero")));
        let path = std::env::temp_dir().join(format!("pp-corpus-{}.txt", std::process::id()));
        let path_str = path.to_string_lossy().into_owned();
        std::fs::write(&path, vec![b'a'; custom::MAX_BYTES + 10]).expect("write");
        let result = read_corpus_file(&path_str);
        assert!(
            matches!(
                &result,
                Err(CoreError::CustomText(custom::CustomTextError::TooLarge { bytes, .. }))
                    if *bytes == custom::MAX_BYTES + 10
            ),
            "{result:?}"
        );
        assert!(too_large(result));
        std::fs::write(&path, "Hello there. How are you?\n").expect("write");
        let read = read_corpus_file(&path_str);
        let _ = std::fs::remove_file(&path);
        assert!(matches!(read, Ok(CorpusInput::Custom { text, .. }) if text.starts_with("Hello")));
    }
}
