/*
 * The Ask screen's panes and the prcot_run callbacks that fill them (ask.h).
 */
#include "tui/ask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tui_ask_init(tui_ask_store *a) {
    memset(a, 0, sizeof *a);
    return pthread_mutex_init(&a->lock, NULL) == 0 ? 0 : -1;
}

static void clear_side(tui_ask_side *s) {
    for (size_t i = 0; i < TUI_ASK_MAX_STAGES; i++)
        free(s->panes[i].text);
    memset(s, 0, sizeof *s);
}

void tui_ask_destroy(tui_ask_store *a) {
    for (size_t i = 0; i < TUI_ASK_SIDES; i++)
        clear_side(&a->side[i]);
    pthread_mutex_destroy(&a->lock);
}

void tui_ask_reset(tui_ask_store *a, size_t n_sides, const char *const *labels) {
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < TUI_ASK_SIDES; i++)
        clear_side(&a->side[i]);
    a->n_sides = n_sides < TUI_ASK_SIDES ? n_sides : TUI_ASK_SIDES;
    a->cancel = false;
    for (size_t i = 0; i < a->n_sides; i++) {
        snprintf(a->side[i].label, sizeof a->side[i].label, "%s", labels[i]);
        a->side[i].running = true;
    }
    a->version++;
    pthread_mutex_unlock(&a->lock);
}

void tui_ask_set_label(tui_ask_store *a, size_t side, const char *label) {
    pthread_mutex_lock(&a->lock);
    snprintf(a->side[side].label, sizeof a->side[side].label, "%s", label);
    a->version++;
    pthread_mutex_unlock(&a->lock);
}

void tui_ask_cancel(tui_ask_store *a) {
    pthread_mutex_lock(&a->lock);
    a->cancel = true;
    pthread_mutex_unlock(&a->lock);
}

static void append(tui_ask_pane *p, const char *text, size_t len) {
    if (p->len + len + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 256;
        while (cap < p->len + len + 1)
            cap *= 2;
        char *t = realloc(p->text, cap);
        if (!t)
            return; /* out of memory: the pane stops growing, the run goes on */
        p->text = t;
        p->cap = cap;
    }
    memcpy(p->text + p->len, text, len);
    p->len += len;
    p->text[p->len] = '\0';
}

static void on_begin(size_t stage, const prcot_stage *st, void *user) {
    tui_ask_ctx *c = user;
    if (stage >= TUI_ASK_MAX_STAGES)
        return;
    pthread_mutex_lock(&c->store->lock);
    tui_ask_side *s = &c->store->side[c->side];
    snprintf(s->panes[stage].title, sizeof s->panes[stage].title, "%s",
             st->title && st->title[0] ? st->title : st->name);
    if (stage + 1 > s->n_panes)
        s->n_panes = stage + 1;
    c->store->version++;
    pthread_mutex_unlock(&c->store->lock);
}

static int on_token(size_t stage, const char *text, size_t len, void *user) {
    tui_ask_ctx *c = user;
    if (stage >= TUI_ASK_MAX_STAGES)
        return 0;
    pthread_mutex_lock(&c->store->lock);
    append(&c->store->side[c->side].panes[stage], text, len);
    c->store->version++;
    int cancel = c->store->cancel;
    pthread_mutex_unlock(&c->store->lock);
    return cancel;
}

static void on_end(size_t stage, const prcot_stage *st, void *user) {
    tui_ask_ctx *c = user;
    if (stage >= TUI_ASK_MAX_STAGES)
        return;
    pthread_mutex_lock(&c->store->lock);
    tui_ask_pane *p = &c->store->side[c->side].panes[stage];
    /* The stage's full text replaces the streamed pieces, which a stop
     * string may have left out. */
    p->len = 0;
    if (st->text)
        append(p, st->text, strlen(st->text));
    p->seconds = st->seconds;
    p->done = true;
    c->store->version++;
    pthread_mutex_unlock(&c->store->lock);
}

prcot_callbacks tui_ask_callbacks(tui_ask_ctx *ctx) {
    prcot_callbacks cb = {
        .stage_begin = on_begin, .token = on_token, .stage_end = on_end, .user = ctx};
    return cb;
}

void tui_ask_finish(tui_ask_store *a, size_t side, const prcot_result *r, int rc,
                    const char *error) {
    pthread_mutex_lock(&a->lock);
    tui_ask_side *s = &a->side[side];
    s->running = false;
    s->finished = true;
    s->failed = rc != 0;
    for (size_t i = 0; i < s->n_panes; i++)
        if (!s->panes[i].done) {
            s->panes[i].done = true;
            s->panes[i].failed = true;
        }
    if (r) {
        s->seconds = r->seconds;
        if (r->final_answer)
            snprintf(s->answer, sizeof s->answer, "%s", r->final_answer);
    }
    if (rc != 0 && error)
        snprintf(s->error, sizeof s->error, "%s", error);
    a->version++;
    pthread_mutex_unlock(&a->lock);
}
