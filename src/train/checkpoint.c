/*
 * Checkpoint save, load, pointer and pruning; checkpoint.h gives the file
 * layout and the order of writes that keeps `latest` valid across a kill.
 */
#define _POSIX_C_SOURCE 200809L
#include "train/checkpoint.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/rundir.h"

#define MOMENT1_PREFIX "adamw.exp_avg."
#define MOMENT2_PREFIX "adamw.exp_avg_sq."

void checkpoint_fingerprint(const char *text, char out[CHECKPOINT_FINGERPRINT_LEN + 1]) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 offset basis and prime */
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    snprintf(out, CHECKPOINT_FINGERPRINT_LEN + 1, "%016" PRIx64, h);
}

void checkpoint_hash_bytes(const void *data, size_t len, char out[CHECKPOINT_FINGERPRINT_LEN + 1]) {
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    snprintf(out, CHECKPOINT_FINGERPRINT_LEN + 1, "%016" PRIx64, h);
}

size_t checkpoint_tensor_numel(const checkpoint_tensor *t) {
    size_t n = 1;
    for (int k = 0; k < t->ndim; k++)
        n *= (size_t)t->shape[k];
    return n;
}

/* Step of a file name "step-<6 or more digits>.safetensors", or -1. */
static int64_t checkpoint_name_step(const char *name) {
    if (strncmp(name, "step-", 5) != 0)
        return -1;
    const char *p = name + 5;
    int64_t step = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 18) {
        step = step * 10 + (*p++ - '0');
        digits++;
    }
    if (digits < 6 || strcmp(p, ".safetensors") != 0)
        return -1;
    return step;
}

static void shape_text(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < ndim && n < cap; k++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%" PRId64, k ? ", " : "", shape[k]);
    if (n < cap)
        snprintf(buf + n, cap - n, "]");
}

/* ---- save ----------------------------------------------------------------- */

