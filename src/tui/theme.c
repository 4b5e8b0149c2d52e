/*
 * Theme files and colour reduction (theme.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "tui/theme.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef LRC_DATADIR
#define LRC_DATADIR "/usr/local/share/lrc-studio"
#endif
#ifndef LRC_SRCDIR
#define LRC_SRCDIR "."
#endif

static const char *const element_names[TUI_N_ELEMENTS] = {
    "normal", "title", "status", "border",  "focus",   "label",   "value",     "dim",
    "good",   "warn",  "error",  "series1", "series2", "series3", "reference", "bar"};

static const char *const color_names[8] = {"black", "red",     "green", "yellow",
                                           "blue",  "magenta", "cyan",  "white"};

const char *tui_element_name(tui_element e) {
    return e >= 0 && e < TUI_N_ELEMENTS ? element_names[e] : "?";
}

/* ------------------------------------------------------------------------ */
/* Colours                                                                  */
/* ------------------------------------------------------------------------ */

void tui_color_rgb(int c, int rgb[3]) {
    /* xterm's defaults: 0-15 the system colours, 16-231 a 6×6×6 cube with
     * levels 0, 95, 135, 175, 215, 255, then 24 greys from 8 to 238. */
    static const int system[16][3] = {
        {0, 0, 0},     {205, 0, 0},     {0, 205, 0},     {205, 205, 0},  {0, 0, 238}, {205, 0, 205},
        {0, 205, 205}, {229, 229, 229}, {127, 127, 127}, {255, 0, 0},    {0, 255, 0}, {255, 255, 0},
        {92, 92, 255}, {255, 0, 255},   {0, 255, 255},   {255, 255, 255}};
    if (c < 16) {
        memcpy(rgb, system[c < 0 ? 0 : c], sizeof system[0]);
    } else if (c < 232) {
        int i = c - 16, v[3] = {i / 36, (i / 6) % 6, i % 6};
        for (int k = 0; k < 3; k++)
            rgb[k] = v[k] ? 55 + 40 * v[k] : 0;
    } else {
        rgb[0] = rgb[1] = rgb[2] = 8 + 10 * (c - 232);
    }
}

short tui_color_reduce(short c, int colors) {
    if (c < 0 || c < colors)
        return c;
    int limit = colors >= 16 ? 16 : 8;
    int rgb[3], best = 0;
    long best_d = -1;
    tui_color_rgb(c, rgb);
    for (int k = 0; k < limit; k++) {
        int o[3];
        tui_color_rgb(k, o);
        long d = 0;
        for (int j = 0; j < 3; j++)
            d += (long)(rgb[j] - o[j]) * (rgb[j] - o[j]);
        if (best_d < 0 || d < best_d) {
            best_d = d;
            best = k;
        }
    }
    return (short)best;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

static int parse_color(const char *word, short *out) {
    if (strcmp(word, "default") == 0) {
        *out = -1;
        return 0;
    }
    const char *base = word;
    int offset = 0;
    if (strncmp(word, "bright-", 7) == 0) {
        base = word + 7;
        offset = 8;
    }
    for (int i = 0; i < 8; i++)
        if (strcmp(base, color_names[i]) == 0) {
            *out = (short)(i + offset);
            return 0;
        }
    if (offset)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(word, &end, 10);
    if (errno || end == word || *end || v < 0 || v > 255)
        return -1;
    *out = (short)v;
    return 0;
}

static int parse_attr(const char *word, unsigned *attrs) {
    static const struct {
        const char *name;
        unsigned bit;
    } table[] = {{"bold", TUI_ATTR_BOLD},
                 {"dim", TUI_ATTR_DIM},
                 {"underline", TUI_ATTR_UNDERLINE},
                 {"reverse", TUI_ATTR_REVERSE},
                 {"none", 0}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(word, table[i].name) == 0) {
            *attrs |= table[i].bit;
            return 0;
        }
    return -1;
}

/* Parse one "element = fg bg attrs" line (comments already cut). */
static int parse_line(tui_theme *t, char *line, const char *path, int lineno, lrc_error *err) {
    char *eq = strchr(line, '=');
    if (!eq)
        return lrc_errorf(err, "%s:%d: expected 'element = FG BG [ATTR...]'; see lrc-themes(5)",
                          path, lineno);
    *eq = '\0';
    char *name = strtok(line, " \t");
    if (!name || strtok(NULL, " \t"))
        return lrc_errorf(err, "%s:%d: expected one element name before '='; see lrc-themes(5)",
                          path, lineno);
    int e = -1;
    for (int i = 0; i < TUI_N_ELEMENTS; i++)
        if (strcmp(name, element_names[i]) == 0)
            e = i;
    if (e < 0)
        return lrc_errorf(err,
                          "%s:%d: unknown element '%s'; expected normal, title, status, border, "
                          "focus, label, value, dim, good, warn, error, series1, series2, "
                          "series3, reference or bar",
                          path, lineno, name);

    tui_style st = {.given = true};
    char *words[2] = {strtok(eq + 1, " \t"), strtok(NULL, " \t")};
    if (!words[0] || !words[1])
        return lrc_errorf(err, "%s:%d: element '%s' needs a foreground and a background colour",
                          path, lineno, name);
    if (parse_color(words[0], &st.fg) < 0 || parse_color(words[1], &st.bg) < 0)
        return lrc_errorf(err,
                          "%s:%d: invalid colour '%s'; expected default, a colour name, "
                          "bright-NAME or a number 0-255",
                          path, lineno, parse_color(words[0], &st.fg) < 0 ? words[0] : words[1]);
    for (char *w = strtok(NULL, " \t"); w; w = strtok(NULL, " \t"))
        if (parse_attr(w, &st.attrs) < 0)
            return lrc_errorf(err,
                              "%s:%d: unknown attribute '%s'; expected bold, dim, underline, "
                              "reverse or none",
                              path, lineno, w);
    t->style[e] = st;
    return 0;
}

int tui_theme_parse(tui_theme *t, const char *text, const char *path, lrc_error *err) {
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        char line[512];
        if (len >= sizeof line)
            return lrc_errorf(err, "%s:%d: line longer than %zu bytes", path, lineno,
                              sizeof line - 1);
        memcpy(line, p, len);
        line[len] = '\0';
        p += len + (nl ? 1 : 0);

        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            continue;
        if (parse_line(t, s, path, lineno, err) < 0)
            return -1;
    }

    if (!t->style[TUI_NORMAL].given)
        t->style[TUI_NORMAL] = (tui_style){.fg = -1, .bg = -1};
    for (int e = 0; e < TUI_N_ELEMENTS; e++)
        if (!t->style[e].given) {
            t->style[e] = t->style[TUI_NORMAL];
            t->style[e].given = false;
        }
    return 0;
}

