//! `compare` end to end through the binary, at the fast size and a 3,000-token budget: the
//! Slurm plan's tasks followed by `--merge` give the direct command's `compare.json` (timings
//! aside, bit for bit: runs are deterministic for a seed), a student's own text compares, and a
//! run that cannot train is a row with its error while the rest of the table is written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pretrain-playground");

/// Fields that measure time, the only ones allowed to differ between two runs of one seed.
const TIMINGS: [&str; 3] = ["wall_s", "train_s", "eval_s"];

/// An empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pp-compare-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn compare(args: &[&str], out: &Path) -> Output {
    let output = Command::new(BIN)
        .arg("compare")
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run compare");
    eprintln!(
        "compare {args:?} → {:?}\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `compare.json`'s rows with the timings taken out.
fn rows_without_timings(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("compare.json")).expect("compare.json");
    let report: Value = serde_json::from_str(&text).expect("json");
    let mut rows = report["rows"].as_array().expect("rows").clone();
    for row in &mut rows {
        for key in TIMINGS {
            row.as_object_mut().expect("row object").remove(key);
        }
    }
    rows
}

fn named<'a>(rows: &'a [Value], name: &str) -> Vec<&'a Value> {
    rows.iter().filter(|r| r["name"] == name).collect()
}

#[test]
fn slurm_tasks_and_merge_give_the_direct_comparison() {
    let grid = [
        "--mixes",
        "gpt,t5",
        "--seeds",
        "2",
        "--size",
        "fast",
        "--budget-tokens",
        "3000",
        "--eval",
        "quick",
    ];
    let direct = scratch("direct");
    let mut args = grid.to_vec();
    args.extend(["--jobs", "2"]);
    assert_eq!(compare(&args, &direct).status.code(), Some(0));

    let planned = scratch("slurm");
    let mut args = grid.to_vec();
    args.extend(["--plan", "slurm"]);
    let plan = compare(&args, &planned);
    assert_eq!(plan.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&plan.stdout).contains("sbatch "));
    let script = planned.join("compare.sbatch");
    let text = std::fs::read_to_string(&script).expect("sbatch script");
    assert!(text.contains("#SBATCH --array=0-3\n"), "{text}");
    // Before any task ran, a merge is every run "not finished" and says so in its exit code.
    let early = Command::new(BIN)
        .args(["compare", "--merge"])
        .arg(&planned)
        .output()
        .expect("merge");
    assert_eq!(early.status.code(), Some(3));
    let early_rows = rows_without_timings(&planned);
    assert!(
        named(&early_rows, "gpt")
            .iter()
            .all(|r| r["error"] == "not finished")
    );

    // Every array task through the script itself, two at a time as the scheduler might.
    for ids in [[0, 1], [2, 3]] {
        let children: Vec<_> = ids
            .iter()
            .map(|id| {
                Command::new("bash")
                    .arg(&script)
                    .env("SLURM_ARRAY_TASK_ID", id.to_string())
                    .output()
            })
            .collect();
        for child in children {
            let output = child.expect("array task");
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    let merged = Command::new(BIN)
        .args(["compare", "--merge"])
        .arg(&planned)
        .output()
        .expect("merge");
    assert_eq!(merged.status.code(), Some(0));

    let (a, b) = (
        rows_without_timings(&direct),
        rows_without_timings(&planned),
    );
    assert_eq!(
        a.len(),
        4 + 4 + 4 + 4,
        "runs, their untrained twins, the two reply baselines at gpt's and t5's bounds, bow, \
         bow-ordered, surface, unigram"
    );
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y, "the same row both ways, timings aside");
    }
    assert_eq!(a, b);
    for name in ["gpt-0", "gpt-1", "t5-0", "t5-1"] {
        let read = |dir: &Path| -> Value {
            let text = std::fs::read_to_string(dir.join("runs").join(format!("{name}.json")))
                .expect("run summary");
            let mut v: Value = serde_json::from_str(&text).expect("json");
            for key in TIMINGS {
                v.as_object_mut().expect("object").remove(key);
            }
            v
        };
        assert_eq!(
            read(&direct),
            read(&planned),
            "{name}: the whole run summary"
        );
    }

    // What the rows hold.
    let gpt = named(&a, "gpt");
    assert_eq!(gpt.len(), 2);
    for r in &gpt {
        assert_eq!(r["row_kind"], "run");
        assert_eq!(
            (r["mix"].as_str(), r["preset"].as_str()),
            (Some("clm"), Some("gpt"))
        );
        assert!(r["gen_ppl"].as_f64().is_some_and(|p| p > 1.0));
        assert!(r["gen_pppl"].is_null(), "gpt has no pseudo-perplexity");
        assert!(r["error"].is_null());
        assert_eq!(r["schedule_tokens"], r["budget_tokens"]);
        for kind in ["random", "hard", "swapped"] {
            assert!(r["probe_acc"][kind].as_f64().is_some(), "{kind}");
        }
        // Compliance at gpt's own bound, and at the bound every writer shares.
        assert!(r["compliance"].as_f64().is_some());
        assert!(r["compliance_common"].as_f64().is_some());
        assert_eq!(r["compliance_common_cap"], 16);
    }
    for r in named(&a, "t5") {
        assert_eq!(r["compliance_common_cap"], 16);
        assert_eq!(
            r["compliance_common"], r["compliance"],
            "t5's own bound is the common bound"
        );
    }
    // The reply baselines at the common bound carry the common column; at gpt's 96 they do not.
    for writer in ["majority-action", "retrieve-nearest"] {
        let short = named(&a, &format!("{writer} (first 16 tokens)"))[0];
        assert_eq!(short["compliance_common"], short["compliance"], "{writer}");
        let long = named(&a, &format!("{writer} (first 96 tokens)"))[0];
        assert!(long["compliance"].as_f64().is_some() && long["compliance_common"].is_null());
    }
    let twins = named(&a, "random-init:t5");
    assert_eq!(twins.len(), 2);
    assert!(
        twins
            .iter()
            .all(|r| r["row_kind"] == "baseline" && r["gen_ppl"].is_null())
    );
    assert!(twins[0]["probe_acc"]["hard"].as_f64().is_some());
    let unigram = named(&a, "unigram");
    assert_eq!(unigram[0]["gen_examples"], gpt[0]["gen_examples"]);
    assert_eq!(
        unigram[0]["gen_tokens"], gpt[0]["gen_tokens"],
        "the same reply tokens"
    );
    assert!(unigram[0]["gen_ppl"].as_f64().is_some_and(|p| p > 1.0));
    for name in ["bow", "bow-ordered", "surface"] {
        let r = named(&a, name)[0];
        assert_eq!(r["row_kind"], "baseline");
        assert!(r["error"].is_null(), "{name}: {}", r["error"]);
        for kind in ["random", "hard", "swapped"] {
            assert!(r["probe_acc"][kind].as_f64().is_some(), "{name} {kind}");
            assert!(r["probe_auc"][kind].as_f64().is_some(), "{name} {kind}");
        }
        assert!(
            r["method"]
                .as_str()
                .is_some_and(|m| m.contains("tokens a model of 32 positions reads")),
            "{name} reads what a model reads"
        );
        assert_eq!(
            r["probe_n"], gpt[0]["probe_n"],
            "{name} scores as many pairs as a run"
        );
        assert_eq!(r["probe_fit_pairs"], gpt[0]["probe_fit_pairs"]);
    }
    let csv = std::fs::read_to_string(direct.join("compare.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 1 + 16);
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.contains(",probe_acc_swapped,")
                && h.contains(",compliance,")
                && h.contains(",compliance_common,"))
    );

    let _ = std::fs::remove_dir_all(&direct);
    let _ = std::fs::remove_dir_all(&planned);
}

