/*
 * Run folders and durable writes; see rundir.h for the layout. Every
 * function reports failures as one line naming the path, and removes what it
 * created before returning an error.
 */
#define _POSIX_C_SOURCE 200809L
#include "train/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int rundir_join(char *buf, size_t cap, const char *dir, const char *name, lrc_error *err) {
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= cap)
        return lrc_errorf(err, "%s/%s: path longer than %zu bytes; use a shorter run folder", dir,
                          name, cap - 1);
    return 0;
}

static int write_all(int fd, const void *buf, size_t n) {
    const unsigned char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int rundir_sync_parent(const char *path, lrc_error *err) {
    char dir[RUNDIR_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';

    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return lrc_errorf(err, "%s: cannot open the folder to sync it: %s", dir, strerror(errno));
    /* Some file systems do not support fsync on a folder (EINVAL); their
     * renames are then as durable as they get. */
    int rc = fsync(dfd);
    int e = errno;
    close(dfd);
    if (rc < 0 && e != EINVAL)
        return lrc_errorf(err, "%s: fsync of the folder failed: %s", dir, strerror(e));
    return 0;
}

int rundir_write_atomic(const char *path, const void *data, size_t len, lrc_error *err) {
    char tmp[RUNDIR_PATH_MAX + 16];
    if (strlen(path) >= RUNDIR_PATH_MAX)
        return lrc_errorf(err, "%s: path longer than %d bytes", path, RUNDIR_PATH_MAX - 1);
    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return lrc_errorf(err, "%s: cannot create a temporary file beside it: %s", path,
                          strerror(errno));

    int rc = fchmod(fd, 0644);
    if (rc == 0)
        rc = write_all(fd, data, len);
    if (rc == 0)
        rc = fsync(fd);
    int e = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -1;
        e = errno;
    }
    if (rc < 0) {
        unlink(tmp);
        return lrc_errorf(err, "%s: write failed: %s; the previous file, if any, is unchanged",
                          path, strerror(e));
    }
    return rundir_sync_parent(path, err);
}

/* Copy the last path component of name into out, mapping characters outside
 * [A-Za-z0-9._-] to '-'. */
static void sanitize_name(char *out, size_t cap, const char *name) {
    size_t len = strlen(name);
    while (len > 1 && name[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && name[start - 1] != '/')
        start--;

    size_t n = 0;
    for (size_t i = start; i < len && n + 1 < cap; i++) {
        char c = name[i];
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
        out[n++] = keep ? c : '-';
    }
    out[n] = '\0';
    if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        snprintf(out, cap, "model");
}

static int folder_is_empty(const char *path, bool *empty, lrc_error *err) {
    DIR *d = opendir(path);
    if (!d)
        return lrc_errorf(err, "%s: cannot read the folder: %s", path, strerror(errno));
    *empty = true;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            *empty = false;
            break;
        }
    }
    closedir(d);
    return 0;
}

