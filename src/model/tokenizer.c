/*
 * The tokenizer front end: finding the files of a model directory, the
 * Hugging Face encoding pipeline (added tokens, then per segment normalizer,
 * pre-tokenizer and BPE, then the post-processor), decoding for every kind,
 * and streaming decode. Loaders live in tok_json.c, tok_spm.c, tok_llama2c.c
 * and tok_gpt2.c; the merge engine in tok_bpe.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unictype.h>

#include "model/tok_internal.h"

/* ---- loading ------------------------------------------------------------- */

void tok_step_free(tok_step *s) {
    if (!s)
        return;
    free(s->text);
    free(s->pattern);
    tok_regex_free(s->re);
    for (size_t i = 0; i < s->n_sub; i++)
        tok_step_free(&s->sub[i]);
    free(s->sub);
}

static void free_step(tok_step *s) {
    tok_step_free(s);
    free(s);
}

void tokenizer_free(tokenizer *t) {
    if (!t)
        return;
    free(t->path);
    tok_vocab_free(&t->vocab);
    tok_merges_free(&t->merges);
    for (size_t i = 0; i < t->n_added; i++)
        free(t->added[i].content);
    free(t->added);
    free_step(t->normalizer);
    free_step(t->pre_tokenizer);
    free_step(t->decoder);
    tok_regex_free(t->gpt2_re);
    free(t->post_prefix);
    free(t->post_suffix);
    free(t->unk_surface);
    free(t->user_ids);
    free(t);
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Like is_file, but a stat failure other than ENOENT (EACCES on an
 * unsearchable directory, ELOOP, ...) is kept in *errnum if none is yet. */
static bool probe_file(const char *path, int *errnum) {
    struct stat st;
    if (stat(path, &st) == 0)
        return S_ISREG(st.st_mode);
    if (errno != ENOENT && *errnum == 0)
        *errnum = errno;
    return false;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* dir + "/" + name, malloc'd. */
static char *join(const char *dir, size_t dir_len, const char *name) {
    size_t m = strlen(name);
    char *p = malloc(dir_len + 1 + m + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dir_len);
    p[dir_len] = '/';
    memcpy(p + dir_len + 1, name, m + 1);
    return p;
}

static int load_gpt2_pair(tokenizer *t, const char *dir, size_t dir_len, lrc_error *err) {
    char *enc = join(dir, dir_len, "encoder.json"), *bpe = join(dir, dir_len, "vocab.bpe");
    int status = enc && bpe ? tok_load_gpt2(t, enc, bpe, err)
                            : lrc_errorf(err, "out of memory while loading a tokenizer");
    free(enc);
    free(bpe);
    return status;
}

/* Load the file at path, choosing the kind from its file name. */
static int load_file(tokenizer *t, const char *path, lrc_error *err) {
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dir_len = slash ? (size_t)(slash - path) : 1;
    const char *dir = slash ? path : ".";

    if (strcmp(base, "encoder.json") == 0 || strcmp(base, "vocab.bpe") == 0) {
        t->kind = TOKENIZER_GPT2_FILES;
        return load_gpt2_pair(t, dir, dir_len, err);
    }
    if (ends_with(base, ".json")) {
        t->kind = TOKENIZER_HF_JSON;
        return tok_load_hf_json(t, path, err);
    }
    if (ends_with(base, ".model")) {
        t->kind = TOKENIZER_SPM;
        return tok_load_spm(t, path, err);
    }
    if (ends_with(base, ".bin") && strncmp(base, "tokenizer", 9) == 0) {
        t->kind = TOKENIZER_LLAMA2C;
        return tok_load_llama2c(t, path, err);
    }
    if (ends_with(base, ".bin")) {
        /* Any other .bin is a llama2.c checkpoint; its vocabulary is tokenizer.bin beside it. */
        char *beside = join(dir, dir_len, "tokenizer.bin");
        if (!beside)
            return lrc_errorf(err, "out of memory while loading a tokenizer");
        if (!is_file(beside)) {
            free(beside);
            return lrc_errorf(err,
                              "%s: no tokenizer.bin beside this llama2.c model file; put the "
                              "model's tokenizer.bin in the same folder, or give the tokenizer "
                              "file itself",
                              path);
        }
        free(t->path);
        t->path = beside;
        t->kind = TOKENIZER_LLAMA2C;
        return tok_load_llama2c(t, beside, err);
    }
    return lrc_errorf(err,
                      "%s: cannot tell the tokenizer kind from the file name; expected "
                      "tokenizer.json, tokenizer.model, tokenizer.bin, encoder.json or "
                      "vocab.bpe",
                      path);
}

int tokenizer_load(tokenizer **out, const char *path, lrc_error *err) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return lrc_errorf(err,
                          "%s: no such file or directory; give a model directory or a "
                          "tokenizer file",
                          path);

    tokenizer *t = calloc(1, sizeof *t);
    if (!t)
        return lrc_errorf(err, "out of memory while loading a tokenizer");
    t->unk_id = t->bos_id = t->eos_id = -1;
    for (int b = 0; b < 256; b++)
        t->byte_id[b] = -1;

    int status;
    if (S_ISDIR(st.st_mode)) {
        static const char *names[] = {"tokenizer.json", "tokenizer.model", "tokenizer.bin",
                                      "encoder.json"};
        size_t dir_len = strlen(path);
        while (dir_len > 1 && path[dir_len - 1] == '/')
            dir_len--;
        char *found = NULL;
        int errnum = 0;
        const char *failed = NULL;
        for (size_t i = 0; i < sizeof names / sizeof names[0] && !found; i++) {
            char *candidate = join(path, dir_len, names[i]);
            int before = errnum;
            if (candidate && probe_file(candidate, &errnum))
                found = candidate;
            else
                free(candidate);
            if (errnum && !before)
                failed = names[i];
        }
        char *gz = join(path, dir_len, "tokenizer.json.gz");
        bool has_gz = gz && is_file(gz);
        free(gz);
        if (!found && has_gz) {
            status = lrc_errorf(err,
                                "%s: only tokenizer.json.gz is here; unpack it with "
                                "'gzip -dk tokenizer.json.gz' first",
                                path);
        } else if (!found && failed) {
            status = lrc_errorf(err,
                                "%s: cannot open %s in this directory: %s; check the "
                                "directory's permissions (it must be readable and searchable)",
                                path, failed, strerror(errnum));
        } else if (!found) {
            status = lrc_errorf(err,
                                "%s: no tokenizer.json, tokenizer.model, tokenizer.bin or "
                                "encoder.json + vocab.bpe in this directory",
                                path);
        } else {
            t->path = found;
            status = load_file(t, found, err);
        }
    } else {
        t->path = tok_strndup(path, strlen(path));
        status = t->path ? load_file(t, path, err)
                         : lrc_errorf(err, "out of memory while loading a tokenizer");
    }
    if (status) {
        tokenizer_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

/* ---- accessors ----------------------------------------------------------- */

int tokenizer_vocab_size(const tokenizer *t) {
    return t->vocab.n;
}

int tokenizer_bos_id(const tokenizer *t) {
    return t->bos_id;
}

int tokenizer_eos_id(const tokenizer *t) {
    return t->eos_id;
}

tokenizer_kind tokenizer_get_kind(const tokenizer *t) {
    return t->kind;
}

const char *tokenizer_piece(const tokenizer *t, int32_t id) {
    return id >= 0 && id < t->vocab.n ? t->vocab.piece[id] : NULL;
}

int tokenizer_token_id(const tokenizer *t, const char *piece) {
    size_t n = strlen(piece);
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].len == n && memcmp(t->added[i].content, piece, n) == 0)
            return t->added[i].id;
    return tok_vocab_find(&t->vocab, piece, n);
}

/* ---- Hugging Face encoding ----------------------------------------------- */

static int oom(lrc_error *err) {
    return lrc_errorf(err, "tokenizer: out of memory while encoding");
}

/* BPE on one pre-token w, appending ids to out. */
static int bpe_word(const tokenizer *t, const char *w, size_t n, tok_ids *out, lrc_error *err) {
    if (t->ignore_merges) {
        int32_t id = tok_vocab_find(&t->vocab, w, n);
        if (id >= 0)
            return tok_ids_push(out, id) ? oom(err) : 0;
    }

    size_t start = out->n;
    bool last_unk = false;
    for (size_t i = 0; i < n;) {
        size_t k = tok_utf8_len(w + i, n - i);
        int32_t id = tok_vocab_find(&t->vocab, w + i, k);
        bool bytes_ok = id < 0 && t->byte_fallback;
        for (size_t j = 0; j < k && bytes_ok; j++)
            bytes_ok = t->byte_id[(uint8_t)w[i + j]] >= 0;

        if (id >= 0) {
            if (tok_ids_push(out, id))
                return oom(err);
            last_unk = false;
        } else if (bytes_ok) {
            for (size_t j = 0; j < k; j++)
                if (tok_ids_push(out, t->byte_id[(uint8_t)w[i + j]]))
                    return oom(err);
            last_unk = false;
        } else if (t->unk_id >= 0) {
            if (!(t->fuse_unk && last_unk) && tok_ids_push(out, t->unk_id))
                return oom(err);
            last_unk = true;
        } /* else: with no unk token, Rust `tokenizers` drops the character */
        i += k;
    }

    size_t m = out->n - start;
    if (tok_bpe_merge(&t->merges, out->v + start, &m, err))
        return -1;
    out->n = start + m;
    return 0;
}

/* Normalize, pre-tokenize and BPE one segment of text between added tokens. */
static int encode_segment(const tokenizer *t, const char *s, size_t n, bool at_start, tok_ids *out,
                          lrc_error *err) {
    tok_buf norm = {0};
    tok_pieces pieces = {0};
    int status = -1;

    if (t->normalizer) {
        if (tok_normalize(t->normalizer, s, n, &norm, err))
            goto done;
    } else if (tok_buf_append(&norm, s, n)) {
        oom(err);
        goto done;
    }
    if (norm.len && tok_pieces_add(&pieces, norm.data, norm.len)) {
        oom(err);
        goto done;
    }
    if (t->pre_tokenizer && tok_pre_tokenize(t->pre_tokenizer, t->gpt2_re, &pieces, at_start, err))
        goto done;
    for (size_t i = 0; i < pieces.n; i++)
        if (pieces.len[i] && bpe_word(t, TOK_PIECE(&pieces, i), pieces.len[i], out, err))
            goto done;
    status = 0;
done:
    tok_buf_free(&norm);
    tok_pieces_free(&pieces);
    return status;
}

/* The code point ending at text[i] (exclusive) and its length; length 0 at the start. */
static size_t char_before(const char *text, size_t i, uint32_t *c) {
    size_t j = i;
    while (j > 0 && i - j < 4 && ((unsigned char)text[j - 1] & 0xC0) == 0x80)
        j--;
    if (j > 0)
        j--;
    size_t k = tok_utf8_decode(text + j, i - j, c);
    return k == i - j ? k : 0;
}

static bool is_word_char(uint32_t c) {
    return c == '_' || uc_is_alnum(c);
}

/* The longest added token matching at text[i], honouring single_word; NULL when none. */
static const tok_added *added_at(const tokenizer *t, const char *text, size_t len, size_t i) {
    for (size_t k = 0; k < t->n_added; k++) { /* sorted longest first */
        const tok_added *a = &t->added[k];
        if (a->len > len - i || text[i] != a->content[0] ||
            memcmp(text + i, a->content, a->len) != 0)
            continue;
        if (a->single_word) {
            /* A single-word token must not touch a letter, digit or '_' on either side. */
            uint32_t c;
            bool before = char_before(text, i, &c) && is_word_char(c);
            size_t end = i + a->len;
            bool after = tok_utf8_decode(text + end, len - end, &c) && is_word_char(c);
            if (before || after)
                continue;
        }
        return a;
    }
    return NULL;
}

int tok_encode_hf(const tokenizer *t, const char *text, size_t len, bool add_special, int32_t **ids,
                  size_t *n_ids, lrc_error *err) {
    tok_ids out = {0};
    if (add_special)
        for (size_t i = 0; i < t->n_post_prefix; i++)
            if (tok_ids_push(&out, t->post_prefix[i]))
                goto fail_oom;

    /* Added tokens are matched leftmost-longest in the raw text, before normalization.
     * NOTE: tokens marked "normalized" are matched in the raw text too. */
    size_t seg = 0;
    for (size_t i = 0; i < len;) {
        const tok_added *a =
            t->added_first_byte[(unsigned char)text[i]] ? added_at(t, text, len, i) : NULL;
        if (!a) {
            i += tok_utf8_len(text + i, len - i);
            continue;
        }
        /* lstrip and rstrip make the token absorb the whitespace beside it. */
        size_t ms = i, me = i + a->len, k;
        uint32_t c;
        while (a->lstrip && ms > seg && (k = char_before(text, ms, &c)) &&
               uc_is_property_white_space(c))
            ms -= k;
        while (a->rstrip && me < len && (k = tok_utf8_decode(text + me, len - me, &c)) &&
               uc_is_property_white_space(c))
            me += k;
        if (ms > seg && encode_segment(t, text + seg, ms - seg, seg == 0, &out, err))
            goto fail;
        if (tok_ids_push(&out, a->id))
            goto fail_oom;
        i = seg = me;
    }
    if (len > seg && encode_segment(t, text + seg, len - seg, seg == 0, &out, err))
        goto fail;

    if (add_special)
        for (size_t i = 0; i < t->n_post_suffix; i++)
            if (tok_ids_push(&out, t->post_suffix[i]))
                goto fail_oom;
    *ids = out.v;
    *n_ids = out.n;
    return 0;
fail_oom:
    oom(err);
fail:
    free(out.v);
    return -1;
}

int tokenizer_encode(const tokenizer *t, const char *text, size_t len, bool add_special,
                     int32_t **ids, size_t *n_ids, lrc_error *err) {
    *ids = NULL;
    *n_ids = 0;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t k = tok_utf8_decode(text + i, len - i, &c);
        if (!k)
            return lrc_errorf(err,
                              "input is not valid UTF-8 at byte %zu (0x%02X); convert "
                              "it to UTF-8 first",
                              i, (unsigned char)text[i]);
        i += k;
    }

    int status;
    switch (t->kind) {
    case TOKENIZER_SPM:
        status = tok_encode_spm(t, text, len, add_special, ids, n_ids, err);
        break;
    case TOKENIZER_LLAMA2C:
        status = tok_encode_llama2c(t, text, len, add_special, ids, n_ids, err);
        break;
    default:
        status = tok_encode_hf(t, text, len, add_special, ids, n_ids, err);
    }
    if (status == 0 && !*ids) {
        *ids = malloc(sizeof **ids); /* an empty result is still a malloc'd array */
        if (!*ids)
            return oom(err);
    }
    return status;
}

