/*
 * The local backend on a small random Llama model with SmolLM2's real
 * tokenizer (49152 ids, byte-level BPE) and a ChatML tokenizer_config.json
 * written here. Every expected text comes from a reference loop in this file:
 * the ChatML prompt written out by hand, tokenized, run through
 * llama_forward in one call, then argmax and one-token steps, cut at the
 * end-of-sequence ids and the stop string. Prefix sharing must give the same
 * bytes as running each prompt whole, while running 3·P fewer prompt tokens
 * for four prompts with a common prefix of P tokens.
 */
#define _GNU_SOURCE

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/forward.h"
#include "model/sampler.h"
#include "model_fixture.h"
#include "reason/backend_local.h"
#include "tap.h"

static char tmp_root[256];
static char tok_dir[1024];

/* ---- what the model should write, computed without the backend -------- */

static const char *const chatml_template =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

/* The ChatML conversation as the template writes it. */
static char *chatml_prompt(const char *system, const char *user) {
    char *s = NULL;
    if (system) {
        if (asprintf(&s,
                     "<|im_start|>system\n%s<|im_end|>\n<|im_start|>user\n%s<|im_end|>\n"
                     "<|im_start|>assistant\n",
                     system, user) < 0)
            return NULL;
    } else if (asprintf(&s, "<|im_start|>user\n%s<|im_end|>\n<|im_start|>assistant\n", user) < 0) {
        return NULL;
    }
    return s;
}

typedef struct reference {
    int32_t *prompt; /* the prompt's tokens */
    size_t n_prompt;
    int32_t gen[512]; /* generated ids, the end-of-sequence id excluded */
    int n_gen;
    char *text; /* decode of gen */
    size_t len;
} reference;

static void reference_free(reference *r) {
    free(r->prompt);
    free(r->text);
    memset(r, 0, sizeof *r);
}

/* Greedy generation of up to max_tokens tokens, stopping before any id in
 * eos[], with the whole prompt run in one llama_forward call. */
static int reference_generate(const llama_model *m, const tokenizer *tok, const char *system,
                              const char *user, const int32_t *eos, int n_eos, int max_tokens,
                              reference *r) {
    lrc_error err;
    memset(r, 0, sizeof *r);
    char *prompt = chatml_prompt(system, user);
    if (!prompt ||
        tokenizer_encode(tok, prompt, strlen(prompt), true, &r->prompt, &r->n_prompt, &err) < 0) {
        free(prompt);
        return -1;
    }
    free(prompt);

    int ctx = (int)r->n_prompt + max_tokens + 1;
    llama_state st;
    float *logits = malloc((size_t)m->cfg.V * sizeof *logits);
    if (llama_state_init(&st, &m->cfg, ctx, ctx, &err) < 0) {
        free(logits);
        return -1;
    }
    int rc = llama_forward(m, &st, r->prompt, (int)r->n_prompt, 0, logits, false, &err);
    int pos = (int)r->n_prompt;
    while (rc == 0 && r->n_gen < max_tokens) {
        int32_t next = (int32_t)sampler_argmax(logits, (size_t)m->cfg.V);
        bool end = false;
        for (int k = 0; k < n_eos; k++)
            end = end || next == eos[k];
        if (end)
            break;
        r->gen[r->n_gen++] = next;
        rc = llama_forward(m, &st, &next, 1, pos++, logits, false, &err);
    }
    llama_state_free(&st);
    free(logits);
    if (rc == 0)
        rc = tokenizer_decode(tok, r->gen, (size_t)r->n_gen, &r->text, &r->len, &err);
    return rc;
}

/* Bytes of the decode of gen[0..k). */
static size_t decoded_length(const tokenizer *tok, const int32_t *gen, int k) {
    char *text = NULL;
    size_t len = 0;
    lrc_error err;
    if (tokenizer_decode(tok, gen, (size_t)k, &text, &len, &err) < 0)
        len = 0;
    free(text);
    return len;
}

/* ---- collecting streamed text ----------------------------------------- */

typedef struct stream_log {
    char buf[16384];
    size_t len;
    int pieces;
    int invalid_utf8; /* pieces that are not whole UTF-8 */
    int cancel_after; /* return nonzero once this many pieces arrived; 0 never */
} stream_log;

static bool valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (k == 0 || i + k > n)
            return false;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
        i += k;
    }
    return true;
}

static int on_piece(const char *text, size_t len, void *user) {
    stream_log *log = user;
    if (log->len + len < sizeof log->buf) {
        memcpy(log->buf + log->len, text, len);
        log->len += len;
    }
    log->pieces++;
    log->invalid_utf8 += !valid_utf8((const unsigned char *)text, len);
    return log->cancel_after > 0 && log->pieces >= log->cancel_after;
}

