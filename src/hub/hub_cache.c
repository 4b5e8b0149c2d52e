/*
 * The huggingface_hub cache layout (see hub_cache.h). Paths are built with
 * snprintf into HUB_PATH_MAX buffers and a truncated path is an error, never
 * a shorter path. Names from outside (repo ids, revisions, file names) are
 * validated before they are joined to the cache folder, so no component can
 * be "..", absolute or empty.
 */
#define _POSIX_C_SOURCE 200809L
#include "hub/hub_cache.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN 96

static int join(char *buf, size_t cap, lrc_error *err, const char *fmt, const char *a,
                const char *b) {
    int n = snprintf(buf, cap, fmt, a, b);
    if (n < 0 || (size_t)n >= cap)
        return lrc_errorf(err,
                          "path %.200s/%.200s is longer than %zu bytes; use a shorter cache "
                          "folder (HF_HUB_CACHE)",
                          a, b, cap - 1);
    return 0;
}

int hub_pathf(char *buf, size_t cap, lrc_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return lrc_errorf(err,
                          "path %.200s... is longer than %zu bytes; use a shorter cache "
                          "folder (HF_HUB_CACHE)",
                          buf, cap - 1);
    return 0;
}

int hub_cache_dir(char *buf, size_t cap, lrc_error *err) {
    const char *v = getenv("HF_HUB_CACHE");
    if (v && *v)
        return join(buf, cap, err, "%s%s", v, "");
    v = getenv("HF_HOME");
    if (v && *v)
        return join(buf, cap, err, "%s/%s", v, "hub");
    v = getenv("XDG_CACHE_HOME");
    if (v && *v)
        return join(buf, cap, err, "%s/%s", v, "huggingface/hub");
    v = getenv("HOME");
    if (!v || !*v)
        return lrc_errorf(err, "no Hub cache folder: HF_HUB_CACHE, HF_HOME and HOME are all "
                               "unset; set HF_HUB_CACHE or give --cache DIR");
    return join(buf, cap, err, "%s/%s", v, ".cache/huggingface/hub");
}

/* ------------------------------------------------------------------------ */
/* Names                                                                    */
/* ------------------------------------------------------------------------ */

/* One of ORG or NAME, len bytes at s. */
static bool valid_repo_part(const char *s, size_t len) {
    if (len == 0 || len > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && c != '-' && c != '_' && c != '.')
            return false;
        if (i + 1 < len && ((c == '-' && s[i + 1] == '-') || (c == '.' && s[i + 1] == '.')))
            return false;
    }
    return s[0] != '-' && s[0] != '.' && s[len - 1] != '-' && s[len - 1] != '.';
}

/* A '/'-separated relative path with no empty, "." or ".." component, no
 * backslash and no control character. */
static bool valid_relative_path(const char *s) {
    if (!*s || *s == '/')
        return false;
    const char *part = s;
    for (const char *p = s;; p++) {
        if (*p == '/' || *p == '\0') {
            size_t len = (size_t)(p - part);
            if (len == 0 || (len == 1 && part[0] == '.') ||
                (len == 2 && part[0] == '.' && part[1] == '.'))
                return false;
            if (*p == '\0')
                return true;
            part = p + 1;
        } else if (*p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f) {
            return false;
        }
    }
}

/* A branch, tag or commit: a relative path (see above) without the
 * characters git forbids in a ref name and none that the id syntax uses. */
static bool valid_revision(const char *rev) {
    if (strlen(rev) > HUB_REVISION_MAX || !valid_relative_path(rev))
        return false;
    for (const char *p = rev; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || strchr("@:~^?*[\\", *p))
            return false;
    return true;
}

bool hub_revision_is_valid(const char *rev) {
    return valid_revision(rev);
}

