/*
 * The Setup screen's download pane: one Hugging Face Hub pull at a time on a
 * worker thread, and the pane that shows it.
 *
 * hub_pane_start copies the model id and runs hub_pull (hub/hub.h) on its own
 * thread. The pull's callbacks write the current file, its byte counts and
 * the last notice into the pane under a mutex and bump a version number, so
 * the UI thread redraws only when something changed. The rate shown is the
 * one of the last few seconds, and a file with no byte for two seconds is
 * shown as stalled rather than as a slow average. The UI thread copies
 * that state with hub_pane_view_get and waits on the network only in
 * hub_pane_destroy, for about a second while a cancelled pull stops.
 *
 * hub_pane_cancel sets the atomic flag that hub_pull checks at least once a
 * second during a transfer. A cancelled file stays in blobs/ as
 * ETAG.incomplete for the next pull to resume, and no snapshot entry or ref
 * names it. When a pull ends, hub_pane_finish joins the worker on the UI
 * thread and returns the outcome once.
 */
#ifndef LRC_TUI_HUB_PANE_H
#define LRC_TUI_HUB_PANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "hub/hub_cache.h"
#include "tui/term.h"

typedef enum hub_pane_state {
    HUB_PANE_IDLE,      /* no pull, nothing to show */
    HUB_PANE_RUNNING,   /* the worker is pulling */
    HUB_PANE_DONE,      /* the pull finished; snapshot is the folder to load */
    HUB_PANE_FAILED,    /* message contains the pull's one-line error */
    HUB_PANE_CANCELLED, /* stopped by hub_pane_cancel */
} hub_pane_state;

/* A copy of the pane's state, taken under its mutex. */
typedef struct hub_pane_view {
    hub_pane_state state;
    uint64_t version;                                  /* bumped on every change */
    char spec[HUB_REPO_ID_MAX + HUB_REVISION_MAX + 2]; /* "ORG/NAME[@REV]" as typed */
    char file[256];                                    /* the file in transfer, or "" */
    size_t index, count;                               /* its number (from 1) of count;
                                                          count is 0 until the plan is known */
    uint64_t done, total, resumed_from;                /* its bytes, as in hub_progress */
    double elapsed_s;                                  /* seconds since the file started */
    double rate;                  /* bytes per second over the last few seconds of this file */
    double stalled_s;             /* seconds since the last byte of this file arrived */
    size_t files_done;            /* files downloaded or found cached */
    uint64_t bytes_done;          /* bytes fetched; when DONE, hub_pull's count over all attempts */
    char notice[LRC_ERROR_MAX];   /* the pull's last log line, or "" */
    char message[LRC_ERROR_MAX];  /* the error when FAILED */
    size_t n_downloaded, n_files; /* when DONE: files fetched, and files in the plan */
    char repo[HUB_REPO_ID_MAX + 1];      /* when DONE */
    char revision[HUB_REVISION_MAX + 1]; /* when DONE */
    char commit[HUB_COMMIT_LEN + 1];     /* when DONE */
    char snapshot[HUB_PATH_MAX];         /* when DONE */
} hub_pane_view;

typedef struct hub_pane hub_pane;

/* Allocate an idle pane. Returns NULL when out of memory. */
hub_pane *hub_pane_create(void);

/* Cancel a running pull, wait for its thread and free the pane. */
void hub_pane_destroy(hub_pane *p);

/* Start pulling spec ("ORG/NAME[@REV]") on a new thread, with the cache,
 * endpoint, token and offline mode that hub_pull takes from the environment.
 * Returns -1 with err filled when a pull is already running or the thread
 * cannot start. */
int hub_pane_start(hub_pane *p, const char *spec, lrc_error *err);

/* Ask the running pull to stop; it ends within about a second. */
void hub_pane_cancel(hub_pane *p);

/* True while the worker thread runs. */
bool hub_pane_running(hub_pane *p);

/* The version of the pane's state; cheap enough to call every loop. */
uint64_t hub_pane_version(hub_pane *p);

void hub_pane_view_get(hub_pane *p, hub_pane_view *v);

/* When a pull has ended since the last call, join its thread, fill v and
 * return true; otherwise return false. The pane keeps showing the outcome
 * until hub_pane_dismiss. */
bool hub_pane_finish(hub_pane *p, hub_pane_view *v);

/* Return an ended pull's pane to HUB_PANE_IDLE; no effect while running. */
void hub_pane_dismiss(hub_pane *p);

/* Draw text over up to `rows` rows of width w at (y, x), breaking at spaces
 * where it can. The last row takes the rest, cut at the edge. Returns the
 * rows used, and with term NULL only counts them. */
int hub_pane_wrap(const tui_term *term, int y, int x, int w, int rows, tui_element e,
                  const char *text);

/* Draw v in a frame of h rows and w columns at (y, x): the file, a progress
 * bar, bytes, rate and ETA while running, the error or the cancel notice
 * after, and the key that cancels or closes. */
void hub_pane_draw(const hub_pane_view *v, const tui_term *term, int y, int x, int h, int w);

#endif
