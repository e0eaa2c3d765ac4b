#!/usr/bin/env python3
"""Runs one peer engine family on a grove-bench workdir and writes what it measured as JSON.

grove-bench (bench/src/pyrun.rs) writes the workdir and reads the JSON back; it scores every
answer against its own ground truth, so recall is computed by the same code for Grove and for
every peer. This script only builds, searches and times.

Workdir (written by grove-bench):
  X.npy            base vectors, float32 (n, d), already in the metric's stored form
  Q.npy            query vectors, float32 (nq, d)
  payload.jsonl    one record per base row (qdrant-edge only: it filters on payload itself)
  job.json         metric, HNSW parameters, efs, k, budget, workloads
  wl-<i>.allowed   per query ceil(n/8) bytes, bit j of byte j>>3 (little order) = point j allowed
  wl-<i>.filters.json   the workload's filters as grove-bench serialises them

Usage: run_peer.py --workdir W --engine faiss|hnswlib|usearch|qdrant|scann --out FILE

Everything measured runs on one thread (faiss omp 1, hnswlib num_threads=1, usearch threads=1,
qdrant max_search_threads=1, scann's single-query search); builds use job["build_threads"].
A system that cannot filter (ScaNN: its Python binding takes no allowed set) runs only the
unfiltered workloads and says so in its description.
"""

import argparse
import json
import math
import os
import shutil
import sys
import time


def log(msg):
    print(f"[peer] {msg}", file=sys.stderr, flush=True)


def rss_mb():
    """(VmRSS, VmHWM) of this process in MiB."""
    vals = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                vals[k] = int(v.split()[0]) / 1024.0
    return vals.get("VmRSS", 0.0), vals.get("VmHWM", 0.0)


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Build:
    """Times a build (wall and process CPU) and records memory around it."""

    def __init__(self, label):
        self.label = label

    def __enter__(self):
        self.reset = reset_peak()
        self.rss0, _ = rss_mb()
        self.t = time.perf_counter()
        self.c = time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t
        self.cpu = time.process_time() - self.c
        self.rss1, self.peak = rss_mb()
        return False

    def record(self, n):
        return {"label": self.label, "points": n, "build_s": self.wall, "build_cpu_s": self.cpu,
                "rss_before_mb": self.rss0, "rss_after_mb": self.rss1, "peak_rss_mb": self.peak,
                "peak_is_build_only": self.reset}


# ---------------------------------------------------------------- engines
#
# Each engine: build(X), then for each workload prepare(mask_bytes, filter_json, n) -> an opaque
# per-query filter object (untimed: Grove also gets its bitmaps ready-made), and
# search(q, k, ef, filt) -> list of ids (timed).


