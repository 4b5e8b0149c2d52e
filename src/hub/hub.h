/*
 * Hugging Face Hub client: download the files lrc needs from a model
 * repository into the cache of hub_cache.h.
 *
 * A pull first requests GET {endpoint}/api/models/{repo}/revision/{rev} for
 * the commit and the file list. It keeps the files lrc reads: config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json,
 * tokenizer.model, special_tokens_map.json, model.safetensors.index.json and
 * the weights (the shards the index names, else model.safetensors, else every
 * top-level *.safetensors file). The whole plan is made first (the index is
 * read into memory), so every file has its number of the total. config.json
 * is fetched first, and its architecture is checked with llama_config_load
 * before any weight is requested. Each file is found with HEAD {endpoint}/{repo}/resolve/{commit}/
 * {file} (ETag and size) and fetched with GET into blobs/ETAG.incomplete. An
 * LFS file comes from the host the 302 redirect names. A partial file is
 * resumed with a Range request. An LFS file, whose ETag is its SHA-256, is
 * hashed as it arrives and deleted on a mismatch. A resumed file that fails
 * this check is downloaded once more from byte 0. A verified file is renamed
 * to blobs/ETAG and linked from the snapshot. refs/REV is written last, so a
 * failed pull never names a snapshot as complete.
 *
 * The token is sent only to the endpoint's own scheme, host and port, never
 * to the host of an LFS redirect, and never appears in messages; nor does a
 * user:password in the endpoint URL. Requests
 * are retried with exponential backoff on HTTP 429 and 5xx and on dropped or
 * stalled connections. When the Hub cannot be reached at all, a complete
 * cached snapshot of the revision is used instead, with a log notice. A
 * failed pull removes the folders it created and left empty. hub_pull may
 * run on a background thread: it reports through callbacks and stops when
 * *cancel becomes non-zero.
 */
#ifndef LRC_HUB_HUB_H
#define LRC_HUB_HUB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "hub/hub_cache.h"

#define HUB_DEFAULT_ENDPOINT "https://huggingface.co"

typedef enum hub_event {
    HUB_FILE_START,    /* a download begins (resumed_from > 0 when resuming) */
    HUB_FILE_PROGRESS, /* bytes arrived */
    HUB_FILE_DONE,     /* downloaded, verified and linked */
    HUB_FILE_CACHED,   /* already in blobs/, only linked */
} hub_event;

typedef struct hub_progress {
    hub_event event;
    const char *file;      /* repository file name */
    size_t index, count;   /* file number index (from 1) of count; the whole plan is
                              known before the first file, so count is never 0 */
    uint64_t done;         /* bytes of the file on disk, counting a resumed part */
    uint64_t total;        /* size of the file, 0 when unknown */
    uint64_t resumed_from; /* bytes already on disk when the download began */
    double elapsed_s;      /* seconds since HUB_FILE_START */
} hub_progress;

/* Called on the pulling thread, so it should return quickly. */
typedef void (*hub_progress_fn)(const hub_progress *p, void *user);

/* A one-line notice a user acts on (a retry and its reason, a resume);
 * never contains the token. */
typedef void (*hub_log_fn)(const char *line, void *user);

/* A file of the plan: what the pull fetches. */
typedef struct hub_file {
    char name[1025];
    char etag[129];
    uint64_t size;
    bool cached; /* already in blobs/ */
} hub_file;

typedef struct hub_pull_options {
    const char *spec;           /* "ORG/NAME[@REV]" */
    const char *revision;       /* overrides the @REV of spec when not NULL */
    const char *cache_dir;      /* NULL: hub_cache_dir() */
    const char *endpoint;       /* NULL: hub_default_endpoint() */
    const char *token;          /* NULL: $HF_TOKEN, else the file $HF_HOME/token, else none */
    const char *const *include; /* extra fnmatch patterns on the repository file names */
    size_t n_include;
    int offline;              /* 1 use the cache only, 0 network, -1: $HF_HUB_OFFLINE */
    bool dry_run;             /* plan only: list the files, write nothing */
    int max_retries;          /* retries of one request after a failure (default 4) */
    double connect_timeout_s; /* default 10 */
    double idle_timeout_s;    /* a transfer with no byte for this long fails (default 30) */
    double backoff_s;         /* first retry delay, doubled each time up to 8 s (default 0.5) */
    hub_progress_fn progress;
    hub_log_fn log;
    void *user; /* passed to progress and log */
    /* The pull stops when *cancel != 0, set from any thread or a signal
     * handler. May be NULL. libcurl checks it at least once a second during a transfer. */
    const atomic_int *cancel;
} hub_pull_options;

typedef struct hub_pull_result {
    char repo[HUB_REPO_ID_MAX + 1];
    char revision[HUB_REVISION_MAX + 1];
    char commit[HUB_COMMIT_LEN + 1];
    char snapshot[HUB_PATH_MAX]; /* the folder to load */
    hub_file *files;             /* the plan, n_files entries; free with hub_pull_result_free */
    size_t n_files;
    size_t n_downloaded;
    uint64_t bytes_downloaded;
    bool cancelled;  /* stopped by *cancel; partial files stay as .incomplete */
    bool from_cache; /* served by the cache alone (offline, or the Hub could not be
                        reached); files then lists the snapshot's files */
} hub_pull_result;

/* Fill o with the defaults above and spec. */
void hub_pull_options_init(hub_pull_options *o, const char *spec);

/* Pull o->spec. On success r->snapshot is the folder to load. On failure
 * err names the model, the file and what to do, and r->cancelled is true when
 * *cancel stopped the pull. Free r with hub_pull_result_free in both cases. */
int hub_pull(const hub_pull_options *o, hub_pull_result *r, lrc_error *err);
void hub_pull_result_free(hub_pull_result *r);

/* Copy url into dst without the user:password part of its authority, so a
 * message never shows a password from HF_ENDPOINT. */
void hub_url_redact(char *dst, size_t cap, const char *url);

/* The endpoint a pull uses when none is given: $HF_ENDPOINT, or
 * HUB_DEFAULT_ENDPOINT when that is unset or empty. */
const char *hub_default_endpoint(void);

/* True when the repository file name is one a pull fetches by default
 * (before the index narrows the shards). */
bool hub_file_wanted(const char *name);

#endif