/* ---- fixtures ------------------------------------------------------------ */

static const char *const system_msg = "You check reasoning carefully.";
static const char *const shared_part =
    "Question: A farmer has 17 sheep and buys 5 more, then sells 8 of them at the market. "
    "Each sheep eats 3 kilograms of hay a day. How much hay does the flock eat in a week?\n\n"
    "First attempt:\nThe farmer starts with 17 sheep. After buying 5 he has 22. After "
    "selling 8 he has 14. Each eats 3 kg a day, so 42 kg a day, and 7 days give 294 kg.\n"
    "Final answer: 294 kg\n\nReview the first attempt from one point of view only: ";
static const char *const views[4] = {
    "logical consistency. Check each step.",
    "information completeness. Look for missing facts.",
    "biases and ethics. Name any unfair assumption.",
    "alternative solutions. Solve it another way.",
};

static int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* A ChatML tokenizer_config.json; the template is JSON-escaped by hand. */
static int write_tokenizer_config(const char *dir) {
    char path[1100], *body = NULL;
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    if (asprintf(&body,
                 "{\"bos_token\": \"<|im_start|>\", \"eos_token\": \"<|im_end|>\", "
                 "\"chat_template\": \"%s\"}\n",
                 chatml_template) < 0)
        return -1;
    /* chatml_template contains "\\n" (backslash, n), which is already a JSON
     * escape, and single quotes only. */
    int rc = write_text(path, body);
    free(body);
    return rc;
}

static void remove_tree(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
}

/* ---- the checks ------------------------------------------------------- */

typedef struct env {
    llama_model m;
    tokenizer *tok;
    chat_template ct;
    int32_t eos[8];
    int n_eos;
} env;

static reason_local_options greedy_options(int max_tokens, int share) {
    reason_local_options o = {0};
    o.sampling.temperature = 0.0;
    o.sampling.top_p = 1.0;
    o.sampling.max_tokens = max_tokens;
    o.max_ctx = 512;
    o.share_prefix = share;
    return o;
}

static void make_requests(reason_request *reqs, char **users, stream_log *logs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (asprintf(&users[i], "%s%s", shared_part, views[i % 4]) < 0)
            users[i] = NULL;
        reqs[i] = (reason_request){
            .system = system_msg, .user = users[i], .on_token = on_piece, .user_data = &logs[i]};
    }
}

/* Four prompts with a long common prefix: each output equals the
 * reference, and sharing gives the same bytes with 3·P fewer tokens run. */
static void check_sharing(env *e) {
    enum { N = 4, MAX_TOKENS = 24 };
    reason_request reqs[N];
    char *users[N];
    static stream_log logs[2][N];
    reference ref[N];
    reason_output outs[2][N];
    reason_local_stats stats[2];
    memset(logs, 0, sizeof logs);
    memset(outs, 0, sizeof outs);

    make_requests(reqs, users, logs[0], N);
    int ref_failed = 0;
    for (size_t i = 0; i < N; i++)
        ref_failed += reference_generate(&e->m, e->tok, reqs[i].system, users[i], e->eos, e->n_eos,
                                         MAX_TOKENS, &ref[i]) < 0;
    if (!ok(ref_failed == 0, "reference loop runs for the four prompts"))
        return;

    for (int share = 0; share < 2; share++) {
        reason_local_options o = greedy_options(MAX_TOKENS, share);
        reason_backend *b = NULL;
        lrc_error err = {{0}};
        for (size_t i = 0; i < N; i++)
            reqs[i].user_data = &logs[share][i];
        if (reason_backend_local_wrap(&e->m, e->tok, &e->ct, &o, &b, &err) < 0) {
            ok(0, "sharing %d: wrap: %s", share, err.msg);
            continue;
        }
        int rc = b->generate_many(b, reqs, N, outs[share], &err);
        ok(rc == 0, "sharing %d: generate_many succeeds%s%s", share, rc ? ": " : "",
           rc ? err.msg : "");
        stats[share] = reason_backend_local_stats(b);
        reason_backend_free(b);

        for (size_t i = 0; i < N; i++) {
            reason_output *out = &outs[share][i];
            ok(out->text && out->len == ref[i].len && memcmp(out->text, ref[i].text, out->len) == 0,
               "sharing %d: request %zu equals the reference loop", share, i);
            if (out->text && strcmp(out->text, ref[i].text) != 0)
                diag("got \"%s\", want \"%s\"", out->text, ref[i].text);
            ok(out->n_tokens == ref[i].n_gen, "sharing %d: request %zu generated %d tokens (%d)",
               share, i, out->n_tokens, ref[i].n_gen);
            ok(out->truncated == (ref[i].n_gen == MAX_TOKENS),
               "sharing %d: request %zu truncated flag", share, i);
            ok(logs[share][i].len == out->len &&
                   memcmp(logs[share][i].buf, out->text, out->len) == 0,
               "sharing %d: request %zu streamed text equals the output", share, i);
            ok(logs[share][i].invalid_utf8 == 0,
               "sharing %d: request %zu streamed only whole UTF-8", share, i);
        }
    }

    /* The common prefix, computed from the reference tokenizations and kept
     * below the shortest prompt. */
    size_t P = ref[0].n_prompt - 1;
    for (size_t i = 1; i < N; i++) {
        size_t k = 0, limit = ref[i].n_prompt - 1 < P ? ref[i].n_prompt - 1 : P;
        while (k < limit && ref[i].prompt[k] == ref[0].prompt[k])
            k++;
        P = k;
    }
    long total = 0;
    for (size_t i = 0; i < N; i++)
        total += (long)ref[i].n_prompt;
    diag("common prefix %zu tokens, %ld prompt tokens in all", P, total);
    ok(P > 100, "the prompts share a long prefix (%zu tokens)", P);
    size_t shared = P - P % REASON_LOCAL_BLOCK;
    ok(stats[0].prompt_tokens == total && stats[1].prompt_tokens == total,
       "both runs count %ld prompt tokens (%ld, %ld)", total, stats[0].prompt_tokens,
       stats[1].prompt_tokens);
    ok(stats[0].prompt_evaluated == total, "without sharing every prompt token runs (%ld)",
       stats[0].prompt_evaluated);
    ok(stats[0].prompt_evaluated - stats[1].prompt_evaluated == 3 * (long)shared,
       "sharing runs 3 * %zu = %ld fewer prompt tokens (%ld)", shared, 3 * (long)shared,
       stats[0].prompt_evaluated - stats[1].prompt_evaluated);

    int same = 1;
    for (size_t i = 0; i < N; i++)
        same &= outs[0][i].len == outs[1][i].len &&
                memcmp(outs[0][i].text, outs[1][i].text, outs[0][i].len) == 0;
    ok(same, "outputs are byte-identical with and without sharing");

    for (size_t i = 0; i < N; i++) {
        reason_output_free(&outs[0][i]);
        reason_output_free(&outs[1][i]);
        reference_free(&ref[i]);
        free(users[i]);
    }
}

