/*
 * Tests for the OpenAI-compatible HTTP backend against tests/mock_openai.py,
 * which this program starts on 127.0.0.1 once per case with a scripted reply
 * list. The mock logs every request (body, headers, whether the bearer header
 * equals the key) to a file read back here. Expected texts, statuses and
 * timings come from the scripts, never from an earlier run of the backend.
 * Every error message and reply is also written to outputs.txt in the temp
 * folder, and at the end every file there is searched for the API key.
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
#include "reason/http_backend.h"
#include "tap.h"

static char tmpdir[256], mock_path[1024], key[64];
static FILE *outputs;

/* Start the mock with `script` (JSON text); returns 0 once it listens. */
static int mock_start(mock *m, const char *name, const char *script) {
    return mock_openai_start(m, tmpdir, mock_path, key, name, script, "25");
}

typedef struct tokens {
    char text[4096];
    size_t len;
    int count;
} tokens;

static void on_token(const char *s, size_t n, void *user) {
    tokens *t = user;
    if (t->len + n < sizeof t->text) {
        memcpy(t->text + t->len, s, n);
        t->len += n;
        t->text[t->len] = '\0';
    }
    t->count++;
}

static const http_message MSGS[] = {
    {"system", "You are terse."},
    {"user", "What is 6*7? Reply with \"quotes\" and a newline\n."},
};

static http_request make_req(tokens *t) {
    http_request r = {0};
    r.messages = MSGS;
    r.n_messages = 2;
    r.temperature = -1;
    r.on_token = on_token;
    r.user = t;
    return r;
}

static http_backend_config make_cfg(const mock *m) {
    http_backend_config c = {0};
    c.base_url = m->base;
    c.model = "tiny-chat";
    c.connect_timeout_s = 2;
    c.idle_timeout_s = 1;
    c.max_attempts = 3;
    c.backoff_s = 0.05;
    return c;
}

static void record(const char *label, const http_result *res, const lrc_error *err) {
    fprintf(outputs, "%s: text=[%s] err=[%s] res.err=[%s]\n", label, res->text ? res->text : "",
            err ? err->msg : "", res->err.msg);
    fflush(outputs);
}

static int one_line(const char *s) {
    return s[0] && !strchr(s, '\n') && !strchr(s, '\r');
}

#define EV(s)                                                                                      \
    "data: {\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"content\\\":\\\"" s               \
    "\\\"}}]}\\n\\n"

