/*
 * Loading of a Hugging Face tokenizer.json (model type BPE) with cJSON into
 * the shared tokenizer shape. model.vocab and model.merges (written as "a b"
 * strings or ["a", "b"] pairs) become the vocabulary and the merge table.
 * added_tokens become the list matched in raw text, and normalizer,
 * pre_tokenizer, decoder and post_processor become the pipelines. Anything this reader does not
 * implement is rejected with its key path rather than silently ignored.
 * BOS/EOS come from tokenizer_config.json beside the file when it exists.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/tok_internal.h"

/* ---- small cJSON helpers -------------------------------------------------- */

typedef struct ctx {
    const char *path;
    lrc_error *err;
} ctx;

static int fail(const ctx *c, const char *key, const char *what) {
    return lrc_errorf(c->err, "%s: %s: %s", c->path, key, what);
}

static int oom(const ctx *c) {
    return lrc_errorf(c->err, "%s: out of memory while loading", c->path);
}

static const cJSON *get(const cJSON *o, const char *k) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static bool get_bool(const cJSON *o, const char *k, bool dflt) {
    const cJSON *v = get(o, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

static int dup_string(const ctx *c, const cJSON *v, const char *key, char **out, size_t *len) {
    if (!cJSON_IsString(v))
        return fail(c, key, "expected a string");
    size_t n = strlen(v->valuestring);
    *out = malloc(n + 1);
    if (!*out)
        return oom(c);
    memcpy(*out, v->valuestring, n + 1);
    *len = n;
    return 0;
}

/* {"String": "..."} or {"Regex": "..."} into s->pattern or s->re. */
static int read_pattern(const ctx *c, const cJSON *pat, const char *key, tok_step *s) {
    const cJSON *str = get(pat, "String"), *re = get(pat, "Regex");
    if (cJSON_IsString(str))
        return dup_string(c, str, key, &s->pattern, &s->pattern_len);
    if (!cJSON_IsString(re))
        return fail(c, key, "expected {\"String\": ...} or {\"Regex\": ...}");
    s->re = tok_regex_compile(re->valuestring, strlen(re->valuestring), c->err);
    if (!s->re)
        return lrc_error_prefix(c->err, "%s: %s", c->path, key);
    return 0;
}

static const char *type_of(const cJSON *o) {
    const cJSON *t = get(o, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* Read array items[] of o into s->sub with reader. */
static int read_sequence(const ctx *c, const cJSON *arr, const char *key, tok_step *s,
                         int (*reader)(const ctx *, const cJSON *, const char *, tok_step *)) {
    if (!cJSON_IsArray(arr))
        return fail(c, key, "expected an array");
    int n = cJSON_GetArraySize(arr);
    s->sub = calloc(n ? (size_t)n : 1, sizeof *s->sub);
    if (!s->sub)
        return oom(c);
    for (int i = 0; i < n; i++) {
        char sub_key[256];
        snprintf(sub_key, sizeof sub_key, "%s[%d]", key, i);
        s->n_sub = (size_t)i + 1;
        if (reader(c, cJSON_GetArrayItem(arr, i), sub_key, &s->sub[i]))
            return -1;
    }
    return 0;
}

static int unsupported(const ctx *c, const char *key, const char *type, const char *what) {
    char msg[300];
    snprintf(msg, sizeof msg, "%s type '%s' is not supported; lrc reads %s", what,
             type ? type : "(missing)",
             "BPE tokenizers of the GPT-2, Llama and SentencePiece "
             "families");
    return fail(c, key, msg);
}

/* ---- normalizer ----------------------------------------------------------- */

static int read_normalizer(const ctx *c, const cJSON *o, const char *key, tok_step *s) {
    const char *type = type_of(o);
    char k[300];
    if (!type)
        return fail(c, key, "expected an object with a \"type\"");
    if (strcmp(type, "Sequence") == 0) {
        s->kind = TOK_NORM_SEQUENCE;
        snprintf(k, sizeof k, "%s.normalizers", key);
        return read_sequence(c, get(o, "normalizers"), k, s, read_normalizer);
    }
    if (strcmp(type, "Prepend") == 0) {
        s->kind = TOK_NORM_PREPEND;
        snprintf(k, sizeof k, "%s.prepend", key);
        return dup_string(c, get(o, "prepend"), k, &s->text, &s->text_len);
    }
    if (strcmp(type, "Replace") == 0) {
        s->kind = TOK_NORM_REPLACE;
        snprintf(k, sizeof k, "%s.content", key);
        if (dup_string(c, get(o, "content"), k, &s->text, &s->text_len))
            return -1;
        snprintf(k, sizeof k, "%s.pattern", key);
        return read_pattern(c, get(o, "pattern"), k, s);
    }
    static const struct {
        const char *name;
        tok_step_kind kind;
    } simple[] = {{"NFC", TOK_NORM_NFC},
                  {"NFD", TOK_NORM_NFD},
                  {"NFKC", TOK_NORM_NFKC},
                  {"NFKD", TOK_NORM_NFKD},
                  {"Lowercase", TOK_NORM_LOWERCASE}};
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(type, simple[i].name) == 0) {
            s->kind = simple[i].kind;
            return 0;
        }
    if (strcmp(type, "Strip") == 0) {
        s->kind = TOK_NORM_STRIP;
        s->strip_left = get_bool(o, "strip_left", true);
        s->strip_right = get_bool(o, "strip_right", true);
        return 0;
    }
    return unsupported(c, key, type, "normalizer");
}

/* ---- pre-tokenizer -------------------------------------------------------- */

static int read_behavior(const ctx *c, const cJSON *v, const char *key, tok_split_behavior *b) {
    static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                  "Contiguous"};
    if (cJSON_IsString(v))
        for (int i = 0; i < 5; i++)
            if (strcmp(v->valuestring, names[i]) == 0) {
                *b = (tok_split_behavior)i;
                return 0;
            }
    return fail(c, key,
                "expected one of Removed, Isolated, MergedWithPrevious, MergedWithNext, "
                "Contiguous");
}

static int read_prepend_scheme(const ctx *c, const cJSON *o, const char *key, tok_step *s) {
    const cJSON *scheme = get(o, "prepend_scheme");
    if (!scheme || cJSON_IsNull(scheme)) {
        s->scheme = get_bool(o, "add_prefix_space", true) ? TOK_PREPEND_ALWAYS : TOK_PREPEND_NEVER;
        return 0;
    }
    if (cJSON_IsString(scheme)) {
        if (strcmp(scheme->valuestring, "always") == 0)
            s->scheme = TOK_PREPEND_ALWAYS;
        else if (strcmp(scheme->valuestring, "first") == 0)
            s->scheme = TOK_PREPEND_FIRST;
        else if (strcmp(scheme->valuestring, "never") == 0)
            s->scheme = TOK_PREPEND_NEVER;
        else
            scheme = NULL;
    }
    if (!scheme) {
        char k[300];
        snprintf(k, sizeof k, "%s.prepend_scheme", key);
        return fail(c, k, "expected \"always\", \"first\" or \"never\"");
    }
    return 0;
}

static int read_metaspace(const ctx *c, const cJSON *o, const char *key, tok_step *s) {
    char k[300];
    snprintf(k, sizeof k, "%s.replacement", key);
    const cJSON *rep = get(o, "replacement");
    if (rep) {
        if (dup_string(c, rep, k, &s->text, &s->text_len))
            return -1;
    } else {
        s->text = tok_strndup("\xE2\x96\x81", 3);
        if (!s->text)
            return oom(c);
        s->text_len = 3;
    }
    s->split = get_bool(o, "split", true);
    return read_prepend_scheme(c, o, key, s);
}

static int read_pre_tokenizer(const ctx *c, const cJSON *o, const char *key, tok_step *s) {
    const char *type = type_of(o);
    char k[300];
    if (!type)
        return fail(c, key, "expected an object with a \"type\"");
    if (strcmp(type, "Sequence") == 0) {
        s->kind = TOK_PRE_SEQUENCE;
        snprintf(k, sizeof k, "%s.pretokenizers", key);
        return read_sequence(c, get(o, "pretokenizers"), k, s, read_pre_tokenizer);
    }
    if (strcmp(type, "Split") == 0) {
        s->kind = TOK_PRE_SPLIT;
        s->invert = get_bool(o, "invert", false);
        snprintf(k, sizeof k, "%s.behavior", key);
        if (read_behavior(c, get(o, "behavior"), k, &s->behavior))
            return -1;
        snprintf(k, sizeof k, "%s.pattern", key);
        return read_pattern(c, get(o, "pattern"), k, s);
    }
    if (strcmp(type, "Digits") == 0) {
        s->kind = TOK_PRE_DIGITS;
        s->individual_digits = get_bool(o, "individual_digits", false);
        return 0;
    }
    if (strcmp(type, "ByteLevel") == 0) {
        s->kind = TOK_PRE_BYTELEVEL;
        s->add_prefix_space = get_bool(o, "add_prefix_space", true);
        s->use_regex = get_bool(o, "use_regex", true);
        return 0;
    }
    if (strcmp(type, "Metaspace") == 0) {
        s->kind = TOK_PRE_METASPACE;
        return read_metaspace(c, o, key, s);
    }
    if (strcmp(type, "Whitespace") == 0 || strcmp(type, "WhitespaceSplit") == 0) {
        /* Whitespace keeps the matches of \w+|[^\w\s]+; WhitespaceSplit drops \s+ runs. */
        bool keep_words = strcmp(type, "Whitespace") == 0;
        s->kind = keep_words ? TOK_PRE_WHITESPACE : TOK_PRE_WHITESPACE_SPLIT;
        const char *pat = keep_words ? "\\w+|[^\\w\\s]+" : "\\s+";
        s->re = tok_regex_compile(pat, strlen(pat), c->err);
        if (!s->re)
            return lrc_error_prefix(c->err, "%s: %s", c->path, key);
        s->behavior = TOK_SPLIT_REMOVED;
        s->invert = keep_words;
        return 0;
    }
    return unsupported(c, key, type, "pre-tokenizer");
}

/* ---- decoder -------------------------------------------------------------- */

static int read_decoder(const ctx *c, const cJSON *o, const char *key, tok_step *s) {
    const char *type = type_of(o);
    char k[300];
    if (!type)
        return fail(c, key, "expected an object with a \"type\"");
    if (strcmp(type, "Sequence") == 0) {
        s->kind = TOK_DEC_SEQUENCE;
        snprintf(k, sizeof k, "%s.decoders", key);
        return read_sequence(c, get(o, "decoders"), k, s, read_decoder);
    }
    if (strcmp(type, "ByteLevel") == 0) {
        s->kind = TOK_DEC_BYTELEVEL;
        return 0;
    }
    if (strcmp(type, "Replace") == 0) {
        s->kind = TOK_DEC_REPLACE;
        snprintf(k, sizeof k, "%s.content", key);
        if (dup_string(c, get(o, "content"), k, &s->text, &s->text_len))
            return -1;
        snprintf(k, sizeof k, "%s.pattern", key);
        return read_pattern(c, get(o, "pattern"), k, s);
    }
    if (strcmp(type, "ByteFallback") == 0) {
        s->kind = TOK_DEC_BYTEFALLBACK;
        return 0;
    }
    if (strcmp(type, "Fuse") == 0) {
        s->kind = TOK_DEC_FUSE;
        return 0;
    }
    if (strcmp(type, "Strip") == 0) {
        s->kind = TOK_DEC_STRIP;
        snprintf(k, sizeof k, "%s.content", key);
        if (dup_string(c, get(o, "content"), k, &s->text, &s->text_len))
            return -1;
        const cJSON *start = get(o, "start"), *stop = get(o, "stop");
        s->start = cJSON_IsNumber(start) ? start->valueint : 0;
        s->stop = cJSON_IsNumber(stop) ? stop->valueint : 0;
        return 0;
    }
    if (strcmp(type, "Metaspace") == 0) {
        s->kind = TOK_DEC_METASPACE;
        return read_metaspace(c, o, key, s);
    }
    return unsupported(c, key, type, "decoder");
}

/* ---- model ---------------------------------------------------------------- */

static int read_id(const ctx *c, const cJSON *v, const char *key, int32_t *id) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 16777216.0 ||
        v->valuedouble != (double)(int32_t)v->valuedouble)
        return fail(c, key, "expected a token id, an integer in [0, 16777216]");
    *id = (int32_t)v->valuedouble;
    return 0;
}

