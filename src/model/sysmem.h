/*
 * How much memory the machine can give a new allocation: MemAvailable from
 * /proc/meminfo (the kernel's estimate of memory available without
 * swapping), or the LRC_MEMORY_LIMIT environment variable when set. The
 * variable contains a byte count with an optional binary suffix K, M, G or T
 * (e.g. 8G) and replaces MemAvailable, so users can cap what lrc plans to use
 * and tests can simulate a small machine.
 */
#ifndef LRC_MODEL_SYSMEM_H
#define LRC_MODEL_SYSMEM_H

#include <stddef.h>

#include "core/error.h"

#define SYSMEM_ENV "LRC_MEMORY_LIMIT"

/* Store the available bytes in *bytes and a short description of where the
 * number came from ("MemAvailable in /proc/meminfo" or "LRC_MEMORY_LIMIT") in
 * *source. */
int sysmem_available(size_t *bytes, const char **source, lrc_error *err);

/* Parse "123", "64M", "8G" (binary units) into bytes. */
int sysmem_parse_size(const char *text, size_t *bytes);

#endif
