/*
 * Chat template families on the real tokenizer_config.json fixtures. The
 * expected prompts were written by hand from each fixture's Jinja
 * chat_template, or from the plain form when a config has none. No fixture
 * carries the [INST] family, so inline configs cover it.
 */
#define _POSIX_C_SOURCE 200809L
#include "reason/chat_template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static char fixtures[1024];

static int stops_are(const chat_template *ct, const char *a, const char *b) {
    size_t want = b ? 2 : 1;
    return ct->n_stops == want && strcmp(ct->stops[0], a) == 0 &&
           (!b || strcmp(ct->stops[1], b) == 0) && ct->stops[want] == NULL;
}

static void check_render(const chat_template *ct, const char *system, const char *user,
                         const char *want, int want_bos, const char *what) {
    char *out = NULL;
    int bos = -1;
    lrc_error err = {""};
    int rc = chat_template_render(ct, system, user, &out, &bos, &err);
    if (!ok(rc == 0 && out && strcmp(out, want) == 0 && bos == want_bos, "%s", what)) {
        diag("got:  [%s] bos_in_text=%d", out ? out : err.msg, bos);
        diag("want: [%s] bos_in_text=%d", want, want_bos);
    }
    free(out);
}

static int load(const char *name, chat_template *ct) {
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", fixtures, name);
    lrc_error err = {""};
    if (chat_template_load(dir, ct, &err)) {
        diag("%s", err.msg);
        return -1;
    }
    return 0;
}

static void check_smollm2(void) {
    chat_template ct;
    if (!ok(load("smollm2-135m-instruct", &ct) == 0, "smollm2: load"))
        return;
    ok(ct.family == CHAT_CHATML && strcmp(chat_family_name(ct.family), "chatml") == 0,
       "smollm2: ChatML");
    ok(stops_are(&ct, "<|im_end|>", "<|im_start|>"),
       "smollm2: stops <|im_end|> (also its eos) and <|im_start|>");
    check_render(&ct, NULL, "What is 2+2?",
                 "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
                 "Hugging Face<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n"
                 "<|im_start|>assistant\n",
                 0, "smollm2: no system gives the template's default system turn");
    check_render(&ct, "Be brief.", "What is 2+2?",
                 "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is "
                 "2+2?<|im_end|>\n<|im_start|>assistant\n",
                 0, "smollm2: with a system message");
    chat_template_free(&ct);
}

static void check_llama3(void) {
    chat_template ct;
    if (!ok(load("llama3-hf", &ct) == 0, "llama3: load"))
        return;
    ok(ct.family == CHAT_LLAMA3 && strcmp(chat_family_name(ct.family), "llama3") == 0,
       "llama3: Llama 3 family");
    ok(stops_are(&ct, "<|eot_id|>", "<|end_of_text|>"),
       "llama3: stops <|eot_id|>, <|end_of_text|>");
    check_render(&ct, "Be brief. ", "  What is 2+2?\n",
                 "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe "
                 "brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is "
                 "2+2?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
                 1, "llama3: BOS text, trimmed contents, assistant header");
    check_render(&ct, NULL, "Hi",
                 "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n",
                 1, "llama3: without a system message");
    chat_template_free(&ct);
}

static void check_plain_fixtures(void) {
    static const char *const names[] = {"tinyllama-chat-v0.1-hf", "mistral-7b-v0.1-hf"};
    for (size_t i = 0; i < 2; i++) {
        chat_template ct;
        if (!ok(load(names[i], &ct) == 0, "%s: load", names[i]))
            continue;
        ok(ct.family == CHAT_PLAIN, "%s: no chat_template, plain form", names[i]);
        ok(stops_are(&ct, "\nQuestion:", "</s>"), "%s: stops \\nQuestion: and </s>", names[i]);
        check_render(&ct, NULL, "What is 2+2?", "Question: What is 2+2?\nAnswer:", 0,
                     "plain: question and answer prefix");
        check_render(&ct, "Be brief.", "What is 2+2?",
                     "Be brief.\n\nQuestion: What is 2+2?\nAnswer:", 0, "plain: with a system");
        chat_template_free(&ct);
    }
}

