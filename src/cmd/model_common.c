/* Model and tokenizer loading for generate and perplexity; see model_common.h.
 * Both the model and --tokenizer may be a cached Hub model ORG/NAME[@REV]. */
#include "cmd/model_common.h"

#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "hub/hub_cache.h"

/* The tokenizer of a model: tokenizer_path when given, else the model's
 * folder, which for a llama2.c .bin file is the folder holding it. */
static int load_tokenizer(tokenizer **tok, const char *model_path, const char *tokenizer_path,
                          lrc_error *err) {
    if (tokenizer_path) {
        char resolved[HUB_PATH_MAX];
        if (hub_resolve_model_arg(resolved, sizeof resolved, tokenizer_path, err) < 0)
            return lrc_error_prefix(err, "--tokenizer");
        return tokenizer_load(tok, resolved, err);
    }

    char dir[4096];
    snprintf(dir, sizeof dir, "%s", model_path);
    size_t len = strlen(dir);
    if (len > 4 && strcmp(dir + len - 4, ".bin") == 0) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
    }
    return tokenizer_load(tok, dir, err);
}

int cmd_load_model(const char *cmd, const char *model_path, const char *tokenizer_path,
                   llama_model *m, tokenizer **tok) {
    lrc_error err;
    memset(m, 0, sizeof *m);
    *tok = NULL;
    char resolved[HUB_PATH_MAX];
    if (hub_resolve_model_arg(resolved, sizeof resolved, model_path, &err) < 0) {
        cmd_fail("%s: %s", cmd, err.msg);
        return 1;
    }
    model_path = resolved;
    if (llama_model_load(m, model_path, &err) < 0) {
        cmd_fail("%s: %s", cmd, err.msg);
        return 1;
    }
    if (load_tokenizer(tok, model_path, tokenizer_path, &err) < 0) {
        cmd_fail("%s: %s", cmd, err.msg);
        llama_model_free(m);
        return 1;
    }

    if (tokenizer_vocab_size(*tok) > m->cfg.V) {
        cmd_fail("%s: the tokenizer%s%s has %d ids but the model %s has vocab_size %d, so "
                 "the tokenizer belongs to another model; give the model's own with --tokenizer",
                 cmd, tokenizer_path ? " " : " beside",
                 tokenizer_path ? tokenizer_path : " the model", tokenizer_vocab_size(*tok),
                 model_path, m->cfg.V);
        tokenizer_free(*tok);
        *tok = NULL;
        llama_model_free(m);
        return 1;
    }
    return 0;
}