static int read_model(const ctx *c, tokenizer *t, const cJSON *model, const cJSON *added) {
    const char *type = type_of(model);
    const cJSON *vocab = get(model, "vocab"), *merges = get(model, "merges");
    if (!cJSON_IsObject(model))
        return fail(c, "model", "missing or not an object");
    if (type && strcmp(type, "BPE") != 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "is '%.60s', but only BPE models are supported", type);
        return fail(c, "model.type", msg);
    }
    if (!type && !merges)
        return fail(c, "model.type", "missing, and the model has no merges, so it is not BPE");
    if (!cJSON_IsObject(vocab))
        return fail(c, "model.vocab", "expected an object mapping pieces to ids");
    if (!cJSON_IsArray(merges))
        return fail(c, "model.merges", "expected an array of merges");
    const cJSON *cont = get(model, "continuing_subword_prefix"),
                *suffix = get(model, "end_of_word_suffix");
    if ((cont && !cJSON_IsNull(cont) && !(cJSON_IsString(cont) && !*cont->valuestring)) ||
        (suffix && !cJSON_IsNull(suffix) && !(cJSON_IsString(suffix) && !*suffix->valuestring)))
        return fail(c, "model.continuing_subword_prefix",
                    "subword prefixes and end-of-word suffixes are not supported");

    /* Size: the largest id of the vocabulary or of the added tokens. */
    int32_t max_id = -1;
    const cJSON *item;
    cJSON_ArrayForEach(item, vocab) {
        int32_t id;
        char key[300];
        snprintf(key, sizeof key, "model.vocab[\"%.200s\"]", item->string);
        if (read_id(c, item, key, &id))
            return -1;
        if (id > max_id)
            max_id = id;
    }
    int i = 0;
    cJSON_ArrayForEach(item, added) {
        int32_t id;
        char key[64];
        snprintf(key, sizeof key, "added_tokens[%d].id", i++);
        if (read_id(c, get(item, "id"), key, &id))
            return -1;
        if (id > max_id)
            max_id = id;
    }
    if (tok_vocab_init(&t->vocab, max_id + 1))
        return oom(c);
    cJSON_ArrayForEach(item, vocab) {
        if (tok_vocab_set(&t->vocab, (int32_t)item->valuedouble, item->string, strlen(item->string),
                          true))
            return oom(c);
    }

    /* Merges: rank = position in the list. */
    i = 0;
    cJSON_ArrayForEach(item, merges) {
        char key[64];
        snprintf(key, sizeof key, "model.merges[%d]", i);
        const char *a, *b;
        size_t na, nb;
        if (cJSON_IsString(item)) {
            const char *sp = strchr(item->valuestring, ' ');
            if (!sp)
                return fail(c, key, "expected \"left right\" with one space");
            a = item->valuestring;
            na = (size_t)(sp - a);
            b = sp + 1;
            nb = strlen(b);
        } else if (cJSON_IsArray(item) && cJSON_GetArraySize(item) == 2 &&
                   cJSON_IsString(cJSON_GetArrayItem(item, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(item, 1))) {
            a = cJSON_GetArrayItem(item, 0)->valuestring;
            b = cJSON_GetArrayItem(item, 1)->valuestring;
            na = strlen(a);
            nb = strlen(b);
        } else {
            return fail(c, key, "expected \"left right\" or [\"left\", \"right\"]");
        }
        int32_t left = tok_vocab_find(&t->vocab, a, na), right = tok_vocab_find(&t->vocab, b, nb);
        char joined[1024];
        if (na + nb > sizeof joined)
            return fail(c, key, "merged piece is longer than 1024 bytes");
        memcpy(joined, a, na);
        memcpy(joined + na, b, nb);
        int32_t merged = tok_vocab_find(&t->vocab, joined, na + nb);
        if (left < 0 || right < 0 || merged < 0)
            return fail(c, key,
                        "a piece of this merge, or their concatenation, is not in "
                        "model.vocab");
        if (tok_merges_add(&t->merges, left, right, merged, i))
            return oom(c);
        i++;
    }

    t->byte_fallback = get_bool(model, "byte_fallback", false);
    t->fuse_unk = get_bool(model, "fuse_unk", false);
    t->ignore_merges = get_bool(model, "ignore_merges", false);
    t->unk_id = -1;
    const cJSON *unk = get(model, "unk_token");
    if (cJSON_IsString(unk)) {
        t->unk_id = tok_vocab_find(&t->vocab, unk->valuestring, strlen(unk->valuestring));
        if (t->unk_id < 0)
            return fail(c, "model.unk_token", "names a piece that is not in model.vocab");
    }
    return 0;
}

