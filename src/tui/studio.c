/*
 * The studio's main loop (studio.h): theme and terminal set-up, the key
 * loop, the help overlay, the size check, the trainer thread and the route
 * from stderr to the log pane.
 *
 * The loop waits at most 100 ms for a key. Then it drains stderr and
 * redraws when a key came, the terminal was resized or the metrics' version
 * moved. So the screen updates about ten times a second, and the UI thread
 * waits on the trainer only for the metrics' mutex, held for one copy. The trainer's thread opens
 * the session (loading the teacher and data), runs it and exports the student; everything it prints
 * goes through the stderr pipe into the log, and is printed again on the real stderr when the
 * studio closes, so the "continue with" line of a stopped run stays on the user's terminal.
 */
#define _POSIX_C_SOURCE 200809L

#include "tui/studio_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <ncurses.h>

#include "core/blas.h"

#define KEY_WAIT_MS 100

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) {
    (void)sig;
    stop_signal = 1;
}

/* ------------------------------------------------------------------------ */
/* Formatting shared by the screens                                         */
/* ------------------------------------------------------------------------ */

void studio_format_count(char *buf, size_t cap, double n) {
    if (n >= 1e9)
        snprintf(buf, cap, "%.2fB", n / 1e9);
    else if (n >= 1e6)
        snprintf(buf, cap, "%.2fM", n / 1e6);
    else if (n >= 1e4)
        snprintf(buf, cap, "%.1fK", n / 1e3);
    else
        snprintf(buf, cap, "%.0f", n);
}

void studio_format_bytes(char *buf, size_t cap, double bytes) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(buf, cap, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* ------------------------------------------------------------------------ */
/* Theme                                                                    */
/* ------------------------------------------------------------------------ */

char *studio_config_string(const char *key) {
    char path[4200];
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(path, sizeof path, "%s/lrc/config.json", xdg);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.config/lrc/config.json", home);
    else
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *j = cJSON_Parse(buf);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, key);
    char *name = cJSON_IsString(t) ? strdup(t->valuestring) : NULL;
    cJSON_Delete(j);
    return name;
}

static int load_theme(tui_theme *t, const char *requested) {
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc) {
        tui_theme_monochrome(t);
        return 0;
    }
    char *configured = requested ? NULL : studio_config_string("theme");
    const char *name = "default";
    if (requested)
        name = requested;
    else if (configured)
        name = configured;
    lrc_error err;
    int rc = tui_theme_load(t, name, &err);
    if (rc < 0)
        fprintf(stderr, "lrc: studio: %s\n", err.msg);
    free(configured);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* stderr into the log pane                                                 */
/* ------------------------------------------------------------------------ */

static void capture_stderr(studio *s) {
    int p[2];
    s->saved_stderr = -1;
    s->err_read = -1;
    fflush(stderr);
    if (pipe(p) < 0)
        return;
    s->saved_stderr = dup(STDERR_FILENO);
    if (s->saved_stderr < 0 || dup2(p[1], STDERR_FILENO) < 0) {
        close(p[0]);
        close(p[1]);
        return;
    }
    close(p[1]);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    s->err_read = p[0];
    setvbuf(stderr, NULL, _IOLBF, 0);
}

static void keep_line(studio *s, const char *line) {
    size_t n = strlen(line);
    char *r = realloc(s->replay, s->replay_len + n + 2);
    if (!r)
        return;
    s->replay = r;
    memcpy(s->replay + s->replay_len, line, n);
    s->replay[s->replay_len + n] = '\n';
    s->replay_len += n + 1;
    s->replay[s->replay_len] = '\0';
}

static void drain_stderr(studio *s) {
    if (s->err_read < 0)
        return;
    char buf[4096];
    ssize_t n;
    while ((n = read(s->err_read, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] != '\n' && buf[i] != '\r')
                s->err_partial[s->err_partial_len++] = buf[i];
            /* A line longer than the buffer is cut, keeping room for its '\0'. */
            bool end = buf[i] == '\n' || s->err_partial_len + 1 >= sizeof s->err_partial;
            if (!end)
                continue;
            s->err_partial[s->err_partial_len] = '\0';
            tui_metrics_log(s->metrics, s->err_partial);
            keep_line(s, s->err_partial);
            s->err_partial_len = 0;
        }
    }
}

static void restore_stderr(studio *s) {
    fflush(stderr);
    drain_stderr(s);
    if (s->saved_stderr >= 0) {
        dup2(s->saved_stderr, STDERR_FILENO);
        close(s->saved_stderr);
    }
    if (s->err_read >= 0)
        close(s->err_read);
    s->saved_stderr = s->err_read = -1;
}

/* ------------------------------------------------------------------------ */
/* The trainer's thread                                                     */
/* ------------------------------------------------------------------------ */

static void *trainer_thread(void *arg) {
    studio *s = arg;
    int status = 1;
    if (distill_session_open(&s->session, &s->dopt) == 0) {
        distill_session_print_start(&s->session, &s->dopt);
        tui_metrics_set_state(s->metrics, TUI_RUN_RUNNING);
        status = distill_session_run(&s->session, &s->dopt, tui_metrics_report, s->metrics);
        if (s->session.student_dir[0])
            fprintf(stderr, "student written to %s\n", s->session.student_dir);
    }
    fflush(stderr);
    tui_metrics_finish(s->metrics, status);
    atomic_store(&s->thread_done, true);
    return NULL;
}

