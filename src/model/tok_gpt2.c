/*
 * OpenAI GPT-2 files: encoder.json maps byte-level pieces to ids, and
 * vocab.bpe lists the merges one per line ("left right") after a
 * "#version" header, in rank order. They load into the same shape as a
 * tokenizer.json with a ByteLevel pre-tokenizer (GPT-2 regex, no prefix
 * space) and a ByteLevel decoder, and with no added tokens: the text
 * "<|endoftext|>" is ordinary text here.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "model/tok_internal.h"

static int load_encoder(tokenizer *t, const char *path, lrc_error *err) {
    char *data;
    size_t len;
    if (tok_read_file(path, &data, &len, err))
        return -1;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    size_t at = end && end >= data ? (size_t)(end - data) : 0;
    free(data);
    if (!root)
        return lrc_errorf(err, "%s: invalid JSON at byte %zu; expected an object of piece: id",
                          path, at);

    int status = -1;
    int32_t max_id = -1;
    const cJSON *item;
    if (!cJSON_IsObject(root)) {
        lrc_errorf(err, "%s: expected a JSON object mapping pieces to ids", path);
        goto done;
    }
    cJSON_ArrayForEach(item, root) {
        double v = cJSON_IsNumber(item) ? item->valuedouble : -1.0;
        if (v < 0 || v > 16777216.0 || v != (double)(int32_t)v) {
            lrc_errorf(err, "%s: [\"%.100s\"]: expected a token id, an integer in [0, 16777216]",
                       path, item->string);
            goto done;
        }
        if ((int32_t)v > max_id)
            max_id = (int32_t)v;
    }
    if (tok_vocab_init(&t->vocab, max_id + 1))
        goto oom;
    cJSON_ArrayForEach(item, root) {
        if (tok_vocab_set(&t->vocab, (int32_t)item->valuedouble, item->string, strlen(item->string),
                          true))
            goto oom;
    }
    status = 0;
    goto done;
oom:
    lrc_errorf(err, "%s: out of memory while loading", path);
done:
    cJSON_Delete(root);
    return status;
}

static int load_merges(tokenizer *t, const char *path, lrc_error *err) {
    char *data;
    size_t len;
    if (tok_read_file(path, &data, &len, err))
        return -1;
    int status = 0;
    int32_t rank = 0;
    size_t line_no = 0;
    for (size_t i = 0; i < len && !status;) {
        size_t j = i;
        while (j < len && data[j] != '\n')
            j++;
        line_no++;
        size_t n = j;
        if (n > i && data[n - 1] == '\r')
            n--;
        const char *line = data + i;
        size_t m = n - i;
        i = j + 1;
        if (m == 0 || (line_no == 1 && line[0] == '#'))
            continue;

        const char *sp = memchr(line, ' ', m);
        if (!sp) {
            status = lrc_errorf(err, "%s: line %zu: expected \"left right\"", path, line_no);
            break;
        }
        size_t na = (size_t)(sp - line), nb = m - na - 1;
        int32_t left = tok_vocab_find(&t->vocab, line, na);
        int32_t right = tok_vocab_find(&t->vocab, sp + 1, nb);
        char joined[1024];
        int32_t merged = -1;
        if (na + nb <= sizeof joined) {
            memcpy(joined, line, na);
            memcpy(joined + na, sp + 1, nb);
            merged = tok_vocab_find(&t->vocab, joined, na + nb);
        }
        if (left < 0 || right < 0 || merged < 0) {
            status = lrc_errorf(err,
                                "%s: line %zu: a piece of this merge, or their "
                                "concatenation, is not in encoder.json",
                                path, line_no);
            break;
        }
        if (tok_merges_add(&t->merges, left, right, merged, rank++))
            status = lrc_errorf(err, "%s: out of memory while loading", path);
    }
    free(data);
    return status;
}

int tok_load_gpt2(tokenizer *t, const char *encoder_path, const char *vocab_path, lrc_error *err) {
    if (load_encoder(t, encoder_path, err) || load_merges(t, vocab_path, err))
        return -1;

    t->pre_tokenizer = calloc(1, sizeof *t->pre_tokenizer);
    t->decoder = calloc(1, sizeof *t->decoder);
    if (!t->pre_tokenizer || !t->decoder)
        return lrc_errorf(err, "%s: out of memory while loading", encoder_path);
    t->pre_tokenizer->kind = TOK_PRE_BYTELEVEL;
    t->pre_tokenizer->add_prefix_space = false;
    t->pre_tokenizer->use_regex = true;
    t->decoder->kind = TOK_DEC_BYTELEVEL;
    t->gpt2_re = tok_regex_compile(tok_gpt2_pattern, strlen(tok_gpt2_pattern), err);
    if (!t->gpt2_re)
        return -1;

    t->unk_id = -1;
    for (int b = 0; b < 256; b++)
        t->byte_id[b] = -1;
    int32_t eot = tok_vocab_find(&t->vocab, "<|endoftext|>", 13);
    t->bos_id = eot;
    t->eos_id = eot;
    return 0;
}