/// Plain prose with no tickets: numbered notes about a village, four sentences a paragraph.
fn village_notes() -> String {
    const WHO: [&str; 8] = [
        "the gardener",
        "a neighbour",
        "my aunt",
        "the baker",
        "our teacher",
        "the old captain",
        "a young fox",
        "the mayor",
    ];
    const DID: [&str; 6] = ["planted", "painted", "repaired", "carried", "sold", "found"];
    const WHAT: [&str; 8] = [
        "a red bench",
        "the tall ladder",
        "three copper pots",
        "an apple tree",
        "the blue boat",
        "a wooden gate",
        "seven lanterns",
        "the village clock",
    ];
    const WHEN: [&str; 5] = [
        "before breakfast",
        "after the storm",
        "on a quiet Sunday",
        "in late autumn",
        "during the fair",
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut pick = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % n
    };
    let mut text = String::new();
    for day in 0..90 {
        for line in 0..4 {
            let who = WHO[pick(WHO.len())];
            text.push_str(&format!(
                "On day {day}, {who} {} {} {}{}",
                DID[pick(DID.len())],
                WHAT[pick(WHAT.len())],
                WHEN[pick(WHEN.len())],
                if line == 3 { ".\n\n" } else { ". " }
            ));
        }
    }
    text
}

