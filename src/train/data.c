/*
 * Training data loading and window sampling; data.h states the formats, how
 * documents are joined and the window formulas. The whole file is read into
 * memory and encoded once, and the ids stay in one array for the run.
 */
#define _POSIX_C_SOURCE 200809L
#include "train/data.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

/* ---- growable id array ---------------------------------------------------- */

typedef struct id_buf {
    int32_t *ids;
    size_t n, cap;
} id_buf;

static int id_buf_append(id_buf *b, const int32_t *ids, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        int32_t *p = realloc(b->ids, cap * sizeof *p);
        if (!p)
            return -1;
        b->ids = p;
        b->cap = cap;
    }
    memcpy(b->ids + b->n, ids, n * sizeof *ids);
    b->n += n;
    return 0;
}

/* ---- formats -------------------------------------------------------------- */

int data_format_parse(const char *s, data_format *fmt, lrc_error *err) {
    static const struct {
        const char *name;
        data_format fmt;
    } names[] = {{"auto", DATA_FORMAT_AUTO},
                 {"text", DATA_FORMAT_TEXT},
                 {"jsonl", DATA_FORMAT_JSONL},
                 {"u32", DATA_FORMAT_U32}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            *fmt = names[i].fmt;
            return 0;
        }
    }
    return lrc_errorf(err, "invalid data format '%s'; expected auto, text, jsonl or u32", s);
}

const char *data_format_name(data_format fmt) {
    switch (fmt) {
    case DATA_FORMAT_TEXT:
        return "text";
    case DATA_FORMAT_JSONL:
        return "jsonl";
    case DATA_FORMAT_U32:
        return "u32";
    default:
        return "auto";
    }
}

static int has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static data_format format_from_extension(const char *path) {
    if (has_suffix(path, ".u32") || has_suffix(path, ".bin"))
        return DATA_FORMAT_U32;
    if (has_suffix(path, ".jsonl"))
        return DATA_FORMAT_JSONL;
    return DATA_FORMAT_TEXT;
}

/* Read the whole file; *buf is NUL-terminated for convenience. */
static int read_file(const char *path, char **buf, size_t *len, lrc_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return lrc_errorf(err, "%s: cannot open the data file: %s", path, strerror(errno));

    size_t cap = 1 << 16, n = 0;
    char *p = malloc(cap + 1);
    while (p) {
        n += fread(p + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        char *q = realloc(p, cap + 1);
        if (!q) {
            free(p);
            p = NULL;
        } else {
            p = q;
        }
    }

    int failed = !p || ferror(f);
    int e = errno;
    fclose(f);
    if (failed) {
        free(p);
        return lrc_errorf(err, "%s: cannot read the data file: %s", path,
                          p ? strerror(e) : "out of memory");
    }

    p[n] = '\0';
    *buf = p;
    *len = n;
    return 0;
}

/* Check that every id lies in [0, vocab_size); where names the position. */
static int check_ids(const char *path, const int32_t *ids, size_t n, int vocab_size,
                     const char *where, size_t where_value, lrc_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= vocab_size)
            return lrc_errorf(err,
                              "%s: %s %zu: the tokenizer returned id %d, outside the model's "
                              "vocabulary of %d; the tokenizer does not match the teacher",
                              path, where, where_value, (int)ids[i], vocab_size);
    }
    return 0;
}

/* Note that a document starts at id `pos`, for aligned windows. */
static int record_start(train_data *d, size_t pos) {
    if (d->n_doc_starts == d->cap_doc_starts) {
        size_t cap = d->cap_doc_starts ? 2 * d->cap_doc_starts : 1024;
        size_t *p = realloc(d->doc_starts, cap * sizeof *p);
        if (!p)
            return -1;
        d->doc_starts = p;
        d->cap_doc_starts = cap;
    }
    d->doc_starts[d->n_doc_starts++] = pos;
    return 0;
}

