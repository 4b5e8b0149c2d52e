#!/usr/bin/python3
"""A Hugging Face Hub stand-in for the lrc pull tests, on 127.0.0.1 only.

Usage: mock_hub.py CONFIG.json PORT_FILE LOG_FILE [LIFETIME_S]

Two listeners on ports the OS picks: the Hub itself, and a file host that
LFS downloads are redirected to under the host name "localhost", so the
client sees a second host as it does with the real Hub's CDN. PORT_FILE gets
"HUB_PORT CDN_PORT" once both listen. The server exits after LIFETIME_S
(default 120). CONFIG is read again whenever its modification time changes,
so a test can switch scenarios without a restart; fault counters restart then.

CONFIG: {"token": "...", "repos": {"ORG/NAME": REPO, ...}} where REPO has
  dir           folder with the repository's files (subfolders too)
  commit        40 hex digits; refs: {"main": commit} unless "refs" is given
  gated         true: the API and files need "Authorization: Bearer TOKEN"
                (401 without a token, 403 with another one)
  extra_names   names listed in "siblings" that are not served ("../x")
  corrupt       file names served with their last byte changed, under the
                ETag (SHA-256) of the real bytes
  cut           {"FILE": N}: the first "cut_times" (default 1) downloads of
                FILE send N bytes each and close the connection
  fail          {"FILE": [STATUS, ...]}: the first requests for FILE on the
                Hub get these statuses (Retry-After: 0), then normal replies
  stall         {"FILE": S}: the file host sends half of FILE, then nothing
                for S seconds
  fake_size     {"FILE": N}: X-Linked-Size announces N bytes for FILE
Files ending in .safetensors are LFS files: HEAD and GET of their resolve URL
return 302 with X-Linked-Etag (the SHA-256), X-Linked-Size and
X-Repo-Commit. The other files return 200 with an ETag of the git blob
SHA-1, as the real Hub does.

Every request is logged as one line: "hub|cdn METHOD PATH range=R auth=A"
where A is "none", "ok" or "bad"; the token itself is never logged.
"""
import hashlib
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

config_path, port_file, log_path = sys.argv[1:4]
lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0

lock = threading.Lock()
state = {"mtime": None, "config": {}, "counts": {}}
cdn_port = [0]


def config():
    with lock:
        mtime = os.stat(config_path).st_mtime_ns
        if mtime != state["mtime"]:
            with open(config_path) as f:
                state["config"] = json.load(f)
            state["mtime"] = mtime
            state["counts"] = {}
        return state["config"]


def bump(key):
    """Return how many times key was seen before, and count this one."""
    with lock:
        n = state["counts"].get(key, 0)
        state["counts"][key] = n + 1
        return n


def log(line):
    with lock:
        with open(log_path, "a") as f:
            f.write(line + "\n")


def repo_files(repo):
    root = repo["dir"]
    names = []
    for base, _, files in os.walk(root):
        for name in files:
            names.append(os.path.relpath(os.path.join(base, name), root))
    return sorted(names)


def is_lfs(name):
    return name.endswith(".safetensors")


def file_bytes(repo, name):
    with open(os.path.join(repo["dir"], name), "rb") as f:
        return f.read()


