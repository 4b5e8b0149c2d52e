/*
 * The Hugging Face Hub cache as huggingface_hub lays it out, so a model
 * fetched by either tool is found by the other:
 *
 *   CACHE/models--ORG--NAME/blobs/ETAG              file contents, named by ETag
 *   CACHE/models--ORG--NAME/snapshots/COMMIT/FILE   relative symlink to ../../blobs/ETAG
 *   CACHE/models--ORG--NAME/refs/REVISION           the commit a branch or tag names
 *
 * CACHE is $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
 * else ~/.cache/huggingface/hub. Functions here touch only the local disk, and
 * the network side is in hub.h. Every function is safe to call from any thread.
 */
#ifndef LRC_HUB_CACHE_H
#define LRC_HUB_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define HUB_PATH_MAX 4096
#define HUB_REPO_ID_MAX 200 /* ORG/NAME: two names of at most 96 characters */
#define HUB_REVISION_MAX 256
#define HUB_COMMIT_LEN 40 /* a git commit as hex digits */

/* A parsed "ORG/NAME[@REV]". */
typedef struct hub_id {
    char repo[HUB_REPO_ID_MAX + 1];      /* "ORG/NAME" */
    char revision[HUB_REVISION_MAX + 1]; /* "main" when the spec names none */
} hub_id;

/* Write the cache folder (from the environment, see above) into buf. */
int hub_cache_dir(char *buf, size_t cap, lrc_error *err);

/* Parse spec as ORG/NAME[@REV]. ORG and NAME hold letters, digits, '-', '_'
 * and '.', at most 96 characters each, with no "--" or ".." and no leading or
 * trailing '-' or '.', which are the Hub's rules. REV is a branch, tag or
 * commit and may contain '/' ("refs/pr/1") but no empty or ".." component. */
int hub_id_parse(hub_id *id, const char *spec, lrc_error *err);

/* Check a revision alone (--revision) as hub_id_parse does. */
bool hub_revision_is_valid(const char *rev);
int hub_revision_check(const char *rev, lrc_error *err);

/* Copy s into dst (cap bytes) with control characters written as \n, \t,
 * \r or \xHH, so a message quoting user input stays on one line. */
void hub_printable(char *dst, size_t cap, const char *s);

/* True when HF_HUB_OFFLINE is 1, true, yes or on (any case). */
bool hub_offline_env(void);

/* The next step for a model that is missing from the cache: "run 'lrc pull
 * SPEC'", or "unset HF_HUB_OFFLINE and run 'lrc pull SPEC'" when that is set. */
void hub_pull_hint(char *buf, size_t cap, const char *spec);

/* True when s has the form ORG/NAME[@REV] (hub_id_parse without a message). */
bool hub_id_is_valid(const char *s);

/* True when rev is a full commit hash (40 lower-case hex digits). */
bool hub_is_commit(const char *rev);

/* Check a repository file name before it becomes a path under the cache:
 * relative, '/'-separated, no empty, "." or ".." component, no backslash
 * and no control character. The message names repo and the file. */
int hub_check_filename(const char *repo, const char *name, lrc_error *err);

/* CACHE/models--ORG--NAME for repo "ORG/NAME". */
int hub_repo_dir(char *buf, size_t cap, const char *cache, const char *repo, lrc_error *err);

/* The snapshot folder of id in cache: the commit itself when id->revision
 * is a commit, else the one refs/REVISION names, else the one cached
 * snapshot whose commit starts with id->revision (7 to 39 hex digits, as
 * --list and the studio show them). Fails with a message naming the model
 * and 'lrc pull' when the model or revision is not cached. */
int hub_snapshot_find(char *buf, size_t cap, const char *cache, const hub_id *id, lrc_error *err);

/* Check that a snapshot contains config.json and its weights (the shards the
 * index names, else model.safetensors, else a top-level .safetensors file),
 * each a readable file and not a link whose blob was deleted. The message
 * names the model, the file and the 'lrc pull' that repairs it. */
int hub_snapshot_check(const char *snapshot, const char *repo, const char *revision,
                       lrc_error *err);

/* Resolve a model argument of a command. Returns 0 and copies arg into path
 * when arg is an existing file or folder, or does not look like ORG/NAME[@REV]
 * (the caller's loader reports a missing path). Returns 1 with the snapshot
 * folder in path when arg names a cached model with its config and weights.
 * Returns -1 with a message when arg looks like an id but is not cached, is
 * only partly cached or is not valid. ORG/NAME followed by '@' counts as an
 * id, so "org/tiny@" gets the id's error. */
int hub_resolve_model_arg(char *path, size_t cap, const char *arg, lrc_error *err);

/* True when path is a snapshot folder CACHE/models--ORG--NAME/snapshots/COMMIT;
 * repo and commit then name it. */
bool hub_snapshot_identify(const char *path, char repo[HUB_REPO_ID_MAX + 1],
                           char commit[HUB_COMMIT_LEN + 1]);

/* One cached revision of a model. */
typedef struct hub_cached_model {
    char repo[HUB_REPO_ID_MAX + 1];      /* "ORG/NAME" */
    char revision[HUB_REVISION_MAX + 1]; /* a ref name, or the commit when no ref names it */
    char commit[HUB_COMMIT_LEN + 1];     /* snapshot folder name */
    char snapshot[HUB_PATH_MAX];         /* the folder to load */
    uint64_t bytes;                      /* sum of the file sizes in the snapshot */
    size_t n_files;                      /* files in the snapshot, at any depth */
    bool has_config;                     /* config.json present */
    bool has_weights;                    /* a .safetensors file present */
} hub_cached_model;

/* List every model snapshot in cache, sorted by repo then revision. A cache
 * folder that does not exist gives an empty list. *out is freed with free(). */
int hub_cache_list(hub_cached_model **out, size_t *n, const char *cache, lrc_error *err);

/* Write refs/REVISION = commit in repo_dir through a temporary file and a
 * rename. */
int hub_ref_write(const char *repo_dir, const char *revision, const char *commit, lrc_error *err);

/* Make snapshots/COMMIT/FILE a relative symlink to blobs/ETAG in repo_dir,
 * creating the folders FILE needs and replacing an older link. */
int hub_snapshot_link(const char *repo_dir, const char *commit, const char *file, const char *etag,
                      lrc_error *err);

/* snprintf into a path buffer. A path that does not fit is an error (-1),
 * never a shorter path. */
int hub_pathf(char *buf, size_t cap, lrc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Create path and its missing parents (mode 0755). */
int hub_mkdirs(const char *path, lrc_error *err);

/* Read the first max bytes of a file as a NUL-terminated string, which the
 * caller frees. Returns NULL when the file cannot be opened or memory runs out. */
char *hub_read_small(const char *path, size_t max);

#endif
