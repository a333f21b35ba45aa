#!/usr/bin/env python3
"""Draws the scaling rows of a `pretrain-playground bench --scaling` report (bench.json) as
step time against seq_len and against d_model, the lab's burn step beside the PyTorch
reference, and writes PNG and SVG. Needs matplotlib (in the bench virtualenv, never in CI).

Usage: python3 scripts/bench_plot.py BENCH_JSON OUT_PREFIX   (writes OUT_PREFIX.png and .svg)
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def series(rows, key, engine_prefix):
    points = sorted(
        (r[key], r["ms_per_step"])
        for r in rows
        if r["engine"].startswith(engine_prefix)
    )
    return [p[0] for p in points], [p[1] for p in points]


def main(path, prefix):
    report = json.load(open(path))
    rows = [r for r in report["rows"] if r["what"] == "scaling"]
    seq_rows = [r for r in rows if r["d_model"] == 128]
    d_rows = [r for r in rows if r["seq_len"] == 64]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, group, key, label in (
        (axes[0], seq_rows, "seq_len", "seq_len (d_model 128, batch 32)"),
        (axes[1], d_rows, "d_model", "d_model (seq_len 64, batch 32, d_ff 4·d)"),
    ):
        for prefix_engine, name, style in (("burn", "burn flex (this lab)", "o-"), ("pytorch", "PyTorch eager", "s--")):
            xs, ys = series(group, key, prefix_engine)
            if xs:
                ax.plot(xs, ys, style, label=name)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("ms per training step")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"Training-step time, CPU: {report['machine']['cpu']}")
    fig.tight_layout()
    fig.savefig(prefix + ".png", dpi=110)
    fig.savefig(prefix + ".svg")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
