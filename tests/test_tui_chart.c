/*
 * Charts (src/tui/chart.c): braille cells against the Unicode braille
 * block's code points, encoded to UTF-8 here independently, dot mapping at
 * the range ends, Bresenham dot counts, log scale, gaps at NaN, ASCII
 * marks, bar eighths and axis labels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tui/chart.h"

/* UTF-8 of a code point below U+10000. */
static void utf8(unsigned cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        out[1] = '\0';
    } else if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        out[2] = '\0';
    } else {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        out[3] = '\0';
    }
}

static int count_dots(const chart_canvas *cv) {
    int n = 0;
    for (int i = 0; i < cv->w * cv->h; i++)
        for (int b = 0; b < 8; b++)
            n += (cv->c[i].mask >> b) & 1;
    return n;
}

static void test_braille_cells(void) {
    chart_canvas cv;
    chart_init(&cv, 2, 1, true);
    char got[64], want[64], a[8], b[8];

    /* Dot 1 (top left) is U+2801; dot 8 (bottom right) is U+2880. */
    chart_dot(&cv, 0, 0, 0);
    chart_dot(&cv, 3, 3, 0);
    chart_row_text(&cv, 0, NULL, got, sizeof got);
    utf8(0x2801, a);
    utf8(0x2880, b);
    snprintf(want, sizeof want, "%s%s", a, b);
    ok(strcmp(got, want) == 0, "braille dots 1 and 8 are U+2801 and U+2880");

    /* All eight dots of the first cell: U+28FF. */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 2; x++)
            chart_dot(&cv, x, y, 0);
    chart_row_text(&cv, 0, NULL, got, sizeof got);
    utf8(0x28FF, a);
    ok(strncmp(got, a, 3) == 0, "braille full cell is U+28FF");

    /* Dot 3 (left, third row) is bit 2 and dot 7 (left, fourth row) bit 6. */
    chart_clear(&cv);
    chart_dot(&cv, 2, 2, 0);
    chart_dot(&cv, 2, 3, 0);
    chart_row_text(&cv, 0, NULL, got, sizeof got);
    utf8(0x2800, a);
    utf8(0x2800 + 0x04 + 0x40, b);
    snprintf(want, sizeof want, "%s%s", a, b);
    ok(strcmp(got, want) == 0, "braille dots 3 and 7 are bits 2 and 6");
    chart_free(&cv);
}

static void test_map_and_lines(void) {
    chart_canvas cv;
    chart_init(&cv, 5, 2, true); /* 10 × 8 dots */
    chart_set_range(&cv, 0, 10, 0, 1, false);
    int dx, dy;
    chart_map(&cv, 10, 1, &dx, &dy);
    ok(dx == 9 && dy == 0, "map: top right of the range is dot (9, 0), got (%d, %d)", dx, dy);
    chart_map(&cv, 0, 0, &dx, &dy);
    ok(dx == 0 && dy == 7, "map: bottom left of the range is dot (0, 7), got (%d, %d)", dx, dy);
    chart_map(&cv, 5, 0.5, &dx, &dy);
    /* 5/10 of 9 dots is 4.5, rounded to 5; half of 7 rows is 3.5, rounded to 4. */
    ok(dx == 5 && dy == 4, "map: the centre rounds to dot (5, 4), got (%d, %d)", dx, dy);
    chart_map(&cv, -3, 7, &dx, &dy);
    ok(dx == 0 && dy == 0, "map: points outside the range clamp to the border");

    /* A diagonal from (0,0) to (9,7) sets max(9, 7) + 1 = 10 dots. */
    chart_clear(&cv);
    chart_line(&cv, 0, 0, 9, 7, 0);
    ok(count_dots(&cv) == 10, "line: a diagonal sets 10 dots, got %d", count_dots(&cv));
    chart_clear(&cv);
    chart_line(&cv, 2, 5, 2, 5, 0);
    ok(count_dots(&cv) == 1, "line: a zero-length line sets one dot");

    /* A NaN between two points breaks the line: two dots only. */
    double x[3] = {0, 5, 10}, y[3] = {0, NAN, 1};
    chart_clear(&cv);
    chart_plot(&cv, x, y, 3, 0);
    ok(count_dots(&cv) == 2, "plot: NaN breaks the line, got %d dots", count_dots(&cv));

    /* Log scale: 10 lies halfway between 1 and 100. */
    chart_set_range(&cv, 0, 10, 1, 100, true);
    chart_map(&cv, 0, 10, &dx, &dy);
    ok(dy == 4, "log scale: 10 maps to the middle row 4 of 1..100, got %d", dy);
    ok_near(cv.ymax, 2.0, 1e-12, "log scale: the range is stored as log10");
    chart_free(&cv);
}

