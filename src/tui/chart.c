/*
 * Braille and ASCII line charts (chart.h).
 */
#include "tui/chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bit of the braille dot at column cx (0, 1) and row cy (0..3) of a cell. */
static const uint8_t braille_bit[4][2] = {{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}};

int chart_init(chart_canvas *cv, int w, int h, bool braille) {
    memset(cv, 0, sizeof *cv);
    if (w < 1 || h < 1)
        return -1;
    cv->c = calloc((size_t)w * (size_t)h, sizeof *cv->c);
    if (!cv->c)
        return -1;
    cv->w = w;
    cv->h = h;
    cv->braille = braille;
    cv->dw = braille ? 2 * w : w;
    cv->dh = braille ? 4 * h : h;
    chart_set_range(cv, 0, 1, 0, 1, false);
    return 0;
}

void chart_free(chart_canvas *cv) {
    free(cv->c);
    cv->c = NULL;
}

void chart_clear(chart_canvas *cv) {
    memset(cv->c, 0, (size_t)cv->w * (size_t)cv->h * sizeof *cv->c);
}

void chart_set_range(chart_canvas *cv, double xmin, double xmax, double ymin, double ymax,
                     bool logy) {
    cv->logy = logy;
    if (logy) {
        ymin = ymin > 0 ? log10(ymin) : 0.0;
        ymax = ymax > 0 ? log10(ymax) : 0.0;
    }
    if (!(xmax > xmin)) {
        xmin -= 0.5;
        xmax = xmin + 1.0;
    }
    if (!(ymax > ymin)) {
        double pad = fabs(ymin) > 0 ? fabs(ymin) * 0.05 : 0.5;
        ymin -= pad;
        ymax = ymin + 2 * pad;
    }
    cv->xmin = xmin;
    cv->xmax = xmax;
    cv->ymin = ymin;
    cv->ymax = ymax;
}

bool chart_y_range(const double *y, size_t n, bool logy, double *lo, double *hi) {
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || (logy && !(y[i] > 0)))
            continue;
        if (!any || y[i] < *lo)
            *lo = y[i];
        if (!any || y[i] > *hi)
            *hi = y[i];
        any = true;
    }
    return any;
}

static int clamp_int(double v, int lo, int hi) {
    if (!(v >= lo))
        return lo;
    if (v > hi)
        return hi;
    return (int)v;
}

void chart_map(const chart_canvas *cv, double x, double y, int *dx, int *dy) {
    if (cv->logy)
        y = log10(y);
    double fx = (x - cv->xmin) / (cv->xmax - cv->xmin);
    double fy = (y - cv->ymin) / (cv->ymax - cv->ymin);
    /* Round to the nearest dot; the top of the range is row 0. */
    *dx = clamp_int(floor(fx * (cv->dw - 1) + 0.5), 0, cv->dw - 1);
    *dy = clamp_int(floor((1.0 - fy) * (cv->dh - 1) + 0.5), 0, cv->dh - 1);
}

void chart_dot(chart_canvas *cv, int dx, int dy, uint8_t series) {
    if (dx < 0 || dy < 0 || dx >= cv->dw || dy >= cv->dh)
        return;
    chart_cell *cell;
    if (cv->braille) {
        cell = &cv->c[(size_t)(dy / 4) * (size_t)cv->w + (size_t)(dx / 2)];
        cell->mask |= braille_bit[dy % 4][dx % 2];
    } else {
        cell = &cv->c[(size_t)dy * (size_t)cv->w + (size_t)dx];
        cell->mask = 1;
    }
    cell->series = series;
}

void chart_line(chart_canvas *cv, int x0, int y0, int x1, int y1, uint8_t series) {
    int ddx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int ddy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = ddx + ddy;
    for (;;) {
        chart_dot(cv, x0, y0, series);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= ddy) {
            e += ddy;
            x0 += sx;
        }
        if (e2 <= ddx) {
            e += ddx;
            y0 += sy;
        }
    }
}

void chart_plot(chart_canvas *cv, const double *x, const double *y, size_t n, uint8_t series) {
    bool have_prev = false;
    int px = 0, py = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || !isfinite(x[i]) || (cv->logy && !(y[i] > 0))) {
            have_prev = false;
            continue;
        }
        int dx, dy;
        chart_map(cv, x[i], y[i], &dx, &dy);
        if (have_prev)
            chart_line(cv, px, py, dx, dy, series);
        else
            chart_dot(cv, dx, dy, series);
        px = dx;
        py = dy;
        have_prev = true;
    }
}

size_t chart_cell_text(const chart_canvas *cv, const chart_cell *cell, const char *ascii_marks,
                       char *buf, size_t cap) {
    if (cv->braille) {
        /* U+2800 + mask in UTF-8: E2, A0 + (mask >> 6), 80 + (mask & 63). */
        if (cap < 4)
            return 0;
        buf[0] = (char)0xE2;
        buf[1] = (char)(0xA0 + (cell->mask >> 6));
        buf[2] = (char)(0x80 + (cell->mask & 0x3F));
        buf[3] = '\0';
        return 3;
    }
    if (cap < 2)
        return 0;
    size_t marks = ascii_marks ? strlen(ascii_marks) : 0;
    char mark = marks ? ascii_marks[cell->series < marks ? cell->series : marks - 1] : '*';
    buf[0] = cell->mask ? mark : ' ';
    buf[1] = '\0';
    return 1;
}

size_t chart_row_text(const chart_canvas *cv, int row, const char *ascii_marks, char *buf,
                      size_t cap) {
    size_t o = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    for (int col = 0; col < cv->w && row >= 0 && row < cv->h; col++) {
        const chart_cell *cell = &cv->c[(size_t)row * (size_t)cv->w + (size_t)col];
        size_t n = chart_cell_text(cv, cell, ascii_marks, buf + o, cap - o);
        if (n == 0)
            break;
        o += n;
    }
    return o;
}

void chart_format_value(char *buf, size_t cap, double v, int width) {
    if (!isfinite(v)) {
        snprintf(buf, cap, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    for (int digits = 4; digits >= 1; digits--) {
        int n = snprintf(buf, cap, "%.*g", digits, v);
        if (n <= width)
            return;
    }
}

size_t chart_bar_text(double f, int cells, bool utf8, char *buf, size_t cap) {
    if (!(f >= 0))
        f = 0;
    if (f > 1)
        f = 1;
    size_t o = 0;
    int eighths = (int)floor(f * cells * 8 + 0.5);
    for (int i = 0; i < cells; i++) {
        int fill = eighths - 8 * i; /* eighths of this cell */
        if (fill > 8)
            fill = 8;
        if (fill <= 0) {
            if (o + 1 >= cap)
                break;
            buf[o++] = ' ';
        } else if (!utf8) {
            if (o + 1 >= cap)
                break;
            buf[o++] = fill >= 4 ? '#' : ' ';
        } else {
            /* U+2588 is the full block, U+2589..U+258F seven eighths down to one. */
            if (o + 3 >= cap)
                break;
            unsigned cp = fill == 8 ? 0x2588 : 0x2588 + (unsigned)(8 - fill);
            buf[o++] = (char)(0xE0 | (cp >> 12));
            buf[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    buf[o] = '\0';
    return o;
}
