/*
 * Themes (src/tui/theme.c): the file format with its errors by line, the
 * inheritance from `normal`, the bundled themes, the lookup through
 * $XDG_CONFIG_HOME, and the reduction of 256-colour indices to 16 and 8
 * colours, checked against nearest colours worked out by hand from the
 * xterm palette.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "tui/theme.h"

static void test_parse(void) {
    tui_theme t;
    lrc_error err;
    const char *text = "# a comment\n"
                       "normal = white black\n"
                       "  title = bright-yellow 21 bold underline  # trailing comment\n"
                       "\n"
                       "error = default 196 reverse\n";
    ok(tui_theme_parse(&t, text, "x.theme", &err) == 0, "parse: a valid file");
    ok(t.style[TUI_NORMAL].fg == 7 && t.style[TUI_NORMAL].bg == 0, "parse: colour names");
    ok(t.style[TUI_TITLE].fg == 11 && t.style[TUI_TITLE].bg == 21,
       "parse: bright-NAME and numbers");
    ok(t.style[TUI_TITLE].attrs == (TUI_ATTR_BOLD | TUI_ATTR_UNDERLINE), "parse: attributes");
    ok(t.style[TUI_ERROR].fg == -1 && t.style[TUI_ERROR].attrs == TUI_ATTR_REVERSE,
       "parse: default colour");
    ok(t.style[TUI_BAR].fg == 7 && t.style[TUI_BAR].bg == 0 && !t.style[TUI_BAR].given,
       "parse: a missing element takes normal's style");

    static const struct {
        const char *text, *want;
    } bad[] = {
        {"normal = white black\nfoo = red blue\n", "x.theme:2: unknown element 'foo'"},
        {"title = red\n", "x.theme:1: element 'title' needs a foreground and a background"},
        {"title = red 256\n", "x.theme:1: invalid colour '256'"},
        {"title = bright-grey black\n", "x.theme:1: invalid colour 'bright-grey'"},
        {"\n\ntitle = red blue blink\n", "x.theme:3: unknown attribute 'blink'"},
        {"title red blue\n", "x.theme:1: expected 'element = FG BG"},
        {"a b = red blue\n", "x.theme:1: expected one element name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = tui_theme_parse(&t, bad[i].text, "x.theme", &err);
        ok(rc < 0 && strncmp(err.msg, bad[i].want, strlen(bad[i].want)) == 0,
           "parse error %zu: '%s'", i, rc < 0 ? err.msg : "(accepted)");
    }
}

static void test_reduce(void) {
    /* 196 is (255,0,0): colour 9 of 16 exactly; of 8, red 1 (205,0,0). */
    ok(tui_color_reduce(196, 16) == 9, "reduce: 196 to 16 colours is 9");
    ok(tui_color_reduce(196, 8) == 1, "reduce: 196 to 8 colours is 1");
    /* 21 is (0,0,255): blue 4 (0,0,238) is 17 away, 12 (92,92,255) 130. */
    ok(tui_color_reduce(21, 16) == 4, "reduce: 21 to 16 colours is 4");
    ok(tui_color_reduce(231, 16) == 15 && tui_color_reduce(231, 8) == 7,
       "reduce: white 231 is 15 of 16 and 7 of 8");
    ok(tui_color_reduce(232, 16) == 0, "reduce: the darkest grey is black");
    ok(tui_color_reduce(5, 8) == 5 && tui_color_reduce(-1, 8) == -1 &&
           tui_color_reduce(200, 256) == 200,
       "reduce: colours that fit are unchanged");
    int rgb[3];
    tui_color_rgb(16 + 36 * 5 + 6 * 2 + 1, rgb);
    ok(rgb[0] == 255 && rgb[1] == 135 && rgb[2] == 95, "palette: cube colour (5,2,1)");
    tui_color_rgb(244, rgb);
    ok(rgb[0] == 128 && rgb[1] == 128 && rgb[2] == 128, "palette: grey 244 is 128");
}

static void test_bundled(void) {
    const char *dir = getenv("LRC_TESTDATA");
    if (!dir) {
        ok(0, "LRC_TESTDATA is set");
        return;
    }
    const char *names[] = {"default", "light", "high-contrast", "monochrome"};
    for (size_t i = 0; i < 4; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/../themes/%s.theme", dir, names[i]);
        tui_theme t;
        lrc_error err;
        int rc = tui_theme_load(&t, path, &err);
        bool all = rc == 0;
        for (int e = 0; all && e < TUI_N_ELEMENTS; e++)
            all = t.style[e].given;
        ok(all, "bundled theme %s sets every element%s%s", names[i], rc < 0 ? ": " : "",
           rc < 0 ? err.msg : "");
    }
}

static void test_lookup(void) {
    char tmpl[] = "/tmp/lrc-theme-XXXXXX";
    char *root = mkdtemp(tmpl);
    if (!root) {
        ok(0, "mkdtemp");
        return;
    }
    char d1[256], d2[256], file[300];
    snprintf(d1, sizeof d1, "%s/lrc", root);
    snprintf(d2, sizeof d2, "%s/lrc/themes", root);
    mkdir(d1, 0700);
    mkdir(d2, 0700);
    snprintf(file, sizeof file, "%s/mine.theme", d2);
    FILE *f = fopen(file, "w");
    fputs("value = 100 default\n", f);
    fclose(f);
    setenv("XDG_CONFIG_HOME", root, 1);

    tui_theme t;
    lrc_error err;
    ok(tui_theme_load(&t, "mine", &err) == 0 && t.style[TUI_VALUE].fg == 100 &&
           strcmp(t.name, "mine") == 0 && strcmp(t.path, file) == 0,
       "lookup: $XDG_CONFIG_HOME/lrc/themes/NAME.theme");
    ok(tui_theme_load(&t, "no-such-theme", &err) < 0 && strstr(err.msg, "'no-such-theme'") &&
           strstr(err.msg, d2),
       "lookup: a missing theme names itself and the folders: %s", err.msg);

    unlink(file);
    rmdir(d2);
    rmdir(d1);
    rmdir(root);

    tui_theme_monochrome(&t);
    ok(t.monochrome && t.style[TUI_TITLE].fg == -1 && t.style[TUI_TITLE].attrs == TUI_ATTR_REVERSE,
       "monochrome: default colours, attributes only");
}

int main(void) {
    test_parse();
    test_reduce();
    test_bundled();
    test_lookup();
    return done_testing();
}