class Faiss:
    family = "faiss"

    def __init__(self, job, X):
        import faiss
        import numpy as np
        self.faiss, self.np = faiss, np
        self.n, self.d = X.shape
        ip = job["metric"] == "ip"
        metric = faiss.METRIC_INNER_PRODUCT if ip else faiss.METRIC_L2
        faiss.omp_set_num_threads(job["build_threads"])
        with Build("faiss-hnsw") as b:
            self.hnsw = faiss.IndexHNSWFlat(self.d, job["m"], metric)
            self.hnsw.hnsw.efConstruction = job["efc"]
            self.hnsw.add(X)
        self.builds = [b.record(self.n)]
        with Build("faiss-flat") as b:
            self.flat = faiss.IndexFlatIP(self.d) if ip else faiss.IndexFlatL2(self.d)
            self.flat.add(X)
        self.builds.append(b.record(self.n))
        self.sq8 = None
        if not job["wanted"] or "faiss-hnsw-sq8" in job["wanted"]:
            with Build("faiss-hnsw-sq8") as b:
                # HNSW over 8-bit scalar codes (per-dimension min/max trained on the base), the
                # graph traversed and the results ranked on the codes: faiss's SQ8 HNSW.
                self.sq8 = faiss.IndexHNSWSQ(self.d, faiss.ScalarQuantizer.QT_8bit, job["m"], metric)
                self.sq8.hnsw.efConstruction = job["efc"]
                self.sq8.train(X)
                self.sq8.add(X)
            self.builds.append(b.record(self.n))
        faiss.omp_set_num_threads(1)
        self.systems = {
            "faiss-hnsw": ("IndexHNSWFlat, SearchParametersHNSW(sel=IDSelectorBitmap, efSearch=ef)", True),
            "faiss-flat": ("IndexFlat exact scan, SearchParameters(sel=IDSelectorBitmap)", False),
        }
        if self.sq8 is not None:
            self.systems["faiss-hnsw-sq8"] = (
                "IndexHNSWSQ(QT_8bit): graph and ranking on 8-bit codes, no rescoring; "
                "SearchParametersHNSW(sel=IDSelectorBitmap, efSearch=ef)", True)

    def prepare(self, system, bits, flt):
        if bits is None:
            return None
        sel = self.faiss.IDSelectorBitmap(self.n, self.faiss.swig_ptr(bits))
        return (sel, bits)  # the selector points into `bits`: keep it alive

    def search(self, system, q, k, ef, filt):
        if system in ("faiss-hnsw", "faiss-hnsw-sq8"):
            p = (self.faiss.SearchParametersHNSW(efSearch=ef) if filt is None
                 else self.faiss.SearchParametersHNSW(sel=filt[0], efSearch=ef))
            idx = self.hnsw if system == "faiss-hnsw" else self.sq8
            _, ids = idx.search(q, k, params=p)
        else:
            if filt is None:
                _, ids = self.flat.search(q, k)
            else:
                _, ids = self.flat.search(q, k, params=self.faiss.SearchParameters(sel=filt[0]))
        return ids[0]


class Hnswlib:
    family = "hnswlib"

    def __init__(self, job, X):
        import hnswlib
        import numpy as np
        self.np = np
        self.n, self.d = X.shape
        with Build("hnswlib") as b:
            self.idx = hnswlib.Index(space="ip" if job["metric"] == "ip" else "l2", dim=self.d)
            self.idx.init_index(max_elements=self.n, ef_construction=job["efc"], M=job["m"])
            self.idx.add_items(X, np.arange(self.n), num_threads=job["build_threads"])
        self.builds = [b.record(self.n)]
        self.idx.set_num_threads(1)
        self.systems = {"hnswlib": ("knn_query(filter=callable): a Python callback per visited node", True)}

    def prepare(self, system, bits, flt):
        if bits is None:
            return None
        mask = self.np.unpackbits(bits, count=self.n, bitorder="little").astype(bool)
        # The cheapest Python callable over an id, and how many points are allowed: hnswlib
        # raises when it finds fewer than k, so k is capped at that (known before searching).
        return mask.tolist().__getitem__, int(mask.sum())

    def search(self, system, q, k, ef, filt):
        self.idx.set_ef(max(ef, k))
        if filt is not None:
            filt, allowed = filt
            k = max(1, min(k, allowed))
        try:
            ids, _ = self.idx.knn_query(q, k=k, num_threads=1, filter=filt)
            return ids[0]
        except RuntimeError:
            # hnswlib raises when it finds fewer than k allowed points: ask for fewer.
            for kk in range(k - 1, 0, -1):
                try:
                    ids, _ = self.idx.knn_query(q, k=kk, num_threads=1, filter=filt)
                    return ids[0]
                except RuntimeError:
                    continue
            return []


