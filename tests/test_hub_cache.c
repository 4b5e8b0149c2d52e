/*
 * The Hub cache layout: model id and file name checks, the folder names,
 * snapshot links and refs, lookup and listing. The expected layout is the
 * one huggingface_hub writes (models--ORG--NAME, blobs/ETAG,
 * snapshots/COMMIT/FILE -> ../../blobs/ETAG, refs/main holding the commit),
 * written out by hand here, not produced by the functions under test.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub/hub_cache.h"
#include "tap.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_ids(void) {
    static const char *good[] = {"HuggingFaceTB/SmolLM2-135M", "org/name@main", "a/b",
                                 "Qwen/Qwen2.5-0.5B@refs/pr/1", "o_r.g/n-a_m.e@" COMMIT};
    static const char *bad[] = {"name",       "/name",    "org/",     "org/name/x",
                                "org/../x",   "../org/x", "org/-x",   "org/x.",
                                "o--rg/x",    "org/n..x", "org/x@",   "org/x@../y",
                                "org/x@a//b", "org/x y",  "org\\x/y", "org/x@/abs"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ok(hub_id_is_valid(good[i]), "id '%s' is accepted", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ok(!hub_id_is_valid(bad[i]), "id '%s' is rejected", bad[i]);

    /* Characters git refuses in a ref name, and '@', are refused in a revision. */
    static const char *bad_rev[] = {"ma in", "@main", "v2@v3", "a:b", "a~1",  "a^",
                                    "a?",    "a*",    "a[",    "..",  "a\nb", ""};
    for (size_t i = 0; i < sizeof bad_rev / sizeof bad_rev[0]; i++)
        ok(!hub_revision_is_valid(bad_rev[i]), "revision #%zu is rejected", i);
    ok(hub_revision_is_valid("refs/pr/1") && hub_revision_is_valid("v1.0-rc_2"),
       "revisions refs/pr/1 and v1.0-rc_2 are accepted");
    ok(!hub_id_is_valid("org/tiny@@main") && !hub_id_is_valid("org/tiny@v2@v3"),
       "ids org/tiny@@main and org/tiny@v2@v3 are rejected");

    hub_id id;
    lrc_error err;
    ok(hub_id_parse(&id, "Qwen/Qwen2.5-0.5B@refs/pr/1", &err) == 0 &&
           strcmp(id.repo, "Qwen/Qwen2.5-0.5B") == 0 && strcmp(id.revision, "refs/pr/1") == 0,
       "id parse splits repo and revision");
    ok(hub_id_parse(&id, "org/name", &err) == 0 && strcmp(id.revision, "main") == 0,
       "id parse defaults the revision to main");
    ok(hub_id_parse(&id, "org/../x", &err) < 0 && strstr(err.msg, "org/../x"),
       "id parse error names the id");
    ok(hub_id_parse(&id, "org/x\ny", &err) < 0 && !strchr(err.msg, '\n') &&
           strstr(err.msg, "'org/x\\ny'"),
       "an id with a newline is quoted on one line as \\n");
    char shown[32];
    hub_printable(shown, sizeof shown, "a\tb\x01");
    ok(strcmp(shown, "a\\tb\\x01") == 0, "printable writes a tab and 0x01 as \\t and \\x01 (%s)",
       shown);
    ok(hub_is_commit(COMMIT) && !hub_is_commit("main") && !hub_is_commit(COMMIT "0") &&
           !hub_is_commit("0123456789ABCDEF0123456789abcdef01234567"),
       "commit hashes are 40 lower-case hex digits");
}

static void test_filenames(void) {
    static const char *good[] = {"config.json", "model-00001-of-00002.safetensors",
                                 "onnx/model.onnx", ".gitattributes", "a/.b/c"};
    static const char *bad[] = {"../x", "/etc/x", "a/../b", "a//b", "a/",   "",
                                "./x",  "a/./b",  "a\\b",   "..",   "x/..", "a\nb"};
    lrc_error err;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ok(hub_check_filename("o/n", good[i], &err) == 0, "file name '%s' is accepted", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        ok(hub_check_filename("o/n", bad[i], &err) < 0 && strstr(err.msg, "o/n"),
           "file name #%zu is rejected naming the model", i);
    }
}

static void test_cache_dir(void) {
    char buf[HUB_PATH_MAX];
    lrc_error err;
    setenv("HF_HUB_CACHE", "/x/hub-cache", 1);
    setenv("HF_HOME", "/y/hf", 1);
    setenv("HOME", "/home/u", 1);
    ok(hub_cache_dir(buf, sizeof buf, &err) == 0 && strcmp(buf, "/x/hub-cache") == 0,
       "HF_HUB_CACHE wins");
    unsetenv("HF_HUB_CACHE");
    ok(hub_cache_dir(buf, sizeof buf, &err) == 0 && strcmp(buf, "/y/hf/hub") == 0,
       "HF_HOME/hub next");
    unsetenv("HF_HOME");
    unsetenv("XDG_CACHE_HOME");
    ok(hub_cache_dir(buf, sizeof buf, &err) == 0 &&
           strcmp(buf, "/home/u/.cache/huggingface/hub") == 0,
       "~/.cache/huggingface/hub last");
    ok(hub_repo_dir(buf, sizeof buf, "/c", "Org-1/Name.2", &err) == 0 &&
           strcmp(buf, "/c/models--Org-1--Name.2") == 0,
       "repo folder is models--ORG--NAME");
}