int hub_revision_check(const char *rev, lrc_error *err) {
    if (valid_revision(rev))
        return 0;
    char shown[2 * HUB_REVISION_MAX];
    hub_printable(shown, sizeof shown, rev);
    return lrc_errorf(err,
                      "invalid revision '%s': expected a branch, tag or commit without spaces, "
                      "'@', ':', '~', '^', '?', '*', '[', backslashes, control characters or "
                      "empty or '..' parts",
                      shown);
}

void hub_printable(char *dst, size_t cap, const char *s) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < cap; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            dst[o++] = '\\';
            char c = 'r';
            if (*p == '\n')
                c = 'n';
            else if (*p == '\t')
                c = 't';
            dst[o++] = c;
        } else if (*p < 0x20 || *p == 0x7f) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[*p >> 4];
            dst[o++] = hex[*p & 15];
        } else {
            dst[o++] = (char)*p;
        }
    }
    if (cap)
        dst[o < cap ? o : cap - 1] = '\0';
}

bool hub_offline_env(void) {
    const char *v = getenv("HF_HUB_OFFLINE");
    return v && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
                 strcasecmp(v, "on") == 0);
}

void hub_pull_hint(char *buf, size_t cap, const char *spec) {
    snprintf(buf, cap, "%s 'lrc pull %s'",
             hub_offline_env() ? "unset HF_HUB_OFFLINE and run" : "run", spec);
}

