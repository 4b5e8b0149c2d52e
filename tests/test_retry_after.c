/*
 * retry_after_parse: the seconds form, the three HTTP date forms (measured
 * from a fixed "now"), a date in the past, spaces around the value, and
 * values that are neither.
 */
#include "net/retry_after.h"
#include "tap.h"

int main(void) {
    /* 1994-11-06 08:49:37 UTC, the example date of RFC 9110. */
    const time_t date = 784111777;

    ok(retry_after_parse("120", date) == 120, "seconds form");
    ok(retry_after_parse(" 7 \r\n", date) == 7, "spaces and line end around seconds");
    ok(retry_after_parse("0", date) == 0, "zero seconds");
    ok(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", date - 30) == 30,
       "IMF-fixdate 30 s ahead");
    ok(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", date - 5) == 5,
       "obsolete RFC 850 date 5 s ahead");
    ok(retry_after_parse("Sun Nov  6 08:49:37 1994", date - 60) == 60, "asctime date 60 s ahead");
    ok(retry_after_parse(" Sun, 06 Nov 1994 08:49:37 GMT\r\n", date - 1) == 1,
       "spaces and line end around a date");
    ok(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", date + 100) == 0, "past date is 0");
    ok(retry_after_parse("", date) == -1, "empty value");
    ok(retry_after_parse("soon", date) == -1, "word that is not a date");
    ok(retry_after_parse("-5", date) == -1, "negative seconds");
    ok(retry_after_parse("12abc", date) == -1, "seconds with trailing letters");
    return done_testing();
}
