/*
 * hub_pull as the studio calls it: on a background thread, with a progress
 * callback and a cancel flag set from another thread. The server is
 * tests/mock_hub.py on 127.0.0.1. Expected sizes are read from the served
 * files with stat, and the downloaded bytes are compared with them.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hub/hub.h"
#include "tap.h"

#define COMMIT "4444444444444444444444444444444444444444"
#define N_SERVED 4

static const char *served[N_SERVED] = {"config.json", "model.safetensors", "tokenizer.json",
                                       "tokenizer_config.json"};

/* What the progress callback saw, per pull. */
typedef struct seen {
    int starts, dones, cached, bad_order, shrinking;
    size_t last_count;
    uint64_t last_done, done_total, wrong_total;
    atomic_ullong bytes_now; /* read by the main thread */
    bool in_file;
} seen;

static void on_progress(const hub_progress *p, void *user) {
    seen *s = user;
    switch (p->event) {
    case HUB_FILE_START:
        s->bad_order += s->in_file;
        s->in_file = true;
        s->starts++;
        s->last_done = p->done;
        break;
    case HUB_FILE_PROGRESS:
        s->bad_order += !s->in_file;
        s->shrinking += p->done < s->last_done;
        s->last_done = p->done;
        atomic_store(&s->bytes_now, p->done);
        break;
    case HUB_FILE_DONE:
        s->bad_order += !s->in_file;
        s->in_file = false;
        s->dones++;
        s->wrong_total += p->done != p->total;
        s->done_total += p->done;
        s->last_count = p->count;
        break;
    case HUB_FILE_CACHED:
        s->cached++;
        break;
    }
}

typedef struct job {
    hub_pull_options o;
    hub_pull_result r;
    lrc_error err;
    int rc;
} job;

static void *run_pull(void *arg) {
    job *j = arg;
    j->rc = hub_pull(&j->o, &j->r, &j->err);
    return NULL;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Size of the one *.incomplete file in dir, 0 when there is none. */
static uint64_t incomplete_size(const char *dir) {
    DIR *d = opendir(dir);
    uint64_t size = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 11 && strcmp(e->d_name + len - 11, ".incomplete") == 0) {
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            size = file_size(path);
        }
    }
    if (d)
        closedir(d);
    return size;
}

