/*
 * A tiny random Llama-family teacher built in memory for the LRC tests, laid
 * out as the model loader lays one out: d = 16, H = 4, Hkv = 2, I = 24,
 * V = 32, two layers, with the head size, q/k/v biases, RoPE pairing and
 * tied head chosen per test. Weights come from a fixed-seed generator.
 */
#ifndef LRC_TESTS_TEST_LRC_TINY_H
#define LRC_TESTS_TEST_LRC_TINY_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tensor.h"
#include "model/llama.h"

static uint64_t rng_state = 0x1234abcdULL;

static double gauss(void) {
    uint64_t a, b;
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    a = rng_state >> 11;
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    b = rng_state >> 11;
    double u1 = ((double)a + 1.0) * 0x1p-53, u2 = (double)b * 0x1p-53;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static void fill(float *p, size_t n, double mean, double std) {
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(mean + std * gauss());
}

/* A random teacher in memory, laid out as the loader lays one out. */
static void make_teacher(llama_model *m, bool qwen2, int h, bool interleaved) {
    memset(m, 0, sizeof *m);
    llama_config *c = &m->cfg;
    snprintf(c->architecture, sizeof c->architecture, "%s",
             qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    snprintf(c->model_type, sizeof c->model_type, "%s", qwen2 ? "qwen2" : "llama");
    snprintf(c->rope_scaling_type, sizeof c->rope_scaling_type, "none");
    c->d = 16, c->H = 4, c->Hkv = 2, c->h = h, c->I = 24, c->V = 32, c->n_layers = 2;
    c->head_dim_explicit = true;
    c->max_seq = 64, c->norm_eps = 1e-5f, c->rope_theta = 10000.0f;
    c->rope_interleaved = interleaved;
    c->tied_embeddings = !qwen2;
    c->qkv_bias = qwen2;
    c->bos_id = c->eos_id = -1;

    size_t d = 16, qd = 4 * (size_t)h, kvd = 2 * (size_t)h, I = 24, V = 32;
    size_t per_layer = 2 * d + qd * d + 2 * kvd * d + qd + 2 * kvd + d * qd + 3 * I * d;
    m->arena_floats = 2 * V * d + 2 * per_layer + d;
    m->arena = tensor_alloc(m->arena_floats, "teacher", NULL);
    m->w.layers = calloc(2, sizeof *m->w.layers);
    float *p = m->arena;
#define TAKE(ptr, n, mean, std) (ptr = p, fill(p, n, mean, std), p += (n))
    TAKE(m->w.embed, V * d, 0.0, 1.0);
    for (int l = 0; l < 2; l++) {
        llama_layer *L = &m->w.layers[l];
        TAKE(L->attn_norm, d, 1.0, 0.1);
        TAKE(L->wq, qd * d, 0.0, 0.5);
        TAKE(L->wk, kvd * d, 0.0, 0.5);
        TAKE(L->wv, kvd * d, 0.0, 0.5);
        if (qwen2) {
            TAKE(L->bq, qd, 0.0, 0.2);
            TAKE(L->bk, kvd, 0.0, 0.2);
            TAKE(L->bv, kvd, 0.0, 0.2);
        }
        TAKE(L->wo, d * qd, 0.0, 0.5);
        TAKE(L->mlp_norm, d, 1.0, 0.1);
        TAKE(L->w_gate, I * d, 0.0, 0.5);
        TAKE(L->w_up, I * d, 0.0, 0.5);
        TAKE(L->w_down, d * I, 0.0, 0.4);
    }
    TAKE(m->w.final_norm, d, 1.0, 0.1);
    if (qwen2)
        TAKE(m->w.lm_head, V * d, 0.0, 0.5);
    else
        m->w.lm_head = m->w.embed;
#undef TAKE
}

static void free_teacher(llama_model *m) {
    tensor_free(m->arena);
    free(m->w.layers);
}

#endif
