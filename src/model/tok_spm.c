/*
 * SentencePiece tokenizer.model: a protobuf ModelProto read with a minimal
 * wire-format reader (varints, fixed32, length-delimited fields), and the
 * SentencePiece BPE encoding. Encoding escapes spaces to U+2581, adds the
 * dummy prefix, splits the text into characters (user-defined pieces stay
 * whole), merges the adjacent pair whose concatenation is the highest-scoring
 * normal piece (leftmost on ties), and writes characters outside the
 * vocabulary as <0xXX> byte pieces when byte_fallback is set, else as unk.
 */
#include <stdlib.h>
#include <string.h>

#include "model/tok_internal.h"

/* ModelProto, TrainerSpec and NormalizerSpec field numbers (sentencepiece_model.proto). */
enum {
    MODEL_PIECES = 1,
    MODEL_TRAINER_SPEC = 2,
    MODEL_NORMALIZER_SPEC = 3,
    PIECE_PIECE = 1,
    PIECE_SCORE = 2,
    PIECE_TYPE = 3,
    TRAINER_MODEL_TYPE = 3,
    TRAINER_WS_AS_SUFFIX = 24,
    TRAINER_BYTE_FALLBACK = 35,
    TRAINER_UNK_ID = 40,
    TRAINER_BOS_ID = 41,
    TRAINER_EOS_ID = 42,
    TRAINER_UNK_SURFACE = 44,
    NORM_NAME = 1,
    NORM_CHARSMAP = 2,
    NORM_ADD_DUMMY_PREFIX = 3,
    NORM_REMOVE_EXTRA_WS = 4,
    NORM_ESCAPE_WS = 5,
};

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2, WIRE_FIXED32 = 5 };
enum { MODEL_TYPE_BPE = 2 };

typedef struct pb {
    const uint8_t *data;
    size_t off, end;
    const char *path;
    lrc_error *err;
} pb;

static int pb_varint(pb *r, uint64_t *v) {
    uint64_t x = 0;
    size_t start = r->off;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->off >= r->end)
            return lrc_errorf(r->err,
                              "%s: offset %zu: truncated varint; the file is cut short "
                              "or not a SentencePiece model",
                              r->path, start);
        uint8_t b = r->data[r->off++];
        x |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return lrc_errorf(r->err,
                      "%s: offset %zu: varint longer than 10 bytes; not a SentencePiece "
                      "model",
                      r->path, start);
}

/* Read a field header and its value: varints in *v, fixed32 in *f32, lengths as a sub-range. */
typedef struct pb_field {
    uint32_t number, wire;
    uint64_t v;
    uint32_t f32;
    size_t sub_off, sub_end;
} pb_field;

static int pb_next(pb *r, pb_field *f) {
    uint64_t key;
    size_t at = r->off;
    if (pb_varint(r, &key))
        return -1;
    f->number = (uint32_t)(key >> 3);
    f->wire = (uint32_t)(key & 7);
    switch (f->wire) {
    case WIRE_VARINT:
        return pb_varint(r, &f->v);
    case WIRE_FIXED32:
    case WIRE_FIXED64: {
        size_t n = f->wire == WIRE_FIXED32 ? 4 : 8;
        if (r->end - r->off < n)
            return lrc_errorf(r->err,
                              "%s: offset %zu: field %u is truncated (needs %zu bytes, "
                              "%zu remain)",
                              r->path, at, f->number, n, r->end - r->off);
        f->f32 = 0;
        for (size_t i = 0; i < 4; i++)
            f->f32 |= (uint32_t)r->data[r->off + i] << (8 * i);
        r->off += n;
        return 0;
    }
    case WIRE_LEN: {
        uint64_t n;
        if (pb_varint(r, &n))
            return -1;
        if (n > r->end - r->off)
            return lrc_errorf(r->err,
                              "%s: offset %zu: field %u needs %llu bytes but only %zu "
                              "remain; the file is cut short",
                              r->path, at, f->number, (unsigned long long)n, r->end - r->off);
        f->sub_off = r->off;
        f->sub_end = r->off + (size_t)n;
        r->off += (size_t)n;
        return 0;
    }
    default:
        return lrc_errorf(r->err,
                          "%s: offset %zu: unsupported protobuf wire type %u; not a "
                          "SentencePiece model",
                          r->path, at, f->wire);
    }
}

