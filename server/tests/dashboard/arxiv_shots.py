"""Screenshots of every dashboard page with the arXiv set loaded (run by `run.sh --arxiv`).

Loads /work/shared/data/arxiv (or $GROVE_ARXIV_DIR: vectors.f16, papers.jsonl.gz, queries.f16)
into a collection `arxiv` through the REST API, waits for its graph, then drives each page in
headless Chromium and saves a PNG per page to $DASHBOARD_SCREENSHOTS. Not part of the default
run: the ingest and the graph build of 49,152 x 384 vectors take minutes in a dev build.
Every number on the pages comes from the server; this script checks a few of them against the
REST answers as it goes, so a page that renders wrongly fails the run rather than a picture.
"""

import gzip
import json
import os
import struct
import sys
import time
from collections import defaultdict

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, os.path.dirname(__file__))
import test_dashboard as t  # noqa: E402  (helpers: rest, make_driver, use_key, goto, shot)

DATA = os.environ.get("GROVE_ARXIV_DIR", "/work/shared/data/arxiv")
DIM = 384
C = "arxiv"


def f16_rows(path):
    raw = open(path, "rb").read()
    row = DIM * 2
    assert len(raw) % row == 0, f"{path}: {len(raw)} bytes is not a whole number of {DIM}-d f16 rows"
    fmt = f"<{DIM}e"
    return [list(struct.unpack_from(fmt, raw, i * row)) for i in range(len(raw) // row)]


def payload(p):
    return {
        "title": p["title"],
        "authors": p["authors"][:6],
        "primary_category": p["primary_category"],
        "sub_categories": p["sub_categories"],
        "main_categories": p["main_categories"],
        "number_of_sub_categories": p["number_of_sub_categories"],
        "listing_day": p["listing_day"],
        "has_comments": p["has_comments"],
    }


def load(midway):
    vectors = f16_rows(os.path.join(DATA, "vectors.f16"))
    with gzip.open(os.path.join(DATA, "papers.jsonl.gz"), "rt") as f:
        papers = [json.loads(line) for line in f]
    assert len(papers) == len(vectors), (len(papers), len(vectors))
    existing = [c["name"] for c in t.rest("GET", "/collections")["collections"]]
    if C in existing:
        t.rest("DELETE", f"/collections/{C}")
    t.rest("PUT", f"/collections/{C}", {
        "vectors": {"size": DIM, "distance": "Cosine"},
        "matryoshka": {"dims": [64, 128, 192], "dtype": "f32", "graph": False, "pca": True},
        "quantization_config": {"scalar": {"type": "int8", "quantile": 0.99, "always_ram": True}},
    })
    for field, schema in [("primary_category", "keyword"), ("sub_categories", "keyword"), ("main_categories", "keyword"),
                          ("authors", "keyword"), ("listing_day", "integer"), ("number_of_sub_categories", "integer"),
                          ("has_comments", "bool")]:
        t.rest("PUT", f"/collections/{C}/index?wait=true", {"field_name": field, "field_schema": schema})
    t0 = time.time()
    batch = 1024
    for i in range(0, len(papers), batch):
        pts = [{"id": j, "vector": vectors[j], "payload": payload(papers[j])} for j in range(i, min(i + batch, len(papers)))]
        t.rest("PUT", f"/collections/{C}/points?wait=true", {"points": pts})
        if i // batch == len(papers) // batch // 2:
            midway()
    print(f"arxiv_shots: {len(papers)} points upserted in {time.time() - t0:.0f} s", flush=True)
    return papers, vectors


def wait_indexed(timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        info = t.rest("GET", f"/collections/{C}")
        if info["status"] == "green" and (info.get("matryoshka") or {}).get("pca"):
            print(f"arxiv_shots: indexed after {time.time() - t0:.0f} s", flush=True)
            return info
        time.sleep(2)
    raise SystemExit(f"arxiv_shots: {C} not indexed after {timeout} s: {info['grove_vectors']}")


def author_queries(papers, count):
    """Authors with 3 to 6 papers: query = one of their papers' vectors, relevant = all of them."""
    by = defaultdict(list)
    for i, p in enumerate(papers):
        for a in p["authors"][:6]:
            by[a].append(i)
    out, seen = [], set()
    for a in sorted((a for a, ids in by.items() if 3 <= len(ids) <= 6), key=lambda a: (by[a][0], a)):
        if by[a][0] not in seen:  # one query per paper
            seen.add(by[a][0])
            out.append({"point": by[a][0], "relevant": by[a]})
    return out[:count]


def main():
    d = t.make_driver()
    try:
        def midway():
            # The collections page halfway through the ingest: index build progress.
            t.use_key(d, t.ADMIN)
            t.shot(d, "arxiv-collections-ingesting")

        papers, vectors = load(midway)
        info = wait_indexed(int(os.environ.get("GROVE_ARXIV_INDEX_TIMEOUT", "1800")))
        t.use_key(d, t.ADMIN)
        d.find_element(By.CSS_SELECTOR, f"#collections-table tr[data-collection='{C}'] button.details").click()
        WebDriverWait(d, 10).until(lambda d: d.find_element(By.ID, "collection-details").get_attribute("data-collection") == C)
        row = d.find_element(By.CSS_SELECTOR, f"#collections-table tr[data-collection='{C}']")
        assert row.find_elements(By.TAG_NAME, "td")[4].text == f"{info['points_count']:,}"
        t.shot(d, "arxiv-collections")

        t.goto(d, "points")
        Select(d.find_element(By.ID, "collection")).select_by_value(C)
        f = d.find_element(By.ID, "scroll-filter")
        f.clear()
        f.send_keys('{"must": [{"key": "main_categories", "match": {"value": "math"}}]}')
        d.find_element(By.CSS_SELECTOR, "#scroll-form button[type=submit]").click()
        WebDriverWait(d, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#points-table tr[data-id]"))
        d.find_element(By.ID, "get-id").send_keys("42")
        d.find_element(By.ID, "get-id").submit()
        WebDriverWait(d, 20).until(lambda d: d.find_elements(By.ID, "get-json"))
        t.shot(d, "arxiv-points")

        q = f16_rows(os.path.join(DATA, "queries.f16"))[0]

        def query(name, setup):
            t.goto(d, "query")
            Select(d.find_element(By.ID, "collection")).select_by_value(C)
            time.sleep(0.5)
            d.execute_script("arguments[0].value = arguments[1]", d.find_element(By.ID, "query-vector"), json.dumps(q))
            d.find_element(By.ID, "add-condition").click()
            r = d.find_element(By.CSS_SELECTOR, "#filter-rows .frow")
            Select(r.find_element(By.CSS_SELECTOR, ".f-field")).select_by_value("sub_categories")
            Select(r.find_element(By.CSS_SELECTOR, ".f-op")).select_by_value("any")
            r.find_element(By.CSS_SELECTOR, ".f-value").send_keys("cs.LG, cs.CL")
            setup()
            d.execute_script("window.groveLastQuery = null")
            d.find_element(By.ID, "run-query").click()
            WebDriverWait(d, 60).until(lambda d: d.execute_script("return window.groveLastQuery"))
            sent = d.execute_script("return window.groveLastQuery.request")
            want = t.rest("POST", f"/collections/{C}/points/query", sent)
            ui = [int(e.text) for e in d.find_elements(By.CSS_SELECTOR, "#results-table td.pid")]
            assert ui == [p["id"] for p in want["points"]], (name, ui, want["points"])
            d.execute_script("document.getElementById('explain').scrollIntoView()")
            t.shot(d, name)
            d.execute_script("window.scrollTo(0, 0)")

        query("arxiv-query", lambda: None)

        def mrl():
            Select(d.find_element(By.ID, "mrl-dim")).select_by_value("128")
            d.find_element(By.ID, "mrl-oversample").send_keys("8")
            d.find_element(By.ID, "mrl-funnel").send_keys("192:40")

        query("arxiv-query-matryoshka", mrl)

        def quant():
            Select(d.find_element(By.ID, "quant-rescore")).select_by_value("true")
            d.find_element(By.ID, "quant-oversampling").send_keys("2")
            Select(d.find_element(By.ID, "query-strategy")).select_by_value("hnsw")

        query("arxiv-query-quantization", quant)

        t.goto(d, "calibrate")
        Select(d.find_element(By.ID, "collection")).select_by_value(C)
        s = d.find_element(By.ID, "cal-sample")
        s.clear()
        s.send_keys("40")
        d.find_element(By.ID, "cal-oversamples").send_keys("1, 2, 4, 8, 16")
        d.find_element(By.ID, "run-calibration").click()
        WebDriverWait(d, 300).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=calibration-svg]"))
        rows = d.execute_script("return window.groveAnalysis.calibration.response.rows")
        assert len(d.find_elements(By.CSS_SELECTOR, "[data-testid=cal-point]")) == len(rows)
        t.shot(d, "arxiv-calibration")

        t.goto(d, "diagnostics")
        Select(d.find_element(By.ID, "collection")).select_by_value(C)
        d.execute_script("arguments[0].value = arguments[1]", d.find_element(By.ID, "diag-queries"),
                         json.dumps(author_queries(papers, 8)))
        k = d.find_element(By.ID, "diag-k")
        k.clear()
        k.send_keys("10, 100")
        d.find_element(By.ID, "run-diagnostic").click()
        WebDriverWait(d, 300).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#diag-table tr[data-query]"))
        got = d.execute_script("return window.groveAnalysis.diagnostic.response")
        labels = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#diag-table tr[data-query] td:nth-child(3)")]
        assert labels == [x["label"] for x in got["queries"]], labels
        print(f"arxiv_shots: diagnostic labels {got['labels']}", flush=True)
        t.shot(d, "arxiv-diagnostics")

        t.goto(d, "snapshots")
        Select(d.find_element(By.ID, "collection")).select_by_value(C)
        time.sleep(0.5)
        d.find_element(By.ID, "create-snapshot").click()
        WebDriverWait(d, 300).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#snapshots-table a.download"))
        t.shot(d, "arxiv-snapshots")

        t.goto(d, "metrics")
        t.shot(d, "arxiv-metrics")
    finally:
        d.quit()
    print(f"arxiv_shots: screenshots in {t.SHOTS}", flush=True)


if __name__ == "__main__":
    main()
