#!/bin/sh
# Each command's --help and its man page list the same long options: every
# option named in one must appear in the other.
. "$LRC_TESTDATA/lib.sh"
mandir="$LRC_TESTDATA/../man"

# Long options (--name) in a text, one per line, sorted and unique.
options_in() {
    grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

ok "lrc --help exits 0" "$LRC" --help
ok "lrc --version exits 0" "$LRC" --version

commands=$("$LRC" --help | awk '/^Commands:/ {on = 1; next} on && !NF {exit} on {print $1}')
[ -n "$commands" ]
check "lrc --help lists commands"

for cmd in $commands; do
    page="$mandir/lrc-$cmd.1"
    [ -f "$page" ]
    check "man page exists for $cmd"
    [ -f "$page" ] || continue

    "$LRC" "$cmd" --help >"$TMP/help" 2>&1
    check "lrc $cmd --help exits 0"

    # Render the page's roff escapes (\-) as plain text before comparing.
    sed 's/\\-/-/g' "$page" | options_in >"$TMP/man.opts"
    options_in <"$TMP/help" >"$TMP/help.opts"
    missing_in_man=$(comm -23 "$TMP/help.opts" "$TMP/man.opts" | tr '\n' ' ')
    missing_in_help=$(comm -13 "$TMP/help.opts" "$TMP/man.opts" | tr '\n' ' ')
    [ -z "$missing_in_man" ]
    check "lrc-$cmd.1 documents every --help option${missing_in_man:+ (missing: $missing_in_man)}"
    [ -z "$missing_in_help" ]
    check "lrc $cmd --help lists every man page option${missing_in_help:+ (missing: $missing_in_help)}"

    grep -q "lrc-$cmd (1)\|lrc\\\\-$cmd (1)" "$mandir/lrc.1"
    check "lrc.1 refers to lrc-$cmd(1)"
done

done_testing
