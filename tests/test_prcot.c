/*
 * Tests for the PR-CoT pipeline (src/reason/prcot.c) over the HTTP backend
 * adapter (src/reason/backend_http.c), against tests/mock_openai.py started
 * on 127.0.0.1 for each case. Scripted replies are chosen by rules on the
 * last user message, so concurrent reflections get their own reply whatever
 * order they arrive in.
 *
 * The expected prompts are rendered here, independently of prompts.c: the
 * test reads each template file from prompts/prcot/, drops the title line
 * and the blank line after it, and replaces {{name}} by plain string
 * substitution. The logged request bodies must equal those renderings.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mock_openai.h"
#include "reason/backend_http.h"
#include "reason/prcot.h"
#include "tap.h"

static char tmpdir[256], mock_path[1024], prompt_dir[1024], key[64];
static FILE *outputs;

/* The perspectives in file-name order, as prompts_load sorts them. */
static const char *const PERSPECTIVES[] = {"alternative-solutions", "biases-ethics",
                                           "information-completeness", "logical-consistency"};
static const char *const TITLES[] = {"Alternative solutions", "Biases and ethics",
                                     "Information completeness", "Logical consistency"};
static const char *const REPLIES[] = {"ALT: a second way also gives 42.", "BIAS: no bias found.",
                                      "INFO: all facts used.", "LOGIC: 6*7 is 42, not 41."};
static const char QUESTION[] = "What is 6*7?";
static const char COT_REPLY[] = "Step 1: 6*7 = 41.\nFinal answer: 41\n";
static const char SYN_REPLY[] = "Step 1: 6*7 = 42.\n**Final answer: 42**";

/* ---- independent template rendering ------------------------------------- */

/* Replace every "{{name}}" in s by value; returns a new string. */
static char *replace_all(char *s, const char *name, const char *value) {
    char pat[64];
    snprintf(pat, sizeof pat, "{{%s}}", name);
    size_t pl = strlen(pat), vl = strlen(value);
    for (char *hit = strstr(s, pat); hit; hit = strstr(s, pat)) {
        size_t before = (size_t)(hit - s), after = strlen(hit + pl);
        char *t = malloc(before + vl + after + 1);
        memcpy(t, s, before);
        memcpy(t + before, value, vl);
        memcpy(t + before + vl, hit + pl, after + 1);
        free(s);
        s = t;
        /* The value itself never contains the pattern in these tests. */
    }
    return s;
}

/* The body of prompts/prcot/NAME.txt with the given values substituted. */
static char *render(const char *name, const char *question, const char *cot,
                    const char *perspective, const char *reflections) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.txt", prompt_dir, name);
    char *text = read_file(path, NULL);
    if (!text)
        return NULL;
    char *body = strchr(text, '\n');
    body = body ? body + 1 : text + strlen(text);
    if (*body == '\n')
        body++;
    char *s = strdup(body);
    free(text);
    s = replace_all(s, "question", question);
    if (cot)
        s = replace_all(s, "cot", cot);
    if (perspective)
        s = replace_all(s, "perspective", perspective);
    if (reflections)
        s = replace_all(s, "reflections", reflections);
    return s;
}

/* "## title\ntext\n" per reflection, a blank line between, texts trimmed. */
static void join(char *out, size_t cap, const char *const *titles, const char *const *texts,
                 size_t n) {
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t tl = strlen(texts[i]);
        while (tl && (texts[i][tl - 1] == '\n' || texts[i][tl - 1] == ' '))
            tl--;
        off += (size_t)snprintf(out + off, cap - off, "%s## %s\n%.*s\n", i ? "\n" : "", titles[i],
                                (int)tl, texts[i]);
    }
}

/* ---- the mock server ---------------------------------------------------- */

static cJSON *reply_text(const char *text, double delay) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "text", text);
    if (delay > 0)
        cJSON_AddNumberToObject(r, "delay", delay);
    return r;
}

static void add_rule(cJSON *script, const char *match, const char *absent, cJSON *reply) {
    cJSON *rules = cJSON_GetObjectItem(script, "rules");
    if (!rules)
        rules = cJSON_AddArrayToObject(script, "rules");
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "match", match);
    if (absent)
        cJSON_AddStringToObject(r, "absent", absent);
    cJSON_AddItemToObject(r, "reply", reply);
    cJSON_AddItemToArray(rules, r);
}

