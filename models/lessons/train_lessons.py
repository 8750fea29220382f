#!/usr/bin/env python3
"""train_lessons.py — trains and measures Glassbox's lesson models (models/lessons/<name>/).

  python3 models/lessons/train_lessons.py                    # all lessons, one GPU, ~2 minutes
  python3 models/lessons/train_lessons.py --only addition    # one lesson
  python3 models/lessons/train_lessons.py --device cpu       # works, slowly (torch >= 1.13)
  python3 models/lessons/train_lessons.py --smoke --out /tmp/x   # seconds: checks the pipeline
  python3 models/lessons/train_lessons.py --eval-only        # re-measures the saved models

Three small GPT-2-architecture models, each trained on an algorithmic task whose
mechanism is known, so a learner can find the circuit in Glassbox:

  induction  random printable-ASCII strings whose second half repeats the first
  addition   "045+123=8610\\n": zero-padded 3-digit operands, the 4-digit sum reversed
  sort       "qbwe>bequw\\n": distinct lowercase letters, then the same letters sorted

Everything is plain PyTorch (no transformers needed, so Debian's python3-torch 1.13
runs it on a CPU): a minimal GPT-2 (pre-LN blocks, gelu_new, tied embeddings)
whose parameter names are Hugging Face's GPT2LMHeadModel names, saved as
config.json + model.safetensors + vocab.json + merges.txt. When transformers is
installed, the saved directory is loaded back with GPT2LMHeadModel and its
logits must match ours (--hf-check, on by default when importable).

Tokenizer: GPT-2's byte-level scheme with the 256 byte symbols and no merges,
token id = byte value, so every character is one token and any text tokenizes.

Each lesson directory gets lesson.json: the task, a fixed held-out sample
(committed; tests/native/test_lessons.c and tests/node/lessons.test.js rerun it
through the Glassbox engine), the numbers PyTorch measured on that sample and on
a larger held-out set (accuracy; per-head attention scores; the accuracy with
each head ablated), and the claims the model card makes. Seeds are fixed
(training data, initialisation, held-out sets); GPU kernels are not bit-for-bit
deterministic, so a rerun lands close to, not exactly on, the shipped numbers.
"""
import argparse
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
NL = 10  # "\n", the end mark of addition and sort examples


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------- tokenizer
def bytes_to_unicode():
    """GPT-2's byte -> printable character table."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def write_tokenizer(out):
    """vocab.json: the 256 byte symbols with id = byte value; merges.txt: none."""
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")


def encode(text):
    return list(text.encode("utf-8"))


def decode(ids):
    return bytes(int(i) for i in ids).decode("utf-8", errors="replace")


# ---------------------------------------------------------------- the model
class Conv1D(nn.Module):
    """Hugging Face's GPT-2 linear layer: weight [in, out], y = x @ W + b."""

    def __init__(self, n_in, n_out, std):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Attn(nn.Module):
    def __init__(self, d, std, proj_std):
        super().__init__()
        self.c_attn = Conv1D(d, 3 * d, std)
        self.c_proj = Conv1D(d, d, proj_std)


class MLP(nn.Module):
    def __init__(self, d, d_mlp, std, proj_std):
        super().__init__()
        self.c_fc = Conv1D(d, d_mlp, std)
        self.c_proj = Conv1D(d_mlp, d, proj_std)