class USearch:
    family = "usearch"

    def __init__(self, job, X):
        from usearch.index import Index
        import numpy as np
        self.np = np
        self.n, self.d = X.shape
        self.factor = job.get("postfilter_factor", 2.0)
        with Build("usearch") as b:
            self.idx = Index(ndim=self.d, metric="ip" if job["metric"] == "ip" else "l2sq", dtype="f32",
                             connectivity=job["m"], expansion_add=job["efc"], expansion_search=64)
            self.idx.add(np.arange(self.n, dtype=np.uint64), X, threads=job["build_threads"])
        self.builds = [b.record(self.n)]
        self.systems = {
            "usearch": (f"post-filter (the Python binding takes no predicate): top ceil(k/sel*{self.factor}) "
                        "candidates, then the allowed ones", True)
        }

    def prepare(self, system, bits, flt):
        if bits is None:
            return None
        mask = self.np.unpackbits(bits, count=self.n, bitorder="little").astype(bool)
        return (mask, max(float(mask.mean()), 1.0 / self.n))

    def search(self, system, q, k, ef, filt):
        self.idx.expansion_search = ef
        if filt is None:
            m = self.idx.search(q[0], k, threads=1)
            return m.keys
        mask, frac = filt
        cnt = int(min(self.n, math.ceil(k / frac * self.factor)))
        keys = self.idx.search(q[0], cnt, threads=1).keys.astype(self.np.int64)
        return keys[mask[keys]][:k]


class Scann:
    family = "scann"
    unfiltered_only = True

    def __init__(self, job, X):
        import numpy as np
        import scann
        self.np = np
        self.n, self.d = X.shape
        ip = job["metric"] == "ip"
        # ScaNN's documented recipe for ~1e5-1e6 points: a k-means tree of about sqrt(n) leaves,
        # anisotropic 4-bit product quantization (2 dims per block), exact reordering.
        self.leaves = max(16, int(round(math.sqrt(self.n))))
        with Build("scann") as b:
            builder = scann.scann_ops_pybind.builder(X, 10, "dot_product" if ip else "squared_l2")
            builder = builder.tree(num_leaves=self.leaves, num_leaves_to_search=min(self.leaves, 32),
                                   training_sample_size=min(self.n, 250_000))
            builder = builder.score_ah(2, anisotropic_quantization_threshold=0.2 if ip else float("nan"))
            self.idx = builder.reorder(100).build()
        self.builds = [b.record(self.n)]
        self.systems = {
            "scann": (f"tree ({self.leaves} leaves) + AH (2 dims/block) + exact reorder; ef -> "
                      "leaves_to_search = ceil(ef/4), pre_reorder = max(4k, 2ef); unfiltered only", True),
        }

    def prepare(self, system, bits, flt):
        return None

    def search(self, system, q, k, ef, filt):
        leaves = max(1, min(self.leaves, math.ceil(ef / 4)))
        ids, _ = self.idx.search(q[0], final_num_neighbors=k, pre_reorder_num_neighbors=max(4 * k, 2 * ef),
                                 leaves_to_search=leaves)
        return ids