/* Encode one document and append it and the EOS id, noting where it starts. */
static int append_document(train_data *d, id_buf *out, const tokenizer *tok, int vocab_size,
                           const char *text, size_t len, const char *where, size_t where_value,
                           lrc_error *err) {
    const char *path = d->path;
    int32_t *ids = NULL;
    size_t n = 0;
    if (tokenizer_encode(tok, text, len, false, &ids, &n, err) < 0) {
        if (where)
            return lrc_error_prefix(err, "%s: %s %zu", path, where, where_value);
        return lrc_error_prefix(err, "%s", path);
    }
    int rc = check_ids(path, ids, n, vocab_size, where ? where : "document", where_value, err);
    if (rc == 0 && n > 0) {
        int32_t eos = tokenizer_eos_id(tok);
        rc = record_start(d, out->n);
        if (rc == 0)
            rc = id_buf_append(out, ids, n);
        if (rc == 0 && eos >= 0)
            rc = id_buf_append(out, &eos, 1);
        if (rc < 0)
            lrc_errorf(err, "%s: out of memory after %zu tokens", path, out->n);
    }
    free(ids);
    return rc;
}

static int load_text(train_data *d, id_buf *out, const tokenizer *tok, int vocab_size,
                     lrc_error *err) {
    char *buf;
    size_t len;
    if (read_file(d->path, &buf, &len, err) < 0)
        return -1;
    int rc = append_document(d, out, tok, vocab_size, buf, len, NULL, 0, err);
    if (rc == 0 && len > 0)
        d->n_docs = 1;
    free(buf);
    return rc;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

static int load_jsonl(train_data *d, id_buf *out, const tokenizer *tok, int vocab_size,
                      lrc_error *err) {
    char *buf;
    size_t len;
    if (read_file(d->path, &buf, &len, err) < 0)
        return -1;

    int rc = 0;
    size_t line_no = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *line = buf + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        line_no++;
        if (is_blank(line, n))
            continue;

        cJSON *obj = cJSON_ParseWithLength(line, n);
        const cJSON *text =
            cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, "text") : NULL;
        if (!cJSON_IsString(text)) {
            rc = lrc_errorf(err,
                            "%s: line %zu: %s; expected one JSON object with a string field "
                            "\"text\" per line",
                            d->path, line_no,
                            !obj                   ? "not valid JSON"
                            : !cJSON_IsObject(obj) ? "not a JSON object"
                            : text                 ? "field \"text\" is not a string"
                                                   : "no field \"text\"");
        } else {
            size_t before = out->n;
            rc = append_document(d, out, tok, vocab_size, text->valuestring,
                                 strlen(text->valuestring), "line", line_no, err);
            if (rc == 0 && out->n > before)
                d->n_docs++;
        }
        cJSON_Delete(obj);
    }
    free(buf);
    return rc;
}

