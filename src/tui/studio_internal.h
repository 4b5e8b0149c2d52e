/*
 * State shared by the studio's files: studio.c (the loop, keys, the trainer
 * thread, help), screen_setup.c and screen_distill.c. Only the UI thread
 * touches this struct, except `metrics`, which has its own mutex, and
 * `thread_done`, which is atomic.
 */
#ifndef LRC_TUI_STUDIO_INTERNAL_H
#define LRC_TUI_STUDIO_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "cmd/distill_session.h"
#include "model/config.h"
#include "reason/backend.h"
#include "reason/prcot.h"
#include "reason/prompts.h"
#include "tui/ask.h"
#include "tui/metrics.h"
#include "tui/studio.h"
#include "tui/term.h"

#define STUDIO_MIN_COLS 80
#define STUDIO_MIN_ROWS 24

typedef enum studio_screen { SCREEN_SETUP, SCREEN_DISTILL, SCREEN_ASK } studio_screen;

/* Setup fields in focus order. */
enum {
    FIELD_TEACHER,
    FIELD_PATH,
    FIELD_RANK,
    FIELD_DATA,
    FIELD_STEPS,
    FIELD_BATCH,
    FIELD_SEQ,
    FIELD_LR,
    N_FIELDS
};

/* A candidate teacher and its `lrc info` summary. */
typedef struct studio_model {
    char path[4096];
    const char *origin; /* "bundled", "argument", "typed", "Hub", "run student" */
    char label[320];    /* the name in the list ("ORG/NAME@REV" for a Hub model), or "" */
    bool ok;
    char error[LRC_ERROR_MAX];
    llama_config cfg;
    size_t params;
    double memory; /* bytes to load and run, llama_model_memory_needed */
    char format[32];
} studio_model;

/* Models the Ask screen questions, and its backend slots: one per model,
 * plus the student of the running run (ASK_SLOT_LIVE). */
enum { ASK_STUDENT, ASK_TEACHER, ASK_ENDPOINT, ASK_N_MODELS };
enum { ASK_SLOT_LIVE = ASK_N_MODELS, ASK_N_SLOTS };

/* One side of a question and the worker thread that answers it. */
typedef struct studio_ask_job {
    struct studio *s;
    size_t side;
    int model;       /* ASK_STUDENT, ASK_TEACHER or ASK_ENDPOINT */
    bool live;       /* the student of the running run, copied from its trainer */
    char path[4096]; /* a local model's folder or file */
    pthread_t thread;
    bool started;
    atomic_bool done;
} studio_ask_job;

/* Distill panels in Tab order. */
enum { PANEL_LOSS, PANEL_GRAD, PANEL_MI, PANEL_SPEED, N_PANELS };

/* The token count of the Setup screen's data file, made on its own thread
 * because tokenising a large file takes seconds. While `started`, only the
 * thread writes the result fields (under the lock), and the UI leaves the
 * inputs alone. */
typedef struct setup_count {
    pthread_mutex_t lock;
    pthread_t thread;
    bool started;        /* a thread was started and is not joined yet */
    bool finished;       /* the thread has stored its result */
    uint64_t generation; /* counts finished so far, part of setup_poll's version */
    char model[4096], data[4096];
    int vocab;
    size_t tokens;
    char error[LRC_ERROR_MAX];
} setup_count;

typedef struct studio {
    studio_options opt;
    tui_term term;
    studio_screen screen;
    bool help, quit;

    /* Setup */
    studio_model models[STUDIO_MAX_MODELS];
    size_t n_models, selected;
    int field;
    char path_input[4096], data_input[4096];
    char rank_text[16], steps_text[16], batch_text[16], seq_text[16], lr_text[32];
    char setup_error[LRC_ERROR_MAX + 64];
    char data_key[8300]; /* teacher and data paths the token count below belongs to */
    size_t data_tokens;
    char data_error[LRC_ERROR_MAX];
    setup_count count;
    struct hub_pane *hub; /* the Hub download pane; NULL when it could not be created */

    /* Run */
    distill_options dopt;
    distill_session session;
    pthread_t thread;
    bool thread_started;
    atomic_bool thread_done;
    tui_metrics *metrics;        /* written by the trainer's thread */
    tui_metrics *snap;           /* the UI's copy */
    int panel;                   /* focused panel */
    bool zoom;                   /* the focused panel fills the panel area */
    int loss_view;               /* 0: total, ce and kl together; 1 + i: loss series i alone */
    bool stop_wanted, stop_sent; /* a stop requested by the user, and passed to the trainer */

    /* Ask: each side of a question runs on its own worker thread, which
     * owns that side's backend slot while it runs. */
    tui_ask_store ask;
    studio_ask_job ask_job[TUI_ASK_SIDES];
    bool ask_running;
    prcot_method ask_method;
    prcot_method ask_job_method; /* the running question's, fixed when it starts */
    int ask_target;              /* ASK_STUDENT, ASK_TEACHER or ASK_ENDPOINT */
    int ask_beside;              /* the model shown beside it, or -1 */
    reason_backend *ask_backend[ASK_N_SLOTS];
    char ask_backend_path[ASK_N_SLOTS][4096];
    struct ask_live *ask_live; /* the running student (screen_ask.c), or NULL */
    prompt_set prompts;
    bool prompts_loaded;
    char *ask_question;
    char ask_note[600];
    studio_screen ask_return; /* the screen Esc goes back to */

    /* stderr, routed to the log pane while the studio owns the terminal */
    int saved_stderr, err_read;
    char err_partial[TUI_LOG_WIDTH];
    size_t err_partial_len;
    char *replay; /* every captured line, printed again after the screen closes */
    size_t replay_len;
} studio;

/* screen_setup.c */
void setup_init(studio *s);
void setup_draw(studio *s);
void setup_key(studio *s, int ch);
const studio_model *setup_selected(const studio *s);
/* Add a model to the teacher list (or find it there); NULL when the list is full. */
studio_model *setup_add_model(studio *s, const char *path, const char *origin);
/* Take the outcome of an ended Hub download; returns the download pane's
 * version, so the loop redraws when it changes. */
uint64_t setup_poll(studio *s);
/* Cancel a running Hub download and wait for its thread. */
void setup_close(studio *s);

/* screen_distill.c */
void distill_draw(studio *s);
void distill_key(studio *s, int ch);

/* screen_ask.c */
int ask_open(studio *s);
void ask_poll(studio *s);
void ask_close(studio *s);
uint64_t ask_version(studio *s);
void ask_draw(studio *s);
void ask_key(studio *s, int ch);
/* Stop a question that uses the run's student and free that student; call
 * before the run's session is freed. */
void ask_release_run(studio *s);

/* The string value of key in $XDG_CONFIG_HOME/lrc/config.json, or NULL
 * (studio.c); the caller frees it. */
char *studio_config_string(const char *key);

/* studio.c */
int studio_start_run(studio *s);
void studio_request_stop(studio *s);
/* Wait for the run's thread and free its session. */
void studio_end_run(studio *s);
void studio_format_count(char *buf, size_t cap, double n);
void studio_format_bytes(char *buf, size_t cap, double bytes);

#endif