static float f32_of(uint32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* One SentencePiece message: piece, score, type. */
static int read_piece(pb *r, size_t off, size_t end, tokenizer *t, int32_t id) {
    pb sub = {r->data, off, end, r->path, r->err};
    const char *s = "";
    size_t n = 0;
    float score = 0.0f;
    uint64_t type = TOK_PIECE_NORMAL;

    while (sub.off < sub.end) {
        pb_field f;
        if (pb_next(&sub, &f))
            return -1;
        if (f.number == PIECE_PIECE && f.wire == WIRE_LEN) {
            s = (const char *)r->data + f.sub_off;
            n = f.sub_end - f.sub_off;
        } else if (f.number == PIECE_SCORE && f.wire == WIRE_FIXED32) {
            score = f32_of(f.f32);
        } else if (f.number == PIECE_TYPE && f.wire == WIRE_VARINT) {
            type = f.v;
        }
    }

    if (type < TOK_PIECE_NORMAL || type > TOK_PIECE_BYTE)
        return lrc_errorf(r->err, "%s: offset %zu: piece %d has unknown type %llu", r->path, off,
                          id, (unsigned long long)type);
    if (tok_vocab_set(&t->vocab, id, s, n, true))
        return lrc_errorf(r->err, "%s: out of memory while loading", r->path);
    t->vocab.score[id] = score;
    t->vocab.type[id] = (uint8_t)type;

    if (type == TOK_PIECE_BYTE) {
        int b = tok_parse_byte_piece(s, n);
        if (b < 0)
            return lrc_errorf(r->err, "%s: offset %zu: byte piece %d is '%.*s', expected <0xXX>",
                              r->path, off, id, (int)(n > 20 ? 20 : n), s);
        t->byte_id[b] = id;
    }
    return 0;
}

static int32_t as_int32(uint64_t v) {
    return (int32_t)(uint32_t)v; /* protobuf int32: negative values are sign-extended */
}

static bool mergeable(const tok_vocab *v, int32_t id) {
    return v->type[id] == TOK_PIECE_NORMAL || v->type[id] == TOK_PIECE_USER;
}

int tok_load_spm(tokenizer *t, const char *path, lrc_error *err) {
    char *data;
    size_t len;
    if (tok_read_file(path, &data, &len, err))
        return -1;
    pb r = {(const uint8_t *)data, 0, len, path, err};

    /* First pass: count pieces so the vocabulary is allocated once. */
    int32_t n_pieces = 0;
    int status = -1;
    while (r.off < r.end) {
        pb_field f;
        if (pb_next(&r, &f))
            goto done;
        if (f.number == MODEL_PIECES && f.wire == WIRE_LEN)
            n_pieces++;
    }
    if (n_pieces == 0) {
        lrc_errorf(err, "%s: no pieces (field 1) found; not a SentencePiece model", path);
        goto done;
    }
    if (tok_vocab_init(&t->vocab, n_pieces)) {
        lrc_errorf(err, "%s: out of memory while loading", path);
        goto done;
    }
    for (int b = 0; b < 256; b++)
        t->byte_id[b] = -1;

    uint64_t model_type = 1; /* UNIGRAM is the proto default */
    t->unk_id = 0;
    t->bos_id = 1;
    t->eos_id = 2;
    t->add_dummy_prefix = t->remove_extra_ws = t->escape_ws = true;
    char name[64] = "";
    size_t charsmap_len = 0;
    const char *unk_surface = " \xE2\x81\x87 ";
    size_t unk_surface_len = strlen(unk_surface);

    r.off = 0;
    int32_t id = 0;
    while (r.off < r.end) {
        pb_field f;
        if (pb_next(&r, &f))
            goto done;
        if (f.wire != WIRE_LEN)
            continue;
        if (f.number == MODEL_PIECES) {
            if (read_piece(&r, f.sub_off, f.sub_end, t, id++))
                goto done;
            continue;
        }
        pb sub = {r.data, f.sub_off, f.sub_end, path, err};
        while (sub.off < sub.end) {
            pb_field g;
            if (pb_next(&sub, &g))
                goto done;
            if (f.number == MODEL_TRAINER_SPEC) {
                if (g.number == TRAINER_MODEL_TYPE)
                    model_type = g.v;
                else if (g.number == TRAINER_WS_AS_SUFFIX)
                    t->ws_as_suffix = g.v != 0;
                else if (g.number == TRAINER_BYTE_FALLBACK)
                    t->byte_fallback = g.v != 0;
                else if (g.number == TRAINER_UNK_ID)
                    t->unk_id = as_int32(g.v);
                else if (g.number == TRAINER_BOS_ID)
                    t->bos_id = as_int32(g.v);
                else if (g.number == TRAINER_EOS_ID)
                    t->eos_id = as_int32(g.v);
                else if (g.number == TRAINER_UNK_SURFACE && g.wire == WIRE_LEN) {
                    unk_surface = (const char *)r.data + g.sub_off;
                    unk_surface_len = g.sub_end - g.sub_off;
                }
            } else if (f.number == MODEL_NORMALIZER_SPEC) {
                if (g.number == NORM_NAME && g.wire == WIRE_LEN) {
                    size_t n = g.sub_end - g.sub_off;
                    if (n >= sizeof name)
                        n = sizeof name - 1;
                    memcpy(name, r.data + g.sub_off, n);
                    name[n] = '\0';
                } else if (g.number == NORM_CHARSMAP && g.wire == WIRE_LEN) {
                    charsmap_len = g.sub_end - g.sub_off;
                } else if (g.number == NORM_ADD_DUMMY_PREFIX) {
                    t->add_dummy_prefix = g.v != 0;
                } else if (g.number == NORM_REMOVE_EXTRA_WS) {
                    t->remove_extra_ws = g.v != 0;
                } else if (g.number == NORM_ESCAPE_WS) {
                    t->escape_ws = g.v != 0;
                }
            }
        }
    }

    if (model_type != MODEL_TYPE_BPE) {
        lrc_errorf(err,
                   "%s: trainer_spec.model_type is %llu (%s); only BPE (2) models are "
                   "supported",
                   path, (unsigned long long)model_type,
                   model_type == 1   ? "unigram"
                   : model_type == 3 ? "word"
                                     : "char or unknown");
        goto done;
    }
    if (charsmap_len && strcmp(name, "identity") != 0) {
        /* NOTE: the precompiled character map (nmt_nfkc and friends) is not implemented. */
        lrc_errorf(err,
                   "%s: normalizer_spec.name '%s' needs a precompiled character map, which "
                   "lrc does not implement; only 'identity' models are supported",
                   path, name);
        goto done;
    }
    if (t->unk_id < 0 || t->unk_id >= n_pieces) {
        lrc_errorf(err, "%s: trainer_spec.unk_id %d is outside the %d pieces", path, t->unk_id,
                   n_pieces);
        goto done;
    }
    if (t->bos_id >= n_pieces)
        t->bos_id = -1;
    if (t->eos_id >= n_pieces)
        t->eos_id = -1;
    t->unk_surface = malloc(unk_surface_len + 1);
    if (!t->unk_surface || tok_merges_from_scores(&t->merges, &t->vocab, mergeable)) {
        lrc_errorf(err, "%s: out of memory while loading", path);
        goto done;
    }
    memcpy(t->unk_surface, unk_surface, unk_surface_len);
    t->unk_surface[unk_surface_len] = '\0';

    for (int32_t i = 0; i < n_pieces; i++)
        t->n_user += t->vocab.type[i] == TOK_PIECE_USER;
    t->user_ids = malloc((t->n_user ? t->n_user : 1) * sizeof *t->user_ids);
    if (!t->user_ids) {
        lrc_errorf(err, "%s: out of memory while loading", path);
        goto done;
    }
    t->n_user = 0;
    for (int32_t i = 0; i < n_pieces; i++)
        if (t->vocab.type[i] == TOK_PIECE_USER)
            t->user_ids[t->n_user++] = i;
    status = 0;
done:
    free(data);
    return status;
}

/* ---- encoding ------------------------------------------------------------ */

#define META "\xE2\x96\x81" /* U+2581, SentencePiece's escaped space */

/* The SentencePiece normalizer for 'identity' models: whitespace handling only. */
static int spm_normalize(const tokenizer *t, const char *s, size_t n, tok_buf *out) {
    size_t a = 0, b = n;
    if (t->remove_extra_ws) {
        while (a < b && s[a] == ' ')
            a++;
        while (b > a && s[b - 1] == ' ')
            b--;
    }
    if (a == b)
        return 0;
    const char *space = t->escape_ws ? META : " ";
    size_t space_len = t->escape_ws ? 3 : 1;
    if (t->add_dummy_prefix && !t->ws_as_suffix && tok_buf_append(out, space, space_len))
        return -1;
    for (size_t i = a; i < b; i++) {
        if (s[i] != ' ') {
            if (tok_buf_append(out, s + i, 1))
                return -1;
            continue;
        }
        if (t->remove_extra_ws && i > a && s[i - 1] == ' ')
            continue;
        if (tok_buf_append(out, space, space_len))
            return -1;
    }
    if (t->add_dummy_prefix && t->ws_as_suffix && tok_buf_append(out, space, space_len))
        return -1;
    return 0;
}

/* Return the id of the longest user-defined piece at s[0..n), or -1. */
static int32_t user_piece_at(const tokenizer *t, const char *s, size_t n, size_t *len) {
    int32_t best = -1;
    for (size_t k = 0; k < t->n_user; k++) {
        int32_t id = t->user_ids[k];
        uint32_t m = t->vocab.len[id];
        if (m && m <= n && (best < 0 || m > *len) && memcmp(s, t->vocab.piece[id], m) == 0) {
            best = id;
            *len = m;
        }
    }
    return best;
}

/* A character that is a piece of this type is a symbol of its own; others are unknown. */
static bool symbol_type(uint8_t type) {
    return type == TOK_PIECE_NORMAL || type == TOK_PIECE_USER;
}

int tok_encode_spm(const tokenizer *t, const char *text, size_t len, bool add_special,
                   int32_t **ids, size_t *n_ids, lrc_error *err) {
    tok_buf norm = {0};
    tok_ids out = {0};
    int32_t *sym = NULL;
    size_t *sym_off = NULL, *sym_len = NULL;
    int status = -1;
    bool has_user = t->n_user > 0;

    if (spm_normalize(t, text, len, &norm))
        goto oom;
    if (add_special && t->bos_id >= 0 && tok_ids_push(&out, t->bos_id))
        goto oom;

    /* Symbols are the ids of single characters. A symbol that must not merge (an unknown
     * character or a user-defined piece) is stored as -1 - k, and its text is at sym_off[k]. */
    size_t cap = norm.len ? norm.len : 1, n = 0;
    sym = malloc(cap * sizeof *sym);
    sym_off = malloc(cap * sizeof *sym_off);
    sym_len = malloc(cap * sizeof *sym_len);
    if (!sym || !sym_off || !sym_len)
        goto oom;
    for (size_t i = 0; i < norm.len; n++) {
        size_t k = 0;
        int32_t user = has_user ? user_piece_at(t, norm.data + i, norm.len - i, &k) : -1;
        if (user < 0) {
            k = tok_utf8_len(norm.data + i, norm.len - i);
            int32_t id = tok_vocab_find(&t->vocab, norm.data + i, k);
            sym[n] = id >= 0 && symbol_type(t->vocab.type[id]) ? id : -1 - (int32_t)n;
        } else {
            sym[n] = -1 - (int32_t)n;
        }
        sym_off[n] = i;
        sym_len[n] = k;
        i += k;
    }
    if (tok_bpe_merge(&t->merges, sym, &n, err))
        goto done;

    for (size_t i = 0; i < n; i++) {
        if (sym[i] >= 0) {
            if (tok_ids_push(&out, sym[i]))
                goto oom;
            continue;
        }
        size_t k = (size_t)(-1 - sym[i]);
        const char *s = norm.data + sym_off[k];
        size_t m = sym_len[k];
        int32_t user = has_user ? tok_vocab_find(&t->vocab, s, m) : -1;
        if (user >= 0 && t->vocab.type[user] == TOK_PIECE_USER) {
            if (tok_ids_push(&out, user))
                goto oom;
            continue;
        }
        bool bytes_ok = t->byte_fallback;
        for (size_t j = 0; j < m && bytes_ok; j++)
            bytes_ok = t->byte_id[(uint8_t)s[j]] >= 0;
        for (size_t j = 0; j < m && bytes_ok; j++)
            if (tok_ids_push(&out, t->byte_id[(uint8_t)s[j]]))
                goto oom;
        if (!bytes_ok && tok_ids_push(&out, t->unk_id))
            goto oom;
    }
    *ids = out.v;
    *n_ids = out.n;
    out.v = NULL;
    status = 0;
    goto done;
oom:
    lrc_errorf(err, "tokenizer: out of memory while encoding");
done:
    tok_buf_free(&norm);
    free(out.v);
    free(sym);
    free(sym_off);
    free(sym_len);
    return status;
}