static pid_t start_mock(const char *testdata, const char *tmp, int *port) {
    char config[512], ports[512], log[512], script[1024], model[1024];
    snprintf(config, sizeof config, "%s/hub.json", tmp);
    snprintf(ports, sizeof ports, "%s/ports", tmp);
    snprintf(log, sizeof log, "%s/hub.log", tmp);
    snprintf(script, sizeof script, "%s/mock_hub.py", testdata);
    snprintf(model, sizeof model, "%s/reference/data/llama-f32", testdata);

    FILE *f = fopen(config, "w");
    if (!f)
        return -1;
    fprintf(f,
            "{\"repos\": {\"org/tiny\": {\"dir\": \"%s\", \"commit\": \"" COMMIT "\"},"
            " \"org/stall\": {\"dir\": \"%s\", \"commit\": \"" COMMIT "\","
            " \"stall\": {\"model.safetensors\": 5}}}}\n",
            model, model);
    fclose(f);

    pid_t pid = fork();
    if (pid == 0) {
        execl("/usr/bin/python3", "python3", script, config, ports, log, "60", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && pid > 0; i++) {
        FILE *p = fopen(ports, "r");
        if (p) {
            int ok_read = fscanf(p, "%d", port) == 1;
            fclose(p);
            if (ok_read)
                return pid;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

int main(void) {
    const char *testdata = getenv("LRC_TESTDATA");
    if (!testdata)
        skip_all("LRC_TESTDATA is not set");
    if (access("/usr/bin/python3", X_OK) != 0)
        skip_all("no /usr/bin/python3 to run the mock Hub");
    char tmp[] = "/tmp/lrc-hub-pull-XXXXXX";
    if (!mkdtemp(tmp))
        skip_all("cannot create a temporary folder");
    int port = 0;
    pid_t mock = start_mock(testdata, tmp, &port);
    if (mock < 0)
        skip_all("the mock Hub did not start");

    char endpoint[64], cache[600];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", port);
    snprintf(cache, sizeof cache, "%s/cache", tmp);
    uint64_t want_bytes = 0;
    for (int i = 0; i < N_SERVED; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/reference/data/llama-f32/%s", testdata, served[i]);
        want_bytes += file_size(path);
    }

    /* --- a complete pull on a background thread ---------------------------------- */
    seen s1 = {0};
    job j1;
    memset(&j1, 0, sizeof j1);
    hub_pull_options_init(&j1.o, "org/tiny");
    j1.o.endpoint = endpoint;
    j1.o.cache_dir = cache;
    j1.o.token = "";
    j1.o.offline = 0;
    j1.o.progress = on_progress;
    j1.o.user = &s1;
    pthread_t t;
    pthread_create(&t, NULL, run_pull, &j1);
    pthread_join(t, NULL);
    if (!ok(j1.rc == 0, "pull on a thread succeeds"))
        diag("%s", j1.err.msg);
    char want_snap[1024];
    snprintf(want_snap, sizeof want_snap, "%s/models--org--tiny/snapshots/" COMMIT, cache);
    ok(strcmp(j1.r.snapshot, want_snap) == 0, "result names the snapshot (%s)", j1.r.snapshot);
    ok(j1.r.n_files == N_SERVED && j1.r.n_downloaded == N_SERVED,
       "4 files planned and downloaded (%zu, %zu)", j1.r.n_files, j1.r.n_downloaded);
    ok(j1.r.bytes_downloaded == want_bytes, "bytes downloaded %llu = served %llu",
       (unsigned long long)j1.r.bytes_downloaded, (unsigned long long)want_bytes);
    ok(s1.starts == N_SERVED && s1.dones == N_SERVED && s1.cached == 0,
       "one start and one done event per file (%d, %d)", s1.starts, s1.dones);
    ok(s1.bad_order == 0 && s1.shrinking == 0, "events in order, byte counts never shrink");
    ok(s1.wrong_total == 0 && s1.done_total == want_bytes,
       "each done event has done == total, summing to the served bytes");
    ok(s1.last_count == N_SERVED, "the last file reports the final count %zu", s1.last_count);
    hub_pull_result_free(&j1.r);

    /* --- list and dry run ---------------------------------------------------------- */
    hub_cached_model *m;
    size_t n;
    lrc_error err;
    ok(hub_cache_list(&m, &n, cache, &err) == 0 && n == 1 && strcmp(m[0].repo, "org/tiny") == 0 &&
           m[0].has_config && m[0].has_weights && m[0].bytes == want_bytes,
       "the cache lists org/tiny with config, weights and its size");
    free(m);
    job j2;
    memset(&j2, 0, sizeof j2);
    hub_pull_options_init(&j2.o, "org/tiny");
    j2.o.endpoint = endpoint;
    j2.o.cache_dir = cache;
    j2.o.token = "";
    j2.o.offline = 0;
    j2.o.dry_run = true;
    j2.rc = hub_pull(&j2.o, &j2.r, &j2.err);
    int all_cached = j2.rc == 0 && j2.r.n_files == N_SERVED;
    for (size_t i = 0; all_cached && i < j2.r.n_files; i++)
        all_cached = j2.r.files[i].cached;
    ok(all_cached, "a dry run after the pull finds every file cached");
    hub_pull_result_free(&j2.r);

    /* --- cancel from the main thread ----------------------------------------------- */
    seen s3 = {0};
    atomic_int cancel = 0;
    job j3;
    memset(&j3, 0, sizeof j3);
    hub_pull_options_init(&j3.o, "org/stall");
    j3.o.endpoint = endpoint;
    j3.o.cache_dir = cache;
    j3.o.token = "";
    j3.o.offline = 0;
    j3.o.progress = on_progress;
    j3.o.user = &s3;
    j3.o.cancel = &cancel;
    pthread_create(&t, NULL, run_pull, &j3);
    double t0 = now_s();
    while (atomic_load(&s3.bytes_now) < 100000 && now_s() - t0 < 4) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    double t_cancel = now_s();
    atomic_store(&cancel, 1);
    pthread_join(t, NULL);
    double waited = now_s() - t_cancel;
    ok(j3.rc < 0 && j3.r.cancelled, "a cancelled pull fails with cancelled set (%s)", j3.err.msg);
    ok(waited < 2.0, "the pull stops %.2f s after the flag is set, before the 5 s stall ends",
       waited);
    char blobs[1024];
    snprintf(blobs, sizeof blobs, "%s/models--org--stall/blobs", cache);
    ok(incomplete_size(blobs) >= 100000, "the partial download stays as .incomplete (%llu bytes)",
       (unsigned long long)incomplete_size(blobs));
    hub_pull_result_free(&j3.r);

    kill(mock, SIGTERM);
    waitpid(mock, NULL, 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        diag("could not remove %s", tmp);
    return done_testing();
}