static void test_normal(void) {
    mock m;
    const char *script =
        "{\"replies\":[{\"chunks\":["
        "\": keep-alive comment\\n\\n\","
        "\"data: {\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"role\\\":"
        "\\\"assistant\\\"}}]}\\r\\n\\r\\n\","
        "\"" EV("Hel") "\","
                       "\"data: {\\\"choices\\\":[{\\\"delta\\\":{\\\"content\\\":\\\"lo, w\","
                       "[\"\\u00f6rld\\\"}}]}\\n\\n\", 0.05],"
                       "\"" EV("!\\\\n42") "data: {\\\"choices\\\":[{\\\"delta\\\":{},"
                                           "\\\"finish_reason\\\":\\\"stop\\\"}]}\\n\\n\","
                                           "\"data: [DONE]\\n\\n\"]}]}";
    if (mock_start(&m, "normal", script) != 0) {
        ok(0, "normal: mock started");
        return;
    }
    tokens t = {0};
    http_request r = make_req(&t);
    const char *stop[] = {"\n\nQ:", "END"};
    r.temperature = 0.5;
    r.top_p = 0.9;
    r.max_tokens = 64;
    r.stop = stop;
    r.n_stop = 2;
    http_backend_config c = make_cfg(&m);
    char base[96];
    snprintf(base, sizeof base, "%s/v1/", m.base);
    c.base_url = base; /* a trailing /v1/ is accepted */
    http_result res;
    lrc_error err = {{0}};
    int rc = http_backend_chat(&c, &r, &res, &err);
    record("normal", &res, &err);
    mock_stop(&m);
    ok(rc == 0, "normal: request succeeds (%s)", err.msg);
    const char *want = "Hello, w\xc3\xb6rld!\n42";
    ok(res.text && strcmp(res.text, want) == 0 && res.len == strlen(want),
       "normal: reply assembled exactly");
    ok(t.count == 3, "normal: 3 token callbacks (got %d)", t.count);
    ok(strcmp(t.text, want) == 0, "normal: tokens in order");
    ok(res.attempts == 1, "normal: one attempt");
    ok(res.status == 200, "normal: status 200");
    cJSON *log = mock_log(&m);
    cJSON *e = cJSON_GetArrayItem(log, 0);
    ok(cJSON_GetArraySize(log) == 1, "normal: one request logged");
    const cJSON *path = cJSON_GetObjectItem(e, "path");
    ok(cJSON_IsString(path) && strcmp(path->valuestring, "/v1/chat/completions") == 0,
       "normal: POST to /v1/chat/completions");
    ok(cJSON_IsTrue(cJSON_GetObjectItem(e, "auth_ok")), "normal: bearer header carries key");
    const cJSON *h = cJSON_GetObjectItem(e, "headers");
    const cJSON *ct = cJSON_GetObjectItem(h, "content-type");
    ok(cJSON_IsString(ct) && strcmp(ct->valuestring, "application/json") == 0,
       "normal: Content-Type application/json");
    const cJSON *b = cJSON_GetObjectItem(e, "body");
    const cJSON *model = cJSON_GetObjectItem(b, "model");
    ok(cJSON_IsString(model) && strcmp(model->valuestring, "tiny-chat") == 0, "body: model");
    ok(cJSON_IsTrue(cJSON_GetObjectItem(b, "stream")), "body: stream true");
    const cJSON *msgs = cJSON_GetObjectItem(b, "messages");
    int msgs_ok = cJSON_GetArraySize(msgs) == 2;
    for (int i = 0; msgs_ok && i < 2; i++) {
        const cJSON *mi = cJSON_GetArrayItem(msgs, i);
        const cJSON *role = cJSON_GetObjectItem(mi, "role");
        const cJSON *content = cJSON_GetObjectItem(mi, "content");
        msgs_ok = cJSON_IsString(role) && cJSON_IsString(content) &&
                  strcmp(role->valuestring, MSGS[i].role) == 0 &&
                  strcmp(content->valuestring, MSGS[i].content) == 0;
    }
    ok(msgs_ok, "body: messages round-trip");
    const cJSON *temp = cJSON_GetObjectItem(b, "temperature");
    const cJSON *topp = cJSON_GetObjectItem(b, "top_p");
    const cJSON *maxt = cJSON_GetObjectItem(b, "max_tokens");
    ok(cJSON_IsNumber(temp) && temp->valuedouble == 0.5, "body: temperature 0.5");
    ok(cJSON_IsNumber(topp) && topp->valuedouble == 0.9, "body: top_p 0.9");
    ok(cJSON_IsNumber(maxt) && maxt->valueint == 64, "body: max_tokens 64");
    const cJSON *st = cJSON_GetObjectItem(b, "stop");
    ok(cJSON_GetArraySize(st) == 2 &&
           strcmp(cJSON_GetArrayItem(st, 0)->valuestring, "\n\nQ:") == 0 &&
           strcmp(cJSON_GetArrayItem(st, 1)->valuestring, "END") == 0,
       "body: stop strings");
    cJSON_Delete(log);
    http_result_free(&res);
}

/* Run one request against a one-case script; returns rc and fills res/err/t. */
static int run_case(const char *name, const char *script, http_backend_config *over, mock *m,
                    http_result *res, lrc_error *err, tokens *t, double *secs) {
    memset(err, 0, sizeof *err);
    if (mock_start(m, name, script) != 0)
        return -2;
    http_request r = make_req(t);
    http_backend_config c = make_cfg(m);
    if (over) {
        if (over->max_attempts)
            c.max_attempts = over->max_attempts;
        if (over->idle_timeout_s > 0)
            c.idle_timeout_s = over->idle_timeout_s;
        if (over->model)
            c.model = over->model;
    }
    double t0 = now_s();
    int rc = http_backend_chat(&c, &r, res, err);
    *secs = now_s() - t0;
    record(name, res, err);
    mock_stop(m);
    return rc;
}