/* A script for the standard PR-CoT run: the synthesis is the only prompt
 * with "## " headings, each perspective prompt names its title, and the
 * chain of thought gets the fallback reply. */
static cJSON *standard_script(double reflection_delay, const char *synthesis) {
    cJSON *s = cJSON_CreateObject();
    add_rule(s, "## ", NULL, reply_text(synthesis, 0));
    for (size_t i = 0; i < 4; i++)
        add_rule(s, TITLES[i], NULL, reply_text(REPLIES[i], reflection_delay));
    cJSON *replies = cJSON_AddArrayToObject(s, "replies");
    cJSON_AddItemToArray(replies, reply_text(COT_REPLY, 0));
    return s;
}

/* Start the mock with `script` (freed here); returns 0 once it listens. */
static int mock_start(mock *m, const char *name, cJSON *script) {
    char *text = cJSON_Print(script);
    cJSON_Delete(script);
    int rc = mock_openai_start(m, tmpdir, mock_path, key, name, text, "30");
    cJSON_free(text);
    return rc;
}

/* The last message's content of logged request i, or "". */
static const char *logged_user(const cJSON *log, int i) {
    const cJSON *e = cJSON_GetArrayItem(log, i);
    const cJSON *body = cJSON_GetObjectItem(e, "body");
    const cJSON *msgs = cJSON_GetObjectItem(body, "messages");
    const cJSON *last = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
    const cJSON *c = cJSON_GetObjectItem(last, "content");
    return cJSON_IsString(c) ? c->valuestring : "";
}

static reason_backend *open_backend(const mock *m, size_t parallel) {
    http_backend_config cfg = {0};
    cfg.base_url = m->base;
    cfg.model = "mock-model";
    cfg.connect_timeout_s = 2;
    cfg.idle_timeout_s = 5;
    cfg.max_attempts = 1;
    reason_sampling s = {0.0, 1.0, 64, 0};
    reason_backend *b = NULL;
    lrc_error err = {{0}};
    if (reason_backend_http_open(&cfg, parallel, &s, &b, &err) != 0)
        diag("open failed: %s", err.msg);
    return b;
}

/* ---- callbacks that record what a UI would see --------------------------- */

typedef struct seen {
    char text[8][512];
    int begun[8], ended[8];
    int begin_order[8], end_order[8];
    int n_begin, n_end;
    double first_reflection_begin, last_reflection_end;
    int cancel_at_stage; /* -1: never */
} seen;

static void cb_begin(size_t stage, const prcot_stage *st, void *user) {
    seen *s = user;
    (void)st;
    if (stage < 8) {
        s->begun[stage]++;
        s->begin_order[s->n_begin++ % 8] = (int)stage;
    }
    if (stage == 1)
        s->first_reflection_begin = now_s();
}

static int cb_token(size_t stage, const char *text, size_t len, void *user) {
    seen *s = user;
    if (stage < 8 && strlen(s->text[stage]) + len < sizeof s->text[stage])
        strncat(s->text[stage], text, len);
    return s->cancel_at_stage >= 0 && (int)stage == s->cancel_at_stage;
}

static void cb_end(size_t stage, const prcot_stage *st, void *user) {
    seen *s = user;
    if (stage < 8) {
        s->ended[stage]++;
        s->end_order[s->n_end++ % 8] = (int)stage;
    }
    if (st->kind == PRCOT_STAGE_REFLECTION)
        s->last_reflection_end = now_s();
}

static int one_line(const char *s) {
    return s[0] && !strchr(s, '\n') && !strchr(s, '\r');
}

static void record(const char *label, const prcot_result *r, const lrc_error *err) {
    fprintf(outputs, "%s: err=[%s]\n", label, err->msg);
    for (size_t i = 0; i < r->n_stages; i++)
        fprintf(outputs, "  stage %zu %s: %s\n", i, r->stages[i].name, r->stages[i].text);
}

/* Words and their trailing spaces: the pieces the mock streams a text in. */
static int count_pieces(const char *t) {
    int n = 0;
    for (size_t i = 0; t[i]; i++)
        if (i == 0 || (t[i] != ' ' && t[i - 1] == ' '))
            n++;
    return n;
}

/* ---- cases -------------------------------------------------------------- */

static prompt_set prompts;