class Block(nn.Module):
    def __init__(self, d, d_mlp, std, proj_std):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = Attn(d, std, proj_std)
        self.ln_2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = MLP(d, d_mlp, std, proj_std)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2(nn.Module):
    """GPT2LMHeadModel's computation and parameter names (transformer.*, tied lm_head)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        d, L = cfg["n_embd"], cfg["n_layer"]
        std, proj_std = 0.02, 0.02 / math.sqrt(2 * L)
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(cfg["vocab_size"], d)
        self.transformer.wpe = nn.Embedding(cfg["n_positions"], d)
        nn.init.normal_(self.transformer.wte.weight, std=std)
        nn.init.normal_(self.transformer.wpe.weight, std=0.01)
        self.transformer.h = nn.ModuleList(Block(d, cfg["n_inner"], std, proj_std) for _ in range(L))
        self.transformer.ln_f = nn.LayerNorm(d, eps=1e-5)

    def forward(self, idx, ablate=None, patterns=False, lengths=None):
        """idx [B,T] -> logits [B,T,V] (and per-layer attention patterns [B,H,T,T]).
        ablate: {(layer, head): "zero" | "mean"} replaces that head's hook_z as
        Glassbox's gb_set_ablation does ("mean": its mean over the positions of
        each sequence; lengths [B] gives each row's real length when padded)."""
        cfg = self.cfg
        B, T = idx.shape
        H = cfg["n_head"]
        d = cfg["n_embd"]
        dh = d // H
        tr = self.transformer
        x = tr.wte(idx) + tr.wpe(torch.arange(T, device=idx.device))[None]
        mask = torch.ones(T, T, dtype=torch.bool, device=idx.device).tril()
        pats = []
        for l, blk in enumerate(tr.h):
            a = blk.ln_1(x)
            q, k, v = blk.attn.c_attn(a).split(d, dim=2)
            q = q.view(B, T, H, dh).transpose(1, 2)
            k = k.view(B, T, H, dh).transpose(1, 2)
            v = v.view(B, T, H, dh).transpose(1, 2)
            s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
            s = s.masked_fill(~mask, float("-inf"))
            p = torch.softmax(s.float(), dim=-1).to(v.dtype)
            if patterns:
                pats.append(p)
            z = p @ v  # [B,H,T,dh] = hook_z
            if ablate:
                z = z.clone()
                for (al, ah), mode in ablate.items():
                    if al != l:
                        continue
                    if mode == "zero":
                        z[:, ah] = 0
                    elif mode == "mean":
                        if lengths is None:
                            z[:, ah] = z[:, ah].mean(dim=1, keepdim=True)
                        else:
                            pos = torch.arange(T, device=idx.device)[None, :, None]
                            m = (pos < lengths[:, None, None]).to(z.dtype)
                            mean = (z[:, ah] * m).sum(1, keepdim=True) / lengths[:, None, None].to(z.dtype)
                            z[:, ah] = mean.expand(-1, T, -1)
                    else:
                        raise ValueError(mode)
            z = z.transpose(1, 2).reshape(B, T, d)
            x = x + blk.attn.c_proj(z)
            x = x + blk.mlp.c_proj(gelu_new(blk.mlp.c_fc(blk.ln_2(x))))
        x = tr.ln_f(x)
        logits = x @ tr.wte.weight.t()
        return (logits, pats) if patterns else logits


