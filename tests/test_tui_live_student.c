/*
 * The live student (src/tui/live_student.h), which the Ask screen questions
 * while a run trains:
 * - its llama_model gives, through llama_forward, the logits the training
 *   code's own forward (lrc_forward) gives for the same parameters, within
 *   1e-5 of the largest logit: a tied teacher with llama2.c's interleaved
 *   RoPE, an untied Qwen2-style teacher with q/k/v biases and an untied
 *   student head;
 * - regenerating after the parameters change follows the new parameters;
 * - trainer snapshot requests: one pending at a time, withdrawn by cancel.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/forward.h"
#include "tap.h"
#include "test_lrc_tiny.h"
#include "train/lrc.h"
#include "train/trainer.h"
#include "tui/live_student.h"

#define T_TOK 7

/* Largest |logit difference| between llama_forward on the live model and
 * lrc_forward on the run student, over tokens, divided by the largest
 * |logit| of lrc_forward (at least 1). The two paths sum in different
 * orders, so they agree to float32 rounding relative to the logits' size. */
static double compare(tui_live_student *ls, lrc_student *run, const int32_t *tokens) {
    lrc_error err;
    if (lrc_forward(run, tokens, T_TOK, &err) < 0) {
        diag("lrc_forward: %s", err.msg);
        return INFINITY;
    }
    llama_state st;
    size_t V = (size_t)run->cfg.V;
    float *logits = malloc(T_TOK * V * sizeof *logits);
    double worst = INFINITY;
    if (logits && llama_state_init(&st, &ls->model.cfg, T_TOK, T_TOK, &err) == 0) {
        if (llama_forward(&ls->model, &st, tokens, T_TOK, 0, logits, true, &err) == 0) {
            double scale = 1.0;
            worst = 0.0;
            for (size_t i = 0; i < T_TOK * V; i++) {
                worst = fmax(worst, fabs(logits[i] - run->student_state.logits[i]));
                scale = fmax(scale, fabs(run->student_state.logits[i]));
            }
            worst /= scale;
        } else {
            diag("llama_forward: %s", err.msg);
        }
        llama_state_free(&st);
    }
    free(logits);
    return worst;
}

static void randomise(lrc_student *s) {
    for (size_t i = 0; i < s->n_tensors; i++) {
        const param_tensor *t = &s->tensors[i];
        fill(s->params + t->offset, t->numel, t->norm ? 1.0 : 0.0, t->norm ? 0.2 : 0.3);
    }
}

static void check_case(const char *label, bool qwen2, int h, bool interleaved, bool tie_head) {
    llama_model teacher;
    make_teacher(&teacher, qwen2, h, interleaved);
    lrc_student run;
    lrc_error err;
    lrc_options opt = {.rank = 8, .tie_head = tie_head, .B = 1, .T = T_TOK};
    if (lrc_init(&run, &teacher, &opt, &err) < 0) {
        ok(0, "%s: lrc_init: %s", label, err.msg);
        free_teacher(&teacher);
        return;
    }
    randomise(&run);
    int32_t tokens[T_TOK] = {3, 17, 31, 0, 9, 9, 22};

    tui_live_student ls;
    if (!ok(tui_live_student_init(&ls, &run, "live", &err) == 0, "%s: live student opens", label)) {
        diag("%s", err.msg);
        lrc_free(&run);
        free_teacher(&teacher);
        return;
    }
    memcpy(ls.st.params, run.params, run.n_params * sizeof *run.params);
    tui_live_student_generate(&ls);
    double worst = compare(&ls, &run, tokens);
    ok(worst <= 1e-5, "%s: llama_forward on the live model equals lrc_forward", label);
    diag("  max |logit difference| / max |logit|: %.3g", worst);

    /* New parameters, copied in as a snapshot would be, then regenerated. */
    randomise(&run);
    memcpy(ls.st.params, run.params, run.n_params * sizeof *run.params);
    tui_live_student_generate(&ls);
    worst = compare(&ls, &run, tokens);
    ok(worst <= 1e-5, "%s: regenerated after new parameters, logits follow them", label);
    diag("  after regenerating: %.3g", worst);

    tui_live_student_free(&ls);
    lrc_free(&run);
    free_teacher(&teacher);
}

static void check_snapshot_requests(void) {
    trainer t;
    memset(&t, 0, sizeof t);
    atomic_init(&t.snapshot, NULL);
    float a[4], b[4];
    trainer_snapshot s1 = {.params = a}, s2 = {.params = b};
    ok(trainer_request_snapshot(&t, &s1) == 0, "snapshot: a request is posted");
    ok(trainer_request_snapshot(&t, &s2) == -1, "snapshot: a second one waits its turn (-1)");
    ok(trainer_cancel_snapshot(&t, &s2) == 0, "snapshot: cancelling one not posted is a no-op");
    ok(trainer_cancel_snapshot(&t, &s1) == 1, "snapshot: the pending request is withdrawn");
    ok(trainer_request_snapshot(&t, &s2) == 0 && atomic_load(&s2.done) == 0,
       "snapshot: after the withdrawal another can be posted, not yet done");
}

int main(void) {
    check_case("tied head, interleaved RoPE", false, 4, true, true);
    check_case("Qwen2 biases, untied head", true, 6, false, true);
    check_case("student head untied", false, 4, false, false);
    check_snapshot_requests();
    return done_testing();
}