/* Use or create the folder the caller named. */
static int create_named(rundir *rd, const char *out, lrc_error *err) {
    if (strlen(out) >= sizeof rd->path)
        return lrc_errorf(err, "%s: path longer than %zu bytes", out, sizeof rd->path - 1);
    snprintf(rd->path, sizeof rd->path, "%s", out);
    size_t len = strlen(rd->path);
    while (len > 1 && rd->path[len - 1] == '/')
        rd->path[--len] = '\0';

    struct stat st;
    if (stat(rd->path, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return lrc_errorf(err, "%s: exists and is not a folder; choose another --out",
                              rd->path);
        bool empty = false;
        if (folder_is_empty(rd->path, &empty, err) < 0)
            return -1;
        char runjson[RUNDIR_PATH_MAX + 16];
        snprintf(runjson, sizeof runjson, "%s/run.json", rd->path);
        if (!empty && access(runjson, F_OK) == 0)
            return lrc_errorf(err,
                              "%s: folder is not empty; choose a new --out, or continue the run "
                              "in it with --resume",
                              rd->path);
        if (!empty)
            return lrc_errorf(err,
                              "%s: folder is not empty and is not a run folder (no run.json); "
                              "choose a new or empty --out",
                              rd->path);
        return 0;
    }
    if (mkdir(rd->path, 0777) < 0)
        return lrc_errorf(err,
                          "%s: cannot create the run folder: %s; check that its parent "
                          "exists and is writable",
                          rd->path, strerror(errno));
    rd->created = true;
    return 0;
}

/* Create runs/<date>-<teacher>-r<rank>, adding -2, -3, ... when taken. */
static int create_default(rundir *rd, const char *runs, const char *teacher, int rank, time_t now,
                          lrc_error *err) {
    if (mkdir(runs, 0777) == 0)
        rd->created_parent = true;
    else if (errno != EEXIST)
        return lrc_errorf(err,
                          "%s: cannot create the runs folder: %s; pass --out to choose "
                          "another place",
                          runs, strerror(errno));

    struct tm tm;
    char date[32], name[256];
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    sanitize_name(name, sizeof name, teacher);

    for (int i = 1; i <= 1000; i++) {
        char suffix[16] = "";
        if (i > 1)
            snprintf(suffix, sizeof suffix, "-%d", i);
        int n =
            snprintf(rd->path, sizeof rd->path, "%s/%s-%s-r%d%s", runs, date, name, rank, suffix);
        if (n < 0 || (size_t)n >= sizeof rd->path)
            return lrc_errorf(err, "%s: run folder path longer than %zu bytes", runs,
                              sizeof rd->path - 1);
        if (mkdir(rd->path, 0777) == 0) {
            rd->created = true;
            return 0;
        }
        if (errno != EEXIST)
            return lrc_errorf(err,
                              "%s: cannot create the run folder: %s; pass --out to choose "
                              "another place",
                              rd->path, strerror(errno));
    }
    return lrc_errorf(err, "%s: 1000 run folders for %s-r%d today already; pass --out", runs, name,
                      rank);
}

int rundir_create(rundir *rd, const char *out, const char *runs, const char *teacher, int rank,
                  time_t now, lrc_error *err) {
    memset(rd, 0, sizeof *rd);
    int rc = out ? create_named(rd, out, err) : create_default(rd, runs, teacher, rank, now, err);
    if (rc < 0) {
        if (rd->created_parent)
            rmdir(runs);
        memset(rd, 0, sizeof *rd);
        return -1;
    }

    /* Creating checkpoints/ is also the test that the folder is writable. */
    char ckpt[RUNDIR_PATH_MAX];
    if (rundir_join(ckpt, sizeof ckpt, rd->path, "checkpoints", err) < 0)
        goto fail;
    if (mkdir(ckpt, 0777) < 0) {
        lrc_errorf(err, "%s: cannot write in the run folder: %s; choose another --out", rd->path,
                   strerror(errno));
        goto fail;
    }
    rd->fresh = true;
    return 0;

fail:
    if (rd->created)
        rmdir(rd->path);
    if (rd->created_parent)
        rmdir(runs);
    memset(rd, 0, sizeof *rd);
    return -1;
}

int rundir_open(rundir *rd, const char *path, lrc_error *err) {
    memset(rd, 0, sizeof *rd);
    if (strlen(path) >= sizeof rd->path)
        return lrc_errorf(err, "%s: path longer than %zu bytes", path, sizeof rd->path - 1);
    snprintf(rd->path, sizeof rd->path, "%s", path);
    size_t len = strlen(rd->path);
    while (len > 1 && rd->path[len - 1] == '/')
        rd->path[--len] = '\0';

    char runjson[RUNDIR_PATH_MAX];
    struct stat st;
    if (stat(rd->path, &st) < 0 || !S_ISDIR(st.st_mode))
        return lrc_errorf(err, "%s: not a run folder (%s); pass the folder a run wrote", rd->path,
                          stat(rd->path, &st) < 0 ? strerror(errno) : "not a folder");
    if (rundir_join(runjson, sizeof runjson, rd->path, "run.json", err) < 0)
        return -1;
    if (stat(runjson, &st) < 0)
        return lrc_errorf(err, "%s: missing (%s); this folder holds no run to resume", runjson,
                          strerror(errno));
    return 0;
}

/* Names a failed start may have left in checkpoints/: checkpoints, the
 * pointer, and the temporary files of either. */
int rundir_lock(rundir *rd, lrc_error *err) {
    char p[RUNDIR_PATH_MAX + 8];
    if (rundir_join(p, sizeof p, rd->path, "lock", err) < 0)
        return -1;
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return lrc_errorf(err,
                          "%s: cannot create the run's lock file: %s; check the folder is "
                          "writable",
                          p, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char buf[32] = {0};
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        close(fd);
        if (e != EWOULDBLOCK)
            return lrc_errorf(err, "%s: cannot lock: %s", p, strerror(e));
        long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
        if (pid > 0)
            return lrc_errorf(err,
                              "run folder %s is in use by another lrc process (pid %ld); wait "
                              "for it to finish or stop it first",
                              rd->path, pid);
        return lrc_errorf(err,
                          "run folder %s is in use by another lrc process; wait for it to "
                          "finish or stop it first",
                          rd->path);
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || write_all(fd, pid, (size_t)len) < 0) {
        int e = errno;
        close(fd);
        return lrc_errorf(err, "%s: cannot write the pid: %s", p, strerror(e));
    }
    rd->lock_fd = fd;
    rd->locked = true;
    return 0;
}

void rundir_unlock(rundir *rd) {
    if (!rd->locked)
        return;
    close(rd->lock_fd);
    rd->locked = false;
}

static int is_checkpoint_file(const char *name) {
    return strncmp(name, "step-", 5) == 0 || strncmp(name, "latest", 6) == 0;
}

void rundir_abandon(rundir *rd) {
    if (!rd->fresh)
        return;
    char p[RUNDIR_PATH_MAX + 300];
    snprintf(p, sizeof p, "%s/run.json", rd->path);
    unlink(p);
    snprintf(p, sizeof p, "%s/metrics.jsonl", rd->path);
    unlink(p);
    snprintf(p, sizeof p, "%s/lock", rd->path);
    unlink(p);
    rundir_unlock(rd);

    snprintf(p, sizeof p, "%s/checkpoints", rd->path);
    DIR *d = opendir(p);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!is_checkpoint_file(e->d_name))
                continue;
            char f[RUNDIR_PATH_MAX + 600];
            snprintf(f, sizeof f, "%s/checkpoints/%s", rd->path, e->d_name);
            unlink(f);
        }
        closedir(d);
    }
    rmdir(p);
    if (rd->created)
        rmdir(rd->path);
    if (rd->created && rd->created_parent) {
        snprintf(p, sizeof p, "%s", rd->path);
        char *slash = strrchr(p, '/');
        if (slash) {
            *slash = '\0';
            rmdir(p);
        }
    }
    rd->created = false;
    rd->fresh = false;
}