#[test]
fn own_text_compares_and_a_run_that_cannot_train_is_a_row() {
    let dir = scratch("text");
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, village_notes()).expect("text");
    let out = dir.join("cmp");
    let notes_arg = notes.to_string_lossy().into_owned();
    let args = [
        "--mixes",
        "gpt,clm+span",
        "--seeds",
        "1",
        "--size",
        "fast",
        "--budget-tokens",
        "3000",
        "--eval-at",
        "1.5k",
        "--corpus",
        &notes_arg,
    ];
    let output = compare(&args, &out);
    assert_eq!(output.status.code(), Some(3), "written, with a failed row");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("clm+span @ 3000 seed 0: "), "{stdout}");
    assert!(stdout.contains("| gpt @ 1500 | 1 |"), "{stdout}");
    let rows = rows_without_timings(&out);
    assert_eq!(rows.len(), 2 * 2 + 2 + 4, "a row per run and checkpoint");
    assert!(rows.iter().all(|r| r["corpus"] == "notes.txt"));

    // The budget curve: one run, its checkpoint a decay branch of the 3000-token trunk.
    let curve = named(&rows, "gpt");
    let budgets: Vec<_> = curve.iter().map(|r| r["budget_tokens"].clone()).collect();
    assert_eq!(budgets, [1500, 3000]);
    assert!(curve.iter().all(|r| r["schedule_tokens"] == 3000));
    assert!(curve[0]["steps"].as_u64() < curve[1]["steps"].as_u64());
    assert!(curve[0]["gen_ppl"].as_f64().is_some_and(|p| p > 1.0));
    assert!(out.join("runs").join("gpt-0.at-1500.json").exists());

    let gpt = curve[1];
    assert!(gpt["error"].is_null(), "{gpt}");
    assert!(
        gpt["gen_ppl"]
            .as_f64()
            .is_some_and(|p| p.is_finite() && p > 1.0)
    );
    assert!(gpt["gen_examples"].as_u64().is_some_and(|n| n > 0));
    let unigram = named(&rows, "unigram")[0];
    assert!(
        unigram["gen_ppl_protocol"]
            .as_str()
            .is_some_and(|p| p.contains("second half"))
    );
    assert_eq!(unigram["gen_tokens"], gpt["gen_tokens"]);
    for name in ["bow", "bow-ordered", "surface"] {
        let r = named(&rows, name)[0];
        assert!(r["error"].is_null(), "{r}");
        assert!(r["probe_acc"]["swapped"].as_f64().is_some());
    }

    assert_eq!(
        named(&rows, "clm+span").len(),
        2,
        "a failed row per checkpoint"
    );
    let failed = named(&rows, "clm+span")[0];
    assert_eq!(failed["row_kind"], "run");
    assert_eq!(failed["seed"], 0);
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot be trained")),
        "{failed}"
    );
    assert!(failed["gen_ppl"].is_null() && failed["probe_acc"]["random"].is_null());
    assert!(named(&rows, "random-init:clm+span")[0]["error"].is_string());
    let csv = std::fs::read_to_string(out.join("compare.csv")).expect("csv");
    assert_eq!(csv.lines().count(), 1 + 10);

    // The directory now belongs to this grid: another one is refused, not mixed in.
    let mut other = args.to_vec();
    other[3] = "2";
    assert_eq!(compare(&other, &out).status.code(), Some(2));
    // An edited text is noticed before a merge reads it.
    std::fs::write(&notes, village_notes() + "One more line at the end.\n").expect("edit");
    let merge = Command::new(BIN)
        .args(["compare", "--merge"])
        .arg(&out)
        .output()
        .expect("merge");
    assert_eq!(merge.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&merge.stderr).contains("has changed"));

    let _ = std::fs::remove_dir_all(&dir);
}
