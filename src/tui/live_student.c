/*
 * A running distillation's student as a llama_model (live_student.h).
 */
#include "tui/live_student.h"

#include <stdio.h>
#include <string.h>

#include "core/tensor.h"

/* Rows of the embedding generated per lrc_embed_rows call: the live
 * student's step buffers hold one sequence of this many tokens. */
#define LIVE_ROWS 64

int tui_live_student_init(tui_live_student *ls, const lrc_student *run, const char *label,
                          lrc_error *err) {
    memset(ls, 0, sizeof *ls);
    lrc_options o = {.rank = run->r, .tie_head = run->tie_head, .B = 1, .T = LIVE_ROWS};
    if (lrc_init(&ls->st, run->teacher, &o, err) < 0)
        return -1;
    if (ls->st.n_params != run->n_params) {
        lrc_free(&ls->st);
        return lrc_errorf(err, "live student: %zu parameters, the run has %zu", ls->st.n_params,
                          run->n_params);
    }

    const llama_config *c = &ls->st.cfg;
    ls->embed = tensor_alloc((size_t)c->V * (size_t)ls->st.r, "live student embedding", err);
    if (!ls->embed) {
        lrc_free(&ls->st);
        return -1;
    }
    ls->model.cfg = ls->st.cfg;
    ls->model.cfg.tied_embeddings = false; /* lm_head is its own generated (V, r) matrix */
    ls->model.w = ls->st.w;
    ls->model.w.embed = ls->embed;
    snprintf(ls->model.path, sizeof ls->model.path, "%s", label);
    return 0;
}

void tui_live_student_generate(tui_live_student *ls) {
    lrc_student *s = &ls->st;
    lrc_generate(s);

    /* embed = E·Zᵀ, LIVE_ROWS rows at a time through the step buffers. */
    int32_t ids[LIVE_ROWS];
    size_t V = (size_t)s->cfg.V, r = (size_t)s->r;
    for (size_t v0 = 0; v0 < V; v0 += LIVE_ROWS) {
        size_t n = V - v0 < LIVE_ROWS ? V - v0 : LIVE_ROWS;
        for (size_t i = 0; i < n; i++)
            ids[i] = (int32_t)(v0 + i);
        lrc_embed_rows(s, ls->embed + v0 * r, ids, n);
    }
}

void tui_live_student_free(tui_live_student *ls) {
    tensor_free(ls->embed);
    lrc_free(&ls->st);
    memset(ls, 0, sizeof *ls);
}
