/*
 * run.json and metrics.jsonl; runlog.h contains the schema. Records are
 * formatted by hand into a buffer so a step writes one line with one fwrite,
 * and so every real number is printed with %.17g.
 */
#define _POSIX_C_SOURCE 200809L
#include "train/runlog.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/rundir.h"

const char *const runlog_site_names[RUNLOG_N_SITES] = {"q",    "k",  "v",      "attn_out",
                                                       "gate", "up", "mlp_out"};

/* ---- run.json ------------------------------------------------------------- */

int runlog_write_settings(const char *run_dir, const cJSON *settings, lrc_error *err) {
    char path[RUNDIR_PATH_MAX];
    if (rundir_join(path, sizeof path, run_dir, "run.json", err) < 0)
        return -1;
    char *text = cJSON_Print(settings);
    if (!text)
        return lrc_errorf(err, "%s: out of memory formatting the settings", path);
    size_t len = strlen(text);
    char *line = realloc(text, len + 2);
    if (!line) {
        free(text);
        return lrc_errorf(err, "%s: out of memory formatting the settings", path);
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    int rc = rundir_write_atomic(path, line, len + 1, err);
    free(line);
    return rc;
}

int runlog_read_settings(const char *run_dir, cJSON **settings, lrc_error *err) {
    char path[RUNDIR_PATH_MAX];
    *settings = NULL;
    if (rundir_join(path, sizeof path, run_dir, "run.json", err) < 0)
        return -1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lrc_errorf(err, "%s: cannot open: %s", path, strerror(errno));

    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            char *p = realloc(text, cap);
            if (!p)
                break;
            text = p;
        }
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }

    int bad = ferror(f) || !text;
    fclose(f);
    if (bad) {
        free(text);
        return lrc_errorf(err, "%s: cannot read", path);
    }

    text[len] = '\0';
    *settings = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(*settings)) {
        cJSON_Delete(*settings);
        *settings = NULL;
        return lrc_errorf(err, "%s: not a JSON object; the run folder is damaged", path);
    }
    return 0;
}

/* ---- metrics.jsonl: truncation on resume ------------------------------------ */

/* Whether a line is a complete record of a step <= max_step. */
static int keep_line(const char *line, size_t n, int64_t max_step) {
    cJSON *obj = cJSON_ParseWithLength(line, n);
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(obj, "step");
    int keep = cJSON_IsObject(obj) && cJSON_IsNumber(step) && step->valuedouble <= (double)max_step;
    cJSON_Delete(obj);
    return keep;
}

int runlog_truncate(const char *path, int64_t step, lrc_error *err) {
    FILE *f = fopen(path, "a+b");
    if (!f)
        return lrc_errorf(err, "%s: cannot open: %s", path, strerror(errno));
    rewind(f);

    /* Walk complete lines; stop at the first that is torn, unparsable or
     * after step. */
    size_t keep = 0, cap = 4096;
    char *line = malloc(cap);
    int rc = line ? 0 : lrc_errorf(err, "%s: out of memory", path);
    while (rc == 0) {
        size_t n = 0;
        int c;
        while ((c = fgetc(f)) != EOF && c != '\n') {
            if (n + 1 >= cap) {
                char *p = realloc(line, cap * 2);
                if (!p) {
                    rc = lrc_errorf(err, "%s: out of memory", path);
                    break;
                }
                line = p;
                cap *= 2;
            }
            line[n++] = (char)c;
        }
        if (rc < 0 || c == EOF || !keep_line(line, n, step))
            break;
        keep += n + 1;
    }
    free(line);
    if (rc == 0 && ferror(f))
        rc = lrc_errorf(err, "%s: read failed", path);

    /* Cut and make the cut durable before new lines follow it. */
    if (rc == 0 && (ftruncate(fileno(f), (off_t)keep) < 0 || fsync(fileno(f)) < 0))
        rc = lrc_errorf(err, "%s: cannot cut to %zu bytes: %s", path, keep, strerror(errno));
    if (fclose(f) != 0 && rc == 0)
        rc = lrc_errorf(err, "%s: close failed: %s", path, strerror(errno));
    return rc;
}

int runlog_open(runlog *log, const char *run_dir, int64_t resume_step, lrc_error *err) {
    memset(log, 0, sizeof *log);
    if (rundir_join(log->path, sizeof log->path, run_dir, "metrics.jsonl", err) < 0)
        return -1;
    if (resume_step >= 0 && runlog_truncate(log->path, resume_step, err) < 0)
        return -1;
    log->metrics = fopen(log->path, resume_step >= 0 ? "ab" : "wb");
    if (!log->metrics)
        return lrc_errorf(err, "%s: cannot open for writing: %s", log->path, strerror(errno));
    return 0;
}