static void test_ranges(void) {
    double y[5] = {3, NAN, -1, 7, INFINITY}, lo = 0, hi = 0;
    ok(chart_y_range(y, 5, false, &lo, &hi) && lo == -1 && hi == 7,
       "y range: finite values only (%g..%g)", lo, hi);
    ok(chart_y_range(y, 5, true, &lo, &hi) && lo == 3 && hi == 7,
       "y range: log scale skips values <= 0 (%g..%g)", lo, hi);
    double none[2] = {NAN, -2};
    ok(!chart_y_range(none, 2, true, &lo, &hi), "y range: no qualifying point");

    chart_canvas cv;
    chart_init(&cv, 4, 4, false);
    chart_set_range(&cv, 3, 3, 2, 2, false);
    ok(cv.xmax > cv.xmin && cv.ymax > cv.ymin, "a zero-width range is widened");
    int dx, dy;
    chart_map(&cv, 3, 2, &dx, &dy);
    ok(dx >= 0 && dx < 4 && dy >= 0 && dy < 4, "a point of a zero-width range maps inside");
    chart_free(&cv);
}

static void test_ascii(void) {
    chart_canvas cv;
    chart_init(&cv, 4, 2, false);
    ok(cv.dw == 4 && cv.dh == 2, "ascii: one dot per cell");
    chart_dot(&cv, 0, 0, 0);
    chart_dot(&cv, 3, 0, 1);
    char got[32];
    chart_row_text(&cv, 0, "*+", got, sizeof got);
    ok(strcmp(got, "*  +") == 0, "ascii: marks per series, got '%s'", got);
    chart_row_text(&cv, 1, "*+", got, sizeof got);
    ok(strcmp(got, "    ") == 0, "ascii: an empty row is spaces");
    chart_free(&cv);
}

static void test_bars_and_labels(void) {
    char got[64], want[64], full[8], eighth[8];
    utf8(0x2588, full);
    utf8(0x258F, eighth);

    chart_bar_text(0.5, 4, true, got, sizeof got);
    snprintf(want, sizeof want, "%s%s  ", full, full);
    ok(strcmp(got, want) == 0, "bar: half of 4 cells is two full blocks");
    chart_bar_text(1.0 / 32, 4, true, got, sizeof got);
    snprintf(want, sizeof want, "%s   ", eighth);
    ok(strcmp(got, want) == 0, "bar: 1/32 of 4 cells is one eighth (U+258F)");
    chart_bar_text(0.5, 4, false, got, sizeof got);
    ok(strcmp(got, "##  ") == 0, "bar: ascii uses '#', got '%s'", got);
    chart_bar_text(7.0, 3, false, got, sizeof got);
    ok(strcmp(got, "###") == 0, "bar: fractions above 1 are clamped");

    chart_format_value(got, sizeof got, 12345.678, 6);
    ok(strlen(got) <= 6, "label: 12345.678 fits 6 columns as '%s'", got);
    ok_near(strtod(got, NULL), 12345.678, 5000, "label: the value survives");
    chart_format_value(got, sizeof got, 0.125, 8);
    ok(strcmp(got, "0.125") == 0, "label: 0.125 stays exact, got '%s'", got);
    chart_format_value(got, sizeof got, NAN, 8);
    ok(strcmp(got, "nan") == 0, "label: NaN is 'nan'");
}

int main(void) {
    test_braille_cells();
    test_map_and_lines();
    test_ranges();
    test_ascii();
    test_bars_and_labels();
    return done_testing();
}
