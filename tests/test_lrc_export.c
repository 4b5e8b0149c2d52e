/*
 * LRC student files and initialisation:
 * - the merged student exported as a Hugging Face directory loads with
 *   llama_model_load, and llama_forward's logits equal the training-time
 *   student's within 1e-5 (an untied teacher from disk; a tied teacher with
 *   llama2.c's interleaved RoPE, whose q and k rows the export permutes;
 *   a Qwen2-style teacher with q/k/v biases);
 * - trainable tensors round-trip through lrc_export_params and lrc_import,
 *   and a missing or mis-shaped tensor is rejected with a one-line error
 *   naming the file and the tensor, leaving the parameters unchanged;
 * - lrc_init_random draws N(0, 0.02²) reproducibly from its seed;
 * - lrc_init_svd gives orthonormal projections along eigenvectors of the
 *   teacher weight's Gram matrix, in descending order, the first matching
 *   power iteration;
 * - lrc_copy_tokenizer_files copies the files that exist.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/forward.h"
#include "model/safetensors.h"
#include "tap.h"
#include "test_lrc_tiny.h"
#include "train/lrc.h"

static char tmpdir[] = "/tmp/lrc_export_XXXXXX";

static void rm_rf(const char *dir) {
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
}

/* Export s to a new folder, load it back and compare logits on tokens. */
static void check_export(const char *label, lrc_student *s, const int32_t *tokens) {
    lrc_error err;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, label);
    for (char *p = dir + strlen(tmpdir) + 1; *p; p++)
        if (*p == ' ' || *p == ',')
            *p = '_';
    mkdir(dir, 0755);

    if (lrc_forward(s, tokens, (size_t)s->T, &err) < 0 || lrc_export_hf(s, dir, &err) < 0) {
        ok(0, "%s: export: %s", label, err.msg);
        return;
    }
    llama_model m;
    if (!ok(llama_model_load(&m, dir, &err) == 0, "%s: exported student loads", label)) {
        diag("%s", err.msg);
        return;
    }
    ok(m.cfg.d == s->r && m.cfg.h == s->cfg.h && m.cfg.head_dim_explicit,
       "%s: config has hidden_size %d and head_dim %d", label, m.cfg.d, m.cfg.h);

    llama_state st;
    size_t T = (size_t)s->T, V = (size_t)s->cfg.V;
    float *logits = malloc(T * V * sizeof *logits);
    double worst = INFINITY;
    if (llama_state_init(&st, &m.cfg, (int)T, (int)T, &err) == 0 &&
        llama_forward(&m, &st, tokens, (int)T, 0, logits, true, &err) == 0) {
        worst = 0.0;
        for (size_t i = 0; i < T * V; i++)
            worst = fmax(worst, fabs(logits[i] - s->student_state.logits[i]));
        llama_state_free(&st);
    } else {
        diag("%s", err.msg);
    }
    ok(worst <= 1e-5, "%s: llama_forward logits equal the training student's", label);
    diag("  max |logit difference| %.3g", worst);
    free(logits);
    llama_model_free(&m);
}

static void export_in_memory(const char *label, bool qwen2, int h, bool interleaved) {
    llama_model teacher;
    make_teacher(&teacher, qwen2, h, interleaved);
    lrc_student s;
    lrc_error err;
    lrc_options opt = {.rank = 8, .tie_head = true, .B = 1, .T = 7};
    if (lrc_init(&s, &teacher, &opt, &err) < 0) {
        ok(0, "%s: lrc_init: %s", label, err.msg);
        free_teacher(&teacher);
        return;
    }
    for (size_t i = 0; i < s.n_tensors; i++) {
        const param_tensor *t = &s.tensors[i];
        fill(s.params + t->offset, t->numel, t->norm ? 1.0 : 0.0, t->norm ? 0.2 : 0.3);
    }
    int32_t tokens[7] = {3, 17, 31, 0, 9, 9, 22};
    check_export(label, &s, tokens);
    lrc_free(&s);
    free_teacher(&teacher);
}

/* Write s's tensors to path, leaving out tensor `skip` and writing tensor
 * `reshape` with its two dimensions swapped. */
