/*
 * The studio's metrics store (src/tui/metrics.c) and theory guidance
 * (src/tui/theory.c). Series thinning keeps the whole run at an even
 * spacing, and records land in the right series. The log ring keeps the
 * newest lines, and a producer thread and a snapshotting reader agree. The
 * c/√t least-squares fit satisfies its normal equation.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tui/metrics.h"
#include "tui/theory.h"

static void test_series_thinning(void) {
    tui_series *s = calloc(1, sizeof *s);
    size_t total = 3 * TUI_SERIES_CAP + 17;
    for (size_t i = 0; i < total; i++)
        tui_series_add(s, (double)i, 2.0 * (double)i);
    ok(s->n <= TUI_SERIES_CAP && s->n >= TUI_SERIES_CAP / 2, "thinning: %zu points kept of %zu",
       s->n, total);
    ok(s->x[0] == 0, "thinning: the first point stays");
    bool even = true, paired = true;
    for (size_t i = 1; i < s->n; i++) {
        if (s->x[i] - s->x[i - 1] != (double)s->stride)
            even = false;
        if (s->y[i] != 2.0 * s->x[i])
            paired = false;
    }
    ok(even, "thinning: points are spaced by the stride %lld", (long long)s->stride);
    ok(paired, "thinning: y stays paired with x");
    ok((double)(total - 1) - s->x[s->n - 1] < (double)s->stride,
       "thinning: the newest kept point is within one stride of the last offered");
    free(s);
}

static void test_report(void) {
    tui_metrics *m = malloc(sizeof *m), *snap = malloc(sizeof *snap);
    tui_metrics_init(m);
    runlog_step r = {.step = 1,
                     .loss = 3,
                     .ce = 1,
                     .kl = 0.5,
                     .clone = 0.25,
                     .grad_norm = 2,
                     .lr = 1e-3,
                     .tokens_per_s = 1000};
    r.clone_site[RUNLOG_SITE_V] = 0.125;
    trainer_event ev = {.kind = TRAINER_EVENT_STEP, .total_steps = 10, .step = &r};
    tui_metrics_set_state(m, TUI_RUN_STARTING);
    tui_metrics_report(m, &ev);
    r.step = 2;
    r.loss = 2.5;
    tui_metrics_report(m, &ev);

    double mi[3] = {0.5, 1.0, 1.5};
    runlog_probe p = {.step = 2, .mi = mi, .n_layers = 3, .top1 = 0.25};
    trainer_event pe = {.kind = TRAINER_EVENT_PROBE, .total_steps = 10, .probe = &p};
    tui_metrics_report(m, &pe);
    trainer_event se = {.kind = TRAINER_EVENT_SAVE, .total_steps = 10, .checkpoint = "c.st"};
    tui_metrics_report(m, &se);

    tui_metrics_snapshot(m, snap);
    ok(snap->state == TUI_RUN_RUNNING, "report: the first step moves the state to running");
    ok(snap->last.step == 2 && snap->total_steps == 10, "report: last step and total");
    ok(snap->loss[TUI_LOSS_TOTAL].n == 2 && snap->loss[TUI_LOSS_TOTAL].y[1] == 2.5,
       "report: total loss series");
    ok(snap->loss[TUI_LOSS_SITE0 + RUNLOG_SITE_V].y[0] == 0.125, "report: clone site v series");
    ok(strcmp(tui_loss_name(TUI_LOSS_SITE0 + RUNLOG_SITE_V), "clone v") == 0,
       "report: site series name");
    ok(snap->have_probe && snap->probe.mi == snap->mi && snap->mi[2] == 1.5,
       "report: probe MI copied into the snapshot's own buffer");
    ok(snap->mi_sum.n == 1 && snap->mi_sum.y[0] == 3.0, "report: MI sum 0.5 + 1 + 1.5 = 3");
    ok(snap->saved_step == 2 && strcmp(snap->checkpoint, "c.st") == 0,
       "report: checkpoint recorded at step 2");

    trainer_event pause = {.kind = TRAINER_EVENT_PAUSED, .total_steps = 10};
    tui_metrics_report(m, &pause);
    tui_metrics_snapshot(m, snap);
    ok(snap->state == TUI_RUN_PAUSED, "report: paused");
    pause.kind = TRAINER_EVENT_RESUMED;
    tui_metrics_report(m, &pause);
    tui_metrics_finish(m, 3);
    tui_metrics_snapshot(m, snap);
    ok(snap->state == TUI_RUN_FINISHED && snap->status == 3, "finish: state and status");

    tui_metrics_reset(m);
    tui_metrics_snapshot(m, snap);
    ok(snap->loss[0].n == 0 && snap->last.step == 0 && snap->log_count == 0,
       "reset: series, last step and log are empty");
    tui_metrics_destroy(m);
    free(m);
    free(snap);
}

static void test_log_ring(void) {
    tui_metrics *m = malloc(sizeof *m);
    tui_metrics_init(m);
    char line[64];
    for (int i = 0; i < 70; i++) {
        snprintf(line, sizeof line, "line %d\n", i);
        tui_metrics_log(m, line);
    }
    ok(strcmp(tui_metrics_log_line(m, 0), "line 69") == 0, "log: newest line, newline dropped");
    ok(strcmp(tui_metrics_log_line(m, TUI_LOG_LINES - 1), "line 6") == 0,
       "log: oldest kept line is 70 - %d", TUI_LOG_LINES);
    ok(tui_metrics_log_line(m, TUI_LOG_LINES) == NULL, "log: older lines are gone");
    tui_metrics_destroy(m);
    free(m);
}

#define PRODUCER_STEPS 20000

static void *producer(void *arg) {
    tui_metrics *m = arg;
    for (int i = 1; i <= PRODUCER_STEPS; i++) {
        runlog_step r = {.step = i, .loss = 1.0 / i};
        trainer_event ev = {.kind = TRAINER_EVENT_STEP, .total_steps = PRODUCER_STEPS, .step = &r};
        tui_metrics_report(m, &ev);
    }
    return NULL;
}

static void test_threads(void) {
    tui_metrics *m = malloc(sizeof *m), *snap = malloc(sizeof *snap);
    tui_metrics_init(m);
    pthread_t t;
    pthread_create(&t, NULL, producer, m);
    bool consistent = true;
    for (int k = 0; k < 200; k++) {
        tui_metrics_snapshot(m, snap);
        const tui_series *s = &snap->loss[TUI_LOSS_TOTAL];
        for (size_t i = 1; i < s->n; i++)
            if (!(s->x[i] > s->x[i - 1]) || s->y[i] != 1.0 / s->x[i])
                consistent = false;
        if (s->n && snap->last.step < (int64_t)s->x[s->n - 1])
            consistent = false;
    }
    pthread_join(t, NULL);
    tui_metrics_snapshot(m, snap);
    ok(consistent, "threads: every snapshot is ordered and paired");
    ok(snap->last.step == PRODUCER_STEPS, "threads: the last step arrives");
    tui_metrics_destroy(m);
    free(m);
    free(snap);
}

static void test_theory(void) {
    double t[50], y[50];
    for (int i = 0; i < 50; i++) {
        t[i] = i + 1;
        y[i] = 3.0 / sqrt(t[i]);
    }
    ok_near(theory_fit_inv_sqrt(t, y, 50), 3.0, 1e-12, "fit: exact c/√t data gives c = 3");

    /* Noisy data: the least-squares c makes the residual orthogonal to t^-1/2. */
    for (int i = 0; i < 50; i++)
        y[i] = 2.0 / sqrt(t[i]) + 0.1 * sin(7.0 * i);
    double c = theory_fit_inv_sqrt(t, y, 50), normal = 0;
    for (int i = 0; i < 50; i++)
        normal += (y[i] - c / sqrt(t[i])) / sqrt(t[i]);
    ok_near(normal, 0.0, 1e-9, "fit: the normal equation holds for noisy data (c = %g)", c);

    double tz[3] = {0, 4, 4}, yz[3] = {100, 1, NAN};
    ok_near(theory_fit_inv_sqrt(tz, yz, 3), 2.0, 1e-12, "fit: t = 0 and NaN are skipped");
    ok(theory_fit_inv_sqrt(tz, yz, 1) == 0.0, "fit: no usable point gives 0");

    ok(theory_samples(1000, 16) == 62, "samples: 1000 tokens hold 62 windows of 16");
    ok(theory_samples(10, 0) == 0, "samples: a zero window is no samples");
}

int main(void) {
    test_series_thinning();
    test_report();
    test_log_ring();
    test_threads();
    test_theory();
    return done_testing();
}
