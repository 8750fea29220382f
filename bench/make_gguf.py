#!/usr/bin/python3
"""make_gguf.py — the benchmark's checkpoint as a GGUF file, for llama.cpp (wllama).

Reads DIR/model.safetensors, vocab.json, merges.txt and config.json (what
bench/make_model.py writes: the weights Glassbox and onnxruntime-web run) and
writes DIR/model.gguf with the SAME F32 weights in llama.cpp's `gpt2`
architecture, so the three runtimes run one model (bench/run.js checks that
wllama's next-token logits agree with Glassbox's before it reports a time).

A small GGUF v3 writer of our own (numpy only, no `gguf` package): header,
key/value metadata, tensor infos, then the tensor data aligned to 32 bytes.
Conventions, from llama.cpp's src/models/gpt2.cpp and gguf-py/gguf/constants.py:
  - a tensor's dims are written fastest-first (ggml's ne0, ne1): a numpy array
    of shape (rows, cols) is written as dims (cols, rows);
  - a linear layer's weight has ne0 = its input width, so Hugging Face's Conv1D
    weights ([in, out], y = x W) are transposed to [out, in];
  - `output.weight` is left out: llama.cpp then ties the LM head to
    token_embd, as GPT-2 (and Glassbox) do;
  - the tokenizer is tokenizer.ggml.model "gpt2", pre-tokenizer "gpt-2",
    tokens in id order, token types (1 normal, 3 control for <|endoftext|>)
    and the BPE merges; bos = eos = 50256, no BOS added.

usage: /usr/bin/python3 bench/make_gguf.py [DIR]   (default bench/results/tmp/model)
"""
import json
import os
import struct
import sys

import numpy as np

ALIGN = 32
# GGUF value types (gguf-py/gguf/constants.py GGUFValueType)
U32, I32, F32, BOOL, STR, ARR = 4, 5, 6, 7, 8, 9
GGML_F32 = 0  # ggml_type GGML_TYPE_F32
FILE_TYPE_ALL_F32 = 0  # llama_ftype LLAMA_FTYPE_ALL_F32


def read_safetensors(path):
    """{name: float32 array} without torch or the safetensors package."""
    with open(path, "rb") as fh:
        n = struct.unpack("<Q", fh.read(8))[0]
        header = json.loads(fh.read(n))
        base = 8 + n
        out = {}
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if info["dtype"] != "F32":
                raise ValueError(f"{path}: {name} is {info['dtype']}, only F32 is written")
            a, b = info["data_offsets"]
            fh.seek(base + a)
            out[name] = np.frombuffer(fh.read(b - a), dtype="<f4").reshape(info["shape"])
    return out


def gguf_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf_value(typ, v):
    if typ == U32:
        return struct.pack("<I", v)
    if typ == I32:
        return struct.pack("<i", v)
    if typ == F32:
        return struct.pack("<f", v)
    if typ == BOOL:
        return struct.pack("<B", 1 if v else 0)
    if typ == STR:
        return gguf_string(v)
    raise ValueError(f"type {typ}")


def gguf_kv(key, typ, v, elem=None):
    out = gguf_string(key) + struct.pack("<I", typ)
    if typ != ARR:
        return out + gguf_value(typ, v)
    out += struct.pack("<IQ", elem, len(v))
    if elem == I32:
        return out + np.asarray(v, dtype="<i4").tobytes()
    return out + b"".join(gguf_value(elem, x) for x in v)


def tensors(w, cfg):
    """(name, float32 array in numpy order) in llama.cpp's gpt2 names."""
    t = [("token_embd.weight", w["wte.weight"]), ("position_embd.weight", w["wpe.weight"])]
    for l in range(cfg["n_layer"]):
        h, b = f"h.{l}.", f"blk.{l}."
        t += [
            (b + "attn_norm.weight", w[h + "ln_1.weight"]), (b + "attn_norm.bias", w[h + "ln_1.bias"]),
            (b + "attn_qkv.weight", w[h + "attn.c_attn.weight"].T), (b + "attn_qkv.bias", w[h + "attn.c_attn.bias"]),
            (b + "attn_output.weight", w[h + "attn.c_proj.weight"].T), (b + "attn_output.bias", w[h + "attn.c_proj.bias"]),
            (b + "ffn_norm.weight", w[h + "ln_2.weight"]), (b + "ffn_norm.bias", w[h + "ln_2.bias"]),
            (b + "ffn_up.weight", w[h + "mlp.c_fc.weight"].T), (b + "ffn_up.bias", w[h + "mlp.c_fc.bias"]),
            (b + "ffn_down.weight", w[h + "mlp.c_proj.weight"].T), (b + "ffn_down.bias", w[h + "mlp.c_proj.bias"]),
        ]
    t += [("output_norm.weight", w["ln_f.weight"]), ("output_norm.bias", w["ln_f.bias"])]
    return [(n, np.ascontiguousarray(a, dtype="<f4")) for n, a in t]