class Qdrant:
    family = "qdrant"

    # grove-bench's fields and the Qdrant payload index each gets.
    KEYWORDS = ("main_categories", "sub_categories", "authors")
    INTEGERS = ("number_of_sub_categories", "date")

    def __init__(self, job, X, workdir):
        import qdrant_edge as qe
        self.qe = qe
        self.n, self.d = X.shape
        path = os.path.join(workdir, "qdrant-shard")
        shutil.rmtree(path, ignore_errors=True)
        dist = qe.Distance.Dot if job["metric"] == "ip" else qe.Distance.Euclid
        cfg = qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=self.d, distance=dist),
            # full_scan_threshold 10000 KB is Qdrant's default: below it (by the payload index's
            # cardinality estimate) Qdrant scans the allowed points exactly instead of the graph.
            hnsw_config=qe.HnswIndexConfig(m=job["m"], ef_construct=job["efc"], full_scan_threshold=10000,
                                           max_indexing_threads=job["build_threads"]),
            max_search_threads=1, wal_enabled=False)
        payload = []
        with open(os.path.join(workdir, "payload.jsonl")) as f:
            for line in f:
                r = json.loads(line)
                payload.append({k: r.get(k) for k in self.KEYWORDS + self.INTEGERS})
        with Build("qdrant-edge") as b:
            sh = qe.EdgeShard.create(path, cfg)
            # Payload indexes before the points: the HNSW build then adds per-value links
            # (Qdrant's filterable HNSW), and the query planner has cardinality estimates.
            for k in self.KEYWORDS:
                sh.update(qe.UpdateOperation.create_field_index(k, qe.PayloadSchemaType.Keyword))
            for k in self.INTEGERS:
                sh.update(qe.UpdateOperation.create_field_index(k, qe.PayloadSchemaType.Integer))
            for s in range(0, self.n, 2000):
                pts = [qe.Point(i, X[i].tolist(), payload[i]) for i in range(s, min(self.n, s + 2000))]
                sh.update(qe.UpdateOperation.upsert_points(pts))
            sh.optimize()
            sh.flush()
        self.sh = sh
        self.builds = [b.record(self.n)]
        self.info = str(sh.info())
        how = "Filter(must=[FieldCondition]) on keyword/integer payload indexes (Qdrant plans: HNSW or exact scan)"
        self.systems = {
            "qdrant-edge": (how, True),
            "qdrant-edge+acorn": (how + ", SearchParams(acorn=AcornSearchParams(enable=True))", True),
        }

    def condition(self, flt):
        """grove-bench's Filter JSON -> a list of Qdrant conditions (AND)."""
        qe = self.qe
        if flt == "all":
            return []
        (kind, body), = flt.items()
        if kind == "and":
            return [c for part in body for c in self.condition(part)]
        if kind == "eq":
            return [qe.FieldCondition(key=body["field"], match=qe.MatchValue(body["value"]))]
        if kind == "contains":
            # A keyword list matches when any element equals the value.
            return [qe.FieldCondition(key=body["field"], match=qe.MatchValue(body["value"]))]
        if kind == "range":
            return [qe.FieldCondition(key=body["field"], range=qe.RangeFloat(gte=body["lo"], lte=body["hi"]))]
        raise ValueError(f"filter kind {kind!r} has no Qdrant translation")

    def prepare(self, system, bits, flt):
        conds = self.condition(flt)
        return self.qe.Filter(must=conds) if conds else None

    def check(self, filt, bits):
        """Qdrant's count of a translated filter equals the allowed set's size."""
        import numpy as np
        want = self.n if bits is None else int(np.unpackbits(bits, count=self.n).sum())
        got = self.sh.count(self.qe.CountRequest(exact=True, filter=filt))
        return got, want

    def search(self, system, q, k, ef, filt):
        qe = self.qe
        if system == "qdrant-edge+acorn":
            p = qe.SearchParams(hnsw_ef=ef, acorn=qe.AcornSearchParams(enable=True))
        else:
            p = qe.SearchParams(hnsw_ef=ef)
        r = self.sh.query(qe.QueryRequest(query=qe.Query.Nearest(q[0].tolist()), limit=k, filter=filt, params=p))
        return [pt.id for pt in r]


# ---------------------------------------------------------------- measuring