static int by_length_desc(const void *a, const void *b) {
    size_t la = ((const tok_added *)a)->len, lb = ((const tok_added *)b)->len;
    return (la < lb) - (la > lb);
}

static int read_added(const ctx *c, tokenizer *t, const cJSON *added) {
    if (!added || cJSON_IsNull(added))
        return 0;
    if (!cJSON_IsArray(added))
        return fail(c, "added_tokens", "expected an array");
    int n = cJSON_GetArraySize(added);
    t->added = calloc(n ? (size_t)n : 1, sizeof *t->added);
    if (!t->added)
        return oom(c);
    for (int i = 0; i < n; i++) {
        const cJSON *o = cJSON_GetArrayItem(added, i);
        tok_added *a = &t->added[i];
        char key[64];
        snprintf(key, sizeof key, "added_tokens[%d].content", i);
        t->n_added = (size_t)i + 1;
        if (dup_string(c, get(o, "content"), key, &a->content, &a->len))
            return -1;
        if (a->len == 0)
            return fail(c, key, "an added token must not be empty");
        a->id = (int32_t)get(o, "id")->valuedouble; /* checked in read_model */
        a->special = get_bool(o, "special", false);
        a->lstrip = get_bool(o, "lstrip", false);
        a->rstrip = get_bool(o, "rstrip", false);
        a->single_word = get_bool(o, "single_word", false);
        a->normalized = get_bool(o, "normalized", false);
        if (!t->vocab.piece[a->id] && tok_vocab_set(&t->vocab, a->id, a->content, a->len, false))
            return oom(c);
        if (a->special)
            t->vocab.type[a->id] = TOK_PIECE_CONTROL;
        t->added_first_byte[(unsigned char)a->content[0]] = true;
    }
    qsort(t->added, t->n_added, sizeof *t->added, by_length_desc);
    return 0;
}