static int write_variant(const lrc_student *s, const char *path, const char *skip,
                         const char *reshape) {
    safetensors_write_tensor w[64];
    size_t n = 0;
    for (size_t i = 0; i < s->n_tensors && n < 64; i++) {
        const param_tensor *t = &s->tensors[i];
        if (skip && strcmp(t->name, skip) == 0)
            continue;
        w[n].name = t->name;
        w[n].dtype = ST_F32;
        w[n].ndim = t->ndim;
        w[n].shape[0] = t->shape[0];
        w[n].shape[1] = t->shape[1];
        if (reshape && strcmp(t->name, reshape) == 0) {
            w[n].shape[0] = t->shape[1];
            w[n].shape[1] = t->shape[0];
        }
        w[n].data = s->params + t->offset;
        n++;
    }
    lrc_error err;
    return safetensors_write(path, w, n, NULL, &err);
}

static void check_import(lrc_student *s) {
    lrc_error err;
    char path[4200];
    float *saved = malloc(s->n_params * sizeof *saved);
    memcpy(saved, s->params, s->n_params * sizeof *saved);

    snprintf(path, sizeof path, "%s/params.safetensors", tmpdir);
    ok(lrc_export_params(s, path, &err) == 0, "trainable tensors export");
    memset(s->params, 0, s->n_params * sizeof *s->params);
    ok(lrc_import(s, path, &err) == 0 && memcmp(saved, s->params, s->n_params * sizeof *saved) == 0,
       "trainable tensors round-trip bit for bit");

    const char *name = "model.layers.1.mlp.zoom_up.weight";
    snprintf(path, sizeof path, "%s/missing.safetensors", tmpdir);
    write_variant(s, path, name, NULL);
    memset(s->params, 0, s->n_params * sizeof *s->params);
    int rc = lrc_import(s, path, &err);
    ok(rc < 0 && strstr(err.msg, path) && strstr(err.msg, name) && strstr(err.msg, "missing") &&
           !strchr(err.msg, '\n'),
       "missing tensor is a one-line error naming file and tensor");
    diag("  %s", err.msg);
    bool untouched = true;
    for (size_t i = 0; i < s->n_params; i++)
        untouched &= s->params[i] == 0.0f;
    ok(untouched, "failed import leaves the parameters unchanged");

    name = "model.layers.0.self_attn.zoom_q.weight";
    snprintf(path, sizeof path, "%s/shape.safetensors", tmpdir);
    write_variant(s, path, NULL, name);
    rc = lrc_import(s, path, &err);
    ok(rc < 0 && strstr(err.msg, path) && strstr(err.msg, name) && strstr(err.msg, "shape"),
       "mis-shaped tensor is a one-line error naming file and tensor");
    diag("  %s", err.msg);
    memcpy(s->params, saved, s->n_params * sizeof *saved);
    free(saved);
}

static void check_rank_errors(const llama_model *teacher) {
    lrc_student s;
    lrc_error err;
    int bad[] = {0, -3, teacher->cfg.d + 1};
    for (size_t i = 0; i < 3; i++) {
        lrc_options opt = {.rank = bad[i], .tie_head = true, .B = 1, .T = 4};
        ok(lrc_init(&s, teacher, &opt, &err) < 0 && strstr(err.msg, "rank"), "rank %d is rejected",
           bad[i]);
        diag("  %s", err.msg);
    }
}

static void check_random(lrc_student *s) {
    lrc_init_random(s, 42);
    double sum = 0.0, sq = 0.0;
    size_t n = 0;
    bool norms_one = true;
    for (size_t i = 0; i < s->n_tensors; i++) {
        const param_tensor *t = &s->tensors[i];
        for (size_t j = 0; j < t->numel; j++) {
            double v = s->params[t->offset + j];
            if (t->norm) {
                norms_one &= v == 1.0;
            } else {
                sum += v, sq += v * v;
                n++;
            }
        }
    }
    double mean = sum / (double)n, std = sqrt(sq / (double)n - mean * mean);
    /* n is several thousand, so the sample std is within a few percent. */
    ok_near(std, 0.02, 0.002, "random init: std %.4f over %zu values", std, n);
    ok_near(mean, 0.0, 0.002, "random init: mean near 0");
    ok(norms_one, "random init: norm weights are 1");
    float first = s->params[0];
    lrc_init_random(s, 42);
    ok(s->params[0] == first, "random init: same seed, same values");
    lrc_init_random(s, 43);
    ok(s->params[0] != first, "random init: another seed, other values");
}

