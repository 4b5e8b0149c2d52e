/*
 * Containers and helpers shared by the tokenizer modules: growable buffers,
 * piece lists, the vocabulary hash table (open addressing over ids, FNV-1a of
 * the piece), the merge hash table keyed by (left, right) ids, and UTF-8
 * helpers. Tables are sized to a power of two at most half full.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/tok_internal.h"

/* ---- buffers ------------------------------------------------------------- */

int tok_buf_reserve(tok_buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

int tok_buf_append(tok_buf *b, const void *p, size_t n) {
    if (tok_buf_reserve(b, n))
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void tok_buf_free(tok_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

int tok_ids_push(tok_ids *a, int32_t id) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        int32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = id;
    return 0;
}

/* ---- piece lists --------------------------------------------------------- */

int tok_pieces_begin(tok_pieces *p) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        size_t *off = realloc(p->off, cap * sizeof *off);
        if (!off)
            return -1;
        p->off = off;
        size_t *len = realloc(p->len, cap * sizeof *len);
        if (!len)
            return -1;
        p->len = len;
        p->cap = cap;
    }
    if (tok_buf_reserve(&p->text, 0))
        return -1;
    p->off[p->n] = p->text.len;
    p->len[p->n] = 0;
    return 0;
}

void tok_pieces_end(tok_pieces *p) {
    p->len[p->n] = p->text.len - p->off[p->n];
    p->n++;
}

int tok_pieces_add(tok_pieces *p, const char *s, size_t n) {
    if (tok_pieces_begin(p) || tok_buf_append(&p->text, s, n))
        return -1;
    tok_pieces_end(p);
    return 0;
}

void tok_pieces_clear(tok_pieces *p) {
    p->n = 0;
    p->text.len = 0;
}

void tok_pieces_free(tok_pieces *p) {
    tok_buf_free(&p->text);
    free(p->off);
    free(p->len);
    memset(p, 0, sizeof *p);
}

/* ---- vocabulary ---------------------------------------------------------- */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

int tok_vocab_init(tok_vocab *v, int32_t n) {
    memset(v, 0, sizeof *v);
    return tok_vocab_grow(v, n);
}

int tok_vocab_grow(tok_vocab *v, int32_t n) {
    if (n <= v->n)
        return 0;
    size_t old = (size_t)v->n, nn = (size_t)n;
    char **piece = realloc(v->piece, nn * sizeof *piece);
    if (!piece)
        return -1;
    v->piece = piece;
    uint32_t *len = realloc(v->len, nn * sizeof *len);
    if (!len)
        return -1;
    v->len = len;
    float *score = realloc(v->score, nn * sizeof *score);
    if (!score)
        return -1;
    v->score = score;
    uint8_t *type = realloc(v->type, nn * sizeof *type);
    if (!type)
        return -1;
    v->type = type;
    for (size_t i = old; i < nn; i++) {
        piece[i] = NULL;
        len[i] = 0;
        score[i] = 0.0f;
        type[i] = 0;
    }
    v->n = n;
    return 0;
}

static int vocab_rehash(tok_vocab *v, size_t n_slots) {
    int32_t *slot = malloc(n_slots * sizeof *slot);
    if (!slot)
        return -1;
    for (size_t i = 0; i < n_slots; i++)
        slot[i] = -1;
    for (size_t i = 0; i < v->n_slots; i++) {
        int32_t id = v->slot[i];
        if (id < 0)
            continue;
        size_t j = hash_bytes(v->piece[id], v->len[id]) & (n_slots - 1);
        while (slot[j] >= 0)
            j = (j + 1) & (n_slots - 1);
        slot[j] = id;
    }
    free(v->slot);
    v->slot = slot;
    v->n_slots = n_slots;
    return 0;
}

int32_t tok_vocab_find(const tok_vocab *v, const char *s, size_t len) {
    if (!v->n_slots)
        return -1;
    size_t j = hash_bytes(s, len) & (v->n_slots - 1);
    for (;;) {
        int32_t id = v->slot[j];
        if (id < 0)
            return -1;
        if (v->len[id] == len && memcmp(v->piece[id], s, len) == 0)
            return id;
        j = (j + 1) & (v->n_slots - 1);
    }
}

