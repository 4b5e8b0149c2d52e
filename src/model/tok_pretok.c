/*
 * Normalizers and pre-tokenizers of the Hugging Face pipeline, applied to
 * byte strings. A normalizer rewrites one segment of text (the text between
 * two added tokens). A pre-tokenizer turns a list of pieces into a finer
 * list, and BPE later runs on each piece alone. Splitting follows Rust `tokenizers`:
 * a pattern yields spans marked "match" or "gap", `invert` swaps the marks, and
 * the behaviour decides which spans stay and which merge with a neighbour.
 * Unicode data comes from libunistring (normal forms, case, White_Space, the
 * general category N that Rust's char::is_numeric tests).
 */
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>

#include "model/tok_internal.h"

static int oom(lrc_error *err) {
    return lrc_errorf(err, "tokenizer: out of memory while pre-tokenizing");
}

/* ---- normalizers ---------------------------------------------------------- */

int tok_replace_all(const tok_step *s, const char *in, size_t n, tok_buf *out, lrc_error *err) {
    size_t pos = 0;
    tok_match match = {0};
    int status = 0;
    while (pos <= n) {
        size_t ms, me;
        if (s->re) {
            int rc = tok_regex_next(s->re, &match, in, n, pos, &ms, &me, err);
            if (rc < 0) {
                status = -1;
                break;
            }
            if (rc == 0)
                break;
            if (me == ms) { /* an empty match replaces nothing; step over one character */
                if (ms >= n)
                    break;
                size_t k = tok_utf8_len(in + ms, n - ms);
                if (tok_buf_append(out, in + pos, ms + k - pos)) {
                    status = oom(err);
                    break;
                }
                pos = ms + k;
                continue;
            }
        } else {
            if (s->pattern_len == 0)
                break;
            const char *hit = NULL;
            for (size_t i = pos; i + s->pattern_len <= n; i++)
                if (memcmp(in + i, s->pattern, s->pattern_len) == 0) {
                    hit = in + i;
                    break;
                }
            if (!hit)
                break;
            ms = (size_t)(hit - in);
            me = ms + s->pattern_len;
        }
        if (tok_buf_append(out, in + pos, ms - pos) || tok_buf_append(out, s->text, s->text_len)) {
            status = oom(err);
            break;
        }
        pos = me;
    }
    tok_match_free(&match);
    if (status)
        return -1;
    if (pos < n && tok_buf_append(out, in + pos, n - pos))
        return oom(err);
    return 0;
}

static bool is_white_space(uint32_t c) {
    return uc_is_property_white_space(c);
}

int tok_normalize(const tok_step *s, const char *in, size_t n, tok_buf *out, lrc_error *err) {
    if (tok_buf_reserve(out, 0))
        return oom(err);
    out->data[out->len] = '\0';

    switch (s->kind) {
    case TOK_NORM_SEQUENCE: {
        tok_buf a = {0}, b = {0};
        if (tok_buf_append(&a, in, n)) {
            tok_buf_free(&a);
            return oom(err);
        }
        for (size_t i = 0; i < s->n_sub; i++) {
            b.len = 0;
            if (tok_normalize(&s->sub[i], a.data, a.len, &b, err)) {
                tok_buf_free(&a);
                tok_buf_free(&b);
                return -1;
            }
            tok_buf t = a;
            a = b;
            b = t;
        }
        int status = tok_buf_append(out, a.data, a.len) ? oom(err) : 0;
        tok_buf_free(&a);
        tok_buf_free(&b);
        return status;
    }
    case TOK_NORM_PREPEND:
        if (n && tok_buf_append(out, s->text, s->text_len))
            return oom(err);
        return tok_buf_append(out, in, n) ? oom(err) : 0;
    case TOK_NORM_REPLACE:
        return tok_replace_all(s, in, n, out, err);
    case TOK_NORM_NFC:
    case TOK_NORM_NFD:
    case TOK_NORM_NFKC:
    case TOK_NORM_NFKD:
    case TOK_NORM_LOWERCASE: {
        size_t m = 0;
        uint8_t *r;
        if (s->kind == TOK_NORM_LOWERCASE) {
            r = u8_tolower((const uint8_t *)in, n, NULL, NULL, NULL, &m);
        } else {
            uninorm_t nf = s->kind == TOK_NORM_NFC    ? UNINORM_NFC
                           : s->kind == TOK_NORM_NFD  ? UNINORM_NFD
                           : s->kind == TOK_NORM_NFKC ? UNINORM_NFKC
                                                      : UNINORM_NFKD;
            r = u8_normalize(nf, (const uint8_t *)in, n, NULL, &m);
        }
        if (!r && n)
            return lrc_errorf(err, "tokenizer: Unicode normalization failed");
        int status = tok_buf_append(out, r, m) ? oom(err) : 0;
        free(r);
        return status;
    }
    case TOK_NORM_STRIP: {
        size_t a = 0, b = n;
        uint32_t c;
        size_t k;
        while (s->strip_left && a < b && (k = tok_utf8_decode(in + a, b - a, &c)) &&
               is_white_space(c))
            a += k;
        while (s->strip_right && b > a) {
            size_t j = b - 1;
            while (j > a && ((unsigned char)in[j] & 0xC0) == 0x80)
                j--;
            if (!tok_utf8_decode(in + j, b - j, &c) || !is_white_space(c))
                break;
            b = j;
        }
        return tok_buf_append(out, in + a, b - a) ? oom(err) : 0;
    }
    default:
        return lrc_errorf(err, "tokenizer: step %d is not a normalizer", (int)s->kind);
    }
}