static void free_names(char **names, size_t n) {
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int write_latest(const char *run_dir, const char *file_name, lrc_error *err) {
    char path[RUNDIR_PATH_MAX], text[256];
    if (rundir_join(path, sizeof path, run_dir, "checkpoints/latest", err) < 0)
        return -1;
    int len = snprintf(text, sizeof text, "%s\n", file_name);
    return rundir_write_atomic(path, text, (size_t)len, err);
}

int checkpoint_save(const char *run_dir, const checkpoint_tensor *tensors, size_t n,
                    const adamw *opt, const checkpoint_state *st, int keep, char *path_out,
                    size_t cap, lrc_error *err) {
    if (st->step < 0)
        return lrc_errorf(err, "%s: step %" PRId64 " is negative", run_dir, st->step);
    char file_name[64], rel[96], path[RUNDIR_PATH_MAX];
    snprintf(file_name, sizeof file_name, "step-%06" PRId64 ".safetensors", st->step);
    snprintf(rel, sizeof rel, "checkpoints/%s", file_name);
    if (rundir_join(path, sizeof path, run_dir, rel, err) < 0)
        return -1;

    /* Tensors, then the moments of each when there is an optimiser. */
    size_t n_out = opt ? 3 * n : n;
    safetensors_write_tensor *w = calloc(n_out ? n_out : 1, sizeof *w);
    char **names = calloc(n ? 2 * n : 1, sizeof *names);
    if (!w || !names) {
        free(w);
        free(names);
        return lrc_errorf(err, "%s: out of memory", path);
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const checkpoint_tensor *t = &tensors[i];
        size_t numel = checkpoint_tensor_numel(t);
        w[i] = (safetensors_write_tensor){t->name, ST_F32, t->ndim, {0}, t->data};
        memcpy(w[i].shape, t->shape, sizeof t->shape);
        if (!opt)
            continue;
        if (t->offset + numel > opt->n) {
            rc = lrc_errorf(err,
                            "%s: tensor '%s' at offset %zu runs past the %zu optimiser "
                            "parameters",
                            path, t->name, t->offset, opt->n);
            break;
        }
        size_t len1 = strlen(MOMENT1_PREFIX) + strlen(t->name) + 1;
        size_t len2 = strlen(MOMENT2_PREFIX) + strlen(t->name) + 1;
        names[2 * i] = malloc(len1);
        names[2 * i + 1] = malloc(len2);
        if (!names[2 * i] || !names[2 * i + 1]) {
            rc = lrc_errorf(err, "%s: out of memory", path);
            break;
        }
        snprintf(names[2 * i], len1, "%s%s", MOMENT1_PREFIX, t->name);
        snprintf(names[2 * i + 1], len2, "%s%s", MOMENT2_PREFIX, t->name);
        w[n + 2 * i] = w[i];
        w[n + 2 * i].name = names[2 * i];
        w[n + 2 * i].data = opt->m + t->offset;
        w[n + 2 * i + 1] = w[i];
        w[n + 2 * i + 1].name = names[2 * i + 1];
        w[n + 2 * i + 1].data = opt->v + t->offset;
    }

    char step[32], adamw_t[32], position[32], tokens[32], rng[32], elapsed[40];
    snprintf(step, sizeof step, "%" PRId64, st->step);
    snprintf(adamw_t, sizeof adamw_t, "%" PRId64, opt ? opt->t : st->adamw_t);
    snprintf(position, sizeof position, "%" PRIu64, st->data_position);
    snprintf(tokens, sizeof tokens, "%" PRIu64, st->data_tokens);
    snprintf(rng, sizeof rng, "%" PRIu64, st->rng_state);
    snprintf(elapsed, sizeof elapsed, "%.17g", st->elapsed_s);
    const char *meta[] = {"format",
                          CHECKPOINT_FORMAT,
                          "step",
                          step,
                          "adamw_t",
                          adamw_t,
                          "data_position",
                          position,
                          "data_tokens",
                          tokens,
                          "rng_state",
                          rng,
                          "elapsed_s",
                          elapsed,
                          "fingerprint",
                          st->fingerprint,
                          st->data_hash[0] ? "data_hash" : NULL,
                          st->data_hash,
                          NULL};

    if (rc == 0)
        rc = safetensors_write(path, w, n_out, meta, err);
    free(w);
    free_names(names, n ? 2 * n : 0);
    if (rc < 0)
        return -1;
    /* Readable like the other run files (the temporary file was made 0600). */
    if (chmod(path, 0644) < 0)
        return lrc_errorf(err, "%s: cannot set its mode to 0644: %s", path, strerror(errno));

    /* The new file is durable; only now may the pointer and pruning move. */
    if (write_latest(run_dir, file_name, err) < 0)
        return -1;
    if (path_out)
        snprintf(path_out, cap, "%s", path);
    if (checkpoint_prune(run_dir, keep, err) < 0)
        return lrc_error_prefix(err, "%s saved, but deleting old checkpoints failed", path);
    return 0;
}

/* ---- load ----------------------------------------------------------------- */

/* Check one expected tensor of the file; dtype_any allows F16 and BF16. */
static const safetensors_tensor *expect_tensor(const safetensors_file *f, const char *name,
                                               int ndim, const int64_t *shape, int dtype_any,
                                               lrc_error *err) {
    const safetensors_tensor *t = safetensors_find(f, name);
    char want[160], got[160];
    if (!t) {
        lrc_errorf(err, "%s: tensor '%s' is missing; the file was written for other settings",
                   f->path, name);
        return NULL;
    }
    if (t->dtype != ST_F32 && !(dtype_any && (t->dtype == ST_F16 || t->dtype == ST_BF16))) {
        lrc_errorf(err, "%s: tensor '%s' has dtype %s, expected %s", f->path, name,
                   safetensors_dtype_name(t->dtype), dtype_any ? "F32, F16 or BF16" : "F32");
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int k = 0; same && k < ndim; k++)
        same = t->shape[k] == shape[k];
    if (!same) {
        shape_text(want, sizeof want, ndim, shape);
        shape_text(got, sizeof got, t->ndim, t->shape);
        lrc_errorf(err,
                   "%s: tensor '%s' has shape %s, expected %s; the file was written for "
                   "another rank or teacher",
                   f->path, name, got, want);
        return NULL;
    }
    return t;
}

static int meta_int(const cJSON *meta, const char *path, const char *key, int64_t *out,
                    lrc_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    char *end = NULL;
    errno = 0;
    long long x = cJSON_IsString(v) ? strtoll(v->valuestring, &end, 10) : 0;
    if (!cJSON_IsString(v) || end == v->valuestring || *end || errno)
        return lrc_errorf(err, "%s: metadata key '%s' is missing or not an integer", path, key);
    *out = x;
    return 0;
}

static int meta_uint(const cJSON *meta, const char *path, const char *key, uint64_t *out,
                     lrc_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    char *end = NULL;
    errno = 0;
    unsigned long long x = cJSON_IsString(v) ? strtoull(v->valuestring, &end, 10) : 0;
    if (!cJSON_IsString(v) || end == v->valuestring || *end || errno || v->valuestring[0] == '-')
        return lrc_errorf(err, "%s: metadata key '%s' is missing or not an unsigned integer", path,
                          key);
    *out = x;
    return 0;
}

/* Parse the __metadata__ state into *st. */
static int read_state(const safetensors_file *f, checkpoint_state *st, lrc_error *err) {
    cJSON *meta = f->metadata_json ? cJSON_Parse(f->metadata_json) : NULL;
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(meta, "format");
    const cJSON *fp = cJSON_GetObjectItemCaseSensitive(meta, "fingerprint");
    const cJSON *elapsed = cJSON_GetObjectItemCaseSensitive(meta, "elapsed_s");
    int rc = 0;
    memset(st, 0, sizeof *st);
    if (!cJSON_IsString(format) || strcmp(format->valuestring, CHECKPOINT_FORMAT) != 0) {
        rc = lrc_errorf(err,
                        "%s: metadata key 'format' is not \"%s\"; not a checkpoint of this "
                        "program (pass it with --init to load its tensors only)",
                        f->path, CHECKPOINT_FORMAT);
    } else if (meta_int(meta, f->path, "step", &st->step, err) < 0 ||
               meta_int(meta, f->path, "adamw_t", &st->adamw_t, err) < 0 ||
               meta_uint(meta, f->path, "data_position", &st->data_position, err) < 0 ||
               meta_uint(meta, f->path, "data_tokens", &st->data_tokens, err) < 0 ||
               meta_uint(meta, f->path, "rng_state", &st->rng_state, err) < 0) {
        rc = -1;
    } else if (!cJSON_IsString(elapsed) || !cJSON_IsString(fp) ||
               strlen(fp->valuestring) > CHECKPOINT_FINGERPRINT_LEN) {
        rc = lrc_errorf(err, "%s: metadata key 'elapsed_s' or 'fingerprint' is missing or invalid",
                        f->path);
    } else {
        st->elapsed_s = strtod(elapsed->valuestring, NULL);
        snprintf(st->fingerprint, sizeof st->fingerprint, "%s", fp->valuestring);
        /* Optional: checkpoints written before it existed have none. */
        const cJSON *dh = cJSON_GetObjectItemCaseSensitive(meta, "data_hash");
        if (cJSON_IsString(dh) && strlen(dh->valuestring) <= CHECKPOINT_FINGERPRINT_LEN)
            snprintf(st->data_hash, sizeof st->data_hash, "%s", dh->valuestring);
    }
    cJSON_Delete(meta);
    return rc;
}

int checkpoint_load(const char *path, const checkpoint_tensor *tensors, size_t n, adamw *opt,
                    checkpoint_state *st, const char *expect_fingerprint,
                    const char *also_fingerprint, lrc_error *err) {
    safetensors_file f;
    if (safetensors_open(&f, path, err) < 0)
        return -1;
    checkpoint_state state;
    if (read_state(&f, &state, err) < 0)
        goto fail;
    if (expect_fingerprint && strcmp(expect_fingerprint, state.fingerprint) != 0 &&
        !(also_fingerprint && strcmp(also_fingerprint, state.fingerprint) == 0)) {
        lrc_errorf(err,
                   "%s: settings fingerprint %s differs from this run's %s; resume with the "
                   "settings in run.json",
                   path, state.fingerprint, expect_fingerprint);
        goto fail;
    }

    /* Check every name, dtype and shape before touching the caller's data. */
    const safetensors_tensor **found = calloc(n ? 3 * n : 1, sizeof *found);
    if (!found) {
        lrc_errorf(err, "%s: out of memory", path);
        goto fail;
    }
    size_t expected = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const checkpoint_tensor *t = &tensors[i];
        found[3 * i] = expect_tensor(&f, t->name, t->ndim, t->shape, 0, err);
        rc = found[3 * i] ? 0 : -1;
        expected++;
        if (rc < 0 || !opt)
            continue;
        if (t->offset + checkpoint_tensor_numel(t) > opt->n) {
            rc = lrc_errorf(err,
                            "%s: tensor '%s' at offset %zu runs past the %zu optimiser "
                            "parameters",
                            path, t->name, t->offset, opt->n);
            break;
        }
        char name[1024];
        for (int k = 1; k <= 2 && rc == 0; k++) {
            snprintf(name, sizeof name, "%s%s", k == 1 ? MOMENT1_PREFIX : MOMENT2_PREFIX, t->name);
            found[3 * i + k] = expect_tensor(&f, name, t->ndim, t->shape, 0, err);
            rc = found[3 * i + k] ? 0 : -1;
            expected++;
        }
    }
    if (rc == 0 && opt && f.n_tensors != expected) {
        /* Name one tensor the run does not expect. */
        for (size_t j = 0; j < f.n_tensors; j++) {
            int known = 0;
            for (size_t i = 0; i < 3 * n && !known; i++)
                known = found[i] == &f.tensors[j];
            if (!known) {
                rc = lrc_errorf(err,
                                "%s: tensor '%s' is not a trainable tensor of this run; the "
                                "file was written for other settings",
                                path, f.tensors[j].name);
                break;
            }
        }
    }

    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t numel = checkpoint_tensor_numel(&tensors[i]);
        rc = safetensors_read_f32(found[3 * i], tensors[i].data, numel, err);
        if (rc == 0 && opt)
            rc = safetensors_read_f32(found[3 * i + 1], opt->m + tensors[i].offset, numel, err);
        if (rc == 0 && opt)
            rc = safetensors_read_f32(found[3 * i + 2], opt->v + tensors[i].offset, numel, err);
    }
    free(found);
    if (rc < 0)
        goto fail;
    if (opt)
        opt->t = state.adamw_t;
    if (st)
        *st = state;
    safetensors_close(&f);
    return 0;