/* ---- decoding ------------------------------------------------------------ */

/* Append pending byte-fallback bytes: as text when valid UTF-8, else U+FFFD per byte. */
static int flush_bytes(tok_buf *bytes, tok_buf *out) {
    if (!bytes->len)
        return 0;
    bool valid = true;
    for (size_t i = 0; i < bytes->len && valid;) {
        uint32_t c;
        size_t k = tok_utf8_decode(bytes->data + i, bytes->len - i, &c);
        valid = k > 0;
        i += k;
    }
    int status = 0;
    if (valid)
        status = tok_buf_append(out, bytes->data, bytes->len);
    else
        for (size_t i = 0; i < bytes->len && !status; i++)
            status = tok_buf_append(out, "\xEF\xBF\xBD", 3);
    bytes->len = 0;
    return status;
}

/* SentencePiece decoding (tokenizer.model and tokenizer.bin): control pieces vanish, U+2581
 * becomes a space, byte pieces become bytes, and the dummy-prefix space of the first text
 * piece is dropped. */
static int decode_spm(const tokenizer *t, const int32_t *ids, size_t n, tok_buf *out) {
    tok_buf bytes = {0};
    bool first = true;
    int status = 0;
    for (size_t i = 0; i < n && !status; i++) {
        int32_t id = ids[i];
        uint8_t type = t->vocab.type[id];
        if (type == TOK_PIECE_CONTROL)
            continue;
        if (type == TOK_PIECE_BYTE) {
            char b = (char)tok_parse_byte_piece(t->vocab.piece[id], t->vocab.len[id]);
            status = tok_buf_append(&bytes, &b, 1);
            first = false;
            continue;
        }
        status = flush_bytes(&bytes, out);
        const char *p = t->vocab.piece[id];
        size_t m = t->vocab.len[id];
        if (type == TOK_PIECE_UNKNOWN && t->unk_surface) {
            p = t->unk_surface;
            m = strlen(p);
        }
        tok_buf piece = {0};
        for (size_t j = 0; j < m && !status;) {
            if (m - j >= 3 && memcmp(p + j, "\xE2\x96\x81", 3) == 0) {
                status = tok_buf_append(&piece, " ", 1);
                j += 3;
            } else {
                status = tok_buf_append(&piece, p + j, 1);
                j++;
            }
        }
        size_t skip = first && t->add_dummy_prefix && piece.len && piece.data[0] == ' ' ? 1 : 0;
        if (!status && piece.len > skip)
            status = tok_buf_append(out, piece.data + skip, piece.len - skip);
        tok_buf_free(&piece);
        first = false;
    }
    if (!status)
        status = flush_bytes(&bytes, out);
    tok_buf_free(&bytes);
    return status;
}