/* ---- splitting ------------------------------------------------------------ */

typedef struct span {
    size_t a, b;
    bool match;
} span;

typedef struct spans {
    span *v;
    size_t n, cap;
} spans;

static int spans_add(spans *s, size_t a, size_t b, bool match) {
    if (a == b)
        return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        span *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (span){a, b, match};
    return 0;
}

/* Spans of a regex over s: each match, and the gaps between them. */
static int regex_spans(const tok_regex *re, const char *s, size_t n, spans *out, lrc_error *err) {
    size_t pos = 0, from = 0;
    tok_match match = {0};
    int status = 0;
    while (from < n) {
        size_t ms, me;
        int rc = tok_regex_next(re, &match, s, n, from, &ms, &me, err);
        if (rc <= 0) {
            status = rc;
            break;
        }
        if (me == ms) { /* an empty match splits nothing */
            from = ms + tok_utf8_len(s + ms, n - ms);
            continue;
        }
        if (spans_add(out, pos, ms, false) || spans_add(out, ms, me, true)) {
            status = oom(err);
            break;
        }
        pos = from = me;
    }
    tok_match_free(&match);
    if (status)
        return -1;
    return spans_add(out, pos, n, false) ? oom(err) : 0;
}

/* Spans of a literal string over s. */
static int string_spans(const char *pat, size_t m, const char *s, size_t n, spans *out) {
    size_t pos = 0;
    for (size_t i = 0; m && i + m <= n;) {
        if (memcmp(s + i, pat, m) == 0) {
            if (spans_add(out, pos, i, false) || spans_add(out, i, i + m, true))
                return -1;
            i += m;
            pos = i;
        } else {
            i++;
        }
    }
    return spans_add(out, pos, n, false);
}

/* Spans with every numeric character (general category N) as its own match. */
static int numeric_spans(const char *s, size_t n, spans *out) {
    size_t pos = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t k = tok_utf8_decode(s + i, n - i, &c);
        if (!k)
            k = 1, c = 0xFFFD;
        if (uc_is_general_category(c, UC_CATEGORY_N)) {
            if (spans_add(out, pos, i, false) || spans_add(out, i, i + k, true))
                return -1;
            pos = i + k;
        }
        i += k;
    }
    return spans_add(out, pos, n, false);
}

/* Emit the pieces of s that the behaviour keeps, as Rust's NormalizedString::split does. */
static int emit_spans(const char *s, spans *sp, tok_split_behavior behavior, bool invert,
                      tok_pieces *out) {
    if (invert)
        for (size_t i = 0; i < sp->n; i++)
            sp->v[i].match = !sp->v[i].match;

    size_t k = 0; /* spans kept, rewritten in place */
    switch (behavior) {
    case TOK_SPLIT_REMOVED:
        for (size_t i = 0; i < sp->n; i++)
            if (!sp->v[i].match)
                sp->v[k++] = sp->v[i];
        break;
    case TOK_SPLIT_ISOLATED:
        k = sp->n;
        break;
    case TOK_SPLIT_MERGED_WITH_PREVIOUS: {
        bool prev_match = false;
        for (size_t i = 0; i < sp->n; i++) {
            span cur = sp->v[i];
            if (cur.match && !prev_match && k > 0)
                sp->v[k - 1].b = cur.b;
            else
                sp->v[k++] = cur;
            prev_match = cur.match;
        }
        break;
    }
    case TOK_SPLIT_MERGED_WITH_NEXT: {
        /* Walk backwards, then the kept spans sit at the end in reverse order. */
        bool next_match = false;
        size_t top = sp->n; /* kept spans occupy [top, n) in reverse */
        for (size_t i = sp->n; i-- > 0;) {
            span cur = sp->v[i];
            if (cur.match && !next_match && top < sp->n)
                sp->v[top].a = cur.a;
            else
                sp->v[--top] = cur;
            next_match = cur.match;
        }
        for (size_t i = top; i < sp->n; i++)
            sp->v[k++] = sp->v[i];
        break;
    }
    case TOK_SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < sp->n; i++) {
            if (k > 0 && sp->v[k - 1].match == sp->v[i].match)
                sp->v[k - 1].b = sp->v[i].b;
            else
                sp->v[k++] = sp->v[i];
        }
        break;
    }

    for (size_t i = 0; i < k; i++)
        if (sp->v[i].b > sp->v[i].a && tok_pieces_add(out, s + sp->v[i].a, sp->v[i].b - sp->v[i].a))
            return -1;
    return 0;
}

