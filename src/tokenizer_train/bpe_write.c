/*
 * Writing a trained tokenizer as two Hugging Face files. tokenizer.json has
 * model BPE over the byte-level alphabet, the special tokens as added tokens,
 * no normalizer, pre-tokenizer Sequence[Digits(individual_digits), ByteLevel],
 * and a ByteLevel post-processor and decoder. tokenizer_config.json beside it
 * has the special token roles, model_max_length and a ChatML chat template
 * without a default system message.
 *
 * Token roles go to the first listed name that is a special token: bos
 * "<|im_start|>" (as in SmolLM2) or "<s>", eos "<|im_end|>", "</s>" or
 * "<|endoftext|>" (else the first special token), pad "<|endoftext|>" or
 * "<pad>" (else the eos token). There is no unk token, because every byte has
 * a token. The chat template is written only when both "<|im_start|>" and
 * "<|im_end|>" are special tokens.
 *
 * Merges are written in the older "left right" string form, which both old
 * and new versions of Hugging Face tokenizers read. Byte-level strings
 * contain no space, so the form is unambiguous. Each file goes to a temporary file in the
 * same folder and is renamed into place once complete.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tokenizer_train/bpe_internal.h"

#define IM_START "<|im_start|>"
#define IM_END "<|im_end|>"

/* ChatML: one "<|im_start|>role\ncontent<|im_end|>\n" block per message, then
 * the assistant prefix. The \n are escapes inside Jinja string literals. */
static const char chatml_template[] =
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

static int oom(lrc_error *err) {
    return lrc_errorf(err, "tokenizer train: out of memory while writing the tokenizer");
}

/* ---- JSON text ------------------------------------------------------------ */

static int put(tok_buf *b, const char *s) {
    return tok_buf_append(b, s, strlen(s));
}

/* Append s[0..n) as a JSON string. s is valid UTF-8, which JSON carries as is;
 * quotes, backslashes and control characters are escaped. */
static int put_string(tok_buf *b, const char *s, size_t n) {
    if (tok_buf_append(b, "\"", 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        const char *e = NULL;
        if (c == '"')
            e = "\\\"";
        else if (c == '\\')
            e = "\\\\";
        else if (c == '\n')
            e = "\\n";
        else if (c == '\t')
            e = "\\t";
        else if (c == '\r')
            e = "\\r";
        else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            e = esc;
        }
        if (e ? put(b, e) : tok_buf_append(b, s + i, 1))
            return -1;
    }
    return tok_buf_append(b, "\"", 1);
}

static int put_token(tok_buf *b, const bpe_trainer *tr, int32_t id) {
    const bpe_token *t = &tr->tokens[id];
    return put_string(b, tr->text.data + t->off, t->len);
}

/* Append token id as a JSON string, or null when id is -1 (no such special token). */
static int put_role(tok_buf *b, const bpe_trainer *tr, int32_t id) {
    return id < 0 ? put(b, "null") : put_token(b, tr, id);
}

static int32_t special_id(const bpe_trainer *tr, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < tr->n_specials; i++)
        if (tr->tokens[i].len == n && memcmp(tr->text.data + tr->tokens[i].off, s, n) == 0)
            return (int32_t)i;
    return -1;
}

/* The id of the first of names (NULL-terminated) that is a special token, or -1. */
static int32_t first_special(const bpe_trainer *tr, const char *const *names) {
    for (size_t i = 0; names[i]; i++) {
        int32_t id = special_id(tr, names[i]);
        if (id >= 0)
            return id;
    }
    return -1;
}

/* The flags every special token carries, after "content". */
static const char added_flags[] =
    "\"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, "
    "\"special\": true";

/* ---- tokenizer.json ------------------------------------------------------- */

