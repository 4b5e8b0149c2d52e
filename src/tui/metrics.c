/*
 * The store between the trainer's thread and the UI (metrics.h).
 */
#include "tui/metrics.h"

#include <stdio.h>
#include <string.h>

const char *tui_loss_name(int i) {
    static const char *const parts[] = {"total", "ce", "kl", "clone"};
    static const char *const sites[RUNLOG_N_SITES] = {"clone q",        "clone k",    "clone v",
                                                      "clone attn_out", "clone gate", "clone up",
                                                      "clone mlp_out"};
    if (i >= 0 && i < TUI_LOSS_SITE0)
        return parts[i];
    if (i >= TUI_LOSS_SITE0 && i < TUI_N_LOSS)
        return sites[i - TUI_LOSS_SITE0];
    return "?";
}

/* ------------------------------------------------------------------------ */
/* Series                                                                   */
/* ------------------------------------------------------------------------ */

static void series_clear(tui_series *s) {
    s->n = 0;
    s->stride = 1;
    s->skipped = 0;
}

void tui_series_add(tui_series *s, double x, double y) {
    if (s->stride < 1)
        s->stride = 1;
    if (s->n > 0 && ++s->skipped < s->stride)
        return;
    s->skipped = 0;

    /* Full: keep the even-indexed points, so the series spans the whole run
     * at half the density, and keep every other point from now on. */
    if (s->n == TUI_SERIES_CAP) {
        for (size_t i = 0; i < TUI_SERIES_CAP / 2; i++) {
            s->x[i] = s->x[2 * i];
            s->y[i] = s->y[2 * i];
        }
        s->n = TUI_SERIES_CAP / 2;
        s->stride *= 2;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
}

/* ------------------------------------------------------------------------ */
/* Store                                                                    */
/* ------------------------------------------------------------------------ */

static void clear_locked(tui_metrics *m) {
    for (int i = 0; i < TUI_N_LOSS; i++)
        series_clear(&m->loss[i]);
    series_clear(&m->grad_norm);
    series_clear(&m->lr);
    series_clear(&m->tokens_per_s);
    series_clear(&m->mi_sum);
    memset(&m->last, 0, sizeof m->last);
    memset(&m->probe, 0, sizeof m->probe);
    m->have_probe = false;
    m->saved_step = -1;
    m->checkpoint[0] = '\0';
    m->log_count = 0;
    m->total_steps = 0;
    m->status = 0;
    m->state = TUI_RUN_IDLE;
    m->version++;
}

int tui_metrics_init(tui_metrics *m) {
    memset(m, 0, sizeof *m);
    if (pthread_mutex_init(&m->lock, NULL) != 0)
        return -1;
    clear_locked(m);
    return 0;
}

void tui_metrics_destroy(tui_metrics *m) {
    pthread_mutex_destroy(&m->lock);
}

void tui_metrics_reset(tui_metrics *m) {
    pthread_mutex_lock(&m->lock);
    clear_locked(m);
    pthread_mutex_unlock(&m->lock);
}

static void log_locked(tui_metrics *m, const char *line) {
    char *slot = m->log[m->log_count % TUI_LOG_LINES];
    snprintf(slot, TUI_LOG_WIDTH, "%s", line);
    size_t n = strlen(slot);
    while (n > 0 && (slot[n - 1] == '\n' || slot[n - 1] == '\r'))
        slot[--n] = '\0';
    m->log_count++;
    m->version++;
}

void tui_metrics_log(tui_metrics *m, const char *line) {
    pthread_mutex_lock(&m->lock);
    log_locked(m, line);
    pthread_mutex_unlock(&m->lock);
}

void tui_metrics_set_state(tui_metrics *m, tui_run_state state) {
    pthread_mutex_lock(&m->lock);
    m->state = state;
    m->version++;
    pthread_mutex_unlock(&m->lock);
}

void tui_metrics_finish(tui_metrics *m, int status) {
    pthread_mutex_lock(&m->lock);
    m->state = TUI_RUN_FINISHED;
    m->status = status;
    m->version++;
    pthread_mutex_unlock(&m->lock);
}

static void add_step_locked(tui_metrics *m, const runlog_step *r) {
    double x = (double)r->step;
    const double parts[TUI_LOSS_SITE0] = {r->loss, r->ce, r->kl, r->clone};
    for (int i = 0; i < TUI_LOSS_SITE0; i++)
        tui_series_add(&m->loss[i], x, parts[i]);
    for (int i = 0; i < RUNLOG_N_SITES; i++)
        tui_series_add(&m->loss[TUI_LOSS_SITE0 + i], x, r->clone_site[i]);
    tui_series_add(&m->grad_norm, x, r->grad_norm);
    tui_series_add(&m->lr, x, r->lr);
    tui_series_add(&m->tokens_per_s, x, r->tokens_per_s);
    m->last = *r;
    if (m->state == TUI_RUN_STARTING)
        m->state = TUI_RUN_RUNNING;
}

static void add_probe_locked(tui_metrics *m, const runlog_probe *p) {
    size_t n = p->n_layers < TUI_MAX_LAYERS ? p->n_layers : TUI_MAX_LAYERS;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        m->mi[i] = p->mi[i];
        sum += p->mi[i];
    }
    m->probe = *p;
    m->probe.mi = m->mi;
    m->probe.n_layers = n;
    m->have_probe = true;
    tui_series_add(&m->mi_sum, (double)p->step, sum);
}