/* ---- pre-tokenizers ------------------------------------------------------- */

static int map_bytelevel(const char *s, size_t n, tok_pieces *out) {
    if (tok_pieces_begin(out))
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c[2];
        size_t k = tok_bytelevel_char((uint8_t)s[i], c);
        if (tok_buf_append(&out->text, c, k))
            return -1;
    }
    tok_pieces_end(out);
    return 0;
}

/* Apply one non-Sequence pre-tokenizer to piece i of in, appending to out. */
static int pre_tokenize_piece(const tok_step *s, const tok_regex *gpt2_re, const char *p, size_t n,
                              bool first, tok_pieces *out, lrc_error *err) {
    spans sp = {0};
    int status = 0;
    tok_buf tmp = {0};

    switch (s->kind) {
    case TOK_PRE_SPLIT:
    case TOK_PRE_WHITESPACE:
    case TOK_PRE_WHITESPACE_SPLIT:
        if (s->re)
            status = regex_spans(s->re, p, n, &sp, err);
        else if (string_spans(s->pattern, s->pattern_len, p, n, &sp))
            status = oom(err);
        if (!status && emit_spans(p, &sp, s->behavior, s->invert, out))
            status = oom(err);
        break;

    case TOK_PRE_DIGITS:
        if (numeric_spans(p, n, &sp) ||
            emit_spans(p, &sp, s->individual_digits ? TOK_SPLIT_ISOLATED : TOK_SPLIT_CONTIGUOUS,
                       false, out))
            status = oom(err);
        break;

    case TOK_PRE_BYTELEVEL: {
        if (s->add_prefix_space && (n == 0 || p[0] != ' ')) {
            if (tok_buf_append(&tmp, " ", 1) || tok_buf_append(&tmp, p, n)) {
                status = oom(err);
                break;
            }
            p = tmp.data;
            n = tmp.len;
        }
        if (s->use_regex) {
            status = regex_spans(gpt2_re, p, n, &sp, err);
            for (size_t i = 0; !status && i < sp.n; i++)
                if (map_bytelevel(p + sp.v[i].a, sp.v[i].b - sp.v[i].a, out))
                    status = oom(err);
        } else if (n && map_bytelevel(p, n, out)) {
            status = oom(err);
        }
        break;
    }

    case TOK_PRE_METASPACE: {
        /* Spaces become the replacement; then the replacement is prepended per scheme. */
        tok_buf rep = {0};
        for (size_t i = 0; i < n && !status; i++) {
            int r = p[i] == ' ' ? tok_buf_append(&rep, s->text, s->text_len)
                                : tok_buf_append(&rep, p + i, 1);
            if (r)
                status = oom(err);
        }
        bool starts = rep.len >= s->text_len && memcmp(rep.data, s->text, s->text_len) == 0;
        bool prepend = !starts && (s->scheme == TOK_PREPEND_ALWAYS ||
                                   (s->scheme == TOK_PREPEND_FIRST && first));
        if (!status && prepend &&
            (tok_buf_append(&tmp, s->text, s->text_len) || tok_buf_append(&tmp, rep.data, rep.len)))
            status = oom(err);
        if (!status && !prepend && tok_buf_append(&tmp, rep.data, rep.len))
            status = oom(err);
        tok_buf_free(&rep);
        if (status)
            break;
        if (s->split) {
            if (string_spans(s->text, s->text_len, tmp.data, tmp.len, &sp) ||
                emit_spans(tmp.data, &sp, TOK_SPLIT_MERGED_WITH_NEXT, false, out))
                status = oom(err);
        } else if (tmp.len && tok_pieces_add(out, tmp.data, tmp.len)) {
            status = oom(err);
        }
        break;
    }

    default:
        status = lrc_errorf(err, "tokenizer: step %d is not a pre-tokenizer", (int)s->kind);
    }
    free(sp.v);
    tok_buf_free(&tmp);
    return status;
}

int tok_pre_tokenize(const tok_step *s, const tok_regex *gpt2_re, tok_pieces *p, bool seg_at_start,
                     lrc_error *err) {
    if (s->kind == TOK_PRE_SEQUENCE) {
        for (size_t i = 0; i < s->n_sub; i++)
            if (tok_pre_tokenize(&s->sub[i], gpt2_re, p, seg_at_start, err))
                return -1;
        return 0;
    }

    tok_pieces out = {0};
    for (size_t i = 0; i < p->n; i++) {
        if (pre_tokenize_piece(s, gpt2_re, TOK_PIECE(p, i), p->len[i], seg_at_start && i == 0, &out,
                               err)) {
            tok_pieces_free(&out);
            return -1;
        }
    }
    tok_pieces_free(p);
    *p = out;
    return 0;
}
