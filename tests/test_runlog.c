/*
 * Unit tests of src/train/runlog and src/train/rundir: run folder naming and
 * failures that leave nothing behind, run.json content, metrics.jsonl lines
 * parsed back with cJSON (values must round-trip exactly), and truncation on
 * resume: a run cut at step 13 with a torn line and resumed from step 10
 * must leave the same bytes as a straight run.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "train/checkpoint.h"
#include "train/rundir.h"
#include "train/runlog.h"

static char tmpdir[] = "/tmp/lrc-test-runlog-XXXXXX";

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* ---- run folders ---------------------------------------------------------- */

static void test_rundir(void) {
    char runs[256], path[RUNDIR_PATH_MAX + 64];
    lrc_error err;
    rundir a, b, c;
    snprintf(runs, sizeof runs, "%s/runs", tmpdir);
    time_t jan2 = 1767312000; /* 2026-01-02 00:00:00 UTC */

    int rc = rundir_create(&a, NULL, runs, "/models/SmolLM2-135M/", 64, jan2, &err);
    snprintf(path, sizeof path, "%s/2026-01-02-SmolLM2-135M-r64", runs);
    ok(rc == 0 && strcmp(a.path, path) == 0 && a.created && a.created_parent, "default name: %s",
       rc ? err.msg : a.path);
    snprintf(path, sizeof path, "%s/checkpoints", a.path);
    struct stat st;
    ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "checkpoints/ created");

    rc = rundir_create(&b, NULL, runs, "/models/SmolLM2-135M", 64, jan2, &err);
    ok(rc == 0 && strstr(b.path, "-r64-2") && !b.created_parent, "taken name gets -2: %s", b.path);
    rc = rundir_create(&c, NULL, runs, "org/My Model!", 8, jan2, &err);
    ok(rc == 0 && strstr(c.path, "/2026-01-02-My-Model--r8"), "unsafe characters become '-': %s",
       c.path);
    rundir_abandon(&c);
    ok(access(c.path, F_OK) != 0, "abandon removes an unused run folder");

    /* Abandon after files were written removes them and the folder. */
    cJSON *s = cJSON_CreateObject();
    cJSON_AddNumberToObject(s, "rank", 64);
    runlog log;
    float x[4] = {1, 2, 3, 4};
    checkpoint_tensor t = {"x", 1, {4}, x, 0};
    checkpoint_state cs = {.step = 3};
    rc = runlog_write_settings(b.path, s, &err) | runlog_open(&log, b.path, -1, &err) |
         checkpoint_save(b.path, &t, 1, NULL, &cs, 2, NULL, 0, &err);
    runlog_close(&log);
    ok(rc == 0 && count_entries(b.path) == 3, "run files written");
    rundir_abandon(&b);
    ok(access(b.path, F_OK) != 0, "abandon removes run.json, metrics.jsonl and checkpoints");
    cJSON_Delete(s);

    /* A folder holding files is rejected; an empty one is used and kept. */
    rc = rundir_create(&b, a.path, NULL, NULL, 0, 0, &err);
    ok(rc < 0 && strstr(err.msg, a.path) && strstr(err.msg, "not empty"), "--out holding files: %s",
       err.msg);
    snprintf(path, sizeof path, "%s/empty", tmpdir);
    mkdir(path, 0777);
    rc = rundir_create(&b, path, NULL, NULL, 0, 0, &err);
    ok(rc == 0 && !b.created, "--out may be an existing empty folder");
    rundir_abandon(&b);
    ok(access(path, F_OK) == 0, "abandon keeps a folder it did not create");
    char sub[sizeof path + 16];
    snprintf(sub, sizeof sub, "%s/checkpoints", path);
    ok(access(sub, F_OK) != 0, "... but removes the checkpoints/ folder it made there");
    snprintf(sub, sizeof sub, "%s/notes.txt", path);
    FILE *notes = fopen(sub, "w");
    if (notes)
        fclose(notes);
    rc = rundir_create(&b, path, NULL, NULL, 0, 0, &err);
    ok(rc < 0 && strstr(err.msg, "is not a run folder (no run.json)") &&
           !strstr(err.msg, "--resume"),
       "--out holding files but no run.json gives no --resume hint: %s", err.msg);
    unlink(sub);

    /* Unwritable: the parent is a regular file, so mkdir fails even for root. */
    snprintf(path, sizeof path, "%s/plain-file", tmpdir);
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
    int before = count_entries(tmpdir);
    snprintf(path, sizeof path, "%s/plain-file/run", tmpdir);
    rc = rundir_create(&b, path, NULL, NULL, 0, 0, &err);
    ok(rc < 0 && strstr(err.msg, path) && !strchr(err.msg, '\n'), "unwritable --out: %s", err.msg);
    snprintf(path, sizeof path, "%s/plain-file/runs", tmpdir);
    rc = rundir_create(&b, NULL, path, "m", 4, jan2, &err);
    ok(rc < 0 && strstr(err.msg, path), "unwritable runs folder: %s", err.msg);
    snprintf(path, sizeof path, "%s/no/such/parent", tmpdir);
    rc = rundir_create(&b, path, NULL, NULL, 0, 0, &err);
    ok(rc < 0 && strstr(err.msg, "parent"), "missing parent: %s", err.msg);
    ok(count_entries(tmpdir) == before, "failed creates leave nothing behind");

    ok(rundir_open(&b, a.path, &err) < 0 && strstr(err.msg, "run.json"),
       "open rejects a folder without run.json");
}