static int log_count(const mock *m) {
    cJSON *log = mock_log(m);
    int n = cJSON_GetArraySize(log);
    cJSON_Delete(log);
    return n;
}

/* Check that a request failed with a one-line error containing `want`. */
static void expect_error(const char *label, int rc, const lrc_error *err, const char *want) {
    ok(rc == -1, "%s: request fails", label);
    ok(one_line(err->msg), "%s: error is one line", label);
    ok(strstr(err->msg, want) != NULL, "%s: error says '%s'", label, want);
    diag("%s: %s", label, err->msg);
}

static void test_errors(void) {
    mock m;
    http_result res;
    lrc_error err;
    tokens t;
    double secs;
    int rc;

    /* A malformed event after one good token. */
    memset(&t, 0, sizeof t);
    rc = run_case(
        "malformed",
        "{\"replies\":[{\"chunks\":[\"" EV("ok") "\",\"data: {\\\"choices\\\": [\\n\\n\","
                                                 "\"" EV("late") "\",\"data: [DONE]\\n\\n\"]}]}",
        NULL, &m, &res, &err, &t, &secs);
    expect_error("malformed event", rc, &err, "stream event 2 (ending at byte 79)");
    ok(res.attempts == 1, "malformed event: not retried");
    ok(t.count == 1 && strcmp(t.text, "ok") == 0, "malformed event: earlier token delivered");
    http_result_free(&res);

    /* A disconnect mid-stream (chunked body never terminated). */
    memset(&t, 0, sizeof t);
    rc = run_case("disconnect",
                  "{\"replies\":[{\"chunks\":[\"" EV("part") "\",\"data: {\\\"cho\"],"
                                                             "\"disconnect\":true}]}",
                  NULL, &m, &res, &err, &t, &secs);
    expect_error("disconnect", rc, &err, "closed mid-stream");
    ok(res.attempts == 1, "disconnect: not retried");
    ok(res.text && strcmp(res.text, "part") == 0, "disconnect: partial text kept");
    http_result_free(&res);

    /* A clean close without [DONE] is also an incomplete reply. */
    memset(&t, 0, sizeof t);
    rc = run_case("nodone", "{\"replies\":[{\"chunks\":[\"" EV("x") "\"]}]}", NULL, &m, &res, &err,
                  &t, &secs);
    expect_error("close without [DONE]", rc, &err, "without 'data: [DONE]'");
    http_result_free(&res);

    /* 429 with Retry-After: 1, then success. */
    memset(&t, 0, sizeof t);
    rc = run_case("r429",
                  "{\"replies\":[{\"status\":429,\"headers\":{\"Retry-After\":\"1\"},"
                  "\"body\":{\"error\":{\"message\":\"slow down\"}}},"
                  "{\"chunks\":[\"" EV("after wait") "\",\"data: [DONE]\\n\\n\"]}]}",
                  NULL, &m, &res, &err, &t, &secs);
    cJSON *log = mock_log(&m);
    double gap = -1;
    if (cJSON_GetArraySize(log) == 2)
        gap = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "t")->valuedouble -
              cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "t")->valuedouble;
    cJSON_Delete(log);
    ok(rc == 0, "429: succeeds on retry (%s)", err.msg);
    ok(res.attempts == 2, "429: two attempts");
    ok(res.text && strcmp(res.text, "after wait") == 0, "429: reply from the retry");
    ok(gap >= 1.0, "429: retry waited %.3f s (>= 1 s)", gap);
    diag("429 + Retry-After: 1 took %.3f s", secs);
    http_result_free(&res);

    /* 500 once, then success. */
    memset(&t, 0, sizeof t);
    rc = run_case("r500",
                  "{\"replies\":[{\"status\":500,\"body\":{\"error\":{\"message\":\"boom\"}}},"
                  "{\"chunks\":[\"" EV("fine") "\",\"data: [DONE]\\n\\n\"]}]}",
                  NULL, &m, &res, &err, &t, &secs);
    ok(rc == 0, "500: succeeds on retry (%s)", err.msg);
    ok(res.attempts == 2 && log_count(&m) == 2, "500: two attempts");
    ok(res.text && strcmp(res.text, "fine") == 0, "500: reply from the retry");
    http_result_free(&res);

    /* 503 forever: the attempts are bounded (3 here). */
    memset(&t, 0, sizeof t);
    rc = run_case("r503",
                  "{\"replies\":[{\"status\":503,\"body\":{\"error\":{\"message\":\"down\"}}}]}",
                  NULL, &m, &res, &err, &t, &secs);
    expect_error("503 forever", rc, &err, "HTTP 503 after 3 attempts: down");
    ok(log_count(&m) == 3 && res.attempts == 3, "503 forever: exactly 3 requests");
    http_result_free(&res);

    /* A stream that stalls after one token (idle timeout 1 s). */
    memset(&t, 0, sizeof t);
    rc = run_case("stall", "{\"replies\":[{\"chunks\":[\"" EV("slow") "\"],\"stall\":6}]}", NULL,
                  &m, &res, &err, &t, &secs);
    expect_error("stall", rc, &err, "the stream stalled");
    ok(secs < 4.0, "stall: gave up after %.2f s (< 4 s)", secs);
    http_result_free(&res);

    /* No reply headers within the idle timeout. */
    memset(&t, 0, sizeof t);
    rc = run_case("silent", "{\"replies\":[{\"delay\":5,\"status\":200,\"chunks\":[]}]}", NULL, &m,
                  &res, &err, &t, &secs);
    expect_error("silent server", rc, &err, "no reply headers");
    ok(secs < 4.0, "silent server: gave up after %.2f s (< 4 s)", secs);
    http_result_free(&res);

    /* 401 */
    memset(&t, 0, sizeof t);
    rc = run_case("r401",
                  "{\"replies\":[{\"status\":401,\"body\":{\"error\":{\"message\":\"Incorrect API "
                  "key\"}}}]}",
                  NULL, &m, &res, &err, &t, &secs);
    expect_error("401", rc, &err, "the endpoint rejected the API key; set LRC_API_KEY");
    ok(res.attempts == 1, "401: not retried");
    http_result_free(&res);

    /* 404 without a model in the body */
    memset(&t, 0, sizeof t);
    rc = run_case("r404", "{\"replies\":[{\"status\":404,\"body\":{\"detail\":\"Not Found\"}}]}",
                  NULL, &m, &res, &err, &t, &secs);
    expect_error("404", rc, &err, "HTTP 404: no chat-completions endpoint");
    http_result_free(&res);

    /* 404 with a server message: the message, and the model name to check */
    memset(&t, 0, sizeof t);
    rc = run_case("r404msg",
                  "{\"replies\":[{\"status\":404,\"body\":{\"error\":{\"message\":\"route "
                  "gone\"}}}]}",
                  NULL, &m, &res, &err, &t, &secs);
    expect_error("404 with a message", rc, &err, "HTTP 404: route gone; check --model-name");
    http_result_free(&res);

    /* A model the server does not have. */
    memset(&t, 0, sizeof t);
    http_backend_config over = {0};
    over.model = "no-such-model-7b";
    rc = run_case("model",
                  "{\"replies\":[{\"status\":404,\"body\":{\"error\":{\"message\":\"The model "
                  "`no-such-model-7b` does not exist\",\"type\":\"invalid_request_error\","
                  "\"code\":\"model_not_found\"}}}]}",
                  &over, &m, &res, &err, &t, &secs);
    expect_error("unknown model", rc, &err, "the server has no model 'no-such-model-7b'");
    http_result_free(&res);

    /* Connection refused, because the last mock has stopped. */
    memset(&t, 0, sizeof t);
    memset(&err, 0, sizeof err);
    http_backend_config c = make_cfg(&m);
    http_request r = make_req(&t);
    rc = http_backend_chat(&c, &r, &res, &err);
    record("refused", &res, &err);
    expect_error("connection refused", rc, &err, m.base);
    http_result_free(&res);
}