bool hub_is_commit(const char *rev) {
    if (strlen(rev) != HUB_COMMIT_LEN)
        return false;
    for (const char *p = rev; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int hub_id_parse(hub_id *id, const char *spec, lrc_error *err) {
    memset(id, 0, sizeof *id);
    char shown[600];
    hub_printable(shown, sizeof shown, spec);
    const char *at = strchr(spec, '@');
    size_t repo_len = at ? (size_t)(at - spec) : strlen(spec);
    const char *slash = memchr(spec, '/', repo_len);
    if (!slash || !valid_repo_part(spec, (size_t)(slash - spec)) ||
        !valid_repo_part(slash + 1, repo_len - (size_t)(slash - spec) - 1))
        return lrc_errorf(err,
                          "invalid model id '%.300s': expected ORG/NAME[@REVISION] with names of "
                          "letters, digits, '-', '_' and '.' (e.g. HuggingFaceTB/SmolLM2-135M)",
                          shown);
    memcpy(id->repo, spec, repo_len);
    id->repo[repo_len] = '\0';

    const char *rev = at ? at + 1 : "main";
    if (!valid_revision(rev)) {
        char rev_shown[2 * HUB_REVISION_MAX];
        hub_printable(rev_shown, sizeof rev_shown, rev);
        return lrc_errorf(err,
                          "invalid revision '%.300s' in model id '%.300s': expected a branch, "
                          "tag or commit without spaces, '@', ':', '~', '^', '?', '*', '[', "
                          "backslashes, control characters or empty or '..' parts",
                          rev_shown, shown);
    }
    snprintf(id->revision, sizeof id->revision, "%s", rev);
    return 0;
}

bool hub_id_is_valid(const char *s) {
    hub_id id;
    return hub_id_parse(&id, s, NULL) == 0;
}

int hub_check_filename(const char *repo, const char *name, lrc_error *err) {
    if (strlen(name) > 1024 || !valid_relative_path(name))
        return lrc_errorf(err,
                          "model %s: the Hub lists the file name '%.200s', which would escape the "
                          "model's cache folder (absolute, '..', empty part or backslash); "
                          "nothing was downloaded",
                          repo, name);
    return 0;
}

int hub_repo_dir(char *buf, size_t cap, const char *cache, const char *repo, lrc_error *err) {
    char folder[HUB_REPO_ID_MAX + 16];
    size_t o = (size_t)snprintf(folder, sizeof folder, "models--");
    for (const char *p = repo; *p && o + 3 < sizeof folder; p++) {
        if (*p == '/') {
            folder[o++] = '-';
            folder[o++] = '-';
        } else {
            folder[o++] = *p;
        }
    }
    folder[o] = '\0';
    return join(buf, cap, err, "%s/%s", cache, folder);
}

/* ------------------------------------------------------------------------ */
/* Lookup                                                                   */
/* ------------------------------------------------------------------------ */

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Read the commit a ref file names, ignoring trailing whitespace. Returns -1
 * when the file is missing or contains no commit. */
static int read_ref(const char *path, char commit[HUB_COMMIT_LEN + 1]) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[128] = {0};
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = '\0';
    if (!hub_is_commit(line))
        return -1;
    memcpy(commit, line, HUB_COMMIT_LEN + 1);
    return 0;
}

/* The id to suggest to 'lrc pull': ORG/NAME when the revision is main, else
 * ORG/NAME@REV. */
static void pull_spec(char *buf, size_t cap, const char *repo, const char *revision) {
    if (strcmp(revision, "main") == 0)
        snprintf(buf, cap, "%s", repo);
    else
        snprintf(buf, cap, "%s@%s", repo, revision);
}

/* True when rev may be the start of a commit: 7 to 39 lower-case hex digits. */
static bool is_commit_prefix(const char *rev) {
    size_t len = strlen(rev);
    if (len < 7 || len >= HUB_COMMIT_LEN)
        return false;
    for (const char *p = rev; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* The one snapshot folder of repo_dir whose commit starts with prefix.
 * Returns the number of matches (the commit is set when it is 1). */
static int find_commit_prefix(const char *repo_dir, const char *prefix,
                              char commit[HUB_COMMIT_LEN + 1]) {
    char dir[HUB_PATH_MAX];
    if (hub_pathf(dir, sizeof dir, NULL, "%s/snapshots", repo_dir) < 0)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    size_t len = strlen(prefix);
    while ((e = readdir(d))) {
        if (hub_is_commit(e->d_name) && strncmp(e->d_name, prefix, len) == 0) {
            if (n++ == 0)
                memcpy(commit, e->d_name, HUB_COMMIT_LEN + 1);
        }
    }
    closedir(d);
    return n;
}

int hub_snapshot_find(char *buf, size_t cap, const char *cache, const hub_id *id, lrc_error *err) {
    char repo_dir[HUB_PATH_MAX], path[HUB_PATH_MAX], spec[HUB_REPO_ID_MAX + HUB_REVISION_MAX + 2];
    char hint[sizeof spec + 64];
    if (hub_repo_dir(repo_dir, sizeof repo_dir, cache, id->repo, err) < 0)
        return -1;
    pull_spec(spec, sizeof spec, id->repo, id->revision);
    hub_pull_hint(hint, sizeof hint, spec);
    if (!is_dir(repo_dir))
        return lrc_errorf(err, "model %s is not in the Hub cache %s (no %s); to download it, %s",
                          id->repo, cache, strrchr(repo_dir, '/') + 1, hint);

    char commit[HUB_COMMIT_LEN + 1];
    if (hub_is_commit(id->revision)) {
        memcpy(commit, id->revision, sizeof commit);
    } else {
        if (join(path, sizeof path, err, "%s/refs/%s", repo_dir, id->revision) < 0)
            return -1;
        if (read_ref(path, commit) < 0) {
            int n = is_commit_prefix(id->revision)
                        ? find_commit_prefix(repo_dir, id->revision, commit)
                        : 0;
            if (n > 1)
                return lrc_errorf(err,
                                  "model %s: the commit prefix '%s' matches %d cached snapshots; "
                                  "give more digits of the commit (lrc pull --list shows them)",
                                  id->repo, id->revision, n);
            if (n == 0)
                return lrc_errorf(err,
                                  "model %s has no cached revision '%s' (%s is missing or holds "
                                  "no commit, and no cached commit starts with it); to download "
                                  "it, %s",
                                  id->repo, id->revision, path, hint);
        }
    }
    if (join(path, sizeof path, err, "%s/snapshots/%s", repo_dir, commit) < 0)
        return -1;
    if (!is_dir(path))
        return lrc_errorf(err,
                          "model %s@%s: snapshot folder %s is missing; to download it again, %s",
                          id->repo, id->revision, path, hint);
    if (strlen(path) >= cap)
        return lrc_errorf(err, "snapshot path %s is too long", path);
    memcpy(buf, path, strlen(path) + 1);
    return 0;
}

/* Return 1 when name in dir is a readable file, -1 when it is a link whose
 * blob is gone, and 0 when it is absent. */
static int file_state(const char *dir, const char *name) {
    char path[HUB_PATH_MAX];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return 0;
    if (stat(path, &st) == 0)
        return S_ISREG(st.st_mode) ? 1 : 0;
    return lstat(path, &st) == 0 ? -1 : 0;
}

char *hub_read_small(const char *path, size_t max) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = malloc(max + 1);
    size_t len = text ? fread(text, 1, max, f) : 0;
    fclose(f);
    if (text)
        text[len] = '\0';
    return text;
}

/* The first file the snapshot's weights need that is not readable, in
 * missing (empty when all are there); *broken is set when it is a dangling
 * link. */
static void find_missing_weights(const char *dir, char *missing, size_t cap, bool *broken) {
    missing[0] = '\0';
    int st = file_state(dir, "model.safetensors.index.json");
    if (st != 0) {
        char path[HUB_PATH_MAX];
        char *text = NULL;
        if (st > 0 &&
            snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir) < (int)sizeof path)
            text = hub_read_small(path, 64u << 20);
        cJSON *root = text ? cJSON_Parse(text) : NULL;
        free(text);
        const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
        if (st < 0 || !cJSON_IsObject(map)) {
            snprintf(missing, cap, "model.safetensors.index.json");
            *broken = st < 0;
            cJSON_Delete(root);
            return;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, map) {
            if (!cJSON_IsString(e) || !valid_relative_path(e->valuestring))
                continue; /* the loader reports a bad index */
            int fs = file_state(dir, e->valuestring);
            if (fs <= 0) {
                snprintf(missing, cap, "%s", e->valuestring);
                *broken = fs < 0;
                break;
            }
        }
        cJSON_Delete(root);
        return;
    }
    st = file_state(dir, "model.safetensors");
    if (st > 0)
        return;
    if (st < 0) {
        snprintf(missing, cap, "model.safetensors");
        *broken = true;
        return;
    }
    /* No model.safetensors: any other top-level .safetensors file will do. */
    DIR *d = opendir(dir);
    struct dirent *e;
    bool any = false;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 12 && strcmp(e->d_name + len - 12, ".safetensors") == 0) {
            int fs = file_state(dir, e->d_name);
            if (fs > 0)
                any = true;
            else if (fs < 0 && !missing[0]) {
                snprintf(missing, cap, "%s", e->d_name);
                *broken = true;
            }
        }
    }
    if (d)
        closedir(d);
    if (any)
        missing[0] = '\0';
    else if (!missing[0])
        snprintf(missing, cap, "model.safetensors");
}

