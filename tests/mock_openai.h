/*
 * Test helpers for C tests that talk to tests/mock_openai.py: whole-file
 * read and write, a monotonic clock, and starting, stopping and reading the
 * request log of one mock server on 127.0.0.1. Each case keeps its script,
 * port file, log and stderr in the test's temp folder under the case name.
 * The mock reads the API key from a file in a private subfolder, which is
 * removed as soon as the server has started. scan_for_key then checks that
 * no file left in the temp folder contains the key.
 * Everything is static inline, like tests/model_fixture.h, and the including
 * file defines _POSIX_C_SOURCE 200809L before any include.
 */
#ifndef LRC_TESTS_MOCK_OPENAI_H
#define LRC_TESTS_MOCK_OPENAI_H

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

#include "tap.h"

/* The Python that runs the mock (the Debian python3, as quickstart installs). */
static const char *const MOCK_PY = "/usr/bin/python3";

/* Seconds on a monotonic clock. */
static inline double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Write text to path. A test that cannot write its own temp files exits. */
static inline void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* The whole file as a NUL-terminated string (its length in *len when len is
 * not NULL), or NULL when it cannot be read. The caller frees it. */
static inline char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n < 2) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

typedef struct mock {
    pid_t pid;
    int port;
    char log[512]; /* the request log, one JSON object per line */
    char base[64]; /* "http://127.0.0.1:PORT" */
} mock;

/* Start mock_path with the JSON text `script` for the case `name`, files in
 * tmpdir, the key `key`, and a lifetime of `lifetime` seconds (a decimal
 * string). Returns 0 once the mock listens (m->port and m->base set), or -1
 * after about 5 s, with a diag naming its stderr file. */
static inline int mock_openai_start(mock *m, const char *tmpdir, const char *mock_path,
                                    const char *key, const char *name, const char *script,
                                    const char *lifetime) {
    char spath[512], ppath[512], kdir[512], kpath[600], epath[512];
    snprintf(spath, sizeof spath, "%s/%s.json", tmpdir, name);
    snprintf(ppath, sizeof ppath, "%s/%s.port", tmpdir, name);
    snprintf(m->log, sizeof m->log, "%s/%s.log", tmpdir, name);
    snprintf(epath, sizeof epath, "%s/%s.stderr", tmpdir, name);
    snprintf(kdir, sizeof kdir, "%s/keydir", tmpdir);
    snprintf(kpath, sizeof kpath, "%s/key", kdir);
    unlink(ppath); /* a port file left by an earlier case of the same name */
    unlink(m->log);
    write_file(spath, script);
    mkdir(kdir, 0700);
    write_file(kpath, key);
    fflush(stdout);
    m->pid = fork();
    if (m->pid == 0) {
        int fd = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(MOCK_PY, MOCK_PY, mock_path, spath, ppath, m->log, kpath, lifetime, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        char *p = read_file(ppath, NULL);
        if (p) {
            m->port = atoi(p);
            free(p);
            unlink(kpath);
            rmdir(kdir);
            snprintf(m->base, sizeof m->base, "http://127.0.0.1:%d", m->port);
            return 0;
        }
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    unlink(kpath);
    rmdir(kdir);
    diag("mock %s did not start; see %s", name, epath);
    return -1;
}

/* Stop the mock if it is running, and reap it. */
static inline void mock_stop(mock *m) {
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
        m->pid = 0;
    }
}

/* The logged requests as a cJSON array, in the order the mock logged them. */
static inline cJSON *mock_log(const mock *m) {
    cJSON *arr = cJSON_CreateArray();
    char *text = read_file(m->log, NULL);
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        cJSON *o = cJSON_Parse(line);
        if (o)
            cJSON_AddItemToArray(arr, o);
    }
    free(text);
    return arr;
}

/* Count the files under dir, subfolders included, that contain key, and
 * name each one in a diag. */
static inline int scan_for_key(const char *dir, const char *key) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int hits = 0;
    size_t kl = strlen(key);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[1024];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= sizeof p)
            continue; /* no test writes paths this long */
        struct stat st;
        if (stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            hits += scan_for_key(p, key);
            continue;
        }
        size_t n;
        char *text = read_file(p, &n);
        for (size_t i = 0; text && i + kl <= n; i++)
            if (memcmp(text + i, key, kl) == 0) {
                diag("key found in %s", p);
                hits++;
                break;
            }
        free(text);
    }
    closedir(d);
    return hits;
}

/* Remove dir and everything under it. */
static inline void remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[1024];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= sizeof p)
            continue; /* no test writes paths this long */
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

#endif
