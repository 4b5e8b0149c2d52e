/*
 * Decoders of the Hugging Face pipeline. Each step maps a list of token
 * strings to a new list, as Rust `tokenizers` does in decode_chain; the caller
 * concatenates the final list. ByteLevel turns the GPT-2 alphabet back into
 * bytes (invalid UTF-8 becomes U+FFFD per maximal invalid subpart), and
 * ByteFallback turns runs of <0xXX> tokens into text (one U+FFFD per byte when
 * a run is not valid UTF-8).
 */
#include <stdlib.h>
#include <string.h>

#include "model/tok_internal.h"

static int oom(lrc_error *err) {
    return lrc_errorf(err, "tokenizer: out of memory while decoding");
}

/* Bytes of a token in the byte-level alphabet; a token with a character outside the
 * alphabet (an added token, say) is kept as it is. */
static int bytelevel_token(const char *s, size_t n, tok_buf *out) {
    size_t start = out->len;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t k = tok_utf8_decode(s + i, n - i, &c);
        int b = k ? tok_bytelevel_byte(c) : -1;
        if (b < 0) {
            out->len = start;
            return tok_buf_append(out, s, n);
        }
        char byte = (char)b;
        if (tok_buf_append(out, &byte, 1))
            return -1;
        i += k;
    }
    return 0;
}

static int flush_bytes(tok_buf *bytes, tok_pieces *out) {
    if (!bytes->len)
        return 0;
    int status;
    tok_buf probe = {0};
    if (tok_utf8_lossy(&probe, bytes->data, bytes->len)) {
        tok_buf_free(&probe);
        return -1;
    }
    bool valid = probe.len == bytes->len && memcmp(probe.data, bytes->data, bytes->len) == 0;
    tok_buf_free(&probe);
    if (valid) {
        status = tok_pieces_add(out, bytes->data, bytes->len);
    } else {
        status = tok_pieces_begin(out);
        for (size_t i = 0; i < bytes->len && !status; i++)
            status = tok_buf_append(&out->text, "\xEF\xBF\xBD", 3);
        if (!status)
            tok_pieces_end(out);
    }
    bytes->len = 0;
    return status;
}

/* Apply one non-Sequence decoder step to in, filling out. */
static int decode_step(const tok_step *s, const tok_pieces *in, tok_pieces *out, lrc_error *err) {
    switch (s->kind) {
    case TOK_DEC_BYTELEVEL: {
        tok_buf bytes = {0};
        int status = 0;
        for (size_t i = 0; i < in->n && !status; i++)
            status = bytelevel_token(TOK_PIECE(in, i), in->len[i], &bytes);
        if (!status && tok_pieces_begin(out))
            status = -1;
        if (!status && tok_utf8_lossy(&out->text, bytes.data, bytes.len))
            status = -1;
        if (!status)
            tok_pieces_end(out);
        tok_buf_free(&bytes);
        return status ? oom(err) : 0;
    }

    case TOK_DEC_REPLACE:
        for (size_t i = 0; i < in->n; i++) {
            if (tok_pieces_begin(out))
                return oom(err);
            if (tok_replace_all(s, TOK_PIECE(in, i), in->len[i], &out->text, err))
                return -1;
            tok_pieces_end(out);
        }
        return 0;

    case TOK_DEC_BYTEFALLBACK: {
        tok_buf bytes = {0};
        int status = 0;
        for (size_t i = 0; i < in->n && !status; i++) {
            int b = tok_parse_byte_piece(TOK_PIECE(in, i), in->len[i]);
            if (b >= 0) {
                char byte = (char)b;
                status = tok_buf_append(&bytes, &byte, 1);
            } else {
                status =
                    flush_bytes(&bytes, out) || tok_pieces_add(out, TOK_PIECE(in, i), in->len[i]);
            }
        }
        if (!status)
            status = flush_bytes(&bytes, out);
        tok_buf_free(&bytes);
        return status ? oom(err) : 0;
    }

    case TOK_DEC_FUSE:
        if (tok_pieces_begin(out) || tok_buf_append(&out->text, in->text.data, in->text.len))
            return oom(err);
        tok_pieces_end(out);
        return 0;

    case TOK_DEC_STRIP:
        for (size_t i = 0; i < in->n; i++) {
            const char *p = TOK_PIECE(in, i);
            size_t a = 0, b = in->len[i], m = s->text_len;
            for (int k = 0; k < s->start && m && b - a >= m && memcmp(p + a, s->text, m) == 0; k++)
                a += m;
            for (int k = 0; k < s->stop && m && b - a >= m && memcmp(p + b - m, s->text, m) == 0;
                 k++)
                b -= m;
            if (tok_pieces_add(out, p + a, b - a))
                return oom(err);
        }
        return 0;

    case TOK_DEC_METASPACE:
        /* The replacement becomes a space, except in the first token when a prefix was
         * prepended at encoding, where Rust drops it. */
        for (size_t i = 0; i < in->n; i++) {
            const char *p = TOK_PIECE(in, i);
            size_t n = in->len[i], m = s->text_len;
            bool drop = i == 0 && s->scheme != TOK_PREPEND_NEVER;
            if (tok_pieces_begin(out))
                return oom(err);
            for (size_t j = 0; j < n;) {
                int r = 0;
                if (m && n - j >= m && memcmp(p + j, s->text, m) == 0) {
                    if (!drop)
                        r = tok_buf_append(&out->text, " ", 1);
                    j += m;
                } else {
                    r = tok_buf_append(&out->text, p + j, 1);
                    j++;
                }
                if (r)
                    return oom(err);
            }
            tok_pieces_end(out);
        }
        return 0;

    default:
        return lrc_errorf(err, "tokenizer: step %d is not a decoder", (int)s->kind);
    }
}

int tok_decode_steps(const tok_step *s, tok_pieces *tokens, lrc_error *err) {
    if (s->kind == TOK_DEC_SEQUENCE) {
        for (size_t i = 0; i < s->n_sub; i++)
            if (tok_decode_steps(&s->sub[i], tokens, err))
                return -1;
        return 0;
    }
    tok_pieces out = {0};
    if (decode_step(s, tokens, &out, err)) {
        tok_pieces_free(&out);
        return -1;
    }
    tok_pieces_free(tokens);
    *tokens = out;
    return 0;
}
