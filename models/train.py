#!/usr/bin/env python3
"""train.py — trains Glassbox's default model (models/default).

  models/prepare_data.sh                       # once: builds models/data/
  python3 models/train.py                      # one GPU, about 4 minutes
  python3 models/train.py --device cpu         # works, slowly
  python3 models/train.py --smoke --out /tmp/x # a minute-long check of the pipeline
  python3 models/train.py --eval-only          # re-evaluates a saved models/default

Steps, all seeded:
 1. A GPT-2-scheme byte-level BPE (Hugging Face tokenizers; 256 byte symbols,
    merges, and <|endoftext|> as the last id) trained on the training split.
 2. A GPT2LMHeadModel trained on the training documents, each preceded by
    <|endoftext|>, with AdamW, warm-up + cosine learning rate and bf16
    autocast on a GPU; random 256-token windows.
 3. The model saved in F16 with save_pretrained (config.json,
    model.safetensors) plus vocab.json and merges.txt.
 4. Evaluation of the saved F16 weights in float32: validation loss (nats per
    token), perplexity and bits per byte, per source and overall, against an
    add-k bigram model on the same tokenizer and split; greedy and T=0.8
    continuations of fixed prompts.
 5. eval_sample.safetensors: the first 8 windows of 256 validation tokens
    (I32 [8,256]) and PyTorch's mean next-token cross-entropy over them, for
    tests/native/test_default_model.c to recompute with Glassbox's engine.
 6. training_report.json with every number above.
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EOT = "<|endoftext|>"
PROMPTS = ["The president of the", "She opened the door and", "In the morning", "The ship"]
SOURCES = ("brown", "sotu", "moby")


def log(*a):
    print(*a, flush=True)


def load_docs(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


# ---------------------------------------------------------------- tokenizer
def train_tokenizer(texts, vocab_size, out_dir):
    from tokenizers import ByteLevelBPETokenizer

    tok = ByteLevelBPETokenizer(add_prefix_space=False)
    tok.train_from_iterator(texts, vocab_size=vocab_size - 1, min_frequency=2,
                            special_tokens=[], show_progress=False)
    tmp = os.path.join(out_dir, ".tok-tmp")
    os.makedirs(tmp, exist_ok=True)
    tok.save_model(tmp)
    with open(os.path.join(tmp, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    assert EOT not in vocab
    vocab[EOT] = len(vocab)
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    shutil.copy(os.path.join(tmp, "merges.txt"), os.path.join(out_dir, "merges.txt"))
    shutil.rmtree(tmp)
    return load_tokenizer(out_dir)


def load_tokenizer(d):
    from tokenizers import ByteLevelBPETokenizer

    tok = ByteLevelBPETokenizer(os.path.join(d, "vocab.json"), os.path.join(d, "merges.txt"),
                                add_prefix_space=False)
    tok.add_special_tokens([EOT])
    return tok


def token_byte_lengths(tok):
    """UTF-8 byte length of every token (EOT counts 0: it stands for no text)."""
    from tokenizers.pre_tokenizers import ByteLevel

    alphabet = ByteLevel.alphabet()  # the 256 byte symbols
    assert len(alphabet) == 256
    vocab = tok.get_vocab()
    lens = np.zeros(len(vocab), dtype=np.int64)
    for s, i in vocab.items():
        lens[i] = 0 if s == EOT else len(s)  # each symbol stands for one byte
        if s != EOT:
            assert all(c in alphabet for c in s), s
    return lens


def encode_docs(tok, docs, eot):
    """One int32 stream per source: for each document, EOT then its tokens."""
    encs = tok.encode_batch([d["text"] for d in docs])
    streams = {}
    for d, e in zip(docs, encs):
        streams.setdefault(d["source"], []).append([eot] + e.ids)
    return {s: np.array([t for doc in v for t in doc], dtype=np.int32)
            for s, v in streams.items()}


# ---------------------------------------------------------------- evaluation
def model_nats(model, stream, device, window=256, batch=64):
    """Sum of next-token cross-entropy (nats) over stream[1:], using windows
    that overlap by one token so every token but the first is predicted once."""
    import torch
    import torch.nn.functional as F

    n = len(stream)
    starts = list(range(0, n - 1, window))
    total = 0.0
    count = 0
    with torch.no_grad():
        for i in range(0, len(starts), batch):
            chunk = starts[i:i + batch]
            lens = [min(window, n - 1 - s) for s in chunk]
            L = max(lens)
            x = np.zeros((len(chunk), L), dtype=np.int64)
            y = np.full((len(chunk), L), -100, dtype=np.int64)
            for j, (s, l) in enumerate(zip(chunk, lens)):
                x[j, :l] = stream[s:s + l]
                y[j, :l] = stream[s + 1:s + 1 + l]
            xt = torch.from_numpy(x).to(device)
            yt = torch.from_numpy(y).to(device)
            logits = model(input_ids=xt).logits.float()
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), yt.reshape(-1),
                                   ignore_index=-100, reduction="sum")
            total += loss.double().item()
            count += int((yt != -100).sum().item())
    assert count == n - 1
    return total, count


class Bigram:
    """Add-k smoothed bigram model over token ids."""

    def __init__(self, train_stream, V):
        prev = train_stream[:-1].astype(np.int64)
        nxt = train_stream[1:].astype(np.int64)
        self.V = V
        self.counts = np.bincount(prev * V + nxt, minlength=V * V).reshape(V, V).astype(np.float64)
        self.row = self.counts.sum(1)

    def nats(self, stream, k):
        prev = stream[:-1].astype(np.int64)
        nxt = stream[1:].astype(np.int64)
        p = (self.counts[prev, nxt] + k) / (self.row[prev] + k * self.V)
        return float(-np.log(p).sum()), len(nxt)


def summarize(nats, tokens, nbytes):
    loss = nats / tokens
    return {"loss_nats_per_token": loss, "perplexity": math.exp(loss),
            "bits_per_byte": nats / math.log(2) / nbytes, "tokens": tokens, "bytes": nbytes}


def evaluate(model, bigram, val_streams, byte_lens, device, k_grid):
    res = {"model": {}, "bigram": {}}
    tot = {"model": [0.0, 0], "bytes": 0}
    big_tot = {k: [0.0, 0] for k in k_grid}
    for s in SOURCES:
        st = val_streams[s]
        nb = int(byte_lens[st[1:]].sum())
        n, c = model_nats(model, st, device)
        res["model"][s] = summarize(n, c, nb)
        tot["model"][0] += n
        tot["model"][1] += c
        tot["bytes"] += nb
        for k in k_grid:
            bn, bc = bigram.nats(st, k)
            big_tot[k][0] += bn
            big_tot[k][1] += bc
    res["model"]["all"] = summarize(tot["model"][0], tot["model"][1], tot["bytes"])
    # The bigram's k is the best of the grid on the validation split: this
    # flatters the baseline, which only makes the comparison stricter.
    best_k = min(k_grid, key=lambda k: big_tot[k][0])
    for s in SOURCES:
        st = val_streams[s]
        nb = int(byte_lens[st[1:]].sum())
        bn, bc = bigram.nats(st, best_k)
        res["bigram"][s] = summarize(bn, bc, nb)
    res["bigram"]["all"] = summarize(big_tot[best_k][0], big_tot[best_k][1], tot["bytes"])
    res["bigram"]["k"] = best_k
    return res


def continuations(model, tok, device, seed, n_new=40):
    import torch

    out = []
    for prompt in PROMPTS:
        ids = tok.encode(prompt).ids
        row = {"prompt": prompt}
        for name, temp in (("greedy", 0.0), ("t0.8", 0.8)):
            g = torch.Generator().manual_seed(seed)
            seq = list(ids)
            with torch.no_grad():
                for _ in range(n_new):
                    x = torch.tensor([seq[-model.config.n_positions:]], device=device)
                    logits = model(input_ids=x).logits[0, -1].float().cpu()
                    if temp == 0.0:
                        nxt = int(torch.argmax(logits))
                    else:
                        probs = torch.softmax(logits.double() / temp, dim=-1)
                        nxt = int(torch.multinomial(probs, 1, generator=g))
                    seq.append(nxt)
            row[name] = tok.decode(seq[len(ids):], skip_special_tokens=False)
        out.append(row)
    return out


def eval_sample(out_dir, val_all, tok, n_windows=8, window=256):
    """PyTorch's reference for the native test: float32 on the CPU from the
    saved F16 weights, eager attention; also float64 as a check."""
    import torch
    import torch.nn.functional as F
    from safetensors.torch import save_file
    from transformers import GPT2LMHeadModel

    toks = torch.from_numpy(val_all[:n_windows * window].astype(np.int64)).view(n_windows, window)
    res = {}
    for name, dt in (("f32", torch.float32), ("f64", torch.float64)):
        m = GPT2LMHeadModel.from_pretrained(out_dir, attn_implementation="eager").to(dt).eval()
        with torch.no_grad():
            logits = m(input_ids=toks).logits
            ce = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]),
                                 toks[:, 1:].reshape(-1), reduction="none").view(n_windows, -1)
        res[name] = (ce.mean().item(), ce.mean(1).tolist())
    loss, per_window = res["f64"]
    meta = {
        "definition": "mean over the 8 windows and positions 0..254 of "
                      "-log softmax(logits[t])[tokens[t+1]], natural log",
        "loss": repr(loss),
        "loss_f32_cpu": repr(res["f32"][0]),
        "window": str(window),
        "n_windows": str(n_windows),
        "source": "the first 8*256 tokens of the validation stream (brown, then sotu, "
                  "then moby documents, each preceded by <|endoftext|>)",
    }
    prompt_ids = [tok.encode(p).ids for p in PROMPTS]
    meta["prompts"] = json.dumps(PROMPTS)
    save_file({"tokens": toks.to(torch.int32).contiguous(),
               "prompt_ids": torch.tensor([i for ids in prompt_ids for i in ids],
                                          dtype=torch.int32),
               "prompt_lens": torch.tensor([len(ids) for ids in prompt_ids], dtype=torch.int32),
               "loss": torch.tensor([loss], dtype=torch.float32),
               "window_loss": torch.tensor(per_window, dtype=torch.float32)},
              os.path.join(out_dir, "eval_sample.safetensors"), metadata=meta)
    return {"loss": loss, "loss_f32_cpu": res["f32"][0], "window_loss": per_window}


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description="Trains models/default.")
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--out", default=os.path.join(HERE, "default"))
    ap.add_argument("--device", default=None, help="cuda (default when present) or cpu")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--n-embd", type=int, default=256)
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--steps", type=int, default=0,
                    help="optimizer steps; 0 = as many as fit in --minutes (measured)")
    ap.add_argument("--minutes", type=float, default=3.5)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--smoke", action="store_true", help="tiny run to check the pipeline")
    ap.add_argument("--eval-only", action="store_true")
    a = ap.parse_args()

    import torch
    import torch.nn.functional as F
    import transformers
    from transformers import GPT2Config, GPT2LMHeadModel

    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    if a.smoke:
        a.steps = a.steps or 60
        a.eval_every = 30
        a.warmup = 10
    os.makedirs(a.out, exist_ok=True)
    report = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__},
              "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
              "args": vars(a)}

    t0 = time.time()
    train_docs = load_docs(os.path.join(a.data, "train.jsonl"))
    if a.smoke:
        train_docs = train_docs[::10]
    val_docs = load_docs(os.path.join(a.data, "val.jsonl"))
    if a.eval_only:
        tok = load_tokenizer(a.out)
        old = os.path.join(a.out, "training_report.json")
        if os.path.exists(old):
            with open(old) as f:
                prev = json.load(f)
            for k in ("parameters", "training"):
                if k in prev:
                    report[k] = prev[k]
    else:
        tok = train_tokenizer([d["text"] for d in train_docs], a.vocab, a.out)
    V = tok.get_vocab_size()
    eot = tok.token_to_id(EOT)
    assert eot == V - 1, (eot, V)
    byte_lens = token_byte_lengths(tok)
    train_streams = encode_docs(tok, train_docs, eot)
    val_streams = encode_docs(tok, val_docs, eot)
    train_all = np.concatenate([train_streams[s] for s in SOURCES])
    val_all = np.concatenate([val_streams[s] for s in SOURCES])
    t_tok = time.time() - t0
    report["tokenizer"] = {"vocab_size": V, "eot_id": eot, "seconds": round(t_tok, 1),
                           "train_tokens": int(len(train_all)), "val_tokens": int(len(val_all)),
                           "train_bytes": int(byte_lens[train_all].sum()),
                           "val_bytes": int(byte_lens[val_all].sum())}
    log(f"tokenizer: vocab {V}, eot {eot}, train {len(train_all)} tokens "
        f"({byte_lens[train_all].sum() / len(train_all):.2f} bytes/token), "
        f"val {len(val_all)} tokens, {t_tok:.1f}s")

    if not a.eval_only:
        cfg = GPT2Config(vocab_size=V, n_positions=a.ctx, n_embd=a.n_embd, n_layer=a.n_layer,
                         n_head=a.n_head, resid_pdrop=a.dropout, embd_pdrop=a.dropout,
                         attn_pdrop=a.dropout, bos_token_id=eot, eos_token_id=eot)
        model = GPT2LMHeadModel(cfg).to(device)
        n_params = sum(p.numel() for p in model.parameters())
        log(f"model: {n_params} parameters, attention "
            f"{getattr(model.config, '_attn_implementation', '?')}")
        report["parameters"] = n_params
        decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
        no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=a.lr, betas=(0.9, 0.95), eps=1e-8,
                                fused=(device == "cuda"))
        data = torch.from_numpy(train_all.astype(np.int64)).to(device)
        gen = torch.Generator(device=device).manual_seed(a.seed)
        offs = torch.arange(a.ctx + 1, device=device)
        val_small = val_all[: min(len(val_all), 64 * a.ctx + 1)]
        use_amp = device == "cuda"

        def lr_at(step, total):
            if step < a.warmup:
                return a.lr * (step + 1) / a.warmup
            frac = (step - a.warmup) / max(1, total - a.warmup)
            return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))

        def train_step(step, total):
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total)
            idx = torch.randint(0, len(data) - a.ctx - 1, (a.batch,), device=device, generator=gen)
            xy = data[idx[:, None] + offs]
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                logits = model(input_ids=xy[:, :-1]).logits
            loss = F.cross_entropy(logits.float().reshape(-1, V), xy[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            return loss

        def quick_val():
            model.eval()
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=use_amp):
                n, c = model_nats(model, val_small, device, window=a.ctx)
            model.train()
            return n / c

        model.train()
        total = a.steps
        t_train = time.time()
        step = 0
        curve = []
        if total == 0:
            # Measure the step time (after a warm-up of 20 steps), then fix the
            # number of steps so the run takes about --minutes.
            provisional = 10 ** 9
            for _ in range(20):
                train_step(step, provisional)
                step += 1
            if device == "cuda":
                torch.cuda.synchronize()
            tm = time.time()
            for _ in range(50):
                train_step(step, provisional)
                step += 1
            if device == "cuda":
                torch.cuda.synchronize()
            per_step = (time.time() - tm) / 50
            elapsed = time.time() - t_train
            total = max(step + 1, int((a.minutes * 60 - elapsed) / (per_step * 1.06)) + step)
            log(f"{per_step * 1000:.1f} ms/step ({a.batch * a.ctx / per_step / 1e6:.2f} M tokens/s):"
                f" training for {total} steps")
            # The measured steps ran at warm-up learning rates that do not
            # depend on the total, so they count as the run's first steps.
        while step < total:
            loss = train_step(step, total)
            step += 1
            if step % a.eval_every == 0 or step == total:
                vl = quick_val()
                el = time.time() - t_train
                curve.append({"step": step, "train_loss": round(loss.item(), 4),
                              "val_loss_subset": round(vl, 4), "seconds": round(el, 1)})
                log(f"step {step}/{total}: train {loss.item():.4f} val(subset) {vl:.4f} "
                    f"lr {lr_at(step - 1, total):.2e} {el:.0f}s")
        if device == "cuda":
            torch.cuda.synchronize()
        train_seconds = time.time() - t_train
        report["training"] = {"steps": total, "batch": a.batch, "ctx": a.ctx,
                              "tokens_seen": total * a.batch * a.ctx,
                              "epochs": total * a.batch * a.ctx / len(train_all),
                              "seconds": round(train_seconds, 1), "curve": curve}
        log(f"trained {total} steps, {total * a.batch * a.ctx / 1e6:.1f} M tokens in "
            f"{train_seconds:.0f}s")
        # Save in F16.
        model.eval()
        half = GPT2LMHeadModel(cfg)
        half.load_state_dict({k: v.detach().cpu() for k, v in model.state_dict().items()})
        half = half.half()
        try:
            half.save_pretrained(a.out, safe_serialization=True)
        except TypeError:
            half.save_pretrained(a.out)
        gen_cfg = os.path.join(a.out, "generation_config.json")
        if os.path.exists(gen_cfg):
            os.remove(gen_cfg)
        del model, half, opt, data
        with open(os.path.join(a.out, "training_report.json"), "w") as f:
            json.dump(report, f, indent=1)

    # Evaluate what was saved: F16 weights, float32 compute.
    model = GPT2LMHeadModel.from_pretrained(a.out).float().to(device).eval()
    report["parameters"] = sum(p.numel() for p in model.parameters())
    t_eval = time.time()
    bigram = Bigram(train_all, V)
    report["eval"] = evaluate(model, bigram, val_streams, byte_lens, device,
                              k_grid=[1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001])
    report["samples"] = continuations(model, tok, device, a.seed)
    report["eval_sample"] = eval_sample(a.out, val_all, tok)
    report["eval_seconds"] = round(time.time() - t_eval, 1)
    files = sorted(os.listdir(a.out))
    report["files"] = {f: os.path.getsize(os.path.join(a.out, f)) for f in files}
    ev = report["eval"]
    m, b = ev["model"]["all"], ev["bigram"]["all"]
    report["bar"] = {"model_ppl": m["perplexity"], "bigram_ppl": b["perplexity"],
                     "ratio": m["perplexity"] / b["perplexity"],
                     "passes_half_bigram": m["perplexity"] <= 0.5 * b["perplexity"]}
    with open(os.path.join(a.out, "training_report.json"), "w") as f:
        json.dump(report, f, indent=1, ensure_ascii=False)

    log(f"parameters: {report['parameters']}")
    for who in ("model", "bigram"):
        for s in SOURCES + ("all",):
            r = ev[who][s]
            log(f"{who:6s} {s:5s}: loss {r['loss_nats_per_token']:.4f} nats/token, "
                f"ppl {r['perplexity']:.2f}, {r['bits_per_byte']:.4f} bits/byte "
                f"({r['tokens']} tokens, {r['bytes']} bytes)")
    log(f"bigram k = {ev['bigram']['k']}; ppl ratio model/bigram = {report['bar']['ratio']:.3f}"
        f" (bar <= 0.5: {'PASS' if report['bar']['passes_half_bigram'] else 'FAIL'})")
    for row in report["samples"]:
        log(f"--- {row['prompt']!r}\n  greedy: {row['greedy']!r}\n  t=0.8 : {row['t0.8']!r}")
    es = report["eval_sample"]
    log(f"eval_sample: loss {es['loss']:.6f} (f32 cpu {es['loss_f32_cpu']:.6f})")
    total_size = sum(report["files"].values())
    log(f"files: {report['files']} total {total_size} bytes")
    if not a.smoke and total_size > 10 * 1000 * 1000:
        log("WARNING: models/default is over 10 MB")


if __name__ == "__main__":
    main()