static int load_u32(train_data *d, id_buf *out, int vocab_size, lrc_error *err) {
    char *buf;
    size_t len;
    if (read_file(d->path, &buf, &len, err) < 0)
        return -1;
    if (len % 4 != 0) {
        free(buf);
        return lrc_errorf(err,
                          "%s: %zu bytes is not a whole number of uint32 ids (4 bytes each); "
                          "the file is truncated or not a token file",
                          d->path, len);
    }

    size_t n = len / 4;
    out->ids = malloc((n ? n : 1) * sizeof *out->ids);
    if (!out->ids) {
        free(buf);
        return lrc_errorf(err, "%s: out of memory for %zu ids", d->path, n);
    }
    out->cap = n ? n : 1;
    const unsigned char *p = (const unsigned char *)buf;
    for (size_t i = 0; i < n; i++, p += 4) {
        uint32_t v =
            (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (v >= (uint32_t)vocab_size) {
            free(buf);
            return lrc_errorf(err,
                              "%s: byte offset %zu (token %zu): id %u is outside the vocabulary "
                              "of %d ids; a .u32 or .bin file must hold token ids of this "
                              "model (rename a text file to .txt or .jsonl)",
                              d->path, i * 4, i, v, vocab_size);
        }
        out->ids[i] = (int32_t)v;
    }
    out->n = n;
    free(buf);
    return 0;
}

/* ---- loading -------------------------------------------------------------- */

int train_data_load(train_data *d, const char *path, data_format fmt, const tokenizer *tok,
                    int vocab_size, lrc_error *err) {
    memset(d, 0, sizeof *d);
    if (strlen(path) >= sizeof d->path)
        return lrc_errorf(err, "%s: path longer than %zu bytes", path, sizeof d->path - 1);
    snprintf(d->path, sizeof d->path, "%s", path);
    d->format = fmt == DATA_FORMAT_AUTO ? format_from_extension(path) : fmt;
    if (vocab_size < 1)
        return lrc_errorf(err, "%s: vocabulary size %d is invalid", path, vocab_size);
    if (d->format != DATA_FORMAT_U32 && !tok)
        return lrc_errorf(err, "%s: %s data needs a tokenizer", path, data_format_name(d->format));

    id_buf out = {0};
    int rc;
    switch (d->format) {
    case DATA_FORMAT_U32:
        rc = load_u32(d, &out, vocab_size, err);
        break;
    case DATA_FORMAT_JSONL:
        rc = load_jsonl(d, &out, tok, vocab_size, err);
        break;
    default:
        rc = load_text(d, &out, tok, vocab_size, err);
        break;
    }
    if (rc < 0) {
        free(out.ids);
        free(d->doc_starts);
        memset(d, 0, sizeof *d);
        return -1;
    }
    d->ids = out.ids;
    d->n_tokens = out.n;
    d->n_train = out.n;
    return 0;
}

int train_data_set_window(train_data *d, size_t seq, size_t probe_rows, lrc_error *err) {
    if (seq < 1)
        return lrc_errorf(err, "%s: sequence length 0 is invalid; use --seq 1 or more", d->path);
    size_t window = seq + 1;
    size_t held_out = probe_rows * window;
    if (d->n_tokens < held_out + window) {
        if (probe_rows == 0)
            return lrc_errorf(err,
                              "%s: %zu tokens, fewer than one window of %zu (seq + 1); use more "
                              "data or a smaller --seq",
                              d->path, d->n_tokens, window);
        return lrc_errorf(err,
                          "%s: %zu tokens, fewer than one window of %zu (seq + 1) plus %zu held "
                          "out for %zu probe rows; use more data or a smaller --seq",
                          d->path, d->n_tokens, window, held_out, probe_rows);
    }
    d->seq = seq;
    d->probe_rows = probe_rows;
    d->n_train = d->n_tokens - held_out;
    return 0;
}

/* ---- windows -------------------------------------------------------------- */

/* (a · b) mod m without overflow, for any 64-bit a, b and m >= 1. */
static uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) {
    a %= m;
    b %= m;
    uint64_t r = 0;
    while (b) {
        if (b & 1)
            r = r >= m - a ? r - (m - a) : r + a;
        a = a >= m - a ? a - (m - a) : a + a;
        b >>= 1;
    }
    return r;
}

int train_data_align_docs(train_data *d, lrc_error *err) {
    size_t n = 0;
    while (n < d->n_doc_starts && d->doc_starts[n] < d->n_train)
        n++;
    if (n == 0)
        return lrc_errorf(err,
                          "%s: no document starts in the training ids (a .u32 file has no "
                          "documents); use --shuffle on, or give text or JSONL data",
                          d->path);
    d->n_aligned = n;
    return 0;
}

size_t data_window_start(const train_data *d, size_t batch, bool shuffle, uint64_t seed,
                         uint64_t step, size_t row) {
    uint64_t n = d->n_train;
    if (shuffle) {
        uint64_t mix = rng_hash64(rng_hash64(rng_hash64(seed) ^ step) ^ row);
        if (d->n_aligned > 0)
            return d->doc_starts[mix % d->n_aligned];
        return (size_t)(mix % n);
    }

    /* ((step·B + row)·T) mod n, reduced at every step so nothing overflows. */
    uint64_t rows = (mulmod(step, batch, n) + row % n) % n;
    return (size_t)mulmod(rows, d->seq, n);
}

void train_data_batch(const train_data *d, size_t batch, bool shuffle, uint64_t seed, uint64_t step,
                      int32_t *out) {
    size_t window = d->seq + 1, n = d->n_train;
    for (size_t j = 0; j < batch; j++) {
        size_t start = data_window_start(d, batch, shuffle, seed, step, j);
        int32_t *row = out + j * window;
        for (size_t t = 0; t < window; t++) {
            row[t] = d->ids[start++];
            if (start == n)
                start = 0;
        }
    }
}

void train_data_probe(const train_data *d, int32_t *out) {
    memcpy(out, d->ids + d->n_train, d->probe_rows * (d->seq + 1) * sizeof *out);
}

void train_data_free(train_data *d) {
    free(d->ids);
    free(d->doc_starts);
    memset(d, 0, sizeof *d);
}
