/*
 * The Ask screen: a readline prompt for a question, and one pane per PR-CoT
 * stage (chain of thought, each reflection, synthesis) filled as text
 * streams, with each stage's seconds in its title. F2 switches the method
 * (cot, reflect, prcot); F3 the model that answers: the student, the
 * teacher, or an OpenAI-compatible endpoint (--endpoint and --model-name,
 * or "endpoint" and "model_name" in config.json; the key comes from
 * LRC_API_KEY or OPENAI_API_KEY only and is never drawn). F4 puts another
 * model beside it, each side answering on its own worker thread.
 *
 * Backends stay open between questions, one slot per model. The endpoint
 * runs a stage's reflections concurrently (backend_http.h); their tokens
 * interleave and the stage index routes each piece to its pane.
 *
 * The student: this run's exported student/ folder once the run has ended;
 * while the run trains (or after a stop, before any export), the live
 * student, whose parameters the trainer's thread copies into a buffer of
 * ours between two steps (trainer_request_snapshot: one memcpy, the trainer
 * never waits for us). The worker then generates its weights
 * (live_student.h) and wraps them in a local backend, fresh for every
 * question, so each question sees the newest step. Without a run, the
 * newest run student in the teacher list.
 */
#define _POSIX_C_SOURCE 200809L

#include "tui/studio_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <ncurses.h>

#include "model/tokenizer.h"
#include "reason/backend_http.h"
#include "reason/backend_local.h"
#include "reason/chat_template.h"
#include "reason/prompts.h"
#include "tui/hub_pane.h"
#include "tui/live_student.h"
#include "tui/readline_bridge.h"

#define ASK_MAX_TOKENS 256
#define ENDPOINT_MAX_TOKENS 512
#define ENDPOINT_PARALLEL 4
#define SNAPSHOT_POLL_NS 10000000L /* 10 ms between checks of a pending snapshot */

static const char *const model_names[ASK_N_MODELS] = {"student", "teacher", "endpoint"};

/* The run's student for questions asked while it trains. The worker of the
 * student's side owns it while it runs; the UI thread frees it only after
 * joining that worker. */
struct ask_live {
    bool opened;
    tui_live_student ls;
    tokenizer *tok;
    chat_template ct;
    bool ct_loaded;
    trainer_snapshot snap;
};

/* ------------------------------------------------------------------------ */
/* Models                                                                   */
/* ------------------------------------------------------------------------ */

/* Whether this run's student can be asked live: the trainer exists (the
 * run has left TUI_RUN_STARTING) and no export is there yet. */
static bool run_student_live(const studio *s) {
    if (!s->thread_started)
        return false;
    /* The trainer's thread writes student_dir before it sets thread_done. */
    if (atomic_load(&s->thread_done))
        return !s->session.student_dir[0] && s->session.student.params &&
               s->session.tr.model.params;
    return s->snap->state == TUI_RUN_RUNNING || s->snap->state == TUI_RUN_PAUSED ||
           s->snap->state == TUI_RUN_STOPPING;
}

/* The student on disk: this run's export, else the newest listed run student. */
static const char *student_path(studio *s) {
    /* The trainer's thread writes student_dir before it sets thread_done. */
    if (s->thread_started && atomic_load(&s->thread_done) && s->session.student_dir[0])
        return s->session.student_dir;
    for (size_t i = 0; i < s->n_models; i++)
        if (strcmp(s->models[i].origin, "run student") == 0 && s->models[i].ok)
            return s->models[i].path;
    return NULL;
}

static const char *teacher_path(const studio *s) {
    const studio_model *m = setup_selected(s);
    return m && m->ok ? m->path : NULL;
}

/* Whether model m can be chosen with F3 or F4. */
static bool model_available(const studio *s, int m) {
    return m != ASK_ENDPOINT || s->ask_backend[ASK_ENDPOINT] != NULL;
}

/* ------------------------------------------------------------------------ */
/* The live student                                                         */
/* ------------------------------------------------------------------------ */

/* The folder holding a model's tokenizer files: the path itself, or the
 * folder of a llama2.c .bin file. */
