#include "net/retry_after.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

double retry_after_parse(const char *value, time_t now) {
    char buf[128];
    while (*value && isspace((unsigned char)*value))
        value++;
    size_t n = strlen(value);
    while (n && isspace((unsigned char)value[n - 1]))
        n--;
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, value, n);
    buf[n] = '\0';

    if (isdigit((unsigned char)buf[0])) {
        char *end;
        errno = 0;
        double s = strtod(buf, &end);
        return errno == 0 && *end == '\0' && s >= 0 ? s : -1;
    }
    /* curl_getdate reads the three date forms HTTP allows. */
    time_t when = curl_getdate(buf, NULL);
    if (when == (time_t)-1)
        return -1;
    return when > now ? (double)(when - now) : 0;
}