/* Two identical prompts: the shared prefix is every token but the last, cut
 * down to a block multiple, and both texts equal the reference. */
static void check_identical_prompts(env *e) {
    enum { N = 2, MAX_TOKENS = 24 };
    reason_request reqs[N];
    char *users[N];
    static stream_log logs[N];
    reason_output outs[N];
    reference ref;
    lrc_error err;
    memset(outs, 0, sizeof outs);
    make_requests(reqs, users, logs, N);
    reqs[1].user = users[0];

    if (!ok(reference_generate(&e->m, e->tok, system_msg, users[0], e->eos, e->n_eos, MAX_TOKENS,
                               &ref) == 0,
            "identical prompts: reference runs")) {
        free(users[0]);
        free(users[1]);
        return;
    }
    reason_local_options o = greedy_options(MAX_TOKENS, 1);
    reason_backend *b = NULL;
    if (reason_backend_local_wrap(&e->m, e->tok, &e->ct, &o, &b, &err) == 0 &&
        b->generate_many(b, reqs, N, outs, &err) == 0) {
        reason_local_stats st = reason_backend_local_stats(b);
        size_t shared = (ref.n_prompt - 1) - (ref.n_prompt - 1) % REASON_LOCAL_BLOCK;
        ok(st.prompt_evaluated == (long)(2 * ref.n_prompt - shared),
           "identical prompts: the second runs %zu prompt tokens (%ld evaluated, prompt %zu)",
           ref.n_prompt - shared, st.prompt_evaluated, ref.n_prompt);
        ok(strcmp(outs[0].text, ref.text) == 0, "identical prompts: first equals the reference");
        ok(strcmp(outs[1].text, ref.text) == 0, "identical prompts: second equals the reference");
    } else {
        ok(0, "identical prompts: generate: %s", err.msg);
    }
    for (size_t i = 0; i < N; i++) {
        reason_output_free(&outs[i]);
        free(users[i]);
    }
    reason_backend_free(b);
    reference_free(&ref);
}

/* A backend over e's model with the given stop strings in place of the
 * template's. */
static reason_backend *backend_with_stops(env *e, chat_template *ct, const char *stop1,
                                          const char *stop2, const reason_local_options *o) {
    *ct = e->ct;
    ct->stops[0] = stop1;
    ct->stops[1] = stop2;
    ct->stops[2] = NULL;
    ct->n_stops = stop2 ? 2 : 1;
    reason_backend *b = NULL;
    lrc_error err;
    if (reason_backend_local_wrap(&e->m, e->tok, ct, o, &b, &err) < 0)
        diag("wrap: %s", err.msg);
    return b;
}