static int decode_hf(const tokenizer *t, const int32_t *ids, size_t n, tok_buf *out,
                     lrc_error *err) {
    tok_pieces tokens = {0};
    int status = 0;
    for (size_t i = 0; i < n && !status; i++)
        status = tok_pieces_add(&tokens, t->vocab.piece[ids[i]], t->vocab.len[ids[i]]);
    if (status) {
        tok_pieces_free(&tokens);
        return lrc_errorf(err, "tokenizer: out of memory while decoding");
    }
    if (t->decoder && tok_decode_steps(t->decoder, &tokens, err)) {
        tok_pieces_free(&tokens);
        return -1;
    }
    for (size_t i = 0; i < tokens.n && !status; i++) {
        if (!t->decoder && i > 0) /* no decoder: Rust joins the tokens with spaces */
            status = tok_buf_append(out, " ", 1);
        if (!status)
            status = tok_buf_append(out, TOK_PIECE(&tokens, i), tokens.len[i]);
    }
    tok_pieces_free(&tokens);
    return status ? lrc_errorf(err, "tokenizer: out of memory while decoding") : 0;
}

/* Decode into out (raw result, appended). */
static int decode_into(const tokenizer *t, const int32_t *ids, size_t n, tok_buf *out,
                       lrc_error *err) {
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= t->vocab.n || !t->vocab.piece[ids[i]])
            return lrc_errorf(err,
                              "token id %d (position %zu) is outside the vocabulary of %d "
                              "ids",
                              ids[i], i, t->vocab.n);
    if (t->kind == TOKENIZER_SPM || t->kind == TOKENIZER_LLAMA2C)
        return decode_spm(t, ids, n, out) ? lrc_errorf(err, "tokenizer: out of memory while "
                                                            "decoding")
                                          : 0;
    return decode_hf(t, ids, n, out, err);
}

