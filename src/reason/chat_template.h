/*
 * Chat templates of local models. A model folder's tokenizer_config.json may
 * carry a Jinja "chat_template". We do not run Jinja. We recognise the family
 * from marker strings in the template and render a conversation by hand,
 * byte for byte as the template would: an optional system message, one user
 * message, then the assistant prefix.
 *
 *   ChatML    <|im_start|>   SmolLM2, Qwen
 *   Llama 3   <|start_header_id|>
 *   Llama 2   [INST]         Llama 2 chat, Mistral instruct
 *   plain     no template or an unrecognised one: "Question: ...\nAnswer:"
 *
 * BOS: when the template itself writes the BOS token as text (Llama 3's
 * bos_token, Llama 2's "<s>[INST]"), the rendered prompt starts with it and
 * chat_prompt.bos_in_text is set; the caller must then tokenize with BOS
 * insertion off (the tokenizer's add_special option false), or the model
 * sees two BOS tokens. ChatML and plain prompts carry no BOS text; the caller
 * tokenizes them with add_special as the tokenizer is configured.
 */
#ifndef LRC_REASON_CHAT_TEMPLATE_H
#define LRC_REASON_CHAT_TEMPLATE_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "core/error.h"

typedef enum chat_family {
    CHAT_PLAIN = 0,
    CHAT_CHATML,
    CHAT_LLAMA3,
    CHAT_LLAMA2,
} chat_family;

#define CHAT_MAX_STOPS 6

typedef struct chat_template {
    chat_family family;
    char *bos;            /* bos_token text, "" when the config has none */
    char *eos;            /* eos_token text, "" when the config has none */
    char *default_system; /* ChatML: system text the template adds when none is given, or NULL */
    int inst_sys_block;   /* [INST]: 1 for Llama 2's <<SYS>> block, 0 for Mistral's plain form */
    const char *stops[CHAT_MAX_STOPS]; /* stop strings, NULL-terminated; point into this struct */
    size_t n_stops;
} chat_template;

/* The family's name: "plain", "chatml", "llama3" or "llama2". */
const char *chat_family_name(chat_family f);

/* Recognise the family of a parsed tokenizer_config.json (config may be NULL
 * for a model without one). Returns 0, or -1 when out of memory. */
int chat_template_from_config(const cJSON *config, chat_template *ct, lrc_error *err);

/* Read and parse DIR/tokenizer_config.json; a missing file gives the plain
 * form, a malformed one is an error naming the file. */
int chat_template_load(const char *model_dir, chat_template *ct, lrc_error *err);

void chat_template_free(chat_template *ct);

/* Render system (may be NULL) and user, followed by the assistant prefix,
 * into a malloc'd string (*out). *bos_in_text (may be NULL) is set to 1 when
 * the text starts with the BOS token written by the template. */
int chat_template_render(const chat_template *ct, const char *system, const char *user, char **out,
                         int *bos_in_text, lrc_error *err);

#endif