static void check_inline(void) {
    lrc_error err = {""};
    chat_template ct;
    cJSON *cfg = cJSON_Parse("{\"bos_token\":\"<s>\",\"eos_token\":\"</s>\",\"chat_template\":"
                             "\"{{ bos_token }}[INST] <<SYS>>{{ sys }}<</SYS>> [/INST]\"}");
    ok(chat_template_from_config(cfg, &ct, &err) == 0 && ct.family == CHAT_LLAMA2 &&
           ct.inst_sys_block == 1 && stops_are(&ct, "</s>", NULL),
       "[INST] with <<SYS>>: Llama 2 family, stop </s>");
    check_render(&ct, "Be brief.", " What is 2+2? ",
                 "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n What is 2+2? [/INST]", 1,
                 "llama2: system block; only the joined content is stripped");
    check_render(&ct, NULL, "What is 2+2?", "<s>[INST] What is 2+2? [/INST]", 1,
                 "llama2: without a system message");
    chat_template_free(&ct);
    cJSON_Delete(cfg);

    cfg = cJSON_Parse("{\"bos_token\":\"<s>\",\"eos_token\":\"</s>\",\"chat_template\":"
                      "\"{{ bos_token }}{{ '[INST] ' + m + ' [/INST]' }}\"}");
    ok(chat_template_from_config(cfg, &ct, &err) == 0 && ct.family == CHAT_LLAMA2 &&
           ct.inst_sys_block == 0,
       "[INST] without <<SYS>>: Mistral form");
    check_render(&ct, NULL, "What is 2+2?", "<s>[INST] What is 2+2? [/INST]", 1,
                 "mistral: user turn");
    check_render(&ct, "Be brief.", "What is 2+2?", "<s>[INST] Be brief.\n\nWhat is 2+2? [/INST]", 1,
                 "mistral: system text goes before the user text");
    chat_template_free(&ct);
    cJSON_Delete(cfg);

    cfg = cJSON_Parse("{\"eos_token\":\"<|endoftext|>\",\"chat_template\":\"{% for m in messages "
                      "%}{{'<|im_start|>' + m['role'] + '\\\\n' + m['content'] + "
                      "'<|im_end|>\\\\n'}}{% endfor %}\"}");
    ok(chat_template_from_config(cfg, &ct, &err) == 0 && ct.family == CHAT_CHATML &&
           ct.default_system == NULL && ct.n_stops == 3 && strcmp(ct.stops[0], "<|im_end|>") == 0 &&
           strcmp(ct.stops[1], "<|im_start|>") == 0 && strcmp(ct.stops[2], "<|endoftext|>") == 0 &&
           ct.stops[3] == NULL,
       "ChatML without a default system turn: stops <|im_end|>, <|im_start|>, then the eos");
    check_render(&ct, NULL, "Hi", "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", 0,
                 "chatml: no system turn when the template has no default");
    chat_template_free(&ct);
    cJSON_Delete(cfg);

    cfg = cJSON_Parse("{\"chat_template\":\"{% for m in messages %}{{ m.content }}{% endfor %}\"}");
    ok(chat_template_from_config(cfg, &ct, &err) == 0 && ct.family == CHAT_PLAIN &&
           stops_are(&ct, "\nQuestion:", NULL),
       "an unrecognised template and no eos: plain, one stop");
    chat_template_free(&ct);
    cJSON_Delete(cfg);

    ok(chat_template_from_config(NULL, &ct, &err) == 0 && ct.family == CHAT_PLAIN,
       "no config: plain");
    chat_template_free(&ct);

    char tmp[] = "/tmp/lrc-chat-XXXXXX";
    if (mkdtemp(tmp)) {
        ok(chat_template_load(tmp, &ct, &err) == 0 && ct.family == CHAT_PLAIN,
           "a folder without tokenizer_config.json: plain");
        chat_template_free(&ct);
        char path[64];
        snprintf(path, sizeof path, "%s/tokenizer_config.json", tmp);
        FILE *f = fopen(path, "w");
        if (f) {
            fputs("{\"chat_template\": ", f);
            fclose(f);
        }
        ok(chat_template_load(tmp, &ct, &err) == -1 && strstr(err.msg, path),
           "malformed tokenizer_config.json: error names the file");
        remove(path);
        rmdir(tmp);
    }
}

int main(void) {
    const char *shared = getenv("LRC_SHARED");
    if (!shared || !*shared)
        skip_all("LRC_SHARED is not set (configure --with-shared-fixtures)");
    snprintf(fixtures, sizeof fixtures, "%s/fixtures/tokenizers", shared);
    char probe[1200];
    snprintf(probe, sizeof probe, "%s/llama3-hf/tokenizer_config.json", fixtures);
    if (access(probe, R_OK) != 0)
        skip_all("tokenizer fixtures not found under $LRC_SHARED/fixtures/tokenizers");
    check_smollm2();
    check_llama3();
    check_plain_fixtures();
    check_inline();
    return done_testing();
}