/* ---- run.json ------------------------------------------------------------- */

static void test_settings(void) {
    char run[256], path[RUNDIR_PATH_MAX + 64];
    lrc_error err;
    snprintf(run, sizeof run, "%s/settings-run", tmpdir);
    rundir rd;
    if (rundir_create(&rd, run, NULL, NULL, 0, 0, &err) < 0) {
        ok(0, "create: %s", err.msg);
        return;
    }

    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "teacher", "/models/SmolLM2-135M");
    cJSON_AddNumberToObject(s, "rank", 288);
    cJSON_AddNumberToObject(s, "lr", 3e-4);
    cJSON_AddNumberToObject(s, "kl_temp", 1.0 / 3.0);
    cJSON_AddBoolToObject(s, "shuffle", 1);
    ok(runlog_write_settings(rd.path, s, &err) == 0, "write run.json");

    snprintf(path, sizeof path, "%s/run.json", rd.path);
    char *text = slurp(path, NULL);
    cJSON *back = text ? cJSON_Parse(text) : NULL;
    ok(back != NULL && text[strlen(text) - 1] == '\n', "run.json is JSON ending in a newline");
    const cJSON *lr = cJSON_GetObjectItem(back, "lr");
    const cJSON *temp = cJSON_GetObjectItem(back, "kl_temp");
    const cJSON *teacher = cJSON_GetObjectItem(back, "teacher");
    ok(cJSON_IsNumber(lr) && lr->valuedouble == 3e-4, "lr 3e-4 round-trips exactly");
    ok(cJSON_IsNumber(temp) && temp->valuedouble == 1.0 / 3.0, "1/3 round-trips exactly");
    ok(cJSON_IsString(teacher) && strcmp(teacher->valuestring, "/models/SmolLM2-135M") == 0,
       "teacher string");
    ok(cJSON_IsTrue(cJSON_GetObjectItem(back, "shuffle")) &&
           cJSON_GetObjectItem(back, "rank")->valueint == 288,
       "bool and integer");
    ok(count_entries(rd.path) == 2, "no temporary file left beside run.json");

    cJSON *read = NULL;
    ok(runlog_read_settings(rd.path, &read, &err) == 0 && cJSON_Compare(read, s, 1),
       "read_settings returns what was written");
    ok(rundir_open(&rd, run, &err) == 0, "open finds the run");
    cJSON_Delete(read);
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(s);

    snprintf(path, sizeof path, "%s/run.json", rd.path);
    FILE *f = fopen(path, "w");
    fputs("[1, 2", f);
    fclose(f);
    ok(runlog_read_settings(rd.path, &read, &err) < 0 && strstr(err.msg, path) && !read,
       "damaged run.json is rejected");
}

/* ---- metrics.jsonl -------------------------------------------------------- */

/* A deterministic step record for step s. */
static runlog_step step_record(int64_t s) {
    runlog_step r = {.step = s};
    r.ce = 10.0 / (double)(s + 1);
    r.kl = 1.0 / 3.0 + (double)s * 1e-7;
    r.clone = 0.1 * (double)s;
    for (int i = 0; i < RUNLOG_N_SITES; i++)
        r.clone_site[i] = r.clone * (double)(i + 1) / 28.0;
    r.loss = r.ce + 0.5 * r.kl + r.clone;
    r.grad_norm = exp(-(double)s);
    r.lr = 3e-4 * (double)s / 20.0;
    r.tokens_per_s = 1234.5;
    r.elapsed_s = (double)s * 0.25;
    r.eta_s = runlog_eta_s(r.elapsed_s, s, 20 - s);
    return r;
}

