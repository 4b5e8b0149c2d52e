/*
 * hub_pull: plan, check and download a model into the Hub cache (hub.h
 * describes the protocol). A file moves through three names, so an interrupted pull
 * never leaves a file that looks complete:
 *
 *   blobs/ETAG.incomplete   bytes arriving. It is kept after a dropped connection
 *                           or a cancel, so the next pull resumes it with Range,
 *                           and deleted when its size or SHA-256 is wrong.
 *   blobs/ETAG              verified contents (renamed from .incomplete)
 *   snapshots/COMMIT/FILE   symlink made after the rename
 *
 * Two processes downloading the same blob take turns on the lock file
 * CACHE/.locks/models--ORG--NAME/ETAG.lock (flock), as huggingface_hub does.
 */
#define _POSIX_C_SOURCE 200809L
#include "hub/hub.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "hub/hub_http.h"
#include "hub/sha256.h"
#include "model/config.h"

#define API_BODY_MAX (64u << 20)   /* model-info JSON */
#define INDEX_BODY_MAX (64u << 20) /* model.safetensors.index.json */
#define URL_MAX 4096

/* Files lrc reads besides the weights, in the order they are fetched. */
static const char *const fixed_files[] = {
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "special_tokens_map.json",
    "model.safetensors.index.json",
};
#define N_FIXED (sizeof fixed_files / sizeof fixed_files[0])

const char *hub_default_endpoint(void) {
    const char *v = getenv("HF_ENDPOINT");
    return v && *v ? v : HUB_DEFAULT_ENDPOINT;
}

void hub_pull_options_init(hub_pull_options *o, const char *spec) {
    memset(o, 0, sizeof *o);
    o->spec = spec;
    o->offline = -1;
    o->max_retries = 4;
    o->connect_timeout_s = 10;
    o->idle_timeout_s = 30;
    o->backoff_s = 0.5;
}