void tui_metrics_report(void *ctx, const trainer_event *ev) {
    tui_metrics *m = ctx;
    char line[TUI_LOG_WIDTH];
    pthread_mutex_lock(&m->lock);
    m->total_steps = ev->total_steps;
    switch (ev->kind) {
    case TRAINER_EVENT_STEP:
        add_step_locked(m, ev->step);
        break;
    case TRAINER_EVENT_PROBE:
        /* Probes are drawn in the MI panel; only the first is logged, so the
         * log keeps the lines a user acts on (checkpoints, errors). */
        if (!m->have_probe) {
            snprintf(line, sizeof line,
                     "first probe at step %lld: top-1 %.3f, ppl teacher %.4g, student %.4g",
                     (long long)ev->probe->step, ev->probe->top1, ev->probe->ppl_teacher,
                     ev->probe->ppl_student);
            log_locked(m, line);
        }
        add_probe_locked(m, ev->probe);
        break;
    case TRAINER_EVENT_SAVE:
        m->saved_step = m->last.step;
        snprintf(m->checkpoint, sizeof m->checkpoint, "%s", ev->checkpoint ? ev->checkpoint : "");
        snprintf(line, sizeof line, "checkpoint saved: %.200s", m->checkpoint);
        log_locked(m, line);
        if (ev->warning) {
            snprintf(line, sizeof line, "warning: %s", ev->warning);
            log_locked(m, line);
        }
        break;
    case TRAINER_EVENT_PAUSED:
        if (m->state != TUI_RUN_STOPPING)
            m->state = TUI_RUN_PAUSED;
        log_locked(m, "paused");
        break;
    case TRAINER_EVENT_RESUMED:
        if (m->state == TUI_RUN_PAUSED)
            m->state = TUI_RUN_RUNNING;
        log_locked(m, "resumed");
        break;
    }
    m->version++;
    pthread_mutex_unlock(&m->lock);
}

uint64_t tui_metrics_version(tui_metrics *m) {
    pthread_mutex_lock(&m->lock);
    uint64_t v = m->version;
    pthread_mutex_unlock(&m->lock);
    return v;
}

void tui_metrics_snapshot(tui_metrics *m, tui_metrics *dst) {
    pthread_mutex_lock(&m->lock);
    /* The copy carries m's mutex bytes, which dst never uses. */
    memcpy(dst, m, sizeof *dst);
    pthread_mutex_unlock(&m->lock);
    dst->probe.mi = dst->mi;
}

const char *tui_metrics_log_line(const tui_metrics *m, size_t i) {
    if (i >= m->log_count || i >= TUI_LOG_LINES)
        return NULL;
    return m->log[(m->log_count - 1 - i) % TUI_LOG_LINES];
}