int hub_snapshot_check(const char *snapshot, const char *repo, const char *revision,
                       lrc_error *err) {
    char missing[1100];
    bool broken = false;
    int st = file_state(snapshot, "config.json");
    if (st <= 0) {
        snprintf(missing, sizeof missing, "config.json");
        broken = st < 0;
    } else {
        find_missing_weights(snapshot, missing, sizeof missing, &broken);
    }
    if (!missing[0])
        return 0;
    char spec[HUB_REPO_ID_MAX + HUB_REVISION_MAX + 2], hint[sizeof spec + 64];
    pull_spec(spec, sizeof spec, repo, revision);
    hub_pull_hint(hint, sizeof hint, spec);
    return lrc_errorf(err, "model %s@%s is only partly cached: %s in %s %s; to repair it, %s", repo,
                      revision, missing, snapshot,
                      broken ? "is a link whose blob was deleted" : "is missing", hint);
}

/* True when s starts with a valid ORG/NAME followed by '@' or the end. */
static bool has_repo_prefix(const char *s) {
    const char *at = strchr(s, '@');
    size_t len = at ? (size_t)(at - s) : strlen(s);
    const char *slash = memchr(s, '/', len);
    return slash && valid_repo_part(s, (size_t)(slash - s)) &&
           valid_repo_part(slash + 1, len - (size_t)(slash - s) - 1);
}

