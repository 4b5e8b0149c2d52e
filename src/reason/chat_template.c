/*
 * Chat template families recognised by marker strings and rendered by hand;
 * see chat_template.h for the families and the BOS rule. The only thing read
 * out of the Jinja source is ChatML's built-in default system message (the
 * quoted '<|im_start|>system\n...<|im_end|>' literal SmolLM2 and Qwen use),
 * because the template emits it whenever the conversation has no system turn.
 */
#define _POSIX_C_SOURCE 200809L
#include "reason/chat_template.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The system turn's opening inside a Jinja string: a raw newline or a "\n" escape. */
#define CHATML_SYSTEM_RAW "<|im_start|>system\n"
#define CHATML_SYSTEM_ESC "<|im_start|>system\\n"

const char *chat_family_name(chat_family f) {
    switch (f) {
    case CHAT_CHATML:
        return "chatml";
    case CHAT_LLAMA3:
        return "llama3";
    case CHAT_LLAMA2:
        return "llama2";
    case CHAT_PLAIN:
        break;
    }
    return "plain";
}

static char *dup_n(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* A special token is a string or an AddedToken object with "content". */
static const char *token_text(const cJSON *config, const char *key) {
    const cJSON *v = config ? cJSON_GetObjectItemCaseSensitive(config, key) : NULL;
    if (cJSON_IsObject(v))
        v = cJSON_GetObjectItemCaseSensitive(v, "content");
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

/* The default system text: the rest of the quoted Jinja literal that opens
 * the system turn, up to "<|im_end|>", with escapes undone. NULL when the
 * template has no such literal (the system turn is then only the caller's). */
static char *chatml_default_system(const char *tmpl) {
    const char *p = strstr(tmpl, CHATML_SYSTEM_RAW);
    size_t open_len = strlen(CHATML_SYSTEM_RAW);
    if (!p) {
        p = strstr(tmpl, CHATML_SYSTEM_ESC);
        open_len = strlen(CHATML_SYSTEM_ESC);
    }
    if (!p || p == tmpl)
        return NULL;
    char quote = p[-1];
    if (quote != '\'' && quote != '"')
        return NULL;
    p += open_len;
    const char *end = strstr(p, "<|im_end|>");
    if (!end)
        return NULL;
    char *out = malloc((size_t)(end - p) + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (const char *q = p; q < end; q++) {
        if (*q == quote)
            break; /* the literal ended before <|im_end|>: not a fixed default */
        if (*q == '\\' && q + 1 < end) {
            q++;
            char c = *q;
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            out[n++] = c;
        } else {
            out[n++] = *q;
        }
    }
    out[n] = '\0';
    return out;
}

void chat_template_free(chat_template *ct) {
    if (!ct)
        return;
    free(ct->bos);
    free(ct->eos);
    free(ct->default_system);
    memset(ct, 0, sizeof *ct);
}

static void add_stop(chat_template *ct, const char *s) {
    if (!s || !*s || ct->n_stops + 1 >= CHAT_MAX_STOPS)
        return;
    for (size_t i = 0; i < ct->n_stops; i++)
        if (strcmp(ct->stops[i], s) == 0)
            return;
    ct->stops[ct->n_stops++] = s;
    ct->stops[ct->n_stops] = NULL;
}

int chat_template_from_config(const cJSON *config, chat_template *ct, lrc_error *err) {
    memset(ct, 0, sizeof *ct);
    const cJSON *tv = config ? cJSON_GetObjectItemCaseSensitive(config, "chat_template") : NULL;
    const char *tmpl = cJSON_IsString(tv) && tv->valuestring ? tv->valuestring : "";
    ct->bos = dup_n(token_text(config, "bos_token"), strlen(token_text(config, "bos_token")));
    ct->eos = dup_n(token_text(config, "eos_token"), strlen(token_text(config, "eos_token")));
    if (!ct->bos || !ct->eos) {
        chat_template_free(ct);
        return lrc_errorf(err, "tokenizer_config.json: out of memory");
    }
    if (strstr(tmpl, "<|im_start|>")) {
        ct->family = CHAT_CHATML;
        ct->default_system = chatml_default_system(tmpl);
        add_stop(ct, "<|im_end|>");
        /* A model that skips <|im_end|> and opens the next turn has ended
         * its own. */
        add_stop(ct, "<|im_start|>");
    } else if (strstr(tmpl, "<|start_header_id|>")) {
        ct->family = CHAT_LLAMA3;
        add_stop(ct, "<|eot_id|>");
    } else if (strstr(tmpl, "[INST]")) {
        ct->family = CHAT_LLAMA2;
        ct->inst_sys_block = strstr(tmpl, "<<SYS>>") != NULL;
        add_stop(ct, "</s>");
    } else {
        ct->family = CHAT_PLAIN;
        add_stop(ct, "\nQuestion:");
    }
    add_stop(ct, ct->eos);
    return 0;
}

int chat_template_load(const char *model_dir, chat_template *ct, lrc_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", model_dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return chat_template_from_config(NULL, ct, err);
        return lrc_errorf(err, "%s: cannot open (%s); check its permissions", path,
                          strerror(errno));
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t nc = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, nc);
            if (!nb) {
                free(buf);
                fclose(f);
                return lrc_errorf(err, "%s: out of memory", path);
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, 4096, f);
        len += got;
        if (got < 4096)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return lrc_errorf(err, "%s: read error; check the file", path);
    }
    buf[len] = '\0';
    cJSON *config = cJSON_ParseWithLength(buf, len);
    free(buf);
    if (!cJSON_IsObject(config)) {
        cJSON_Delete(config);
        return lrc_errorf(
            err, "%s: expected a JSON object; re-download the model's tokenizer files", path);
    }
    int rc = chat_template_from_config(config, ct, err);
    cJSON_Delete(config);
    return rc;
}

typedef struct sbuf {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void put_n(sbuf *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void put(sbuf *b, const char *s) {
    put_n(b, s, strlen(s));
}

/* Jinja's trim / Python's str.strip(): drop surrounding whitespace. */
static void put_trimmed(sbuf *b, const char *s) {
    const char *e = s + strlen(s);
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    put_n(b, s, (size_t)(e - s));
}

int chat_template_render(const chat_template *ct, const char *system, const char *user, char **out,
                         int *bos_in_text, lrc_error *err) {
    sbuf b = {0};
    int bos = 0;
    put(&b, "");
    switch (ct->family) {
    case CHAT_CHATML:
        if (!system)
            system = ct->default_system;
        if (system) {
            put(&b, "<|im_start|>system\n");
            put(&b, system);
            put(&b, "<|im_end|>\n");
        }
        put(&b, "<|im_start|>user\n");
        put(&b, user);
        put(&b, "<|im_end|>\n<|im_start|>assistant\n");
        break;
    case CHAT_LLAMA3:
        put(&b, ct->bos);
        bos = *ct->bos != '\0';
        if (system) {
            put(&b, "<|start_header_id|>system<|end_header_id|>\n\n");
            put_trimmed(&b, system);
            put(&b, "<|eot_id|>");
        }
        put(&b, "<|start_header_id|>user<|end_header_id|>\n\n");
        put_trimmed(&b, user);
        put(&b, "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
        break;
    case CHAT_LLAMA2:
        put(&b, ct->bos);
        bos = *ct->bos != '\0';
        put(&b, "[INST] ");
        if (ct->inst_sys_block) {
            /* Llama 2 chat: system inside <<SYS>>, the whole content stripped. */
            sbuf c = {0};
            if (system) {
                put(&c, "<<SYS>>\n");
                put(&c, system);
                put(&c, "\n<</SYS>>\n\n");
            }
            put(&c, user);
            if (c.oom)
                b.oom = 1;
            else
                put_trimmed(&b, c.s);
            free(c.s);
        } else {
            /* Mistral: no system turn; it goes before the user text. */
            if (system) {
                put(&b, system);
                put(&b, "\n\n");
            }
            put(&b, user);
        }
        put(&b, " [/INST]");
        break;
    case CHAT_PLAIN:
        if (system) {
            put(&b, system);
            put(&b, "\n\n");
        }
        put(&b, "Question: ");
        put(&b, user);
        put(&b, "\nAnswer:");
        break;
    }
    if (b.oom) {
        free(b.s);
        *out = NULL;
        return lrc_errorf(err, "chat template (%s): out of memory", chat_family_name(ct->family));
    }
    *out = b.s;
    if (bos_in_text)
        *bos_in_text = bos;
    return 0;
}