int studio_start_run(studio *s) {
    tui_metrics_reset(s->metrics);
    tui_metrics_set_state(s->metrics, TUI_RUN_STARTING);
    atomic_store(&s->thread_done, false);
    s->stop_sent = s->stop_wanted = false;
    if (pthread_create(&s->thread, NULL, trainer_thread, s) != 0) {
        tui_metrics_log(s->metrics, "lrc: studio: cannot start the trainer's thread");
        tui_metrics_finish(s->metrics, 1);
        atomic_store(&s->thread_done, true);
        return -1;
    }
    s->thread_started = true;
    s->screen = SCREEN_DISTILL;
    return 0;
}

/* Ask the run to stop. While the session is still loading, its trainer does
 * not exist yet, so the loop passes the stop on once the run is running. */
void studio_request_stop(studio *s) {
    if (!s->thread_started || atomic_load(&s->thread_done))
        return;
    s->stop_wanted = true;
}

void studio_end_run(studio *s) {
    if (!s->thread_started)
        return;
    pthread_join(s->thread, NULL);
    s->thread_started = false;
    ask_release_run(s);
    distill_session_free(&s->session);
}

/* ------------------------------------------------------------------------ */
/* Help and size                                                            */
/* ------------------------------------------------------------------------ */

/* The help overlay: the keys of every screen, in sections. The overlay
 * shows "Everywhere" and the current screen's section, so it fits 80x24;
 * lrc-studio(1) lists them all. */
static const char *const help_everywhere[] = {
    "Everywhere",
    "  ?, F1        show or hide this help (F1 on Ask, where ? is text)",
    "  Ctrl-C       stop the run (with a checkpoint) and quit",
    NULL,
};

static const char *const help_setup[] = {
    "Setup",
    "  Tab, S-Tab   next or previous field",
    "  Up, Down     choose a teacher (teacher list), or move between fields",
    "  Left, Right  rank down or up by 1 (teacher list or rank field)",
    "  PgUp, PgDn   rank up or down by an eighth of the teacher's hidden size",
    "  h            half the teacher's hidden size as the rank (teacher list)",
    "  typing       edit the focused text field; Backspace deletes",
    "  Enter        add the typed model path or Hub id, or start the distillation",
    "  c            cancel the Hub download, or close its pane (teacher list)",
    "  q, Esc       quit (teacher list or rank field)",
    "  a            ask the selected teacher (teacher list)",
    NULL,
};

static const char *const help_distill[] = {
    "Distill",
    "  p            pause or resume training",
    "  s            save a checkpoint now (after the step in progress)",
    "  q            stop with a checkpoint, then quit",
    "  x            stop with a checkpoint and stay on this screen",
    "  Tab, arrows  focus the next or previous panel",
    "  z, Enter     zoom the focused panel, or show all panels",
    "  l, L         next or previous loss series (total, ce, kl, clone sites)",
    "  a            ask the student or teacher a question (Ask)",
    "  Esc          back to Setup once the run has ended",
    NULL,
};

static const char *const help_ask[] = {
    "Ask (keys go to the question line, with readline's Emacs keys)",
    "  Enter        ask; each stage streams into its own pane",
    "  Up, Down     previous or next question from the history",
    "  F2           method: cot, reflect or prcot",
    "  F3           model: student, teacher, or the endpoint (--endpoint)",
    "  F4           side by side: none, or another model beside it",
    "  Esc          back to the screen Ask was opened from",
    NULL,
};

static void draw_help(studio *s) {
    const char *const *section = help_setup;
    if (s->screen == SCREEN_DISTILL)
        section = help_distill;
    else if (s->screen == SCREEN_ASK)
        section = help_ask;
    const char *lines[32];
    int n = 0;
    for (const char *const *p = help_everywhere; *p; p++)
        lines[n++] = *p;
    lines[n++] = "";
    for (const char *const *p = section; *p && n < 32; p++)
        lines[n++] = *p;

    int w = 86 < COLS - 2 ? 86 : COLS - 2, h = n + 3 < LINES - 2 ? n + 3 : LINES - 2;
    int y = (LINES - h) / 2, x = (COLS - w) / 2;
    for (int r = 0; r < h; r++)
        tui_term_fill(&s->term, y + r, x, w, TUI_NORMAL);
    tui_term_box(&s->term, y, x, h, w, "keys (all of them: man lrc-studio)", true);
    for (int i = 0; i < n && i < h - 3; i++) {
        bool heading = lines[i][0] && lines[i][0] != ' ';
        tui_term_text(&s->term, y + 2 + i, x + 3, w - 6, heading ? TUI_VALUE : TUI_NORMAL,
                      lines[i]);
    }
}

