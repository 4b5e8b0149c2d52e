/*
 * The run folder of a training run and the durable file writes every run file
 * goes through.
 *
 *   RUN/run.json           every setting (runlog.h)
 *   RUN/metrics.jsonl      one JSON object per step or probe (runlog.h)
 *   RUN/checkpoints/       step-NNNNNN.safetensors and the pointer `latest`
 *                          (checkpoint.h)
 *   RUN/student/           the exported model
 *   RUN/lock               the pid of the process writing the run (flock)
 *
 * A new run gets runs/<YYYY-MM-DD>-<teacher>-r<rank>/, with -2, -3, ... added
 * when that name is taken, unless the caller names the folder (--out).
 * rundir_create makes the folder and checkpoints/ and nothing else. When a
 * later step fails, rundir_abandon removes exactly the files this module
 * names and the folders it created, so a failed start leaves the disk as it
 * was.
 *
 * rundir_write_atomic replaces a file durably: it writes a temporary file
 * beside the target, fsyncs it, renames it over the target and fsyncs the
 * folder, so after a crash the target is either the old or the new content.
 */
#ifndef LRC_TRAIN_RUNDIR_H
#define LRC_TRAIN_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/error.h"

#define RUNDIR_PATH_MAX 4096

typedef struct rundir {
    char path[RUNDIR_PATH_MAX]; /* the run folder, without a trailing slash */
    bool created;               /* this process created the folder (abandon removes it) */
    bool created_parent;        /* ... and the runs/ folder above it */
    bool fresh;                 /* rundir_create started the run here, so abandon may clean */
    bool locked;                /* lock_fd has the flock on RUN/lock */
    int lock_fd;
} rundir;

/*
 * Create a run folder and its checkpoints/ subfolder.
 *   out      NULL for the default name, else the folder to use (--out). An
 *            existing empty folder is used; a folder holding files is rejected,
 *            because resuming goes through --resume. Its parent must exist.
 *   runs     parent of default names (usually "runs"); created when missing.
 *   teacher  model name for the default folder name; characters outside
 *            [A-Za-z0-9._-] become '-', and a path keeps its last component.
 *   rank     student rank, for the default name.
 *   now      date for the default name (UTC).
 * Writability is tested by creating and removing a file in the folder, which
 * also works for root, who passes permission checks. On any error nothing is
 * left behind.
 */
int rundir_create(rundir *rd, const char *out, const char *runs, const char *teacher, int rank,
                  time_t now, lrc_error *err);

/* Point rd at an existing run folder (for --resume), checking it is a folder
 * holding run.json. */
int rundir_open(rundir *rd, const char *path, lrc_error *err);

/* Take an exclusive lock on the run for this process: flock on RUN/lock
 * (created 0644, holding the owner's pid), held until rundir_unlock or exit,
 * so a second process cannot write the same run. A crashed owner's lock is
 * released by the kernel. Fails, naming the folder and the owner's pid, when
 * another process has the lock. */
int rundir_lock(rundir *rd, lrc_error *err);

/* Release the lock. The file stays, because the next run reuses it. */
void rundir_unlock(rundir *rd);

/* Write path/name into buf (cap bytes). Fails when the result does not fit. */
int rundir_join(char *buf, size_t cap, const char *dir, const char *name, lrc_error *err);

/* Remove what a failed start created: run.json, metrics.jsonl, lock, the files in
 * checkpoints/ named step-*.safetensors, latest and their temporary files,
 * then checkpoints/, then the folder (and runs/ when created here) if they
 * are empty and this process made them. Does nothing unless rundir_create
 * made rd (an existing empty --out folder is emptied again and kept; a
 * resumed run is never touched). Errors are ignored because this runs on the
 * way out of another error. */
void rundir_abandon(rundir *rd);

/* Replace path with len bytes of data durably (temporary file, fsync, rename,
 * fsync of the folder). The temporary file is path + ".tmpXXXXXX". */
int rundir_write_atomic(const char *path, const void *data, size_t len, lrc_error *err);

/* fsync the folder that contains path, so a rename or unlink in it survives a
 * crash. */
int rundir_sync_parent(const char *path, lrc_error *err);

#endif
