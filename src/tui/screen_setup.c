/*
 * The Setup screen: the teacher list with each model's `lrc info` summary,
 * the rank with the student it makes, the rank advisor, the data file and
 * the main hyper-parameters. Enter starts the run with these settings and
 * the remaining defaults of `lrc distill`.
 *
 * Teachers come from, in this order: the MODEL arguments, the bundled
 * models (folders with a config.json under LRC_DATADIR/models, else
 * LRC_SRCDIR/models) and the model snapshots in the Hugging Face Hub cache.
 * Then come the students of the newest runs under the runs folder, and what
 * is typed into the model path field. Summaries read only config and tensor
 * headers, as `lrc info` does.
 *
 * A typed ORG/NAME[@REV] that is not a local path and not in the Hub cache
 * is downloaded by the download pane (hub_pane.h) on its own thread. The
 * pane replaces the model summary while the download runs and, after a
 * failure, until c closes it. A finished download joins the list.
 */
#define _POSIX_C_SOURCE 200809L

#include "tui/studio_internal.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ncurses.h>

#include "hub/hub.h"
#include "hub/hub_cache.h"
#include "model/model_load.h"
#include "model/tokenizer.h"
#include "train/data.h"
#include "tui/hub_pane.h"
#include "tui/theory.h"

#ifndef LRC_DATADIR
#define LRC_DATADIR "/usr/local/share/lrc-studio"
#endif
#ifndef LRC_SRCDIR
#define LRC_SRCDIR "."
#endif

#define RECENT_RUNS 5
#define SUMMARY_ROWS 8 /* the model summary box, or the download pane in its place */

static const char *const field_names[N_FIELDS] = {"teacher", "model path", "rank", "data",
                                                  "steps",   "batch",      "seq",  "lr"};

/* ------------------------------------------------------------------------ */
/* Teachers                                                                 */
/* ------------------------------------------------------------------------ */

/* Read the model's config and tensor headers, as `lrc info` does. */
static void summarise(studio_model *m) {
    llama_source src;
    lrc_error err = {{0}};
    memset(&src, 0, sizeof src);
    m->ok = llama_source_open_config(&src, m->path, &err) == 0 &&
            llama_source_open_weights(&src, &err) == 0 && llama_source_check(&src, &err) == 0;
    if (m->ok) {
        m->cfg = src.cfg;
        m->params = llama_config_param_count(&src.cfg);
        m->memory = llama_model_memory_needed(&src.cfg);
        snprintf(m->format, sizeof m->format, "%s", llama_format_name(src.format));
    } else {
        snprintf(m->error, sizeof m->error, "%s", err.msg);
    }
    llama_source_close(&src);
}

studio_model *setup_add_model(studio *s, const char *path, const char *origin) {
    for (size_t i = 0; i < s->n_models; i++)
        if (strcmp(s->models[i].path, path) == 0)
            return &s->models[i];
    if (s->n_models == STUDIO_MAX_MODELS)
        return NULL;
    studio_model *m = &s->models[s->n_models++];
    memset(m, 0, sizeof *m);
    snprintf(m->path, sizeof m->path, "%s", path);
    m->origin = origin;
    summarise(m);
    return m;
}

/* The list name of a Hub model: ORG/NAME@REV, a commit cut to 12 digits. */
static void hub_label(char *buf, size_t cap, const char *repo, const char *revision) {
    if (hub_is_commit(revision))
        snprintf(buf, cap, "%s@%.12s", repo, revision);
    else
        snprintf(buf, cap, "%s@%s", repo, revision);
}

/* Add the snapshot folder of a Hub model under its ORG/NAME@REV label. */
static studio_model *add_hub_model(studio *s, const char *snapshot, const char *repo,
                                   const char *revision, const char *origin) {
    studio_model *m = setup_add_model(s, snapshot, origin);
    if (m && !m->label[0])
        hub_label(m->label, sizeof m->label, repo, revision);
    return m;
}

/* Add every cached snapshot with a config.json and weights; a snapshot that
 * lacks them is an unfinished download, which `lrc pull` completes. */
