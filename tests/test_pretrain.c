/*
 * Tests of the full-model pretraining step (src/train/pretrain.c):
 * - the gradient of every weight tensor against central differences of the
 *   loss, on a sample of elements each, for four tiny configs (d 16, 2
 *   layers, H 4, Hkv 2, I 24, V 32, B 2, T 5): tied and untied embeddings,
 *   without biases, with q/k/v biases (Qwen2) and with q/k/v and o_proj
 *   biases (Llama's attention_bias);
 * - the loss at the seeded initialisation is near log(V), since logits of
 *   std about 0.02·|x| give a nearly uniform softmax;
 * - the exported Hugging Face directory loads with llama_model_load, and
 *   llama_forward (the inference path, a separate implementation) gives the
 *   training-time logits within 1e-5.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/forward.h"
#include "model/llama.h"
#include "tap.h"
#include "train/pretrain.h"

enum { B = 2, T = 5 };

static llama_config tiny_config(bool tied, bool qkv_bias, bool o_bias) {
    llama_config c;
    memset(&c, 0, sizeof c);
    /* Llama's attention_bias gives q, k, v and o biases together; Qwen2 has
     * q/k/v biases alone. */
    bool qwen2 = qkv_bias && !o_bias;
    snprintf(c.architecture, sizeof c.architecture,
             qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    snprintf(c.model_type, sizeof c.model_type, qwen2 ? "qwen2" : "llama");
    snprintf(c.rope_scaling_type, sizeof c.rope_scaling_type, "none");
    c.d = 16;
    c.n_layers = 2;
    c.H = 4;
    c.Hkv = 2;
    c.h = 4;
    c.I = 24;
    c.V = 32;
    c.max_seq = 64;
    c.norm_eps = 1e-5f;
    c.rope_theta = 10000.0f;
    c.tied_embeddings = tied;
    c.qkv_bias = qkv_bias;
    c.o_bias = o_bias;
    c.bos_id = c.eos_id = -1;
    return c;
}

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static double rng_sym(uint64_t *s) {
    return (double)(rng_next(s) >> 11) * 0x1p-52 - 1.0;
}

/* Weights large enough that every path carries a visible gradient:
 * matrices U(-0.5, 0.5), norms 1 ± 0.3, biases ± 0.2. */
static void randomise(pretrain_model *m, uint64_t seed) {
    for (size_t i = 0; i < m->n_tensors; i++) {
        const param_tensor *t = &m->tensors[i];
        float *p = m->params + t->offset;
        double scale = 0.5;
        if (t->norm)
            scale = 0.3;
        else if (t->ndim == 1)
            scale = 0.2;
        for (size_t j = 0; j < t->numel; j++)
            p[j] = (float)((t->norm ? 1.0 : 0.0) + scale * rng_sym(&seed));
    }
}

static void random_tokens(int32_t *tokens, size_t n, int V, uint64_t seed) {
    for (size_t i = 0; i < n; i++)
        tokens[i] = (int32_t)(rng_next(&seed) % (uint64_t)V);
}

static double loss_at(pretrain_model *m, const int32_t *tokens) {
    double loss;
    lrc_error err;
    if (pretrain_loss(m, tokens, &loss, NULL, &err) < 0) {
        diag("forward failed: %s", err.msg);
        return NAN;
    }
    return loss;
}

/*
 * Up to 8 elements of every tensor (the largest-gradient one among them):
 * central differences with ε = 1e-3 of a loss summed in double over float32
 * activations. Rounding (about 1e-7 of the loss, divided by 2ε) and the
 * O(ε²) term stay below 2e-3·max|g| + 1e-4·|L|, while a missing path or a
 * wrong factor exceeds it.
 */
static void check_gradients(const char *label, pretrain_model *m, const int32_t *tokens) {
    const double eps = 1e-3;
    lrc_error err;
    double L0;
    if (pretrain_loss_and_grad(m, tokens, &L0, &err) < 0) {
        ok(0, "%s: loss and gradient: %s", label, err.msg);
        return;
    }
    float *grad = malloc(m->n_params * sizeof *grad);
    memcpy(grad, m->grads, m->n_params * sizeof *grad);

    for (size_t i = 0; i < m->n_tensors; i++) {
        const param_tensor *t = &m->tensors[i];
        const float *g = grad + t->offset;
        size_t idx[8], n_idx = 0, argmax = 0;
        double gmax = 0.0;
        for (size_t j = 0; j < t->numel; j++)
            if (fabs(g[j]) > gmax)
                gmax = fabs(g[j]), argmax = j;
        idx[n_idx++] = argmax;
        for (size_t k = 1; k < 8 && k < t->numel; k++)
            idx[n_idx++] = (k * 7919 + 13 * i) % t->numel;

        double worst = 0.0, worst_fd = 0.0, worst_g = 0.0;
        for (size_t k = 0; k < n_idx; k++) {
            float *p = m->params + t->offset + idx[k];
            float keep = *p;
            *p = keep + (float)eps;
            double up = loss_at(m, tokens);
            *p = keep - (float)eps;
            double down = loss_at(m, tokens);
            *p = keep;
            double fd = (up - down) / (2 * eps);
            double diff = fabs(fd - g[idx[k]]);
            if (!(diff <= worst)) {
                worst = diff;
                worst_fd = fd;
                worst_g = g[idx[k]];
            }
        }
        double tol = 2e-3 * gmax + 1e-4 * fabs(L0);
        if (!ok(worst <= tol && gmax > 0, "%s: gradient of %s matches finite differences", label,
                t->name))
            diag("worst: analytic %.6g, finite difference %.6g (tolerance %.3g, max |g| %.3g)",
                 worst_g, worst_fd, tol, gmax);
    }
    free(grad);
}