static void test_key_fallback(void) {
    mock m;
    http_result res;
    lrc_error err = {{0}};
    tokens t = {0};
    double secs;
    unsetenv("LRC_API_KEY");
    setenv("OPENAI_API_KEY", key, 1);
    int rc = run_case("openai_key",
                      "{\"replies\":[{\"chunks\":[\"" EV("k") "\",\"data: [DONE]\\n\\n\"]}]}", NULL,
                      &m, &res, &err, &t, &secs);
    cJSON *log = mock_log(&m);
    ok(rc == 0 && cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "auth_ok")),
       "OPENAI_API_KEY is used when LRC_API_KEY is unset");
    cJSON_Delete(log);
    http_result_free(&res);
    setenv("LRC_API_KEY", "wrong-key", 1);
    rc =
        run_case("lrc_key", "{\"replies\":[{\"chunks\":[\"" EV("k") "\",\"data: [DONE]\\n\\n\"]}]}",
                 NULL, &m, &res, &err, &t, &secs);
    log = mock_log(&m);
    ok(rc == 0 && cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "auth_ok")),
       "LRC_API_KEY takes precedence over OPENAI_API_KEY (the mock sees a different key)");
    cJSON_Delete(log);
    http_result_free(&res);
    setenv("LRC_API_KEY", key, 1);
    unsetenv("OPENAI_API_KEY");
}