/* Run one request; returns generate_many's status. */
static int run_one(reason_backend *b, const char *user, stream_log *log, reason_output *out,
                   lrc_error *err) {
    memset(log, 0, sizeof *log);
    reason_request req = {
        .system = system_msg, .user = user, .on_token = on_piece, .user_data = log};
    return b->generate_many(b, &req, 1, out, err);
}

/* A stop string spanning two tokens ends the text before it, and a tail
 * that only looks like the start of a stop string is written at the end. */
static void check_stop_strings(env *e, const char *user, const reference *ref) {
    /* Find a boundary b between tokens k-1 and k with two bytes on each side,
     * where text[b-2..b+2) first occurs at b-2 and is printable ASCII. */
    int k_found = -1;
    size_t b = 0;
    for (int k = 1; k + 1 < ref->n_gen && k_found < 0; k++) {
        size_t before = decoded_length(e->tok, ref->gen, k - 1);
        size_t at = decoded_length(e->tok, ref->gen, k);
        size_t after = decoded_length(e->tok, ref->gen, k + 1);
        if (at < before + 2 || after < at + 2)
            continue;
        char s[5];
        memcpy(s, ref->text + at - 2, 4);
        s[4] = '\0';
        bool printable = true;
        for (int j = 0; j < 4; j++)
            printable = printable && s[j] >= 0x20 && s[j] < 0x7f;
        const char *first = strstr(ref->text, s);
        if (printable && first == ref->text + at - 2) {
            k_found = k;
            b = at;
        }
    }
    if (!ok(k_found > 0, "the reference text has a stop string across two tokens")) {
        diag("reference text: \"%s\"", ref->text);
        return;
    }

    char stop[5], near[5];
    memcpy(stop, ref->text + b - 2, 4);
    stop[4] = '\0';
    /* Three bytes of the same text and a byte the text lacks: never a match. */
    memcpy(near, ref->text + b - 2, 3);
    near[3] = '\x01';
    near[4] = '\0';
    diag("stop string \"%s\" starts at byte %zu, inside token %d", stop, b - 2, k_found - 1);

    reason_local_options o = greedy_options(ref->n_gen, 0);
    chat_template ct;
    stream_log log;
    reason_output out = {0};
    lrc_error err;

    reason_backend *bk = backend_with_stops(e, &ct, near, stop, &o);
    if (bk && run_one(bk, user, &log, &out, &err) == 0) {
        ok(out.len == b - 2 && memcmp(out.text, ref->text, b - 2) == 0,
           "stop string: the text ends before it");
        ok(strstr(out.text, stop) == NULL, "stop string: it is not in the output");
        ok(out.n_tokens == k_found + 1, "stop string: %d tokens generated (want %d)", out.n_tokens,
           k_found + 1);
        ok(out.truncated == 0, "stop string: not truncated");
        ok(log.len == out.len && memcmp(log.buf, out.text, out.len) == 0,
           "stop string: streamed text equals the output");
    } else {
        ok(0, "stop string: generate_many succeeds: %s", bk ? err.msg : "no backend");
    }
    reason_output_free(&out);
    reason_backend_free(bk);

    /* Only the near miss: every time it is held back, the text goes on and
     * the held bytes come out in the end. */
    bk = backend_with_stops(e, &ct, near, NULL, &o);
    if (bk && run_one(bk, user, &log, &out, &err) == 0) {
        ok(out.len == ref->len && memcmp(out.text, ref->text, ref->len) == 0,
           "near-miss stop string: the whole text comes out");
        ok(log.len == ref->len && memcmp(log.buf, ref->text, ref->len) == 0,
           "near-miss stop string: the held-back bytes are streamed");
    } else {
        ok(0, "near-miss stop string: generate_many succeeds: %s", bk ? err.msg : "no backend");
    }
    reason_output_free(&out);
    reason_backend_free(bk);
}

