/*
 * Readline driven from the studio's key loop (readline_bridge.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "tui/readline_bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ncurses.h>
#include <readline/history.h>
#include <readline/readline.h>

#define QUEUE_CAP 64

static unsigned char queue[QUEUE_CAP];
static size_t q_head, q_len;
static tui_readline_fn line_fn;
static void *line_ctx;
static FILE *null_out;
static char history_path[4200];
static int running;

static int bridge_getc(FILE *f) {
    (void)f;
    if (q_len == 0)
        return EOF;
    int c = queue[q_head];
    q_head = (q_head + 1) % QUEUE_CAP;
    q_len--;
    return c;
}

static int bridge_available(void) {
    return q_len > 0;
}

static void bridge_redisplay(void) {
    /* The Ask screen draws rl_line_buffer itself. */
}

static void bridge_prep(int meta) {
    (void)meta;
}

static void bridge_deprep(void) {}

static void bridge_line(char *line) {
    if (line_fn)
        line_fn(line, line_ctx);
    else
        free(line);
}

static void push(const char *bytes) {
    for (const char *p = bytes; *p && q_len < QUEUE_CAP; p++) {
        queue[(q_head + q_len) % QUEUE_CAP] = (unsigned char)*p;
        q_len++;
    }
}

/* Make the parent folders of path (mkdir -p of its dirname). */
static void make_parents(const char *path) {
    char buf[sizeof history_path];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(buf, 0700);
        *p = '/';
    }
}

int tui_readline_start(tui_readline_fn on_line, void *ctx) {
    const char *state = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    if (state && *state)
        snprintf(history_path, sizeof history_path, "%.4000s/lrc/history", state);
    else if (home && *home)
        snprintf(history_path, sizeof history_path, "%.4000s/.local/state/lrc/history", home);
    else
        history_path[0] = '\0';

    line_fn = on_line;
    line_ctx = ctx;
    null_out = fopen("/dev/null", "w");
    if (!null_out)
        return -1;
    rl_instream = stdin;
    rl_outstream = null_out;
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_change_environment = 0;
    rl_getc_function = bridge_getc;
    rl_input_available_hook = bridge_available;
    rl_redisplay_function = bridge_redisplay;
    rl_prep_term_function = bridge_prep;
    rl_deprep_term_function = bridge_deprep;
    rl_readline_name = "lrc";

    using_history();
    if (history_path[0])
        read_history(history_path);
    rl_callback_handler_install("", bridge_line);
    running = 1;
    return 0;
}

void tui_readline_feed(int key) {
    if (!running)
        return;
    switch (key) {
    case KEY_LEFT:
        push("\033[D");
        break;
    case KEY_RIGHT:
        push("\033[C");
        break;
    case KEY_UP:
        push("\033[A");
        break;
    case KEY_DOWN:
        push("\033[B");
        break;
    case KEY_HOME:
        push("\001");
        break;
    case KEY_END:
        push("\005");
        break;
    case KEY_DC:
        push("\004");
        break;
    case KEY_BACKSPACE:
        push("\177");
        break;
    case KEY_ENTER:
        push("\r");
        break;
    default:
        if (key <= 0 || key >= 256)
            return;
        char b[2] = {(char)key, '\0'};
        push(b);
        break;
    }
    while (q_len > 0)
        rl_callback_read_char();
}

const char *tui_readline_line(void) {
    return rl_line_buffer ? rl_line_buffer : "";
}

size_t tui_readline_point(void) {
    return rl_point > 0 ? (size_t)rl_point : 0;
}

void tui_readline_remember(const char *line) {
    if (!line || !*line)
        return;
    add_history(line);
    if (!history_path[0])
        return;
    make_parents(history_path);
    /* append_history needs the file to exist. */
    FILE *f = fopen(history_path, "a");
    if (f)
        fclose(f);
    append_history(1, history_path);
}

void tui_readline_stop(void) {
    if (!running)
        return;
    rl_callback_handler_remove();
    clear_history();
    if (null_out)
        fclose(null_out);
    null_out = NULL;
    running = 0;
}

const char *tui_readline_history_path(void) {
    return history_path;
}
