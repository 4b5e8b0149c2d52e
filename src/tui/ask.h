/*
 * The Ask screen's panes: one per PR-CoT stage, on one or two sides (two
 * models side by side), filled as text streams.
 *
 * Each side runs on its own worker thread that calls prcot_run. Its callbacks
 * (tui_ask_callbacks) append to the panes under the store's mutex, and the
 * UI thread draws while holding the same mutex. Stage text grows without
 * limit of its own; a stage's length is bounded by the backend's max_tokens.
 */
#ifndef LRC_TUI_ASK_H
#define LRC_TUI_ASK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "reason/prcot.h"

#define TUI_ASK_MAX_STAGES 16
#define TUI_ASK_SIDES 2

typedef struct tui_ask_pane {
    char title[128];
    char *text; /* NUL-terminated; NULL until the first piece */
    size_t len, cap;
    double seconds; /* set when the stage ends */
    bool done;
    bool failed; /* the question ended before this stage did */
} tui_ask_pane;

typedef struct tui_ask_side {
    char label[512]; /* "student: PATH", "endpoint: MODEL at URL" */
    tui_ask_pane panes[TUI_ASK_MAX_STAGES];
    size_t n_panes;
    bool running, finished, failed;
    char answer[256];          /* the final answer, or "" */
    char error[LRC_ERROR_MAX]; /* when failed */
    double seconds;
} tui_ask_side;

typedef struct tui_ask_store {
    pthread_mutex_t lock; /* guards everything below */
    uint64_t version;
    tui_ask_side side[TUI_ASK_SIDES];
    size_t n_sides;
    bool cancel; /* set to end the running question early */
} tui_ask_store;

int tui_ask_init(tui_ask_store *a);
void tui_ask_destroy(tui_ask_store *a);

/* Ask the running question to stop at its next token. */
void tui_ask_cancel(tui_ask_store *a);

/* Empty the panes and set n_sides sides with their labels (under the lock). */
void tui_ask_reset(tui_ask_store *a, size_t n_sides, const char *const *labels);

/* Replace side `side`'s label, as when the model it names becomes known. */
void tui_ask_set_label(tui_ask_store *a, size_t side, const char *label);

/* Callbacks for prcot_run that fill side `side` of the store. ctx must
 * outlive the run. */
typedef struct tui_ask_ctx {
    tui_ask_store *store;
    size_t side;
} tui_ask_ctx;
prcot_callbacks tui_ask_callbacks(tui_ask_ctx *ctx);

/* Record how a side's run ended: its answer (may be NULL), or an error. */
void tui_ask_finish(tui_ask_store *a, size_t side, const prcot_result *r, int rc,
                    const char *error);

#endif