int tok_vocab_set(tok_vocab *v, int32_t id, const char *s, size_t len, bool indexed) {
    if (id < 0 || id >= v->n || len > UINT32_MAX)
        return -1;
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    free(v->piece[id]);
    v->piece[id] = copy;
    v->len[id] = (uint32_t)len;
    if (!indexed)
        return 0;

    if (2 * (v->n_indexed + 1) > v->n_slots && vocab_rehash(v, v->n_slots ? v->n_slots * 2 : 1024))
        return -1;
    size_t j = hash_bytes(s, len) & (v->n_slots - 1);
    for (;;) {
        int32_t other = v->slot[j];
        if (other < 0)
            break;
        if (other == id || (v->len[other] == len && memcmp(v->piece[other], s, len) == 0))
            return 0; /* keep the first id of a repeated piece */
        j = (j + 1) & (v->n_slots - 1);
    }
    v->slot[j] = id;
    v->n_indexed++;
    return 0;
}

void tok_vocab_free(tok_vocab *v) {
    for (int32_t i = 0; i < v->n; i++)
        free(v->piece[i]);
    free(v->piece);
    free(v->len);
    free(v->score);
    free(v->type);
    free(v->slot);
    memset(v, 0, sizeof *v);
}

/* ---- merge table --------------------------------------------------------- */

static uint64_t pair_key(int32_t left, int32_t right) {
    return (((uint64_t)(uint32_t)left << 32) | (uint32_t)right) + 1;
}

static size_t pair_hash(uint64_t key, size_t n_slots) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key & (n_slots - 1);
}

static int merges_rehash(tok_merges *m, size_t n_slots) {
    uint64_t *key = calloc(n_slots, sizeof *key);
    int32_t *merged = malloc(n_slots * sizeof *merged);
    int32_t *rank = malloc(n_slots * sizeof *rank);
    if (!key || !merged || !rank) {
        free(key);
        free(merged);
        free(rank);
        return -1;
    }
    for (size_t i = 0; i < m->n_slots; i++) {
        if (!m->key[i])
            continue;
        size_t j = pair_hash(m->key[i], n_slots);
        while (key[j])
            j = (j + 1) & (n_slots - 1);
        key[j] = m->key[i];
        merged[j] = m->merged[i];
        rank[j] = m->rank[i];
    }
    free(m->key);
    free(m->merged);
    free(m->rank);
    m->key = key;
    m->merged = merged;
    m->rank = rank;
    m->n_slots = n_slots;
    return 0;
}

long tok_merges_find(const tok_merges *m, int32_t left, int32_t right) {
    if (!m->n_slots || left < 0 || right < 0)
        return -1;
    uint64_t k = pair_key(left, right);
    size_t j = pair_hash(k, m->n_slots);
    while (m->key[j]) {
        if (m->key[j] == k)
            return (long)j;
        j = (j + 1) & (m->n_slots - 1);
    }
    return -1;
}

int tok_merges_add(tok_merges *m, int32_t left, int32_t right, int32_t merged, int32_t rank) {
    if (2 * (m->n + 1) > m->n_slots && merges_rehash(m, m->n_slots ? m->n_slots * 2 : 1024))
        return -1;
    uint64_t k = pair_key(left, right);
    size_t j = pair_hash(k, m->n_slots);
    while (m->key[j]) {
        if (m->key[j] == k)
            return 0; /* the first (lowest-rank) entry of a repeated merge wins */
        j = (j + 1) & (m->n_slots - 1);
    }
    m->key[j] = k;
    m->merged[j] = merged;
    m->rank[j] = rank;
    m->n++;
    return 0;
}

void tok_merges_free(tok_merges *m) {
    free(m->key);
    free(m->merged);
    free(m->rank);
    memset(m, 0, sizeof *m);
}

