/*
 * llama_model_load round trips: small random models written as safetensors
 * (F32, F16, BF16; one file and sharded; tied and untied; with and without
 * biases) and as llama2.c .bin files (legacy and version 1) must load with
 * the config's shapes and every weight equal to the value written. The
 * expected values come from tests/model_fixture.h, which computes F16/BF16
 * values from their bit patterns independently of the loader.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/llama.h"
#include "model/model_load.h"
#include "model_fixture.h"
#include "tap.h"

static char tmp_root[256];

static void remove_tree(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
}

/* Count of elements that differ between got and the fixture tensor name. */
static size_t mismatches(const fixture *fx, const char *name, const float *got) {
    const fixture_tensor *t = fixture_find(fx, name);
    if (!t || !got)
        return (size_t)-1;
    size_t bad = 0;
    for (size_t i = 0; i < t->numel; i++)
        bad += memcmp(&t->values[i], &got[i], sizeof(float)) != 0;
    return bad;
}

/* Every weight pointer of m against the fixture; returns the number of
 * tensors that differ. */
static int compare_model(const fixture *fx, const llama_model *m, int qkv_bias, int o_bias) {
    int bad = 0;
    char name[128];
    bad += mismatches(fx, "model.embed_tokens.weight", m->w.embed) != 0;
    bad += mismatches(fx, "model.norm.weight", m->w.final_norm) != 0;
    if (m->cfg.tied_embeddings)
        bad += m->w.lm_head != m->w.embed;
    else
        bad += mismatches(fx, "lm_head.weight", m->w.lm_head) != 0;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        const llama_layer *L = &m->w.layers[l];
        const struct {
            const char *fmt;
            const float *p;
        } items[] = {
            {"model.layers.%d.input_layernorm.weight", L->attn_norm},
            {"model.layers.%d.self_attn.q_proj.weight", L->wq},
            {"model.layers.%d.self_attn.k_proj.weight", L->wk},
            {"model.layers.%d.self_attn.v_proj.weight", L->wv},
            {"model.layers.%d.self_attn.o_proj.weight", L->wo},
            {"model.layers.%d.post_attention_layernorm.weight", L->mlp_norm},
            {"model.layers.%d.mlp.gate_proj.weight", L->w_gate},
            {"model.layers.%d.mlp.up_proj.weight", L->w_up},
            {"model.layers.%d.mlp.down_proj.weight", L->w_down},
            {"model.layers.%d.self_attn.q_proj.bias", qkv_bias ? L->bq : NULL},
            {"model.layers.%d.self_attn.k_proj.bias", qkv_bias ? L->bk : NULL},
            {"model.layers.%d.self_attn.v_proj.bias", qkv_bias ? L->bv : NULL},
            {"model.layers.%d.self_attn.o_proj.bias", o_bias ? L->bo : NULL},
        };
        for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
            snprintf(name, sizeof name, items[i].fmt, l);
            if (!fixture_find(fx, name)) {
                bad += items[i].p != NULL; /* absent in the file: must be NULL */
                continue;
            }
            size_t n = mismatches(fx, name, items[i].p);
            if (n) {
                diag("%s: %zu values differ", name, n);
                bad++;
            }
        }
        if (!qkv_bias)
            bad += L->bq != NULL || L->bk != NULL || L->bv != NULL;
        if (!o_bias)
            bad += L->bo != NULL;
    }
    return bad;
}

/* Parameter count from the fixture's own tensor list. */
static size_t fixture_params(const fixture *fx) {
    size_t n = 0;
    for (size_t i = 0; i < fx->n; i++)
        n += fx->t[i].numel;
    return n;
}

static void round_trip(const char *label, fixture_spec s) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", tmp_root, label);
    mkdir(dir, 0700);
    fixture fx;
    if (fixture_write_model(dir, &fx, &s) != 0) {
        ok(0, "%s: fixture written", label);
        return;
    }

    llama_model m;
    lrc_error err = {{0}};
    int rc = llama_model_load(&m, dir, &err);
    if (!ok(rc == 0, "%s: loads", label)) {
        diag("%s", err.msg);
        fixture_free(&fx);
        return;
    }
    int qwen = strcmp(s.model_type, "qwen2") == 0;
    int qkv_bias = qwen || s.attention_bias, o_bias = !qwen && s.attention_bias;
    ok(strcmp(m.cfg.architecture, s.arch) == 0 && m.cfg.d == s.d && m.cfg.n_layers == s.L &&
           m.cfg.H == s.H && m.cfg.Hkv == s.Hkv && m.cfg.h == s.h && m.cfg.I == s.I &&
           m.cfg.V == s.V && m.cfg.max_seq == s.max_seq,
       "%s: config sizes", label);
    ok(m.cfg.tied_embeddings == (s.tied != 0) && m.cfg.qkv_bias == (qkv_bias != 0) &&
           m.cfg.o_bias == (o_bias != 0),
       "%s: tied and bias flags", label);
    ok(m.cfg.rope_theta == 500000.0f && m.cfg.norm_eps == 1e-5f && !m.cfg.rope_interleaved &&
           m.cfg.bos_id == 1 && m.cfg.eos_id == 2 && m.cfg.n_eos_ids == 2 && m.cfg.eos_ids[1] == 7,
       "%s: rope theta, eps, bos, eos list", label);
    ok(m.arena_floats == fixture_params(&fx), "%s: arena holds %zu floats (fixture: %zu)", label,
       m.arena_floats, fixture_params(&fx));
    ok(llama_config_param_count(&m.cfg) == fixture_params(&fx) &&
           llama_model_weight_bytes(&m.cfg) == 4 * fixture_params(&fx),
       "%s: param count and weight bytes", label);
    ok(compare_model(&fx, &m, qkv_bias, o_bias) == 0, "%s: every weight equals the value written",
       label);
    llama_model_free(&m);
    fixture_free(&fx);
}