static void test_stages_in_order(void) {
    mock m;
    if (mock_start(&m, "order", standard_script(0, SYN_REPLY)) != 0) {
        ok(0, "order: mock started");
        return;
    }
    reason_backend *b = open_backend(&m, 4);
    prcot_options opt = {.method = PRCOT_METHOD_PRCOT,
                         .prompts = &prompts,
                         .perspectives = NULL,
                         .n_perspectives = 0,
                         .system = "You are careful."};
    seen sn = {.cancel_at_stage = -1};
    prcot_callbacks cb = {cb_begin, cb_token, cb_end, &sn};
    prcot_result r;
    lrc_error err = {{0}};
    int rc = prcot_run(b, &opt, QUESTION, &cb, &r, &err);
    record("order", &r, &err);
    mock_stop(&m);
    ok(rc == 0, "order: prcot_run succeeds (%s)", err.msg);
    ok(r.n_stages == 6, "order: 6 stages (got %zu)", r.n_stages);
    if (rc != 0 || r.n_stages != 6) {
        prcot_result_free(&r);
        reason_backend_free(b);
        return;
    }
    ok(r.initial_answer && strcmp(r.initial_answer, "41") == 0, "order: initial answer 41");
    ok(r.final_answer && strcmp(r.final_answer, "42") == 0, "order: final answer 42");
    ok(strcmp(r.stages[0].text, COT_REPLY) == 0, "order: CoT text is the scripted reply");
    ok(r.stages[0].n_tokens == count_pieces(COT_REPLY), "order: CoT counts %d streamed pieces",
       count_pieces(COT_REPLY));
    int texts_ok = 1, names_ok = 1;
    for (size_t i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "perspective-%s", PERSPECTIVES[i]);
        texts_ok &= strcmp(r.stages[1 + i].text, REPLIES[i]) == 0;
        names_ok &= strcmp(r.stages[1 + i].name, name) == 0 &&
                    strcmp(r.stages[1 + i].title, TITLES[i]) == 0 &&
                    r.stages[1 + i].kind == PRCOT_STAGE_REFLECTION;
    }
    ok(names_ok, "order: reflections in file-name order with their titles");
    ok(texts_ok, "order: each reflection got its own scripted reply");
    ok(strcmp(r.stages[5].name, "synthesize") == 0 && r.stages[5].kind == PRCOT_STAGE_SYNTHESIS,
       "order: last stage is the synthesis");
    int cb_ok = 1;
    for (int i = 0; i < 6; i++)
        cb_ok &= sn.begun[i] == 1 && sn.ended[i] == 1 && strcmp(sn.text[i], r.stages[i].text) == 0;
    ok(cb_ok, "order: callbacks saw each stage begin and end once, with its full text");
    ok(sn.begin_order[0] == 0 && sn.begin_order[5] == 5 && sn.end_order[0] == 0 &&
           sn.end_order[5] == 5,
       "order: CoT callbacks first, synthesis callbacks last");

    cJSON *log = mock_log(&m);
    ok(cJSON_GetArraySize(log) == 6, "order: 6 requests reached the server (got %d)",
       cJSON_GetArraySize(log));
    char *cot_expect = render("cot", QUESTION, NULL, NULL, NULL);
    ok(cot_expect && strcmp(logged_user(log, 0), cot_expect) == 0,
       "order: request 1 is the rendered cot.txt");
    ok(strcmp(r.stages[0].prompt, cot_expect ? cot_expect : "") == 0,
       "order: stage 0 keeps the prompt it sent");

    /* Requests 2-5: the four rendered perspectives, in any order. */
    char cot_trimmed[512];
    snprintf(cot_trimmed, sizeof cot_trimmed, "%s", COT_REPLY);
    cot_trimmed[strlen(cot_trimmed) - 1] = '\0';
    int found[4] = {0};
    for (int i = 1; i <= 4; i++)
        for (size_t k = 0; k < 4; k++) {
            char name[64];
            snprintf(name, sizeof name, "perspective-%s", PERSPECTIVES[k]);
            char *want = render(name, QUESTION, cot_trimmed, TITLES[k], NULL);
            if (want && strcmp(logged_user(log, i), want) == 0)
                found[k]++;
            free(want);
        }
    ok(found[0] == 1 && found[1] == 1 && found[2] == 1 && found[3] == 1,
       "order: requests 2-5 are the four rendered perspective templates");

    char joined[4096];
    join(joined, sizeof joined, TITLES, REPLIES, 4);
    char *syn_expect = render("synthesize", QUESTION, cot_trimmed, NULL, joined);
    const char *syn = logged_user(log, 5);
    ok(syn_expect && strcmp(syn, syn_expect) == 0, "order: request 6 is the rendered synthesis");
    int all_in = 1;
    for (size_t k = 0; k < 4; k++)
        all_in &= strstr(syn, REPLIES[k]) != NULL;
    ok(all_in, "order: the synthesis request contains every reflection's text");

    int auth_ok = 1, sys_ok = 1, body_ok = 1;
    for (int i = 0; i < cJSON_GetArraySize(log); i++) {
        const cJSON *e = cJSON_GetArrayItem(log, i);
        auth_ok &= cJSON_IsTrue(cJSON_GetObjectItem(e, "auth_ok"));
        const cJSON *body = cJSON_GetObjectItem(e, "body");
        const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(body, "messages"), 0);
        sys_ok &= strcmp(cJSON_GetObjectItem(m0, "role")->valuestring, "system") == 0 &&
                  strcmp(cJSON_GetObjectItem(m0, "content")->valuestring, "You are careful.") == 0;
        const cJSON *model = cJSON_GetObjectItem(body, "model");
        body_ok &= cJSON_IsString(model) && strcmp(model->valuestring, "mock-model") == 0 &&
                   cJSON_IsTrue(cJSON_GetObjectItem(body, "stream")) &&
                   cJSON_GetObjectItem(body, "max_tokens")->valueint == 64;
    }
    ok(auth_ok, "order: every request carries the key as a bearer header");
    ok(sys_ok, "order: every request starts with the system message");
    ok(body_ok, "order: model, stream and max_tokens in every body");
    free(cot_expect);
    free(syn_expect);
    cJSON_Delete(log);
    prcot_result_free(&r);
    reason_backend_free(b);
}