def metadata(cfg, vocab, merges):
    tokens = [None] * len(vocab)
    for s, i in vocab.items():
        tokens[i] = s
    if any(s is None for s in tokens) or len(tokens) != cfg["vocab_size"]:
        raise ValueError("vocab.json: ids are not 0..vocab_size-1")
    eos = cfg["eos_token_id"]
    types = [3 if i == eos else 1 for i in range(len(tokens))]
    a = "gpt2"
    return [
        gguf_kv("general.architecture", STR, a),
        gguf_kv("general.name", STR, "glassbox-bench gpt2-small random (seed 1234)"),
        gguf_kv("general.file_type", U32, FILE_TYPE_ALL_F32),
        gguf_kv("general.alignment", U32, ALIGN),
        gguf_kv(f"{a}.context_length", U32, cfg["n_positions"]),
        gguf_kv(f"{a}.embedding_length", U32, cfg["n_embd"]),
        gguf_kv(f"{a}.feed_forward_length", U32, cfg["n_inner"] or 4 * cfg["n_embd"]),
        gguf_kv(f"{a}.block_count", U32, cfg["n_layer"]),
        gguf_kv(f"{a}.attention.head_count", U32, cfg["n_head"]),
        gguf_kv(f"{a}.attention.layer_norm_epsilon", F32, cfg["layer_norm_epsilon"]),
        gguf_kv("tokenizer.ggml.model", STR, "gpt2"),
        gguf_kv("tokenizer.ggml.pre", STR, "gpt-2"),
        gguf_kv("tokenizer.ggml.tokens", ARR, tokens, STR),
        gguf_kv("tokenizer.ggml.token_type", ARR, types, I32),
        gguf_kv("tokenizer.ggml.merges", ARR, merges, STR),
        gguf_kv("tokenizer.ggml.bos_token_id", U32, cfg["bos_token_id"]),
        gguf_kv("tokenizer.ggml.eos_token_id", U32, eos),
        gguf_kv("tokenizer.ggml.add_bos_token", BOOL, False),
    ]


def write_gguf(path, kvs, ts):
    pad = lambda n: -n % ALIGN
    infos, off = [], 0
    for name, a in ts:
        dims = list(reversed(a.shape))  # ne0 (fastest) first
        infos.append(gguf_string(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
                     + struct.pack("<IQ", GGML_F32, off))
        off += a.nbytes + pad(a.nbytes)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(ts), len(kvs)) + b"".join(kvs) + b"".join(infos)
    tmp = path + ".part"
    with open(tmp, "wb") as fh:
        fh.write(head + b"\0" * pad(len(head)))
        for _, a in ts:
            fh.write(a.tobytes())
            fh.write(b"\0" * pad(a.nbytes))
    os.replace(tmp, path)  # never leave a half-written model.gguf behind


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results", "tmp", "model")
    with open(os.path.join(d, "config.json")) as fh:
        cfg = json.load(fh)
    with open(os.path.join(d, "vocab.json"), encoding="utf-8") as fh:
        vocab = json.load(fh)
    with open(os.path.join(d, "merges.txt"), encoding="utf-8") as fh:
        merges = [l.rstrip("\n") for l in fh if l.strip() and not l.startswith("#version")]
    w = read_safetensors(os.path.join(d, "model.safetensors"))
    ts = tensors(w, cfg)
    out = os.path.join(d, "model.gguf")
    write_gguf(out, metadata(cfg, vocab, merges), ts)
    print(f"wrote {out}: {len(ts)} tensors, {sum(a.size for _, a in ts)} parameters, {len(merges)} merges")


if __name__ == "__main__":
    main()
