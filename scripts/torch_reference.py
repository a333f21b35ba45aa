#!/usr/bin/env python3
"""The PyTorch side of `pretrain-playground bench`: the lab's decoder-only model and its
causal-LM training step, written in PyTorch, timed the way the bench times burn.

The network is the one `src/core/model/` builds for a decoder (GPT-2's pre-norm layout):
token and learned position embeddings; per block LayerNorm, fused QKV projection with bias,
causal multi-head attention, output projection, LayerNorm, Linear -> GELU (erf) -> Linear,
each sub-layer added to the residual stream; a final LayerNorm; logits through the token
embedding table (tied head, no bias); no dropout. `--check` compares every parameter tensor
with the layout below, so the parameter count equals the lab's exactly.

One step is what `time_training_step` in `src/core/bench.rs` does: a batch of random token
ids (inputs and next-token targets), forward, mean cross-entropy over every position,
backward, each parameter's gradient clipped to norm 1.0 on its own (burn's
`GradientClipping::Norm`, not torch's global `clip_grad_norm_`), Adam (lr 1e-3, betas 0.9 and
0.999, eps 1e-8, no weight decay), and the loss read back to the host.

Set-up, outside the project's build and never in CI (see BENCHMARKS.md):
    python3 -m venv ~/.cache/pp-bench/venv
    ~/.cache/pp-bench/venv/bin/pip install torch

Usage:
    python scripts/torch_reference.py [--config default|fast|JSON]... [--steps N] [--warmup N]
        [--device cpu|cuda] [--threads N] [--attention explicit|sdpa] [--seed N]
    python scripts/torch_reference.py --check [--config ...]...

Prints one JSON line per configuration (default: `default`, then `fast`). `--check` times
nothing and needs no torch: it prints the parameter count from the layout; when torch can be
imported it also builds the model and fails unless its tensors match the layout one by one,
its attention is causal, and the explicit attention agrees with torch's fused one.
"""

import argparse
import json
import math
import statistics
import sys
import time

# The lab's two sizes (`ModelSize` in src/core/config.rs) and the batch each trains with.
SIZES = {
    "default": {
        "vocab": 2048,
        "d_model": 128,
        "n_layers": 4,
        "n_heads": 4,
        "d_ff": 512,
        "max_seq_len": 64,
        "seq_len": 64,
        "batch": 32,
    },
    "fast": {
        "vocab": 1024,
        "d_model": 64,
        "n_layers": 2,
        "n_heads": 4,
        "d_ff": 256,
        "max_seq_len": 32,
        "seq_len": 32,
        "batch": 8,
    },
}

# Keys a JSON configuration must give; `max_seq_len` defaults to `seq_len`.
REQUIRED = ("vocab", "d_model", "n_layers", "n_heads", "d_ff", "seq_len", "batch")

# burn's GPT-2 initialisation (src/core/model/layers.rs): N(0, 0.02), residual projections
# scaled by 1/sqrt(2 * layers), biases zero, LayerNorm ones and zeros.
INIT_STD = 0.02

# What blocked attention scores become before the softmax, as in src/core/model/attention.rs.
BLOCKED_SCORE = -1.0e9


class ConfigError(Exception):
    """A configuration the script cannot build: reported on stderr, exit status 2."""


def parse_config(text):
    """A named size or a JSON object with the keys in REQUIRED; returns (name, config)."""
    if text in SIZES:
        return text, dict(SIZES[text])
    try:
        given = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"--config takes {', '.join(SIZES)} or a JSON object, not {text!r} ({e})"
        ) from None
    if not isinstance(given, dict):
        raise ConfigError(f"--config JSON must be an object, not {text!r}")
    if "vocab" not in given and "vocab_size" in given:
        given["vocab"] = given.pop("vocab_size")
    missing = [k for k in REQUIRED if k not in given]
    if missing:
        raise ConfigError(f"--config JSON lacks {', '.join(missing)}: {text}")
    config = {k: given[k] for k in REQUIRED}
    config["max_seq_len"] = given.get("max_seq_len", given["seq_len"])
    for key, value in config.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"--config: {key} must be a positive integer, not {value!r}")
    if config["d_model"] % config["n_heads"]:
        raise ConfigError(
            f"--config: d_model {config['d_model']} is not a multiple of "
            f"n_heads {config['n_heads']}"
        )
    if config["seq_len"] > config["max_seq_len"]:
        raise ConfigError(
            f"--config: seq_len {config['seq_len']} exceeds max_seq_len {config['max_seq_len']}"
        )
    return "json", config


