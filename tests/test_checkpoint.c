/*
 * Unit tests of src/train/checkpoint: a bit-exact round trip of tensors,
 * AdamW moments and state, rejection of missing, mis-shaped and unexpected
 * tensors without touching the destination, and pruning. Crash safety is
 * tested by killing a child process with SIGKILL while it saves checkpoints
 * in a loop, then checking that `latest` names a complete checkpoint.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "train/checkpoint.h"
#include "train/rundir.h"

static char tmpdir[] = "/tmp/lrc-test-ckpt-XXXXXX";

static uint64_t rng = 0x243f6a8885a308d3ull;

/* Random bits from xorshift64. */
static uint32_t rand_bits(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

/* Any float bit pattern, NaN payloads and denormals included. */
static float rand_float_bits(void) {
    uint32_t b = rand_bits();
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

/* Three tensors over one flat array of 4·6 + 6·4 + 5 = 53 parameters. */
enum { N_PARAMS = 53 };

static void make_tensors(checkpoint_tensor *t, float *params) {
    t[0] = (checkpoint_tensor){"model.zoom.weight", 2, {4, 6}, params, 0};
    t[1] =
        (checkpoint_tensor){"model.layers.0.self_attn.zoom_q.weight", 2, {6, 4}, params + 24, 24};
    t[2] = (checkpoint_tensor){"model.target_norm.weight", 1, {5}, params + 48, 48};
}

static int make_run(rundir *rd, const char *name) {
    char path[256];
    lrc_error err;
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    if (rundir_create(rd, path, "unused", "unused", 1, 0, &err) < 0) {
        ok(0, "create run folder %s: %s", path, err.msg);
        return -1;
    }
    return 0;
}

static void test_round_trip(void) {
    rundir rd;
    if (make_run(&rd, "rt") < 0)
        return;
    lrc_error err;
    adamw_config cfg = adamw_config_default();
    adamw opt, back_opt;
    if (adamw_init(&opt, N_PARAMS, &cfg, &err) < 0 ||
        adamw_init(&back_opt, N_PARAMS, &cfg, &err) < 0) {
        ok(0, "adamw_init: %s", err.msg);
        return;
    }

    float params[N_PARAMS], back[N_PARAMS];
    for (int i = 0; i < N_PARAMS; i++) {
        params[i] = rand_float_bits();
        opt.m[i] = rand_float_bits();
        opt.v[i] = rand_float_bits();
    }
    params[0] = -0.0f;
    opt.t = 17;
    checkpoint_tensor t[3], tb[3];
    make_tensors(t, params);
    make_tensors(tb, back);

    checkpoint_state st = {.step = 17,
                           .data_position = 12345678901ull,
                           .data_tokens = 99999999999ull,
                           .rng_state = 0xfedcba9876543210ull,
                           .elapsed_s = 123.456789012345678};
    checkpoint_fingerprint("{\"rank\":64}", st.fingerprint);
    checkpoint_hash_bytes("abc", 3, st.data_hash);
    char path[RUNDIR_PATH_MAX];
    int rc = checkpoint_save(rd.path, t, 3, &opt, &st, 3, path, sizeof path, &err);
    ok(rc == 0, "save: %s", rc ? err.msg : path);
    ok(strstr(path, "/checkpoints/step-000017.safetensors") != NULL, "file name step-000017");
    struct stat mode_st;
    ok(stat(path, &mode_st) == 0 && (mode_st.st_mode & 0777) == 0644,
       "the checkpoint has mode 0644 like the other run files");

    char latest[RUNDIR_PATH_MAX];
    ok(checkpoint_latest(rd.path, latest, sizeof latest, &err) == 0 && strcmp(latest, path) == 0,
       "latest names the new checkpoint");

    checkpoint_state got;
    memset(back, 0, sizeof back);
    rc = checkpoint_load(path, tb, 3, &back_opt, &got, st.fingerprint, NULL, &err);
    ok(rc == 0, "load: %s", rc ? err.msg : "ok");
    ok(memcmp(back, params, sizeof back) == 0, "tensors are bit-exact");
    ok(memcmp(back_opt.m, opt.m, sizeof(float) * N_PARAMS) == 0 &&
           memcmp(back_opt.v, opt.v, sizeof(float) * N_PARAMS) == 0,
       "moments are bit-exact");
    ok(back_opt.t == 17, "adamw t restored (%lld)", (long long)back_opt.t);
    ok(got.step == 17 && got.data_position == st.data_position &&
           got.data_tokens == st.data_tokens && got.rng_state == st.rng_state,
       "step, data position, token count and rng state restored");
    ok(got.elapsed_s == st.elapsed_s, "elapsed time restored exactly");
    /* FNV-1a 64 of "abc", from the published test vectors. */
    ok(strcmp(st.data_hash, "e71fa2190541574b") == 0 && strcmp(got.data_hash, st.data_hash) == 0,
       "the data hash is FNV-1a 64 and is restored: %s", got.data_hash);
    ok(strcmp(got.fingerprint, st.fingerprint) == 0 && strlen(got.fingerprint) == 16,
       "fingerprint restored");

    /* --init reads the same file, tensors only. */
    memset(back, 0, sizeof back);
    ok(checkpoint_load_tensors(path, tb, 3, &err) == 0 && memcmp(back, params, sizeof back) == 0,
       "load_tensors reads a checkpoint as an --init file");

    /* Rejections leave the destination unchanged. */
    float sentinel[N_PARAMS];
    for (int i = 0; i < N_PARAMS; i++)
        sentinel[i] = back[i] = 7.0f;
    tb[1].shape[1] = 5;
    rc = checkpoint_load(path, tb, 3, &back_opt, NULL, NULL, NULL, &err);
    ok(rc < 0 && strstr(err.msg, path) && strstr(err.msg, "zoom_q.weight") &&
           strstr(err.msg, "[6, 4]") && strstr(err.msg, "[6, 5]") && !strchr(err.msg, '\n'),
       "mis-shaped tensor: %s", err.msg);
    ok(memcmp(back, sentinel, sizeof back) == 0, "mis-shaped load wrote nothing");
    ok(checkpoint_load_tensors(path, tb, 3, &err) < 0 && strstr(err.msg, "zoom_q.weight"),
       "mis-shaped --init tensor rejected");
    tb[1].shape[1] = 4;

    tb[2].name = "model.layers.0.target_input_layernorm.weight";
    rc = checkpoint_load(path, tb, 3, &back_opt, NULL, NULL, NULL, &err);
    ok(rc < 0 && strstr(err.msg, path) && strstr(err.msg, "target_input_layernorm") &&
           strstr(err.msg, "missing"),
       "missing tensor: %s", err.msg);
    ok(checkpoint_load_tensors(path, tb, 3, &err) < 0 && strstr(err.msg, "missing"),
       "missing --init tensor rejected");
    ok(memcmp(back, sentinel, sizeof back) == 0, "missing-tensor loads wrote nothing");

    rc = checkpoint_load(path, tb, 2, &back_opt, NULL, NULL, NULL, &err);
    ok(rc < 0 && strstr(err.msg, "model.target_norm.weight") && strstr(err.msg, "not a trainable"),
       "unexpected tensor: %s", err.msg);
    ok(checkpoint_load_tensors(path, tb, 2, &err) == 0, "--init ignores tensors it does not use");

    char other[CHECKPOINT_FINGERPRINT_LEN + 1];
    checkpoint_fingerprint("{\"rank\":32}", other);
    make_tensors(tb, back);
    rc = checkpoint_load(path, tb, 3, &back_opt, NULL, other, NULL, &err);
    ok(rc < 0 && strstr(err.msg, "fingerprint") && strstr(err.msg, other),
       "other settings' fingerprint rejected");
    rc = checkpoint_load(path, tb, 3, &back_opt, NULL, other, st.fingerprint, &err);
    ok(rc == 0, "the second accepted fingerprint loads: %s", rc ? err.msg : "");
    rc = checkpoint_load(path, tb, 3, &back_opt, NULL, other, other, &err);
    ok(rc < 0 && strstr(err.msg, "fingerprint"), "neither fingerprint matching is rejected");

    /* A safetensors file without our metadata is no checkpoint, but is a
     * valid --init file, and BF16 converts. */
    char init[300];
    snprintf(init, sizeof init, "%s/init-bf16.safetensors", tmpdir);
    float ones[N_PARAMS];
    for (int i = 0; i < N_PARAMS; i++)
        ones[i] = 1.0f + (float)i / 128.0f; /* exact in bf16 */
    safetensors_write_tensor w[3] = {
        {"model.zoom.weight", ST_BF16, 2, {4, 6}, ones},
        {"model.layers.0.self_attn.zoom_q.weight", ST_BF16, 2, {6, 4}, ones + 24},
        {"model.target_norm.weight", ST_F16, 1, {5}, ones + 48}};
    if (safetensors_write(init, w, 3, NULL, &err) < 0) {
        ok(0, "write bf16 init: %s", err.msg);
    } else {
        ok(checkpoint_load(init, tb, 3, &back_opt, NULL, NULL, NULL, &err) < 0 &&
               strstr(err.msg, "format"),
           "a plain safetensors file is not a checkpoint");
        ok(checkpoint_load_tensors(init, tb, 3, &err) == 0 && memcmp(back, ones, sizeof back) == 0,
           "--init converts BF16 and F16 exactly");
    }
    adamw_free(&opt);
    adamw_free(&back_opt);
}

/* Count files in run/checkpoints whose names are checkpoints, and others. */
static void count_files(const char *run, int *checkpoints, int *temps) {
    char dir[RUNDIR_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/checkpoints", run);
    *checkpoints = *temps = 0;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strstr(e->d_name, ".tmp"))
            (*temps)++;
        else if (strncmp(e->d_name, "step-", 5) == 0)
            (*checkpoints)++;
    }
    closedir(d);
}

static void test_prune(void) {
    rundir rd;
    if (make_run(&rd, "prune") < 0)
        return;
    lrc_error err;
    float params[N_PARAMS] = {0};
    checkpoint_tensor t[3];
    make_tensors(t, params);
    checkpoint_state st = {0};
    int rc = 0;
    for (int s = 1; s <= 6 && rc == 0; s++) {
        st.step = s;
        rc = checkpoint_save(rd.path, t, 3, NULL, &st, 3, NULL, 0, &err);
    }
    ok(rc == 0, "six saves with keep 3");
    int n_ckpt, n_tmp;
    count_files(rd.path, &n_ckpt, &n_tmp);
    char p[RUNDIR_PATH_MAX + 64];
    int kept_right = 1;
    for (int s = 1; s <= 6; s++) {
        snprintf(p, sizeof p, "%s/checkpoints/step-%06d.safetensors", rd.path, s);
        kept_right &= (access(p, F_OK) == 0) == (s >= 4);
    }
    ok(n_ckpt == 3 && n_tmp == 0 && kept_right, "keep 3 leaves steps 4, 5, 6 (%d files)", n_ckpt);

    st.step = 7;
    ok(checkpoint_save(rd.path, t, 3, NULL, &st, 0, NULL, 0, &err) == 0, "save with keep 0");
    count_files(rd.path, &n_ckpt, &n_tmp);
    ok(n_ckpt == 4, "keep 0 deletes nothing (%d files)", n_ckpt);

    /* An older step saved last (a rerun) is what latest names and survives. */
    st.step = 2;
    ok(checkpoint_save(rd.path, t, 3, NULL, &st, 1, NULL, 0, &err) == 0, "save step 2, keep 1");
    count_files(rd.path, &n_ckpt, &n_tmp);
    snprintf(p, sizeof p, "%s/checkpoints/step-000002.safetensors", rd.path);
    ok(n_ckpt == 2 && access(p, F_OK) == 0, "keep 1 keeps the newest and the one latest names");

    /* A stray temporary file is not a checkpoint and is cleaned up. */
    snprintf(p, sizeof p, "%s/checkpoints/step-000009.safetensors.tmpAbC123", rd.path);
    FILE *f = fopen(p, "w");
    if (f)
        fclose(f);
    ok(checkpoint_prune(rd.path, 1, &err) == 0 && access(p, F_OK) == 0,
       "prune ignores temporary files");
    ok(checkpoint_remove_temps(rd.path, &err) == 0 && access(p, F_OK) != 0,
       "remove_temps deletes them");
}

/* ---- kill -9 during saves ------------------------------------------------- */

enum { BIG = 1 << 19 }; /* floats per tensor; 2 tensors and 4 moments: 12 MiB a file */

/* Value of element i at step s; exact in float for the sizes used. */
static float pattern(int64_t s, size_t i, int which) {
    return (float)(s * 4096 + (int64_t)(i % 4096)) * (which == 0   ? 1.0f
                                                      : which == 1 ? -1.0f
                                                                   : 2.0f);
}

static void fill(float *params, adamw *opt, int64_t s) {
    for (size_t i = 0; i < 2 * (size_t)BIG; i++) {
        params[i] = pattern(s, i, 0);
        opt->m[i] = pattern(s, i, 1);
        opt->v[i] = pattern(s, i, 2);
    }
}

static int check_pattern(const float *params, const adamw *opt, int64_t s) {
    for (size_t i = 0; i < 2 * (size_t)BIG; i++)
        if (params[i] != pattern(s, i, 0) || opt->m[i] != pattern(s, i, 1) ||
            opt->v[i] != pattern(s, i, 2))
            return 0;
    return 1;
}

static void big_tensors(checkpoint_tensor *t, float *params) {
    t[0] = (checkpoint_tensor){"a", 2, {512, 1024}, params, 0};
    t[1] = (checkpoint_tensor){"b", 1, {BIG}, params + BIG, BIG};
}

static void test_kill(void) {
    enum { ROUNDS = 30 };
    rundir rd;
    if (make_run(&rd, "kill") < 0)
        return;
    lrc_error err;
    adamw_config cfg = adamw_config_default();
    adamw opt;
    float *params = malloc(2 * (size_t)BIG * sizeof *params);
    if (!params || adamw_init(&opt, 2 * (size_t)BIG, &cfg, &err) < 0) {
        ok(0, "allocate the kill test");
        free(params);
        return;
    }
    checkpoint_tensor t[2];
    big_tensors(t, params);

    checkpoint_state st = {.step = 1};
    fill(params, &opt, 1);
    ok(checkpoint_save(rd.path, t, 2, &opt, &st, 2, NULL, 0, &err) == 0, "first save");

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t last = 1, next = 2;
    int all_loadable = 1, monotone = 1, tmp_rounds = 0, pointer_never_tmp = 1;
    for (int round = 0; round < ROUNDS; round++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            /* Child: save forever; the parent kills it. */
            for (int64_t s = next;; s++) {
                checkpoint_state cs = {.step = s};
                fill(params, &opt, s);
                if (checkpoint_save(rd.path, t, 2, &opt, &cs, 2, NULL, 0, &err) < 0)
                    _exit(2);
            }
        }
        if (pid < 0) {
            ok(0, "fork failed");
            break;
        }
        /* Kill times from 0 to ~60 ms, spread over the rounds so they fall
         * at every stage of a save. */
        usleep((useconds_t)((round * 7919) % 60000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
            ok(0, "round %d: child ended by itself (status %d)", round, status);
            break;
        }

        char path[RUNDIR_PATH_MAX];
        checkpoint_state got;
        memset(params, 0, 2 * (size_t)BIG * sizeof *params);
        if (checkpoint_latest(rd.path, path, sizeof path, &err) < 0 ||
            checkpoint_load(path, t, 2, &opt, &got, NULL, NULL, &err) < 0) {
            diag("round %d: %s", round, err.msg);
            all_loadable = 0;
            break;
        }
        pointer_never_tmp &= strstr(path, ".tmp") == NULL;
        if (!check_pattern(params, &opt, got.step)) {
            diag("round %d: step %lld content does not match", round, (long long)got.step);
            all_loadable = 0;
        }
        monotone &= got.step >= last;
        last = got.step;

        /* Every file with a checkpoint name is complete. */
        for (int64_t s = last - 3; s <= last + 1; s++) {
            char p[RUNDIR_PATH_MAX + 64];
            snprintf(p, sizeof p, "%s/checkpoints/step-%06lld.safetensors", rd.path, (long long)s);
            checkpoint_state other;
            if (s > 0 && access(p, F_OK) == 0 &&
                checkpoint_load(p, t, 2, &opt, &other, NULL, NULL, &err) < 0) {
                diag("round %d: %s", round, err.msg);
                all_loadable = 0;
            }
            next = s > next ? s : next;
        }
        next++;

        int n_ckpt, n_tmp;
        count_files(rd.path, &n_ckpt, &n_tmp);
        tmp_rounds += n_tmp > 0;
        checkpoint_remove_temps(rd.path, &err);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);

    ok(all_loadable, "kill -9: latest and every step-* file load with the right content");
    ok(pointer_never_tmp, "kill -9: latest never names a temporary file");
    ok(monotone, "kill -9: latest never moves back (last step %lld)", (long long)last);
    diag("kill -9: %d rounds in %.2f s; %d kills left a temporary file behind", ROUNDS, secs,
         tmp_rounds);
    int n_ckpt, n_tmp;
    count_files(rd.path, &n_ckpt, &n_tmp);
    ok(n_tmp == 0, "remove_temps left no temporary file");
    free(params);
    adamw_free(&opt);
}

int main(void) {
    if (!mkdtemp(tmpdir))
        skip_all("cannot create a temporary folder");
    test_round_trip();
    test_prune();
    test_kill();

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpdir);
    return done_testing();
}