int hub_resolve_model_arg(char *path, size_t cap, const char *arg, lrc_error *err) {
    struct stat st;
    bool exists = stat(arg, &st) == 0;
    if (exists || (!hub_id_is_valid(arg) && !(strchr(arg, '@') && has_repo_prefix(arg)))) {
        if (strlen(arg) >= cap)
            return lrc_errorf(err, "path '%.200s...' is longer than %zu bytes", arg, cap - 1);
        memmove(path, arg, strlen(arg) + 1);
        return 0;
    }

    char shown[600];
    hub_printable(shown, sizeof shown, arg);
    hub_id id;
    char cache[HUB_PATH_MAX];
    if (hub_id_parse(&id, arg, err) < 0 || hub_cache_dir(cache, sizeof cache, err) < 0 ||
        hub_snapshot_find(path, cap, cache, &id, err) < 0 ||
        hub_snapshot_check(path, id.repo, id.revision, err) < 0)
        return lrc_error_prefix(err,
                                "'%s' is not a file or folder, so it was looked up as a "
                                "Hub model id",
                                shown);
    return 1;
}

bool hub_snapshot_identify(const char *path, char repo[HUB_REPO_ID_MAX + 1],
                           char commit[HUB_COMMIT_LEN + 1]) {
    char buf[HUB_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return false;
    size_t len = strlen(buf);
    while (len > 1 && buf[len - 1] == '/')
        buf[--len] = '\0';
    /* .../models--ORG--NAME/snapshots/COMMIT */
    char *c = strrchr(buf, '/');
    if (!c || !hub_is_commit(c + 1))
        return false;
    *c = '\0';
    char *snaps = strrchr(buf, '/');
    if (!snaps || strcmp(snaps + 1, "snapshots") != 0)
        return false;
    *snaps = '\0';
    char *folder = strrchr(buf, '/');
    folder = folder ? folder + 1 : buf;
    if (strncmp(folder, "models--", 8) != 0)
        return false;
    const char *rest = folder + 8;
    const char *sep = strstr(rest, "--");
    char r[HUB_REPO_ID_MAX + 1];
    if (!sep ||
        (size_t)snprintf(r, sizeof r, "%.*s/%s", (int)(sep - rest), rest, sep + 2) >
            HUB_REPO_ID_MAX ||
        !hub_id_is_valid(r))
        return false;
    memcpy(repo, r, sizeof r);
    memcpy(commit, c + 1, HUB_COMMIT_LEN + 1);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Listing                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct model_list {
    hub_cached_model *v;
    size_t n, cap;
} model_list;

/* Count the files under dir (following the blob symlinks for sizes). */
static void snapshot_stats(const char *dir, int depth, hub_cached_model *m) {
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[HUB_PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) != 0)
            continue; /* a dangling link: its blob is gone */
        if (S_ISDIR(st.st_mode)) {
            if (depth < 8)
                snapshot_stats(path, depth + 1, m);
            continue;
        }
        m->n_files++;
        m->bytes += (uint64_t)st.st_size;
        size_t len = strlen(e->d_name);
        if (depth == 0 && strcmp(e->d_name, "config.json") == 0)
            m->has_config = true;
        if (depth == 0 && len > 12 && strcmp(e->d_name + len - 12, ".safetensors") == 0)
            m->has_weights = true;
    }
    closedir(d);
}