/* max_tokens and the end of the context both set truncated. */
static void check_limits(env *e, const char *user, const reference *ref) {
    stream_log log;
    reason_output out = {0};
    lrc_error err;
    reason_backend *b = NULL;
    char *want = NULL;
    size_t want_len = 0;

    if (!ok(ref->n_gen >= 5, "the reference generates at least 5 tokens (%d)", ref->n_gen))
        return;

    reason_local_options o = greedy_options(5, 0);
    if (reason_backend_local_wrap(&e->m, e->tok, &e->ct, &o, &b, &err) == 0 &&
        run_one(b, user, &log, &out, &err) == 0) {
        tokenizer_decode(e->tok, ref->gen, 5, &want, &want_len, &err);
        ok(out.n_tokens == 5 && out.truncated == 1, "max_tokens 5: 5 tokens, truncated (%d, %d)",
           out.n_tokens, out.truncated);
        ok(want && out.len == want_len && memcmp(out.text, want, want_len) == 0,
           "max_tokens 5: the text of the first 5 reference tokens");
    } else {
        ok(0, "max_tokens 5: %s", err.msg);
    }
    free(want);
    want = NULL;
    reason_output_free(&out);
    reason_backend_free(b);
    b = NULL;

    /* The prompt and 3 tokens fill the context. */
    o = greedy_options(100, 0);
    o.max_ctx = (int)ref->n_prompt + 3;
    if (reason_backend_local_wrap(&e->m, e->tok, &e->ct, &o, &b, &err) == 0 &&
        run_one(b, user, &log, &out, &err) == 0) {
        tokenizer_decode(e->tok, ref->gen, 3, &want, &want_len, &err);
        ok(out.n_tokens == 3 && out.truncated == 1,
           "context end: 3 tokens after the prompt, truncated (%d, %d)", out.n_tokens,
           out.truncated);
        ok(want && out.len == want_len && memcmp(out.text, want, want_len) == 0,
           "context end: the text of the first 3 reference tokens");
    } else {
        ok(0, "context end: %s", err.msg);
    }
    free(want);
    reason_output_free(&out);

    /* A prompt that fills the context fails alone; the next request, with
     * no system message, still runs. */
    char *twice = NULL;
    if (b && asprintf(&twice, "%s %s", user, user) >= 0) {
        static stream_log logs[2];
        memset(logs, 0, sizeof logs);
        reason_request reqs[2] = {
            {.system = system_msg, .user = twice, .on_token = on_piece, .user_data = &logs[0]},
            {.system = NULL, .user = "Hi", .on_token = on_piece, .user_data = &logs[1]},
        };
        reason_output outs[2];
        int rc = b->generate_many(b, reqs, 2, outs, &err);
        ok(rc == -1, "prompt longer than the context: generate_many fails");
        ok(outs[0].failed == 1 && strstr(outs[0].err.msg, "shorter question") != NULL &&
               strstr(outs[0].err.msg, "longer context") != NULL,
           "prompt longer than the context: the error says what to do (%s)", outs[0].err.msg);
        ok(strcmp(err.msg, outs[0].err.msg) == 0,
           "prompt longer than the context: err is the first failure");
        ok(outs[1].failed == 0 && outs[1].n_tokens > 0,
           "prompt longer than the context: the other request still runs");
        ok(outs[0].text && outs[0].text[0] == '\0', "failed request has empty text");
        reason_output_free(&outs[0]);
        reason_output_free(&outs[1]);
        free(twice);
    }
    reason_backend_free(b);
}

/* A nonzero on_token ends that request with "cancelled" and no other. */
static void check_cancel(env *e) {
    enum { N = 3, MAX_TOKENS = 16 };
    reason_request reqs[4];
    char *users[4];
    static stream_log logs[4];
    reference ref[N];
    reason_output outs[N];
    lrc_error err;
    memset(logs, 0, sizeof logs);
    make_requests(reqs, users, logs, 4);
    logs[1].cancel_after = 2;

    int ref_failed = 0;
    for (size_t i = 0; i < N; i++)
        ref_failed += reference_generate(&e->m, e->tok, reqs[i].system, users[i], e->eos, e->n_eos,
                                         MAX_TOKENS, &ref[i]) < 0;
    reason_local_options o = greedy_options(MAX_TOKENS, 1);
    reason_backend *b = NULL;
    if (ref_failed == 0 && reason_backend_local_wrap(&e->m, e->tok, &e->ct, &o, &b, &err) == 0) {
        int rc = b->generate_many(b, reqs, N, outs, &err);
        ok(rc == -1 && strcmp(err.msg, "cancelled") == 0, "cancel: generate_many reports it (%s)",
           err.msg);
        ok(outs[1].failed == 1 && strcmp(outs[1].err.msg, "cancelled") == 0,
           "cancel: the request fails with \"cancelled\"");
        ok(logs[1].pieces == 2, "cancel: no text is streamed after the callback asks to stop (%d)",
           logs[1].pieces);
        ok(outs[1].len == logs[1].len && memcmp(outs[1].text, logs[1].buf, logs[1].len) == 0,
           "cancel: the output holds the text streamed before the stop");
        ok(outs[0].failed == 0 && strcmp(outs[0].text, ref[0].text) == 0,
           "cancel: the request before still equals the reference");
        ok(outs[2].failed == 0 && strcmp(outs[2].text, ref[2].text) == 0,
           "cancel: the request after still equals the reference");
        for (size_t i = 0; i < N; i++)
            reason_output_free(&outs[i]);
    } else {
        ok(0, "cancel: set up: %s", ref_failed ? "reference failed" : err.msg);
    }
    reason_backend_free(b);
    for (size_t i = 0; i < 4; i++)
        free(users[i]);
    for (size_t i = 0; i < N; i++)
        reference_free(&ref[i]);
}