fail:
    safetensors_close(&f);
    return -1;
}

int checkpoint_load_tensors(const char *path, const checkpoint_tensor *tensors, size_t n,
                            lrc_error *err) {
    safetensors_file f;
    if (safetensors_open(&f, path, err) < 0)
        return -1;
    const safetensors_tensor **found = calloc(n ? n : 1, sizeof *found);
    int rc = found ? 0 : lrc_errorf(err, "%s: out of memory", path);
    for (size_t i = 0; i < n && rc == 0; i++) {
        found[i] = expect_tensor(&f, tensors[i].name, tensors[i].ndim, tensors[i].shape, 1, err);
        rc = found[i] ? 0 : -1;
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = safetensors_read_f32(found[i], tensors[i].data, checkpoint_tensor_numel(&tensors[i]),
                                  err);
    free(found);
    safetensors_close(&f);
    return rc;
}

/* ---- pointer, pruning, cleanup -------------------------------------------- */

/* Read the file name latest points at into name (cap bytes). */
static int read_latest_name(const char *run_dir, char *name, size_t cap, lrc_error *err) {
    char path[RUNDIR_PATH_MAX];
    if (rundir_join(path, sizeof path, run_dir, "checkpoints/latest", err) < 0)
        return -1;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return lrc_errorf(err, "%s: cannot open: %s; the run has no saved checkpoint", path,
                          strerror(errno));
    char line[256] = "";
    int ok = fgets(line, sizeof line, fp) != NULL;
    fclose(fp);
    line[strcspn(line, "\n")] = '\0';
    if (!ok || checkpoint_name_step(line) < 0 || strlen(line) >= cap)
        return lrc_errorf(err, "%s: does not name a step-NNNNNN.safetensors file", path);
    snprintf(name, cap, "%s", line);
    return 0;
}

int checkpoint_latest(const char *run_dir, char *path, size_t cap, lrc_error *err) {
    char name[256], rel[300];
    if (read_latest_name(run_dir, name, sizeof name, err) < 0)
        return -1;
    snprintf(rel, sizeof rel, "checkpoints/%s", name);
    if (rundir_join(path, cap, run_dir, rel, err) < 0)
        return -1;
    struct stat sb;
    if (stat(path, &sb) < 0)
        return lrc_errorf(err, "%s: named by checkpoints/latest but missing: %s", path,
                          strerror(errno));
    return 0;
}

static int cmp_step_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x < y) - (x > y);
}

