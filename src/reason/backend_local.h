/*
 * The local backend: a model loaded from disk answers chat requests through
 * its chat template (chat_template.h), stopping at an end-of-sequence token,
 * at one of the template's stop strings, at max_tokens or at the end of the
 * context.
 *
 * Several requests in one generate_many call run one after another. With
 * share_prefix on, the tokens their prompts have in common at the start,
 * cut down to a multiple of REASON_LOCAL_BLOCK, are run through the model
 * once; each request then continues from that cached prefix (the cache
 * positions after it are simply overwritten). Greedy output is the same
 * with and without sharing.
 *
 * Sampling: sampling.max_tokens 0 means 512 and sampling.top_p 0 means 1.
 * Request i of a call samples with its own generator seeded from
 * (sampling.seed, i), so its text does not depend on sharing. A request ends
 * at an end-of-sequence id (the config's eos_token_id list, the tokenizer's
 * EOS, the template's eos text or stop string when it is one token), at a
 * stop string (never streamed, not even in part), at max_tokens, or when
 * the prompt and the generated tokens fill max_ctx (truncated = 1). A prompt
 * of max_ctx tokens or more fails that request alone.
 */
#ifndef LRC_REASON_BACKEND_LOCAL_H
#define LRC_REASON_BACKEND_LOCAL_H

#include "core/error.h"
#include "model/llama.h"
#include "model/tokenizer.h"
#include "reason/backend.h"
#include "reason/chat_template.h"

/* Prompts run through the model in blocks of this many positions, aligned
 * to multiples of it, and a shared prefix is cut down to a multiple of it.
 * Each prompt token then goes through the same floating-point operations
 * with and without sharing, so the logits are bit-identical. Splitting a
 * prompt at other positions changed the logits of a SmolLM2-135M-shaped
 * model by about 3e-6, which can flip a near tie. */
#define REASON_LOCAL_BLOCK 64

typedef struct reason_local_options {
    reason_sampling sampling;
    int max_ctx;                /* 0: the model's max_position_embeddings, at most 4096 */
    int share_prefix;           /* 1: run the common prompt prefix of a batch once */
    const char *tokenizer_path; /* NULL: the tokenizer in the model's folder */
} reason_local_options;

/* Counters since the backend was opened, for benchmarks and tests. */
typedef struct reason_local_stats {
    long prompt_tokens;    /* prompt tokens of all requests */
    long prompt_evaluated; /* prompt tokens actually run through the model */
    long generated;        /* tokens generated */
} reason_local_stats;

/* Load the model at model_path (a folder or a llama2.c .bin), its tokenizer
 * and its chat template, and open a backend that owns them. opt may be NULL:
 * greedy, 512 tokens at most, no sharing. */
int reason_backend_local_open(const char *model_path, const reason_local_options *opt,
                              reason_backend **out, lrc_error *err);

/* Open a backend over a model, tokenizer and chat template the caller keeps
 * alive and frees after the backend. ct may be NULL for the plain
 * Question/Answer form. */
int reason_backend_local_wrap(const llama_model *m, const tokenizer *tok, const chat_template *ct,
                              const reason_local_options *opt, reason_backend **out,
                              lrc_error *err);

/* The context size (prompt plus generated tokens) of a local backend, or 0
 * for a backend of another kind. */
int reason_backend_local_context(const reason_backend *b);

/* Count the tokens of the prompt a request with this system (may be NULL)
 * and user message becomes through the chat template, into *n. A prompt
 * too long for the context is counted, not an error. Returns 0, or -1 with
 * err when b is not local or the text cannot be encoded. */
int reason_backend_local_count(const reason_backend *b, const char *system, const char *user,
                               size_t *n, lrc_error *err);

/* The counters of a backend opened by one of the two functions above. */
reason_local_stats reason_backend_local_stats(const reason_backend *b);

#endif
