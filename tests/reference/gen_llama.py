#!/usr/bin/python3
"""Write the golden fixtures of the forward-pass tests.

Regenerate (needs torch and numpy, as Debian's python3-torch and
python3-numpy provide; the C tests need neither):

    /usr/bin/python3 tests/reference/gen_llama.py tests/reference/data

The output is deterministic for a given torch version, because the random
weights come from a seeded torch.Generator. For each model below it writes a
Hugging Face directory per dtype (F32, F16, BF16) with four files:
config.json; model.safetensors, written here byte by byte without the
safetensors package; expected.json with fixed token sequences; and
logits.bin with the expected logits as little-endian float32 of shape
(sum of sequence lengths, V), sequences one after another. The
expected logits come from the float64 forward written below from the
equations of Hugging Face's Llama and Qwen2 modelling code, run on the
weights after rounding to the file's dtype. A llama2.c .bin checkpoint
(interleaved RoPE, adjacent pairs) gets its own expectation.

The F32 Llama directory also holds a tiny byte-level BPE tokenizer.json
(vocabulary = the model's 128 ids) and the expectations of the CLI tests:
perplexity.json and perplexity.txt (token ids, windows, mean NLL for two
window lengths) and generate.json and generate.txt (the greedy continuation
of a prompt, as lrc generate prints it).
"""

import json
import math
import os
import re
import struct
import sys

import numpy as np
import torch

V = 128

# name -> architecture and shapes. d hidden, H/Hkv heads, h head size, I MLP width.
MODELS = {
    # Llama: untied embeddings, rotate_half RoPE, grouped-query attention.
    "llama": dict(arch="LlamaForCausalLM", model_type="llama", d=48, L=2, H=4, Hkv=2, h=None,
                  I=96, theta=10000.0, eps=1e-5, tied=False, bias=False, scaling=None),
    # Qwen2: q/k/v biases, tied embeddings, rope_theta 1e6, linear RoPE scaling.
    "qwen2": dict(arch="Qwen2ForCausalLM", model_type="qwen2", d=48, L=2, H=6, Hkv=2, h=None,
                  I=80, theta=1000000.0, eps=1e-6, tied=True, bias=True,
                  scaling={"rope_type": "linear", "factor": 2.0}),
    # head_dim 16 with d = 32 and H = 4 (d / H = 8), Llama 3.1 RoPE scaling
    # with a short original context so that every regime of the rule is hit.
    "headdim": dict(arch="LlamaForCausalLM", model_type="llama", d=32, L=2, H=4, Hkv=1, h=16,
                    I=64, theta=10000.0, eps=1e-5, tied=False, bias=False,
                    scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0,
                             "original_max_position_embeddings": 64}),
    # Llama with attention_bias: biases on q, k, v and o. Kept last so that
    # adding it left the random draws of the models above unchanged.
    "attnbias": dict(arch="LlamaForCausalLM", model_type="llama", d=32, L=2, H=4, Hkv=2, h=None,
                     I=64, theta=10000.0, eps=1e-5, tied=False, bias=True, o_bias=True,
                     scaling=None),
}
DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}
ST_DTYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16"}
SEQ_LENS = (7, 12, 16)
MAX_POS = 256

# ---------------------------------------------------------------- weights


def head_size(m):
    return m["h"] if m["h"] else m["d"] // m["H"]