void tui_theme_monochrome(tui_theme *t) {
    static const unsigned attrs[TUI_N_ELEMENTS] = {
        [TUI_TITLE] = TUI_ATTR_REVERSE, [TUI_STATUS] = TUI_ATTR_REVERSE,
        [TUI_FOCUS] = TUI_ATTR_BOLD,    [TUI_VALUE] = TUI_ATTR_BOLD,
        [TUI_DIM] = TUI_ATTR_DIM,       [TUI_ERROR] = TUI_ATTR_BOLD,
        [TUI_WARN] = TUI_ATTR_BOLD,     [TUI_REFERENCE] = TUI_ATTR_DIM};
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "monochrome");
    t->monochrome = true;
    for (int e = 0; e < TUI_N_ELEMENTS; e++)
        t->style[e] = (tui_style){.fg = -1, .bg = -1, .attrs = attrs[e], .given = true};
}

/* ------------------------------------------------------------------------ */
/* Lookup                                                                   */
/* ------------------------------------------------------------------------ */

static char *read_file(const char *path, lrc_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        lrc_errorf(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            if (cap > (1u << 20)) {
                free(buf);
                fclose(f);
                lrc_errorf(err, "%s: larger than 1 MiB; a theme file is a few lines", path);
                return NULL;
            }
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                lrc_errorf(err, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, 4096, f);
        len += n;
        if (n < 4096)
            break;
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

static int load_path(tui_theme *t, const char *name, const char *path, lrc_error *err) {
    char *text = read_file(path, err);
    if (!text)
        return -1;
    int rc = tui_theme_parse(t, text, path, err);
    free(text);
    if (rc == 0)
        snprintf(t->name, sizeof t->name, "%s", name);
    return rc;
}

int tui_theme_load(tui_theme *t, const char *name, lrc_error *err) {
    size_t n = strlen(name);
    if (strchr(name, '/') || (n > 6 && strcmp(name + n - 6, ".theme") == 0))
        return load_path(t, name, name, err);
    if (n == 0 || n > 60)
        return lrc_errorf(err, "theme name '%s' is empty or too long; give a name such as default",
                          name);

    char dirs[3][4096];
    int nd = 0;
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(dirs[nd++], sizeof dirs[0], "%s/lrc/themes", xdg);
    else if (home && *home)
        snprintf(dirs[nd++], sizeof dirs[0], "%s/.config/lrc/themes", home);
    snprintf(dirs[nd++], sizeof dirs[0], "%s/themes", LRC_DATADIR);
    snprintf(dirs[nd++], sizeof dirs[0], "%s/themes", LRC_SRCDIR);

    for (int i = 0; i < nd; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%.4096s/%.64s.theme", dirs[i], name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fclose(f);
        return load_path(t, name, path, err);
    }
    return lrc_errorf(err,
                      "theme '%s' not found in %s, %s or %s; give one of default, light, "
                      "high-contrast, monochrome or a path to a .theme file",
                      name, dirs[0], dirs[1], dirs[nd - 1]);
}