def parameter_layout(c):
    """Every parameter tensor of the model, in order, as (name, shape): the lab's decoder
    (src/core/model/) with PyTorch's weight orientation ([out, in] for a Linear)."""
    d, f = c["d_model"], c["d_ff"]
    layout = [("tokens.weight", (c["vocab"], d)), ("positions.weight", (c["max_seq_len"], d))]
    for i in range(c["n_layers"]):
        for name, shape in (
            ("ln_attn.weight", (d,)),
            ("ln_attn.bias", (d,)),
            ("qkv.weight", (3 * d, d)),
            ("qkv.bias", (3 * d,)),
            ("proj.weight", (d, d)),
            ("proj.bias", (d,)),
            ("ln_mlp.weight", (d,)),
            ("ln_mlp.bias", (d,)),
            ("up.weight", (f, d)),
            ("up.bias", (f,)),
            ("down.weight", (d, f)),
            ("down.bias", (d,)),
        ):
            layout.append((f"blocks.{i}.{name}", shape))
    layout += [("ln_final.weight", (d,)), ("ln_final.bias", (d,))]
    return layout


def layout_params(c):
    """The parameter count the layout gives."""
    return sum(math.prod(shape) for _, shape in parameter_layout(c))


def build_model(c, attention, torch):
    """The lab's decoder as a torch module (torch is passed in: `--check` must run without it)."""
    nn = torch.nn
    F = torch.nn.functional

    class Block(nn.Module):
        """One pre-norm block: x + attn(ln(x)), then x + mlp(ln(x))."""

        def __init__(self):
            super().__init__()
            d = c["d_model"]
            self.heads = c["n_heads"]
            self.ln_attn = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.proj = nn.Linear(d, d)
            self.ln_mlp = nn.LayerNorm(d)
            self.up = nn.Linear(d, c["d_ff"])
            self.down = nn.Linear(c["d_ff"], d)

        def forward(self, x, blocked):
            b, s, d = x.shape
            heads, dh = self.heads, d // self.heads
            q, k, v = (
                t.reshape(b, s, heads, dh).transpose(1, 2)  # [b, h, s, dh]
                for t in self.qkv(self.ln_attn(x)).split(d, dim=2)
            )
            if attention == "sdpa":
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                scores = (q @ k.transpose(2, 3)) / math.sqrt(dh)  # [b, h, s, s]
                y = scores.masked_fill(blocked, BLOCKED_SCORE).softmax(dim=3) @ v
            x = x + self.proj(y.transpose(1, 2).reshape(b, s, d))
            return x + self.down(F.gelu(self.up(self.ln_mlp(x))))

    class Decoder(nn.Module):
        """Embeddings, the blocks, the final LayerNorm and the tied head."""

        def __init__(self):
            super().__init__()
            d = c["d_model"]
            self.tokens = nn.Embedding(c["vocab"], d)
            self.positions = nn.Embedding(c["max_seq_len"], d)
            self.blocks = nn.ModuleList(Block() for _ in range(c["n_layers"]))
            self.ln_final = nn.LayerNorm(d)
            residual_std = INIT_STD / math.sqrt(2 * c["n_layers"])
            with torch.no_grad():
                for name, p in self.named_parameters():
                    if name.endswith("bias"):
                        p.zero_()
                    elif ".ln_" in name or name.startswith("ln_"):
                        p.fill_(1.0)
                    elif name.endswith(("proj.weight", "down.weight")):
                        p.normal_(0.0, residual_std)
                    else:
                        p.normal_(0.0, INIT_STD)

        def forward(self, ids, blocked):
            s = ids.shape[1]
            positions = torch.arange(s, device=ids.device)
            x = self.tokens(ids) + self.positions(positions)  # [b, s, d]
            for block in self.blocks:
                x = block(x, blocked)
            return F.linear(self.ln_final(x), self.tokens.weight)  # [b, s, vocab]

    return Decoder()