typedef struct scored {
    float score;
    int32_t id;
} scored;

static int by_score_desc(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

int tok_merges_from_scores(tok_merges *m, const tok_vocab *v,
                           bool (*allowed)(const tok_vocab *, int32_t)) {
    /* Rank = position in descending score order; equal scores share a rank so that the
     * leftmost pair wins between them, as both SentencePiece and llama2.c do. */
    scored *order = malloc((size_t)(v->n ? v->n : 1) * sizeof *order);
    int32_t *rank = malloc((size_t)(v->n ? v->n : 1) * sizeof *rank);
    if (!order || !rank) {
        free(order);
        free(rank);
        return -1;
    }
    int32_t n = 0;
    for (int32_t id = 0; id < v->n; id++)
        if (v->piece[id] && v->len[id] >= 2 && (!allowed || allowed(v, id)))
            order[n++] = (scored){v->score[id], id};
    qsort(order, (size_t)n, sizeof *order, by_score_desc);
    int32_t r = 0;
    for (int32_t i = 0; i < n; i++) {
        if (i > 0 && order[i].score != order[i - 1].score)
            r = i;
        rank[order[i].id] = r;
    }

    int status = 0;
    for (int32_t i = 0; i < n && !status; i++) {
        int32_t id = order[i].id;
        const char *s = v->piece[id];
        for (uint32_t cut = 1; cut < v->len[id]; cut++) {
            int32_t left = tok_vocab_find(v, s, cut);
            if (left < 0)
                continue;
            int32_t right = tok_vocab_find(v, s + cut, v->len[id] - cut);
            if (right < 0)
                continue;
            if (tok_merges_add(m, left, right, id, rank[id])) {
                status = -1;
                break;
            }
        }
    }
    free(order);
    free(rank);
    return status;
}

/* ---- UTF-8 --------------------------------------------------------------- */

size_t tok_utf8_len(const char *s, size_t n) {
    unsigned char c = (unsigned char)s[0];
    size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return k > n ? n : k;
}

size_t tok_utf8_decode(const char *str, size_t n, uint32_t *cp) {
    const unsigned char *s = (const unsigned char *)str;
    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t k;
    uint32_t c, min;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        k = 2, c = s[0] & 0x1F, min = 0x80;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        k = 3, c = s[0] & 0x0F, min = 0x800;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        k = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return k;
}

/* Length of the longest prefix of s that could start a valid sequence (the "maximal
 * subpart" of Unicode's U+FFFD substitution practice), at least 1. */
static size_t invalid_subpart(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t k;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 1;
    size_t i = 1;
    if (i < n && i < k && s[i] >= lo && s[i] <= hi) {
        i++;
        while (i < n && i < k && (s[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

int tok_utf8_lossy(tok_buf *out, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = tok_utf8_decode(s + i, n - i, &cp);
        if (k) {
            if (tok_buf_append(out, s + i, k))
                return -1;
            i += k;
            continue;
        }
        if (tok_buf_append(out, "\xEF\xBF\xBD", 3))
            return -1;
        i += invalid_subpart((const unsigned char *)s + i, n - i);
    }
    return 0;
}

int tok_parse_byte_piece(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>')
        return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

char *tok_strndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* ---- files --------------------------------------------------------------- */

int tok_read_file(const char *path, char **data, size_t *len, lrc_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return lrc_errorf(err, "%s: cannot open: %s", path, strerror(errno));
    tok_buf b = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (tok_buf_append(&b, chunk, got)) {
            fclose(f);
            tok_buf_free(&b);
            return lrc_errorf(err, "%s: out of memory while reading", path);
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        tok_buf_free(&b);
        return lrc_errorf(err, "%s: read failed; check that it is a regular readable file", path);
    }
    if (tok_buf_reserve(&b, 0)) {
        tok_buf_free(&b);
        return lrc_errorf(err, "%s: out of memory while reading", path);
    }
    b.data[b.len] = '\0';
    *data = b.data;
    *len = b.len;
    return 0;
}
