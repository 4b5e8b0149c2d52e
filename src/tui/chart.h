/*
 * Line charts on a grid of terminal cells, with no terminal I/O.
 *
 * A braille canvas divides each cell into 2×4 dots, one bit each, and a
 * cell is drawn as the character U+2800 + its 8-bit mask (Unicode braille
 * patterns: dots 1-3 down the left column are bits 0-2, dots 4-6 down the
 * right column bits 3-5, dot 7 bottom left bit 6, dot 8 bottom right bit
 * 7). An ASCII canvas has one dot per cell, drawn as a character per
 * series. Each cell remembers the series that drew into it last, so the UI
 * can colour it. Lines between consecutive points are rasterised with
 * Bresenham's algorithm; y can be linear or log10.
 */
#ifndef LRC_TUI_CHART_H
#define LRC_TUI_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct chart_cell {
    uint8_t mask;   /* braille dots, or 1 for a dotted ASCII cell */
    uint8_t series; /* index of the series that drew here last */
} chart_cell;

typedef struct chart_canvas {
    int w, h;      /* cells */
    bool braille;  /* 2×4 dots per cell, else 1×1 */
    int dw, dh;    /* dots: w·2 × h·4, or w × h */
    chart_cell *c; /* (h, w) row-major */

    double xmin, xmax, ymin, ymax; /* data range; y in log10 when logy */
    bool logy;
} chart_canvas;

/* Allocate w×h cells (w, h >= 1). Returns 0, or -1 when out of memory. */
int chart_init(chart_canvas *cv, int w, int h, bool braille);
void chart_free(chart_canvas *cv);
void chart_clear(chart_canvas *cv);

/* Set the ranges. With logy, ymin and ymax are data values (> 0) and are
 * stored as their log10. A zero-width range is widened so every point maps
 * into the canvas. */
void chart_set_range(chart_canvas *cv, double xmin, double xmax, double ymin, double ymax,
                     bool logy);

/* The range of y over n points (finite and, with logy, positive only), to
 * pass to chart_set_range. Returns false when no point qualifies. */
bool chart_y_range(const double *y, size_t n, bool logy, double *lo, double *hi);

/* Dot coordinates of a data point: column from the left, row from the top.
 * Points outside the range are clamped to the border. */
void chart_map(const chart_canvas *cv, double x, double y, int *dx, int *dy);

/* Set one dot, or draw the line from dot (x0, y0) to (x1, y1). */
void chart_dot(chart_canvas *cv, int dx, int dy, uint8_t series);
void chart_line(chart_canvas *cv, int x0, int y0, int x1, int y1, uint8_t series);

/* Plot a series: consecutive points joined by lines; points that are not
 * finite (or not positive with logy) break the line.
 *   x (n)  y (n) */
void chart_plot(chart_canvas *cv, const double *x, const double *y, size_t n, uint8_t series);

/* Write row `row` of the canvas as text into buf (cap bytes, NUL-ended):
 * UTF-8 braille characters, or for ASCII a character per dotted cell taken
 * from ascii_marks[series] (a space for empty cells). Returns the bytes
 * written. */
size_t chart_row_text(const chart_canvas *cv, int row, const char *ascii_marks, char *buf,
                      size_t cap);

/* The text of one cell, as chart_row_text writes it. */
size_t chart_cell_text(const chart_canvas *cv, const chart_cell *cell, const char *ascii_marks,
                       char *buf, size_t cap);

/* A number in at most `width` characters for an axis label: %g with as
 * many significant digits as fit. */
void chart_format_value(char *buf, size_t cap, double v, int width);

/* A horizontal bar of `cells` cells filled to fraction f in [0, 1]: UTF-8
 * block eighths (U+2588..U+258F) or '#' in ASCII, padded with spaces. */
size_t chart_bar_text(double f, int cells, bool utf8, char *buf, size_t cap);

#endif
