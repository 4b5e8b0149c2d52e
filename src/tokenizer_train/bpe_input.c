/*
 * Reading training text for the BPE trainer (see bpe_input.h). A folder is
 * listed once, its *.jsonl and *.txt regular files sorted with strcmp so the
 * order, and so the trained tokenizer, does not depend on the file system.
 * Sub-folders are not searched. Errors name the file and, for .jsonl, the line.
 */
#define _POSIX_C_SOURCE 200809L
#include "tokenizer_train/bpe_input.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/tok_internal.h"

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One .jsonl file: every "text" string is a document. */
static int read_jsonl(bpe_trainer *tr, const char *path, const char *data, size_t len,
                      bpe_input_stats *st, lrc_error *err) {
    size_t line = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - data) : len;
        const char *s = data + at;
        size_t n = end - at;
        line++;
        at = end + 1;

        bool blank = true;
        for (size_t i = 0; i < n && blank; i++)
            blank = s[i] == ' ' || s[i] == '\t' || s[i] == '\r';
        if (blank)
            continue;

        cJSON *obj = cJSON_ParseWithLength(s, n);
        if (!obj)
            return lrc_errorf(err, "%s:%zu: invalid JSON; expected one object per line", path,
                              line);
        const cJSON *text = cJSON_GetObjectItemCaseSensitive(obj, "text");
        if (!cJSON_IsObject(obj) || !cJSON_IsString(text)) {
            st->skipped_lines++;
            cJSON_Delete(obj);
            continue;
        }
        int rc = bpe_trainer_add_text(tr, text->valuestring, strlen(text->valuestring), err);
        cJSON_Delete(obj);
        if (rc)
            return lrc_error_prefix(err, "%s:%zu: \"text\"", path, line);
        st->documents++;
    }
    return 0;
}

static int read_one(bpe_trainer *tr, const char *path, bpe_input_stats *st,
                    bpe_input_file_fn on_file, void *user, lrc_error *err) {
    struct stat sb;
    if (stat(path, &sb) == 0 && on_file)
        on_file(user, path, (uint64_t)sb.st_size);

    char *data;
    size_t len;
    if (tok_read_file(path, &data, &len, err))
        return -1;
    st->files++;
    st->bytes += len;

    int rc;
    if (ends_with(path, ".jsonl")) {
        rc = read_jsonl(tr, path, data, len, st, err);
    } else {
        rc = bpe_trainer_add_text(tr, data, len, err);
        if (rc)
            lrc_error_prefix(err, "%s", path);
        else
            st->documents++;
    }
    free(data);
    return rc;
}

/* The sorted *.jsonl and *.txt regular files of a folder, as full paths. */
static int list_folder(const char *dir, char ***out, size_t *n_out, lrc_error *err) {
    DIR *d = opendir(dir);
    if (!d)
        return lrc_errorf(err, "%s: cannot open the folder: %s", dir, strerror(errno));

    char **names = NULL;
    size_t n = 0, cap = 0;
    int status = 0;
    struct dirent *e;
    while (!status && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' ||
            !(ends_with(e->d_name, ".jsonl") || ends_with(e->d_name, ".txt")))
            continue;

        size_t k = strlen(dir);
        char *full = malloc(k + strlen(e->d_name) + 2);
        if (!full) {
            status = lrc_errorf(err, "%s: out of memory while listing the folder", dir);
            break;
        }
        sprintf(full, "%s%s%s", dir, k && dir[k - 1] == '/' ? "" : "/", e->d_name);
        struct stat sb;
        if (stat(full, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(full);
            continue;
        }

        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            char **v = realloc(names, cap * sizeof *v);
            if (!v) {
                free(full);
                status = lrc_errorf(err, "%s: out of memory while listing the folder", dir);
                break;
            }
            names = v;
        }
        names[n++] = full;
    }
    closedir(d);

    if (status) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return -1;
    }
    if (n)
        qsort(names, n, sizeof *names, by_name);
    *out = names;
    *n_out = n;
    return 0;
}

int bpe_input_read(bpe_trainer *tr, const char *path, bpe_input_stats *stats,
                   bpe_input_file_fn on_file, void *user, lrc_error *err) {
    memset(stats, 0, sizeof *stats);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return lrc_errorf(err, "%s: %s; give a folder of *.jsonl or *.txt files, or one file", path,
                          strerror(errno));
    if (!S_ISDIR(sb.st_mode))
        return read_one(tr, path, stats, on_file, user, err);

    char **names = NULL;
    size_t n = 0;
    if (list_folder(path, &names, &n, err))
        return -1;
    int status = 0;
    if (n == 0)
        status = lrc_errorf(err,
                            "%s: the folder has no *.jsonl or *.txt files; give a folder "
                            "with training text or one file",
                            path);
    for (size_t i = 0; i < n && !status; i++)
        status = read_one(tr, names[i], stats, on_file, user, err);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return status;
}