static double run_parallel(const mock *m, size_t parallel, int *all_ok) {
    tokens t[4];
    http_request r[4];
    http_result res[4];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 4; i++)
        r[i] = make_req(&t[i]);
    http_backend_config c = make_cfg(m);
    c.idle_timeout_s = 5;
    lrc_error err = {{0}};
    double t0 = now_s();
    int rc = http_backend_run_many(&c, r, 4, parallel, res, &err);
    double secs = now_s() - t0;
    *all_ok = rc == 0;
    for (int i = 0; i < 4; i++) {
        record("parallel", &res[i], &err);
        if (!res[i].text || strcmp(res[i].text, "one two") != 0 || t[i].count != 2 ||
            strcmp(t[i].text, "one two") != 0)
            *all_ok = 0;
        http_result_free(&res[i]);
    }
    return secs;
}

static void test_concurrency(void) {
    mock m;
    if (mock_start(&m, "parallel",
                   "{\"replies\":[{\"delay\":1.0,\"chunks\":[\"" EV("one") "\",\"" EV(
                       " two") "\","
                               "\"data: [DONE]\\n\\n\"]}]}") != 0) {
        ok(0, "concurrency: mock started");
        return;
    }
    int ok4, ok1;
    double s4 = run_parallel(&m, 4, &ok4);
    double s1 = run_parallel(&m, 1, &ok1);
    mock_stop(&m);
    diag("four 1-second replies: %.3f s with parallel 4, %.3f s with parallel 1", s4, s1);
    ok(ok4 && ok1, "concurrency: every request got its own full reply and tokens");
    ok(s4 < 2.0, "concurrency: parallel 4 took %.3f s (< 2 s)", s4);
    ok(s1 >= 3.9, "concurrency: parallel 1 took %.3f s (>= 3.9 s, one at a time)", s1);
    ok(log_count(&m) == 8, "concurrency: 8 requests reached the server");
}