int tokenizer_decode(const tokenizer *t, const int32_t *ids, size_t n, char **text, size_t *len,
                     lrc_error *err) {
    tok_buf out = {0};
    if (tok_buf_reserve(&out, 0))
        return lrc_errorf(err, "tokenizer: out of memory while decoding");
    out.data[0] = '\0';
    if (decode_into(t, ids, n, &out, err)) {
        tok_buf_free(&out);
        return -1;
    }
    *text = out.data;
    *len = out.len;
    return 0;
}

/* ---- streaming decode ---------------------------------------------------- */

/* The stream keeps the ids since the last emitted boundary plus the ids before it that give
 * context (prefix), decodes both spans and emits the difference once it is complete text. */
struct tokenizer_stream {
    const tokenizer *t;
    tok_ids ids;
    size_t prefix; /* ids[prefix..read) were already emitted and give context */
    size_t read;   /* ids[read..] are not emitted yet */
};

tokenizer_stream *tokenizer_stream_new(const tokenizer *t) {
    tokenizer_stream *s = calloc(1, sizeof *s);
    if (s)
        s->t = t;
    return s;
}

void tokenizer_stream_free(tokenizer_stream *s) {
    if (!s)
        return;
    free(s->ids.v);
    free(s);
}

/* True when s ends with an incomplete UTF-8 sequence or with U+FFFD (which a decoder writes
 * for bytes whose sequence may still complete). */