/* Append the straight run's lines for steps first..last (probes every 5). */
static int write_steps(runlog *log, int64_t first, int64_t last, lrc_error *err) {
    double mi[3];
    for (int64_t s = first; s <= last; s++) {
        if (s > 0) {
            runlog_step r = step_record(s);
            if (runlog_write_step(log, &r, err) < 0)
                return -1;
        }
        if (s % 5 == 0) {
            for (int l = 0; l < 3; l++)
                mi[l] = (double)s + (double)l / 7.0;
            runlog_probe p = {s, mi, 3, 0.5 + (double)s / 100.0, 30.0, 40.0 - (double)s};
            if (runlog_write_probe(log, &p, err) < 0)
                return -1;
        }
    }
    return 0;
}

static void test_metrics(void) {
    char run[256];
    lrc_error err;
    runlog log;
    snprintf(run, sizeof run, "%s/metrics-run", tmpdir);
    rundir rd;
    if (rundir_create(&rd, run, NULL, NULL, 0, 0, &err) < 0 ||
        runlog_open(&log, rd.path, -1, &err) < 0) {
        ok(0, "open: %s", err.msg);
        return;
    }

    /* Exact round trip of awkward values, and null for non-finite ones. */
    runlog_step r = step_record(1);
    r.loss = 0.1;
    r.ce = DBL_MIN / 4; /* denormal */
    r.kl = 1e300;
    r.clone_site[RUNLOG_SITE_MLP_OUT] = -0.0;
    r.grad_norm = NAN;
    r.lr = INFINITY;
    ok(runlog_write_step(&log, &r, &err) == 0, "write a step record");

    double mi[300];
    for (int l = 0; l < 300; l++)
        mi[l] = 1.0 / (l + 1);
    mi[7] = NAN;
    runlog_probe p = {1, mi, 300, 0.75, 12.5, 20.25};
    ok(runlog_write_probe(&log, &p, &err) == 0, "write a 300-layer probe record");
    runlog_close(&log);

    size_t len;
    char *text = slurp(log.path, &len);
    char *nl = text ? strchr(text, '\n') : NULL;
    ok(nl && text[len - 1] == '\n' && strchr(nl + 1, '\n') == text + len - 1,
       "two lines, each ending in a newline");
    if (!nl) {
        free(text);
        return;
    }
    cJSON *a = cJSON_ParseWithLength(text, (size_t)(nl - text));
    cJSON *b = cJSON_Parse(nl + 1);
    ok(cJSON_IsObject(a) && cJSON_IsObject(b), "both lines parse as JSON objects");
    const cJSON *sites = cJSON_GetObjectItem(a, "clone_sites");
    ok(strcmp(cJSON_GetObjectItem(a, "type")->valuestring, "step") == 0 &&
           cJSON_GetObjectItem(a, "step")->valuedouble == 1,
       "step record type and step");
    ok(cJSON_GetObjectItem(a, "loss")->valuedouble == 0.1 &&
           cJSON_GetObjectItem(a, "ce")->valuedouble == DBL_MIN / 4 &&
           cJSON_GetObjectItem(a, "kl")->valuedouble == 1e300,
       "0.1, a denormal and 1e300 round-trip exactly");
    ok(cJSON_IsNull(cJSON_GetObjectItem(a, "grad_norm")) &&
           cJSON_IsNull(cJSON_GetObjectItem(a, "lr")),
       "NaN and infinity are written as null");
    int sites_ok = cJSON_GetArraySize(sites) == RUNLOG_N_SITES;
    for (int i = 0; sites_ok && i < RUNLOG_N_SITES; i++)
        sites_ok = cJSON_GetObjectItem(sites, runlog_site_names[i])->valuedouble == r.clone_site[i];
    ok(sites_ok, "seven clone sites round-trip");
    ok(signbit(cJSON_GetObjectItem(sites, "mlp_out")->valuedouble), "-0 keeps its sign");
    const char *keys[] = {"type",        "step",      "loss", "ce",           "kl",        "clone",
                          "clone_sites", "grad_norm", "lr",   "tokens_per_s", "elapsed_s", "eta_s"};
    int keys_ok = cJSON_GetArraySize(a) == 12;
    for (size_t i = 0; i < 12; i++)
        keys_ok &= cJSON_HasObjectItem(a, keys[i]);
    ok(keys_ok, "step record has exactly the documented keys");

    const cJSON *mis = cJSON_GetObjectItem(b, "mi");
    int mi_ok = cJSON_GetArraySize(mis) == 300 && cJSON_IsNull(cJSON_GetArrayItem(mis, 7));
    for (int l = 0; mi_ok && l < 300; l++)
        mi_ok = l == 7 || cJSON_GetArrayItem(mis, l)->valuedouble == mi[l];
    ok(mi_ok, "probe: 300 MI values round-trip, NaN as null");
    ok(strcmp(cJSON_GetObjectItem(b, "type")->valuestring, "probe") == 0 &&
           cJSON_GetObjectItem(b, "top1")->valuedouble == 0.75 &&
           cJSON_GetObjectItem(b, "ppl_teacher")->valuedouble == 12.5 &&
           cJSON_GetObjectItem(b, "ppl_student")->valuedouble == 20.25 &&
           cJSON_GetArraySize(b) == 6,
       "probe record fields");
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(text);

    char small[16];
    ok(runlog_format_step(small, sizeof small, &r) > sizeof small && strlen(small) == 15,
       "format reports the length needed and stays in bounds");
    ok(runlog_eta_s(10.0, 4, 6) == 15.0 && runlog_eta_s(10.0, 0, 6) == 0.0, "eta");
}