/* Sampling with a temperature: request i's sampler is seeded from (seed, i)
 * alone, so sharing changes nothing. */
static void check_sampling_independent(env *e) {
    enum { N = 4 };
    reason_request reqs[N];
    char *users[N];
    static stream_log logs[N];
    reason_output outs[2][N];
    lrc_error err;
    memset(outs, 0, sizeof outs);
    make_requests(reqs, users, logs, N);

    int setup = 1;
    for (int share = 0; share < 2; share++) {
        reason_local_options o = greedy_options(20, share);
        o.sampling.temperature = 0.9;
        o.sampling.top_p = 0.95;
        o.sampling.seed = 1234;
        reason_backend *b = NULL;
        memset(logs, 0, sizeof logs);
        if (reason_backend_local_wrap(&e->m, e->tok, &e->ct, &o, &b, &err) < 0 ||
            b->generate_many(b, reqs, N, outs[share], &err) < 0)
            setup = 0;
        reason_backend_free(b);
    }

    if (ok(setup, "sampling: both runs succeed")) {
        int same = 1;
        for (size_t i = 0; i < N; i++)
            same &= strcmp(outs[0][i].text, outs[1][i].text) == 0;
        ok(same, "sampling at temperature 0.9: the same text with and without sharing");
    }

    for (int share = 0; share < 2; share++)
        for (size_t i = 0; i < N; i++)
            reason_output_free(&outs[share][i]);
    for (size_t i = 0; i < N; i++)
        free(users[i]);
}

/* reason_backend_local_open reads the model folder, its ChatML
 * tokenizer_config.json and the tokenizer given in the options. */
static void check_open(env *e, const char *model_dir, const char *user, const reference *ref) {
    reason_local_options o = greedy_options(ref->n_gen ? ref->n_gen : 1, 0);
    o.tokenizer_path = tok_dir;
    reason_backend *b = NULL;
    lrc_error err = {{0}};
    stream_log log;
    reason_output out = {0};
    (void)e;

    if (reason_backend_local_open(model_dir, &o, &b, &err) == 0) {
        ok(strcmp(b->kind, "local") == 0 && strcmp(b->label, model_dir) == 0,
           "open: kind \"local\", labelled with the model path");
        if (run_one(b, user, &log, &out, &err) == 0)
            ok(strcmp(out.text, ref->text) == 0,
               "open: the ChatML template is applied (output equals the reference)");
        else
            ok(0, "open: generate: %s", err.msg);
        reason_output_free(&out);
        reason_backend_free(b);
    } else {
        ok(0, "open: %s", err.msg);
    }

    char missing[1100];
    snprintf(missing, sizeof missing, "%s/no-such-model", tmp_root);
    b = NULL;
    int rc = reason_backend_local_open(missing, &o, &b, &err);
    ok(rc == -1 && b == NULL, "open: a missing folder fails");
    ok(strstr(err.msg, "no-such-model") != NULL, "open: the error names the folder (%s)", err.msg);
}

/* ---- a bigram model: exact control over the generated tokens --------- */

/*
 * With o_proj and down_proj zero, every block leaves the residual stream
 * alone, so the logits at a position depend on its token only. Token s_k
 * gets the embedding e_k (a unit vector) and the LM-head row of s_{k+1}
 * is 10·e_k, so greedy decoding walks s_0, s_1, ..., s_m and then the
 * end-of-sequence id 2. s_0 is the prompt's last token.
 */
#define BIGRAM_MAX 24

typedef struct bigram {
    int32_t seq[BIGRAM_MAX + 2]; /* s_0 (last prompt token), the outputs, then EOS 2 */
    int n_out;                   /* outputs s_1..s_n_out */
    llama_model m;
} bigram;

