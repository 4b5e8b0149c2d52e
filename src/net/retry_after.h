/*
 * Retry-After header values (RFC 9110, section 10.2.3): either a number of
 * seconds or an HTTP date. Shared by the Hub client and the OpenAI-compatible
 * HTTP backend.
 */
#ifndef LRC_NET_RETRY_AFTER_H
#define LRC_NET_RETRY_AFTER_H

#include <time.h>

/* Return the delay that VALUE requests, in seconds from NOW: the number for
 * the seconds form, the time until the date for an HTTP date (0 when the
 * date has passed), or -1 when VALUE is neither. Leading and trailing
 * spaces, tabs and line ends are ignored. */
double retry_after_parse(const char *value, time_t now);

#endif