static hub_cached_model *list_add(model_list *l) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        hub_cached_model *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    hub_cached_model *m = &l->v[l->n++];
    memset(m, 0, sizeof *m);
    return m;
}

/* Collect the refs under refs_dir/prefix as (name, commit) entries. */
static int add_refs(model_list *l, const char *repo, const char *repo_dir, const char *prefix,
                    int depth, lrc_error *err) {
    char dir[HUB_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/refs%s%s", repo_dir, *prefix ? "/" : "", prefix);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char name[HUB_REVISION_MAX + 1], path[HUB_PATH_MAX];
        if (snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "/" : "", e->d_name) >=
                (int)sizeof name ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (is_dir(path)) {
            if (depth < 4)
                rc = add_refs(l, repo, repo_dir, name, depth + 1, err);
            continue;
        }
        char commit[HUB_COMMIT_LEN + 1];
        char snap[HUB_PATH_MAX];
        if (read_ref(path, commit) < 0 ||
            snprintf(snap, sizeof snap, "%s/snapshots/%s", repo_dir, commit) >= (int)sizeof snap ||
            !is_dir(snap))
            continue;
        hub_cached_model *m = list_add(l);
        if (!m) {
            rc = lrc_errorf(err, "out of memory listing the Hub cache");
            break;
        }
        snprintf(m->repo, sizeof m->repo, "%s", repo);
        snprintf(m->revision, sizeof m->revision, "%s", name);
        memcpy(m->commit, commit, sizeof m->commit);
        snprintf(m->snapshot, sizeof m->snapshot, "%s", snap);
    }
    closedir(d);
    return rc;
}

/* Snapshots that no ref names, listed under their commit. */
static int add_unnamed_snapshots(model_list *l, size_t first, const char *repo,
                                 const char *repo_dir, lrc_error *err) {
    char dir[HUB_PATH_MAX];
    hub_pathf(dir, sizeof dir, NULL, "%s/snapshots", repo_dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!hub_is_commit(e->d_name))
            continue;
        bool named = false;
        for (size_t i = first; i < l->n; i++)
            named = named || strcmp(l->v[i].commit, e->d_name) == 0;
        if (named)
            continue;
        hub_cached_model *m = list_add(l);
        if (!m) {
            rc = lrc_errorf(err, "out of memory listing the Hub cache");
            break;
        }
        snprintf(m->repo, sizeof m->repo, "%s", repo);
        /* d_name is a commit: 40 hex digits and a NUL. */
        memcpy(m->revision, e->d_name, HUB_COMMIT_LEN + 1);
        memcpy(m->commit, e->d_name, HUB_COMMIT_LEN + 1);
        hub_pathf(m->snapshot, sizeof m->snapshot, NULL, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    return rc;
}

/* Turn "models--ORG--NAME" back into "ORG/NAME". False for other folders. */
static bool repo_from_folder(const char *folder, char repo[HUB_REPO_ID_MAX + 1]) {
    if (strncmp(folder, "models--", 8) != 0)
        return false;
    const char *rest = folder + 8;
    const char *sep = strstr(rest, "--");
    if (!sep || (size_t)snprintf(repo, HUB_REPO_ID_MAX + 1, "%.*s/%s", (int)(sep - rest), rest,
                                 sep + 2) > HUB_REPO_ID_MAX)
        return false;
    return hub_id_is_valid(repo);
}

static int compare_models(const void *a, const void *b) {
    const hub_cached_model *x = a, *y = b;
    int c = strcmp(x->repo, y->repo);
    return c ? c : strcmp(x->revision, y->revision);
}

int hub_cache_list(hub_cached_model **out, size_t *n, const char *cache, lrc_error *err) {
    *out = NULL;
    *n = 0;
    model_list l = {0};

    DIR *d = opendir(cache);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return lrc_errorf(err, "cannot read the Hub cache folder %s: %s", cache, strerror(errno));
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        char repo[HUB_REPO_ID_MAX + 1], repo_dir[HUB_PATH_MAX];
        if (!repo_from_folder(e->d_name, repo) ||
            snprintf(repo_dir, sizeof repo_dir, "%s/%s", cache, e->d_name) >= (int)sizeof repo_dir)
            continue;
        size_t first = l.n;
        rc = add_refs(&l, repo, repo_dir, "", 0, err);
        if (rc == 0)
            rc = add_unnamed_snapshots(&l, first, repo, repo_dir, err);
    }
    closedir(d);
    if (rc < 0) {
        free(l.v);
        return -1;
    }

    for (size_t i = 0; i < l.n; i++)
        snapshot_stats(l.v[i].snapshot, 0, &l.v[i]);
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, compare_models);
    *out = l.v;
    *n = l.n;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