/* ---- llama2.c -------------------------------------------------------------- */

static void put_floats(FILE *fp, const float *x, size_t n) {
    fwrite(x, sizeof(float), n, fp);
}

static float *rand_floats(size_t n) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = fixture_value(ST_F32);
    return x;
}

/*
 * Write a llama2.c file by hand (version 0 = legacy or 1) with d=16, H=4,
 * Hkv=2, L=2, I=24, V=11, seq=8 and check every weight after loading.
 */
static void llama2c_case(int version, int shared) {
    const int d = 16, H = 4, Hkv = 2, L = 2, I = 24, V = 11, seq = 8, h = d / H;
    const int kv = Hkv * h;
    char path[512], label[64];
    snprintf(label, sizeof label, "llama2.c v%d %s", version, shared ? "shared" : "untied");
    snprintf(path, sizeof path, "%s/l2c_v%d_%d.bin", tmp_root, version, shared);

    float *emb = rand_floats((size_t)V * d), *cls = rand_floats((size_t)V * d);
    float *rms_att = rand_floats((size_t)L * d), *rms_ffn = rand_floats((size_t)L * d);
    float *wq = rand_floats((size_t)L * d * d), *wk = rand_floats((size_t)L * kv * d);
    float *wv = rand_floats((size_t)L * kv * d), *wo = rand_floats((size_t)L * d * d);
    float *w1 = rand_floats((size_t)L * I * d), *w2 = rand_floats((size_t)L * d * I);
    float *w3 = rand_floats((size_t)L * I * d), *rms_final = rand_floats((size_t)d);
    float *freqs = rand_floats((size_t)seq * h);

    FILE *fp = fopen(path, "wb");
    if (version == 0) {
        int32_t hdr[7] = {d, I, L, H, Hkv, shared ? V : -V, seq};
        fwrite(hdr, sizeof hdr, 1, fp);
        put_floats(fp, emb, (size_t)V * d);
        put_floats(fp, rms_att, (size_t)L * d);
        put_floats(fp, wq, (size_t)L * d * d);
        put_floats(fp, wk, (size_t)L * kv * d);
        put_floats(fp, wv, (size_t)L * kv * d);
        put_floats(fp, wo, (size_t)L * d * d);
        put_floats(fp, rms_ffn, (size_t)L * d);
        put_floats(fp, w1, (size_t)L * I * d);
        put_floats(fp, w2, (size_t)L * d * I);
        put_floats(fp, w3, (size_t)L * I * d);
        put_floats(fp, rms_final, (size_t)d);
        put_floats(fp, freqs, (size_t)seq * h); /* freq_cis_real and _imag: seq x h/2 each */
    } else {
        uint8_t hdr[256] = {0};
        uint32_t magic = 0x616b3432;
        int32_t ver = 1, params[7] = {d, I, L, H, Hkv, V, seq};
        memcpy(hdr, &magic, 4);
        memcpy(hdr + 4, &ver, 4);
        memcpy(hdr + 8, params, sizeof params);
        hdr[36] = (uint8_t)shared;
        fwrite(hdr, 1, sizeof hdr, fp);
        put_floats(fp, rms_att, (size_t)L * d);
        put_floats(fp, rms_ffn, (size_t)L * d);
        put_floats(fp, rms_final, (size_t)d);
        put_floats(fp, emb, (size_t)V * d);
        put_floats(fp, wq, (size_t)L * d * d);
        put_floats(fp, wk, (size_t)L * kv * d);
        put_floats(fp, wv, (size_t)L * kv * d);
        put_floats(fp, wo, (size_t)L * d * d);
        put_floats(fp, w1, (size_t)L * I * d);
        put_floats(fp, w2, (size_t)L * d * I);
        put_floats(fp, w3, (size_t)L * I * d);
    }
    if (!shared)
        put_floats(fp, cls, (size_t)V * d);
    fclose(fp);

    llama_model m;
    lrc_error err = {{0}};
    int rc = llama_model_load(&m, path, &err);
    if (ok(rc == 0, "%s: loads", label)) {
        const llama_config *c = &m.cfg;
        ok(c->d == d && c->I == I && c->n_layers == L && c->H == H && c->Hkv == Hkv && c->V == V &&
               c->max_seq == seq && c->h == h,
           "%s: header sizes", label);
        ok(c->rope_interleaved && c->norm_eps == 1e-5f && c->rope_theta == 10000.0f &&
               strcmp(c->architecture, "llama2.c") == 0 && c->tied_embeddings == (shared != 0) &&
               !c->qkv_bias,
           "%s: llama2.c conventions", label);
        int bad = 0;
        bad += memcmp(m.w.embed, emb, sizeof(float) * V * d) != 0;
        bad += memcmp(m.w.final_norm, rms_final, sizeof(float) * d) != 0;
        bad += memcmp(m.w.lm_head, shared ? emb : cls, sizeof(float) * V * d) != 0;
        for (int l = 0; l < L; l++) {
            const llama_layer *y = &m.w.layers[l];
            bad += memcmp(y->attn_norm, rms_att + l * d, sizeof(float) * d) != 0;
            bad += memcmp(y->mlp_norm, rms_ffn + l * d, sizeof(float) * d) != 0;
            bad += memcmp(y->wq, wq + (size_t)l * d * d, sizeof(float) * d * d) != 0;
            bad += memcmp(y->wk, wk + (size_t)l * kv * d, sizeof(float) * kv * d) != 0;
            bad += memcmp(y->wv, wv + (size_t)l * kv * d, sizeof(float) * kv * d) != 0;
            bad += memcmp(y->wo, wo + (size_t)l * d * d, sizeof(float) * d * d) != 0;
            bad += memcmp(y->w_gate, w1 + (size_t)l * I * d, sizeof(float) * I * d) != 0;
            bad += memcmp(y->w_down, w2 + (size_t)l * d * I, sizeof(float) * d * I) != 0;
            bad += memcmp(y->w_up, w3 + (size_t)l * I * d, sizeof(float) * I * d) != 0;
            bad += y->bq != NULL || y->bo != NULL;
        }
        ok(bad == 0, "%s: every weight equals the value written (%d differ)", label, bad);
        ok(m.arena_floats == llama_config_param_count(&m.cfg), "%s: arena size", label);
        llama_model_free(&m);
    } else {
        diag("%s", err.msg);
    }
    float *all[] = {emb, cls, rms_att, rms_ffn, wq, wk, wv, wo, w1, w2, w3, rms_final, freqs};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/lrc-test-model-load-XXXXXX");
    if (!mkdtemp(tmp_root))
        skip_all("cannot create a temporary folder");
    setenv("LRC_MEMORY_LIMIT", "1G", 1);

    fixture_spec llama = {.arch = "LlamaForCausalLM",
                          .model_type = "llama",
                          .d = 16,
                          .L = 2,
                          .H = 4,
                          .Hkv = 4,
                          .h = 4,
                          .I = 40,
                          .V = 37,
                          .max_seq = 64,
                          .dtype = ST_F32};
    round_trip("llama-f32-single-untied", llama);

    fixture_spec s = llama;
    s.dtype = ST_F16;
    s.tied = 1;
    s.Hkv = 2;
    round_trip("llama-f16-single-tied-gqa", s);

    s = llama;
    s.dtype = ST_BF16;
    s.shards = 3;
    s.attention_bias = 1;
    round_trip("llama-bf16-sharded-untied-bias", s);

    s = llama;
    s.arch = "Qwen2ForCausalLM";
    s.model_type = "qwen2";
    s.dtype = ST_BF16;
    s.tied = 1;
    s.Hkv = 1;
    s.shards = 2;
    round_trip("qwen2-bf16-sharded-tied", s);

    s = llama;
    s.arch = "Qwen2ForCausalLM";
    s.model_type = "qwen2";
    s.dtype = ST_F16;
    round_trip("qwen2-f16-single-untied", s);

    /* A low-rank student: head_dim stays 8 while hidden_size drops to 12. */
    s = llama;
    s.arch = "MistralForCausalLM";
    s.model_type = "mistral";
    s.d = 12;
    s.h = 8;
    s.Hkv = 2;
    s.head_dim_in_config = 1;
    s.shards = 2;
    round_trip("mistral-f32-sharded-head-dim", s);

    llama2c_case(0, 1);
    llama2c_case(0, 0);
    llama2c_case(1, 1);
    llama2c_case(1, 0);

    remove_tree(tmp_root);
    return done_testing();
}