def check_against_layout(model, c):
    """Fails (ConfigError) unless the built model's tensors are the layout's, name by name."""
    built = [(name, tuple(p.shape)) for name, p in model.named_parameters()]
    wanted = parameter_layout(c)
    if built != wanted:
        diff = next(
            (f"{b} vs {w}" for b, w in zip(built, wanted) if b != w),
            f"{len(built)} vs {len(wanted)} tensors",
        )
        raise ConfigError(f"the torch model differs from the lab's layout: {diff}")


def check_attention(c, torch):
    """Fails (ConfigError) unless the explicit attention is causal (a later token changes no
    earlier logit) and computes what torch's fused attention computes."""
    torch.manual_seed(0)
    explicit = build_model(c, "explicit", torch)
    fused = build_model(c, "sdpa", torch)
    fused.load_state_dict(explicit.state_dict())
    s = c["seq_len"]
    blocked = torch.ones(s, s, dtype=torch.bool).triu(1)
    ids = torch.randint(0, c["vocab"], (1, s))
    with torch.no_grad():
        logits = explicit(ids, blocked)
        if not torch.allclose(logits, fused(ids, blocked), atol=1e-4, rtol=1e-4):
            raise ConfigError("explicit and fused attention disagree")
        if s > 1:
            changed = ids.clone()
            changed[0, -1] = (changed[0, -1] + 1) % c["vocab"]
            earlier = explicit(changed, blocked)[:, :-1]
            if not torch.equal(earlier, logits[:, :-1]):
                raise ConfigError(
                    "the attention is not causal: a later token changed earlier logits"
                )


def clip_each_gradient(params, max_norm, torch):
    """burn's `GradientClipping::Norm`: each parameter's gradient scaled to norm <= max_norm
    on its own, as `g * min(1, max_norm / (|g| + tiny))`."""
    grads = [p.grad for p in params if p.grad is not None]
    tiny = torch.finfo(torch.float32).tiny
    for g in grads:
        g.mul_(torch.clamp(max_norm / (torch.linalg.vector_norm(g) + tiny), max=1.0))


def time_steps(c, args, torch):
    """Builds the model and times `args.steps` training steps after `args.warmup` untimed ones;
    returns the JSON line's fields."""
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    model = build_model(c, args.attention, torch).to(device)
    check_against_layout(model, c)
    params = list(model.parameters())
    optim = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    b, s, vocab = c["batch"], c["seq_len"], c["vocab"]
    # The batches are drawn on the host and moved each step, as the lab uploads each batch.
    generator = torch.Generator().manual_seed(args.seed)
    total = args.warmup + args.steps
    data = torch.randint(0, vocab, (total, b, s + 1), generator=generator)
    blocked = torch.ones(s, s, dtype=torch.bool, device=device).triu(1)  # true = blocked
    times, loss_value = [], float("nan")
    for i in range(total):
        started = time.perf_counter()
        window = data[i].to(device)
        inputs, targets = window[:, :-1], window[:, 1:]
        logits = model(inputs, blocked)
        loss = torch.nn.functional.cross_entropy(logits.reshape(b * s, vocab), targets.reshape(-1))
        optim.zero_grad(set_to_none=True)
        loss.backward()
        clip_each_gradient(params, 1.0, torch)
        optim.step()
        loss_value = loss.item()  # the read-back the lab does every step (and a device sync)
        if i >= args.warmup:
            times.append(time.perf_counter() - started)
        if not math.isfinite(loss_value):
            raise ConfigError(f"the loss became {loss_value} at step {i}")
    mean_s = sum(times) / len(times)
    return {
        "params": sum(p.numel() for p in params),
        "tensors": len(params),
        "warmup": args.warmup,
        "steps": args.steps,
        # The mean over the timed steps, the statistic the bench's burn rows report.
        "ms_per_step": round(mean_s * 1e3, 3),
        "ms_median": round(statistics.median(times) * 1e3, 3),
        "ms_min": round(min(times) * 1e3, 3),
        "ms_max": round(max(times) * 1e3, 3),
        "tokens_per_s": round(b * s / mean_s, 1),
        "final_loss": round(loss_value, 4),
    }


