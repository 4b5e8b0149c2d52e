/*
 * Available memory, from LRC_MEMORY_LIMIT or /proc/meminfo; see sysmem.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "model/sysmem.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sysmem_parse_size(const char *text, size_t *bytes) {
    if (!text || !isdigit((unsigned char)text[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    switch (toupper((unsigned char)*end)) {
    case '\0':
        break;
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case 'T':
        shift = 40;
        break;
    default:
        return -1;
    }
    if (*end) {
        end++;
        if (*end == 'i' || *end == 'I')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
        if (*end)
            return -1;
    }
    if (shift && v > (SIZE_MAX >> shift))
        return -1;
    *bytes = (size_t)(v << shift);
    return 0;
}

int sysmem_available(size_t *bytes, const char **source, lrc_error *err) {
    const char *limit = getenv(SYSMEM_ENV);
    if (limit && limit[0]) {
        if (sysmem_parse_size(limit, bytes) < 0)
            return lrc_errorf(err,
                              "environment variable %s='%.64s' is not a byte count; expected "
                              "digits with an optional K, M, G or T suffix, e.g. 8G",
                              SYSMEM_ENV, limit);
        *source = SYSMEM_ENV;
        return 0;
    }

    FILE *fp = fopen("/proc/meminfo", "r");
    if (!fp)
        return lrc_errorf(err, "/proc/meminfo: cannot open: %s; set %s to the bytes lrc may use",
                          strerror(errno), SYSMEM_ENV);
    char line[256];
    int found = 0;
    unsigned long long kib = 0;
    while (!found && fgets(line, sizeof line, fp))
        found = sscanf(line, "MemAvailable: %llu kB", &kib) == 1;
    fclose(fp);
    if (!found)
        return lrc_errorf(err,
                          "/proc/meminfo: no MemAvailable line (kernel before 3.14?); set "
                          "%s to the bytes lrc may use",
                          SYSMEM_ENV);
    *bytes = (size_t)kib * 1024;
    *source = "MemAvailable in /proc/meminfo";
    return 0;
}