/* Loss at the seeded init, then export and compare the inference logits. */
static void check_init_and_export(const char *label, const llama_config *cfg) {
    pretrain_model m;
    lrc_error err;
    if (pretrain_init(&m, cfg, B, T, &err) < 0) {
        ok(0, "%s: init: %s", label, err.msg);
        return;
    }
    int32_t tokens[B * (T + 1)];
    random_tokens(tokens, B * (T + 1), cfg->V, 99);

    pretrain_init_random(&m, 7, true);
    double loss, top1;
    if (pretrain_loss(&m, tokens, &loss, &top1, &err) < 0)
        diag("%s", err.msg);
    ok_near(loss, log((double)cfg->V), 0.02, "%s: loss at the seeded init is log(V)", label);

    /* A trained-looking model, so that the logits differ visibly. */
    randomise(&m, 1234);
    pretrain_loss(&m, tokens, &loss, NULL, &err);

    char dir[] = "/tmp/test_pretrain.XXXXXX";
    if (!mkdtemp(dir)) {
        ok(0, "%s: temporary folder", label);
        pretrain_free(&m);
        return;
    }
    llama_model lm;
    memset(&lm, 0, sizeof lm);
    llama_state st;
    memset(&st, 0, sizeof st);
    float *logits = malloc((size_t)T * (size_t)cfg->V * sizeof *logits);
    int rc = pretrain_export_hf(&m, dir, &err);
    if (rc == 0)
        rc = llama_model_load(&lm, dir, &err);
    if (rc == 0)
        rc = llama_state_init(&st, &lm.cfg, T, T, &err);
    ok(rc == 0, "%s: the exported folder loads with llama_model_load", label);
    if (rc < 0)
        diag("%s", err.msg);

    if (rc == 0) {
        ok(lm.cfg.tied_embeddings == cfg->tied_embeddings && lm.cfg.qkv_bias == cfg->qkv_bias &&
               lm.cfg.d == cfg->d && lm.cfg.V == cfg->V && lm.cfg.Hkv == cfg->Hkv,
           "%s: the exported config.json reads back the same shape", label);
        double worst = 0.0, largest = 0.0;
        for (int b = 0; b < B && rc == 0; b++) {
            llama_state_free(&st);
            rc = llama_state_init(&st, &lm.cfg, T, T, &err);
            if (rc == 0)
                rc = llama_forward(&lm, &st, tokens + b * (T + 1), T, 0, logits, true, &err);
            for (size_t i = 0; rc == 0 && i < (size_t)T * (size_t)cfg->V; i++) {
                double diff = fabs((double)logits[i] - m.st.logits[(size_t)b * T * cfg->V + i]);
                if (diff > worst)
                    worst = diff;
                if (fabs((double)logits[i]) > largest)
                    largest = fabs((double)logits[i]);
            }
        }
        if (rc < 0)
            diag("%s", err.msg);
        ok(rc == 0 && worst <= 1e-5 && largest > 0.1,
           "%s: llama_forward logits equal the training logits (worst difference %.2g, "
           "largest logit %.3g)",
           label, worst, largest);
    }

    llama_state_free(&st);
    llama_model_free(&lm);
    free(logits);
    char path[256];
    snprintf(path, sizeof path, "%s/config.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    unlink(path);
    rmdir(dir);
    pretrain_free(&m);
}

static void check_config(const char *label, bool tied, bool qkv_bias, bool o_bias) {
    llama_config cfg = tiny_config(tied, qkv_bias, o_bias);
    pretrain_model m;
    lrc_error err;
    if (pretrain_init(&m, &cfg, B, T, &err) < 0) {
        ok(0, "%s: init: %s", label, err.msg);
        return;
    }
    size_t want = llama_config_param_count(&cfg);
    if (!ok(m.n_params == want || o_bias, "%s: %zu parameters, as the config implies", label,
            m.n_params))
        diag("llama_config_param_count gives %zu", want);
    ok((param_find_tensor(m.tensors, m.n_tensors, "lm_head.weight") == NULL) == tied &&
           (param_find_tensor(m.tensors, m.n_tensors, "model.layers.1.self_attn.k_proj.bias") !=
            NULL) == qkv_bias,
       "%s: the tensor table has lm_head and biases exactly when the config does", label);

    int32_t tokens[B * (T + 1)];
    random_tokens(tokens, B * (T + 1), cfg.V, 42);
    randomise(&m, 5);
    check_gradients(label, &m, tokens);
    pretrain_free(&m);

    check_init_and_export(label, &cfg);
}

int main(void) {
    check_config("tied", true, false, false);
    check_config("untied", false, false, false);
    check_config("tied, q/k/v biases (qwen2)", true, true, false);
    check_config("untied, q/k/v and o biases (llama)", false, true, true);

    /* A target outside the vocabulary is an error, not a read past the logits. */
    llama_config cfg = tiny_config(true, false, false);
    pretrain_model m;
    lrc_error err;
    if (pretrain_init(&m, &cfg, B, T, &err) == 0) {
        int32_t tokens[B * (T + 1)];
        random_tokens(tokens, B * (T + 1), cfg.V, 3);
        tokens[3] = cfg.V;
        double loss;
        ok(pretrain_loss_and_grad(&m, tokens, &loss, &err) < 0 && strstr(err.msg, "target"),
           "a target outside the vocabulary is refused: %s", err.msg);
        pretrain_free(&m);
    }
    return done_testing();
}