/* ---- post-processor ------------------------------------------------------- */

static int push_id(const ctx *c, int32_t **v, size_t *n, int32_t id) {
    int32_t *grown = realloc(*v, (*n + 1) * sizeof *grown);
    if (!grown)
        return oom(c);
    *v = grown;
    grown[(*n)++] = id;
    return 0;
}

static int append_ids(const ctx *c, int32_t **v, size_t *n, const cJSON *ids, const char *key,
                      const tokenizer *t) {
    if (!cJSON_IsArray(ids))
        return fail(c, key, "expected an array of ids");
    const cJSON *item;
    cJSON_ArrayForEach(item, ids) {
        int32_t id;
        if (read_id(c, item, key, &id))
            return -1;
        if (id >= t->vocab.n)
            return fail(c, key, "id is outside the vocabulary");
        if (push_id(c, v, n, id))
            return -1;
    }
    return 0;
}

static int read_post(const ctx *c, tokenizer *t, const cJSON *o, const char *key) {
    const char *type = type_of(o);
    char k[300];
    if (!o || cJSON_IsNull(o))
        return 0;
    if (!type)
        return fail(c, key, "expected an object with a \"type\"");
    if (strcmp(type, "ByteLevel") == 0)
        return 0; /* it only adjusts offsets */
    if (strcmp(type, "Sequence") == 0) {
        const cJSON *procs = get(o, "processors");
        if (!cJSON_IsArray(procs))
            return fail(c, key, "expected \"processors\" to be an array");
        for (int i = 0; i < cJSON_GetArraySize(procs); i++) {
            snprintf(k, sizeof k, "%s.processors[%d]", key, i);
            if (read_post(c, t, cJSON_GetArrayItem(procs, i), k))
                return -1;
        }
        return 0;
    }
    if (strcmp(type, "TemplateProcessing") == 0) {
        const cJSON *single = get(o, "single"), *specials = get(o, "special_tokens");
        snprintf(k, sizeof k, "%s.single", key);
        if (!cJSON_IsArray(single))
            return fail(c, k, "expected an array");
        bool seen_a = false;
        const cJSON *item;
        int i = 0;
        cJSON_ArrayForEach(item, single) {
            snprintf(k, sizeof k, "%s.single[%d]", key, i++);
            const cJSON *sp = get(item, "SpecialToken");
            if (get(item, "Sequence")) {
                seen_a = true;
                continue;
            }
            const cJSON *name = get(sp, "id");
            if (!cJSON_IsString(name))
                return fail(c, k,
                            "expected {\"Sequence\": ...} or {\"SpecialToken\": {\"id\": ...}}");
            const cJSON *entry = get(specials, name->valuestring);
            if (!entry)
                return fail(c, k, "names a special token missing from special_tokens");
            snprintf(k, sizeof k, "%s.special_tokens[\"%.100s\"].ids", key, name->valuestring);
            if (seen_a ? append_ids(c, &t->post_suffix, &t->n_post_suffix, get(entry, "ids"), k, t)
                       : append_ids(c, &t->post_prefix, &t->n_post_prefix, get(entry, "ids"), k, t))
                return -1;
        }
        return 0;
    }
    if (strcmp(type, "BertProcessing") == 0 || strcmp(type, "RobertaProcessing") == 0) {
        /* [CLS] A [SEP], each given as ["piece", id]. */
        const cJSON *cls = get(o, "cls"), *sep = get(o, "sep");
        snprintf(k, sizeof k, "%s.cls", key);
        if (!cJSON_IsArray(cls) || cJSON_GetArraySize(cls) != 2)
            return fail(c, k, "expected [\"piece\", id]");
        snprintf(k, sizeof k, "%s.sep", key);
        if (!cJSON_IsArray(sep) || cJSON_GetArraySize(sep) != 2)
            return fail(c, k, "expected [\"piece\", id]");
        int32_t cls_id, sep_id;
        if (read_id(c, cJSON_GetArrayItem(cls, 1), k, &cls_id) ||
            read_id(c, cJSON_GetArrayItem(sep, 1), k, &sep_id))
            return -1;
        if (cls_id >= t->vocab.n || sep_id >= t->vocab.n)
            return fail(c, key, "cls or sep id is outside the vocabulary");
        return push_id(c, &t->post_prefix, &t->n_post_prefix, cls_id) ||
               push_id(c, &t->post_suffix, &t->n_post_suffix, sep_id);
    }
    return unsupported(c, key, type, "post-processor");
}