int checkpoint_prune(const char *run_dir, int keep, lrc_error *err) {
    if (keep <= 0)
        return 0;
    char dir[RUNDIR_PATH_MAX], latest[256];
    if (rundir_join(dir, sizeof dir, run_dir, "checkpoints", err) < 0)
        return -1;
    if (read_latest_name(run_dir, latest, sizeof latest, err) < 0)
        return lrc_error_prefix(err, "not pruning");
    int64_t latest_step = checkpoint_name_step(latest);

    DIR *d = opendir(dir);
    if (!d)
        return lrc_errorf(err, "%s: cannot list checkpoints: %s", dir, strerror(errno));
    int64_t *steps = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        int64_t s = checkpoint_name_step(e->d_name);
        if (s < 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *p = realloc(steps, cap * sizeof *p);
            if (!p) {
                rc = lrc_errorf(err, "%s: out of memory listing checkpoints", dir);
                break;
            }
            steps = p;
        }
        steps[n++] = s;
    }
    closedir(d);

    /* The newest `keep` stay, and so does the one latest names. */
    qsort(steps, n, sizeof *steps, cmp_step_desc);
    int removed = 0;
    for (size_t i = (size_t)keep; i < n && rc == 0; i++) {
        if (steps[i] == latest_step)
            continue;
        char path[RUNDIR_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/step-%06" PRId64 ".safetensors", dir, steps[i]);
        if (unlink(path) < 0 && errno != ENOENT)
            rc = lrc_errorf(err, "%s: cannot delete an old checkpoint: %s", path, strerror(errno));
        removed = 1;
    }
    free(steps);
    /* Sync checkpoints/ itself, the parent of any file in it. */
    char any[RUNDIR_PATH_MAX];
    if (rc == 0 && removed && rundir_join(any, sizeof any, dir, "latest", err) == 0)
        rc = rundir_sync_parent(any, err);
    return rc;
}

int checkpoint_remove_temps(const char *run_dir, lrc_error *err) {
    char dir[RUNDIR_PATH_MAX];
    if (rundir_join(dir, sizeof dir, run_dir, "checkpoints", err) < 0)
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return lrc_errorf(err, "%s: cannot list checkpoints: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) && rc == 0) {
        const char *tmp = strstr(e->d_name, ".tmp");
        if (!tmp || strlen(tmp) != 10 ||
            (strncmp(e->d_name, "step-", 5) != 0 && strncmp(e->d_name, "latest.", 7) != 0))
            continue;
        char path[RUNDIR_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) < 0 && errno != ENOENT)
            rc = lrc_errorf(err, "%s: cannot delete a temporary file: %s", path, strerror(errno));
    }
    closedir(d);
    return rc;
}