static void model_folder(const char *path, char *dir, size_t cap) {
    struct stat st;
    snprintf(dir, cap, "%s", path);
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, cap, ".");
    }
}

static void live_free(struct ask_live *l) {
    if (!l)
        return;
    if (l->opened)
        tui_live_student_free(&l->ls);
    tokenizer_free(l->tok);
    if (l->ct_loaded)
        chat_template_free(&l->ct);
    free(l);
}

/* Size the live student and load the teacher's tokenizer and chat template.
 * The export copies the same files, so both students format prompts alike. */
static struct ask_live *live_open(studio *s, lrc_error *err) {
    struct ask_live *l = calloc(1, sizeof *l);
    if (!l) {
        lrc_errorf(err, "live student: out of memory");
        return NULL;
    }
    const char *teacher = s->session.teacher_dir[0] ? s->session.teacher_dir : s->dopt.teacher;
    char dir[4096];
    model_folder(teacher, dir, sizeof dir);
    if (tui_live_student_init(&l->ls, &s->session.student, s->session.rd.path, err) < 0) {
        free(l);
        return NULL;
    }
    l->opened = true;
    if (tokenizer_load(&l->tok, teacher, err) < 0) {
        l->tok = NULL;
        live_free(l);
        return NULL;
    }
    if (chat_template_load(dir, &l->ct, err) < 0) {
        live_free(l);
        return NULL;
    }
    l->ct_loaded = true;
    return l;
}

/* Fill the live student's parameters from the trainer: a snapshot handed
 * over between steps, or, once the trainer's thread has ended, the run's own
 * array, which nothing writes any more. Returns 0, or -1 when cancelled. */
static int live_fetch(studio *s, struct ask_live *l, lrc_error *err) {
    trainer *t = &s->session.tr;
    l->snap.params = l->ls.st.params;
    if (!atomic_load(&s->thread_done)) {
        if (trainer_request_snapshot(t, &l->snap) < 0)
            return lrc_errorf(err,
                              "the trainer has another copy of the student pending; ask again");
        struct timespec nap = {0, SNAPSHOT_POLL_NS};
        while (!atomic_load(&l->snap.done)) {
            bool ended = atomic_load(&s->thread_done);
            pthread_mutex_lock(&s->ask.lock);
            bool cancel = s->ask.cancel;
            pthread_mutex_unlock(&s->ask.lock);
            if ((cancel || ended) && trainer_cancel_snapshot(t, &l->snap)) {
                if (cancel)
                    return lrc_errorf(err, "cancelled");
                goto copy_own; /* the trainer ended with the request pending */
            }
            /* Not yet taken, or taken by the loop, whose copy ends soon. */
            nanosleep(&nap, NULL);
        }
        l->ls.step = l->snap.step;
        return 0;
    }
copy_own:
    /* The trainer's thread has ended: nothing writes the parameters. */
    memcpy(l->ls.st.params, s->session.student.params,
           s->session.student.n_params * sizeof *l->ls.st.params);
    l->ls.step = t->step;
    return 0;
}

/* Open slot ASK_SLOT_LIVE over the run's student at its newest step, and
 * name the step in side i's label. Worker thread only. */
static int live_backend(studio *s, size_t side, lrc_error *err) {
    if (!s->ask_live && !(s->ask_live = live_open(s, err)))
        return -1;
    struct ask_live *l = s->ask_live;
    if (live_fetch(s, l, err) < 0)
        return -1;
    tui_live_student_generate(&l->ls);

    reason_backend_free(s->ask_backend[ASK_SLOT_LIVE]);
    s->ask_backend[ASK_SLOT_LIVE] = NULL;
    reason_local_options lo = {0};
    lo.share_prefix = 1;
    lo.sampling.max_tokens = ASK_MAX_TOKENS;
    lo.sampling.top_p = 1.0;
    if (reason_backend_local_wrap(&l->ls.model, l->tok, &l->ct, &lo, &s->ask_backend[ASK_SLOT_LIVE],
                                  err) < 0)
        return -1;
    char label[512];
    snprintf(label, sizeof label, "student: %.400s, live at step %lld of %lld", s->session.rd.path,
             (long long)l->ls.step, (long long)s->session.tr.cfg.steps);
    tui_ask_set_label(&s->ask, side, label);
    return 0;
}

