#!/usr/bin/python3
"""Mean pairwise cosine similarity of token embeddings in a model folder.

usage: models/name_similarity.py MODEL_DIR [MODEL_DIR ...]

Each folder holds config.json, model.safetensors (F32) and tokenizer.json.
For each, print the mean cosine similarity over all pairs of input
embeddings in three groups of tokens. The groups are the 40 person names of
`lrc corpus` (with their leading space, as in a question), 12 of its
objects, and the ten digits. A high figure for the names means that the model keeps
them close together and cannot tell them apart, so it cannot copy a name
from the question. A fourth figure, "opposites", is the mean cosine within
five pairs of words whose difference decides a task's result: doubles and
triples, and the four pairs of comparatives of the ordering puzzles.
models/README.md gives the figures of the bundled teacher and of step
checkpoints.

It needs numpy, which Debian's python3-numpy provides.
"""
import json
import struct
import sys

import numpy

NAMES = """Mia Tom Ana Ben Cara Dan Eva Finn Gina Hugo Ida Jack Kira Leo Maya Nico
Olga Paul Rosa Sam Tina Umar Vera Will Yara Zoe Omar Lena Ravi Nora Ivan Lucy
Marco Sofia Amir Hana Jonas Elif Kofi Priya""".split()
OBJECTS = """apples pears plums lemons oranges marbles crayons books candles
flowers coins stickers""".split()
DIGITS = list("0123456789")
OPPOSITES = [("doubles", "triples"), ("older", "younger"), ("heavier", "lighter"),
             ("taller", "shorter"), ("faster", "slower")]


def embeddings(folder):
    with open(folder + "/model.safetensors", "rb") as f:
        raw = f.read()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    body = raw[8 + size :]
    entry = header.get("model.embed_tokens.weight")
    if entry is None or entry["dtype"] != "F32":
        sys.exit(folder + "/model.safetensors: no F32 tensor model.embed_tokens.weight")
    start, end = entry["data_offsets"]
    return numpy.frombuffer(body[start:end], dtype=numpy.float32).reshape(entry["shape"])


def mean_cosine(table, vocab, words, prefix):
    ids = [vocab[prefix + w] for w in words if prefix + w in vocab]
    rows = table[ids]
    rows = rows / numpy.linalg.norm(rows, axis=1, keepdims=True)
    sims = rows @ rows.T
    off = ~numpy.eye(len(ids), dtype=bool)
    return len(ids), float(sims[off].mean())


def pair_cosine(table, vocab, pairs, prefix):
    """Return the number of pairs found and their mean cosine similarity."""
    sims = []
    for a, b in pairs:
        if prefix + a in vocab and prefix + b in vocab:
            x = table[vocab[prefix + a]]
            y = table[vocab[prefix + b]]
            sims.append(float(x @ y / (numpy.linalg.norm(x) * numpy.linalg.norm(y))))
    return len(sims), sum(sims) / len(sims) if sims else float("nan")


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    for folder in sys.argv[1:]:
        table = embeddings(folder)
        with open(folder + "/tokenizer.json", encoding="utf-8") as f:
            vocab = json.load(f)["model"]["vocab"]
        parts = []
        for label, words, prefix in (
            ("names", NAMES, "\u0120"),
            ("objects", OBJECTS, "\u0120"),
            ("digits", DIGITS, ""),
        ):
            n, c = mean_cosine(table, vocab, words, prefix)
            parts.append("%s %.3f (%d tokens)" % (label, c, n))
        n, c = pair_cosine(table, vocab, OPPOSITES, "\u0120")
        parts.append("opposites %.3f (%d pairs)" % (c, n))
        print(folder + ": " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