/*
 * Check that the rows of P (r, n) are orthonormal eigenvectors of
 * G = WᵀW (W (m, n)) with descending eigenvalues, the first equal to the
 * largest eigenvalue found by power iteration. With left = true the rows
 * must be eigenvectors of W·Wᵀ instead (W (n, m) then).
 */
static void check_svd_projection(const char *what, const float *P, const float *W, size_t m,
                                 size_t n, size_t r, bool left) {
    double *G = calloc(n * n, sizeof *G);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            double acc = 0.0;
            for (size_t k = 0; k < m; k++)
                acc += left ? (double)W[a * m + k] * W[b * m + k]
                            : (double)W[k * n + a] * W[k * n + b];
            G[a * n + b] = acc;
        }

    double ortho = 0.0, resid = 0.0, prev = INFINITY, scale = 0.0;
    bool descending = true;
    double *gp = malloc(n * sizeof *gp);
    for (size_t i = 0; i < r; i++) {
        const float *p = P + i * n;
        for (size_t j = 0; j < r; j++) {
            double dot = 0.0;
            for (size_t k = 0; k < n; k++)
                dot += (double)p[k] * P[j * n + k];
            ortho = fmax(ortho, fabs(dot - (i == j)));
        }
        double lambda = 0.0;
        for (size_t a = 0; a < n; a++) {
            gp[a] = 0.0;
            for (size_t b = 0; b < n; b++)
                gp[a] += G[a * n + b] * p[b];
            lambda += p[a] * gp[a];
        }
        if (i == 0)
            scale = lambda;
        for (size_t a = 0; a < n; a++)
            resid = fmax(resid, fabs(gp[a] - lambda * p[a]));
        if (i > 0) /* null-space eigenvalues are 0 up to rounding */
            descending &= lambda <= prev + 1e-5 * scale;
        prev = lambda;
    }

    /* Power iteration for the largest eigenvalue. */
    double *x = malloc(n * sizeof *x), top = 0.0;
    for (size_t a = 0; a < n; a++)
        x[a] = 1.0 + 0.01 * (double)a;
    for (int it = 0; it < 2000; it++) {
        double norm = 0.0;
        for (size_t a = 0; a < n; a++) {
            gp[a] = 0.0;
            for (size_t b = 0; b < n; b++)
                gp[a] += G[a * n + b] * x[b];
            norm += gp[a] * gp[a];
        }
        norm = sqrt(norm);
        top = norm;
        for (size_t a = 0; a < n; a++)
            x[a] = gp[a] / norm;
    }
    ok(ortho <= 1e-5 && resid <= 1e-4 * scale && descending && fabs(scale - top) <= 1e-4 * top,
       "svd init: %s is orthonormal along leading eigenvectors", what);
    if (!(ortho <= 1e-5 && resid <= 1e-4 * scale && descending && fabs(scale - top) <= 1e-4 * top))
        diag("orthogonality %.3g, residual %.3g of %.3g, descending %d, top %.6g vs %.6g", ortho,
             resid, scale, descending, scale, top);
    free(G);
    free(gp);
    free(x);
}