/* Four reflections, each delayed 1 s by the server, must overlap. */
static double reflection_wall(size_t parallel, int *run_ok) {
    mock m;
    *run_ok = 0;
    if (mock_start(&m, "delay", standard_script(1.0, SYN_REPLY)) != 0)
        return -1;
    reason_backend *b = open_backend(&m, parallel);
    prcot_options opt = {.method = PRCOT_METHOD_PRCOT,
                         .prompts = &prompts,
                         .perspectives = NULL,
                         .n_perspectives = 0,
                         .system = NULL};
    seen sn = {.cancel_at_stage = -1};
    prcot_callbacks cb = {cb_begin, cb_token, cb_end, &sn};
    prcot_result r;
    lrc_error err = {{0}};
    int rc = prcot_run(b, &opt, QUESTION, &cb, &r, &err);
    record("delay", &r, &err);
    mock_stop(&m);
    double each_min = 1e9;
    for (size_t i = 1; rc == 0 && i <= 4; i++)
        if (r.stages[i].seconds < each_min)
            each_min = r.stages[i].seconds;
    *run_ok = rc == 0 && each_min >= 0.95;
    if (!*run_ok)
        diag("run failed (%s) or a reflection took %.3f s < 0.95 s", err.msg, each_min);
    double wall = sn.last_reflection_end - sn.first_reflection_begin;
    diag("parallel %zu: reflection stage %.3f s (prcot_result says %.3f s)", parallel, wall,
         r.reflections_seconds);
    prcot_result_free(&r);
    reason_backend_free(b);
    return wall;
}

static void test_concurrency(void) {
    int ok4, ok1;
    double s4 = reflection_wall(4, &ok4);
    ok(ok4, "concurrency: run succeeds and every reflection took its 1 s delay");
    ok(s4 > 0 && s4 < 2.0, "concurrency: 4 reflections with parallel 4 took %.3f s (< 2 s)", s4);
    double s1 = reflection_wall(1, &ok1);
    ok(ok1 && s1 >= 3.9, "concurrency: with parallel 1 they took %.3f s (>= 3.9 s)", s1);
}