def describe(name, c):
    """The fields every line carries: which configuration, its shape and its counts."""
    return {
        "config": name,
        **{k: c[k] for k in REQUIRED},
        "max_seq_len": c["max_seq_len"],
        "tokens_per_step": c["batch"] * c["seq_len"],
        "layout_params": layout_params(c),
    }


def import_torch(required):
    """torch, or None when it cannot be imported and `required` is false."""
    try:
        import torch
    except ImportError:
        if required:
            raise ConfigError(
                "cannot import torch: set up the bench's venv (BENCHMARKS.md) or use --check"
            ) from None
        return None
    return torch


def main(argv):
    parser = argparse.ArgumentParser(
        description="Time the lab's causal-LM training step in PyTorch "
        "(one JSON line per configuration)."
    )
    parser.add_argument(
        "--config",
        action="append",
        help="default, fast or a JSON object (vocab, d_model, n_layers, n_heads, d_ff, seq_len, "
        "batch, optional max_seq_len); repeat for several (default: default and fast)",
    )
    parser.add_argument("--steps", type=int, default=30, help="timed steps (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's own)")
    parser.add_argument(
        "--attention",
        choices=("explicit", "sdpa"),
        default="explicit",
        help="explicit: scores, mask, softmax, weights @ v, as the lab's model does (default); "
        "sdpa: torch's fused scaled_dot_product_attention, the same function",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batches")
    parser.add_argument(
        "--check",
        action="store_true",
        help="time nothing: print the parameter count (and, with torch, check the built model "
        "and its attention)",
    )
    args = parser.parse_args(argv)
    try:
        configs = [parse_config(text) for text in (args.config or list(SIZES))]
        if args.steps < 1 or args.warmup < 0:
            raise ConfigError("--steps must be at least 1 and --warmup at least 0")
        if args.threads is not None and args.threads < 1:
            raise ConfigError("--threads must be at least 1")
        if args.device not in ("cpu", "cuda"):
            raise ConfigError(f"--device takes cpu or cuda, not {args.device!r}")
        torch = import_torch(required=not args.check)
        if args.check:
            for name, c in configs:
                line = describe(name, c)
                line["params"] = line["layout_params"]
                line["torch_checked"] = torch is not None
                if torch is not None:
                    model = build_model(c, args.attention, torch)
                    check_against_layout(model, c)
                    check_attention(c, torch)
                    line["params"] = sum(p.numel() for p in model.parameters())
                print(json.dumps(line), flush=True)
            return 0
        if args.device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("--device cuda, but this torch sees no CUDA device")
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        device_name = args.device
        if args.device == "cuda":
            device_name = f"cuda ({torch.cuda.get_device_name(0)})"
        for name, c in configs:
            line = describe(name, c)
            line.update(
                engine=f"PyTorch {torch.__version__} eager",
                device=args.device,
                device_name=device_name,
                threads=torch.get_num_threads(),
                attention=args.attention,
            )
            line.update(time_steps(c, args, torch))
            print(json.dumps(line), flush=True)
    except ConfigError as e:
        print(f"torch_reference.py: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