def measure(engine, system, Q, k, ef, nq, prep, budget):
    """grove-bench's rule (measure.rs): 5 untimed warm-up queries, then queries in order until
    the time budget is spent and min_queries are done, or max_time is spent. `prep(i)` makes
    query i's filter object outside the timed call (built per query, not kept: a Python mask per
    query would take gigabytes)."""
    for i in range(min(5, nq)):
        engine.search(system, Q[i:i + 1], k, ef, prep(i))
    lat, cpu, ids = [], [], []
    spent = 0.0
    for i in range(nq):
        if (spent >= budget["time"] and len(lat) >= budget["min_queries"]) or spent >= budget["max_time"]:
            break
        q = Q[i:i + 1]
        f = prep(i)
        # Process CPU time, not this thread's: Qdrant answers on its own search thread.
        c0 = time.process_time()
        t0 = time.perf_counter()
        got = engine.search(system, q, k, ef, f)
        dt = time.perf_counter() - t0
        dc = time.process_time() - c0
        spent += dt
        lat.append(dt * 1e6)
        cpu.append(dc * 1e6)
        ids.append([int(x) for x in got if int(x) >= 0])
    return lat, cpu, ids


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--engine", required=True, choices=["faiss", "hnswlib", "usearch", "qdrant", "scann"])
    ap.add_argument("--systems", default="", help="comma-separated subset of the family's systems")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(v, "1")
    import numpy as np

    wd = a.workdir
    with open(os.path.join(wd, "job.json")) as f:
        job = json.load(f)
    X = np.ascontiguousarray(np.load(os.path.join(wd, "X.npy")), dtype=np.float32)
    Q = np.ascontiguousarray(np.load(os.path.join(wd, "Q.npy")), dtype=np.float32)
    n = X.shape[0]
    row_bytes = (n + 7) // 8
    log(f"{a.engine}: {n} x {X.shape[1]} base, {Q.shape[0]} queries; building")

    job["wanted"] = [s for s in a.systems.split(",") if s]
    if a.engine == "faiss":
        eng = Faiss(job, X)
    elif a.engine == "hnswlib":
        eng = Hnswlib(job, X)
    elif a.engine == "usearch":
        eng = USearch(job, X)
    elif a.engine == "scann":
        eng = Scann(job, X)
    else:
        eng = Qdrant(job, X, wd)
    for b in eng.builds:
        log(f"built {b['label']}: {b['build_s']:.1f}s wall, {b['build_cpu_s']:.1f}s CPU, "
            f"RSS {b['rss_before_mb']:.0f} -> {b['rss_after_mb']:.0f} MiB, peak {b['peak_rss_mb']:.0f} MiB")
    wanted = [s for s in a.systems.split(",") if s] or list(eng.systems)
    systems = [s for s in eng.systems if s in wanted]

    import importlib.metadata as md
    pkg = {"faiss": "faiss-cpu", "hnswlib": "hnswlib", "usearch": "usearch", "qdrant": "qdrant-edge-py",
           "scann": "scann"}[a.engine]
    out = {"engine": a.engine, "version": md.version(pkg), "builds": eng.builds,
           "systems": {s: eng.systems[s][0] for s in systems}, "runs": []}

    for wl in job["workloads"]:
        raw = np.fromfile(os.path.join(wd, wl["allowed"]), dtype=np.uint8)
        nq = wl["nq"]
        if raw.size != nq * row_bytes:
            raise SystemExit(f"{wl['allowed']}: {raw.size} bytes, expected {nq} x {row_bytes}")
        raw = raw.reshape(nq, row_bytes)
        with open(os.path.join(wd, wl["filters"])) as f:
            flts = json.load(f)
        unf = wl["unfiltered"]
        if getattr(eng, "unfiltered_only", False) and not all(unf):
            log(f"{a.engine}: skips {wl['name']} (filtered queries; it takes no allowed set)")
            continue
        for system in systems:
            def prep(i, system=system):
                return eng.prepare(system, None if unf[i] else np.ascontiguousarray(raw[i]), flts[i])

            if a.engine == "qdrant" and system == systems[0]:
                for i in range(min(nq, job.get("check_queries", 20))):
                    got, want = eng.check(prep(i), None if unf[i] else raw[i])
                    if got != want:
                        raise SystemExit(f"qdrant filter of {wl['name']} query {i} ({flts[i]}) matches "
                                         f"{got} points, grove-bench's allowed set has {want}")
            has_ef = eng.systems[system][1]
            for k in job["ks"]:
                for ef in (job["efs"] if has_ef else [0]):
                    lat, cpu, ids = measure(eng, system, Q, k, max(ef, 1), nq, prep, job["budget"])
                    qps = len(lat) / max(sum(lat) / 1e6, 1e-12)
                    log(f"{system:<18} {wl['name']:<12} k={k:<3} ef={ef:<4} nq={len(lat):<5} qps={qps:.0f}")
                    out["runs"].append({"system": system, "workload": wl["name"], "k": k, "ef": ef,
                                        "lat_us": lat, "cpu_us": cpu, "ids": ids})
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.replace(tmp, a.out)
    log(f"{a.engine}: wrote {a.out}")


if __name__ == "__main__":
    main()