static void test_reflect_and_cot(void) {
    mock m;
    cJSON *s = cJSON_CreateObject();
    add_rule(s, "## Reflection", NULL, reply_text(SYN_REPLY, 0));
    add_rule(s, "First attempt", NULL, reply_text("REFLECT: check the product.", 0));
    cJSON_AddItemToArray(cJSON_AddArrayToObject(s, "replies"), reply_text(COT_REPLY, 0));
    if (mock_start(&m, "reflect", s) != 0) {
        ok(0, "reflect: mock started");
        return;
    }
    reason_backend *b = open_backend(&m, 4);
    prcot_options opt = {.method = PRCOT_METHOD_REFLECT,
                         .prompts = &prompts,
                         .perspectives = NULL,
                         .n_perspectives = 0,
                         .system = NULL};
    prcot_result r;
    lrc_error err = {{0}};
    int rc = prcot_run(b, &opt, QUESTION, NULL, &r, &err);
    record("reflect", &r, &err);
    ok(rc == 0 && r.n_stages == 3, "reflect: 3 stages (%s)", err.msg);
    ok(rc == 0 && strcmp(r.stages[1].name, "reflect") == 0 &&
           strcmp(r.stages[1].text, "REFLECT: check the product.") == 0,
       "reflect: stage 1 is the generic reflection");
    ok(rc == 0 && strcmp(r.final_answer, "42") == 0 && strcmp(r.initial_answer, "41") == 0,
       "reflect: answers 41 then 42");
    prcot_result_free(&r);

    opt.method = PRCOT_METHOD_COT;
    rc = prcot_run(b, &opt, QUESTION, NULL, &r, &err);
    record("cot", &r, &err);
    ok(rc == 0 && r.n_stages == 1 && strcmp(r.final_answer, "41") == 0 &&
           strcmp(r.initial_answer, "41") == 0 && r.reflections_seconds == 0,
       "cot: one stage, final answer = initial answer 41");
    prcot_result_free(&r);
    mock_stop(&m);

    cJSON *log = mock_log(&m);
    ok(cJSON_GetArraySize(log) == 4, "reflect+cot: 3 + 1 requests (got %d)",
       cJSON_GetArraySize(log));
    char cot_trimmed[512];
    snprintf(cot_trimmed, sizeof cot_trimmed, "%s", COT_REPLY);
    cot_trimmed[strlen(cot_trimmed) - 1] = '\0';
    char *ref = render("reflect", QUESTION, cot_trimmed, NULL, NULL);
    ok(ref && strcmp(logged_user(log, 1), ref) == 0, "reflect: request 2 is reflect.txt rendered");
    const char *titles[] = {"Reflection"}, *texts[] = {"REFLECT: check the product."};
    char joined[1024];
    join(joined, sizeof joined, titles, texts, 1);
    char *syn = render("synthesize", QUESTION, cot_trimmed, NULL, joined);
    ok(syn && strcmp(logged_user(log, 2), syn) == 0,
       "reflect: request 3 is the synthesis with one '## Reflection' section");
    free(ref);
    free(syn);
    cJSON_Delete(log);
    reason_backend_free(b);
}

static void test_selected_perspectives(void) {
    size_t *idx = NULL, n = 0;
    lrc_error err = {{0}};
    int rc = prcot_select_perspectives(&prompts, " logical-consistency,perspective-biases-ethics",
                                       &idx, &n, &err);
    ok(rc == 0 && n == 2 && idx[0] == 3 && idx[1] == 1,
       "select: short and full names map to indexes 3 and 1 in the given order");
    mock m;
    if (rc != 0 || mock_start(&m, "select", standard_script(0, SYN_REPLY)) != 0) {
        free(idx);
        ok(0, "select: mock started");
        return;
    }
    reason_backend *b = open_backend(&m, 4);
    prcot_options opt = {.method = PRCOT_METHOD_PRCOT,
                         .prompts = &prompts,
                         .perspectives = idx,
                         .n_perspectives = n,
                         .system = NULL};
    prcot_result r;
    rc = prcot_run(b, &opt, QUESTION, NULL, &r, &err);
    mock_stop(&m);
    ok(rc == 0 && r.n_stages == 4 && strcmp(r.stages[1].title, "Logical consistency") == 0 &&
           strcmp(r.stages[2].title, "Biases and ethics") == 0,
       "select: two reflections run in the order given (%s)", err.msg);
    cJSON *log = mock_log(&m);
    const char *titles[] = {TITLES[3], TITLES[1]}, *texts[] = {REPLIES[3], REPLIES[1]};
    char joined[2048], cot_trimmed[512];
    join(joined, sizeof joined, titles, texts, 2);
    snprintf(cot_trimmed, sizeof cot_trimmed, "%s", COT_REPLY);
    cot_trimmed[strlen(cot_trimmed) - 1] = '\0';
    char *syn = render("synthesize", QUESTION, cot_trimmed, NULL, joined);
    ok(cJSON_GetArraySize(log) == 4 && syn && strcmp(logged_user(log, 3), syn) == 0,
       "select: the synthesis joins the two reflections in that order");
    free(syn);
    cJSON_Delete(log);
    prcot_result_free(&r);
    reason_backend_free(b);
    free(idx);

    rc = prcot_select_perspectives(&prompts, "logical-consistency,tone", &idx, &n, &err);
    fprintf(outputs, "select unknown: %s\n", err.msg);
    ok(rc != 0 && strstr(err.msg, "unknown perspective 'tone'") &&
           strstr(err.msg, "alternative-solutions, biases-ethics") && one_line(err.msg),
       "select: an unknown name is an error listing the available ones");
    rc = prcot_select_perspectives(&prompts, "biases-ethics,perspective-biases-ethics", &idx, &n,
                                   &err);
    ok(rc != 0 && strstr(err.msg, "twice"), "select: a repeated name is an error");
    rc = prcot_select_perspectives(&prompts, "biases-ethics,,", &idx, &n, &err);
    ok(rc != 0 && strstr(err.msg, "empty name"), "select: an empty name is an error");
}

