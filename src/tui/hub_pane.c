/*
 * The download pane (hub_pane.h). The worker thread owns the hub_pull call
 * and writes only through the progress and log callbacks, which copy their
 * arguments into the shared view under the mutex. The UI thread reads copies
 * of the view, and it alone creates, joins and dismisses the worker, so
 * `thread_live` and `finished_seen` need no lock.
 */
#define _POSIX_C_SOURCE 200809L

#include "tui/hub_pane.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub/hub.h"
#include "tui/chart.h"

#define RATE_WINDOW_S 3.0 /* the rate shown is over this many recent seconds */
#define STALL_S 2.0       /* no byte for this long reads as stalled */
#define N_SAMPLES 64

/* (time, bytes) of the current file, about every 0.1 s. */
typedef struct rate_sample {
    double t;
    uint64_t done;
} rate_sample;

struct hub_pane {
    pthread_mutex_t lock;
    rate_sample samples[N_SAMPLES]; /* a ring; the worker alone uses it */
    size_t n_samples, next_sample;
    double last_change_t; /* elapsed_s when the byte count last grew */
    hub_pane_view view;   /* guarded by lock */
    atomic_int cancel;    /* read by hub_pull */
    atomic_bool ended;    /* set by the worker as its last act */
    pthread_t thread;
    bool thread_live;   /* a worker exists and is not joined yet */
    bool finished_seen; /* hub_pane_finish reported the current pull */
};

hub_pane *hub_pane_create(void) {
    hub_pane *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return NULL;
    }
    atomic_init(&p->cancel, 0);
    atomic_init(&p->ended, false);
    p->view.state = HUB_PANE_IDLE;
    return p;
}

static void join_worker(hub_pane *p) {
    if (p->thread_live) {
        pthread_join(p->thread, NULL);
        p->thread_live = false;
    }
}