/* ---- BOS/EOS from tokenizer_config.json ---------------------------------- */

static int32_t config_token(const tokenizer *t, const cJSON *cfg, const char *key) {
    const cJSON *v = get(cfg, key);
    if (cJSON_IsObject(v))
        v = get(v, "content");
    if (!cJSON_IsString(v))
        return -1;
    return tokenizer_token_id(t, v->valuestring);
}

static void read_special_ids(tokenizer *t, const char *json_path) {
    t->bos_id = t->n_post_prefix ? t->post_prefix[0] : -1;
    t->eos_id = -1;

    /* tokenizer_config.json in the same folder, when present and readable. */
    const char *slash = strrchr(json_path, '/');
    size_t dir_len = slash ? (size_t)(slash - json_path) + 1 : 0;
    char *cfg_path = malloc(dir_len + sizeof "tokenizer_config.json");
    if (!cfg_path)
        return;
    memcpy(cfg_path, json_path, dir_len);
    strcpy(cfg_path + dir_len, "tokenizer_config.json");
    char *data;
    size_t len;
    lrc_error ignored;
    if (tok_read_file(cfg_path, &data, &len, &ignored) == 0) {
        cJSON *cfg = cJSON_ParseWithLength(data, len);
        if (cfg) {
            int32_t bos = config_token(t, cfg, "bos_token"),
                    eos = config_token(t, cfg, "eos_token");
            if (bos >= 0)
                t->bos_id = bos;
            if (eos >= 0)
                t->eos_id = eos;
            cJSON_Delete(cfg);
        }
        free(data);
    }
    free(cfg_path);
}

