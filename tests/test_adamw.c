/*
 * Unit tests of src/train/adamw: AdamW trajectories against
 * torch.optim.AdamW (the fixture tests/reference/data/adamw_torch.json, made
 * by tests/reference/gen_adamw.py), one step against its closed form, the
 * decay mask, configuration errors, and clip_grad_norm against hand-worked
 * vectors and torch.nn.utils.clip_grad_norm_.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "train/adamw.h"

#define MAX_PARAMS 16

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long len = ftell(f);
        if (len >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            buf = malloc((size_t)len + 1);
            if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
                buf[len] = '\0';
            } else {
                free(buf);
                buf = NULL;
            }
        }
    }
    fclose(f);
    return buf;
}

/* Copy a JSON array of numbers into out; returns its length or -1. */
static int json_floats(const cJSON *arr, float *out, int max) {
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n > max)
        return -1;
    for (int i = 0; i < n; i++) {
        const cJSON *x = cJSON_GetArrayItem(arr, i);
        if (!cJSON_IsNumber(x))
            return -1;
        out[i] = (float)x->valuedouble;
    }
    return n;
}

/* Copy a JSON array of numbers into out; returns its length or -1. */
static int json_doubles(const cJSON *arr, double *out, int max) {
    int n = cJSON_GetArraySize(arr);
    if (!cJSON_IsArray(arr) || n > max)
        return -1;
    for (int i = 0; i < n; i++) {
        const cJSON *x = cJSON_GetArrayItem(arr, i);
        if (!cJSON_IsNumber(x))
            return -1;
        out[i] = x->valuedouble;
    }
    return n;
}

static double json_number(const cJSON *obj, const char *key) {
    const cJSON *x = cJSON_GetObjectItem(obj, key);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* Largest |got − want| / max(1, |want|) over n values. */
static double max_rel_err(const float *got, const float *want, size_t n) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / fmax(1.0, fabs((double)want[i]));
        if (!(e <= worst))
            worst = e;
    }
    return worst;
}

/* Run one fixture case step by step; returns the worst error seen. */
static double check_case(const cJSON *c) {
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(c, "name"));
    float params[MAX_PARAMS], grads[MAX_PARAMS], want[MAX_PARAMS];
    double lrs[8];
    int n = json_floats(cJSON_GetObjectItem(c, "params"), params, MAX_PARAMS);
    int steps = json_doubles(cJSON_GetObjectItem(c, "lrs"), lrs, 8);
    if (!name || n <= 0 || steps <= 0) {
        ok(0, "fixture case has name, params and lrs");
        return INFINITY;
    }

    adamw_config cfg = {
        .beta1 = json_number(c, "beta1"),
        .beta2 = json_number(c, "beta2"),
        .eps = json_number(c, "eps"),
        .weight_decay = json_number(c, "weight_decay"),
    };
    lrc_error err;
    adamw opt;
    if (adamw_init(&opt, (size_t)n, &cfg, &err) < 0) {
        ok(0, "%s: adamw_init: %s", name, err.msg);
        return INFINITY;
    }
    const cJSON *idx;
    cJSON_ArrayForEach(idx, cJSON_GetObjectItem(c, "no_decay")) {
        if (adamw_set_decay(&opt, (size_t)idx->valueint, 1, false, &err) < 0)
            ok(0, "%s: adamw_set_decay: %s", name, err.msg);
    }

    double worst = 0.0;
    const cJSON *grad_rows = cJSON_GetObjectItem(c, "grads");
    const cJSON *want_rows = cJSON_GetObjectItem(c, "expected");
    for (int s = 0; s < steps; s++) {
        int ng = json_floats(cJSON_GetArrayItem(grad_rows, s), grads, MAX_PARAMS);
        int nw = json_floats(cJSON_GetArrayItem(want_rows, s), want, MAX_PARAMS);
        if (ng != n || nw != n) {
            ok(0, "%s step %d: fixture rows have %d values", name, s + 1, n);
            continue;
        }
        adamw_step(&opt, params, grads, lrs[s]);
        double e = max_rel_err(params, want, (size_t)n);
        ok(e <= 2e-6, "%s step %d matches torch.optim.AdamW (max rel err %.2g)", name, s + 1, e);
        worst = fmax(worst, e);
    }
    ok(opt.t == steps, "%s: step count is %d", name, steps);
    adamw_free(&opt);
    return worst;
}

