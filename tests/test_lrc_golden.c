/*
 * LRC against PyTorch: tests/reference/gen_lrc.py wrote a tiny teacher, an
 * init file of the trainable tensors, a token batch, the loss parts and the
 * gradient of every trainable tensor at init, and the losses after three
 * torch.optim.AdamW steps. This test loads the teacher with the model loader
 * and the init with lrc_import, runs lrc_step_loss_and_grad and adamw_step,
 * and matches losses within 1e-4 relative and each gradient tensor within
 * 1e-3 of its largest element.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"
#include "tap.h"
#include "train/adamw.h"
#include "train/lrc.h"

static char *read_text(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    if (text && fread(text, 1, (size_t)n, fp) != (size_t)n) {
        free(text);
        text = NULL;
    }
    if (text)
        text[n] = '\0';
    fclose(fp);
    return text;
}

static double num(const cJSON *obj, const char *key) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(it) ? it->valuedouble : NAN;
}

static double worst_rel = 0.0;

static void check_loss(const char *when, const lrc_loss_parts *got, const cJSON *want) {
    const char *names[] = {"total", "ce", "kl", "clone"};
    double values[] = {got->total, got->ce, got->kl, got->clone};
    for (int i = 0; i < 4; i++) {
        double w = num(want, names[i]), rel = fabs(values[i] - w) / fabs(w);
        if (rel > worst_rel)
            worst_rel = rel;
        ok_near(values[i], w, 1e-4 * fabs(w), "%s: %s matches torch", when, names[i]);
    }
    const cJSON *sites = cJSON_GetObjectItemCaseSensitive(want, "clone_site");
    for (int s = 0; s < LRC_N_SITES; s++) {
        double w = num(sites, lrc_site_name(s)), rel = fabs(got->clone_site[s] - w) / fabs(w);
        if (rel > worst_rel)
            worst_rel = rel;
        ok_near(got->clone_site[s], w, 1e-4 * fabs(w), "%s: clone %s matches torch", when,
                lrc_site_name(s));
    }
}

static void check_grads(const lrc_student *s, const char *path) {
    safetensors_file f;
    lrc_error err;
    if (safetensors_open(&f, path, &err) < 0) {
        ok(0, "open gradients: %s", err.msg);
        return;
    }
    double worst = 0.0;
    const char *worst_name = "";
    for (size_t i = 0; i < s->n_tensors; i++) {
        const param_tensor *t = &s->tensors[i];
        const safetensors_tensor *ft = safetensors_find(&f, t->name);
        float *want = malloc(t->numel * sizeof *want);
        if (!ft || safetensors_read_f32(ft, want, t->numel, &err) < 0) {
            ok(0, "%s: reference gradient present", t->name);
            free(want);
            continue;
        }
        double gmax = 0.0, emax = 0.0;
        for (size_t j = 0; j < t->numel; j++) {
            gmax = fmax(gmax, fabs(want[j]));
            emax = fmax(emax, fabs(s->grads[t->offset + j] - want[j]));
        }
        ok(emax <= 1e-3 * gmax && gmax > 0.0, "gradient of %s matches torch", t->name);
        if (!(emax <= 1e-3 * gmax))
            diag("max |error| %.3g against max |g| %.3g", emax, gmax);
        if (emax / gmax > worst) {
            worst = emax / gmax;
            worst_name = t->name;
        }
        free(want);
    }
    diag("largest gradient error: %.3g of the tensor's max |g| (%s)", worst, worst_name);
    safetensors_close(&f);
}

int main(void) {
    const char *base = getenv("LRC_TESTDATA");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/reference/data/lrc", base ? base : "tests");
    snprintf(path, sizeof path, "%s/expected.json", dir);
    char *text = read_text(path);
    if (!text)
        skip_all("tests/reference/data/lrc/expected.json not found; set LRC_TESTDATA");
    cJSON *exp = cJSON_Parse(text);
    free(text);
    if (!exp)
        skip_all("expected.json is not valid JSON");

    /* Teacher, student and init. */
    llama_model teacher;
    lrc_error err;
    snprintf(path, sizeof path, "%s/teacher", dir);
    if (llama_model_load(&teacher, path, &err) < 0) {
        ok(0, "teacher loads: %s", err.msg);
        cJSON_Delete(exp);
        return done_testing();
    }
    lrc_options opt = {.rank = (int)num(exp, "rank"),
                       .tie_head = cJSON_IsTrue(cJSON_GetObjectItem(exp, "tie_head")),
                       .B = (int)num(exp, "B"),
                       .T = (int)num(exp, "T")};
    lrc_student s;
    ok(lrc_init(&s, &teacher, &opt, &err) == 0, "student of rank %d initialises", opt.rank);
    snprintf(path, sizeof path, "%s/init.safetensors", dir);
    ok(lrc_import(&s, path, &err) == 0, "init file imports");

    const cJSON *lc = cJSON_GetObjectItem(exp, "loss_config");
    lrc_loss_config cfg = lrc_loss_config_default();
    cfg.w_ce = num(lc, "w_ce");
    cfg.w_kl = num(lc, "w_kl");
    cfg.w_clone = num(lc, "w_clone");
    cfg.tau = num(lc, "tau");

    size_t row = (size_t)opt.T + 1;
    int32_t *tokens = malloc((size_t)opt.B * row * sizeof *tokens);
    const cJSON *rows = cJSON_GetObjectItem(exp, "tokens");
    for (int b = 0; b < opt.B; b++)
        for (size_t t = 0; t < row; t++)
            tokens[(size_t)b * row + t] =
                (int32_t)cJSON_GetArrayItem(cJSON_GetArrayItem(rows, b), (int)t)->valueint;

    /* Loss parts and gradients at init. */
    lrc_loss_parts parts;
    ok(lrc_step_loss_and_grad(&s, tokens, &cfg, &parts, &err) == 0, "step runs");
    check_loss("before any step", &parts, cJSON_GetObjectItem(exp, "loss_before"));
    snprintf(path, sizeof path, "%s/grads.safetensors", dir);
    check_grads(&s, path);

    /* Three AdamW steps; the loss after step k is the one the next step
     * computes, whose gradient feeds step k + 1. */
    const cJSON *ac = cJSON_GetObjectItem(exp, "adamw");
    adamw_config acfg = {num(ac, "beta1"), num(ac, "beta2"), num(ac, "eps"),
                         num(ac, "weight_decay")};
    adamw opt_state;
    ok(adamw_init(&opt_state, s.n_params, &acfg, &err) == 0 &&
           param_adamw_exclude_norms(s.tensors, s.n_tensors, &opt_state, &err) == 0,
       "AdamW set up with norms excluded from weight decay");
    const cJSON *after = cJSON_GetObjectItem(exp, "loss_after_steps");
    for (int k = 0; k < cJSON_GetArraySize(after); k++) {
        adamw_step(&opt_state, s.params, s.grads, num(ac, "lr"));
        char when[32];
        snprintf(when, sizeof when, "after step %d", k + 1);
        ok(lrc_step_loss_and_grad(&s, tokens, &cfg, &parts, &err) == 0, "%s: step runs", when);
        check_loss(when, &parts, cJSON_GetArrayItem(after, k));
    }
    diag("largest relative loss error: %.3g", worst_rel);

    adamw_free(&opt_state);
    free(tokens);
    lrc_free(&s);
    llama_model_free(&teacher);
    cJSON_Delete(exp);
    return done_testing();
}