/* One of four concurrent requests gets a 429 and is retried alone. */
static void test_concurrent_retry(void) {
    mock m;
    if (mock_start(
            &m, "mixed",
            "{\"replies\":[{\"status\":429,\"body\":{\"error\":{\"message\":\"busy\"}}},"
            "{\"chunks\":[\"" EV("one") "\",\"" EV(" two") "\",\"data: [DONE]\\n\\n\"]}]}") != 0) {
        ok(0, "concurrent retry: mock started");
        return;
    }
    tokens t[4];
    http_request r[4];
    http_result res[4];
    memset(t, 0, sizeof t);
    for (int i = 0; i < 4; i++)
        r[i] = make_req(&t[i]);
    http_backend_config c = make_cfg(&m);
    lrc_error err = {{0}};
    int rc = http_backend_run_many(&c, r, 4, 4, res, &err);
    mock_stop(&m);
    int attempts = 0, texts_ok = 1;
    for (int i = 0; i < 4; i++) {
        record("mixed", &res[i], &err);
        attempts += res[i].attempts;
        if (!res[i].text || strcmp(res[i].text, "one two") != 0 || t[i].count != 2)
            texts_ok = 0;
        http_result_free(&res[i]);
    }
    ok(rc == 0, "concurrent retry: all succeed (%s)", err.msg);
    ok(texts_ok, "concurrent retry: every reply complete");
    ok(attempts == 5, "concurrent retry: 5 attempts in all (got %d)", attempts);
    ok(log_count(&m) == 5, "concurrent retry: 5 requests logged");
}

/* ---- Ctrl-C, retries shown, URLs and keys --------------------------------- */

static volatile sig_atomic_t cancel_flag;

static void on_usr1(int sig) {
    (void)sig;
    cancel_flag = 1;
}

/* Send ourselves SIGUSR1 after ms milliseconds, as a user's Ctrl-C would. */
static pid_t signal_later(long ms) {
    pid_t parent = getpid(), pid = fork();
    if (pid == 0) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    return pid;
}

/* Run script with the config's cancel flag raised after 500 ms. */
static void cancel_case(const char *name, const char *script, double backoff_max) {
    mock m;
    tokens t = {0};
    http_result res;
    lrc_error err = {{0}};
    if (mock_start(&m, name, script) != 0) {
        ok(0, "%s: mock started", name);
        return;
    }
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old);
    cancel_flag = 0;
    http_request r = make_req(&t);
    http_backend_config c = make_cfg(&m);
    c.idle_timeout_s = 60;
    c.max_attempts = 4;
    c.backoff_max_s = backoff_max;
    c.cancel = &cancel_flag;
    pid_t child = signal_later(500);
    double t0 = now_s();
    int rc = http_backend_chat(&c, &r, &res, &err);
    double secs = now_s() - t0;
    waitpid(child, NULL, 0);
    sigaction(SIGUSR1, &old, NULL);
    record(name, &res, &err);
    mock_stop(&m);
    ok(rc == -1 && strcmp(err.msg, "cancelled") == 0 && secs < 2.0,
       "%s: the cancel flag ends the wait in %.2f s (< 2 s): %s", name, secs, err.msg);
    http_result_free(&res);
}

typedef struct retry_seen {
    int calls;
    http_retry_info last;
    char url[256];
} retry_seen;

static void on_retry(const http_retry_info *info, void *user) {
    retry_seen *s = user;
    s->calls++;
    s->last = *info;
    snprintf(s->url, sizeof s->url, "%s", info->url);
}

static void test_cancel(void) {
    cancel_case("cancel-silent", "{\"replies\":[{\"delay\":20}]}", 0);
    cancel_case("cancel-stall", "{\"replies\":[{\"chunks\":[\"" EV("Hello") "\"],\"stall\":20}]}",
                0);
    cancel_case("cancel-retry-after",
                "{\"replies\":[{\"status\":429,\"headers\":{\"Retry-After\":\"3600\"},"
                "\"body\":{\"error\":{\"message\":\"slow down\"}}}]}",
                0);
}

/* Run one request against REPLIES, reporting retries into SEEN and capping
 * every wait at 0.3 s. Returns http_backend_chat's status, or -2 when the
 * mock did not start. */
static int retry_case(const char *name, const char *replies, retry_seen *seen, http_result *res,
                      lrc_error *err, double *secs) {
    mock m;
    tokens t = {0};
    if (mock_start(&m, name, replies) != 0)
        return -2;
    http_request r = make_req(&t);
    http_backend_config c = make_cfg(&m);
    c.backoff_max_s = 0.3;
    c.on_retry = on_retry;
    c.retry_user = seen;
    double t0 = now_s();
    int rc = http_backend_chat(&c, &r, res, err);
    *secs = now_s() - t0;
    mock_stop(&m);
    return rc;
}