static int build_tokenizer_json(const bpe_trainer *tr, tok_buf *b) {
    char num[32];
    int r = put(b, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
                   "  \"added_tokens\": [");
    for (size_t i = 0; !r && i < tr->n_specials; i++) {
        snprintf(num, sizeof num, "%zu", i);
        r = put(b, i ? ",\n    {\"id\": " : "\n    {\"id\": ") || put(b, num) ||
            put(b, ", \"content\": ") || put_token(b, tr, (int32_t)i) || put(b, ", ") ||
            put(b, added_flags) || put(b, "}");
    }
    r = r || put(b, tr->n_specials ? "\n  ],\n" : "],\n");

    r = r || put(b, "  \"normalizer\": null,\n"
                    "  \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [\n"
                    "    {\"type\": \"Digits\", \"individual_digits\": true},\n"
                    "    {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                    "\"trim_offsets\": true, \"use_regex\": true}\n  ]},\n"
                    "  \"post_processor\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                    "\"trim_offsets\": false, \"use_regex\": true},\n"
                    "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                    "\"trim_offsets\": true, \"use_regex\": true},\n"
                    "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n"
                    "    \"unk_token\": null,\n    \"continuing_subword_prefix\": null,\n"
                    "    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n"
                    "    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n"
                    "    \"vocab\": {");

    for (size_t id = 0; !r && id < tr->n_tokens; id++) {
        snprintf(num, sizeof num, "%zu", id);
        r = put(b, id ? ",\n      " : "\n      ") || put_token(b, tr, (int32_t)id) ||
            put(b, ": ") || put(b, num);
    }
    r = r || put(b, "\n    },\n    \"merges\": [");

    /* "left right" in one JSON string: both halves are byte-level strings. */
    for (size_t i = 0; !r && i < tr->n_merges; i++) {
        const bpe_token *l = &tr->tokens[tr->merges[i].left],
                        *rt = &tr->tokens[tr->merges[i].right];
        tok_buf pair = {0};
        int failed = tok_buf_append(&pair, tr->text.data + l->off, l->len) ||
                     tok_buf_append(&pair, " ", 1) ||
                     tok_buf_append(&pair, tr->text.data + rt->off, rt->len);
        r = failed || put(b, i ? ",\n      " : "\n      ") || put_string(b, pair.data, pair.len);
        tok_buf_free(&pair);
    }
    r = r || put(b, tr->n_merges ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n");
    return r ? -1 : 0;
}

/* ---- tokenizer_config.json ------------------------------------------------ */

static int build_config_json(const bpe_trainer *tr, size_t model_max_length, tok_buf *b) {
    static const char *const bos_names[] = {IM_START, "<s>", NULL};
    static const char *const eos_names[] = {IM_END, "</s>", "<|endoftext|>", NULL};
    static const char *const pad_names[] = {"<|endoftext|>", "<pad>", NULL};
    int32_t bos = first_special(tr, bos_names), eos = first_special(tr, eos_names),
            pad = first_special(tr, pad_names);
    if (eos < 0 && tr->n_specials)
        eos = 0;
    if (pad < 0)
        pad = eos;

    char num[32];
    int r = put(b, "{\n  \"add_bos_token\": false,\n  \"add_eos_token\": false,\n"
                   "  \"add_prefix_space\": false,\n  \"added_tokens_decoder\": {");
    for (size_t i = 0; !r && i < tr->n_specials; i++) {
        snprintf(num, sizeof num, "%zu", i);
        r = put(b, i ? ",\n    \"" : "\n    \"") || put(b, num) || put(b, "\": {\"content\": ") ||
            put_token(b, tr, (int32_t)i) || put(b, ", ") || put(b, added_flags) || put(b, "}");
    }
    r = r || put(b, tr->n_specials ? "\n  },\n" : "},\n");

    r = r || put(b, "  \"additional_special_tokens\": [");
    for (size_t i = 0; !r && i < tr->n_specials; i++)
        r = (i && put(b, ", ")) || put_token(b, tr, (int32_t)i);
    r = r || put(b, "],\n  \"bos_token\": ") || put_role(b, tr, bos);

    if (!r && special_id(tr, IM_START) >= 0 && special_id(tr, IM_END) >= 0)
        r = put(b, ",\n  \"chat_template\": ") ||
            put_string(b, chatml_template, strlen(chatml_template));

    snprintf(num, sizeof num, "%zu", model_max_length);
    r = r || put(b, ",\n  \"clean_up_tokenization_spaces\": false,\n  \"eos_token\": ") ||
        put_role(b, tr, eos) || put(b, ",\n  \"model_max_length\": ") || put(b, num) ||
        put(b, ",\n  \"pad_token\": ") || put_role(b, tr, pad) ||
        put(b, ",\n  \"tokenizer_class\": \"PreTrainedTokenizerFast\",\n"
               "  \"unk_token\": null\n}\n");
    return r ? -1 : 0;
}

/* ---- atomic files --------------------------------------------------------- */

/* Write b to a new temporary file beside path and store its name in *tmp. */
static int write_temp(const char *path, const tok_buf *b, char **tmp, lrc_error *err) {
    size_t n = strlen(path);
    char *name = malloc(n + sizeof ".tmp-XXXXXX");
    if (!name)
        return oom(err);
    memcpy(name, path, n);
    memcpy(name + n, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");

    int fd = mkstemp(name);
    if (fd < 0) {
        lrc_errorf(err,
                   "%s: cannot create a file there: %s; check that the folder exists and is "
                   "writable",
                   path, strerror(errno));
        free(name);
        return -1;
    }
    size_t done = 0;
    while (done < b->len) {
        ssize_t k = write(fd, b->data + done, b->len - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        done += (size_t)k;
    }
    int saved = errno;
    int bad = done < b->len || fchmod(fd, 0644) != 0 || fsync(fd) != 0;
    if (bad)
        saved = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (bad) {
        unlink(name);
        free(name);
        return lrc_errorf(err, "%s: write failed: %s; check the free space", path, strerror(saved));
    }
    *tmp = name;
    return 0;
}

/* The path of tokenizer_config.json in the folder of json_path. */
static char *config_path_for(const char *json_path) {
    const char *slash = strrchr(json_path, '/');
    size_t dir = slash ? (size_t)(slash - json_path) + 1 : 0;
    char *p = malloc(dir + sizeof "tokenizer_config.json");
    if (p) {
        memcpy(p, json_path, dir);
        memcpy(p + dir, "tokenizer_config.json", sizeof "tokenizer_config.json");
    }
    return p;
}

int bpe_output_check(const char *json_path, lrc_error *err) {
    const char *slash = strrchr(json_path, '/');
    const char *base = slash ? slash + 1 : json_path;
    if (*base == '\0')
        return lrc_errorf(err, "%s: expected a file name, not a folder", json_path);
    if (strcmp(base, "tokenizer_config.json") == 0)
        return lrc_errorf(err,
                          "%s: the tokenizer cannot be written under this name, because "
                          "tokenizer_config.json is written beside it; name it tokenizer.json",
                          json_path);

    /* The folder must exist and be writable. */
    size_t dir_len = slash ? (size_t)(slash - json_path) : 0;
    char *dir = malloc(dir_len + 2);
    char *cfg_path = config_path_for(json_path);
    if (!dir || !cfg_path) {
        free(dir);
        free(cfg_path);
        return oom(err);
    }
    if (slash) {
        memcpy(dir, json_path, dir_len ? dir_len : 1); /* "/x" lives in "/" */
        dir[dir_len ? dir_len : 1] = '\0';
    } else {
        strcpy(dir, ".");
    }
    struct stat sb;
    int status = 0;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        status =
            lrc_errorf(err, "%s: the folder %s does not exist; create it first", json_path, dir);
    else if (access(dir, W_OK) != 0)
        status = lrc_errorf(err, "%s: the folder %s is not writable; choose another folder",
                            json_path, dir);

    /* A folder in the place of either file would fail the second rename after
     * the first one succeeded, so it is rejected before anything is written. */
    else if (stat(json_path, &sb) == 0 && S_ISDIR(sb.st_mode))
        status = lrc_errorf(err, "%s: is a folder; give a file name", json_path);
    else if (stat(cfg_path, &sb) == 0 && S_ISDIR(sb.st_mode))
        status = lrc_errorf(err,
                            "%s: is a folder, so the tokenizer config cannot be written; remove "
                            "it or choose another output folder",
                            cfg_path);
    free(dir);
    free(cfg_path);
    return status;
}

int bpe_trainer_write(const bpe_trainer *tr, const char *json_path, size_t model_max_length,
                      lrc_error *err) {
    if (bpe_output_check(json_path, err))
        return -1;

    tok_buf tj = {0}, tc = {0};
    char *cfg_path = config_path_for(json_path), *tmp_json = NULL, *tmp_cfg = NULL;
    int status = 0;
    if (!cfg_path || build_tokenizer_json(tr, &tj) || build_config_json(tr, model_max_length, &tc))
        status = oom(err);

    /* Both temporary files first, so a failure leaves neither file touched. */
    if (!status && write_temp(json_path, &tj, &tmp_json, err))
        status = -1;
    if (!status && write_temp(cfg_path, &tc, &tmp_cfg, err))
        status = -1;
    if (!status && rename(tmp_json, json_path) != 0)
        status = lrc_errorf(err, "%s: cannot replace the file: %s", json_path, strerror(errno));
    if (!status && rename(tmp_cfg, cfg_path) != 0)
        status = lrc_errorf(err, "%s: cannot replace the file: %s", cfg_path, strerror(errno));

    if (status) {
        if (tmp_json)
            unlink(tmp_json);
        if (tmp_cfg)
            unlink(tmp_cfg);
    }
    free(tmp_json);
    free(tmp_cfg);
    free(cfg_path);
    tok_buf_free(&tj);
    tok_buf_free(&tc);
    return status;
}