static void test_methods(void) {
    prcot_method m = PRCOT_METHOD_COT;
    lrc_error err = {{0}};
    ok(prcot_method_parse("reflect", &m, &err) == 0 && m == PRCOT_METHOD_REFLECT,
       "method: 'reflect' parses");
    ok(prcot_method_parse("pr-cot", &m, &err) != 0 && strstr(err.msg, "cot, reflect or prcot"),
       "method: an unknown name lists the valid ones");
    ok(strcmp(prcot_method_name(PRCOT_METHOD_PRCOT), "prcot") == 0, "method: name of prcot");
}

/* A check_prompt hook that rejects the synthesis: nothing of it is sent. */
static int reject_synthesis(const prcot_stage *st, const char *system, void *user, lrc_error *err) {
    int *calls = user;
    (void)system;
    (*calls)++;
    if (st->kind != PRCOT_STAGE_SYNTHESIS)
        return 0;
    return lrc_errorf(err, "too long here (%zu bytes)", strlen(st->prompt));
}

static void test_check_prompt(void) {
    mock m;
    if (mock_start(&m, "checkprompt", standard_script(0, SYN_REPLY)) != 0) {
        ok(0, "check_prompt: mock started");
        return;
    }
    reason_backend *b = open_backend(&m, 4);
    int calls = 0;
    prcot_options opt = {.method = PRCOT_METHOD_PRCOT, .prompts = &prompts};
    opt.check_prompt = reject_synthesis;
    opt.check_user = &calls;
    prcot_result r;
    lrc_error err = {{0}};
    int rc = prcot_run(b, &opt, QUESTION, NULL, &r, &err);
    record("checkprompt", &r, &err);
    ok(rc == -1 && r.prompt_rejected == 1 && r.answer_missing == 0,
       "check_prompt: a rejected prompt fails the run and is flagged");
    ok(strstr(err.msg, "stage synthesis 'Synthesis': too long here (") == err.msg,
       "check_prompt: the error names the stage: %s", err.msg);
    ok(r.n_stages == 5 && calls == 6, "check_prompt: 5 stages kept, the hook saw all 6 (%zu, %d)",
       r.n_stages, calls);
    prcot_result_free(&r);
    mock_stop(&m);
    cJSON *log = mock_log(&m);
    ok(cJSON_GetArraySize(log) == 5, "check_prompt: the synthesis never reached the server (%d)",
       cJSON_GetArraySize(log));
    cJSON_Delete(log);
    reason_backend_free(b);
}