static void draw_too_small(studio *s) {
    char msg[160];
    erase();
    snprintf(msg, sizeof msg, "terminal is %dx%d; the studio needs at least %dx%d", COLS, LINES,
             STUDIO_MIN_COLS, STUDIO_MIN_ROWS);
    int y = LINES / 2 - 1;
    tui_term_text(&s->term, y < 0 ? 0 : y, 0, COLS, TUI_WARN, msg);
    tui_term_text(&s->term, y + 1 < LINES ? y + 1 : 0, 0, COLS, TUI_NORMAL,
                  "enlarge the window, or press q to quit");
}

static void draw(studio *s) {
    erase();
    if (COLS < STUDIO_MIN_COLS || LINES < STUDIO_MIN_ROWS)
        draw_too_small(s);
    else if (s->screen == SCREEN_SETUP)
        setup_draw(s);
    else if (s->screen == SCREEN_ASK)
        ask_draw(s);
    else
        distill_draw(s);
    if (s->help && COLS >= STUDIO_MIN_COLS && LINES >= STUDIO_MIN_ROWS)
        draw_help(s);
    refresh();
}

/* ------------------------------------------------------------------------ */
/* Loop                                                                     */
/* ------------------------------------------------------------------------ */

static void handle_key(studio *s, int ch) {
    if (s->help) {
        if (ch == 27 || ch == 'q' || ch == '?' || ch == KEY_F(1))
            s->help = false;
        return;
    }
    /* On Ask every printable key is text, so help is F1 there. */
    if ((ch == '?' && s->screen != SCREEN_ASK) || ch == KEY_F(1)) {
        s->help = true;
        return;
    }
    if (COLS < STUDIO_MIN_COLS || LINES < STUDIO_MIN_ROWS) {
        /* Too small to draw: q still quits (stopping a run first). */
        if (ch == 'q') {
            studio_request_stop(s);
            s->quit = true;
        }
        return;
    }
    if (s->screen == SCREEN_SETUP)
        setup_key(s, ch);
    else if (s->screen == SCREEN_ASK)
        ask_key(s, ch);
    else
        distill_key(s, ch);
}

static void loop(studio *s) {
    uint64_t drawn_version = 0, drawn_ask = 0, drawn_hub = 0;
    bool dirty = true;
    timeout(KEY_WAIT_MS);
    for (;;) {
        drain_stderr(s);
        /* The snapshot is ~0.5 MB: copy it only when something changed. */
        if (tui_metrics_version(s->metrics) != s->snap->version)
            tui_metrics_snapshot(s->metrics, s->snap);

        if (stop_signal) {
            stop_signal = 0;
            studio_request_stop(s);
            s->quit = true;
        }
        /* The trainer exists once the session has left TUI_RUN_STARTING; the
         * metrics' mutex orders its initialisation before this read. */
        if (s->stop_wanted && !s->stop_sent &&
            (s->snap->state == TUI_RUN_RUNNING || s->snap->state == TUI_RUN_PAUSED)) {
            trainer_request_stop(&s->session.tr);
            s->stop_sent = true;
        }
        if (s->quit && (!s->thread_started || atomic_load(&s->thread_done)))
            break;

        ask_poll(s);
        uint64_t av = ask_version(s);
        uint64_t hv = setup_poll(s);
        if (dirty || s->snap->version != drawn_version || av != drawn_ask || hv != drawn_hub) {
            draw(s);
            drawn_version = s->snap->version;
            drawn_ask = av;
            drawn_hub = hv;
            dirty = false;
        }
        int ch = getch();
        if (ch == ERR)
            continue;
        dirty = true;
        if (ch == KEY_RESIZE)
            continue;
        handle_key(s, ch);
    }
}

int studio_run(const studio_options *o) {
    tui_theme theme;
    if (load_theme(&theme, o->theme) < 0)
        return 1;

    studio *s = calloc(1, sizeof *s);
    tui_metrics *m = malloc(sizeof *m), *snap = malloc(sizeof *snap);
    if (!s || !m || !snap || tui_metrics_init(m) < 0) {
        fprintf(stderr, "lrc: studio: out of memory\n");
        free(s);
        free(m);
        free(snap);
        return 1;
    }
    s->opt = *o;
    s->metrics = m;
    s->snap = snap;
    tui_metrics_snapshot(m, snap);
    setup_init(s);
    blas_set_threads((int)o->threads);

    lrc_error err;
    if (tui_term_start(&s->term, &theme, &err) < 0) {
        fprintf(stderr, "lrc: studio: %s\n", err.msg);
        setup_close(s);
        tui_metrics_destroy(m);
        free(m);
        free(snap);
        free(s);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    capture_stderr(s);
    if (ask_open(s) < 0)
        tui_metrics_log(m, "lrc: studio: the question line (readline) could not be set up");

    loop(s);

    setup_close(s);
    studio_end_run(s);
    ask_close(s);
    tui_term_end(&s->term);
    restore_stderr(s);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (s->replay)
        fputs(s->replay, stderr);
    int status = s->snap->state == TUI_RUN_FINISHED ? s->snap->status : 0;

    free(s->replay);
    tui_metrics_destroy(m);
    free(m);
    free(snap);
    free(s);
    return status;
}