static void test_retry_report(void) {
    http_result res;
    lrc_error err = {{0}};
    retry_seen seen = {0};
    double secs;
    int rc = retry_case("retry-report",
                        "{\"replies\":[{\"status\":429,\"headers\":{\"Retry-After\":\"3600\"},"
                        "\"body\":{\"error\":{\"message\":\"slow down\"}}},{\"text\":\"ok\"}]}",
                        &seen, &res, &err, &secs);
    ok(rc == 0 && seen.calls == 1 && seen.last.status == 429 && seen.last.attempt == 1 &&
           seen.last.max_attempts == 3,
       "retry report: one call for the one retry, status 429, attempt 1 of 3 (%d calls)",
       seen.calls);
    ok(seen.last.retry_after_s == 3600 && seen.last.wait_s == 0.3 && secs < 2.0,
       "retry report: Retry-After 3600 capped at backoff_max_s 0.3 (waited %.2f s)", secs);
    http_result_free(&res);
}

/* Retry-After as an HTTP date an hour ahead: the wait is read from the date
 * and capped like the seconds form. */
static void test_retry_after_date(void) {
    char date[64], replies[512];
    time_t ahead = time(NULL) + 3600;
    struct tm tm;
    gmtime_r(&ahead, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(replies, sizeof replies,
             "{\"replies\":[{\"status\":503,\"headers\":{\"Retry-After\":\"%s\"},"
             "\"body\":{\"error\":{\"message\":\"busy\"}}},{\"text\":\"ok\"}]}",
             date);
    http_result res;
    lrc_error err = {{0}};
    retry_seen seen = {0};
    double secs;
    int rc = retry_case("retry-date", replies, &seen, &res, &err, &secs);
    ok(rc == 0 && seen.calls == 1, "retry date: one retry, then success (%s)", err.msg);
    ok(seen.last.retry_after_s > 3590 && seen.last.retry_after_s <= 3600,
       "retry date: Retry-After '%s' read as %.0f s", date, seen.last.retry_after_s);
    ok(seen.last.wait_s == 0.3 && secs < 2.0, "retry date: the wait is capped at backoff_max_s");
    http_result_free(&res);
}

/* A URL with user:password and a query; nothing listens on port 1. */
static void test_url_secrets(void) {
    http_result res;
    lrc_error err = {{0}};
    tokens t = {0};
    http_request r = make_req(&t);
    http_backend_config c = {0};
    c.base_url = "http://bob:sk-SECRET-pw@127.0.0.1:1/v1?api_key=QSECRET";
    c.model = "m";
    c.connect_timeout_s = 2;
    int rc = http_backend_chat(&c, &r, &res, &err);
    record("url-secrets", &res, &err);
    ok(rc == -1 && !strstr(err.msg, "SECRET") && !strstr(err.msg, "bob") &&
           strstr(err.msg, "http://127.0.0.1:1/v1/chat/completions?..."),
       "url: the error leaves out user:password and the query: %s", err.msg);
    http_result_free(&res);

    char shown[256];
    http_backend_redact_url("https://u:p@h.example:8443/base?k=v#f", shown, sizeof shown);
    ok(strcmp(shown, "https://h.example:8443/base?...") == 0, "url: redacted as %s", shown);

    static const char *const bad[] = {"http://127.0.0.1:99999",
                                      "http://127.0.0.1:0",
                                      "http://127.0.0.1:",
                                      "http://127.0.0.1:80x",
                                      "http://127.0.0.1:8080/#frag",
                                      "http://a b",
                                      "http://:8080",
                                      "ftp://127.0.0.1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lrc_error e = {{0}};
        ok(http_backend_check_url(bad[i], &e) == -1 && one_line(e.msg), "url: '%s' is refused: %s",
           bad[i], e.msg);
    }
    static const char *const good[] = {"http://127.0.0.1:8080", "https://h.example/v1",
                                       "http://[::1]:8080/v1", "http://u:p@host:65535/x?y=1"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        lrc_error e = {{0}};
        ok(http_backend_check_url(good[i], &e) == 0, "url: '%s' is accepted %s", good[i], e.msg);
    }
}

/* The request path for a base URL, as the mock logged it. */
static void path_case(const char *name, const char *label, const char *suffix, const char *want) {
    mock m;
    tokens t = {0};
    http_result res;
    lrc_error err = {{0}};
    if (mock_start(&m, name, "{\"replies\":[{\"text\":\"ok\"}]}") != 0) {
        ok(0, "%s: mock started", label);
        return;
    }
    char base[256];
    snprintf(base, sizeof base, "%s%s", m.base, suffix);
    http_request r = make_req(&t);
    http_backend_config c = make_cfg(&m);
    c.base_url = base;
    int rc = http_backend_chat(&c, &r, &res, &err);
    mock_stop(&m);
    cJSON *log = mock_log(&m);
    const cJSON *p = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "path");
    ok(rc == 0 && cJSON_IsString(p) && strcmp(p->valuestring, want) == 0,
       "%s: the request goes to %s (got %s)", label, want,
       cJSON_IsString(p) ? p->valuestring : "nothing");
    cJSON_Delete(log);
    http_result_free(&res);
}

