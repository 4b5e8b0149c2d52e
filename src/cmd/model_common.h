/*
 * Loading shared by the commands that run a model (generate, perplexity):
 * the model, its tokenizer, and the check that the two belong together.
 */
#ifndef LRC_CMD_MODEL_COMMON_H
#define LRC_CMD_MODEL_COMMON_H

#include "model/llama.h"
#include "model/tokenizer.h"

/*
 * Load the model at model_path and the tokenizer at tokenizer_path, or when
 * that is NULL the one in the model's folder (beside the file for a
 * llama2.c .bin). A tokenizer with more ids than the model's vocab_size
 * belongs to another model and is rejected; fewer is fine, because models
 * pad their vocabulary. Either path may be ORG/NAME[@REVISION] of a model in
 * the Hugging Face Hub cache (hub_resolve_model_arg). On failure prints one line prefixed with cmd,
 * frees what it loaded and returns 1; returns 0 on success.
 */
int cmd_load_model(const char *cmd, const char *model_path, const char *tokenizer_path,
                   llama_model *m, tokenizer **tok);

#endif