/* ---- entry point ---------------------------------------------------------- */

/* Line and column (1-based) of byte offset off. */
static void line_col(const char *s, size_t off, size_t *line, size_t *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int tok_load_hf_json(tokenizer *t, const char *path, lrc_error *err) {
    ctx c = {path, err};
    char *data;
    size_t len;
    if (tok_read_file(path, &data, &len, err))
        return -1;

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (!root) {
        size_t off = end && end >= data ? (size_t)(end - data) : 0, line, col;
        line_col(data, off, &line, &col);
        free(data);
        return lrc_errorf(err,
                          "%s: invalid JSON at line %zu, column %zu (byte %zu); the file "
                          "is damaged or not a tokenizer.json",
                          path, line, col, off);
    }
    free(data);

    int status = -1;
    const cJSON *added = get(root, "added_tokens");
    if (!cJSON_IsObject(root)) {
        fail(&c, "(top level)", "expected a JSON object");
        goto done;
    }
    if (added && !cJSON_IsNull(added) && !cJSON_IsArray(added)) {
        fail(&c, "added_tokens", "expected an array");
        goto done;
    }
    if (read_model(&c, t, get(root, "model"), cJSON_IsArray(added) ? added : NULL) ||
        read_added(&c, t, added))
        goto done;

    static const struct {
        const char *key;
        int (*reader)(const ctx *, const cJSON *, const char *, tok_step *);
    } steps[] = {{"normalizer", read_normalizer},
                 {"pre_tokenizer", read_pre_tokenizer},
                 {"decoder", read_decoder}};
    tok_step **slots[] = {&t->normalizer, &t->pre_tokenizer, &t->decoder};
    for (int i = 0; i < 3; i++) {
        const cJSON *o = get(root, steps[i].key);
        if (!o || cJSON_IsNull(o))
            continue;
        *slots[i] = calloc(1, sizeof(tok_step));
        if (!*slots[i]) {
            oom(&c);
            goto done;
        }
        if (steps[i].reader(&c, o, steps[i].key, *slots[i]))
            goto done;
    }
    if (read_post(&c, t, get(root, "post_processor"), "post_processor"))
        goto done;

    /* Byte-fallback pieces, and the GPT-2 regex when a ByteLevel step splits with it. */
    for (int b = 0; b < 256; b++) {
        char piece[8];
        snprintf(piece, sizeof piece, "<0x%02X>", b);
        t->byte_id[b] = tok_vocab_find(&t->vocab, piece, 6);
    }
    t->gpt2_re = tok_regex_compile(tok_gpt2_pattern, strlen(tok_gpt2_pattern), err);
    if (!t->gpt2_re)
        goto done;

    read_special_ids(t, path);
    status = 0;
done:
    cJSON_Delete(root);
    return status;
}