static void test_paths(void) {
    path_case("path1", "full path", "/v1/chat/completions", "/v1/chat/completions");
    path_case("path2", "full path and slash", "/v1/chat/completions/", "/v1/chat/completions");
    path_case("path3", "query", "/?tenant=a", "/v1/chat/completions?tenant=a");
    path_case("path4", "v1 and query", "/v1?tenant=a", "/v1/chat/completions?tenant=a");
}

static void test_bad_key(void) {
    http_result res;
    lrc_error err = {{0}};
    tokens t = {0};
    http_request r = make_req(&t);
    http_backend_config c = {0};
    c.base_url = "http://127.0.0.1:1";
    c.model = "m";
    setenv("LRC_API_KEY", "abc-KEYTEXT\r\nX-Injected: 1", 1);
    int rc = http_backend_chat(&c, &r, &res, &err);
    setenv("LRC_API_KEY", key, 1);
    ok(rc == -1 && one_line(err.msg) && strstr(err.msg, "LRC_API_KEY") &&
           strstr(err.msg, "offset 11") && !strstr(err.msg, "KEYTEXT") &&
           !strstr(err.msg, "Injected") && res.attempts == 0,
       "key: a CR/LF in LRC_API_KEY is refused before any request: %s", err.msg);
    http_result_free(&res);
}

int main(void) {
    const char *data = getenv("LRC_TESTDATA");
    if (access(MOCK_PY, X_OK) != 0)
        skip_all("/usr/bin/python3 not found (run ./quickstart to install it)");
    snprintf(mock_path, sizeof mock_path, "%s/mock_openai.py", data ? data : "tests");
    if (access(mock_path, R_OK) != 0)
        skip_all("tests/mock_openai.py not found; set LRC_TESTDATA to the tests/ source folder");
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/lrc-http-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    snprintf(key, sizeof key, "sk-test-%08x%08x", (unsigned)rand(), (unsigned)getpid());
    setenv("LRC_API_KEY", key, 1);
    unsetenv("OPENAI_API_KEY");
    char opath[512];
    snprintf(opath, sizeof opath, "%s/outputs.txt", tmpdir);
    outputs = fopen(opath, "w");
    if (!outputs) {
        perror(opath);
        return 1;
    }
    double t0 = now_s();
    test_normal();
    test_errors();
    test_key_fallback();
    test_concurrency();
    test_concurrent_retry();
    test_cancel();
    test_retry_report();
    test_retry_after_date();
    test_url_secrets();
    test_paths();
    test_bad_key();
    fclose(outputs);
    char canary[600];
    snprintf(canary, sizeof canary, "%s/canary", tmpdir);
    write_file(canary, key);
    ok(scan_for_key(tmpdir, key) == 1, "the key scan finds a planted copy of the key");
    unlink(canary);
    ok(scan_for_key(tmpdir, key) == 0,
       "the key appears in no output, error message or file written");
    diag("total %.2f s", now_s() - t0);
    remove_tree(tmpdir);
    http_backend_cleanup();
    return done_testing();
}