static void test_errors(void) {
    /* A synthesis without a final-answer line. */
    mock m;
    if (mock_start(&m, "noanswer", standard_script(0, "I am not sure. The product is big.")) != 0) {
        ok(0, "errors: mock started");
        return;
    }
    reason_backend *b = open_backend(&m, 4);
    prcot_options opt = {.method = PRCOT_METHOD_PRCOT,
                         .prompts = &prompts,
                         .perspectives = NULL,
                         .n_perspectives = 0,
                         .system = NULL};
    prcot_result r;
    lrc_error err = {{0}};
    int rc = prcot_run(b, &opt, QUESTION, NULL, &r, &err);
    record("noanswer", &r, &err);
    ok(rc != 0 && strstr(err.msg, "stage synthesis 'Synthesis'") &&
           strstr(err.msg, "Final answer") && one_line(err.msg),
       "errors: a synthesis without a final-answer line names the stage: %s", err.msg);
    ok(r.n_stages == 6 && r.answer_missing && !r.final_answer &&
           strcmp(r.initial_answer, "41") == 0,
       "errors: the result keeps all 6 stages and marks the answer missing");
    prcot_result_free(&r);
    mock_stop(&m);
    reason_backend_free(b);

    /* A chain of thought without one fails only the cot method. */
    cJSON *s = standard_script(0, SYN_REPLY);
    cJSON *replies = cJSON_GetObjectItem(s, "replies");
    cJSON_ReplaceItemInArray(replies, 0, reply_text("6*7 is about forty.", 0));
    if (mock_start(&m, "cotnoanswer", s) != 0) {
        ok(0, "errors: mock started");
        return;
    }
    b = open_backend(&m, 4);
    opt.method = PRCOT_METHOD_COT;
    rc = prcot_run(b, &opt, QUESTION, NULL, &r, &err);
    record("cotnoanswer", &r, &err);
    ok(rc != 0 && strstr(err.msg, "stage cot 'Chain of thought'") && strstr(err.msg, "cot.txt") &&
           !strstr(err.msg, "synthesize") && one_line(err.msg),
       "errors: cot without a final-answer line names the stage and cot.txt: %s", err.msg);
    ok(r.n_stages == 1 && r.answer_missing, "errors: the cot stage is kept");
    prcot_result_free(&r);
    opt.method = PRCOT_METHOD_PRCOT;
    rc = prcot_run(b, &opt, QUESTION, NULL, &r, &err);
    ok(rc == 0 && r.initial_answer == NULL && strcmp(r.final_answer, "42") == 0,
       "errors: prcot goes on without an initial answer (%s)", err.msg);
    prcot_result_free(&r);
    mock_stop(&m);
    reason_backend_free(b);

    /* One reflection gets a server error. */
    s = standard_script(0, SYN_REPLY);
    cJSON *rules = cJSON_GetObjectItem(s, "rules");
    cJSON *bad = cJSON_CreateObject();
    cJSON_AddNumberToObject(bad, "status", 400);
    cJSON *eb = cJSON_AddObjectToObject(bad, "body");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(eb, "error"), "message", "bad request");
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(rules, 2), "reply", bad);
    if (mock_start(&m, "refl500", s) != 0) {
        ok(0, "errors: mock started");
        return;
    }
    b = open_backend(&m, 4);
    rc = prcot_run(b, &opt, QUESTION, NULL, &r, &err);
    record("refl500", &r, &err);
    ok(rc != 0 && strstr(err.msg, "stage reflection 'Biases and ethics'") &&
           strstr(err.msg, "HTTP 400") && one_line(err.msg),
       "errors: a failed reflection names its stage: %s", err.msg);
    ok(r.n_stages == 2, "errors: the stages before it are kept (got %zu)", r.n_stages);
    prcot_result_free(&r);

    /* A callback that cancels during the reflections. */
    seen sn = {.cancel_at_stage = 2};
    prcot_callbacks cb = {cb_begin, cb_token, cb_end, &sn};
    mock_stop(&m);
    reason_backend_free(b);
    if (mock_start(&m, "cancel", standard_script(0, SYN_REPLY)) != 0) {
        ok(0, "errors: mock started");
        return;
    }
    b = open_backend(&m, 4);
    rc = prcot_run(b, &opt, QUESTION, &cb, &r, &err);
    record("cancel", &r, &err);
    mock_stop(&m);
    cJSON *log = mock_log(&m);
    ok(rc != 0 && strstr(err.msg, "cancelled") && strstr(err.msg, "stage reflection"),
       "errors: a callback returning nonzero cancels the run: %s", err.msg);
    ok(cJSON_GetArraySize(log) == 5, "errors: no synthesis request after the cancel (got %d)",
       cJSON_GetArraySize(log));
    cJSON_Delete(log);
    prcot_result_free(&r);
    reason_backend_free(b);

    /* A template using a placeholder its stage has no value for. */
    prompt_set broken = prompts;
    prompt_template syn = prompts.synthesize;
    syn.body = "Question: {{question}}\nAs {{perspective}}:\n{{reflections}}\n";
    syn.path = "/tmp/custom/synthesize.txt";
    syn.body_line = 3;
    broken.synthesize = syn;
    if (mock_start(&m, "render", standard_script(0, SYN_REPLY)) != 0) {
        ok(0, "errors: mock started");
        return;
    }
    b = open_backend(&m, 4);
    opt.prompts = &broken;
    rc = prcot_run(b, &opt, QUESTION, NULL, &r, &err);
    record("render", &r, &err);
    mock_stop(&m);
    ok(rc != 0 && strstr(err.msg, "stage synthesis 'Synthesis'") &&
           strstr(err.msg, "/tmp/custom/synthesize.txt:4") && strstr(err.msg, "{{perspective}}"),
       "errors: a placeholder without a value names the stage, file and line: %s", err.msg);
    ok(r.n_stages == 5, "errors: the CoT and reflections are kept");
    prcot_result_free(&r);
    reason_backend_free(b);

    /* Bad endpoint arguments of the adapter. */
    http_backend_config cfg = {0};
    reason_sampling smp = {0, 1, 0, 0};
    cfg.base_url = "ftp://127.0.0.1:1";
    cfg.model = "x";
    ok(reason_backend_http_open(&cfg, 1, &smp, &b, &err) != 0 && strstr(err.msg, "http://") &&
           one_line(err.msg),
       "adapter: a non-http URL is rejected: %s", err.msg);
    cfg.base_url = "http://127.0.0.1:1";
    cfg.model = NULL;
    ok(reason_backend_http_open(&cfg, 1, &smp, &b, &err) != 0 && strstr(err.msg, "--model-name"),
       "adapter: a missing model name is rejected: %s", err.msg);
    cfg.base_url = "http://user:secret@127.0.0.1:8080/v1";
    cfg.model = "m";
    ok(reason_backend_http_open(&cfg, 1, &smp, &b, &err) == 0 &&
           strcmp(b->label, "m at http://127.0.0.1:8080/v1") == 0 && strcmp(b->kind, "http") == 0,
       "adapter: the label leaves out the URL's user and password");
    reason_backend_free(b);
}