void ask_release_run(studio *s) {
    bool live = false;
    for (size_t i = 0; i < TUI_ASK_SIDES; i++)
        live |= s->ask_job[i].started && s->ask_job[i].live;
    if (live) {
        tui_ask_cancel(&s->ask);
        for (size_t i = 0; i < TUI_ASK_SIDES; i++)
            if (s->ask_job[i].started) {
                pthread_join(s->ask_job[i].thread, NULL);
                s->ask_job[i].started = false;
            }
        s->ask_running = false;
    }
    reason_backend_free(s->ask_backend[ASK_SLOT_LIVE]);
    s->ask_backend[ASK_SLOT_LIVE] = NULL;
    live_free(s->ask_live);
    s->ask_live = NULL;
}

/* ------------------------------------------------------------------------ */
/* The workers                                                              */
/* ------------------------------------------------------------------------ */

/* Open (or keep) the local backend of slot i for path. Called by the
 * slot's worker only. */
static int backend_for(studio *s, size_t i, const char *path, lrc_error *err) {
    if (s->ask_backend[i] && strcmp(s->ask_backend_path[i], path) == 0)
        return 0;
    reason_backend_free(s->ask_backend[i]);
    s->ask_backend[i] = NULL;
    reason_local_options lo = {0};
    lo.share_prefix = 1;
    lo.sampling.max_tokens = ASK_MAX_TOKENS;
    lo.sampling.top_p = 1.0;
    if (reason_backend_local_open(path, &lo, &s->ask_backend[i], err) < 0)
        return -1;
    snprintf(s->ask_backend_path[i], sizeof s->ask_backend_path[i], "%s", path);
    return 0;
}

/* Answer one side of the question. The two sides use different slots. */
static void *ask_thread(void *arg) {
    studio_ask_job *job = arg;
    studio *s = job->s;
    lrc_error err = {{0}};
    reason_backend *b = NULL;
    int rc = 0;
    if (job->model == ASK_ENDPOINT) {
        b = s->ask_backend[ASK_ENDPOINT];
    } else if (job->live) {
        rc = live_backend(s, job->side, &err);
        b = s->ask_backend[ASK_SLOT_LIVE];
    } else {
        rc = backend_for(s, (size_t)job->model, job->path, &err);
        b = s->ask_backend[job->model];
    }
    if (rc < 0) {
        tui_ask_finish(&s->ask, job->side, NULL, -1, err.msg);
        atomic_store(&job->done, true);
        return NULL;
    }

    tui_ask_ctx ctx = {.store = &s->ask, .side = job->side};
    prcot_callbacks cb = tui_ask_callbacks(&ctx);
    prcot_options po = {.method = s->ask_job_method, .prompts = &s->prompts};
    prcot_result r;
    memset(&r, 0, sizeof r);
    rc = prcot_run(b, &po, s->ask_question, &cb, &r, &err);
    tui_ask_finish(&s->ask, job->side, &r, rc, err.msg);
    prcot_result_free(&r);
    atomic_store(&job->done, true);
    return NULL;
}

/* Fill the job of side i for model m and write its pane label. Returns -1,
 * with the reason in ask_note, when model m is not available. */