static int bigram_build(env *e, const char *dir, const char *user, const char *const *pieces,
                        bigram *bg) {
    lrc_error err;
    memset(bg, 0, sizeof *bg);

    /* s_0: the last token of the rendered prompt. */
    char *prompt = chatml_prompt(system_msg, user);
    int32_t *ids = NULL;
    size_t n = 0;
    if (!prompt || tokenizer_encode(e->tok, prompt, strlen(prompt), true, &ids, &n, &err) < 0) {
        free(prompt);
        return -1;
    }
    bg->seq[0] = ids[n - 1];
    free(ids);
    free(prompt);

    /* The outputs: each piece is a vocabulary entry, so one token. */
    for (size_t k = 0; pieces[k]; k++) {
        int id = tokenizer_token_id(e->tok, pieces[k]);
        if (id < 0 || bg->n_out >= BIGRAM_MAX)
            return -1;
        bg->seq[++bg->n_out] = id;
    }
    bg->seq[bg->n_out + 1] = 2;
    for (int a = 0; a <= bg->n_out + 1; a++)
        for (int b = a + 1; b <= bg->n_out + 1; b++)
            if (bg->seq[a] == bg->seq[b])
                return -1; /* a bigram needs distinct tokens */

    fixture_spec spec = {.arch = "LlamaForCausalLM",
                         .model_type = "llama",
                         .d = 32,
                         .L = 1,
                         .H = 4,
                         .Hkv = 2,
                         .h = 8,
                         .I = 16,
                         .V = 49152,
                         .max_seq = 1024,
                         .tied = 0,
                         .dtype = ST_F32};
    static fixture fx;
    fixture_build(&fx, &spec);
    const size_t d = 32;
    fixture_tensor *embed = (fixture_tensor *)fixture_find(&fx, "model.embed_tokens.weight");
    fixture_tensor *head = (fixture_tensor *)fixture_find(&fx, "lm_head.weight");
    fixture_tensor *wo =
        (fixture_tensor *)fixture_find(&fx, "model.layers.0.self_attn.o_proj.weight");
    fixture_tensor *down =
        (fixture_tensor *)fixture_find(&fx, "model.layers.0.mlp.down_proj.weight");
    fixture_tensor *norm = (fixture_tensor *)fixture_find(&fx, "model.norm.weight");
    memset(wo->values, 0, wo->numel * sizeof(float));
    memset(down->values, 0, down->numel * sizeof(float));
    memset(head->values, 0, head->numel * sizeof(float));
    for (size_t i = 0; i < norm->numel; i++)
        norm->values[i] = 1.0f;
    for (int k = 0; k <= bg->n_out; k++) {
        float *row = embed->values + (size_t)bg->seq[k] * d;
        memset(row, 0, d * sizeof(float));
        row[k] = 1.0f;
        head->values[(size_t)bg->seq[k + 1] * d + (size_t)k] = 10.0f;
    }

    mkdir(dir, 0700);
    int rc = fixture_write_config(dir, &spec) == 0 && fixture_write_weights(dir, &fx, &spec) == 0
                 ? 0
                 : -1;
    fixture_free(&fx);
    if (rc == 0 && llama_model_load(&bg->m, dir, &err) < 0) {
        diag("bigram model: %s", err.msg);
        rc = -1;
    }
    return rc;
}

/* Pieces that spell " café ok <END> after": "é" is split into its two
 * bytes, each a token of its own, and "<END>" spans three tokens. */
static const char *const bigram_pieces[] = {"Ġcaf", "Ã", "©",      "Ġok", "Ġ<",
                                            "END",  ">", "Ġafter", NULL};
static const char bigram_text[] = " caf\xc3\xa9 ok <END> after";

static void check_bigram(env *e) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/bigram", tmp_root);
    const char *user = "Say it.";
    bigram bg;
    if (!ok(bigram_build(e, dir, user, bigram_pieces, &bg) == 0, "bigram model built"))
        return;

    reason_local_options o = greedy_options(64, 0);
    chat_template ct;
    stream_log log;
    reason_output out = {0};
    lrc_error err;
    reason_backend *b = NULL;

    /* No stop string: the text runs to the end-of-sequence id. */
    if (reason_backend_local_wrap(&bg.m, e->tok, &e->ct, &o, &b, &err) == 0 &&
        run_one(b, user, &log, &out, &err) == 0) {
        ok(strcmp(out.text, bigram_text) == 0, "bigram: the text is \"%s\" (%s)", bigram_text,
           out.text);
        ok(out.n_tokens == bg.n_out && out.truncated == 0,
           "bigram: %d tokens, then end of sequence (%d, truncated %d)", bg.n_out, out.n_tokens,
           out.truncated);
        ok(log.len == out.len && memcmp(log.buf, out.text, out.len) == 0,
           "bigram: streamed text equals the output");
        ok(log.invalid_utf8 == 0, "bigram: the split character is streamed whole");
        ok(log.pieces == bg.n_out - 1,
           "bigram: the first byte of the character streams nothing "
           "(%d pieces for %d tokens)",
           log.pieces, bg.n_out);
    } else {
        ok(0, "bigram: generate: %s", err.msg);
    }
    reason_output_free(&out);
    reason_backend_free(b);

    /* A stop string over three tokens; the "<" that starts it is held back
     * and never streamed. */
    b = NULL;
    ct = e->ct;
    ct.stops[0] = "<END>";
    ct.stops[1] = NULL;
    ct.n_stops = 1;
    if (reason_backend_local_wrap(&bg.m, e->tok, &ct, &o, &b, &err) == 0 &&
        run_one(b, user, &log, &out, &err) == 0) {
        ok(strcmp(out.text, " caf\xc3\xa9 ok ") == 0,
           "bigram stop string: the text stops before "
           "it (%s)",
           out.text);
        ok(out.n_tokens == 7, "bigram stop string: ends at its last token (%d tokens)",
           out.n_tokens);
        ok(log.len == out.len && memcmp(log.buf, out.text, out.len) == 0,
           "bigram stop string: no byte of it is streamed");
    } else {
        ok(0, "bigram stop string: generate: %s", err.msg);
    }
    reason_output_free(&out);
    reason_backend_free(b);
    b = NULL;

    /* max_tokens in the middle of "é": the lone first byte is not text. */
    o = greedy_options(2, 0);
    if (reason_backend_local_wrap(&bg.m, e->tok, &e->ct, &o, &b, &err) == 0 &&
        run_one(b, user, &log, &out, &err) == 0) {
        ok(strcmp(out.text, " caf") == 0 && out.truncated == 1,
           "bigram max_tokens inside a character: the half character is left out (%s)", out.text);
        ok(log.invalid_utf8 == 0, "bigram max_tokens inside a character: streamed whole UTF-8");
    } else {
        ok(0, "bigram max_tokens: generate: %s", err.msg);
    }
    reason_output_free(&out);
    reason_backend_free(b);
    llama_model_free(&bg.m);
}