static void test_torch_fixture(const cJSON *doc) {
    double worst = 0.0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(doc, "cases")) {
        worst = fmax(worst, check_case(c));
    }
    diag("max relative error against torch.optim.AdamW: %.3g", worst);

    const cJSON *clip = cJSON_GetObjectItem(doc, "clip");
    float g[MAX_PARAMS], want[MAX_PARAMS];
    int n = json_floats(cJSON_GetObjectItem(clip, "grads"), g, MAX_PARAMS);
    int nw = json_floats(cJSON_GetObjectItem(clip, "clipped"), want, MAX_PARAMS);
    if (n <= 0 || nw != n) {
        ok(0, "fixture clip case has grads and clipped of one length");
        return;
    }
    double norm = clip_grad_norm(g, (size_t)n, json_number(clip, "max_norm"));
    ok_near(norm, json_number(clip, "norm"), 1e-6, "clip_grad_norm norm matches torch");
    double e = max_rel_err(g, want, (size_t)n);
    ok(e <= 1e-6, "clip_grad_norm vector matches torch (max rel err %.2g)", e);
}

/* First step from m = v = 0: m̂ = g and v̂ = g², so
 * p1 = p0·(1 − lr·wd) − lr·g / (|g| + eps). */
static void test_first_step_closed_form(void) {
    adamw_config cfg = {.beta1 = 0.9, .beta2 = 0.99, .eps = 0.5, .weight_decay = 0.25};
    float p[3] = {2.0f, -1.0f, 0.5f};
    const float g[3] = {1.5f, -0.5f, 0.0f};
    const double lr = 0.125;
    lrc_error err;
    adamw opt;
    if (adamw_init(&opt, 3, &cfg, &err) < 0) {
        ok(0, "adamw_init: %s", err.msg);
        return;
    }
    adamw_step(&opt, p, g, lr);
    double keep = 1.0 - lr * 0.25;
    ok_near(p[0], 2.0 * keep - lr * 1.5 / (1.5 + 0.5), 1e-6, "first step, positive gradient");
    ok_near(p[1], -1.0 * keep - lr * -0.5 / (0.5 + 0.5), 1e-6, "first step, negative gradient");
    ok_near(p[2], 0.5 * keep, 1e-7, "first step, zero gradient only decays");
    ok_near(opt.m[0], 0.1 * 1.5, 1e-7, "first moment after one step");
    ok_near(opt.v[0], 0.01 * 2.25, 1e-7, "second moment after one step");

    adamw_reset(&opt);
    ok(opt.t == 0 && opt.m[0] == 0.0f && opt.v[1] == 0.0f, "adamw_reset zeroes state");
    adamw_free(&opt);
}