static void check_svd(void) {
    llama_model teacher;
    make_teacher(&teacher, true, 6, false);
    lrc_student s;
    lrc_error err;
    /* Rank 14 exceeds k's and v's Hkv·h = 12 rows, so null-space directions
     * complete those projections. */
    lrc_options opt = {.rank = 14, .tie_head = false, .B = 1, .T = 2};
    if (lrc_init(&s, &teacher, &opt, &err) < 0 || lrc_init_svd(&s, &err) < 0) {
        ok(0, "svd init: %s", err.msg);
        free_teacher(&teacher);
        return;
    }
    size_t d = 16, r = 14, V = 32, I = 24, qd = 24, kvd = 12;
    const llama_layer *t = &teacher.w.layers[1];
    const lrc_layer_params *p = &s.layer[1];
    float *At = malloc(d * r * sizeof *At);

    check_svd_projection("Z from the embedding", s.zoom, teacher.w.embed, V, d, r, false);
    check_svd_projection("Z_h from the LM head", s.zoom_head, teacher.w.lm_head, V, d, r, false);
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < r; j++)
            At[j * d + i] = p->zoom_q[i * r + j];
    check_svd_projection("A_q from W_q", At, t->wq, qd, d, r, false);
    check_svd_projection("G_up from W_up", p->zoom_up, t->w_up, I, d, r, false);
    check_svd_projection("B_o from W_o", p->zoom_o, t->wo, qd, d, r, true);
    check_svd_projection("D from W_down", p->zoom_down, t->w_down, I, d, r, true);

    /* k: only its first 12 directions have non-zero eigenvalues. */
    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < r; j++)
            At[j * d + i] = p->zoom_k[i * r + j];
    check_svd_projection("A_k from W_k (rank above its rows)", At, t->wk, kvd, d, r, false);
    ok(s.layer[0].attn_norm[0] == 1.0f && s.final_norm[r - 1] == 1.0f,
       "svd init: norm weights are 1");
    free(At);
    lrc_free(&s);
    free_teacher(&teacher);
}

static void check_tokenizer_copy(void) {
    char src[4200], dst[4200], path[4300];
    snprintf(src, sizeof src, "%s/teacher_dir", tmpdir);
    snprintf(dst, sizeof dst, "%s/student_dir", tmpdir);
    mkdir(src, 0755);
    mkdir(dst, 0755);
    const char *present[] = {"tokenizer.json", "generation_config.json"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", src, present[i]);
        FILE *fp = fopen(path, "w");
        fprintf(fp, "{\"file\": %d}\n", i);
        fclose(fp);
    }
    lrc_error err;
    ok(lrc_copy_tokenizer_files(src, dst, &err) == 0, "tokenizer files copy");
    snprintf(path, sizeof path, "%s/tokenizer.json", dst);
    ok(access(path, R_OK) == 0, "tokenizer.json copied");
    snprintf(path, sizeof path, "%s/generation_config.json", dst);
    ok(access(path, R_OK) == 0, "generation_config.json copied");
    snprintf(path, sizeof path, "%s/tokenizer.model", dst);
    ok(access(path, F_OK) != 0, "absent tokenizer.model is skipped");
}

int main(void) {
    if (!mkdtemp(tmpdir))
        skip_all("cannot create a temporary folder");

    /* The golden fixture's untied teacher, with its init file. */
    const char *base = getenv("LRC_TESTDATA");
    char path[4200];
    snprintf(path, sizeof path, "%s/reference/data/lrc/teacher", base ? base : "tests");
    llama_model teacher;
    lrc_error err;
    if (llama_model_load(&teacher, path, &err) == 0) {
        lrc_student s;
        lrc_options opt = {.rank = 12, .tie_head = true, .B = 1, .T = 8};
        snprintf(path, sizeof path, "%s/reference/data/lrc/init.safetensors",
                 base ? base : "tests");
        if (lrc_init(&s, &teacher, &opt, &err) == 0 && lrc_import(&s, path, &err) == 0) {
            int32_t tokens[8] = {5, 60, 1, 33, 33, 12, 0, 47};
            check_export("untied llama from disk", &s, tokens);
            check_rank_errors(&teacher);
            check_import(&s);
            check_random(&s);
            lrc_free(&s);
        } else {
            ok(0, "fixture student: %s", err.msg);
        }
        llama_model_free(&teacher);
    } else {
        ok(0, "fixture teacher loads: %s", err.msg);
    }

    export_in_memory("tied llama, interleaved RoPE", false, 4, true);
    export_in_memory("qwen2 with biases, head_dim 6", true, 6, false);
    check_svd();
    check_tokenizer_copy();

    rm_rf(tmpdir);
    return done_testing();
}
