//! The Slurm job array of a planned comparison: one array task per (mix, seed). The script
//! holds no grid of its own — task `i` calls `compare --task i --out DIR`, which reads
//! `DIR/plan.json` and runs that task's `train` exactly as the direct command does — so the
//! plan stays the one place the grid is written down.

use std::path::Path;

use super::ComparePlan;

/// `text` as one single-quoted shell word.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The `sbatch` script for `plan`, calling `exe` on the directory `dir` (both absolute, so it
/// can be submitted from anywhere on a shared filesystem).
pub fn sbatch(plan: &ComparePlan, exe: &Path, dir: &Path) -> String {
    let last = plan.tasks.len().saturating_sub(1);
    let logs = dir.join("logs");
    let mut out = String::from("#!/bin/bash\n");
    out.push_str(&format!(
        "#SBATCH --job-name=pp-compare\n\
         #SBATCH --array=0-{last}\n\
         #SBATCH --ntasks=1\n\
         #SBATCH --cpus-per-task=1\n\
         #SBATCH --output={}/slurm-%A_%a.out\n",
        logs.display()
    ));
    out.push_str(
        "# Written by `pretrain-playground compare --plan slurm`; add --time, --partition or\n\
         # --account as your cluster asks. One array task per (mix, seed) of plan.json:\n",
    );
    for t in &plan.tasks {
        out.push_str(&format!(
            "#   task {}: {} seed {} -> runs/{}.json\n",
            t.id, t.mix, t.seed, t.job.name
        ));
    }
    out.push_str(&format!(
        "# Submit with `sbatch {script}`; when every task is done:\n\
         #   {exe} compare --merge {dir}\n\
         set -eu\n\
         exec {exe} compare --task \"$SLURM_ARRAY_TASK_ID\" --out {dir}\n",
        script = quote(&dir.join("compare.sbatch").to_string_lossy()),
        exe = quote(&exe.to_string_lossy()),
        dir = quote(&dir.to_string_lossy()),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_spaces_and_quotes() {
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
