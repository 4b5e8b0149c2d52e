/*
 * The Ask screen: a readline prompt for a question, and one pane per PR-CoT
 * stage (chain of thought, each reflection, synthesis) filled as tokens
 * stream, with each stage's seconds in its title. F2 switches the method
 * (cot, reflect, prcot); F3 switches the model that generates: the student,
 * the teacher, or both side by side.
 *
 * The question runs on a worker thread with local backends (backend_local.h)
 * that stay open between questions; training goes on meanwhile on the
 * trainer's thread. The student is this run's exported student/ folder, or
 * else the newest run student in the teacher list.
 */
#define _POSIX_C_SOURCE 200809L

#include "tui/studio_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ncurses.h>

#include "reason/backend_local.h"
#include "reason/prompts.h"
#include "tui/readline_bridge.h"

static const char *const target_names[3] = {"student", "teacher", "student and teacher"};

/* ------------------------------------------------------------------------ */
/* Models                                                                   */
/* ------------------------------------------------------------------------ */

/* The student to ask: this run's export, else the newest listed run student. */
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

/* ------------------------------------------------------------------------ */
/* The worker                                                               */
/* ------------------------------------------------------------------------ */

/* Open (or keep) the backend of slot i for path. Worker thread only. */
static int backend_for(studio *s, size_t i, const char *path, lrc_error *err) {
    if (s->ask_backend[i] && strcmp(s->ask_backend_path[i], path) == 0)
        return 0;
    reason_backend_free(s->ask_backend[i]);
    s->ask_backend[i] = NULL;
    reason_local_options lo = {0};
    lo.share_prefix = 1;
    lo.sampling.max_tokens = 256;
    lo.sampling.top_p = 1.0;
    if (reason_backend_local_open(path, &lo, &s->ask_backend[i], err) < 0)
        return -1;
    snprintf(s->ask_backend_path[i], sizeof s->ask_backend_path[i], "%s", path);
    return 0;
}

static void *ask_thread(void *arg) {
    studio *s = arg;
    lrc_error err = {{0}};
    if (!s->prompts_loaded) {
        if (prompts_load(&s->prompts, &err) < 0) {
            for (size_t i = 0; i < s->ask.n_sides; i++)
                tui_ask_finish(&s->ask, i, NULL, -1, err.msg);
            atomic_store(&s->ask_done, true);
            return NULL;
        }
        s->prompts_loaded = true;
    }
    for (size_t i = 0; i < s->ask.n_sides; i++) {
        size_t slot = s->ask_slot[i];
        if (backend_for(s, slot, s->ask_path[i], &err) < 0) {
            tui_ask_finish(&s->ask, i, NULL, -1, err.msg);
            continue;
        }
        tui_ask_ctx ctx = {.store = &s->ask, .side = i};
        prcot_callbacks cb = tui_ask_callbacks(&ctx);
        prcot_options po = {.method = s->ask_job_method, .prompts = &s->prompts};
        prcot_result r;
        memset(&r, 0, sizeof r);
        int rc = prcot_run(s->ask_backend[slot], &po, s->ask_question, &cb, &r, &err);
        tui_ask_finish(&s->ask, i, &r, rc, err.msg);
        prcot_result_free(&r);
    }
    atomic_store(&s->ask_done, true);
    return NULL;
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

    const char *paths[2];
    const char *labels[2];
    char lab[2][600];
    size_t n = 0;
    if (s->ask_target != 1) {
        paths[n] = student_path(s);
        s->ask_slot[n] = 0;
        n++;
    }
    if (s->ask_target != 0) {
        paths[n] = teacher_path(s);
        s->ask_slot[n] = 1;
        n++;
    }
    for (size_t i = 0; i < n; i++)
        if (!paths[i]) {
            snprintf(s->ask_note, sizeof s->ask_note, "no %s to ask: %s",
                     s->ask_slot[i] == 0 ? "student" : "teacher",
                     s->ask_slot[i] == 0 ? "finish a run (its student/ is exported at the end) "
                                           "or list a run student"
                                         : "choose a readable teacher in Setup");
            free(line);
            return;
        }
    for (size_t i = 0; i < n; i++) {
        snprintf(s->ask_path[i], sizeof s->ask_path[i], "%s", paths[i]);
        snprintf(lab[i], sizeof lab[i], "%s: %.500s", s->ask_slot[i] == 0 ? "student" : "teacher",
                 paths[i]);
        labels[i] = lab[i];
    }
    free(s->ask_question);
    s->ask_question = line;
    s->ask_note[0] = '\0';
    tui_ask_reset(&s->ask, n, labels);
    s->ask_job_method = s->ask_method;

    atomic_store(&s->ask_done, false);
    if (pthread_create(&s->ask_thread, NULL, ask_thread, s) != 0) {
        snprintf(s->ask_note, sizeof s->ask_note, "cannot start the question's thread");
        return;
    }
    s->ask_running = true;
}