static bool ends_incomplete(const char *s, size_t n) {
    if (n >= 3 && memcmp(s + n - 3, "\xEF\xBF\xBD", 3) == 0)
        return true;
    size_t i = n;
    while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0 || n - i >= 4)
        return false;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return need > n - i + 1;
}

int tokenizer_stream_push(tokenizer_stream *s, int32_t id, char **out, lrc_error *err) {
    size_t len;
    return tokenizer_stream_push_len(s, id, out, &len, err);
}

int tokenizer_stream_push_len(tokenizer_stream *s, int32_t id, char **out, size_t *len,
                              lrc_error *err) {
    *out = NULL;
    *len = 0;
    if (id < 0 || id >= s->t->vocab.n || !s->t->vocab.piece[id])
        return lrc_errorf(err, "token id %d is outside the vocabulary of %d ids", id,
                          s->t->vocab.n);
    if (tok_ids_push(&s->ids, id))
        return lrc_errorf(err, "tokenizer: out of memory while decoding");

    tok_buf before = {0}, all = {0};
    int status = -1;
    if (tok_buf_reserve(&before, 0) || tok_buf_reserve(&all, 0)) {
        lrc_errorf(err, "tokenizer: out of memory while decoding");
        goto done;
    }
    if (decode_into(s->t, s->ids.v + s->prefix, s->read - s->prefix, &before, err) ||
        decode_into(s->t, s->ids.v + s->prefix, s->ids.n - s->prefix, &all, err))
        goto done;

    tok_buf fresh = {0};
    if (tok_buf_reserve(&fresh, 0)) {
        lrc_errorf(err, "tokenizer: out of memory while decoding");
        goto done;
    }
    fresh.data[0] = '\0';
    if (all.len > before.len && memcmp(all.data, before.data, before.len) == 0 &&
        !ends_incomplete(all.data, all.len)) {
        if (tok_buf_append(&fresh, all.data + before.len, all.len - before.len)) {
            tok_buf_free(&fresh);
            lrc_errorf(err, "tokenizer: out of memory while decoding");
            goto done;
        }
        /* Keep the last emitted id as context and drop older ones. */
        s->prefix = s->read;
        s->read = s->ids.n;
        if (s->prefix > 0) {
            size_t drop = s->prefix;
            memmove(s->ids.v, s->ids.v + drop, (s->ids.n - drop) * sizeof *s->ids.v);
            s->ids.n -= drop;
            s->prefix -= drop;
            s->read -= drop;
        }
    }
    *out = fresh.data;
    *len = fresh.len;
    status = 0;
done:
    tok_buf_free(&before);
    tok_buf_free(&all);
    return status;
}
