//! The comparison as the terminal shows it: one Markdown row per mix with mean ± sample sd
//! over its finished runs, the untrained twins' probe beside each mix, then the model-free
//! baselines in a table of their own (never pooled with a trained run), then every failure.

use super::Grid;
use super::rows::{CompareRow, Kinds, RowKind};
use crate::cli::runs::Stat;
use crate::core::corpus::PairKind;

/// One Markdown row; a `|` inside a cell (an error message) is escaped.
fn markdown_row(cells: &[String]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
    format!("| {} |\n", cells.join(" | "))
}

fn stat_cell(values: &[f64], scale: f64, digits: usize) -> String {
    Stat::of(values).map_or("–".to_string(), |s| s.scaled(scale).text(digits))
}

fn kind_values(rows: &[&CompareRow], field: fn(&CompareRow) -> &Kinds, kind: PairKind) -> Vec<f64> {
    rows.iter().filter_map(|r| field(r).get(kind)).collect()
}

/// `value ± se` of one baseline figure, `–` when absent.
fn se_cell(value: Option<f64>, se: Option<f64>, scale: f64, digits: usize) -> String {
    match (value, se) {
        (Some(v), Some(se)) if se.is_finite() => {
            format!("{:.d$} ± {:.d$}", v * scale, se * scale, d = digits)
        }
        (Some(v), _) => format!("{:.d$}", v * scale, d = digits),
        _ => "–".to_string(),
    }
}

pub fn table(grid: &Grid, rows: &[CompareRow]) -> String {
    let budgets = grid.budgets();
    let at = if grid.eval_at.is_empty() {
        format!("{} tokens", grid.budget_tokens)
    } else {
        format!(
            "{} tokens (each checkpoint before {} a decay branch of that warm-up–stable–decay \
             run)",
            budgets
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            grid.budget_tokens
        )
    };
    let mut out = format!(
        "\n{} at {at}, size {}, corpus {} (corpus seed {}); mean ± sd over seeds, accuracies \
         in %\n\n",
        grid.mixes.join(", "),
        grid.size.name(),
        grid.corpus_name(),
        grid.corpus_seed
    );
    out.push_str(
        "| mix | runs | gen_ppl | gen_pppl | compliance % | compliance, common bound % | probe \
         random | probe hard | probe swapped | head random | head hard | head swapped | \
         likelihood random | likelihood hard | likelihood swapped | untrained twin random | \
         untrained twin hard | untrained twin swapped | supervised tokens/step | wall s |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | \
         ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (&budget, mix) in budgets
        .iter()
        .flat_map(|b| grid.mixes.iter().map(move |m| (b, m)))
    {
        let all: Vec<&CompareRow> = rows
            .iter()
            .filter(|r| r.row_kind == RowKind::Run && r.name == *mix)
            .filter(|r| r.budget_tokens == budget)
            .collect();
        let ok: Vec<&CompareRow> = all.iter().copied().filter(|r| r.error.is_none()).collect();
        let twin_name = format!("random-init:{mix}");
        let twins: Vec<&CompareRow> = rows
            .iter()
            .filter(|r| r.row_kind == RowKind::Baseline && r.name == twin_name)
            .filter(|r| r.error.is_none())
            .collect();
        let of = |f: fn(&CompareRow) -> Option<f64>| -> Vec<f64> {
            ok.iter().filter_map(|r| f(r)).collect()
        };
        let mut cells = vec![
            if budgets.len() > 1 {
                format!("{mix} @ {budget}")
            } else {
                mix.clone()
            },
            if ok.len() < all.len() {
                format!("{} of {}", ok.len(), all.len())
            } else {
                ok.len().to_string()
            },
            stat_cell(&of(|r| r.gen_ppl), 1.0, 1),
            stat_cell(&of(|r| r.gen_pppl), 1.0, 1),
            stat_cell(&of(|r| r.compliance), 100.0, 1),
            stat_cell(&of(|r| r.compliance_common), 100.0, 1),
        ];
        for (set, field) in [
            (&ok, (|r| &r.probe_acc) as fn(&CompareRow) -> &Kinds),
            (&ok, |r| &r.zeroshot_acc),
            (&ok, |r| &r.zeroshot_likelihood_acc),
            (&twins, |r| &r.probe_acc),
        ] {
            for kind in PairKind::ALL {
                cells.push(stat_cell(&kind_values(set, field, kind), 100.0, 1));
            }
        }
        cells.push(stat_cell(&of(|r| r.supervised_tokens_per_step), 1.0, 0));
        cells.push(stat_cell(&of(|r| r.wall_s), 1.0, 1));
        out.push_str(&markdown_row(&cells));
    }

    out.push_str(
        "\nbaselines without pre-training (± standard error of the one fit):\n\n\
         | baseline | gen_ppl | compliance % | compliance, common bound % | probe random | probe \
         hard | probe swapped | how |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for r in rows
        .iter()
        .filter(|r| r.row_kind == RowKind::Baseline && !r.name.starts_with("random-init:"))
    {
        let mut cells = vec![
            r.name.clone(),
            se_cell(r.gen_ppl, r.gen_ppl_se, 1.0, 1),
            se_cell(r.compliance, r.compliance_se, 100.0, 1),
            se_cell(r.compliance_common, r.compliance_common_se, 100.0, 1),
        ];
        for kind in PairKind::ALL {
            cells.push(se_cell(
                r.probe_acc.get(kind),
                r.probe_acc_se.get(kind),
                100.0,
                1,
            ));
        }
        cells.push(r.error.as_ref().map_or_else(
            || {
                r.probe_pooling
                    .clone()
                    .or_else(|| r.method.clone())
                    .unwrap_or_else(|| "word frequencies".into())
            },
            |e| format!("error: {e}"),
        ));
        out.push_str(&markdown_row(&cells));
    }
    out.push_str(
        "\nhead: the NSP/SOP pair head's zero-shot verdict; likelihood: log p(B | A) − log p(B) \
         under the run's own protocol, thresholded on the probe's labelled pairs; untrained \
         twin: the run's probe on its network before any step (rows \
         random-init:<mix>); gen_pppl is masked LM's pseudo-perplexity, never ranked with gen_ppl; \
         compliance, common bound: every writer's replies cut to the shortest bound any writer \
         has at this size, the compliance that compares across mixes\n",
    );
    if budgets.len() > 1 {
        out.push_str(
            "along a budget curve, wall s counts from the run's start: a checkpoint's includes \
             the trunk up to it and the earlier checkpoints' branches and evaluations\n",
        );
    }

    let failed: Vec<&CompareRow> = rows
        .iter()
        .filter(|r| r.row_kind == RowKind::Run && r.error.is_some())
        .collect();
    if !failed.is_empty() {
        out.push_str("\nruns without figures:\n");
        for r in failed {
            out.push_str(&format!(
                "  {}{} seed {}: {}\n",
                r.name,
                if budgets.len() > 1 {
                    format!(" @ {}", r.budget_tokens)
                } else {
                    String::new()
                },
                r.seed.map_or("?".into(), |s| s.to_string()),
                r.error.as_deref().unwrap_or("")
            ));
        }
    }
    out
}
