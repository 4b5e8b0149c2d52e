#!/usr/bin/python3
"""Write the LRC golden fixture of tests/test_lrc_golden.c.

Regenerate (needs torch, as Debian's python3-torch provides; the C test
reads only the files written here):

    /usr/bin/python3 tests/reference/gen_lrc.py tests/reference/data/lrc

The script is an independent PyTorch statement of the Low-Rank Clone
student and loss, differentiated by autograd:

- teacher/: a tiny random Llama (untied LM head) as a Hugging Face
  directory, config.json and model.safetensors in F32;
- init.safetensors: the trainable tensors under their LRC names (Z tied to
  the LM head projection, so there is no zoom_down.weight);
- expected.json: the settings, the token batch (B rows of T + 1 ids), the
  loss parts before any step and the loss parts after each of three
  torch.optim.AdamW steps (constant learning rate, no gradient clipping,
  weight decay on the projections only: the norm weights sit in a second
  parameter group with weight_decay 0);
- grads.safetensors: the gradient of every trainable tensor at init;
- cli_data.u32 and cli_expected.json: a data file for `lrc distill
  --shuffle off` and the loss parts of its batch before and after each of
  three AdamW steps (tests/distill_cli.sh).

Student weights are generated as E Z^T (embedding), W_head Z^T (head),
W A (q, k, v), B_o W_o (o), W G^T (gate, up), D W_down (down). The loss is
w_ce CE + w_kl KL_tau + w_clone sum over layers and sites of the MSE, where
KL_tau is the per-token mean of sum_v p_t log(p_t / p_s) at temperature tau
with no tau^2 factor, and the sites are q, k, v (before RoPE), attn_out
(attention output through the teacher's W_o, for both models), gate, up
(before SwiGLU) in teacher space and mlp_out (D W_down z for both models)
in student space.
"""

import json
import math
import os
import struct
import sys

import torch

torch.set_default_dtype(torch.float64)

CFG = dict(d=32, H=4, Hkv=2, h=8, I=48, V=64, L=2, eps=1e-5, theta=10000.0)
RANK = 12
B, T = 2, 8
LOSS = dict(w_ce=1.0, w_kl=0.5, w_clone=0.25, tau=2.0)
ADAMW = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1)
STEPS = 3
CLI_TOKENS = 2 * T  # length of the CLI data file
SITES = ["q", "k", "v", "attn_out", "gate", "up", "mlp_out"]