def make_weights(m, gen):
    """Random weights scaled so activations stay near unit size."""

    def lin(out, inp):
        return torch.randn(out, inp, generator=gen) / math.sqrt(inp)

    def norm(n):
        return 1.0 + 0.2 * torch.randn(n, generator=gen)

    d, H, Hkv, I, h = m["d"], m["H"], m["Hkv"], m["I"], head_size(m)
    # A tied embedding doubles as the LM head, where N(0, 1) rows would give
    # logits of about sqrt(d) in size; 0.3 keeps them near those of real models.
    embed_std = 0.3 if m["tied"] else 1.0
    w = {"model.embed_tokens.weight": embed_std * torch.randn(V, d, generator=gen)}
    for l in range(m["L"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = norm(d)
        w[p + "self_attn.q_proj.weight"] = lin(H * h, d)
        w[p + "self_attn.k_proj.weight"] = lin(Hkv * h, d)
        w[p + "self_attn.v_proj.weight"] = lin(Hkv * h, d)
        if m["bias"]:
            w[p + "self_attn.q_proj.bias"] = 0.5 * torch.randn(H * h, generator=gen)
            w[p + "self_attn.k_proj.bias"] = 0.5 * torch.randn(Hkv * h, generator=gen)
            w[p + "self_attn.v_proj.bias"] = 0.5 * torch.randn(Hkv * h, generator=gen)
        w[p + "self_attn.o_proj.weight"] = lin(d, H * h)
        if m.get("o_bias"):
            w[p + "self_attn.o_proj.bias"] = 0.5 * torch.randn(d, generator=gen)
        w[p + "post_attention_layernorm.weight"] = norm(d)
        w[p + "mlp.gate_proj.weight"] = lin(I, d)
        w[p + "mlp.up_proj.weight"] = lin(I, d)
        w[p + "mlp.down_proj.weight"] = lin(d, I)
    w["model.norm.weight"] = norm(d)
    if not m["tied"]:
        w["lm_head.weight"] = lin(V, d)
    return w


def write_safetensors(path, tensors, dtype_name):
    """safetensors: u64 LE header size, JSON header, then the raw tensor bytes."""
    dtype = DTYPES[dtype_name]
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        t = t.to(dtype).contiguous()
        if dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": ST_DTYPE[dtype_name], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write_config(path, m):
    cfg = {
        "architectures": [m["arch"]],
        "model_type": m["model_type"],
        "hidden_size": m["d"],
        "intermediate_size": m["I"],
        "num_hidden_layers": m["L"],
        "num_attention_heads": m["H"],
        "num_key_value_heads": m["Hkv"],
        "vocab_size": V,
        "max_position_embeddings": MAX_POS,
        "rms_norm_eps": m["eps"],
        "rope_theta": m["theta"],
        "tie_word_embeddings": m["tied"],
        "hidden_act": "silu",
        "bos_token_id": 0,
        "eos_token_id": 0,
        "torch_dtype": "float32",
    }
    if m["h"]:
        cfg["head_dim"] = m["h"]
    if m.get("o_bias"):
        cfg["attention_bias"] = True
    if m["scaling"]:
        cfg["rope_scaling"] = m["scaling"]
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------- reference forward


def inv_freq_of(m):
    h = head_size(m)
    inv = 1.0 / (m["theta"] ** (torch.arange(0, h, 2, dtype=torch.float64) / h))
    sc = m["scaling"]
    if not sc:
        return inv
    if sc["rope_type"] == "linear":
        return inv / sc["factor"]
    # Llama 3.1: long wavelengths slowed by factor, short kept, a linear blend between.
    factor, lo, hi = sc["factor"], sc["low_freq_factor"], sc["high_freq_factor"]
    orig = sc["original_max_position_embeddings"]
    out = inv.clone()
    for i in range(len(inv)):
        wavelen = 2 * math.pi / inv[i].item()
        if wavelen > orig / lo:
            out[i] = inv[i] / factor
        elif wavelen >= orig / hi:
            smooth = (orig / wavelen - lo) / (hi - lo)
            out[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i]
    return out


def rope(x, pos, inv, interleaved):
    """x (T, heads, h) rotated by angle pos * inv[i] on pair i."""
    ang = pos[:, None].double() * inv[None, :]  # (T, h/2)
    cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]
    if interleaved:
        a, b = x[..., 0::2], x[..., 1::2]
        out = torch.empty_like(x)
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
        return out
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, a * sin + b * cos], dim=-1)


def rmsnorm(x, w, eps):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * w