static int plan_side(studio *s, size_t i, int m, char *label, size_t cap) {
    studio_ask_job *job = &s->ask_job[i];
    memset(job, 0, sizeof *job);
    job->s = s;
    job->side = i;
    job->model = m;

    if (m == ASK_ENDPOINT) {
        snprintf(label, cap, "endpoint: %.480s", s->ask_backend[ASK_ENDPOINT]->label);
        return 0;
    }
    if (m == ASK_STUDENT && run_student_live(s)) {
        job->live = true;
        snprintf(label, cap, "student: %.400s, live (copying it from the trainer)",
                 s->session.rd.path);
        return 0;
    }
    if (m == ASK_STUDENT && s->thread_started && !atomic_load(&s->thread_done)) {
        snprintf(s->ask_note, sizeof s->ask_note,
                 "the run is still loading its teacher and data; ask the student once it trains");
        return -1;
    }

    const char *path = m == ASK_STUDENT ? student_path(s) : teacher_path(s);
    if (!path) {
        snprintf(s->ask_note, sizeof s->ask_note, "no %s to ask: %s", model_names[m],
                 m == ASK_STUDENT ? "start a run (its student can be asked while it trains) "
                                    "or list a run student"
                                  : "choose a readable teacher in Setup");
        return -1;
    }
    snprintf(job->path, sizeof job->path, "%.4095s", path);
    snprintf(label, cap, "%s: %.480s", model_names[m], path);
    return 0;
}

static void on_line(char *line, void *ctx) {
    studio *s = ctx;
    if (!line) {
        s->screen = s->ask_return;
        return;
    }
    if (!line[0] || s->ask_running) {
        if (s->ask_running)
            snprintf(s->ask_note, sizeof s->ask_note, "a question is still running; wait for it");
        free(line);
        return;
    }
    tui_readline_remember(line);

    if (!s->prompts_loaded) {
        lrc_error err = {{0}};
        if (prompts_load(&s->prompts, &err) < 0) {
            snprintf(s->ask_note, sizeof s->ask_note, "%.590s", err.msg);
            free(line);
            return;
        }
        s->prompts_loaded = true;
    }

    int models[TUI_ASK_SIDES] = {s->ask_target, s->ask_beside};
    size_t n = s->ask_beside >= 0 ? 2 : 1;
    char lab[TUI_ASK_SIDES][600];
    const char *labels[TUI_ASK_SIDES];
    for (size_t i = 0; i < n; i++) {
        if (plan_side(s, i, models[i], lab[i], sizeof lab[i]) < 0) {
            free(line);
            return;
        }
        labels[i] = lab[i];
    }
    free(s->ask_question);
    s->ask_question = line;
    s->ask_note[0] = '\0';
    tui_ask_reset(&s->ask, n, labels);
    s->ask_job_method = s->ask_method;

    for (size_t i = 0; i < n; i++) {
        studio_ask_job *job = &s->ask_job[i];
        atomic_store(&job->done, false);
        if (pthread_create(&job->thread, NULL, ask_thread, job) != 0) {
            tui_ask_finish(&s->ask, i, NULL, -1, "cannot start the question's thread");
            continue;
        }
        job->started = true;
        s->ask_running = true;
    }
}

/* ------------------------------------------------------------------------ */
/* Set-up and tear-down                                                     */
/* ------------------------------------------------------------------------ */

/* Open the endpoint backend from --endpoint/--model-name, else from
 * config.json. A bad setting leaves the endpoint out, with a note. */
static void open_endpoint(studio *s) {
    const char *url = s->opt.endpoint, *name = s->opt.model_name, *where = "--endpoint";
    char *cfg_url = NULL, *cfg_name = NULL;
    if (!url) {
        cfg_url = studio_config_string("endpoint");
        cfg_name = studio_config_string("model_name");
        url = cfg_url;
        name = cfg_name;
        where = "config.json \"endpoint\"";
    }
    if (url && url[0]) {
        lrc_error err = {{0}};
        if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0) {
            snprintf(s->ask_note, sizeof s->ask_note,
                     "%s: expected an http:// or https:// URL; the endpoint is left out", where);
        } else if (!name || !name[0]) {
            snprintf(s->ask_note, sizeof s->ask_note,
                     "%s needs a model name (--model-name or \"model_name\"); the endpoint is "
                     "left out",
                     where);
        } else {
            http_backend_config hc = {0};
            hc.base_url = url;
            hc.model = name;
            reason_sampling sp = {.temperature = 0, .top_p = 1, .max_tokens = ENDPOINT_MAX_TOKENS};
            if (reason_backend_http_open(&hc, ENDPOINT_PARALLEL, &sp, &s->ask_backend[ASK_ENDPOINT],
                                         &err) < 0)
                snprintf(s->ask_note, sizeof s->ask_note, "endpoint: %.580s", err.msg);
        }
    }
    free(cfg_url);
    free(cfg_name);
}