static void test_resume(void) {
    char straight_dir[256], resumed_dir[256];
    lrc_error err;
    runlog log;
    rundir a, b;
    snprintf(straight_dir, sizeof straight_dir, "%s/straight", tmpdir);
    snprintf(resumed_dir, sizeof resumed_dir, "%s/resumed", tmpdir);
    if (rundir_create(&a, straight_dir, NULL, NULL, 0, 0, &err) < 0 ||
        rundir_create(&b, resumed_dir, NULL, NULL, 0, 0, &err) < 0) {
        ok(0, "create: %s", err.msg);
        return;
    }

    /* Straight: steps 0..20 in one go. */
    int rc = runlog_open(&log, a.path, -1, &err) | write_steps(&log, 0, 20, &err);
    runlog_close(&log);
    ok(rc == 0, "straight run written");

    /* Interrupted: steps 0..13, then a line torn by the kill. */
    rc = runlog_open(&log, b.path, -1, &err) | write_steps(&log, 0, 13, &err);
    fputs("{\"type\":\"step\",\"step\":14,\"loss\":1.2", log.metrics);
    runlog_close(&log);
    ok(rc == 0, "interrupted run written");

    /* Resume from the checkpoint of step 10. */
    rc = runlog_open(&log, b.path, 10, &err);
    size_t len;
    char *text = slurp(log.path, &len);
    int lines = 0, last_step = -1, parse_ok = 1;
    for (char *p = text; p && *p;) {
        char *nl = strchr(p, '\n');
        cJSON *o = cJSON_ParseWithLength(p, (size_t)(nl - p));
        parse_ok &= cJSON_IsObject(o);
        last_step = cJSON_GetObjectItem(o, "step")->valueint;
        cJSON_Delete(o);
        lines++;
        p = nl + 1;
    }
    ok(rc == 0 && parse_ok && lines == 13 && last_step == 10,
       "cut to 13 lines (steps 1..10 and probes 0, 5, 10), last step %d", last_step);
    free(text);

    rc = write_steps(&log, 11, 20, &err);
    runlog_close(&log);
    size_t la, lb;
    char *sa = slurp(log.path, &lb);
    char straight_metrics[RUNDIR_PATH_MAX + 64];
    snprintf(straight_metrics, sizeof straight_metrics, "%s/metrics.jsonl", a.path);
    char *sb = slurp(straight_metrics, &la);
    ok(rc == 0 && sa && sb && la == lb && memcmp(sa, sb, la) == 0,
       "resumed metrics.jsonl equals the straight run's (%zu bytes)", la);
    free(sa);
    free(sb);

    /* Resuming from step 0 keeps only the initial probe; a missing file is
     * created empty. */
    ok(runlog_truncate(log.path, 0, &err) == 0, "truncate to step 0");
    text = slurp(log.path, &len);
    ok(text && strncmp(text, "{\"type\":\"probe\",\"step\":0,", 25) == 0 &&
           strchr(text, '\n') == text + len - 1,
       "step 0 keeps the initial probe only");
    free(text);
    unlink(log.path);
    ok(runlog_truncate(log.path, 5, &err) == 0 && access(log.path, F_OK) == 0,
       "missing metrics.jsonl is created on resume");
}

int main(void) {
    if (!mkdtemp(tmpdir))
        skip_all("cannot create a temporary folder");
    test_rundir();
    test_settings();
    test_metrics();
    test_resume();

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpdir);
    return done_testing();
}
