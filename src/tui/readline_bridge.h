/*
 * GNU readline inside ncurses, through readline's callback interface. The
 * studio's key loop owns the terminal: it turns each ncurses key into the
 * bytes a terminal would send (arrows as ESC [ A, ...) and feeds them to
 * readline one at a time; readline never reads the terminal, never prepares
 * it and never draws. The screen draws the edit line from
 * tui_readline_line and tui_readline_point. History lives in
 * $XDG_STATE_HOME/lrc/history (default ~/.local/state/lrc/history).
 *
 * Readline is one global state, so there is one bridge per process.
 */
#ifndef LRC_TUI_READLINE_BRIDGE_H
#define LRC_TUI_READLINE_BRIDGE_H

#include <stddef.h>

/* Called with each line entered (malloc'd; the callee frees it), or NULL
 * at end of input (Ctrl-D on an empty line). */
typedef void (*tui_readline_fn)(char *line, void *ctx);

/* Start readline with the history file read in. Returns 0, or -1 when
 * readline could not be set up. */
int tui_readline_start(tui_readline_fn on_line, void *ctx);

/* Feed one ncurses key (KEY_LEFT, a byte, ...). Keys without a terminal
 * byte sequence are ignored. */
void tui_readline_feed(int key);

/* The line being edited and the cursor's byte offset in it. */
const char *tui_readline_line(void);
size_t tui_readline_point(void);

/* Add a line to the history and append it to the history file. */
void tui_readline_remember(const char *line);

/* Remove the handler and free readline's state. */
void tui_readline_stop(void);

/* The history file's path (for messages). */
const char *tui_readline_history_path(void);

#endif