int ask_open(studio *s) {
    if (tui_ask_init(&s->ask) < 0)
        return -1;
    s->ask_method = PRCOT_METHOD_PRCOT;
    s->ask_beside = -1;
    open_endpoint(s);
    return tui_readline_start(on_line, s);
}

void ask_poll(studio *s) {
    if (!s->ask_running)
        return;
    for (size_t i = 0; i < TUI_ASK_SIDES; i++)
        if (s->ask_job[i].started && !atomic_load(&s->ask_job[i].done))
            return;
    for (size_t i = 0; i < TUI_ASK_SIDES; i++)
        if (s->ask_job[i].started) {
            pthread_join(s->ask_job[i].thread, NULL);
            s->ask_job[i].started = false;
        }
    s->ask_running = false;
}

void ask_close(studio *s) {
    if (s->ask_running) {
        tui_ask_cancel(&s->ask);
        for (size_t i = 0; i < TUI_ASK_SIDES; i++)
            if (s->ask_job[i].started) {
                pthread_join(s->ask_job[i].thread, NULL);
                s->ask_job[i].started = false;
            }
        s->ask_running = false;
    }
    tui_readline_stop();
    ask_release_run(s);
    for (size_t i = 0; i < ASK_N_SLOTS; i++)
        reason_backend_free(s->ask_backend[i]);
    if (s->prompts_loaded)
        prompts_free(&s->prompts);
    free(s->ask_question);
    tui_ask_destroy(&s->ask);
}

uint64_t ask_version(studio *s) {
    pthread_mutex_lock(&s->ask.lock);
    uint64_t v = s->ask.version;
    pthread_mutex_unlock(&s->ask.lock);
    return v;
}

/* ------------------------------------------------------------------------ */
/* Drawing                                                                  */
/* ------------------------------------------------------------------------ */

/* Bytes of s that fill at most `cols` columns, stopping at a newline; UTF-8
 * continuation bytes take no column. */
static size_t fit_bytes(const char *s, int cols) {
    size_t i = 0;
    int c = 0;
    while (s[i] && s[i] != '\n') {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (c == cols)
                break;
            c++;
        }
        i++;
    }
    return i;
}