def served_bytes(repo, name):
    data = file_bytes(repo, name)
    if name in repo.get("corrupt", []) and data:
        data = data[:-1] + bytes([data[-1] ^ 0xFF])
    return data


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_kind = "hub"

    def log_message(self, *args):
        pass

    def auth_state(self):
        value = self.headers.get("Authorization")
        if value is None:
            return "none"
        return "ok" if value == "Bearer " + config().get("token", "") else "bad"

    def record(self):
        log("%s %s %s range=%s auth=%s" % (self.server_kind, self.command, self.path,
                                           self.headers.get("Range", "-"), self.auth_state()))

    def reply(self, status, headers=None, body=b""):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message):
        body = json.dumps({"error": message}).encode()
        self.reply(status, {"X-Error-Code": code, "Content-Type": "application/json"}, body)

    def do_HEAD(self):
        self.handle_request()

    def do_GET(self):
        self.handle_request()

    def handle_request(self):
        self.record()
        if self.server_kind == "cdn":
            return self.serve_cdn()
        path = urllib.parse.urlsplit(self.path).path
        parts = path.lstrip("/").split("/")
        if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] == "revision":
            return self.serve_api(parts[2] + "/" + parts[3], urllib.parse.unquote("/".join(parts[5:])))
        if len(parts) >= 5 and parts[2] == "resolve":
            name = urllib.parse.unquote("/".join(parts[4:]))
            return self.serve_resolve(parts[0] + "/" + parts[1], urllib.parse.unquote(parts[3]), name)
        self.error(404, "EntryNotFound", "no route " + path)

    # Access checks shared by the API and resolve URLs; True when refused.
    def refused(self, repo_id):
        repo = config()["repos"].get(repo_id)
        if repo is None:
            self.error(404, "RepoNotFound", "Repository not found")
            return True
        if repo.get("gated"):
            auth = self.auth_state()
            if auth == "none":
                self.error(401, "GatedRepo", "Access to this model is restricted")
                return True
            if auth == "bad":
                self.error(403, "GatedRepo", "Your token has no access")
                return True
        return False

    def commit_of(self, repo, rev):
        refs = repo.get("refs", {"main": repo["commit"]})
        if rev in refs:
            return refs[rev]
        return rev if rev == repo["commit"] or rev in refs.values() else None

    def serve_api(self, repo_id, rev):
        if self.refused(repo_id):
            return
        repo = config()["repos"][repo_id]
        commit = self.commit_of(repo, rev)
        if commit is None:
            return self.error(404, "RevisionNotFound", "Invalid rev id: " + rev)
        names = repo_files(repo) + repo.get("extra_names", [])
        body = {"id": repo_id, "modelId": repo_id, "sha": commit,
                "siblings": [{"rfilename": n} for n in names]}
        self.reply(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    def serve_resolve(self, repo_id, rev, name):
        if self.refused(repo_id):
            return
        repo = config()["repos"][repo_id]
        statuses = repo.get("fail", {}).get(name, [])
        n = bump("fail " + repo_id + " " + name)
        if n < len(statuses):
            return self.reply(statuses[n], {"Retry-After": "0"}, b"try again")
        commit = self.commit_of(repo, rev)
        if commit is None:
            return self.error(404, "RevisionNotFound", "Invalid rev id: " + rev)
        if name not in repo_files(repo):
            return self.error(404, "EntryNotFound", "Entry not found")
        data = file_bytes(repo, name)
        if is_lfs(name):
            sha = hashlib.sha256(data).hexdigest()
            location = "http://localhost:%d/lfs/%s/%s?repo=%s" % (
                cdn_port[0], sha, urllib.parse.quote(name), urllib.parse.quote(repo_id, safe=""))
            return self.reply(302, {"Location": location, "X-Repo-Commit": commit,
                                    "X-Linked-Etag": '"%s"' % sha,
                                    "X-Linked-Size": str(repo.get("fake_size", {}).get(name, len(data))),
                                    "ETag": '"%s"' % git_blob_sha1(data)})
        self.reply(200, {"X-Repo-Commit": commit, "ETag": '"%s"' % git_blob_sha1(data),
                         "Content-Type": "application/octet-stream"}, data)

    def serve_cdn(self):
        split = urllib.parse.urlsplit(self.path)
        parts = split.path.lstrip("/").split("/")
        repo_id = urllib.parse.parse_qs(split.query).get("repo", [""])[0]
        repo = config()["repos"].get(repo_id)
        if len(parts) < 3 or parts[0] != "lfs" or repo is None:
            return self.reply(404, {}, b"not found")
        name = urllib.parse.unquote("/".join(parts[2:]))
        data = served_bytes(repo, name)
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.reply(416, {"Content-Range": "bytes */%d" % len(data)})
        body = data[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return

        cut = repo.get("cut", {}).get(name)
        if cut is not None and bump("cut " + repo_id + name) < repo.get("cut_times", 1):
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        stall = repo.get("stall", {}).get(name)
        if stall is not None:
            half = len(body) // 2
            self.wfile.write(body[:half])
            self.wfile.flush()
            time.sleep(stall)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


class CdnHandler(Handler):
    server_kind = "cdn"


def main():
    hub = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    cdn = ThreadingHTTPServer(("127.0.0.1", 0), CdnHandler)
    hub.daemon_threads = cdn.daemon_threads = True
    cdn_port[0] = cdn.server_address[1]
    for server in (hub, cdn):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (hub.server_address[1], cdn.server_address[1]))
    os.rename(tmp, port_file)
    time.sleep(lifetime)


if __name__ == "__main__":
    main()