static void add_cached_hub_models(studio *s) {
    char cache[HUB_PATH_MAX];
    hub_cached_model *list = NULL;
    size_t n = 0;
    lrc_error err;
    if (hub_cache_dir(cache, sizeof cache, &err) < 0 ||
        hub_cache_list(&list, &n, cache, &err) < 0) {
        tui_metrics_log(s->metrics, err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (list[i].has_config && list[i].has_weights)
            add_hub_model(s, list[i].snapshot, list[i].repo, list[i].revision, "Hub");
    free(list);
}

/* Add a MODEL argument: a path, or the id of a cached Hub model. An id that
 * is not cached is listed as unreadable with the resolver's message. */
static void add_argument(studio *s, const char *arg) {
    char path[HUB_PATH_MAX];
    lrc_error err;
    int rc = hub_resolve_model_arg(path, sizeof path, arg, &err);
    if (rc == 1) {
        hub_id id;
        if (hub_id_parse(&id, arg, &err) == 0) {
            add_hub_model(s, path, id.repo, id.revision, "argument");
            return;
        }
    }
    studio_model *m = setup_add_model(s, arg, "argument");
    if (m && rc < 0) {
        /* Listed under the id as given (not its last part), with the
         * resolver's message in the summary and the log. */
        m->ok = false;
        snprintf(m->error, sizeof m->error, "%s", err.msg);
        hub_printable(m->label, sizeof m->label, arg);
        tui_metrics_log(s->metrics, err.msg);
    }
}

static bool has_config(const char *dir) {
    char p[4300];
    struct stat st;
    snprintf(p, sizeof p, "%.4200s/config.json", dir);
    return stat(p, &st) == 0;
}

/* Add every folder with a config.json under root; returns how many. */
static int add_folder_models(studio *s, const char *root, const char *origin) {
    DIR *d = opendir(root);
    if (!d)
        return 0;
    int added = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", root, e->d_name);
        if (has_config(p) && setup_add_model(s, p, origin))
            added++;
    }
    closedir(d);
    return added;
}

typedef struct recent_run {
    char path[4200];
    double mtime;
} recent_run;

static int newest_first(const void *a, const void *b) {
    double x = ((const recent_run *)a)->mtime, y = ((const recent_run *)b)->mtime;
    if (x < y)
        return 1;
    if (x > y)
        return -1;
    return 0;
}

/* Add the students of the RECENT_RUNS newest runs under runs/. */
static void add_run_students(studio *s, const char *runs) {
    DIR *d = opendir(runs);
    if (!d)
        return;
    recent_run found[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < sizeof found / sizeof found[0]) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(found[n].path, sizeof found[n].path, "%s/%s/student", runs, e->d_name);
        struct stat st;
        if (stat(found[n].path, &st) == 0 && has_config(found[n].path)) {
            found[n].mtime = (double)st.st_mtime;
            n++;
        }
    }
    closedir(d);
    qsort(found, n, sizeof found[0], newest_first);
    for (size_t i = 0; i < n && i < RECENT_RUNS; i++)
        setup_add_model(s, found[i].path, "run student");
}

const studio_model *setup_selected(const studio *s) {
    return s->n_models ? &s->models[s->selected] : NULL;
}

static void set_default_rank(studio *s) {
    const studio_model *m = setup_selected(s);
    if (m && m->ok && !s->opt.rank)
        snprintf(s->rank_text, sizeof s->rank_text, "%d", m->cfg.d / 2 > 0 ? m->cfg.d / 2 : 1);
}

void setup_init(studio *s) {
    distill_options d;
    distill_options_default(&d);
    const studio_options *o = &s->opt;
    snprintf(s->steps_text, sizeof s->steps_text, "%ld", o->steps ? o->steps : d.steps);
    snprintf(s->batch_text, sizeof s->batch_text, "%ld", o->batch ? o->batch : d.batch);
    snprintf(s->seq_text, sizeof s->seq_text, "%ld", o->seq ? o->seq : d.seq);
    snprintf(s->lr_text, sizeof s->lr_text, "%g", o->lr > 0 ? o->lr : d.lr);
    if (o->rank)
        snprintf(s->rank_text, sizeof s->rank_text, "%ld", o->rank);
    if (o->data)
        snprintf(s->data_input, sizeof s->data_input, "%s", o->data);

    for (size_t i = 0; i < o->n_models; i++)
        add_argument(s, o->models[i]);
    if (add_folder_models(s, LRC_DATADIR "/models", "bundled") == 0)
        add_folder_models(s, LRC_SRCDIR "/models", "bundled");
    add_cached_hub_models(s);
    add_run_students(s, o->runs ? o->runs : "runs");
    pthread_mutex_init(&s->count.lock, NULL);
    s->hub = hub_pane_create();
    s->field = s->n_models ? FIELD_TEACHER : FIELD_PATH;
    set_default_rank(s);
}

/* ------------------------------------------------------------------------ */
/* Derived numbers                                                          */
/* ------------------------------------------------------------------------ */

/* The exported student of rank r: the teacher's config with hidden size r
 * and the teacher's head size stated explicitly. */
static llama_config student_config(const llama_config *t, int r) {
    llama_config c = *t;
    c.d = r;
    c.head_dim_explicit = true;
    return c;
}

