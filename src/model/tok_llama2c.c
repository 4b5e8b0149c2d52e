/*
 * llama2.c tokenizer.bin: int32 max_token_length, then for every token a
 * float32 score, an int32 byte length and the bytes (little-endian; U+2581
 * already written as ' ', BOS/EOS as "\n<s>\n" and "\n</s>\n"). The file does
 * not store the vocabulary size; it is the number of entries up to EOF.
 * Encoding follows llama2.c's algorithm. It stops at the first NUL, starts
 * with the " " piece as dummy prefix, and looks up each whole code point,
 * writing the bytes of a missing one as ids byte + 3. Then it merges the
 * highest-scoring adjacent pair (leftmost on ties) while any pair
 * concatenates to a piece.
 */
#include <stdlib.h>
#include <string.h>

#include "model/tok_internal.h"

static uint32_t read_u32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int tok_load_llama2c(tokenizer *t, const char *path, lrc_error *err) {
    char *data;
    size_t len;
    if (tok_read_file(path, &data, &len, err))
        return -1;
    const unsigned char *p = (const unsigned char *)data;
    int status = -1;

    if (len < 4) {
        lrc_errorf(err,
                   "%s: offset 0: file is %zu bytes, too short for the int32 "
                   "max_token_length header",
                   path, len);
        goto done;
    }
    int32_t max_len = (int32_t)read_u32(p);
    if (max_len <= 0 || max_len > 65536) {
        lrc_errorf(err,
                   "%s: offset 0: max_token_length is %d, expected 1..65536; not a "
                   "llama2.c tokenizer.bin",
                   path, max_len);
        goto done;
    }

    /* Count the entries and check each one fits before storing any. */
    int32_t n = 0;
    for (size_t off = 4; off < len; n++) {
        if (len - off < 8) {
            lrc_errorf(err,
                       "%s: offset %zu: entry %d is truncated (needs 8 header bytes, %zu "
                       "remain); the file is cut short",
                       path, off, n, len - off);
            goto done;
        }
        int32_t m = (int32_t)read_u32(p + off + 4);
        if (m < 0 || m > max_len) {
            lrc_errorf(err,
                       "%s: offset %zu: entry %d has length %d, expected 0..%d "
                       "(max_token_length)",
                       path, off + 4, n, m, max_len);
            goto done;
        }
        if (len - off - 8 < (size_t)m) {
            lrc_errorf(err,
                       "%s: offset %zu: entry %d needs %d bytes but %zu remain; the file is "
                       "cut short",
                       path, off + 8, n, m, len - off - 8);
            goto done;
        }
        off += 8 + (size_t)m;
    }
    if (n < 3 + 256) {
        lrc_errorf(err, "%s: %d entries, expected at least 259 (unk, BOS, EOS and 256 bytes)", path,
                   n);
        goto done;
    }
    if (tok_vocab_init(&t->vocab, n))
        goto oom;
    size_t off = 4;
    for (int32_t id = 0; id < n; id++) {
        uint32_t bits = read_u32(p + off);
        uint32_t m = read_u32(p + off + 4);
        const char *s = data + off + 8;
        float score;
        memcpy(&score, &bits, sizeof score);
        if (tok_vocab_set(&t->vocab, id, s, m, true))
            goto oom;
        t->vocab.score[id] = score;
        t->vocab.type[id] = tok_parse_byte_piece(s, m) >= 0 ? TOK_PIECE_BYTE : TOK_PIECE_NORMAL;
        off += 8 + m;
    }
    /* llama2.c fixes these ids: 0 <unk>, 1 BOS, 2 EOS, 3..258 the bytes 0x00..0xFF. */
    t->vocab.type[0] = TOK_PIECE_UNKNOWN;
    t->vocab.type[1] = TOK_PIECE_CONTROL;
    t->vocab.type[2] = TOK_PIECE_CONTROL;
    t->unk_id = 0;
    t->bos_id = 1;
    t->eos_id = 2;
    t->add_dummy_prefix = true;
    for (int b = 0; b < 256; b++)
        t->byte_id[b] = b + 3;
    if (tok_merges_from_scores(&t->merges, &t->vocab, NULL))
        goto oom;
    status = 0;
    goto done;
oom:
    lrc_errorf(err, "%s: out of memory while loading", path);
done:
    free(data);
    return status;
}

int tok_encode_llama2c(const tokenizer *t, const char *text, size_t len, bool add_special,
                       int32_t **ids, size_t *n_ids, lrc_error *err) {
    const char *nul = memchr(text, '\0', len);
    if (nul)
        len = (size_t)(nul - text); /* C strings end at NUL, as in llama2.c */

    tok_ids out = {0};
    if (add_special && tok_ids_push(&out, t->bos_id))
        goto oom;
    if (len == 0)
        goto finish;

    size_t start = out.n;
    int32_t dummy = tok_vocab_find(&t->vocab, " ", 1);
    if (dummy >= 0 && tok_ids_push(&out, dummy))
        goto oom;
    for (size_t i = 0; i < len;) {
        /* A code point: a byte and the continuation bytes after it, at most 4 in all. */
        size_t k = 1;
        while (i + k < len && k < 4 && ((unsigned char)text[i + k] & 0xC0) == 0x80)
            k++;
        int32_t id = tok_vocab_find(&t->vocab, text + i, k);
        if (id >= 0) {
            if (tok_ids_push(&out, id))
                goto oom;
        } else {
            for (size_t j = 0; j < k; j++)
                if (tok_ids_push(&out, t->byte_id[(unsigned char)text[i + j]]))
                    goto oom;
        }
        i += k;
    }
    size_t n = out.n - start;
    if (tok_bpe_merge(&t->merges, out.v + start, &n, err)) {
        free(out.v);
        return -1;
    }
    out.n = start + n;

finish:
    *ids = out.v;
    *n_ids = out.n;
    return 0;
oom:
    free(out.v);
    return lrc_errorf(err, "tokenizer: out of memory while encoding");
}