/* Draw the end of text wrapped into rows × cols at (y, x). */
static void draw_wrapped(studio *s, int y, int x, int rows, int cols, const char *all) {
    if (!all || rows <= 0 || cols <= 0)
        return;
    /* Trailing spaces and line breaks would push the text out of view, and
     * a model early in training may write nothing else. */
    size_t len = strlen(all);
    while (len > 0 && isspace((unsigned char)all[len - 1]))
        len--;
    if (len == 0) {
        if (all[0])
            tui_term_text(&s->term, y, x, cols, TUI_DIM, "(only spaces and line breaks so far)");
        return;
    }
    char *text = strndup(all, len);
    if (!text)
        return;
    /* Count the wrapped lines, then skip all but the last `rows`. */
    size_t total = 0;
    for (const char *p = text; *p;) {
        size_t n = fit_bytes(p, cols);
        total++;
        p += n;
        if (*p == '\n')
            p++;
    }
    size_t skip = total > (size_t)rows ? total - (size_t)rows : 0, line = 0;
    int r = 0;
    char buf[1024];
    for (const char *p = text; *p && r < rows;) {
        size_t n = fit_bytes(p, cols);
        if (line++ >= skip) {
            size_t m = n < sizeof buf - 1 ? n : sizeof buf - 1;
            memcpy(buf, p, m);
            buf[m] = '\0';
            tui_term_text(&s->term, y + r++, x, cols, TUI_NORMAL, buf);
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    free(text);
}

static void draw_side(studio *s, const tui_ask_side *side, int y, int x, int h, int w) {
    tui_term_text(&s->term, y, x + 1, w - 2, TUI_LABEL, side->label);
    y++;
    h--;
    size_t n = side->n_panes;
    if (n == 0) {
        tui_term_text(&s->term, y + 1, x + 2, w - 4, side->failed ? TUI_ERROR : TUI_DIM,
                      side->failed ? side->error : "loading the model and the prompts");
        return;
    }
    int cols = 3;
    if (n == 1)
        cols = 1;
    else if (n <= 4)
        cols = 2;
    if (w / cols < 24)
        cols = w >= 48 ? 2 : 1;
    int rows = (int)((n + (size_t)cols - 1) / (size_t)cols);
    int ph = h / rows, pw = w / cols;
    for (size_t i = 0; i < n; i++) {
        const tui_ask_pane *p = &side->panes[i];
        int py = y + (int)(i / (size_t)cols) * ph, px = x + (int)(i % (size_t)cols) * pw;
        int this_w = (int)(i % (size_t)cols) == cols - 1 ? w - (cols - 1) * pw : pw;
        /* A narrow pane shortens the stage's name, never its seconds. */
        char when[32], title[200];
        if (p->failed)
            snprintf(when, sizeof when, "failed");
        else if (p->done)
            snprintf(when, sizeof when, "%.1fs", p->seconds);
        else
            snprintf(when, sizeof when, "running");
        int room = this_w - 6 - (i + 1 >= 10 ? 3 : 2) - 3 - (int)strlen(when);
        size_t cut = fit_bytes(p->title, room > 1 ? room : 1);
        snprintf(title, sizeof title, "%d %.*s · %s", (int)i + 1, (int)cut, p->title, when);
        tui_term_box(&s->term, py, px, ph, this_w, title, !p->done);
        draw_wrapped(s, py + 1, px + 1, ph - 2, this_w - 2, p->text);
    }
}

void ask_draw(studio *s) {
    int W = COLS, H = LINES;
    char line[1200];
    const tui_metrics *m = s->snap;
    if (s->ask_beside >= 0)
        snprintf(line, sizeof line,
                 "lrc studio · ask  method %s (F2)  answers: %s (F3) beside %s (F4)",
                 prcot_method_name(s->ask_method), model_names[s->ask_target],
                 model_names[s->ask_beside]);
    else
        snprintf(line, sizeof line, "lrc studio · ask  method %s (F2)  answers: %s (F3)",
                 prcot_method_name(s->ask_method), model_names[s->ask_target]);
    tui_term_fill(&s->term, 0, 0, W, TUI_TITLE);
    int used = tui_term_text(&s->term, 0, 1, W - 2, TUI_TITLE, line);
    if (s->thread_started) {
        char step[64];
        snprintf(step, sizeof step, "training step %lld/%lld", (long long)m->last.step,
                 (long long)m->total_steps);
        int n = (int)strlen(step);
        if (used + n + 4 <= W)
            tui_term_text(&s->term, 0, W - 1 - n, n, TUI_TITLE, step);
    }

    pthread_mutex_lock(&s->ask.lock);
    /* Build each side's answer line. An error may wrap over up to four rows,
     * which the panes give up. */
    char answer[TUI_ASK_SIDES][1200];
    int msg_rows = 1;
    for (size_t i = 0; i < s->ask.n_sides; i++) {
        const tui_ask_side *sd = &s->ask.side[i];
        int w = s->ask.n_sides == 2 ? W / 2 : W;
        if (sd->running)
            snprintf(answer[i], sizeof answer[i], "answer: …");
        else if (sd->answer[0])
            snprintf(answer[i], sizeof answer[i], "answer: %s  (%.1fs)", sd->answer, sd->seconds);
        else
            snprintf(answer[i], sizeof answer[i], "no answer: %.900s", sd->failed ? sd->error : "");
        int r = hub_pane_wrap(NULL, 0, 0, w - 2, 4, TUI_ERROR, answer[i]);
        if (r > msg_rows)
            msg_rows = r;
    }
    if (msg_rows > (H - 5) / 3)
        msg_rows = (H - 5) / 3 > 1 ? (H - 5) / 3 : 1;
    int top = 1, area = H - 3 - msg_rows - top;
    if (s->ask.n_sides == 0) {
        tui_term_text(&s->term, top + 1, 2, W - 4, TUI_DIM,
                      "type a question and press Enter; each PR-CoT stage fills its own pane");
    } else if (s->ask.n_sides == 1) {
        draw_side(s, &s->ask.side[0], top, 0, area, W);
    } else {
        draw_side(s, &s->ask.side[0], top, 0, area, W / 2);
        draw_side(s, &s->ask.side[1], top, W / 2, area, W - W / 2);
    }
    /* A transient note replaces the answer lines rather than overlapping them. */
    for (size_t i = 0; i < s->ask.n_sides && !s->ask_note[0]; i++) {
        const tui_ask_side *sd = &s->ask.side[i];
        int x = s->ask.n_sides == 2 ? (int)i * (W / 2) : 0, w = s->ask.n_sides == 2 ? W / 2 : W;
        hub_pane_wrap(&s->term, H - 2 - msg_rows, x + 1, w - 2, msg_rows,
                      sd->running     ? TUI_DIM
                      : sd->answer[0] ? TUI_GOOD
                                      : TUI_ERROR,
                      answer[i]);
    }
    pthread_mutex_unlock(&s->ask.lock);

    /* The edit line, with the cursor drawn reversed. */
    const char *text = tui_readline_line();
    size_t point = tui_readline_point();
    const char *prompt = "question> ";
    tui_term_text(&s->term, H - 2, 0, 10, TUI_LABEL, prompt);
    int width = W - 11;
    size_t start = 0;
    while (point - start > (size_t)width - 1)
        start++;
    tui_term_text(&s->term, H - 2, 10, width, TUI_VALUE, text + start);
    char cur[8] = " ";
    if (text[point]) {
        size_t n = 1;
        while (((unsigned char)text[point + n] & 0xC0) == 0x80)
            n++;
        snprintf(cur, sizeof cur, "%.*s", (int)n, text + point);
    }
    size_t before = 0;
    for (size_t i = start; i < point; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80)
            before++;
    attron(A_REVERSE);
    tui_term_text(&s->term, H - 2, 10 + (int)before, 1, TUI_VALUE, cur);
    mvchgat(H - 2, 10 + (int)before, 1, A_REVERSE | tui_term_attr(&s->term, TUI_VALUE), 0, NULL);
    attroff(A_REVERSE);
    if (s->ask_note[0])
        hub_pane_wrap(&s->term, H - 2 - msg_rows, 1, W - 2, msg_rows, TUI_WARN, s->ask_note);

    tui_term_fill(&s->term, H - 1, 0, W, TUI_STATUS);
    tui_term_text(&s->term, H - 1, 1, W - 2, TUI_STATUS,
                  "Enter ask  Up/Down history  F2 method  F3 model  F4 side by side  Esc back  "
                  "F1 help");
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                     */
/* ------------------------------------------------------------------------ */

void ask_key(studio *s, int ch) {
    switch (ch) {
    case 27:
        s->screen = s->ask_return;
        return;
    case KEY_F(1):
        s->help = !s->help;
        return;
    case KEY_F(2):
        s->ask_method = (prcot_method)((s->ask_method + 1) % 3);
        return;
    case KEY_F(3): {
        /* The next available model; one already beside it swaps places. */
        int old = s->ask_target, m = old;
        do
            m = (m + 1) % ASK_N_MODELS;
        while (!model_available(s, m));
        s->ask_target = m;
        if (s->ask_beside == m)
            s->ask_beside = old;
        return;
    }
    case KEY_F(4): {
        /* None, then each other available model, then none again. */
        int m = s->ask_beside;
        do
            m = m + 1 >= ASK_N_MODELS ? -1 : m + 1;
        while (m >= 0 && (m == s->ask_target || !model_available(s, m)));
        s->ask_beside = m;
        return;
    }
    case '\n':
    case '\r':
        tui_readline_feed(KEY_ENTER);
        return;
    default:
        tui_readline_feed(ch);
        return;
    }
}
