#!/usr/bin/python3
"""A scripted OpenAI-compatible chat server for the HTTP backend tests.

Usage: mock_openai.py SCRIPT.json PORT_FILE LOG_FILE KEY_FILE [LIFETIME_S]

It listens on 127.0.0.1 with a port the OS picks, writes that port to
PORT_FILE once ready, and exits by itself after LIFETIME_S (default 30).
Request number i (from 0) gets script["replies"][i], the last one repeating.
When the script has "rules", a list of {"match": ..., "absent": ..., "reply":
{...}}, the first rule whose "match" strings (one string or a list) all occur
in the last user message, and whose "absent" strings (optional) do not,
gives the reply instead; a request no rule matches falls back to "replies",
or gets a 500 error naming the message when the script has no "replies".
Rules let concurrent requests get their own scripted reply whatever order
they arrive in.
A reply is an object with optional keys:
  status       HTTP status (200)
  headers      extra response headers, e.g. {"Retry-After": "1"}
  delay        seconds to wait before the reply starts
  body         a JSON value sent as the whole body (non-200 replies)
  chunks       list of raw strings written one by one (chunked encoding);
               an item may be [text, seconds-before]
  disconnect   true: close after the chunks without ending the body
  stall        seconds to sleep after the chunks, sending nothing
  text         a reply text, sent as one content event per word (with its
               following spaces) and a final "data: [DONE]"; used when
               "chunks" is absent
Every request is logged as one JSON line: path, method, headers (the
Authorization value replaced by "auth_ok": whether it equals "Bearer " plus
the key read from KEY_FILE at start), and the parsed body.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

script_path, port_file, log_path, key_path = sys.argv[1:5]
lifetime = float(sys.argv[5]) if len(sys.argv) > 5 else 30.0

with open(script_path) as f:
    SCRIPT = json.load(f)
with open(key_path) as f:
    EXPECTED = "Bearer " + f.read().strip()

lock = threading.Lock()
counter = [0]
log = open(log_path, "a")


def last_user_message(body):
    messages = body.get("messages") if isinstance(body, dict) else None
    for m in reversed(messages or []):
        if isinstance(m, dict) and m.get("role") == "user":
            return str(m.get("content", ""))
    return ""


def as_list(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def choose_reply(body, index):
    text = last_user_message(body)
    for rule in SCRIPT.get("rules", []):
        if all(s in text for s in as_list(rule.get("match"))) and \
                not any(s in text for s in as_list(rule.get("absent"))):
            return rule["reply"]
    replies = SCRIPT.get("replies")
    if not replies:
        return {"status": 500,
                "body": {"error": {"message": "mock: no rule matches: " + text[:200]}}}
    return replies[min(index, len(replies) - 1)]


def text_chunks(text):
    """One SSE content event per word and its trailing spaces, then [DONE]."""
    pieces, start = [], 0
    for i in range(1, len(text) + 1):
        if i == len(text) or (text[i] != " " and text[i - 1] == " "):
            pieces.append(text[start:i])
            start = i
    events = []
    for p in pieces:
        chunk = {"choices": [{"index": 0, "delta": {"content": p}}]}
        events.append("data: " + json.dumps(chunk) + "\n\n")
    events.append("data: [DONE]\n\n")
    return events


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}

        headers = {}
        auth_ok = False
        for k, v in self.headers.items():
            if k.lower() == "authorization":
                auth_ok = v == EXPECTED
            else:
                headers[k.lower()] = v

        with lock:
            index = counter[0]
            counter[0] += 1
            entry = {"n": index, "t": time.time(), "method": "POST", "path": self.path,
                     "auth_present": "authorization" in (k.lower() for k in self.headers),
                     "auth_ok": auth_ok, "headers": headers, "body": body}
            log.write(json.dumps(entry) + "\n")
            log.flush()

        reply = choose_reply(body, index)
        time.sleep(reply.get("delay", 0))

        status = reply.get("status", 200)
        self.send_response(status)
        for k, v in reply.get("headers", {}).items():
            self.send_header(k, v)
        if "text" in reply and "chunks" not in reply:
            reply = dict(reply, chunks=text_chunks(reply["text"]))
        if "chunks" not in reply:
            data = json.dumps(reply.get("body", {})).encode()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return

        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

        for item in reply["chunks"]:
            text, pause = (item[0], item[1]) if isinstance(item, list) else (item, 0)
            time.sleep(pause)
            data = text.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        if reply.get("stall"):
            time.sleep(reply["stall"])
        if reply.get("disconnect"):
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    timer = threading.Timer(lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, port_file)
    server.serve_forever()


main()