void runlog_close(runlog *log) {
    if (log->metrics)
        fclose(log->metrics);
    log->metrics = NULL;
}

/* ---- records -------------------------------------------------------------- */

/* A bounded appender: keeps counting past cap so the needed length is known. */
typedef struct line_buf {
    char *buf;
    size_t cap, len;
} line_buf;

static void __attribute__((format(printf, 2, 3))) put(line_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t room = b->len < b->cap ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n;
}

/* ,"key":value with %.17g (no comma when first), or null for NaN and
 * infinities. */
static void put_real(line_buf *b, int first, const char *key, double v) {
    if (isfinite(v))
        put(b, "%s\"%s\":%.17g", first ? "" : ",", key, v);
    else
        put(b, "%s\"%s\":null", first ? "" : ",", key);
}

size_t runlog_format_step(char *buf, size_t cap, const runlog_step *r) {
    line_buf b = {buf, cap, 0};
    put(&b, "{\"type\":\"step\",\"step\":%" PRId64, r->step);
    put_real(&b, 0, "loss", r->loss);
    put_real(&b, 0, "ce", r->ce);
    put_real(&b, 0, "kl", r->kl);
    put_real(&b, 0, "clone", r->clone);
    put(&b, ",\"clone_sites\":{");
    for (int s = 0; s < RUNLOG_N_SITES; s++)
        put_real(&b, s == 0, runlog_site_names[s], r->clone_site[s]);
    put(&b, "}");
    put_real(&b, 0, "grad_norm", r->grad_norm);
    put_real(&b, 0, "lr", r->lr);
    put_real(&b, 0, "tokens_per_s", r->tokens_per_s);
    put_real(&b, 0, "elapsed_s", r->elapsed_s);
    put_real(&b, 0, "eta_s", r->eta_s);
    put(&b, "}\n");
    return b.len;
}

size_t runlog_format_probe(char *buf, size_t cap, const runlog_probe *r) {
    line_buf b = {buf, cap, 0};
    put(&b, "{\"type\":\"probe\",\"step\":%" PRId64 ",\"mi\":[", r->step);
    for (size_t l = 0; l < r->n_layers; l++) {
        if (isfinite(r->mi[l]))
            put(&b, "%s%.17g", l ? "," : "", r->mi[l]);
        else
            put(&b, "%snull", l ? "," : "");
    }
    put(&b, "]");
    put_real(&b, 0, "top1", r->top1);
    put_real(&b, 0, "ppl_teacher", r->ppl_teacher);
    put_real(&b, 0, "ppl_student", r->ppl_student);
    put(&b, "}\n");
    return b.len;
}

/* Write one formatted line and flush it. */
static int write_line(runlog *log, const char *line, size_t len, lrc_error *err) {
    if (!log->metrics)
        return lrc_errorf(err, "%s: not open", log->path);
    if (fwrite(line, 1, len, log->metrics) != len || fflush(log->metrics) != 0)
        return lrc_errorf(err, "%s: write failed: %s", log->path, strerror(errno));
    return 0;
}

int runlog_write_step(runlog *log, const runlog_step *r, lrc_error *err) {
    char line[2048];
    size_t len = runlog_format_step(line, sizeof line, r);
    if (len >= sizeof line)
        return lrc_errorf(err, "%s: step record of %zu bytes is too long", log->path, len);
    return write_line(log, line, len, err);
}

int runlog_write_probe(runlog *log, const runlog_probe *r, lrc_error *err) {
    char small[4096];
    size_t len = runlog_format_probe(small, sizeof small, r);
    if (len < sizeof small)
        return write_line(log, small, len, err);

    /* Many layers: size the buffer from the first attempt. */
    char *line = malloc(len + 1);
    if (!line)
        return lrc_errorf(err, "%s: out of memory for a probe record", log->path);
    runlog_format_probe(line, len + 1, r);
    int rc = write_line(log, line, len, err);
    free(line);
    return rc;
}

double runlog_eta_s(double session_s, int64_t steps_done, int64_t steps_left) {
    if (steps_done <= 0 || steps_left <= 0)
        return 0.0;
    return session_s / (double)steps_done * (double)steps_left;
}