# ---------------------------------------------------------------- saving / loading
def hf_config(cfg, dtype):
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.0, "embd_pdrop": 0.0, "resid_pdrop": 0.0,
        "bos_token_id": NL, "eos_token_id": NL,
        "dtype": dtype, "torch_dtype": dtype,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_embd": cfg["n_embd"], "n_head": cfg["n_head"], "n_inner": cfg["n_inner"],
        "n_layer": cfg["n_layer"], "n_positions": cfg["n_positions"],
        "pad_token_id": None,
        "reorder_and_upcast_attn": False,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "tie_word_embeddings": True,
        "use_cache": True,
        "vocab_size": cfg["vocab_size"],
    }


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: np.ndarray (float32, float16 or int32)}, written in name order."""
    codes = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int32): "I32"}
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        b = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": codes[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = metadata or {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    data = buf[8 + n:]
    kinds = {"F32": np.float32, "F16": np.float16, "I32": np.int32}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=kinds[e["dtype"]]).reshape(e["shape"])
    return out


def save_model(model, out, dtype):
    os.makedirs(out, exist_ok=True)
    np_dtype = {"float32": np.float32, "float16": np.float16}[dtype]
    sd = {k: v.detach().float().cpu().numpy().astype(np_dtype) for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(out, "model.safetensors"), sd)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(hf_config(model.cfg, dtype), f, indent=2)
        f.write("\n")
    write_tokenizer(out)


def load_model(out, device):
    with open(os.path.join(out, "config.json")) as f:
        c = json.load(f)
    cfg = {k: c[k] for k in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner")}
    model = GPT2(cfg)
    sd = {k: torch.from_numpy(v.astype(np.float32)) for k, v in read_safetensors(os.path.join(out, "model.safetensors")).items()}
    model.load_state_dict(sd)
    return model.to(device).eval()


# ---------------------------------------------------------------- tasks
PRINTABLE = np.arange(32, 127)           # the 95 printable ASCII characters, space included
LETTERS = np.arange(ord("a"), ord("z") + 1)


class Induction:
    """Random strings of printable ASCII (half drawn without replacement, half with),
    each followed by itself. Learned position embeddings start as sinusoids
    (Vaswani et al.) scaled to the token embeddings' size: a first recipe with
    d_model 64 and random position embeddings stayed on the plateau for 8,000
    steps (repeated-half accuracy 10%, no previous-token head); we expected the
    sinusoids to help because the textbook previous-token head needs "attend to
    t-1", which random position vectors do not offer. The model trained with them
    learned another circuit (MODEL_CARD.md): two layer-0 heads attend about halfway
    back (positions ~t/2 and ~t/2 - 1), so position s holds a token and its
    successor, and layer-1 head 1.1 matches on the first and reads the second."""
    name = "induction"
    cfg = dict(vocab_size=256, n_positions=64, n_embd=128, n_layer=2, n_head=4, n_inner=512)
    dtype = "float16"
    steps, batch, lr = 15000, 128, 1e-3
    Lmin, Lmax = 4, 32
    wpe_init = "sinusoid"

    def example(self, rng, distinct=None):
        L = int(rng.integers(self.Lmin, self.Lmax + 1))
        if distinct is None:
            distinct = rng.random() < 0.5
        first = rng.choice(PRINTABLE, L, replace=not distinct)
        return decode(np.concatenate([first, first])), L

    def batch_arrays(self, rng, B):
        Lmax, A = self.Lmax, len(PRINTABLE)
        L = rng.integers(self.Lmin, Lmax + 1, B)
        distinct = rng.random(B) < 0.5
        perm = np.argsort(rng.random((B, A)), axis=1)[:, :Lmax]
        rep = rng.integers(0, A, (B, Lmax))
        first = PRINTABLE[np.where(distinct[:, None], perm, rep)]
        pos = np.arange(2 * Lmax)[None, :]
        src = np.where(pos < L[:, None], pos, pos - L[:, None]).clip(0, Lmax - 1)
        x = np.where(pos < 2 * L[:, None], np.take_along_axis(first, src, 1), NL).astype(np.int64)
        y = np.full_like(x, -100)
        y[:, :-1] = np.where(pos[:, 1:] < 2 * L[:, None], x[:, 1:], -100)
        return x, y

    def heldout(self, rng, n):
        """Fresh strings of distinct characters (so each token of the repeated half has
        exactly one earlier occurrence and the first half cannot be predicted)."""
        return [{"text": t, "L": L} for t, L in (self.example(rng, distinct=True) for _ in range(n))]

    def progress(self, model, device, items=[]):
        """Repeated-half accuracy on 256 fixed strings, logged while training."""
        if not items:
            items.extend(self.heldout(np.random.default_rng(99), 256))
        res = run_items(model, items, device)
        return "repeat acc %.3f" % EVALS["induction"].metrics(items, res)["acc_repeat"]


class Addition:
    name = "addition"
    cfg = dict(vocab_size=256, n_positions=16, n_embd=128, n_layer=2, n_head=4, n_inner=512)
    dtype = "float16"
    steps, batch, lr = 12000, 256, 1e-3
    n_heldout = 100_000

    def __init__(self, split_seed):
        perm = np.random.default_rng(split_seed).permutation(1000 * 1000)
        self.held = perm[:self.n_heldout]
        self.train = perm[self.n_heldout:]

    @staticmethod
    def text(a, b):
        return f"{a:03d}+{b:03d}={str(a + b).zfill(4)[::-1]}\n"

    def batch_arrays(self, rng, B):
        idx = self.train[rng.integers(0, len(self.train), B)]
        x = np.array([encode(self.text(int(i) // 1000, int(i) % 1000)) for i in idx], dtype=np.int64)
        y = np.full_like(x, -100)
        y[:, 7:12] = x[:, 8:13]  # from "=" on: the 4 answer digits and the end mark
        return x, y

    def heldout(self, rng, n):
        pick = self.held[rng.permutation(len(self.held))[:n]]
        return [{"text": self.text(int(i) // 1000, int(i) % 1000)} for i in pick]


class Sort:
    name = "sort"
    cfg = dict(vocab_size=256, n_positions=32, n_embd=64, n_layer=2, n_head=4, n_inner=256)
    dtype = "float32"
    steps, batch, lr = 8000, 256, 1e-3
    Lmin, Lmax = 2, 12

    def example(self, rng):
        L = int(rng.integers(self.Lmin, self.Lmax + 1))
        s = rng.choice(LETTERS, L, replace=False)
        return decode(s) + ">" + decode(np.sort(s)) + "\n", L

    def batch_arrays(self, rng, B):
        T = 2 * self.Lmax + 2
        x = np.full((B, T), NL, dtype=np.int64)
        y = np.full((B, T), -100, dtype=np.int64)
        for i in range(B):
            text, L = self.example(rng)
            ids = encode(text)
            x[i, :len(ids)] = ids
            y[i, L:2 * L + 1] = ids[L + 1:2 * L + 2]  # from ">" on: sorted letters, end mark
        return x, y

    def heldout(self, rng, n):
        return [{"text": t, "L": L} for t, L in (self.example(rng) for _ in range(n))]


# ---------------------------------------------------------------- training
def train(task, device, out, steps, seed):
    torch.manual_seed(seed)
    np_rng = np.random.default_rng(seed)
    model = GPT2(task.cfg)
    if getattr(task, "wpe_init", None) == "sinusoid":
        P, d = task.cfg["n_positions"], task.cfg["n_embd"]
        pos = torch.arange(P, dtype=torch.float32)[:, None]
        freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float32) / d)
        pe = torch.zeros(P, d)
        pe[:, 0::2] = torch.sin(pos * freq)
        pe[:, 1::2] = torch.cos(pos * freq)
        with torch.no_grad():
            model.transformer.wpe.weight.copy_(pe * (0.02 / pe.std()))
    model = model.to(device)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}]
    try:
        opt = torch.optim.AdamW(groups, lr=task.lr, betas=(0.9, 0.98), fused=(device.type == "cuda"))
    except TypeError:  # torch 1.13 has no fused AdamW
        opt = torch.optim.AdamW(groups, lr=task.lr, betas=(0.9, 0.98))
    warm = max(1, min(200, steps // 10))

    def lr_at(s):
        if s < warm:
            return task.lr * (s + 1) / warm
        return task.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm))))

    log(f"[{task.name}] {n_params:,} parameters, {steps} steps of batch {task.batch} on {device}")
    t0 = time.time()
    curve = []
    model.train()
    for s in range(steps):
        x, y = task.batch_arrays(np_rng, task.batch)
        x = torch.from_numpy(x).to(device, non_blocking=True)
        y = torch.from_numpy(y).to(device, non_blocking=True)
        for g in opt.param_groups:
            g["lr"] = lr_at(s)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if s % 500 == 0 or s == steps - 1:
            l = loss.item()
            curve.append([s, round(l, 5)])
            extra = ""
            if hasattr(task, "progress") and (s % 1000 == 0 or s == steps - 1):
                model.eval()
                extra = "; " + task.progress(model, device)
                model.train()
            log(f"[{task.name}] step {s:5d} loss {l:.4f}{extra} ({time.time() - t0:.1f} s)")
    secs = time.time() - t0
    save_model(model, out, task.dtype)
    return {"parameters": n_params, "steps": steps, "batch": task.batch, "lr": task.lr,
            "seconds": round(secs, 1), "device": str(device),
            "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
            "torch": torch.__version__, "loss_curve": curve}


# ---------------------------------------------------------------- measuring
def run_items(model, items, device, ablate=None, want_patterns=False):
    """Runs each item's full text (teacher forcing, as the native test does).
    Returns per item: argmax predictions [T] and, if asked, patterns [layers][H,T,T]."""
    res = [None] * len(items)
    by_len = {}
    for i, it in enumerate(items):
        by_len.setdefault(len(encode(it["text"])), []).append(i)
    with torch.no_grad():
        for T, idxs in by_len.items():
            for c in range(0, len(idxs), 512):
                chunk = idxs[c:c + 512]
                x = torch.tensor([encode(items[i]["text"]) for i in chunk], device=device)
                out = model(x, ablate=ablate, patterns=want_patterns)
                logits, pats = out if want_patterns else (out, None)
                pred = logits.argmax(-1).cpu().numpy()
                P = [p.cpu().numpy() for p in pats] if want_patterns else None
                for j, i in enumerate(chunk):
                    res[i] = {"pred": pred[j], "pat": [p[j] for p in P] if P else None}
    return res


def r4(x):
    return round(float(x), 4)


class InductionEval:
    """acc_first: next-token accuracy inside the first half (predicting tokens 1..L-1);
    acc_repeat: inside the repeated half (predicting tokens L+1..2L-1), pooled over
    positions; x0_first: how often a first-half prediction is the string's first
    character (the guess "the repeat starts here"). Scores use the positions
    acc_repeat scores, t = L..2L-2 (t = 2L-1, the last, predicts the end of the
    text, not a repeated token). Induction score of a head: mean attention from t to
    t-L+1, the token after the earlier occurrence of the token at t. Previous-token
    score: mean attention from t to t-1, t = 1..2L-1. Look-back ratio: mean over
    t = 1..2L-1 of the attended position divided by t (1: the previous token, 0: the
    first token, 0.5: halfway back). Virtual scores, [layer-0 head g][layer-1 head h],
    of the two-step path 1.h -> 0.g (the product of the two patterns, P1h @ P0g: how
    much of token j head 1.h reads through head 0.g): virtual induction score, mean
    over t of (P1h @ P0g)[t, t-L+1] (1.h reads the next token through 0.g's output:
    V-composition); virtual match score, (P1h @ P0g)[t, t-L] (1.h finds the earlier
    occurrence of its own token through 0.g's output: K-composition; for the
    textbook previous-token head g this equals 1.h's induction score)."""
    main = "acc_repeat"

    def metrics(self, items, res):
        cf = nf = cr = nr = x0 = 0
        for it, r in zip(items, res):
            ids = encode(it["text"])
            L = it["L"]
            ok = r["pred"][:-1] == np.array(ids[1:])
            cf += int(ok[:L - 1].sum()); nf += L - 1
            cr += int(ok[L:2 * L - 1].sum()); nr += L - 1
            x0 += int((r["pred"][:L - 1] == ids[0]).sum())
        return {"acc_first": r4(cf / nf), "acc_repeat": r4(cr / nr), "x0_first": r4(x0 / nf),
                "correct_first": cf, "n_first": nf, "correct_repeat": cr, "n_repeat": nr}

    def scores(self, items, res, n_layer, n_head):
        ind = np.zeros((n_layer, n_head)); prev = np.zeros((n_layer, n_head)); back = np.zeros((n_layer, n_head))
        vind = np.zeros((n_head, n_head)); vmat = np.zeros((n_head, n_head))
        ni = npv = 0
        for it, r in zip(items, res):
            L = it["L"]
            t = np.arange(L, 2 * L - 1)
            tp = np.arange(1, 2 * L)
            for l in range(n_layer):
                P = r["pat"][l].astype(np.float64)
                ind[l] += P[:, t, t - L + 1].sum(1)
                prev[l] += P[:, tp, tp - 1].sum(1)
                back[l] += ((P[:, tp, :2 * L] @ np.arange(2 * L)) / tp).sum(1)
            if n_layer >= 2:
                P0 = r["pat"][0].astype(np.float64)
                P1t = r["pat"][1][:, t, :].astype(np.float64)  # [h, t, s]
                for g in range(n_head):
                    C = P1t @ P0[g]  # [h, t, j]: 1.h's reading of token j through 0.g
                    vind[g] += C[:, np.arange(len(t)), t - L + 1].sum(1)
                    vmat[g] += C[:, np.arange(len(t)), t - L].sum(1)
            ni += len(t); npv += len(tp)
        return {"induction_score": (ind / ni).round(4).tolist(), "prev_token_score": (prev / npv).round(4).tolist(),
                "lookback_ratio": (back / npv).round(4).tolist(),
                "virtual_induction_score": (vind / ni).round(4).tolist(),
                "virtual_match_score": (vmat / ni).round(4).tolist()}

    def positional_sources(self, items, res, n_head):
        """For each layer-0 head and each position t: the position it attends most
        (argmax) in the most items, and in what fraction of the items that reach t."""
        out = []
        for h in range(n_head):
            rows = []
            for t in range(max(len(encode(it["text"])) for it in items)):
                srcs = [int(r["pat"][0][h, t].argmax()) for it, r in zip(items, res) if len(encode(it["text"])) > t]
                vals, counts = np.unique(srcs, return_counts=True)
                rows.append([int(vals[counts.argmax()]), r4(counts.max() / len(srcs))])
            out.append(rows)
        return out


class AdditionEval:
    """exact: all five predictions from "=" on (4 answer digits and the end mark)
    are the argmax, which is exactly when greedy decoding writes the right answer.
    digit_k: accuracy of answer digit k (k = 0 is the units digit, written first).
    operand score of a head for digit k: attention from the position that predicts
    digit k (7+k) to a_k and b_k (positions 2-k and 6-k), summed, averaged over
    k = 0..2 (digit 3 has no operand digits: it is the last carry). Carry score:
    attention to a_{k-1} and b_{k-1} (positions 3-k, 7-k), k = 1..3."""
    main = "exact"

    def metrics(self, items, res):
        ex = 0
        dig = np.zeros(5)
        for it, r in zip(items, res):
            ids = np.array(encode(it["text"]))
            ok = r["pred"][7:12] == ids[8:13]
            ex += int(ok.all()); dig += ok
        n = len(items)
        m = {"exact": r4(ex / n), "correct": ex, "n": n}
        for k in range(4):
            m[f"digit_{k}"] = r4(dig[k] / n)
        return m

    def scores(self, items, res, n_layer, n_head):
        op = np.zeros((n_layer, n_head, 4)); ca = np.zeros((n_layer, n_head, 4))
        for r in res:
            for l in range(n_layer):
                P = r["pat"][l]
                for k in range(4):
                    q = 7 + k
                    if k <= 2:
                        op[l, :, k] += P[:, q, 2 - k] + P[:, q, 6 - k]
                    if k >= 1:
                        ca[l, :, k] += P[:, q, 3 - k] + P[:, q, 7 - k]
        n = len(res)
        op /= n; ca /= n
        return {"operand_score": op[:, :, :3].mean(2).round(4).tolist(),
                "carry_score": ca[:, :, 1:].mean(2).round(4).tolist(),
                "operand_score_by_digit": op.round(4).tolist(),
                "carry_score_by_digit": ca.round(4).tolist()}


class SortEval:
    """exact: every prediction from ">" on (the L sorted letters and the end mark)
    is right. Next-letter score of a head: mean attention from the position that
    predicts the i-th sorted letter (L+i) to where that letter sits in the input.
    Remaining score: attention from there to every input letter not yet written
    (the next letter and all larger ones)."""
    main = "exact"

    def metrics(self, items, res):
        ex = tok = ntok = 0
        for it, r in zip(items, res):
            ids = np.array(encode(it["text"]))
            L = it["L"]
            ok = r["pred"][L:2 * L + 1] == ids[L + 1:2 * L + 2]
            ex += int(ok.all()); tok += int(ok.sum()); ntok += len(ok)
        return {"exact": r4(ex / len(items)), "correct": ex, "n": len(items), "token_acc": r4(tok / ntok)}

    def scores(self, items, res, n_layer, n_head):
        nx = np.zeros((n_layer, n_head)); rem = np.zeros((n_layer, n_head)); n = 0
        for it, r in zip(items, res):
            ids = encode(it["text"])
            L = it["L"]
            where = {c: j for j, c in enumerate(ids[:L])}
            q = np.arange(L, 2 * L)
            nxt = ids[L + 1:2 * L + 1]
            src = np.array([where[c] for c in nxt])
            later = np.array([[ids[j] >= c for j in range(L)] for c in nxt], dtype=np.float64)  # [L queries, L inputs]
            for l in range(n_layer):
                P = r["pat"][l]
                nx[l] += P[:, q, src].sum(1)
                rem[l] += (P[:, q, :L] * later[None]).sum((1, 2))
            n += L
        return {"next_letter_score": (nx / n).round(4).tolist(), "remaining_score": (rem / n).round(4).tolist()}


EVALS = {"induction": InductionEval(), "addition": AdditionEval(), "sort": SortEval()}


def measure(task, model, items, device, n_pat=1000):
    """Everything the card and the tests quote, on one list of items. Attention
    scores use the first n_pat items (patterns of more would not fit memory well)."""
    ev = EVALS[task.name]
    nl, nh = task.cfg["n_layer"], task.cfg["n_head"]
    pat_items = items[:n_pat]
    base = run_items(model, items, device)
    pbase = run_items(model, pat_items, device, want_patterns=True)
    m = {"metrics": ev.metrics(items, base), "scores_over": len(pat_items),
         **ev.scores(pat_items, pbase, nl, nh)}
    abl = []
    for mode in ("zero", "mean"):
        for l in range(nl):
            for h in range(nh):
                ab = {(l, h): mode}
                e = {"heads": [[l, h]], "mode": mode,
                     "metrics": ev.metrics(items, run_items(model, items, device, ablate=ab))}
                if task.name == "induction" and l == 0:  # does layer 1 still find the earlier token?
                    res = run_items(model, pat_items, device, ablate=ab, want_patterns=True)
                    sc = ev.scores(pat_items, res, nl, nh)
                    for k in ("induction_score", "virtual_induction_score", "virtual_match_score"):
                        e[k] = sc[k]
                abl.append(e)
    m["single_head_ablations"] = abl
    if task.name == "induction":
        m["positional_sources"] = ev.positional_sources(pat_items, pbase, nh)
    return m, pbase


def pick_heads(task, m):
    """The heads the card names, from measured numbers. For induction: the layer-1
    heads that read the next token (induction score, or virtual induction score
    through some layer-0 head, >= 0.3); the layer-0 heads with previous-token score
    >= 0.3; the other layer-0 heads through which a named layer-1 head finds the
    earlier occurrence of its token (virtual match score >= 0.3: "key_source") or
    reads the next token (virtual induction score >= 0.3: "value_source"). For the
    others, the heads whose single zero ablation costs at least 0.2 of the main
    metric. The control is the unnamed head whose zero ablation costs least."""
    main = EVALS[task.name].main
    base = m["metrics"][main]
    zero = [a for a in m["single_head_ablations"] if a["mode"] == "zero"]
    named = {}
    if task.name == "induction":
        ind, prev = np.array(m["induction_score"]), np.array(m["prev_token_score"])
        vind, vmat = np.array(m["virtual_induction_score"]), np.array(m["virtual_match_score"])
        nh = ind.shape[1]
        ih = [h for h in range(nh) if max(ind[1, h], vind[:, h].max()) >= 0.3]
        named["induction"] = [[1, h] for h in ih]
        named["previous_token"] = [[0, g] for g in range(nh) if prev[0, g] >= 0.3]
        pt = {g for _, g in named["previous_token"]}
        named["key_source"] = [[0, g] for g in range(nh) if g not in pt and any(vmat[g, h] >= 0.3 for h in ih)]
        named["value_source"] = [[0, g] for g in range(nh) if any(vind[g, h] >= 0.3 for h in ih)]
    else:
        drops = sorted(zero, key=lambda a: a["metrics"][main])
        named["critical"] = [a["heads"][0] for a in drops if a["metrics"][main] <= base - 0.2]
    used = {tuple(h) for v in named.values() for h in v}
    rest = [a for a in zero if tuple(a["heads"][0]) not in used]
    control = max(rest, key=lambda a: (a["metrics"][main], -a["heads"][0][0], -a["heads"][0][1]))["heads"][0] if rest else None
    return named, control


def ablation_groups(named, control):
    """Every named group ablated together, every named head alone, all named heads
    together ("circuit", when they span more than one group), and the control head."""
    groups = []
    for label, heads in named.items():
        if len(heads) > 1:
            groups.append((label, heads))
        for h in heads:
            groups.append((label + " head", [h]))
    union = sorted({tuple(h) for v in named.values() for h in v})
    if len(union) > 1 and sum(1 for v in named.values() if v) > 1:
        groups.append(("circuit", [list(h) for h in union]))
    if control:
        groups.append(("control", [control]))
    return groups


def ablation_claims(task, model, items, device, groups):
    ev = EVALS[task.name]
    out = []
    for label, heads in groups:
        for mode in ("zero", "mean"):
            res = run_items(model, items, device, ablate={tuple(h): mode for h in heads})
            out.append({"group": label, "heads": heads, "mode": mode, "metrics": ev.metrics(items, res)})
    return out


def make_claims(task, held, samp):
    """What the card states and the native test checks (zero ablation, main metric):
    the model's accuracy is at least `bound`; ablating a named head or group brings it
    to at most `bound` (the larger of the held-out and sample values + 0.05, rounded up
    to 0.05); ablating the control head keeps it at least `bound` (the smaller - 0.01,
    rounded down to 0.01). Induction adds that the first half stays at chance (1/95):
    acc_first is at most `bound` (the larger value + 0.01, rounded up to 0.01)."""
    main = EVALS[task.name].main
    claims = []
    b = min(held["metrics"][main], samp["metrics"][main])
    claims.append({"what": "baseline", "heads": [], "mode": "none", "metric": main, "op": ">=",
                   "heldout": held["metrics"][main], "sample": samp["metrics"][main],
                   "bound": math.floor((b - 0.01) * 100 + 1e-9) / 100})
    if task.name == "induction":
        hv, sv = held["metrics"]["acc_first"], samp["metrics"]["acc_first"]
        claims.append({"what": "first half at chance", "heads": [], "mode": "none", "metric": "acc_first",
                       "op": "<=", "heldout": hv, "sample": sv,
                       "bound": round(math.ceil((max(hv, sv) + 0.01) * 100 - 1e-9) / 100, 2)})
    for h, s_ in zip(held["group_ablations"], samp["group_ablations"]):
        if h["mode"] != "zero":
            continue
        hv, sv = h["metrics"][main], s_["metrics"][main]
        if h["group"] == "control":
            bound, op = math.floor((min(hv, sv) - 0.01) * 100 + 1e-9) / 100, ">="
        else:
            bound, op = min(1.0, math.ceil((max(hv, sv) + 0.05) * 20 - 1e-9) / 20), "<="
        claims.append({"what": h["group"], "heads": h["heads"], "mode": "zero", "metric": main, "op": op,
                       "heldout": hv, "sample": sv, "bound": round(bound, 2)})
    return claims


def per_item(task, items, res, scores_fn):
    """Per-item numbers for the Node test (first few items of the sample)."""
    ev = EVALS[task.name]
    nl, nh = task.cfg["n_layer"], task.cfg["n_head"]
    out = []
    for it, r in zip(items, res):
        d = {"text": it["text"], "pred": decode(r["pred"]), "metrics": ev.metrics([it], [r])}
        d.update(ev.scores([it], [r], nl, nh))
        out.append(d)
    return out


def hf_check(out, model, items, device):
    """Loads the saved directory with transformers' GPT2LMHeadModel; max |logit diff|."""
    try:
        from transformers import GPT2LMHeadModel
    except Exception as e:  # noqa: BLE001
        return {"skipped": f"transformers not importable: {e}"}
    try:
        hf = GPT2LMHeadModel.from_pretrained(out, dtype=torch.float32)
    except TypeError:  # transformers < 4.56 calls it torch_dtype
        hf = GPT2LMHeadModel.from_pretrained(out, torch_dtype=torch.float32)
    hf = hf.to(device).eval()
    worst = 0.0
    with torch.no_grad():
        for it in items[:16]:
            x = torch.tensor([encode(it["text"])], device=device)
            a = hf(input_ids=x).logits.float()
            b = model(x).float()
            worst = max(worst, (a - b).abs().max().item())
    import transformers
    return {"transformers": transformers.__version__, "max_abs_logit_diff": worst}


def evaluate(task, out, device, n_heldout, n_sample, seed, smoke):
    model = load_model(out, device)
    rng = np.random.default_rng(seed + 7)
    held = task.heldout(rng, n_heldout)
    sample = held[:n_sample]  # the committed sample is the head of the held-out set
    log(f"[{task.name}] measuring on {len(held)} held-out items and the {len(sample)}-item sample")
    m_held, _ = measure(task, model, held, device)
    m_samp, base_samp = measure(task, model, sample, device)
    named, control = pick_heads(task, m_held)
    groups = ablation_groups(named, control)
    m_held["group_ablations"] = ablation_claims(task, model, held, device, groups)
    m_samp["group_ablations"] = ablation_claims(task, model, sample, device, groups)
    ev = EVALS[task.name]
    prev_path = os.path.join(out, "lesson.json")
    hf = hf_check(out, model, held, device)
    if "skipped" in hf and os.path.exists(prev_path):  # keep the check made where transformers was installed
        with open(prev_path) as f:
            hf = json.load(f).get("hf_check", hf)
    lesson = {
        "lesson": task.name,
        "doc": " ".join(ev.__doc__.split()),
        "config": task.cfg, "dtype": task.dtype,
        "measured_with": f"torch {torch.__version__} on {device}, float32",
        "main_metric": ev.main,
        "named_heads": named, "control_head": control,
        "claims": make_claims(task, m_held, m_samp),
        "heldout": {"n": len(held), **m_held},
        "sample": {"n": len(sample), "items": [dict(it) for it in sample], **m_samp},
        "sample_items": per_item(task, sample[:4], base_samp[:4], None),
        "hf_check": hf,
        "model_bytes": sum(os.path.getsize(os.path.join(out, f)) for f in
                           ("config.json", "model.safetensors", "vocab.json", "merges.txt")),
    }
    log(f"[{task.name}] held-out {json.dumps(m_held['metrics'])}; named {named}, control {control}")
    for c in lesson["claims"]:
        log(f"[{task.name}]   claim {c['what']} {c['heads']}: {c['metric']} {c['op']} {c['bound']} "
            f"(held-out {c['heldout']}, sample {c['sample']})")
    log(f"[{task.name}] HF check {lesson['hf_check']}; model files {lesson['model_bytes']:,} bytes")
    return lesson


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", choices=["induction", "addition", "sort"])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", default=HERE, help="parent of the lesson directories (default: models/lessons)")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--steps", type=int, help="override every task's step count")
    ap.add_argument("--smoke", action="store_true", help="few steps, small evaluation: checks the pipeline")
    ap.add_argument("--eval-only", action="store_true", help="re-measure the saved models")
    ap.add_argument("--heldout", type=int, help="held-out items measured (default: 2000; addition 10000)")
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    names = args.only or ["induction", "addition", "sort"]
    tasks = {"induction": Induction, "addition": lambda: Addition(args.seed + 1), "sort": Sort}
    sample_n = {"induction": 32, "addition": 200, "sort": 100}
    t_all = time.time()
    for i, name in enumerate(names):
        task = tasks[name]()
        out = os.path.join(args.out, name)
        seed = args.seed + {"induction": 0, "addition": 1000, "sort": 2000}[name]
        report_path = os.path.join(out, "training_report.json")
        if args.smoke:
            task.batch = 8
        if not args.eval_only:
            steps = args.steps or (30 if args.smoke else task.steps)
            report = train(task, device, out, steps, seed)
            with open(report_path, "w") as f:
                json.dump(report, f, indent=1)
                f.write("\n")
        n_held = args.heldout or (100 if args.smoke else (10000 if name == "addition" else 2000))
        lesson = evaluate(task, out, device, n_held, min(sample_n[name], n_held), seed, args.smoke)
        with open(os.path.join(out, "lesson.json"), "w") as f:
            json.dump(lesson, f, indent=1)
            f.write("\n")
        total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
        log(f"[{name}] directory {total:,} bytes")
        assert total <= 1_000_000, f"{out}: {total} bytes > 1 MB"
    log(f"all done in {time.time() - t_all:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