void hub_pull_result_free(hub_pull_result *r) {
    free(r->files);
    r->files = NULL;
    r->n_files = 0;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool hub_file_wanted(const char *name) {
    for (size_t i = 0; i < N_FIXED; i++)
        if (strcmp(name, fixed_files[i]) == 0)
            return true;
    return !strchr(name, '/') && ends_with(name, ".safetensors");
}

/* The token: HF_TOKEN, else the file HF_TOKEN_PATH, else $HF_HOME/token or
 * ~/.cache/huggingface/token (where `huggingface-cli login` stores it). */
static void find_token(char *buf, size_t cap) {
    buf[0] = '\0';
    const char *v = getenv("HF_TOKEN");
    if (v) {
        snprintf(buf, cap, "%s", v);
        return;
    }
    char path[HUB_PATH_MAX];
    const char *p = getenv("HF_TOKEN_PATH"), *home = getenv("HF_HOME");
    if (p && *p)
        snprintf(path, sizeof path, "%s", p);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/token", home);
    else if ((home = getenv("HOME")) && *home)
        snprintf(path, sizeof path, "%s/.cache/huggingface/token", home);
    else
        return;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Pull state                                                               */
/* ------------------------------------------------------------------------ */

typedef struct pull {
    const hub_pull_options *o;
    hub_pull_result *r;
    hub_http http;
    hub_id id;
    char cache[HUB_PATH_MAX];
    char repo_dir[HUB_PATH_MAX];
    char endpoint[1024]; /* for URLs */
    char shown[1024];    /* the endpoint for messages: no user:password */
    bool have_token;
    char **siblings;
    size_t n_siblings;
    bool plan_final;  /* r->files lists every file of the pull */
    bool unreachable; /* the model info request failed without an HTTP reply */
    /* progress of the current file */
    hub_progress p;
    double file_t0, last_report;
} pull;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void report(pull *pl, hub_event ev) {
    if (!pl->o->progress)
        return;
    pl->p.event = ev;
    pl->p.elapsed_s = now_s() - pl->file_t0;
    pl->o->progress(&pl->p, pl->o->user);
}

static void on_bytes(hub_sink *s, uint64_t have, uint64_t total) {
    pull *pl = s->user;
    pl->p.done = have;
    if (total)
        pl->p.total = total;
    double t = now_s();
    if (t - pl->last_report >= 0.1 || (pl->p.total && have == pl->p.total)) {
        pl->last_report = t;
        report(pl, HUB_FILE_PROGRESS);
    }
}

static void free_siblings(pull *pl) {
    for (size_t i = 0; i < pl->n_siblings; i++)
        free(pl->siblings[i]);
    free(pl->siblings);
    pl->siblings = NULL;
    pl->n_siblings = 0;
}

static bool is_sibling(const pull *pl, const char *name) {
    for (size_t i = 0; i < pl->n_siblings; i++)
        if (strcmp(pl->siblings[i], name) == 0)
            return true;
    return false;
}

/* "URL/ORG/NAME/resolve/COMMIT/FILE" */
static int resolve_url(char *url, size_t cap, const pull *pl, const char *file, lrc_error *err) {
    snprintf(url, cap, "%s/%s/resolve/%s/", pl->endpoint, pl->id.repo, pl->r->commit);
    if (hub_url_escape(url, cap, file, 1) < 0)
        return lrc_errorf(err, "model %s: the URL of %.200s is too long", pl->id.repo, file);
    return 0;
}

/* One line for a 401, 403 or 404 about the model (file NULL) or one file. */
static int http_status_error(const pull *pl, const hub_response *resp, const char *file,
                             lrc_error *err) {
    const hub_id *id = &pl->id;
    if (strcmp(resp->error_code, "RevisionNotFound") == 0)
        return lrc_errorf(err,
                          "model %s has no revision '%s' on %s (HTTP %ld); check the "
                          "branch, tag or commit",
                          id->repo, id->revision, pl->shown, resp->status);
    if (strcmp(resp->error_code, "EntryNotFound") == 0 || (file && resp->status == 404))
        return lrc_errorf(err, "model %s@%s: file %s not found on %s (HTTP %ld)", id->repo,
                          id->revision, file ? file : "?", pl->shown, resp->status);
    bool gated = strcmp(resp->error_code, "GatedRepo") == 0 || resp->status == 403 ||
                 (resp->status == 401 && strcmp(resp->error_code, "RepoNotFound") != 0);
    if (gated && !pl->have_token)
        return lrc_errorf(err,
                          "model %s is gated or private (HTTP %ld from %s) and no token was "
                          "sent; accept its terms on the Hub and set HF_TOKEN to an access "
                          "token",
                          id->repo, resp->status, pl->shown);
    if (gated)
        return lrc_errorf(err,
                          "model %s is gated or private and the token has no access (HTTP "
                          "%ld from %s); request access on the model's page or set HF_TOKEN "
                          "to another token",
                          id->repo, resp->status, pl->shown);
    if (resp->status == 401 || resp->status == 404)
        return lrc_errorf(err, "model %s not found on %s (HTTP %ld); check the id%s", id->repo,
                          pl->shown, resp->status,
                          pl->have_token ? "" : ", or set HF_TOKEN if the model is private");
    return lrc_errorf(err, "model %s%s%s: unexpected HTTP %ld from %s", id->repo,
                      file ? ": file " : "", file ? file : "", resp->status, pl->shown);
}

/* ------------------------------------------------------------------------ */
/* Model info                                                               */
/* ------------------------------------------------------------------------ */

/* GET api/models/REPO/revision/REV: the commit and the file list. Every file
 * name is checked here, before anything is written. */
static int fetch_model_info(pull *pl, lrc_error *err) {
    char url[URL_MAX];
    snprintf(url, sizeof url, "%s/api/models/%s/revision/", pl->endpoint, pl->id.repo);
    if (hub_url_escape(url, sizeof url, pl->id.revision, 0) < 0)
        return lrc_errorf(err, "revision '%.200s' is too long", pl->id.revision);

    hub_response resp;
    char *body = NULL;
    if (hub_http_get(&pl->http, url, &body, API_BODY_MAX, &resp, err) < 0) {
        pl->unreachable = !pl->http.cancelled;
        return lrc_error_prefix(err, "model %s", pl->id.repo);
    }
    if (resp.status != 200) {
        free(body);
        return http_status_error(pl, &resp, NULL, err);
    }

    cJSON *root = cJSON_Parse(body);
    free(body);
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(root, "sha");
    const cJSON *sibs = cJSON_GetObjectItemCaseSensitive(root, "siblings");
    int rc = 0;
    if (!root || !cJSON_IsString(sha) || !hub_is_commit(sha->valuestring) || !cJSON_IsArray(sibs)) {
        rc = lrc_errorf(err,
                        "model %s: the model info from %s has no commit \"sha\" of 40 hex "
                        "digits or no \"siblings\" list; is HF_ENDPOINT a Hugging Face Hub?",
                        pl->id.repo, pl->shown);
        goto done;
    }
    snprintf(pl->r->commit, sizeof pl->r->commit, "%s", sha->valuestring);

    size_t n = (size_t)cJSON_GetArraySize(sibs);
    pl->siblings = calloc(n ? n : 1, sizeof *pl->siblings);
    if (!pl->siblings) {
        rc = lrc_errorf(err, "out of memory reading the file list of %s", pl->id.repo);
        goto done;
    }
    const cJSON *s;
    cJSON_ArrayForEach(s, sibs) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(s, "rfilename");
        if (!cJSON_IsString(name)) {
            rc = lrc_errorf(err, "model %s: a sibling in the model info has no \"rfilename\"",
                            pl->id.repo);
            goto done;
        }
        if (hub_check_filename(pl->id.repo, name->valuestring, err) < 0) {
            rc = -1;
            goto done;
        }
        if (!(pl->siblings[pl->n_siblings] = strdup(name->valuestring))) {
            rc = lrc_errorf(err, "out of memory reading the file list of %s", pl->id.repo);
            goto done;
        }
        pl->n_siblings++;
    }
done:
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* One file                                                                 */
/* ------------------------------------------------------------------------ */

static bool valid_etag(const char *e) {
    if (!*e || strlen(e) > 128)
        return false;
    for (const char *p = e; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

static bool is_sha256_hex(const char *e) {
    if (strlen(e) != SHA256_HEX_LEN)
        return false;
    for (const char *p = e; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* HEAD the resolve URL: ETag, size, and whether blobs/ETAG is present. */
static int head_file(pull *pl, hub_file *f, lrc_error *err) {
    char url[URL_MAX];
    if (resolve_url(url, sizeof url, pl, f->name, err) < 0)
        return -1;
    hub_response resp;
    if (hub_http_head(&pl->http, url, &resp, err) < 0)
        return lrc_error_prefix(err, "model %s", pl->id.repo);
    if (resp.status >= 400)
        return http_status_error(pl, &resp, f->name, err);

    const char *etag = resp.linked_etag[0] ? resp.linked_etag : resp.etag;
    if (!valid_etag(etag))
        return lrc_errorf(err,
                          "model %s: file %s: the Hub sent no usable ETag ('%.130s'); "
                          "expected letters and digits",
                          pl->id.repo, f->name, etag);
    if (resp.commit[0] && strcmp(resp.commit, pl->r->commit) != 0)
        return lrc_errorf(err,
                          "model %s: file %s belongs to commit %.60s, not %s; the "
                          "revision moved during the pull, so run it again",
                          pl->id.repo, f->name, resp.commit, pl->r->commit);
    snprintf(f->etag, sizeof f->etag, "%s", etag);
    if (resp.linked_size >= 0)
        f->size = (uint64_t)resp.linked_size;
    else if (resp.status == 200 && resp.content_length >= 0)
        f->size = (uint64_t)resp.content_length;

    char blob[HUB_PATH_MAX];
    struct stat st;
    hub_pathf(blob, sizeof blob, NULL, "%s/blobs/%s", pl->repo_dir, f->etag);
    f->cached = stat(blob, &st) == 0 && S_ISREG(st.st_mode) &&
                (f->size == 0 || (uint64_t)st.st_size == f->size);
    return 0;
}

/* Take CACHE/.locks/models--ORG--NAME/ETAG.lock and return its fd, or -1. */
static int lock_blob(pull *pl, const char *etag, lrc_error *err) {
    char dir[HUB_PATH_MAX], path[HUB_PATH_MAX + 200];
    hub_pathf(dir, sizeof dir, NULL, "%s/.locks/%s", pl->cache, strrchr(pl->repo_dir, '/') + 1);
    if (hub_mkdirs(dir, err) < 0)
        return -1;
    hub_pathf(path, sizeof path, NULL, "%s/%s.lock", dir, etag);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return lrc_errorf(err, "cannot open the lock file %s: %s", path, strerror(errno));
    bool waited = false;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            close(fd);
            return lrc_errorf(err, "cannot lock %s: %s", path, strerror(errno));
        }
        if (pl->o->cancel && atomic_load(pl->o->cancel)) {
            close(fd);
            pl->r->cancelled = true;
            return lrc_errorf(err, "model %s: cancelled", pl->id.repo);
        }
        if (!waited && pl->o->log) {
            char line[sizeof path + 64];
            snprintf(line, sizeof line, "waiting for another process downloading into %s", path);
            pl->o->log(line, pl->o->user);
        }
        waited = true;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return fd;
}

static int check_free_space(const pull *pl, const hub_file *f, uint64_t have, lrc_error *err) {
    char dir[HUB_PATH_MAX];
    hub_pathf(dir, sizeof dir, NULL, "%s/blobs", pl->repo_dir);
    struct statvfs vfs;
    if (f->size <= have || statvfs(dir, &vfs) != 0)
        return 0;
    uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
    uint64_t need = f->size - have;
    if (avail < need)
        return lrc_errorf(err,
                          "model %s: file %s needs %llu more bytes but %s has %llu free; "
                          "free some space or set HF_HUB_CACHE to a larger disk",
                          pl->id.repo, f->name, (unsigned long long)need, dir,
                          (unsigned long long)avail);
    return 0;
}

/* Hash the first `have` bytes of f into sha. */
static int hash_existing(FILE *f, uint64_t have, sha256_ctx *sha) {
    char buf[1 << 16];
    if (fseek(f, 0, SEEK_SET) != 0)
        return -1;
    while (have > 0) {
        size_t want = have < sizeof buf ? (size_t)have : sizeof buf;
        if (fread(buf, 1, want, f) != want)
            return -1;
        sha256_update(sha, buf, want);
        have -= want;
    }
    return fseek(f, 0, SEEK_END);
}

typedef int (*file_check_fn)(pull *pl, const char *path, lrc_error *err);

/* Replace err with "model REPO: MSG; WHAT TO DO" for a failed write to the cache. */
static int cache_write_error(const pull *pl, int e, lrc_error *err) {
    char msg[LRC_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    if (e == ENOSPC || e == EDQUOT)
        return lrc_errorf(err,
                          "model %s: %.700s; free some space (a partial file is kept and the "
                          "next pull resumes it) or set HF_HUB_CACHE to a larger disk",
                          pl->id.repo, msg);
    return lrc_errorf(err,
                      "model %s: %.700s; make the cache folder writable or set HF_HUB_CACHE "
                      "(or lrc pull --cache) to a folder you can write",
                      pl->id.repo, msg);
}

/* One attempt at downloading f into blobs/ETAG.incomplete and verifying it.
 * Returns 0, -1 with err, or 1 when a resumed file failed its SHA-256 and
 * was deleted, so a download from byte 0 may succeed. */
static int download_attempt(pull *pl, hub_file *f, const char *inc, const char *url,
                            lrc_error *err) {
    struct stat st;
    uint64_t have = stat(inc, &st) == 0 ? (uint64_t)st.st_size : 0;
    if (f->size && have > f->size)
        have = 0;
    /* Before the .incomplete file exists, so a refused file leaves nothing. */
    if (check_free_space(pl, f, have, err) < 0)
        return -1;
    FILE *out = fopen(inc, "a+b");
    if (!out) {
        int e = errno;
        lrc_errorf(err, "cannot open %s for writing: %s", inc, strerror(e));
        return cache_write_error(pl, e, err);
    }
    have = fstat(fileno(out), &st) == 0 ? (uint64_t)st.st_size : 0;
    if (f->size && have > f->size) {
        if (ftruncate(fileno(out), 0) != 0) {
            int e = errno;
            fclose(out);
            lrc_errorf(err, "cannot truncate %s: %s", inc, strerror(e));
            return cache_write_error(pl, e, err);
        }
        have = 0;
    }

    /* An LFS ETag is the SHA-256 of the contents. A git ETag (the SHA-1 of
     * the git blob) is not checked, only the size. */
    sha256_ctx sha;
    bool lfs = is_sha256_hex(f->etag);
    sha256_init(&sha);
    if (lfs && have && hash_existing(out, have, &sha) < 0) {
        fclose(out);
        return lrc_errorf(err,
                          "model %s: cannot read the partial download %s; delete it and run "
                          "the pull again",
                          pl->id.repo, inc);
    }

    pl->p.done = pl->p.resumed_from = have;
    pl->p.total = f->size;
    pl->file_t0 = now_s();
    pl->last_report = 0;
    report(pl, HUB_FILE_START);
    if (have && pl->o->log) {
        char line[HUB_PATH_MAX + 100];
        snprintf(line, sizeof line, "%s: resuming at byte %llu of %llu", f->name,
                 (unsigned long long)have, (unsigned long long)f->size);
        pl->o->log(line, pl->o->user);
    }

    hub_sink sink = {out, have, lfs ? &sha : NULL, on_bytes, pl};
    hub_response resp;
    int rc = hub_http_download(&pl->http, url, &sink, &resp, err);
    int werr = fflush(out) != 0 || fsync(fileno(out)) != 0 ? errno : 0;
    fclose(out);
    if (rc < 0) {
        pl->r->cancelled = pl->http.cancelled;
        if (pl->http.write_errno) {
            char msg[LRC_ERROR_MAX];
            snprintf(msg, sizeof msg, "file %.300s: %.600s", f->name, err->msg);
            lrc_errorf(err, "%s", msg);
            return cache_write_error(pl, pl->http.write_errno, err);
        }
        if (resp.status >= 400 && resp.status < 500 && resp.status != 429)
            return http_status_error(pl, &resp, f->name, err);
        return lrc_error_prefix(err, "model %s: file %s", pl->id.repo, f->name);
    }
    if (werr) {
        lrc_errorf(err, "file %s: cannot write %s: %s", f->name, inc, strerror(werr));
        return cache_write_error(pl, werr, err);
    }
    if (sink.have > have)
        pl->r->bytes_downloaded += sink.have - have;

    if (f->size && sink.have != f->size) {
        unlink(inc);
        return lrc_errorf(err,
                          "model %s: file %s has %llu bytes but the Hub announced %llu; "
                          "the download was deleted, run the pull again",
                          pl->id.repo, f->name, (unsigned long long)sink.have,
                          (unsigned long long)f->size);
    }
    if (lfs) {
        uint8_t digest[SHA256_DIGEST_LEN];
        char hex[SHA256_HEX_LEN + 1];
        sha256_final(&sha, digest);
        sha256_hex(digest, hex);
        if (strcmp(hex, f->etag) != 0) {
            unlink(inc);
            if (have > 0)
                return 1;
            return lrc_errorf(err,
                              "model %s: file %s has SHA-256 %s but the Hub names %s; the "
                              "corrupt download was deleted, run the pull again",
                              pl->id.repo, f->name, hex, f->etag);
        }
    }
    return 0;
}

/* Download f into blobs/ETAG.incomplete, verify it, run check on it, then
 * rename it to blobs/ETAG. A resumed file that fails its SHA-256 (its first
 * part was damaged on disk) is downloaded once more from byte 0. */
static int download_blob(pull *pl, hub_file *f, file_check_fn check, lrc_error *err) {
    char blob[HUB_PATH_MAX], inc[HUB_PATH_MAX + 16], url[URL_MAX];
    hub_pathf(blob, sizeof blob, NULL, "%s/blobs/%s", pl->repo_dir, f->etag);
    hub_pathf(inc, sizeof inc, NULL, "%s.incomplete", blob);
    if (resolve_url(url, sizeof url, pl, f->name, err) < 0)
        return -1;

    int rc = download_attempt(pl, f, inc, url, err);
    if (rc == 1) {
        if (pl->o->log) {
            char line[1200];
            snprintf(line, sizeof line,
                     "%s: the resumed download does not match its SHA-256, so the partial file "
                     "was deleted; downloading it again from the start",
                     f->name);
            pl->o->log(line, pl->o->user);
        }
        rc = download_attempt(pl, f, inc, url, err);
        if (rc == 1)
            rc = lrc_errorf(err,
                            "model %s: file %s does not match its SHA-256 after a fresh "
                            "download; the corrupt download was deleted, run the pull again",
                            pl->id.repo, f->name);
    }
    if (rc < 0)
        return -1;
    if (check && check(pl, inc, err) < 0) {
        unlink(inc);
        return -1;
    }
    if (rename(inc, blob) != 0) {
        int e = errno;
        unlink(inc);
        lrc_errorf(err, "cannot rename %s to %s: %s", inc, blob, strerror(e));
        return cache_write_error(pl, e, err);
    }
    pl->r->n_downloaded++;
    return 0;
}

/* Make f present in the snapshot: link a cached blob or download it. */
static int fetch_file(pull *pl, hub_file *f, size_t index, file_check_fn check, lrc_error *err) {
    pl->p = (hub_progress){
        .file = f->name, .index = index, .count = pl->plan_final ? pl->r->n_files : 0};
    pl->p.total = f->size;
    if (f->cached) {
        if (check) {
            char blob[HUB_PATH_MAX];
            hub_pathf(blob, sizeof blob, NULL, "%s/blobs/%s", pl->repo_dir, f->etag);
            if (check(pl, blob, err) < 0)
                return -1;
        }
        if (hub_snapshot_link(pl->repo_dir, pl->r->commit, f->name, f->etag, err) < 0)
            return cache_write_error(pl, errno, err);
        pl->p.done = f->size;
        pl->file_t0 = now_s();
        report(pl, HUB_FILE_CACHED);
        return 0;
    }

    char blobs[HUB_PATH_MAX];
    hub_pathf(blobs, sizeof blobs, NULL, "%s/blobs", pl->repo_dir);
    if (hub_mkdirs(blobs, err) < 0)
        return cache_write_error(pl, errno, err);
    int lock = lock_blob(pl, f->etag, err);
    if (lock < 0)
        return pl->r->cancelled ? -1 : cache_write_error(pl, errno, err);
    /* Another process may have finished this blob while we waited. */
    struct stat st;
    char blob[HUB_PATH_MAX];
    hub_pathf(blob, sizeof blob, NULL, "%s/blobs/%s", pl->repo_dir, f->etag);
    int rc;
    if (stat(blob, &st) == 0 && (f->size == 0 || (uint64_t)st.st_size == f->size))
        rc = check ? check(pl, blob, err) : 0;
    else
        rc = download_blob(pl, f, check, err);
    close(lock);
    if (rc < 0)
        return -1;
    if (hub_snapshot_link(pl->repo_dir, pl->r->commit, f->name, f->etag, err) < 0)
        return cache_write_error(pl, errno, err);
    pl->p.done = f->size ? f->size : pl->p.done;
    report(pl, HUB_FILE_DONE);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Checks on config.json and the index                                      */
/* ------------------------------------------------------------------------ */

/* config.json must name an architecture src/model/config.c supports. */
static int check_config(pull *pl, const char *path, lrc_error *err) {
    llama_config cfg;
    lrc_error cerr;
    if (llama_config_load(&cfg, path, &cerr) < 0 || llama_config_validate(&cfg, path, &cerr) < 0) {
        /* Name the repository file, not the temporary blob. */
        char msg[LRC_ERROR_MAX];
        snprintf(msg, sizeof msg, "%s", cerr.msg);
        char *at = strstr(msg, path);
        if (at) {
            char rest[LRC_ERROR_MAX];
            snprintf(rest, sizeof rest, "%s", at + strlen(path));
            snprintf(at, sizeof msg - (size_t)(at - msg), "config.json%s", rest);
        }
        return lrc_errorf(err, "model %s cannot be used by lrc, so no weights were downloaded: %s",
                          pl->id.repo, msg);
    }
    return 0;
}

/* Parse the index's weight_map values (shard names, each once). */
static int parse_index_shards(pull *pl, const char *text, char ***shards, size_t *n,
                              lrc_error *err) {
    *shards = NULL;
    *n = 0;
    cJSON *root = cJSON_Parse(text);
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(map)) {
        cJSON_Delete(root);
        return lrc_errorf(err,
                          "model %s: model.safetensors.index.json has no \"weight_map\" "
                          "object",
                          pl->id.repo);
    }
    int rc = 0;
    size_t cap = (size_t)cJSON_GetArraySize(map);
    char **v = calloc(cap ? cap : 1, sizeof *v);
    const cJSON *e;
    if (!v)
        rc = lrc_errorf(err, "out of memory reading the index of %s", pl->id.repo);
    cJSON_ArrayForEach(e, map) {
        if (rc < 0)
            break;
        if (!cJSON_IsString(e)) {
            rc = lrc_errorf(err,
                            "model %s: model.safetensors.index.json: weight_map entry "
                            "'%.100s' is not a file name",
                            pl->id.repo, e->string);
            break;
        }
        bool seen = false;
        for (size_t i = 0; i < *n && !seen; i++)
            seen = strcmp(v[i], e->valuestring) == 0;
        if (seen)
            continue;
        if (hub_check_filename(pl->id.repo, e->valuestring, NULL) < 0) {
            char shown[300];
            hub_printable(shown, sizeof shown, e->valuestring);
            rc = lrc_errorf(err,
                            "model %s: model.safetensors.index.json names the shard '%.200s', "
                            "which would escape the model's cache folder (absolute, '..', empty "
                            "part or backslash); no weights were downloaded, so the repository's "
                            "index is broken: report it to its owner",
                            pl->id.repo, shown);
            break;
        }
        if (!(v[(*n)++] = strdup(e->valuestring)))
            rc = lrc_errorf(err, "out of memory reading the index of %s", pl->id.repo);
    }
    cJSON_Delete(root);
    *shards = v;
    return rc;
}

static int read_index_shards(pull *pl, const char *path, char ***shards, size_t *n,
                             lrc_error *err) {
    *shards = NULL;
    *n = 0;
    char *text = hub_read_small(path, INDEX_BODY_MAX);
    if (!text)
        return lrc_errorf(err, "cannot read %s", path);
    int rc = parse_index_shards(pl, text, shards, n, err);
    free(text);
    return rc;
}

/* GET a small repository file into memory, for a dry run. */
static int fetch_to_memory(pull *pl, const char *file, char **body, lrc_error *err) {
    char url[URL_MAX];
    hub_response resp;
    if (resolve_url(url, sizeof url, pl, file, err) < 0)
        return -1;
    for (int hops = 0; hops < 5; hops++) {
        if (hub_http_get(&pl->http, url, body, INDEX_BODY_MAX, &resp, err) < 0)
            return lrc_error_prefix(err, "model %s", pl->id.repo);
        if (resp.status == 200)
            return 0;
        free(*body);
        *body = NULL;
        if (resp.status < 300 || resp.status >= 400 || !resp.location[0])
            return http_status_error(pl, &resp, file, err);
        snprintf(url, sizeof url, "%s", resp.location);
    }
    return lrc_errorf(err, "model %s: file %s: too many redirects", pl->id.repo, file);
}

/* A dry run's config check: config.json through a temporary file. */
static int check_config_dry_run(pull *pl, lrc_error *err) {
    char *body = NULL;
    if (fetch_to_memory(pl, "config.json", &body, err) < 0)
        return -1;
    const char *tmpdir = getenv("TMPDIR");
    char path[HUB_PATH_MAX];
    snprintf(path, sizeof path, "%s/lrc-pull-config-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        free(body);
        return lrc_errorf(err, "cannot create a temporary file in %s: %s",
                          tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
    }
    size_t len = strlen(body);
    int rc = write(fd, body, len) == (ssize_t)len ? 0 : -1;
    close(fd);
    free(body);
    rc = rc < 0 ? lrc_errorf(err, "cannot write %s", path) : check_config(pl, path, err);
    unlink(path);
    return rc;
}

static void free_names(char **v, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ------------------------------------------------------------------------ */
/* The plan                                                                 */
/* ------------------------------------------------------------------------ */

static int plan_add(pull *pl, const char *name, size_t cap, lrc_error *err) {
    hub_pull_result *r = pl->r;
    for (size_t i = 0; i < r->n_files; i++)
        if (strcmp(r->files[i].name, name) == 0)
            return 0;
    if (r->n_files == cap)
        return lrc_errorf(err, "model %s: too many files", pl->id.repo);
    if (strlen(name) >= sizeof r->files[0].name)
        return lrc_errorf(err, "model %s: file name %.100s... is too long", pl->id.repo, name);
    hub_file *f = &r->files[r->n_files++];
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    return 0;
}

static bool matches_include(const pull *pl, const char *name) {
    for (size_t i = 0; i < pl->o->n_include; i++)
        if (fnmatch(pl->o->include[i], name, 0) == 0)
            return true;
    return false;
}

/* The shard names of the index idx (HEAD done): from its cached blob, else
 * fetched into memory, so nothing is written before config.json is checked. */
static int plan_index_shards(pull *pl, const hub_file *idx, char ***shards, size_t *n,
                             lrc_error *err) {
    if (idx->cached) {
        char path[HUB_PATH_MAX];
        hub_pathf(path, sizeof path, NULL, "%s/blobs/%s", pl->repo_dir, idx->etag);
        return read_index_shards(pl, path, shards, n, err);
    }
    char *body = NULL;
    *shards = NULL;
    *n = 0;
    if (fetch_to_memory(pl, idx->name, &body, err) < 0)
        return -1;
    int rc = parse_index_shards(pl, body, shards, n, err);
    free(body);
    return rc;
}

/* Tell the user about an --include pattern that matches no repository file. */
static void note_unmatched_includes(const pull *pl) {
    for (size_t k = 0; k < pl->o->n_include && pl->o->log; k++) {
        bool any = false;
        for (size_t i = 0; i < pl->n_siblings && !any; i++)
            any = fnmatch(pl->o->include[k], pl->siblings[i], 0) == 0;
        if (any)
            continue;
        char shown[300], line[1200];
        hub_printable(shown, sizeof shown, pl->o->include[k]);
        snprintf(line, sizeof line,
                 "--include '%s' matches no file of %s@%s (patterns are fnmatch(3) globs on "
                 "the repository's file names, such as 'onnx/*')",
                 shown, pl->id.repo, pl->id.revision);
        pl->o->log(line, pl->o->user);
    }
}

/* List every file of the pull: the fixed names the repository has, the
 * weights (the shards the index names, else model.safetensors, else every
 * top-level .safetensors file) and the --include matches. The index is read
 * from memory here, so the file count is known before the first download.
 * Then fetch config.json and check its architecture before any weight is
 * asked for, then HEAD and fetch the rest. A dry run checks config.json
 * from memory and writes nothing. */
static int make_plan_and_pull(pull *pl, lrc_error *err) {
    hub_pull_result *r = pl->r;
    size_t cap = pl->n_siblings + N_FIXED + 1;
    r->files = calloc(cap, sizeof *r->files);
    if (!r->files)
        return lrc_errorf(err, "out of memory planning the pull of %s", pl->id.repo);
    if (!is_sibling(pl, "config.json"))
        return lrc_errorf(err,
                          "model %s@%s has no config.json, so it is not a Transformers "
                          "model lrc can load",
                          pl->id.repo, pl->id.revision);

    for (size_t i = 0; i < N_FIXED; i++)
        if (is_sibling(pl, fixed_files[i]) && plan_add(pl, fixed_files[i], cap, err) < 0)
            return -1;
    /* config.json is always first. */
    if (head_file(pl, &r->files[0], err) < 0)
        return -1;

    bool indexed = is_sibling(pl, "model.safetensors.index.json");
    size_t n_before_weights = r->n_files;
    if (indexed) {
        hub_file *idx = NULL;
        for (size_t i = 0; i < r->n_files; i++)
            if (strcmp(r->files[i].name, "model.safetensors.index.json") == 0)
                idx = &r->files[i];
        char **shards;
        size_t n_shards;
        int rc = head_file(pl, idx, err);
        if (rc == 0)
            rc = plan_index_shards(pl, idx, &shards, &n_shards, err);
        else
            shards = NULL, n_shards = 0;
        for (size_t i = 0; rc == 0 && i < n_shards; i++) {
            if (!is_sibling(pl, shards[i]))
                rc = lrc_errorf(err,
                                "model %s: model.safetensors.index.json names %s, which "
                                "the repository does not have",
                                pl->id.repo, shards[i]);
            else
                rc = plan_add(pl, shards[i], cap, err);
        }
        free_names(shards, n_shards);
        if (rc < 0)
            return -1;
    } else if (is_sibling(pl, "model.safetensors")) {
        /* Other top-level .safetensors files beside it are variants
         * (consolidated.safetensors, adapters) that lrc does not read. */
        if (plan_add(pl, "model.safetensors", cap, err) < 0)
            return -1;
    } else {
        for (size_t i = 0; i < pl->n_siblings; i++)
            if (hub_file_wanted(pl->siblings[i]) && ends_with(pl->siblings[i], ".safetensors") &&
                plan_add(pl, pl->siblings[i], cap, err) < 0)
                return -1;
    }
    if (r->n_files == n_before_weights)
        return lrc_errorf(err,
                          "model %s@%s has no .safetensors weights (lrc reads safetensors, "
                          "not .bin or .gguf files)",
                          pl->id.repo, pl->id.revision);
    for (size_t i = 0; i < pl->n_siblings; i++)
        if (matches_include(pl, pl->siblings[i]) && plan_add(pl, pl->siblings[i], cap, err) < 0)
            return -1;
    note_unmatched_includes(pl);
    pl->plan_final = true;

    if (pl->o->dry_run ? check_config_dry_run(pl, err) < 0
                       : fetch_file(pl, &r->files[0], 1, check_config, err) < 0)
        return -1;

    /* HEAD every file for its ETag and size, then fetch what is missing. */
    for (size_t i = 1; i < r->n_files; i++)
        if (!r->files[i].etag[0] && head_file(pl, &r->files[i], err) < 0)
            return -1;
    if (pl->o->dry_run)
        return 0;
    for (size_t i = 1; i < r->n_files; i++)
        if (fetch_file(pl, &r->files[i], i + 1, NULL, err) < 0)
            return -1;
    return 0;
}

/* After a failed pull, remove the folders it left empty, so a refused model
 * leaves no models--ORG--NAME behind. rmdir removes only empty folders. */
static void remove_empty_folders(const pull *pl) {
    char path[HUB_PATH_MAX];
    if (pl->r->commit[0] &&
        hub_pathf(path, sizeof path, NULL, "%s/snapshots/%s", pl->repo_dir, pl->r->commit) == 0)
        rmdir(path);
    const char *const subs[] = {"snapshots", "blobs", "refs"};
    for (size_t i = 0; i < 3; i++)
        if (hub_pathf(path, sizeof path, NULL, "%s/%s", pl->repo_dir, subs[i]) == 0)
            rmdir(path);
    rmdir(pl->repo_dir);
}

/* ------------------------------------------------------------------------ */
/* Offline                                                                  */
/* ------------------------------------------------------------------------ */

/* Add the files under dir (a snapshot, prefix the path below it) to the
 * plan as cached, with their sizes, for the summary and --dry-run. */
static void list_snapshot_files(pull *pl, const char *dir, const char *prefix, int depth,
                                size_t *cap) {
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    hub_pull_result *r = pl->r;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[HUB_PATH_MAX], name[sizeof r->files[0].name];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "/" : "", e->d_name) >=
                (int)sizeof name)
            continue;
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 8)
                list_snapshot_files(pl, path, name, depth + 1, cap);
            continue;
        }
        if (r->n_files == *cap) {
            size_t n = *cap ? 2 * *cap : 16;
            hub_file *v = realloc(r->files, n * sizeof *v);
            if (!v)
                break;
            r->files = v;
            *cap = n;
        }
        hub_file *f = &r->files[r->n_files++];
        memset(f, 0, sizeof *f);
        snprintf(f->name, sizeof f->name, "%s", name);
        char target[HUB_PATH_MAX];
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            const char *slash = strrchr(target, '/');
            snprintf(f->etag, sizeof f->etag, "%.128s", slash ? slash + 1 : target);
        }
        f->size = (uint64_t)st.st_size;
        f->cached = true;
    }
    closedir(d);
}

static int compare_files(const void *a, const void *b) {
    return strcmp(((const hub_file *)a)->name, ((const hub_file *)b)->name);
}

/* The snapshot from the cache alone, with config.json and its weights. */
static int pull_offline(pull *pl, lrc_error *err) {
    hub_pull_result *r = pl->r;
    if (hub_snapshot_find(r->snapshot, sizeof r->snapshot, pl->cache, &pl->id, err) < 0)
        return lrc_error_prefix(err, "HF_HUB_OFFLINE is set, so only the cache was searched");
    const char *slash = strrchr(r->snapshot, '/');
    snprintf(r->commit, sizeof r->commit, "%s", slash ? slash + 1 : "");
    if (hub_snapshot_check(r->snapshot, pl->id.repo, pl->id.revision, err) < 0) {
        r->snapshot[0] = '\0';
        return -1;
    }
    free(r->files);
    r->files = NULL;
    r->n_files = 0;
    size_t cap = 0;
    list_snapshot_files(pl, r->snapshot, "", 0, &cap);
    if (r->n_files > 1)
        qsort(r->files, r->n_files, sizeof *r->files, compare_files);
    r->from_cache = true;
    return 0;
}

/* When the Hub cannot be reached, a complete cached snapshot of the
 * revision is used, as huggingface_hub does, with a notice naming the error.
 * Returns -1 and leaves err as it was when the cache cannot serve. */
static int use_cache_instead(pull *pl, lrc_error *err) {
    lrc_error cache_err;
    if (pull_offline(pl, &cache_err) < 0)
        return -1;
    if (pl->o->log) {
        char line[LRC_ERROR_MAX + HUB_REPO_ID_MAX + HUB_REVISION_MAX + 64];
        snprintf(line, sizeof line,
                 "the Hub cannot be reached (%s); using the cached snapshot of %s@%s", err->msg,
                 pl->id.repo, pl->id.revision);
        pl->o->log(line, pl->o->user);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Entry point                                                              */
/* ------------------------------------------------------------------------ */

int hub_pull(const hub_pull_options *o, hub_pull_result *r, lrc_error *err) {
    memset(r, 0, sizeof *r);
    pull pl;
    memset(&pl, 0, sizeof pl);
    pl.o = o;
    pl.r = r;

    if (hub_id_parse(&pl.id, o->spec ? o->spec : "", err) < 0)
        return -1;
    if (o->revision) {
        if (hub_revision_check(o->revision, err) < 0)
            return lrc_error_prefix(err, "--revision");
        char spec[HUB_REPO_ID_MAX + HUB_REVISION_MAX + 2];
        snprintf(spec, sizeof spec, "%s@%s", pl.id.repo, o->revision);
        if (hub_id_parse(&pl.id, spec, err) < 0)
            return -1;
    }
    snprintf(r->repo, sizeof r->repo, "%s", pl.id.repo);
    snprintf(r->revision, sizeof r->revision, "%s", pl.id.revision);

    if (o->cache_dir)
        snprintf(pl.cache, sizeof pl.cache, "%s", o->cache_dir);
    else if (hub_cache_dir(pl.cache, sizeof pl.cache, err) < 0)
        return -1;
    if (hub_repo_dir(pl.repo_dir, sizeof pl.repo_dir, pl.cache, pl.id.repo, err) < 0)
        return -1;
    /* Room below the repository folder for a commit, a file name of up to
     * 1024 bytes and a blob name, so the paths built later always fit. */
    if (strlen(pl.repo_dir) > HUB_PATH_MAX - 1200)
        return lrc_errorf(err,
                          "the cache folder path %.100s... is too long; use a shorter "
                          "HF_HUB_CACHE or --cache",
                          pl.cache);

    bool offline = o->offline < 0 ? hub_offline_env() : o->offline != 0;
    if (offline)
        return pull_offline(&pl, err);

    const char *endpoint = o->endpoint ? o->endpoint : hub_default_endpoint();
    char token[2048];
    if (o->token)
        snprintf(token, sizeof token, "%s", o->token);
    else
        find_token(token, sizeof token);
    pl.have_token = token[0] != '\0';
    int rc = hub_http_open(&pl.http, o, endpoint, token, err);
    memset(token, 0, sizeof token);
    if (rc < 0) {
        hub_http_close(&pl.http);
        return -1;
    }
    snprintf(pl.endpoint, sizeof pl.endpoint, "%s", pl.http.endpoint);
    snprintf(pl.shown, sizeof pl.shown, "%s", pl.http.shown_endpoint);

    rc = fetch_model_info(&pl, err);
    if (rc < 0 && pl.unreachable && !o->dry_run && use_cache_instead(&pl, err) == 0) {
        hub_http_close(&pl.http);
        return 0;
    }
    if (rc == 0)
        rc = make_plan_and_pull(&pl, err);
    if (rc == 0 && !o->dry_run && !hub_is_commit(pl.id.revision) &&
        hub_ref_write(pl.repo_dir, pl.id.revision, r->commit, err) < 0)
        rc = cache_write_error(&pl, errno, err);
    if (rc == 0 && !o->dry_run)
        hub_pathf(r->snapshot, sizeof r->snapshot, NULL, "%s/snapshots/%s", pl.repo_dir, r->commit);
    if (rc < 0 && r->snapshot[0] == '\0')
        remove_empty_folders(&pl);
    if (pl.http.cancelled)
        r->cancelled = true;
    hub_http_close(&pl.http);
    free_siblings(&pl);
    return rc;
}