static bool parse_long_text(const char *s, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Count the tokens of c->data with the tokenizer of c->model (file size / 4
 * for .u32 and .bin ids), then store the result under the lock. */
static void *count_main(void *arg) {
    setup_count *c = arg;
    tokenizer *tok = NULL;
    lrc_error err;
    if (tokenizer_load(&tok, c->model, &err) < 0)
        tok = NULL;
    train_data data;
    memset(&data, 0, sizeof data);
    size_t tokens = 0;
    char error[LRC_ERROR_MAX] = "";
    if (train_data_load(&data, c->data, DATA_FORMAT_AUTO, tok, c->vocab, &err) == 0) {
        tokens = data.n_tokens;
        if (tokens == 0)
            snprintf(error, sizeof error, "the data file holds no tokens");
    } else {
        snprintf(error, sizeof error, "%s", err.msg);
    }
    train_data_free(&data);
    if (tok)
        tokenizer_free(tok);
    pthread_mutex_lock(&c->lock);
    c->tokens = tokens;
    snprintf(c->error, sizeof c->error, "%s", error);
    c->finished = true;
    c->generation++;
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Take the result of a finished count. It belongs to s->data_key, because
 * the key changes only when a count starts. */
static void collect_count(studio *s) {
    setup_count *c = &s->count;
    if (!c->started)
        return;
    pthread_mutex_lock(&c->lock);
    bool finished = c->finished;
    pthread_mutex_unlock(&c->lock);
    if (!finished)
        return;
    pthread_join(c->thread, NULL);
    c->started = false;
    c->finished = false;
    s->data_tokens = c->tokens;
    snprintf(s->data_error, sizeof s->data_error, "%s", c->error);
}

/* Tokens in the data file for the selected teacher, counted once per
 * (teacher, data) pair on the count thread. A change while a count runs
 * starts the next count when that one ends. */
static void count_data_tokens(studio *s) {
    collect_count(s);
    const studio_model *m = setup_selected(s);
    char key[sizeof s->data_key];
    snprintf(key, sizeof key, "%s\n%s", m ? m->path : "", s->data_input);
    if (strcmp(key, s->data_key) == 0 || s->count.started)
        return;
    snprintf(s->data_key, sizeof s->data_key, "%s", key);
    s->data_tokens = 0;
    s->data_error[0] = '\0';
    struct stat st;
    if (!s->data_input[0] || stat(s->data_input, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(s->data_error, sizeof s->data_error, "%s",
                 s->data_input[0] ? "file not found" : "no data file");
        return;
    }
    if (!m || !m->ok) {
        snprintf(s->data_error, sizeof s->data_error, "choose a teacher to count tokens");
        return;
    }
    setup_count *c = &s->count;
    snprintf(c->model, sizeof c->model, "%s", m->path);
    snprintf(c->data, sizeof c->data, "%s", s->data_input);
    c->vocab = m->cfg.V;
    c->finished = false;
    snprintf(s->data_error, sizeof s->data_error, "counting the tokens of the data file…");
    if (pthread_create(&c->thread, NULL, count_main, c) == 0) {
        c->started = true;
        return;
    }
    /* Without a thread, count here and take the result at once. */
    count_main(c);
    s->data_tokens = c->tokens;
    snprintf(s->data_error, sizeof s->data_error, "%s", c->error);
}

/* ------------------------------------------------------------------------ */
/* Drawing                                                                  */
/* ------------------------------------------------------------------------ */

static void draw_field(studio *s, int y, int x, int w, int field, const char *value,
                       const char *note) {
    bool focus = s->field == field;
    char label[32];
    snprintf(label, sizeof label, "%-11s", field_names[field]);
    tui_term_text(&s->term, y, x, 12, focus ? TUI_FOCUS : TUI_LABEL, label);
    char shown[4200];
    snprintf(shown, sizeof shown, focus ? "[%s_]" : " %s ", value);
    int used = tui_term_text(&s->term, y, x + 12, w - 12, TUI_VALUE, shown);
    if (note && used + 14 < w)
        tui_term_text(&s->term, y, x + 12 + used + 1, w - 13 - used, TUI_DIM, note);
}

static void draw_teachers(studio *s, int y, int x, int h, int w) {
    tui_term_box(&s->term, y, x, h, w, "teachers", s->field == FIELD_TEACHER);
    int rows = h - 2;
    if (s->n_models == 0) {
        hub_pane_wrap(&s->term, y + 1, x + 2, w - 4, rows, TUI_DIM,
                      "no models found; type a model folder or a Hub id ORG/NAME in 'model "
                      "path' and press Enter");
        return;
    }
    size_t first = s->selected >= (size_t)rows ? s->selected - (size_t)rows + 1 : 0;
    for (int r = 0; r < rows && first + (size_t)r < s->n_models; r++) {
        const studio_model *m = &s->models[first + (size_t)r];
        bool sel = first + (size_t)r == s->selected;
        const char *base = strrchr(m->path, '/');
        base = base && base[1] ? base + 1 : m->path;
        if (strcmp(base, "student") == 0 && strrchr(m->path, '/') > m->path) {
            /* runs/NAME/student: show NAME/student. */
            const char *p = strrchr(m->path, '/') - 1;
            while (p > m->path && p[-1] != '/')
                p--;
            base = p;
        }
        if (m->label[0])
            base = m->label;
        char line[512];
        snprintf(line, sizeof line, "%s %s  (%s%s)", sel ? ">" : " ", base, m->origin,
                 m->ok ? "" : ", unreadable");
        tui_term_text(&s->term, y + 1 + r, x + 1, w - 2,
                      sel     ? TUI_FOCUS
                      : m->ok ? TUI_NORMAL
                              : TUI_ERROR,
                      line);
    }
}

static void draw_summary(studio *s, int y, int x, int h, int w) {
    tui_term_box(&s->term, y, x, h, w, "model (lrc info)", false);
    const studio_model *m = setup_selected(s);
    int r = y + 1, cw = w - 4;
    if (!m) {
        tui_term_text(&s->term, r, x + 2, cw, TUI_DIM, "no model chosen");
        return;
    }
    char line[4400], a[32], b[32];
    snprintf(line, sizeof line, "path         %s", m->path);
    tui_term_text(&s->term, r++, x + 2, cw, TUI_NORMAL, line);
    if (m->label[0])
        snprintf(line, sizeof line, "origin       Hugging Face Hub cache, %s", m->label);
    else
        snprintf(line, sizeof line, "origin       %s", m->origin);
    tui_term_text(&s->term, r++, x + 2, cw, TUI_LABEL, line);
    if (!m->ok) {
        hub_pane_wrap(&s->term, r, x + 2, cw, y + h - 1 - r, TUI_ERROR, m->error);
        return;
    }
    const llama_config *c = &m->cfg;
    snprintf(line, sizeof line, "format       %s, %s (%s)", m->format, c->architecture,
             c->model_type);
    tui_term_text(&s->term, r++, x + 2, cw, TUI_NORMAL, line);
    snprintf(line, sizeof line, "hidden d     %d, %d layers, %d heads (%d kv) of %d", c->d,
             c->n_layers, c->H, c->Hkv, c->h);
    tui_term_text(&s->term, r++, x + 2, cw, TUI_NORMAL, line);
    snprintf(line, sizeof line, "mlp width    %d, vocab %d, context %d", c->I, c->V, c->max_seq);
    tui_term_text(&s->term, r++, x + 2, cw, TUI_NORMAL, line);
    studio_format_count(a, sizeof a, (double)m->params);
    studio_format_bytes(b, sizeof b, m->memory);
    snprintf(line, sizeof line, "parameters   %s (%zu); memory to run %s", a, m->params, b);
    if (r < y + h - 1)
        tui_term_text(&s->term, r++, x + 2, cw, TUI_VALUE, line);
}

static void draw_student(studio *s, int y, int x, int h, int w) {
    tui_term_box(&s->term, y, x, h, w, "student", s->field == FIELD_RANK);
    const studio_model *m = setup_selected(s);
    int r = y + 1, cw = w - 4;
    long rank = 0, seq = 0;
    bool rank_ok = m && m->ok && parse_long_text(s->rank_text, 1, m->cfg.d, &rank);
    char line[LRC_ERROR_MAX + 256], a[32], b[32];

    snprintf(line, sizeof line, "rank %s%s%s", s->field == FIELD_RANK ? "[" : "", s->rank_text,
             s->field == FIELD_RANK ? "_]  Left/Right, PgUp/PgDn" : "");
    tui_term_text(&s->term, r++, x + 2, cw, s->field == FIELD_RANK ? TUI_FOCUS : TUI_VALUE, line);
    if (!m || !m->ok) {
        tui_term_text(&s->term, r, x + 2, cw, TUI_DIM, "choose a readable teacher");
        return;
    }
    if (!rank_ok) {
        snprintf(line, sizeof line, "rank must be an integer in 1..%d (the teacher's hidden size)",
                 m->cfg.d);
        tui_term_text(&s->term, r, x + 2, cw, TUI_ERROR, line);
        return;
    }
    llama_config sc = student_config(&m->cfg, (int)rank);
    size_t sp = llama_config_param_count(&sc);
    studio_format_count(a, sizeof a, (double)sp);
    studio_format_bytes(b, sizeof b, 4.0 * (double)sp);
    snprintf(line, sizeof line, "student      %s parameters, %.2fx smaller, %s in fp32", a,
             sp ? (double)m->params / (double)sp : 0.0, b);
    tui_term_text(&s->term, r++, x + 2, cw, TUI_NORMAL, line);

    count_data_tokens(s);
    if (!parse_long_text(s->seq_text, 1, 1 << 20, &seq) || s->data_tokens == 0) {
        snprintf(line, sizeof line, "theory (guidance): %s",
                 s->data_tokens == 0 ? s->data_error : "seq is not a positive integer");
        hub_pane_wrap(&s->term, r, x + 2, cw, y + h - 1 - r, TUI_DIM, line);
        return;
    }
    size_t n = theory_samples(s->data_tokens, (size_t)seq);
    double root = sqrt((double)n);
    studio_format_count(a, sizeof a, (double)s->data_tokens);
    /* √n comes first, so a narrow box cuts the window count's words, never
     * the number the next line uses. */
    snprintf(line, sizeof line,
             "theory (guidance): r* ∝ √n; √n = %.1f, n = %zu windows of %ld tokens", root, n, seq);
    tui_term_text(&s->term, r++, x + 2, cw, TUI_LABEL, line);
    if (r < y + h - 1 && root > 0) {
        snprintf(line, sizeof line,
                 "rank %ld = %.2f·√n; %s tokens; doubling the data moves r* by "
                 "√2",
                 rank, (double)rank / root, a);
        tui_term_text(&s->term, r, x + 2, cw, TUI_LABEL, line);
    }
}

void setup_draw(studio *s) {
    int W = COLS, H = LINES;
    tui_term_fill(&s->term, 0, 0, W, TUI_TITLE);
    tui_term_text(&s->term, 0, 1, W - 2, TUI_TITLE,
                  "lrc studio · setup: choose a teacher, a rank and data, then Enter");

    int left = W * 2 / 5, top = 2;
    /* Below the list: model path, a gap, five fields, the error, the last
     * log line and the key line. */
    int list_h = H - 13 < 14 ? H - 13 : 14;
    draw_teachers(s, top, 0, list_h, left);
    int fy = top + list_h + 1;
    draw_field(s, fy, 1, left - 2, FIELD_PATH, s->path_input, NULL);

    int rx = left + 1, rw = W - rx;
    hub_pane_view *pull = s->hub ? malloc(sizeof *pull) : NULL;
    if (pull)
        hub_pane_view_get(s->hub, pull);
    bool pulling = pull && pull->state == HUB_PANE_RUNNING;
    if (pull && pull->state != HUB_PANE_IDLE)
        hub_pane_draw(pull, &s->term, top, rx, SUMMARY_ROWS, rw);
    else
        draw_summary(s, top, rx, SUMMARY_ROWS, rw);
    free(pull);
    draw_student(s, top + SUMMARY_ROWS, rx, 6, rw);

    int y = top + 14;
    if (y < fy + 2)
        y = fy + 2;
    /* The hint under the model path, on the rows before the data field. */
    if (s->field == FIELD_PATH)
        hub_pane_wrap(&s->term, fy + 1, 3, left - 4, y - fy - 1, TUI_DIM,
                      "a model folder or a Hub id ORG/NAME[@REV]; Enter adds it");
    /* An empty data field shows how to make the curriculum the bundled
     * teacher learned from. */
    draw_field(s, y++, 1, W - 2, FIELD_DATA, s->data_input,
               s->data_input[0] ? "JSONL, text or .u32 ids"
                                : "JSONL, text or .u32 ids; 'lrc corpus --out DIR' writes "
                                  "DIR/train.jsonl");
    draw_field(s, y++, 1, W - 2, FIELD_STEPS, s->steps_text, "optimiser steps");
    draw_field(s, y++, 1, W - 2, FIELD_BATCH, s->batch_text, "sequences per step");
    draw_field(s, y++, 1, W - 2, FIELD_SEQ, s->seq_text, "tokens per sequence");
    draw_field(s, y++, 1, W - 2, FIELD_LR, s->lr_text,
               "peak learning rate; other settings: "
               "lrc-distill(1) defaults");
    /* The error and the last log line wrap over the rows left above the key
     * line; the log line keeps at least its own row. */
    const char *last = tui_metrics_log_line(s->snap, 0);
    int free_rows = H - 1 - y;
    int log_rows = last ? hub_pane_wrap(NULL, 0, 0, W - 2, free_rows, TUI_DIM, last) : 0;
    if (s->setup_error[0] && free_rows > 0) {
        int err_rows = hub_pane_wrap(NULL, 0, 0, W - 2, free_rows, TUI_ERROR, s->setup_error);
        if (last && err_rows > free_rows - 1)
            err_rows = free_rows - 1;
        if (err_rows > free_rows - log_rows)
            log_rows = free_rows - err_rows;
        if (err_rows > 0)
            y += hub_pane_wrap(&s->term, y, 1, W - 2, err_rows, TUI_ERROR, s->setup_error);
    }
    if (last && log_rows > 0)
        hub_pane_wrap(&s->term, H - 1 - log_rows, 1, W - 2, log_rows, TUI_DIM, last);
    tui_term_fill(&s->term, H - 1, 0, W, TUI_STATUS);
    tui_term_text(&s->term, H - 1, 1, W - 2, TUI_STATUS,
                  s->field == FIELD_PATH ? "Tab field  Enter add the model  Esc quit  ? help"
                  : pulling ? "Tab field  Up/Down teacher  Enter start  c cancel download  ? help  "
                              "q quit"
                            : "Tab field  Up/Down teacher  Left/Right rank  Enter start  ? help  "
                              "q quit");
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                     */
/* ------------------------------------------------------------------------ */

static char *field_text(studio *s, int field, size_t *cap) {
    switch (field) {
    case FIELD_PATH:
        *cap = sizeof s->path_input;
        return s->path_input;
    case FIELD_RANK:
        *cap = sizeof s->rank_text;
        return s->rank_text;
    case FIELD_DATA:
        *cap = sizeof s->data_input;
        return s->data_input;
    case FIELD_STEPS:
        *cap = sizeof s->steps_text;
        return s->steps_text;
    case FIELD_BATCH:
        *cap = sizeof s->batch_text;
        return s->batch_text;
    case FIELD_SEQ:
        *cap = sizeof s->seq_text;
        return s->seq_text;
    case FIELD_LR:
        *cap = sizeof s->lr_text;
        return s->lr_text;
    default:
        *cap = 0;
        return NULL;
    }
}

static void change_rank(studio *s, long delta) {
    const studio_model *m = setup_selected(s);
    long r = atol(s->rank_text) + delta, max = m && m->ok ? m->cfg.d : 1;
    if (r < 1)
        r = 1;
    if (r > max)
        r = max;
    snprintf(s->rank_text, sizeof s->rank_text, "%ld", r);
}

/* Check the fields and fill s->dopt; returns -1 with setup_error set. */
static int build_options(studio *s) {
    const studio_model *m = setup_selected(s);
    distill_options *o = &s->dopt;
    distill_options_default(o);
    if (!m || !m->ok) {
        snprintf(s->setup_error, sizeof s->setup_error,
                 "choose a readable teacher first (or type a model folder in 'model path')");
        return -1;
    }
    struct {
        const char *name, *text;
        long min, max;
        long *out;
    } ints[] = {{"rank", s->rank_text, 1, m->cfg.d, &o->rank},
                {"steps", s->steps_text, 1, 1L << 30, &o->steps},
                {"batch", s->batch_text, 1, 1 << 20, &o->batch},
                {"seq", s->seq_text, 1, 1 << 20, &o->seq}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (!parse_long_text(ints[i].text, ints[i].min, ints[i].max, ints[i].out)) {
            snprintf(s->setup_error, sizeof s->setup_error, "%s '%s' is not an integer in %ld..%ld",
                     ints[i].name, ints[i].text, ints[i].min, ints[i].max);
            return -1;
        }
    char *end;
    double lr = strtod(s->lr_text, &end);
    if (end == s->lr_text || *end || !(lr > 0) || !isfinite(lr)) {
        snprintf(s->setup_error, sizeof s->setup_error, "lr '%s' is not a positive finite number",
                 s->lr_text);
        return -1;
    }
    if (!s->data_input[0]) {
        snprintf(s->setup_error, sizeof s->setup_error,
                 "give a data file: JSONL with a \"text\" field, plain text, or .u32 or .bin ids");
        return -1;
    }
    struct stat st;
    if (stat(s->data_input, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(s->setup_error, sizeof s->setup_error,
                 "data file '%.900s' not found or not a regular file; give an existing file "
                 "('lrc corpus --out DIR' writes DIR/train.jsonl)",
                 s->data_input);
        return -1;
    }
    o->lr = lr;
    o->teacher = m->path;
    o->data = s->data_input;
    o->out = s->opt.out;
    if (s->opt.probe_every > 0)
        o->probe_every = s->opt.probe_every;
    else if (s->opt.probe_every < 0)
        o->probe_every = 0;
    if (s->opt.save_every >= 0)
        o->save_every = s->opt.save_every;
    o->threads = s->opt.threads;
    if (s->opt.warmup >= 0) {
        o->warmup = s->opt.warmup;
        o->warmup_given = true;
    }
    if (s->opt.clone_weight >= 0)
        o->clone_weight = s->opt.clone_weight;
    if (s->opt.init_svd >= 0) {
        o->svd = s->opt.init_svd == 1;
        o->init_method_given = true;
    }
    if (distill_options_check(o) != 0) {
        snprintf(s->setup_error, sizeof s->setup_error,
                 "settings rejected; the reason is the "
                 "last log line below");
        return -1;
    }
    return 0;
}

static void start(studio *s) {
    s->setup_error[0] = '\0';
    if (build_options(s) < 0)
        return;
    studio_start_run(s);
}

/* Start downloading the typed Hub id in the download pane. */
static void start_download(studio *s) {
    lrc_error err;
    if (!s->hub) {
        snprintf(s->setup_error, sizeof s->setup_error,
                 "cannot download %.900s: the download pane could not be created (out of memory)",
                 s->path_input);
        return;
    }
    if (hub_pane_start(s->hub, s->path_input, &err) < 0) {
        snprintf(s->setup_error, sizeof s->setup_error, "%s", err.msg);
        return;
    }
    char cache[HUB_PATH_MAX], line[1700], endpoint[1024];
    hub_url_redact(endpoint, sizeof endpoint, hub_default_endpoint());
    if (hub_cache_dir(cache, sizeof cache, &err) < 0)
        snprintf(cache, sizeof cache, "the Hub cache");
    snprintf(line, sizeof line, "downloading %.300s from %.300s into %.1000s", s->path_input,
             endpoint, cache);
    tui_metrics_log(s->metrics, line);
    s->setup_error[0] = '\0';
    s->path_input[0] = '\0';
    s->field = FIELD_TEACHER;
}

/* Add the typed folder or Hub id: a cached id is added at once, and an
 * uncached one is downloaded first. */
static void add_typed_model(studio *s) {
    if (!s->path_input[0])
        return;
    char path[HUB_PATH_MAX];
    lrc_error err;
    int rc = hub_resolve_model_arg(path, sizeof path, s->path_input, &err);
    if (rc < 0 && !hub_id_is_valid(s->path_input)) {
        /* A mistyped id (org/tiny@) gets its error and stays out of the list. */
        snprintf(s->setup_error, sizeof s->setup_error, "%s", err.msg);
        return;
    }
    if (rc < 0) {
        start_download(s);
        return;
    }
    struct stat st;
    if (rc == 0 && stat(s->path_input, &st) != 0) {
        /* A path that does not exist is a typo, not a teacher to list. */
        snprintf(s->setup_error, sizeof s->setup_error,
                 "model path '%.900s' not found; type an existing model folder or file, or a "
                 "Hub id ORG/NAME[@REV]",
                 s->path_input);
        return;
    }
    hub_id id;
    studio_model *m;
    if (rc == 1 && hub_id_parse(&id, s->path_input, &err) == 0)
        m = add_hub_model(s, path, id.repo, id.revision, "Hub");
    else
        m = setup_add_model(s, s->path_input, "typed");
    if (!m) {
        snprintf(s->setup_error, sizeof s->setup_error,
                 "the list holds %d models; no room for %.900s", STUDIO_MAX_MODELS, s->path_input);
        return;
    }
    s->selected = (size_t)(m - s->models);
    s->setup_error[0] = '\0';
    if (!m->ok)
        snprintf(s->setup_error, sizeof s->setup_error, "%s", m->error);
    s->path_input[0] = '\0';
    s->field = FIELD_TEACHER;
    set_default_rank(s);
}

/* Add the model of a finished download and select it, unless a run is in
 * progress (its screens name the selected teacher). A failed or cancelled
 * download stays in the pane until c closes it. */
static void download_ended(studio *s, const hub_pane_view *v) {
    char line[LRC_ERROR_MAX + HUB_PATH_MAX + 128], bytes[32];
    if (v->state == HUB_PANE_FAILED) {
        tui_metrics_log(s->metrics, v->message);
        return;
    }
    if (v->state == HUB_PANE_CANCELLED) {
        snprintf(line, sizeof line,
                 "download of %s cancelled; the next download of it resumes a partial file",
                 v->spec);
        tui_metrics_log(s->metrics, line);
        return;
    }

    studio_format_bytes(bytes, sizeof bytes, (double)v->bytes_done);
    snprintf(line, sizeof line, "downloaded %s@%s: %zu of %zu files fetched (%s), into %s", v->repo,
             v->revision, v->n_downloaded, v->n_files, bytes, v->snapshot);
    tui_metrics_log(s->metrics, line);
    hub_pane_dismiss(s->hub);
    studio_model *m = add_hub_model(s, v->snapshot, v->repo, v->revision, "Hub");
    if (!m) {
        snprintf(s->setup_error, sizeof s->setup_error, "the list holds %d models; no room for %s",
                 STUDIO_MAX_MODELS, v->repo);
        return;
    }
    if (!m->ok)
        snprintf(s->setup_error, sizeof s->setup_error, "%s", m->error);
    if (s->thread_started)
        return;
    s->selected = (size_t)(m - s->models);
    if (s->field == FIELD_PATH && !s->path_input[0])
        s->field = FIELD_TEACHER;
    set_default_rank(s);
}

uint64_t setup_poll(studio *s) {
    pthread_mutex_lock(&s->count.lock);
    uint64_t counted = s->count.generation;
    pthread_mutex_unlock(&s->count.lock);
    if (!s->hub)
        return counted;
    hub_pane_view *v = malloc(sizeof *v);
    if (v && hub_pane_finish(s->hub, v))
        download_ended(s, v);
    free(v);
    return hub_pane_version(s->hub) + counted;
}

void setup_close(studio *s) {
    hub_pane_destroy(s->hub);
    s->hub = NULL;
    if (s->count.started)
        pthread_join(s->count.thread, NULL);
    s->count.started = false;
    pthread_mutex_destroy(&s->count.lock);
}

void setup_key(studio *s, int ch) {
    size_t cap;
    char *text = field_text(s, s->field, &cap);
    const studio_model *m = setup_selected(s);
    long eighth = m && m->ok && m->cfg.d >= 8 ? m->cfg.d / 8 : 1;

    switch (ch) {
    case '\t':
        s->field = (s->field + 1) % N_FIELDS;
        return;
    case KEY_BTAB:
        s->field = (s->field + N_FIELDS - 1) % N_FIELDS;
        return;
    case KEY_UP:
        if (s->field == FIELD_TEACHER && s->selected > 0) {
            s->selected--;
            set_default_rank(s);
        } else if (s->field > 0 && s->field != FIELD_TEACHER) {
            s->field--;
        }
        return;
    case KEY_DOWN:
        if (s->field == FIELD_TEACHER && s->selected + 1 < s->n_models) {
            s->selected++;
            set_default_rank(s);
        } else if (s->field != FIELD_TEACHER && s->field + 1 < N_FIELDS) {
            s->field++;
        }
        return;
    case KEY_LEFT:
    case KEY_RIGHT:
        if (s->field == FIELD_RANK || s->field == FIELD_TEACHER) {
            change_rank(s, ch == KEY_LEFT ? -1 : 1);
            s->setup_error[0] = '\0';
        }
        return;
    case KEY_PPAGE:
    case KEY_NPAGE:
        change_rank(s, ch == KEY_PPAGE ? eighth : -eighth);
        s->setup_error[0] = '\0';
        return;
    case KEY_ENTER:
    case '\r':
    case '\n':
        if (s->field == FIELD_PATH && s->path_input[0])
            add_typed_model(s);
        else
            start(s);
        return;
    case 27:
        s->quit = true;
        return;
    case KEY_BACKSPACE:
    case 127:
    case 8:
        if (text && text[0]) {
            text[strlen(text) - 1] = '\0';
            s->setup_error[0] = '\0'; /* an edit clears the last error */
        }
        return;
    default:
        break;
    }

    if (!text) {
        /* The teacher list takes no text: q quits, a opens Ask, h halves the rank, c
         * cancels a download or closes its pane. */
        if (ch == 'c' && s->hub) {
            if (hub_pane_running(s->hub))
                hub_pane_cancel(s->hub);
            else
                hub_pane_dismiss(s->hub);
        } else if (ch == 'q') {
            s->quit = true;
        } else if (ch == 'a') {
            s->ask_return = SCREEN_SETUP;
            s->ask_target = 1;
            s->screen = SCREEN_ASK;
        } else if (ch == 'h' && m && m->ok) {
            snprintf(s->rank_text, sizeof s->rank_text, "%d", m->cfg.d / 2 > 0 ? m->cfg.d / 2 : 1);
        }
        return;
    }
    if (s->field == FIELD_RANK && ch == 'q') {
        s->quit = true;
        return;
    }
    if (ch >= 32 && ch < 127) {
        bool numeric = s->field == FIELD_RANK || s->field == FIELD_STEPS ||
                       s->field == FIELD_BATCH || s->field == FIELD_SEQ;
        if (numeric && (ch < '0' || ch > '9'))
            return;
        size_t n = strlen(text);
        if (n + 1 < cap) {
            text[n] = (char)ch;
            text[n + 1] = '\0';
            s->setup_error[0] = '\0';
        }
    }
}