def reference_logits(m, w, tokens, interleaved=False):
    """Float64 forward of a Llama/Qwen2 decoder over one sequence: (T, V)."""
    w = {k: v.double() for k, v in w.items()}
    H, Hkv, h, eps = m["H"], m["Hkv"], head_size(m), m["eps"]
    T = len(tokens)
    pos = torch.arange(T)
    inv = inv_freq_of(m)
    mask = torch.triu(torch.full((T, T), float("-inf"), dtype=torch.float64), diagonal=1)

    x = w["model.embed_tokens.weight"][torch.tensor(tokens)]
    for l in range(m["L"]):
        p = f"model.layers.{l}."
        xn = rmsnorm(x, w[p + "input_layernorm.weight"], eps)
        q = xn @ w[p + "self_attn.q_proj.weight"].T
        k = xn @ w[p + "self_attn.k_proj.weight"].T
        v = xn @ w[p + "self_attn.v_proj.weight"].T
        if m["bias"]:
            q = q + w[p + "self_attn.q_proj.bias"]
            k = k + w[p + "self_attn.k_proj.bias"]
            v = v + w[p + "self_attn.v_proj.bias"]
        q = rope(q.view(T, H, h), pos, inv, interleaved)
        k = rope(k.view(T, Hkv, h), pos, inv, interleaved)
        v = v.view(T, Hkv, h)
        k = k.repeat_interleave(H // Hkv, dim=1)
        v = v.repeat_interleave(H // Hkv, dim=1)
        scores = torch.einsum("thd,shd->hts", q, k) / math.sqrt(h) + mask
        att = torch.einsum("hts,shd->thd", torch.softmax(scores, dim=-1), v)
        x = x + att.reshape(T, H * h) @ w[p + "self_attn.o_proj.weight"].T
        if m.get("o_bias"):
            x = x + w[p + "self_attn.o_proj.bias"]

        xn = rmsnorm(x, w[p + "post_attention_layernorm.weight"], eps)
        g = xn @ w[p + "mlp.gate_proj.weight"].T
        u = xn @ w[p + "mlp.up_proj.weight"].T
        x = x + (g * torch.sigmoid(g) * u) @ w[p + "mlp.down_proj.weight"].T

    x = rmsnorm(x, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if m["tied"] else w["lm_head.weight"]
    return x @ head.T


def rounded(w, dtype_name):
    return {k: v.to(DTYPES[dtype_name]).to(torch.float64) for k, v in w.items()}


def write_expected(dirpath, m, w, sequences, interleaved=False):
    rows = [reference_logits(m, w, s, interleaved) for s in sequences]
    logits = torch.cat(rows).numpy().astype("<f4")
    logits.tofile(os.path.join(dirpath, "logits.bin"))
    with open(os.path.join(dirpath, "expected.json"), "w") as f:
        json.dump({"vocab_size": V, "sequences": sequences, "logits": "logits.bin"}, f)
        f.write("\n")


# ---------------------------------------------------------------- tokenizer


def bytes_to_unicode():
    """GPT-2's byte-to-character map: printable bytes map to themselves, the
    rest to code points from 256 up, in byte order."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, n = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + n)
            n += 1
    return chars


BYTE_CHAR = bytes_to_unicode()
# Pieces of GPT-2's pre-tokenizer regex, written for ASCII text only.
PRETOKEN = re.compile(r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+")

TRAIN_TEXT = (
    "the cat sat on the mat. the dog ate the bone. then the cat and the dog "
    "sat in the sun, and there they stayed. that is the end of the tale.\n"
)


def pretokenize(text):
    return ["".join(BYTE_CHAR[b] for b in p.encode()) for p in PRETOKEN.findall(text)]


def bpe(word, ranks):
    parts = list(word)
    while len(parts) > 1:
        pairs = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
        rank, i = min(pairs)
        if rank == 1 << 30:
            break
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return parts


def build_tokenizer():
    """Vocabulary: id 0 <|endoftext|>, the 94 printable ASCII characters, space
    and newline as byte-level characters, then merges learnt on TRAIN_TEXT
    until V ids are used."""
    vocab = {"<|endoftext|>": 0}
    for b in list(range(0x21, 0x7F)) + [0x20, 0x0A]:
        vocab[BYTE_CHAR[b]] = len(vocab)
    words = [list(w) for w in pretokenize(TRAIN_TEXT)]
    merges = []
    while len(vocab) < V:
        counts = {}
        for w in words:
            for pair in zip(w, w[1:]):
                counts[pair] = counts.get(pair, 0) + 1
        best = max(sorted(counts), key=lambda p: counts[p])
        merges.append(best)
        vocab[best[0] + best[1]] = len(vocab)
        for w in words:
            i = 0
            while i < len(w) - 1:
                if (w[i], w[i + 1]) == best:
                    w[i:i + 2] = [best[0] + best[1]]
                i += 1
    return vocab, merges


def encode(text, vocab, merges):
    ranks = {p: i for i, p in enumerate(merges)}
    return [vocab[piece] for word in pretokenize(text) for piece in bpe(word, ranks)]


def decode(ids, vocab):
    inverse = {i: s for s, i in vocab.items()}
    char_byte = {c: b for b, c in BYTE_CHAR.items()}
    return bytes(char_byte[c] for i in ids if i != 0 for c in inverse[i]).decode()


def write_tokenizer(dirpath, vocab, merges):
    special = {"id": 0, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
               "rstrip": False, "normalized": False, "special": True}
    level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
             "use_regex": True}
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [special],
        "normalizer": None,
        "pre_tokenizer": level,
        "post_processor": level,
        "decoder": level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "vocab": vocab,
                  "merges": [a + " " + b for a, b in merges]},
    }
    with open(os.path.join(dirpath, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(dirpath, "tokenizer_config.json"), "w") as f:
        json.dump({"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                   "tokenizer_class": "GPT2Tokenizer"}, f)
        f.write("\n")


PPL_TEXT = (
    "the cat sat on the mat and the dog ate the bone. then they sat in the sun "
    "for a while, and the tale came to its end. 42 cats, 7 dogs!\n"
)
# Window lengths: several windows with a last partial one, and one window
# holding the whole text.
PPL_CTXS = (16, 128)


def perplexity(m, w, ids, ctx):
    """Windows of ctx tokens; the first token of each window is context only."""
    total, scored = 0.0, 0
    for start in range(0, len(ids), ctx):
        win = ids[start:start + ctx]
        if len(win) < 2:
            continue
        logp = torch.log_softmax(reference_logits(m, w, win), dim=-1)
        for t in range(1, len(win)):
            total -= logp[t - 1, win[t]].item()
            scored += 1
    return total / scored, scored


def greedy(m, w, prompt_ids, n):
    ids, out, margins = list(prompt_ids), [], []
    for _ in range(n):
        logits = reference_logits(m, w, ids)[-1]
        top = torch.topk(logits, 2)
        margins.append((top.values[0] - top.values[1]).item())
        nxt = int(top.indices[0])
        if nxt == 0:
            break
        out.append(nxt)
        ids.append(nxt)
    return out, min(margins)


# ---------------------------------------------------------------- llama2.c


def write_llama2c(path, m, w, seq_len):
    """Write a legacy llama2.c checkpoint.

    The header is 7 int32: dim, hidden_dim, n_layers, n_heads, n_kv_heads,
    vocab_size and seq_len, where a negative vocab_size means that an untied
    classifier follows. Then come float32 tensors: token embedding, all
    attention norms, all wq, wk, wv, wo, all MLP norms, all w1 (gate), w2
    (down), w3 (up), the final norm, the RoPE cos and sin tables
    (seq_len, h/2) and the classifier."""
    L, d, h = m["L"], m["d"], head_size(m)
    f32 = lambda t: t.to(torch.float32).numpy().astype("<f4").tobytes()
    layers = lambda name: b"".join(f32(w[f"model.layers.{l}.{name}"]) for l in range(L))
    with open(path, "wb") as f:
        f.write(struct.pack("<7i", d, m["I"], L, m["H"], m["Hkv"], -V, seq_len))
        f.write(f32(w["model.embed_tokens.weight"]))
        f.write(layers("input_layernorm.weight"))
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            f.write(layers(f"self_attn.{name}.weight"))
        f.write(layers("post_attention_layernorm.weight"))
        for name in ("gate_proj", "down_proj", "up_proj"):
            f.write(layers(f"mlp.{name}.weight"))
        f.write(f32(w["model.norm.weight"]))
        ang = torch.arange(seq_len, dtype=torch.float64)[:, None] * inv_freq_of(m)[None, :]
        f.write(f32(torch.cos(ang)))
        f.write(f32(torch.sin(ang)))
        f.write(f32(w["lm_head.weight"]))


# ---------------------------------------------------------------- main


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data")
    os.makedirs(out, exist_ok=True)
    gen = torch.Generator().manual_seed(20261204)
    sequences = [torch.randint(0, V, (n,), generator=gen).tolist() for n in SEQ_LENS]

    for name, m in MODELS.items():
        w = make_weights(m, gen)
        for dt in DTYPES:
            d = os.path.join(out, f"{name}-{dt}")
            os.makedirs(d, exist_ok=True)
            write_config(os.path.join(d, "config.json"), m)
            write_safetensors(os.path.join(d, "model.safetensors"), w, dt)
            write_expected(d, m, rounded(w, dt), sequences)

        if name == "llama":
            cli = os.path.join(out, "llama-f32")
            wr = rounded(w, "f32")
            vocab, merges = build_tokenizer()
            write_tokenizer(cli, vocab, merges)
            ids = encode(PPL_TEXT, vocab, merges)
            assert decode(ids, vocab) == PPL_TEXT
            runs = []
            for ctx in PPL_CTXS:
                nll, scored = perplexity(m, wr, ids, ctx)
                runs.append({"ctx": ctx, "scored": scored, "windows": -(-len(ids) // ctx),
                             "nll": nll, "perplexity": math.exp(nll)})
            with open(os.path.join(out, "ppl.txt"), "w") as f:
                f.write(PPL_TEXT)
            with open(os.path.join(cli, "perplexity.json"), "w") as f:
                json.dump({"text": "ppl.txt", "tokens": ids, "runs": runs}, f)
                f.write("\n")
            # One "ctx nll perplexity" line per run, for the shell tests.
            with open(os.path.join(cli, "perplexity.txt"), "w") as f:
                for r in runs:
                    f.write(f"{r['ctx']} {len(ids)} {r['scored']} {r['windows']} "
                            f"{r['nll']:.17g} {r['perplexity']:.17g}\n")
            prompt = "the cat"
            prompt_ids = encode(prompt, vocab, merges)
            cont, margin = greedy(m, wr, prompt_ids, 12)
            assert margin > 1e-3, f"greedy continuation has a near tie ({margin})"
            with open(os.path.join(cli, "generate.json"), "w") as f:
                json.dump({"prompt": prompt, "prompt_tokens": prompt_ids, "n": 12,
                           "tokens": cont, "text": decode(cont, vocab),
                           "min_top2_margin": margin}, f)
                f.write("\n")
            with open(os.path.join(cli, "generate.txt"), "w") as f:
                f.write(decode(cont, vocab) + "\n")

            # The same weights as a llama2.c checkpoint, whose RoPE pairs
            # adjacent dimensions.
            d = os.path.join(out, "llama2c")
            os.makedirs(d, exist_ok=True)
            write_llama2c(os.path.join(d, "model.bin"), m, w, MAX_POS)
            write_expected(d, m, wr, sequences, interleaved=True)


if __name__ == "__main__":
    main()