int main(void) {
    const char *shared = getenv("LRC_SHARED");
    if (!shared || !*shared)
        skip_all("LRC_SHARED is not set (configure --with-shared-fixtures)");
    snprintf(tok_dir, sizeof tok_dir, "%s/fixtures/tokenizers/smollm2-135m-instruct", shared);
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/tokenizer.json", tok_dir);
    FILE *f = fopen(probe, "rb");
    if (!f)
        skip_all("smollm2-135m-instruct/tokenizer.json not found under $LRC_SHARED/fixtures");
    fclose(f);

    snprintf(tmp_root, sizeof tmp_root, "/tmp/lrc-test-backend-local-XXXXXX");
    if (!mkdtemp(tmp_root))
        skip_all("cannot create a temporary folder");
    char model_dir[512];
    snprintf(model_dir, sizeof model_dir, "%s/model", tmp_root);
    mkdir(model_dir, 0700);

    /* A tiny random Llama with SmolLM2's vocabulary; config.json lists
     * eos_token_id [2, 7]. */
    fixture_spec spec = {.arch = "LlamaForCausalLM",
                         .model_type = "llama",
                         .d = 32,
                         .L = 2,
                         .H = 4,
                         .Hkv = 2,
                         .h = 8,
                         .I = 64,
                         .V = 49152,
                         .max_seq = 1024,
                         .tied = 1,
                         .dtype = ST_F32};
    static fixture fx;
    int written =
        fixture_write_model(model_dir, &fx, &spec) == 0 && write_tokenizer_config(model_dir) == 0;
    fixture_free(&fx);
    if (!ok(written, "model folder written"))
        return done_testing();

    static env e;
    lrc_error err;
    if (llama_model_load(&e.m, model_dir, &err) < 0 || tokenizer_load(&e.tok, tok_dir, &err) < 0 ||
        chat_template_load(model_dir, &e.ct, &err) < 0) {
        ok(0, "load the fixture: %s", err.msg);
        remove_tree(tmp_root);
        return done_testing();
    }
    ok(e.ct.family == CHAT_CHATML, "the written template is recognised as ChatML");

    /* End-of-sequence ids, from the files rather than the backend. */
    int32_t ids[] = {2, 7, (int32_t)tokenizer_token_id(e.tok, "<|im_end|>"),
                     (int32_t)tokenizer_eos_id(e.tok)};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i] >= 0)
            e.eos[e.n_eos++] = ids[i];

    check_sharing(&e);
    check_identical_prompts(&e);

    char *user = NULL;
    if (asprintf(&user, "%s%s", shared_part, views[0]) < 0)
        return 1;
    reference ref;
    if (ok(reference_generate(&e.m, e.tok, system_msg, user, e.eos, e.n_eos, 48, &ref) == 0,
           "reference loop for one prompt runs")) {
        diag("reference: %d tokens: \"%s\"", ref.n_gen, ref.text);
        check_stop_strings(&e, user, &ref);
        check_limits(&e, user, &ref);
        check_open(&e, model_dir, user, &ref);
        reference_free(&ref);
    }
    free(user);

    check_cancel(&e);
    check_sampling_independent(&e);
    check_bigram(&e);

    chat_template_free(&e.ct);
    tokenizer_free(e.tok);
    llama_model_free(&e.m);
    remove_tree(tmp_root);
    return done_testing();
}