int hub_mkdirs(const char *path, lrc_error *err) {
    char buf[HUB_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return lrc_errorf(err, "path %.200s... is too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return lrc_errorf(err, "cannot create folder %s: %s", buf, strerror(errno));
        if (!is_dir(buf))
            return lrc_errorf(err,
                              "%s exists but is not a folder; remove it or choose another "
                              "cache folder",
                              buf);
        *p = c;
        if (c == '\0')
            return 0;
    }
}

/* Create the parent folders of path. */
static int mkdirs_parent(const char *path, lrc_error *err) {
    char dir[HUB_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    return hub_mkdirs(dir, err);
}

int hub_ref_write(const char *repo_dir, const char *revision, const char *commit, lrc_error *err) {
    char path[HUB_PATH_MAX], tmp[HUB_PATH_MAX + 32];
    if (!valid_revision(revision) || !hub_is_commit(commit))
        return lrc_errorf(err, "invalid revision '%.300s' or commit '%.60s'", revision, commit);
    if (join(path, sizeof path, err, "%s/refs/%s", repo_dir, revision) < 0 ||
        mkdirs_parent(path, err) < 0)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return lrc_errorf(err, "cannot write %s: %s", tmp, strerror(errno));
    int bad = fputs(commit, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return lrc_errorf(err, "cannot write %s: %s", path, strerror(e));
    }
    return 0;
}

int hub_snapshot_link(const char *repo_dir, const char *commit, const char *file, const char *etag,
                      lrc_error *err) {
    char path[HUB_PATH_MAX], target[HUB_PATH_MAX], tmp[HUB_PATH_MAX + 32];
    if (!hub_is_commit(commit))
        return lrc_errorf(err, "invalid commit '%.60s': expected 40 hex digits", commit);
    if (hub_check_filename(repo_dir, file, err) < 0)
        return -1;
    if (snprintf(path, sizeof path, "%s/snapshots/%s/%s", repo_dir, commit, file) >=
        (int)sizeof path)
        return lrc_errorf(err, "path of %s in %s is too long", file, repo_dir);

    /* From snapshots/COMMIT/a/b/FILE the blobs folder is one "../" per
     * folder below the repository folder: 2 + the '/' count of file. */
    size_t o = 0;
    int ups = 2;
    for (const char *p = file; *p; p++)
        ups += *p == '/';
    for (int i = 0; i < ups; i++)
        o += (size_t)snprintf(target + o, sizeof target - o, "../");
    if (snprintf(target + o, sizeof target - o, "blobs/%s", etag) >= (int)(sizeof target - o))
        return lrc_errorf(err, "blob name %.100s is too long", etag);

    if (mkdirs_parent(path, err) < 0)
        return -1;
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    unlink(tmp);
    if (symlink(target, tmp) != 0)
        return lrc_errorf(err, "cannot create the symlink %s: %s", tmp, strerror(errno));
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return lrc_errorf(err, "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return 0;
}