int main(void) {
    const char *data = getenv("LRC_TESTDATA");
    if (access(MOCK_PY, X_OK) != 0)
        skip_all("/usr/bin/python3 not found (run ./quickstart to install it)");
    snprintf(mock_path, sizeof mock_path, "%s/mock_openai.py", data ? data : "tests");
    snprintf(prompt_dir, sizeof prompt_dir, "%s/../prompts/prcot", data ? data : "tests");
    if (access(mock_path, R_OK) != 0)
        skip_all("tests/mock_openai.py not found; set LRC_TESTDATA to the tests/ source folder");
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/lrc-prcot-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    /* An empty user folder, so only the shipped templates are found. */
    setenv("XDG_CONFIG_HOME", tmpdir, 1);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    snprintf(key, sizeof key, "sk-prcot-%08x%08x", (unsigned)rand(), (unsigned)getpid());
    setenv("LRC_API_KEY", key, 1);
    unsetenv("OPENAI_API_KEY");
    char opath[512];
    snprintf(opath, sizeof opath, "%s/outputs.txt", tmpdir);
    outputs = fopen(opath, "w");
    lrc_error err = {{0}};
    if (!outputs || prompts_load(&prompts, &err) != 0) {
        printf("Bail out! cannot set up: %s\n", err.msg);
        return 1;
    }
    ok(prompts.n_perspectives == 4, "setup: the four shipped perspectives load");
    if (prompts.n_perspectives != 4)
        return done_testing();

    double t0 = now_s();
    test_methods();
    test_stages_in_order();
    test_concurrency();
    test_reflect_and_cot();
    test_selected_perspectives();
    test_errors();
    test_check_prompt();
    fclose(outputs);

    char canary[600];
    snprintf(canary, sizeof canary, "%s/canary", tmpdir);
    write_file(canary, key);
    ok(scan_for_key(tmpdir, key) == 1, "key scan: finds a planted copy of the key");
    unlink(canary);
    ok(scan_for_key(tmpdir, key) == 0, "key scan: the key is in no result, error or log file");
    diag("total %.2f s", now_s() - t0);
    remove_tree(tmpdir);
    prompts_free(&prompts);
    http_backend_cleanup();
    return done_testing();
}