static void test_layout(const char *root) {
    char repo[1024], path[HUB_PATH_MAX], target[HUB_PATH_MAX];
    lrc_error err;
    snprintf(repo, sizeof repo, "%s/models--org--tiny", root);
    snprintf(path, sizeof path, "%s/blobs", repo);
    ok(hub_mkdirs(path, &err) == 0, "mkdirs makes blobs/ and its parents");
    snprintf(path, sizeof path, "%s/blobs/etag1", repo);
    write_file(path, "{\"x\": 1}");
    snprintf(path, sizeof path, "%s/blobs/etag2", repo);
    write_file(path, "nested");

    ok(hub_snapshot_link(repo, COMMIT, "config.json", "etag1", &err) == 0,
       "link config.json into the snapshot");
    ok(hub_snapshot_link(repo, COMMIT, "sub/dir/file.txt", "etag2", &err) == 0,
       "link a nested file into the snapshot");
    snprintf(path, sizeof path, "%s/snapshots/%s/config.json", repo, COMMIT);
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    ok(strcmp(target, "../../blobs/etag1") == 0, "config.json links to ../../blobs/etag1 (%s)",
       target);
    snprintf(path, sizeof path, "%s/snapshots/%s/sub/dir/file.txt", repo, COMMIT);
    n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    ok(strcmp(target, "../../../../blobs/etag2") == 0, "nested link climbs four levels (%s)",
       target);
    struct stat st;
    ok(stat(path, &st) == 0 && st.st_size == 6, "nested link resolves to its blob");
    ok(hub_snapshot_link(repo, COMMIT, "../evil", "etag1", &err) < 0,
       "link refuses a name with ..");

    hub_id id;
    char snap[HUB_PATH_MAX];
    hub_id_parse(&id, "org/tiny", &err);
    ok(hub_snapshot_find(snap, sizeof snap, root, &id, &err) < 0 && strstr(err.msg, "lrc pull"),
       "no refs/main: lookup fails naming lrc pull");
    ok(hub_ref_write(repo, "main", COMMIT, &err) == 0, "write refs/main");
    snprintf(path, sizeof path, "%s/refs/main", repo);
    FILE *f = fopen(path, "r");
    char line[64] = {0};
    if (f) {
        if (!fgets(line, sizeof line, f))
            line[0] = '\0';
        fclose(f);
    }
    ok(strcmp(line, COMMIT) == 0, "refs/main holds the commit alone");
    char want[HUB_PATH_MAX];
    snprintf(want, sizeof want, "%s/snapshots/%s", repo, COMMIT);
    ok(hub_snapshot_find(snap, sizeof snap, root, &id, &err) == 0 && strcmp(snap, want) == 0,
       "lookup of org/tiny finds the snapshot");
    hub_id_parse(&id, "org/tiny@" COMMIT, &err);
    ok(hub_snapshot_find(snap, sizeof snap, root, &id, &err) == 0 && strcmp(snap, want) == 0,
       "lookup by commit finds the snapshot");
    hub_id_parse(&id, "org/tiny@v2", &err);
    ok(hub_snapshot_find(snap, sizeof snap, root, &id, &err) < 0 && strstr(err.msg, "v2"),
       "an uncached revision fails naming it");
    hub_id_parse(&id, "org/other", &err);
    ok(hub_snapshot_find(snap, sizeof snap, root, &id, &err) < 0 && strstr(err.msg, "org/other") &&
           strstr(err.msg, "models--org--other"),
       "an uncached model fails naming it and its folder");

    hub_cached_model *m;
    size_t count;
    ok(hub_cache_list(&m, &count, root, &err) == 0 && count == 1, "list finds one snapshot");
    if (count == 1) {
        ok(strcmp(m[0].repo, "org/tiny") == 0 && strcmp(m[0].revision, "main") == 0 &&
               strcmp(m[0].commit, COMMIT) == 0,
           "list entry is org/tiny main");
        ok(m[0].n_files == 2 && m[0].bytes == 8 + 6 && m[0].has_config && !m[0].has_weights,
           "list entry counts 2 files, 14 bytes, config but no weights");
    }
    free(m);

    setenv("HF_HUB_CACHE", root, 1);
    unsetenv("HF_HUB_OFFLINE");
    char resolved[HUB_PATH_MAX];
    ok(hub_resolve_model_arg(resolved, sizeof resolved, "org/tiny", &err) < 0 &&
           strstr(err.msg, "only partly cached: model.safetensors") &&
           strstr(err.msg, "is missing; to repair it, run 'lrc pull org/tiny'"),
       "a snapshot without weights is refused naming the file and lrc pull (%s)", err.msg);

    /* Weights as a link to a blob: resolves; with the blob deleted the
     * dangling link is named, with the pull that repairs it. */
    snprintf(path, sizeof path, "%s/blobs/etag3", repo);
    write_file(path, "weights");
    ok(hub_snapshot_link(repo, COMMIT, "model.safetensors", "etag3", &err) == 0,
       "link model.safetensors into the snapshot");
    ok(hub_resolve_model_arg(resolved, sizeof resolved, "org/tiny", &err) == 1 &&
           strcmp(resolved, want) == 0,
       "model argument org/tiny resolves to the snapshot");
    unlink(path);
    ok(hub_resolve_model_arg(resolved, sizeof resolved, "org/tiny", &err) < 0 &&
           strstr(err.msg, "'org/tiny' is not a file or folder") &&
           strstr(err.msg, "model.safetensors in ") &&
           strstr(err.msg, "is a link whose blob was deleted; to repair it, run 'lrc pull "
                           "org/tiny'"),
       "a weights link whose blob is gone is named with lrc pull (%s)", err.msg);
    setenv("HF_HUB_OFFLINE", "1", 1);
    ok(hub_resolve_model_arg(resolved, sizeof resolved, "org/tiny", &err) < 0 &&
           strstr(err.msg, "unset HF_HUB_OFFLINE and run 'lrc pull org/tiny'"),
       "offline, the repair says to unset HF_HUB_OFFLINE first");
    ok(hub_resolve_model_arg(resolved, sizeof resolved, "org/other", &err) < 0 &&
           strstr(err.msg, "unset HF_HUB_OFFLINE and run 'lrc pull org/other'"),
       "offline, an uncached model says to unset HF_HUB_OFFLINE first");
    unsetenv("HF_HUB_OFFLINE");
    write_file(path, "weights");

    /* A commit prefix (as --list shows) finds the snapshot; too short or
     * matching nothing does not. */
    hub_id_parse(&id, "org/tiny@0123456789ab", &err);
    ok(hub_snapshot_find(snap, sizeof snap, root, &id, &err) == 0 && strcmp(snap, want) == 0,
       "a 12-digit commit prefix finds the snapshot");
    ok(hub_resolve_model_arg(resolved, sizeof resolved, "org/tiny@0123456", &err) == 1 &&
           strcmp(resolved, want) == 0,
       "a 7-digit commit prefix resolves as a model argument");
    hub_id_parse(&id, "org/tiny@012345", &err);
    ok(hub_snapshot_find(snap, sizeof snap, root, &id, &err) < 0,
       "a 6-digit prefix is not taken as a commit");
    hub_id_parse(&id, "org/tiny@0123456789ac", &err);
    ok(hub_snapshot_find(snap, sizeof snap, root, &id, &err) < 0 &&
           strstr(err.msg, "no cached revision '0123456789ac'"),
       "a prefix matching no snapshot fails naming it");
    char other[HUB_PATH_MAX];
    snprintf(other, sizeof other, "%s/snapshots/0123456789abffffffffffffffffffffffffffff", repo);
    mkdir(other, 0755);
    hub_id_parse(&id, "org/tiny@0123456789ab", &err);
    ok(hub_snapshot_find(snap, sizeof snap, root, &id, &err) < 0 &&
           strstr(err.msg, "matches 2 cached snapshots"),
       "an ambiguous prefix is refused (%s)", err.msg);
    rmdir(other);

    /* A typed id with an empty revision gets the id's error, not the loader's. */
    ok(hub_resolve_model_arg(resolved, sizeof resolved, "org/tiny@", &err) < 0 &&
           strstr(err.msg, "invalid revision ''"),
       "org/tiny@ is reported as an invalid revision (%s)", err.msg);

    char r[HUB_REPO_ID_MAX + 1], c[HUB_COMMIT_LEN + 1];
    ok(hub_snapshot_identify(want, r, c) && strcmp(r, "org/tiny") == 0 && strcmp(c, COMMIT) == 0,
       "a snapshot path is identified as org/tiny at its commit");
    ok(!hub_snapshot_identify(root, r, c), "the cache folder is no snapshot");
    ok(hub_resolve_model_arg(resolved, sizeof resolved, root, &err) == 0 &&
           strcmp(resolved, root) == 0,
       "an existing folder is left as it is");
    ok(hub_resolve_model_arg(resolved, sizeof resolved, "no/such", &err) < 0 &&
           strstr(err.msg, "no/such"),
       "an uncached id fails naming it");
    ok(hub_resolve_model_arg(resolved, sizeof resolved, "not/a/model", &err) == 0,
       "a missing path that is no id is left to the loader");
}

int main(void) {
    test_ids();
    test_filenames();
    test_cache_dir();

    char root[] = "/tmp/lrc-hub-cache-XXXXXX";
    if (!mkdtemp(root))
        skip_all("cannot create a temporary folder");
    test_layout(root);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        diag("could not remove %s", root);
    return done_testing();
}