/* ------------------------------------------------------------------------ */
/* Set-up and tear-down                                                     */
/* ------------------------------------------------------------------------ */

int ask_open(studio *s) {
    if (tui_ask_init(&s->ask) < 0)
        return -1;
    s->ask_method = PRCOT_METHOD_PRCOT;
    return tui_readline_start(on_line, s);
}

void ask_poll(studio *s) {
    if (s->ask_running && atomic_load(&s->ask_done)) {
        pthread_join(s->ask_thread, NULL);
        s->ask_running = false;
    }
}

void ask_close(studio *s) {
    if (s->ask_running) {
        tui_ask_cancel(&s->ask);
        pthread_join(s->ask_thread, NULL);
        s->ask_running = false;
    }
    tui_readline_stop();
    for (size_t i = 0; i < 2; i++)
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
static void draw_wrapped(studio *s, int y, int x, int rows, int cols, const char *text) {
    if (!text || rows <= 0 || cols <= 0)
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
        char title[200];
        if (p->done)
            snprintf(title, sizeof title, "%d %s · %.1fs", (int)i + 1, p->title, p->seconds);
        else
            snprintf(title, sizeof title, "%d %s · running", (int)i + 1, p->title);
        tui_term_box(&s->term, py, px, ph, this_w, title, !p->done);
        draw_wrapped(s, py + 1, px + 1, ph - 2, this_w - 2, p->text);
    }
}

void ask_draw(studio *s) {
    int W = COLS, H = LINES;
    char line[1200];
    const tui_metrics *m = s->snap;
    snprintf(line, sizeof line, "lrc studio · ask  method %s (F2)  answers: %s (F3)",
             prcot_method_name(s->ask_method), target_names[s->ask_target]);
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
    int top = 1, area = H - 4 - top;
    if (s->ask.n_sides == 0) {
        tui_term_text(&s->term, top + 1, 2, W - 4, TUI_DIM,
                      "type a question and press Enter; each PR-CoT stage fills its own pane");
    } else if (s->ask.n_sides == 1) {
        draw_side(s, &s->ask.side[0], top, 0, area, W);
    } else {
        draw_side(s, &s->ask.side[0], top, 0, area, W / 2);
        draw_side(s, &s->ask.side[1], top, W / 2, area, W - W / 2);
    }
    for (size_t i = 0; i < s->ask.n_sides; i++) {
        const tui_ask_side *sd = &s->ask.side[i];
        int x = s->ask.n_sides == 2 ? (int)i * (W / 2) : 0, w = s->ask.n_sides == 2 ? W / 2 : W;
        if (sd->running)
            snprintf(line, sizeof line, "answer: …");
        else if (sd->answer[0])
            snprintf(line, sizeof line, "answer: %s  (%.1fs)", sd->answer, sd->seconds);
        else
            snprintf(line, sizeof line, "no answer: %.900s", sd->failed ? sd->error : "");
        tui_term_text(&s->term, H - 3, x + 1, w - 2,
                      sd->running     ? TUI_DIM
                      : sd->answer[0] ? TUI_GOOD
                                      : TUI_ERROR,
                      line);
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
        tui_term_text(&s->term, H - 3, 1, W - 2, TUI_WARN, s->ask_note);

    tui_term_fill(&s->term, H - 1, 0, W, TUI_STATUS);
    tui_term_text(&s->term, H - 1, 1, W - 2, TUI_STATUS,
                  "Enter ask  Up/Down history  F2 method  F3 student/teacher/both  Esc back  "
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
    case KEY_F(3):
        s->ask_target = (s->ask_target + 1) % 3;
        return;
    case '\n':
    case '\r':
        tui_readline_feed(KEY_ENTER);
        return;
    default:
        tui_readline_feed(ch);
        return;
    }
}