def write_safetensors(path, tensors):
    """tensors: list of (name, float32 tensor)."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors:
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def f32(t):
    """Round to float32 and back, so that torch works on the stored values."""
    return t.to(torch.float32).to(torch.float64)


def make_teacher(gen):
    c = CFG
    d, qd, kvd, I, V = c["d"], c["H"] * c["h"], c["Hkv"] * c["h"], c["I"], c["V"]

    def rnd(*shape, std=1.0, mean=0.0):
        return f32(mean + std * torch.randn(*shape, generator=gen))

    w = {"model.embed_tokens.weight": rnd(V, d)}
    for l in range(c["L"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = rnd(d, std=0.1, mean=1.0)
        w[p + "self_attn.q_proj.weight"] = rnd(qd, d, std=d ** -0.5)
        w[p + "self_attn.k_proj.weight"] = rnd(kvd, d, std=d ** -0.5)
        w[p + "self_attn.v_proj.weight"] = rnd(kvd, d, std=d ** -0.5)
        w[p + "self_attn.o_proj.weight"] = rnd(d, qd, std=qd ** -0.5)
        w[p + "post_attention_layernorm.weight"] = rnd(d, std=0.1, mean=1.0)
        w[p + "mlp.gate_proj.weight"] = rnd(I, d, std=d ** -0.5)
        w[p + "mlp.up_proj.weight"] = rnd(I, d, std=d ** -0.5)
        w[p + "mlp.down_proj.weight"] = rnd(d, I, std=I ** -0.5)
    w["model.norm.weight"] = rnd(d, std=0.1, mean=1.0)
    w["lm_head.weight"] = rnd(V, d, std=d ** -0.5)
    return w


def trainable_names():
    names = ["model.zoom.weight"]
    for l in range(CFG["L"]):
        p = f"model.layers.{l}."
        names += [p + "self_attn.zoom_q.weight", p + "self_attn.zoom_k.weight",
                  p + "self_attn.zoom_v.weight", p + "self_attn.zoom_down.weight",
                  p + "mlp.zoom_gate.weight", p + "mlp.zoom_up.weight",
                  p + "mlp.zoom_down.weight", p + "target_input_layernorm.weight",
                  p + "target_post_attention_layernorm.weight"]
    names.append("model.target_norm.weight")
    return names


def make_init(gen):
    d, r = CFG["d"], RANK
    p = {}
    for name in trainable_names():
        if "layernorm" in name or "target_norm" in name:
            p[name] = f32(1.0 + 0.05 * torch.randn(r, generator=gen))
        elif "zoom_q" in name or "zoom_k" in name or "zoom_v" in name:
            p[name] = f32(0.2 * torch.randn(d, r, generator=gen))
        else:
            p[name] = f32(0.2 * torch.randn(r, d, generator=gen))
    return p


def rmsnorm(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + CFG["eps"]) * w


def rope(x):
    """x (B, T, n, h); Hugging Face's rotate_half pairing (i, i + h/2)."""
    h = x.shape[-1]
    inv = 1.0 / CFG["theta"] ** (torch.arange(0, h, 2, dtype=torch.float64) / h)
    ang = torch.arange(x.shape[1], dtype=torch.float64)[:, None] * inv[None, :]
    cos = torch.cat([ang.cos(), ang.cos()], -1)[None, :, None, :]
    sin = torch.cat([ang.sin(), ang.sin()], -1)[None, :, None, :]
    x1, x2 = x[..., : h // 2], x[..., h // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def llama(weights, tokens_in, x0=None):
    """Forward of a Llama given weights of any hidden size; returns logits and
    the sites of every layer."""
    c = CFG
    H, Hkv, h = c["H"], c["Hkv"], c["h"]
    x = weights["embed"][tokens_in] if x0 is None else x0
    Bn, Tn = tokens_in.shape
    mask = torch.ones(Tn, Tn).tril().bool()
    sites = []
    for lw in weights["layers"]:
        xn = rmsnorm(x, lw["attn_norm"])
        q, k, v = xn @ lw["wq"].T, xn @ lw["wk"].T, xn @ lw["wv"].T
        qr = rope(q.view(Bn, Tn, H, h)).transpose(1, 2)
        kr = rope(k.view(Bn, Tn, Hkv, h)).transpose(1, 2).repeat_interleave(H // Hkv, 1)
        vv = v.view(Bn, Tn, Hkv, h).transpose(1, 2).repeat_interleave(H // Hkv, 1)
        scores = (qr @ kr.transpose(-1, -2)) / math.sqrt(h)
        probs = scores.masked_fill(~mask, float("-inf")).softmax(-1)
        att = (probs @ vv).transpose(1, 2).reshape(Bn, Tn, H * h)
        x = x + att @ lw["wo"].T
        xn2 = rmsnorm(x, lw["mlp_norm"])
        gate, up = xn2 @ lw["w_gate"].T, xn2 @ lw["w_up"].T
        mlp_out = (torch.nn.functional.silu(gate) * up) @ lw["w_down"].T
        x = x + mlp_out
        sites.append(dict(q=q, k=k, v=v, att=att, gate=gate, up=up, mlp_out=mlp_out))
    logits = rmsnorm(x, weights["final_norm"]) @ weights["lm_head"].T
    return logits, sites


def teacher_weights(tw):
    layers = []
    for l in range(CFG["L"]):
        p = f"model.layers.{l}."
        layers.append(dict(
            attn_norm=tw[p + "input_layernorm.weight"], wq=tw[p + "self_attn.q_proj.weight"],
            wk=tw[p + "self_attn.k_proj.weight"], wv=tw[p + "self_attn.v_proj.weight"],
            wo=tw[p + "self_attn.o_proj.weight"], mlp_norm=tw[p + "post_attention_layernorm.weight"],
            w_gate=tw[p + "mlp.gate_proj.weight"], w_up=tw[p + "mlp.up_proj.weight"],
            w_down=tw[p + "mlp.down_proj.weight"]))
    return dict(embed=tw["model.embed_tokens.weight"], layers=layers,
                final_norm=tw["model.norm.weight"], lm_head=tw["lm_head.weight"])


def lrc_loss(tw, params, tokens):
    """The loss parts of the student given by params (a dict of tensors)."""
    tws = teacher_weights(tw)
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    with torch.no_grad():
        t_logits, t_sites = llama(tws, inputs)

    Z = params["model.zoom.weight"]
    layers = []
    for l in range(CFG["L"]):
        p, tp = f"model.layers.{l}.", tws["layers"][l]
        layers.append(dict(
            attn_norm=params[p + "target_input_layernorm.weight"],
            wq=tp["wq"] @ params[p + "self_attn.zoom_q.weight"],
            wk=tp["wk"] @ params[p + "self_attn.zoom_k.weight"],
            wv=tp["wv"] @ params[p + "self_attn.zoom_v.weight"],
            wo=params[p + "self_attn.zoom_down.weight"] @ tp["wo"],
            mlp_norm=params[p + "target_post_attention_layernorm.weight"],
            w_gate=tp["w_gate"] @ params[p + "mlp.zoom_gate.weight"].T,
            w_up=tp["w_up"] @ params[p + "mlp.zoom_up.weight"].T,
            w_down=params[p + "mlp.zoom_down.weight"] @ tp["w_down"]))
    student = dict(embed=tws["embed"] @ Z.T, layers=layers,
                   final_norm=params["model.target_norm.weight"], lm_head=tws["lm_head"] @ Z.T)
    s_logits, s_sites = llama(student, inputs)

    V, tau = CFG["V"], LOSS["tau"]
    ce = torch.nn.functional.cross_entropy(s_logits.reshape(-1, V), targets.reshape(-1))
    log_pt = (t_logits / tau).log_softmax(-1)
    log_ps = (s_logits / tau).log_softmax(-1)
    kl = (log_pt.exp() * (log_pt - log_ps)).sum(-1).mean()

    clone = {s: 0.0 for s in SITES}
    for l in range(CFG["L"]):
        ts, ss, tp = t_sites[l], s_sites[l], tws["layers"][l]
        D = params[f"model.layers.{l}.mlp.zoom_down.weight"]
        for s in ["q", "k", "v", "gate", "up"]:
            clone[s] = clone[s] + (ss[s] - ts[s]).pow(2).mean()
        clone["attn_out"] = clone["attn_out"] + (ss["att"] @ tp["wo"].T -
                                                 ts["att"] @ tp["wo"].T).pow(2).mean()
        clone["mlp_out"] = clone["mlp_out"] + (ss["mlp_out"] - ts["mlp_out"] @ D.T).pow(2).mean()
    clone_sum = sum(clone.values())
    total = LOSS["w_ce"] * ce + LOSS["w_kl"] * kl + LOSS["w_clone"] * clone_sum
    return total, dict(total=total.item(), ce=ce.item(), kl=kl.item(), clone=clone_sum.item(),
                       clone_site={s: clone[s].item() for s in SITES})


def adamw_steps(tw, init, tokens):
    """Three AdamW steps in float32, as the C optimiser runs them; the loss
    parts after each."""
    p32 = {k: v.to(torch.float32).clone().requires_grad_(True) for k, v in init.items()}
    norms = [p32[k] for k in trainable_names() if "norm" in k]
    projs = [p32[k] for k in trainable_names() if "norm" not in k]
    opt = torch.optim.AdamW(
        [{"params": projs, "weight_decay": ADAMW["weight_decay"]},
         {"params": norms, "weight_decay": 0.0}],
        lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]), eps=ADAMW["eps"])
    after = []
    for _ in range(STEPS):
        opt.zero_grad()
        params = {k: v.to(torch.float64) for k, v in p32.items()}
        total, _ = lrc_loss(tw, params, tokens)
        total.backward()
        opt.step()
        with torch.no_grad():
            _, parts = lrc_loss(tw, {k: v.to(torch.float64) for k, v in p32.items()}, tokens)
        after.append(parts)
    return after


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/reference/data/lrc"
    os.makedirs(os.path.join(out, "teacher"), exist_ok=True)
    gen = torch.Generator().manual_seed(20261204)

    tw = make_teacher(gen)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": CFG["d"], "intermediate_size": CFG["I"],
        "num_hidden_layers": CFG["L"], "num_attention_heads": CFG["H"],
        "num_key_value_heads": CFG["Hkv"], "head_dim": CFG["h"], "vocab_size": CFG["V"],
        "max_position_embeddings": 64, "rms_norm_eps": CFG["eps"], "rope_theta": CFG["theta"],
        "tie_word_embeddings": False, "hidden_act": "silu", "bos_token_id": 0,
        "eos_token_id": 1, "torch_dtype": "float32",
    }
    with open(os.path.join(out, "teacher", "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_safetensors(os.path.join(out, "teacher", "model.safetensors"), list(tw.items()))

    init = make_init(gen)
    write_safetensors(os.path.join(out, "init.safetensors"), list(init.items()))
    tokens = torch.randint(0, CFG["V"], (B, T + 1), generator=gen)

    # Loss and gradients at init, computed in float64 from the float32 values.
    params = {k: v.clone().requires_grad_(True) for k, v in init.items()}
    total, before = lrc_loss(tw, params, tokens)
    total.backward()
    write_safetensors(os.path.join(out, "grads.safetensors"),
                      [(k, params[k].grad) for k in trainable_names()])

    after = adamw_steps(tw, init, tokens)

    expected = {
        "rank": RANK, "B": B, "T": T, "tie_head": True,
        "loss_config": LOSS, "adamw": dict(ADAMW, clip="none", schedule="constant"),
        "tokens": tokens.tolist(), "loss_before": before, "loss_after_steps": after,
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)

    # The fixture of tests/distill_cli.sh: CLI_TOKENS ids as a .u32 data file.
    # With --shuffle off, B = 2 and T = 8, row j of step k starts at token
    # (2k + j)·8 mod 16, so every step reads the same batch: ids[0..8] and
    # ids[8..15] followed by ids[0] (the window wraps). Drawn after everything
    # above, so the other outputs stay as they were.
    ids = torch.randint(0, CFG["V"], (CLI_TOKENS,), generator=gen)
    with open(os.path.join(out, "cli_data.u32"), "wb") as f:
        f.write(struct.pack("<%dI" % CLI_TOKENS, *ids.tolist()))
    cli_batch = torch.stack([ids[0:T + 1], torch.cat([ids[T:2 * T], ids[0:1]])])
    params = {k: v.clone() for k, v in init.items()}
    with torch.no_grad():
        _, cli_before = lrc_loss(tw, params, cli_batch)
    cli = {
        "rank": RANK, "B": B, "T": T, "loss_config": LOSS,
        "adamw": dict(ADAMW, clip="none", schedule="constant", warmup=0),
        "tokens": cli_batch.tolist(), "loss_before": cli_before,
        "loss_after_steps": adamw_steps(tw, init, cli_batch),
    }
    with open(os.path.join(out, "cli_expected.json"), "w") as f:
        json.dump(cli, f, indent=1)


if __name__ == "__main__":
    main()