static void test_decay_mask(void) {
    adamw_config cfg = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.5};
    float p[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    const float g[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    lrc_error err;
    adamw opt;
    if (adamw_init(&opt, 4, &cfg, &err) < 0) {
        ok(0, "adamw_init: %s", err.msg);
        return;
    }
    ok(adamw_set_decay(&opt, 0, 4, true, &err) == 0 && opt.decay == NULL,
       "turning decay on everywhere needs no mask");
    ok(adamw_set_decay(&opt, 1, 2, false, &err) == 0, "mask parameters 1..2");
    ok(adamw_set_decay(&opt, 2, 1, true, &err) == 0, "unmask parameter 2");
    ok(adamw_set_decay(&opt, 3, 2, false, &err) < 0 && strstr(err.msg, "runs past"),
       "a mask range past the end is rejected");
    ok(adamw_set_decay(&opt, 5, 0, false, &err) < 0, "an offset past the end is rejected");

    adamw_step(&opt, p, g, 0.1f);
    ok_near(p[0], 0.95, 1e-7, "decayed parameter shrinks by lr·wd");
    ok(p[1] == 1.0f, "masked parameter keeps its value");
    ok_near(p[2], 0.95, 1e-7, "unmasked parameter decays again");
    ok_near(p[3], 0.95, 1e-7, "parameter after the mask decays");
    adamw_free(&opt);
}

static void test_config_errors(void) {
    lrc_error err;
    adamw opt;
    adamw_config cfg = adamw_config_default();
    ok(cfg.beta1 == 0.9 && cfg.beta2 == 0.999 && cfg.eps == 1e-8 && cfg.weight_decay == 0.01,
       "defaults are PyTorch's");

    cfg.beta1 = 1.0;
    ok(adamw_init(&opt, 4, &cfg, &err) < 0 && strstr(err.msg, "beta1"), "beta1 = 1 is rejected");
    cfg = adamw_config_default();
    cfg.beta2 = NAN;
    ok(adamw_init(&opt, 4, &cfg, &err) < 0 && strstr(err.msg, "beta2"), "beta2 NaN is rejected");
    cfg = adamw_config_default();
    cfg.eps = -1.0;
    ok(adamw_init(&opt, 4, &cfg, &err) < 0 && strstr(err.msg, "eps"), "negative eps is rejected");
    cfg = adamw_config_default();
    cfg.weight_decay = INFINITY;
    ok(adamw_init(&opt, 4, &cfg, &err) < 0 && strstr(err.msg, "weight_decay"),
       "infinite weight_decay is rejected");
    cfg = adamw_config_default();
    ok(adamw_init(&opt, 0, &cfg, &err) < 0, "zero parameters are rejected");
    adamw_free(&opt);
}

static void test_clip(void) {
    float g[2] = {3.0f, -4.0f};
    double norm = clip_grad_norm(g, 2, 1.0);
    ok_near(norm, 5.0, 1e-12, "norm of (3, -4) is returned before clipping");
    ok_near(g[0], 3.0 / (5.0 + 1e-6), 1e-7, "clipped x = 3 / (5 + 1e-6)");
    ok_near(g[1], -4.0 / (5.0 + 1e-6), 1e-7, "clipped y = -4 / (5 + 1e-6)");
    ok_near(sqrt((double)g[0] * g[0] + (double)g[1] * g[1]), 1.0, 1e-6, "clipped norm is max_norm");

    float h[3] = {1.0f, 2.0f, 2.0f};
    norm = clip_grad_norm(h, 3, 10.0);
    ok(norm == 3.0 && h[0] == 1.0f && h[1] == 2.0f && h[2] == 2.0f,
       "norm below max_norm leaves the gradient alone");
    norm = clip_grad_norm(h, 3, 0.0);
    ok(norm == 3.0 && h[2] == 2.0f, "max_norm 0 disables clipping");

    float bad[2] = {NAN, 1.0f};
    norm = clip_grad_norm(bad, 2, 1.0);
    ok(isnan(norm) && bad[1] == 1.0f, "a NaN norm is returned and the gradient left alone");
}

int main(void) {
    const char *testdata = getenv("LRC_TESTDATA");
    if (!testdata)
        testdata = "tests";
    char path[2048];
    snprintf(path, sizeof path, "%s/reference/data/adamw_torch.json", testdata);
    char *text = read_text(path);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    ok(doc != NULL, "read %s", path);
    if (doc)
        test_torch_fixture(doc);
    cJSON_Delete(doc);

    test_first_step_closed_form();
    test_decay_mask();
    test_config_errors();
    test_clip();
    return done_testing();
}