void hub_pane_destroy(hub_pane *p) {
    if (!p)
        return;
    atomic_store(&p->cancel, 1);
    join_worker(p);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* ------------------------------------------------------------------------ */
/* The worker                                                               */
/* ------------------------------------------------------------------------ */

/* The current rate over the last RATE_WINDOW_S seconds and how long no byte
 * has arrived, so a stall shows as one rather than as a slow average. */
static void update_rate(hub_pane *p, const hub_progress *hp, hub_pane_view *v) {
    double t = hp->elapsed_s;
    if (hp->event == HUB_FILE_START) {
        p->n_samples = p->next_sample = 0;
        p->last_change_t = t;
    }
    size_t prev = (p->next_sample + N_SAMPLES - 1) % N_SAMPLES;
    if (p->n_samples == 0 || hp->done != p->samples[prev].done)
        p->last_change_t = t;
    p->samples[p->next_sample] = (rate_sample){t, hp->done};
    p->next_sample = (p->next_sample + 1) % N_SAMPLES;
    if (p->n_samples < N_SAMPLES)
        p->n_samples++;

    /* The oldest sample within the window. */
    const rate_sample *from = NULL;
    for (size_t k = p->n_samples; k > 0; k--) {
        const rate_sample *s = &p->samples[(p->next_sample + N_SAMPLES - k) % N_SAMPLES];
        if (t - s->t <= RATE_WINDOW_S) {
            from = s;
            break;
        }
    }
    double dt = from ? t - from->t : 0;
    if (from && dt >= 0.5)
        v->rate = (double)(hp->done - from->done) / dt;
    else
        v->rate = t > 0 ? (double)(hp->done - hp->resumed_from) / t : 0;
    v->stalled_s = t - p->last_change_t;
}

static void on_progress(const hub_progress *hp, void *user) {
    hub_pane *p = user;
    pthread_mutex_lock(&p->lock);
    hub_pane_view *v = &p->view;
    snprintf(v->file, sizeof v->file, "%s", hp->file ? hp->file : "");
    v->index = hp->index;
    v->count = hp->count;
    v->done = hp->done;
    v->total = hp->total;
    v->resumed_from = hp->resumed_from;
    v->elapsed_s = hp->elapsed_s;
    update_rate(p, hp, v);
    if (hp->event == HUB_FILE_DONE || hp->event == HUB_FILE_CACHED)
        v->files_done++;
    if (hp->event == HUB_FILE_DONE)
        v->bytes_done += hp->done - hp->resumed_from;
    v->version++;
    pthread_mutex_unlock(&p->lock);
}

static void on_log(const char *line, void *user) {
    hub_pane *p = user;
    pthread_mutex_lock(&p->lock);
    snprintf(p->view.notice, sizeof p->view.notice, "%s", line);
    p->view.version++;
    pthread_mutex_unlock(&p->lock);
}

static void *pull_thread(void *arg) {
    hub_pane *p = arg;
    char spec[sizeof p->view.spec];
    pthread_mutex_lock(&p->lock);
    memcpy(spec, p->view.spec, sizeof spec);
    pthread_mutex_unlock(&p->lock);

    hub_pull_options o;
    hub_pull_options_init(&o, spec);
    o.progress = on_progress;
    o.log = on_log;
    o.user = p;
    o.cancel = &p->cancel;
    hub_pull_result r;
    memset(&r, 0, sizeof r);
    lrc_error err = {{0}};
    int rc = hub_pull(&o, &r, &err);

    pthread_mutex_lock(&p->lock);
    hub_pane_view *v = &p->view;
    if (rc == 0) {
        v->state = HUB_PANE_DONE;
        snprintf(v->repo, sizeof v->repo, "%s", r.repo);
        snprintf(v->revision, sizeof v->revision, "%s", r.revision);
        snprintf(v->commit, sizeof v->commit, "%s", r.commit);
        snprintf(v->snapshot, sizeof v->snapshot, "%s", r.snapshot);
        v->n_downloaded = r.n_downloaded;
        v->n_files = r.n_files;
        v->bytes_done = r.bytes_downloaded;
    } else if (r.cancelled || atomic_load(&p->cancel)) {
        v->state = HUB_PANE_CANCELLED;
    } else {
        v->state = HUB_PANE_FAILED;
        snprintf(v->message, sizeof v->message, "%s", err.msg);
    }
    v->version++;
    pthread_mutex_unlock(&p->lock);
    hub_pull_result_free(&r);
    atomic_store(&p->ended, true);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* The UI thread's side                                                     */
/* ------------------------------------------------------------------------ */

int hub_pane_start(hub_pane *p, const char *spec, lrc_error *err) {
    if (p->thread_live && !atomic_load(&p->ended)) {
        hub_pane_view v;
        hub_pane_view_get(p, &v);
        return lrc_errorf(err,
                          "the download of %s is still running; press c on the teacher list "
                          "to cancel it first",
                          v.spec);
    }
    join_worker(p);
    if (strlen(spec) >= sizeof p->view.spec)
        return lrc_errorf(err, "model id '%.80s...' is too long for ORG/NAME[@REV]", spec);

    pthread_mutex_lock(&p->lock);
    uint64_t version = p->view.version;
    memset(&p->view, 0, sizeof p->view);
    p->view.version = version + 1;
    p->view.state = HUB_PANE_RUNNING;
    snprintf(p->view.spec, sizeof p->view.spec, "%s", spec);
    pthread_mutex_unlock(&p->lock);
    atomic_store(&p->cancel, 0);
    atomic_store(&p->ended, false);
    p->finished_seen = false;

    if (pthread_create(&p->thread, NULL, pull_thread, p) != 0) {
        pthread_mutex_lock(&p->lock);
        p->view.state = HUB_PANE_IDLE;
        p->view.version++;
        pthread_mutex_unlock(&p->lock);
        return lrc_errorf(err, "cannot start a thread to download %s", spec);
    }
    p->thread_live = true;
    return 0;
}

void hub_pane_cancel(hub_pane *p) {
    if (p->thread_live)
        atomic_store(&p->cancel, 1);
}

bool hub_pane_running(hub_pane *p) {
    return p->thread_live && !atomic_load(&p->ended);
}

uint64_t hub_pane_version(hub_pane *p) {
    pthread_mutex_lock(&p->lock);
    uint64_t v = p->view.version;
    pthread_mutex_unlock(&p->lock);
    return v;
}

void hub_pane_view_get(hub_pane *p, hub_pane_view *v) {
    pthread_mutex_lock(&p->lock);
    *v = p->view;
    pthread_mutex_unlock(&p->lock);
}

bool hub_pane_finish(hub_pane *p, hub_pane_view *v) {
    if (!p->thread_live || !atomic_load(&p->ended) || p->finished_seen)
        return false;
    join_worker(p);
    p->finished_seen = true;
    hub_pane_view_get(p, v);
    return true;
}

void hub_pane_dismiss(hub_pane *p) {
    if (hub_pane_running(p))
        return;
    join_worker(p);
    pthread_mutex_lock(&p->lock);
    p->view.state = HUB_PANE_IDLE;
    p->view.version++;
    pthread_mutex_unlock(&p->lock);
}

/* ------------------------------------------------------------------------ */
/* Drawing                                                                  */
/* ------------------------------------------------------------------------ */

static void format_bytes(char *buf, size_t cap, double bytes) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

static void format_eta(char *buf, size_t cap, double s) {
    if (!(s >= 0) || s > 1e7)
        snprintf(buf, cap, "?");
    else if (s >= 3600)
        snprintf(buf, cap, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else if (s >= 60)
        snprintf(buf, cap, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, cap, "%.0fs", s);
}

int hub_pane_wrap(const tui_term *term, int y, int x, int w, int rows, tui_element e,
                  const char *text) {
    int used = 0;
    size_t n = strlen(text);
    while (n > 0 && used < rows && w > 0) {
        size_t take = n;
        if (take > (size_t)w) {
            take = (size_t)w;
            size_t cut = take;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut > (size_t)w / 2)
                take = cut;
        }
        if (used == rows - 1)
            take = n; /* the last row takes the rest, cut at the edge */
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(take < sizeof line ? take : sizeof line - 1),
                 text);
        if (term)
            tui_term_text(term, y + used, x, w, e, line);
        used++;
        text += take;
        n -= take;
        while (*text == ' ') {
            text++;
            n--;
        }
    }
    return used;
}

static void draw_progress(const hub_pane_view *v, const tui_term *term, int y, int x, int h,
                          int w) {
    int r = y, end = y + h;
    char line[1400], a[32], b[32], rate_text[32], eta[32];
    if (!v->file[0]) {
        tui_term_text(term, r++, x, w, TUI_DIM, "asking the Hub for the file list");
    } else {
        if (v->count)
            snprintf(line, sizeof line, "file %zu of %zu: %s", v->index, v->count, v->file);
        else
            snprintf(line, sizeof line, "file %zu: %s", v->index, v->file);
        tui_term_text(term, r++, x, w, TUI_NORMAL, line);

        double f = v->total ? (double)v->done / (double)v->total : 0;
        char bar[1024];
        int bw = w - 7;
        if (bw > 2 && r < end) {
            chart_bar_text(f > 1 ? 1 : f, bw, term->utf8, bar, sizeof bar);
            tui_term_text(term, r, x, bw, TUI_BAR, bar);
            snprintf(line, sizeof line, " %3.0f%%", 100 * f);
            tui_term_text(term, r++, x + bw, 6, TUI_VALUE, line);
        }

        double rate = v->stalled_s >= STALL_S ? 0 : v->rate;
        format_bytes(a, sizeof a, (double)v->done);
        format_bytes(b, sizeof b, (double)v->total);
        format_bytes(rate_text, sizeof rate_text, rate);
        format_eta(eta, sizeof eta,
                   rate > 0 && v->total >= v->done ? (double)(v->total - v->done) / rate : -1);
        bool stalled = v->stalled_s >= STALL_S && (!v->total || v->done < v->total);
        if (stalled)
            snprintf(line, sizeof line, "%s of %s  stalled: no data for %.0f s", a,
                     v->total ? b : "?", v->stalled_s);
        else if (v->total)
            snprintf(line, sizeof line, "%s of %s  %s/s  ETA %s", a, b, rate_text, eta);
        else
            snprintf(line, sizeof line, "%s  %s/s", a, rate_text);
        if (r < end)
            tui_term_text(term, r++, x, w, stalled ? TUI_WARN : TUI_VALUE, line);
    }
    format_bytes(a, sizeof a, (double)v->bytes_done);
    snprintf(line, sizeof line, "%zu file%s done, %s downloaded", v->files_done,
             v->files_done == 1 ? "" : "s", a);
    if (r < end)
        tui_term_text(term, r++, x, w, TUI_DIM, line);
    if (v->notice[0] && r < end)
        hub_pane_wrap(term, r, x, w, end - r, TUI_WARN, v->notice);
}

void hub_pane_draw(const hub_pane_view *v, const tui_term *term, int y, int x, int h, int w) {
    char title[sizeof v->spec + 32];
    snprintf(title, sizeof title, "download %s", v->spec);
    tui_term_box(term, y, x, h, w, title, v->state == HUB_PANE_RUNNING);
    int inner = h - 2, cw = w - 4, cx = x + 2, last = y + h - 2;
    if (inner < 2 || cw < 8)
        return;

    switch (v->state) {
    case HUB_PANE_RUNNING:
        draw_progress(v, term, y + 1, cx, inner - 1, cw);
        tui_term_text(term, last, cx, cw, TUI_DIM, "c on the teacher list cancels");
        break;
    case HUB_PANE_FAILED:
        hub_pane_wrap(term, y + 1, cx, cw, inner - 1, TUI_ERROR, v->message);
        tui_term_text(term, last, cx, cw, TUI_DIM, "c on the teacher list closes this pane");
        break;
    case HUB_PANE_CANCELLED:
        hub_pane_wrap(term, y + 1, cx, cw, inner - 1, TUI_WARN,
                      "download cancelled; a partial file stays as .incomplete in the cache "
                      "and the next download of this model resumes it");
        tui_term_text(term, last, cx, cw, TUI_DIM, "c on the teacher list closes this pane");
        break;
    case HUB_PANE_DONE:
        hub_pane_wrap(term, y + 1, cx, cw, inner - 1, TUI_GOOD, v->snapshot);
        break;
    case HUB_PANE_IDLE:
        break;
    }
}
