"""The web dashboard in a real headless Chromium against a real `grove serve` (see run.sh)."""

import json
import os
import random
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

URL = os.environ["GROVE_URL"]
ADMIN = os.environ["GROVE_ADMIN_KEY"]
READER = os.environ["GROVE_READ_KEY"]
SHOTS = os.environ.get("DASHBOARD_SCREENSHOTS", "/tmp/grove-dashboard-shots")
DIM = 8
N = 300
CATEGORIES = ["astro", "bio", "cs", "math"]


def rest(method, path, body=None, key=ADMIN):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(URL + path, data=data, method=method)
    if key:
        req.add_header("api-key", key)
    if data is not None:
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())["result"]


def status_of(method, path, body=None, key=ADMIN):
    try:
        rest(method, path, body, key)
        return 200
    except urllib.error.HTTPError as e:
        return e.code


@pytest.fixture(scope="session")
def papers():
    rng = random.Random(16)
    rest("PUT", "/collections/papers", {"vectors": {"size": DIM, "distance": "Cosine"}})
    points = [
        {
            "id": i,
            "vector": [rng.uniform(-1, 1) for _ in range(DIM)],
            "payload": {"category": CATEGORIES[i % 4], "year": 2000 + i % 25, "title": f"paper {i}"},
        }
        for i in range(N)
    ]
    rest("PUT", "/collections/papers/points?wait=true", {"points": points})
    rest("PUT", "/collections/papers/index?wait=true", {"field_name": "category", "field_schema": "keyword"})
    rest("PUT", "/collections/papers/index?wait=true", {"field_name": "year", "field_schema": "integer"})
    rest("POST", "/collections/papers/snapshots?wait=true")
    return points


MRL_DIM = 32
MRL_N = 600
QUANT_DIM = 16
QUANT_N = 400


def wait_green(name, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if rest("GET", f"/collections/{name}")["status"] == "green":
            return
        time.sleep(0.2)
    raise AssertionError(f"{name} never turned green")


@pytest.fixture(scope="session")
def mrl():
    """A collection with Matryoshka prefixes 8 and 16 of 32-d vectors whose leading components
    carry most of the signal (as a Matryoshka-trained model's do)."""
    rng = random.Random(1616)
    rest("PUT", "/collections/mrl", {
        "vectors": {"size": MRL_DIM, "distance": "Cosine"},
        "matryoshka": {"dims": [8, 16], "dtype": "f32", "graph": False, "pca": False},
    })
    points = [
        {
            "id": i,
            "vector": [rng.gauss(0, 1.0 / (1 + j // 4)) for j in range(MRL_DIM)],
            "payload": {"category": CATEGORIES[i % 4]},
        }
        for i in range(MRL_N)
    ]
    rest("PUT", "/collections/mrl/points?wait=true", {"points": points})
    rest("PUT", "/collections/mrl/index?wait=true", {"field_name": "category", "field_schema": "keyword"})
    wait_green("mrl")
    return points


@pytest.fixture(scope="session")
def quant():
    """A collection with int8 scalar quantization, past the 256 points codes are trained on."""
    rng = random.Random(1617)
    rest("PUT", "/collections/quant", {
        "vectors": {"size": QUANT_DIM, "distance": "Cosine"},
        "quantization_config": {"scalar": {"type": "int8", "quantile": 0.99, "always_ram": True}},
    })
    points = [{"id": i, "vector": [rng.uniform(-1, 1) for _ in range(QUANT_DIM)], "payload": {"n": i}} for i in range(QUANT_N)]
    rest("PUT", "/collections/quant/points?wait=true", {"points": points})
    wait_green("quant")
    return points


def js_bytes(n):
    """The dashboard's `bytes` format (dom.js): B, then KiB/MiB/... with three significant digits."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    v, i = float(n), 0
    while v >= 1024 and i < len(units) - 1:
        v /= 1024
        i += 1
    if i == 0:
        return f"{int(n)} B"
    digits = f"{v:.3g}"
    if "." not in digits and len(digits.lstrip("-")) < 3:
        digits = f"{v:.{3 - len(digits.lstrip('-'))}f}"
    return f"{digits} {units[i]}"


def make_driver():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1300,1300"]:
        opts.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


@pytest.fixture(scope="module")
def browser():
    d = make_driver()
    yield d
    d.quit()


def use_key(d, key):
    d.get(URL + "/dashboard#/collections")
    box = d.find_element(By.ID, "apikey")
    box.clear()
    box.send_keys(key)
    d.execute_script("document.body.dataset.access = 'pending'")
    d.find_element(By.CSS_SELECTOR, "#keyform button").click()
    WebDriverWait(d, 20).until(lambda d: d.execute_script("return document.body.dataset.access") != "pending")
    wait_ready(d, "collections")


def wait_ready(d, page):
    WebDriverWait(d, 20).until(
        lambda d: d.execute_script(
            "const m = document.getElementById('main'); return m.dataset.ready === 'true' && m.dataset.page === arguments[0]",
            page,
        )
    )


def goto(d, page):
    d.execute_script(
        """document.getElementById('main').dataset.ready = 'false';
        const h = '#/' + arguments[0];
        if (location.hash === h) window.dispatchEvent(new HashChangeEvent('hashchange')); else location.hash = h;""",
        page,
    )
    wait_ready(d, page)


def shot(d, name):
    """Saves the whole page (the window is stretched to the content's height for the shot)."""
    os.makedirs(SHOTS, exist_ok=True)
    height = d.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    d.set_window_size(1300, max(1300, min(int(height) + 140, 6000)))
    d.save_screenshot(os.path.join(SHOTS, name + ".png"))
    d.set_window_size(1300, 1300)


def test_the_page_is_public_and_data_is_not(papers):
    with urllib.request.urlopen(URL + "/dashboard", timeout=10) as r:
        assert r.status == 200
        assert "text/html" in r.headers["content-type"]
    assert status_of("GET", "/collections", key=None) == 401
    assert status_of("GET", "/dashboard/api/whoami", key=None) == 401
    with urllib.request.urlopen(urllib.request.Request(URL + "/dashboard/api/whoami", headers={"api-key": READER})) as r:
        assert r.read().decode().strip() == "read"


def test_every_page_renders(browser, papers):
    use_key(browser, ADMIN)
    assert browser.execute_script("return document.body.dataset.access") == "write"
    rows = browser.find_elements(By.CSS_SELECTOR, "#collections-table tr[data-collection='papers'] td")
    assert rows[4].text == f"{N:,}"
    assert "category: keyword" in rows[6].text and "year: integer" in rows[6].text
    shot(browser, "collections")
    goto(browser, "points")
    Select(browser.find_element(By.ID, "collection")).select_by_value("papers")
    f = browser.find_element(By.ID, "scroll-filter")
    f.clear()
    f.send_keys('{"must": [{"key": "category", "match": {"value": "bio"}}]}')
    browser.find_element(By.ID, "scroll-vectors").click()
    browser.find_element(By.CSS_SELECTOR, "#scroll-form button[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#points-table tr[data-id]"))
    ids = [int(e.text) for e in browser.find_elements(By.CSS_SELECTOR, "#points-table td.pid")]
    assert ids and all(i % 4 == 1 for i in ids), ids
    browser.find_element(By.ID, "get-id").send_keys("42")
    browser.find_element(By.CSS_SELECTOR, "#get-id").submit()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "get-json"))
    got = json.loads(browser.find_element(By.ID, "get-json").text)
    assert got["id"] == 42 and got["payload"]["title"] == "paper 42" and len(got["vector"]) == DIM
    shot(browser, "points")
    goto(browser, "snapshots")
    Select(browser.find_element(By.ID, "collection")).select_by_value("papers")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#snapshots-table a.download"))
    assert browser.find_elements(By.ID, "create-snapshot")
    shot(browser, "snapshots")


def test_create_collection_and_index_through_the_ui(browser, papers):
    use_key(browser, ADMIN)
    browser.find_element(By.ID, "new-name").send_keys("made_in_ui")
    size = browser.find_element(By.ID, "new-size")
    size.clear()
    size.send_keys("4")
    Select(browser.find_element(By.ID, "new-distance")).select_by_value("Dot")
    browser.execute_script("document.getElementById('main').dataset.ready = 'false'")
    browser.find_element(By.CSS_SELECTOR, "#create-collection button").click()
    wait_ready(browser, "collections")
    info = rest("GET", "/collections/made_in_ui")
    assert info["config"]["params"]["vectors"] == {"size": 4, "distance": "Dot"} or (
        info["config"]["params"]["vectors"]["size"] == 4 and info["config"]["params"]["vectors"]["distance"] == "Dot"
    )
    Select(browser.find_element(By.ID, "index-collection")).select_by_value("made_in_ui")
    browser.find_element(By.ID, "index-field").send_keys("lang")
    Select(browser.find_element(By.ID, "index-type")).select_by_value("keyword")
    browser.execute_script("document.getElementById('main').dataset.ready = 'false'")
    browser.find_element(By.CSS_SELECTOR, "#create-index button").click()
    wait_ready(browser, "collections")
    assert rest("GET", "/collections/made_in_ui")["payload_schema"]["lang"]["data_type"] == "keyword"
    assert browser.find_elements(By.CSS_SELECTOR, "#collections-table tr[data-collection='made_in_ui']")


def test_query_console_matches_rest(browser, papers):
    use_key(browser, ADMIN)
    goto(browser, "query")
    Select(browser.find_element(By.ID, "collection")).select_by_value("papers")
    time.sleep(0.5)  # the schema of the newly selected collection loads
    browser.find_element(By.ID, "query-from-id").send_keys("7")
    lim = browser.find_element(By.ID, "query-limit")
    lim.clear()
    lim.send_keys("15")
    browser.find_element(By.ID, "add-condition").click()
    row = browser.find_element(By.CSS_SELECTOR, "#filter-rows .frow")
    Select(row.find_element(By.CSS_SELECTOR, ".f-field")).select_by_value("category")
    Select(row.find_element(By.CSS_SELECTOR, ".f-op")).select_by_value("any")
    row.find_element(By.CSS_SELECTOR, ".f-value").send_keys("bio, cs")
    browser.find_element(By.ID, "query-filter").send_keys('{"key": "year", "range": {"gte": 2005}}')
    Select(browser.find_element(By.ID, "query-strategy")).select_by_value("hnsw")
    browser.find_element(By.ID, "run-query").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=explain-svg]"))
    ui_ids = [int(e.text) for e in browser.find_elements(By.CSS_SELECTOR, "#results-table td.pid")]
    ui_scores = [float(e.text) for e in browser.find_elements(By.CSS_SELECTOR, "#results-table td.score")]
    body = {
        "query": papers[7]["vector"],
        "limit": 15,
        "with_payload": True,
        "strategy": "hnsw",
        "explain": True,
        "filter": {
            "must": [{"key": "category", "match": {"any": ["bio", "cs"]}}, {"key": "year", "range": {"gte": 2005}}]
        },
    }
    want = rest("POST", "/collections/papers/points/query", body)
    assert ui_ids == [p["id"] for p in want["points"]]
    assert len(ui_ids) == 15
    assert all(papers[i]["payload"]["category"] in ("bio", "cs") and papers[i]["payload"]["year"] >= 2005 for i in ui_ids)
    for got, exp in zip(ui_scores, want["points"]):
        assert abs(got - exp["score"]) < 1e-6
    path = browser.find_element(By.CSS_SELECTOR, "[data-testid=explain-path]").text
    assert path == want["explain"]["path"]
    svg_text = browser.find_element(By.CSS_SELECTOR, "[data-testid=explain-svg]").text
    assert f"{want['explain']['allowed_points']:,} allowed of {want['explain']['live_points']:,} live points" in svg_text
    shot(browser, "query")


def test_snapshot_create_download_and_restore_through_the_ui(browser, papers):
    use_key(browser, ADMIN)
    goto(browser, "snapshots")
    Select(browser.find_element(By.ID, "collection")).select_by_value("papers")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#snapshots-table a.download"))
    before = len(rest("GET", "/collections/papers/snapshots"))
    browser.find_element(By.ID, "create-snapshot").click()
    WebDriverWait(browser, 20).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#snapshots-table a.download")) == before + 1
    )
    assert len(rest("GET", "/collections/papers/snapshots")) == before + 1
    # The download link fetches with the key (a plain link could not send it) and hands a blob over.
    browser.execute_script(
        """window.__dl = null; const orig = URL.createObjectURL;
        URL.createObjectURL = (b) => { window.__dl = b.size; return orig(b); };"""
    )
    browser.find_element(By.CSS_SELECTOR, "#snapshots-table a.download").click()
    WebDriverWait(browser, 20).until(lambda d: d.execute_script("return window.__dl"))
    sizes = [s["size"] for s in rest("GET", "/collections/papers/snapshots")]
    assert browser.execute_script("return window.__dl") in sizes
    browser.find_element(By.CSS_SELECTOR, "#snapshots-table button.restore").click()
    WebDriverWait(browser, 10).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(browser, 30).until(lambda d: "restored papers" in d.find_element(By.ID, "toast").text)
    assert rest("GET", "/collections/papers")["points_count"] == N


def test_metrics_count_the_console_query(browser, papers):
    use_key(browser, ADMIN)
    goto(browser, "metrics")
    searches = browser.find_element(By.ID, "metrics-searches").text
    assert "hnsw" in searches, searches
    assert "POST /collections/{name}/points/query" in browser.find_element(By.ID, "metrics-requests").text
    assert "papers grove_points" in browser.find_element(By.ID, "metrics-points").text
    shot(browser, "metrics")


def test_read_only_key_hides_writes_and_the_server_refuses_them(papers):
    d = make_driver()
    try:
        use_key(d, READER)
        assert d.execute_script("return document.body.dataset.access") == "read"
        assert d.find_elements(By.CSS_SELECTOR, "#collections-table tr[data-collection='papers']")
        assert not d.find_elements(By.ID, "create-collection")
        assert not d.find_elements(By.ID, "create-index")
        shot(d, "collections-read-only")
        goto(d, "snapshots")
        Select(d.find_element(By.ID, "collection")).select_by_value("papers")
        WebDriverWait(d, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#snapshots-table a.download"))
        assert not d.find_elements(By.ID, "create-snapshot")
        assert not d.find_elements(By.CSS_SELECTOR, "button.restore")
        # A write sent from the page with the read-only key anyway.
        code = d.execute_async_script(
            """const done = arguments[arguments.length - 1];
            fetch('/collections/sneaky', {method: 'PUT', headers: {'api-key': sessionStorage.getItem('grove-api-key'),
              'content-type': 'application/json'}, body: JSON.stringify({vectors: {size: 2, distance: 'Dot'}})})
              .then(r => done(r.status));"""
        )
        assert code == 403
    finally:
        d.quit()
    assert status_of("PUT", "/collections/papers/index", {"field_name": "title", "field_schema": "keyword"}, key=READER) == 403
    assert status_of("GET", "/collections/sneaky") == 404


def test_dashboard_disabled_is_404():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    http = s.getsockname()[1]
    s.close()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    grpc = s.getsockname()[1]
    s.close()
    with tempfile.TemporaryDirectory() as data:
        p = subprocess.Popen(
            [os.environ["GROVE_BIN"], "serve", "--service-http-port", str(http), "--service-grpc-port", str(grpc),
             "--storage-data-dir", data + "/db", "--dashboard-enabled", "false"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{http}"
            for _ in range(200):
                try:
                    urllib.request.urlopen(base + "/readyz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            for path in ["/dashboard", "/dashboard/assets/app.js"]:
                with pytest.raises(urllib.error.HTTPError) as e:
                    urllib.request.urlopen(base + path, timeout=5)
                assert e.value.code == 404
            with urllib.request.urlopen(base + "/collections", timeout=5) as r:
                assert r.status == 200
        finally:
            p.terminate()
            p.wait(timeout=30)


def test_collections_show_build_state_and_memory(browser, papers, mrl):
    use_key(browser, ADMIN)
    info = rest("GET", "/collections/mrl")
    row = browser.find_element(By.CSS_SELECTOR, "#collections-table tr[data-collection='mrl']")
    mem = row.find_element(By.CSS_SELECTOR, "td.memory")
    assert int(mem.get_attribute("data-prefix-bytes")) == info["matryoshka"]["memory_bytes"]
    vectors = info["grove_vectors"]
    for k in ("vectors", "graphs", "codes"):
        assert int(mem.get_attribute(f"data-{k}")) == sum(v["memory"][k] for v in vectors.values()), k
    # The full vectors are f32 rows: at least points x dim x 4 bytes once the points are in.
    assert int(mem.get_attribute("data-vectors")) >= info["points_count"] * MRL_DIM * 4
    assert row.find_element(By.CSS_SELECTOR, ".prefix-memory").text == f"{js_bytes(info['matryoshka']['memory_bytes'])} prefixes"
    progress = row.find_element(By.CSS_SELECTOR, "td.progress")
    assert int(progress.get_attribute("data-indexed")) == sum(v["indexed_points"] for v in vectors.values())
    assert int(progress.get_attribute("data-pending")) == sum(v["pending_points"] for v in vectors.values())
    assert row.find_element(By.CSS_SELECTOR, "td.status").text == info["status"]
    row.find_element(By.CSS_SELECTOR, "button.details").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.ID, "collection-details").get_attribute("data-collection") == "mrl"
    )
    details = browser.find_element(By.ID, "collection-details")
    prefixes = details.find_element(By.ID, "details-prefixes")
    assert int(prefixes.get_attribute("data-memory-bytes")) == info["matryoshka"]["memory_bytes"]
    for p in info["matryoshka"]["prefixes"]:
        cells = prefixes.find_elements(By.CSS_SELECTOR, f"tr[data-dim='{p['dim']}'] td")
        assert cells[0].text == str(p["dim"])
        assert cells[1].text == f"{p['bytes_per_vector']:,}"
    unnamed = details.find_element(By.CSS_SELECTOR, "#details-vectors tr[data-vector='']")
    assert unnamed.find_element(By.CSS_SELECTOR, "td.indexed").text == f"{vectors['']['indexed_points']:,}"
    assert unnamed.find_element(By.CSS_SELECTOR, "td.pending").text == f"{vectors['']['pending_points']:,}"
    assert unnamed.find_element(By.CSS_SELECTOR, "td.mem-graphs").text == js_bytes(vectors[""]["memory"]["graphs"])
    shot(browser, "collections-details")


def run_console_query(d, collection, point_id, limit, setup):
    goto(d, "query")
    Select(d.find_element(By.ID, "collection")).select_by_value(collection)
    WebDriverWait(d, 10).until(lambda d: d.find_element(By.ID, "quant-note").text)
    time.sleep(0.3)  # the newly selected collection's info is applied
    d.find_element(By.ID, "query-from-id").send_keys(str(point_id))
    lim = d.find_element(By.ID, "query-limit")
    lim.clear()
    lim.send_keys(str(limit))
    setup(d)
    d.execute_script("window.groveLastQuery = null")
    d.find_element(By.ID, "run-query").click()
    WebDriverWait(d, 20).until(lambda d: d.execute_script("return window.groveLastQuery"))
    WebDriverWait(d, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=explain-svg]"))
    return d.execute_script("return window.groveLastQuery.request")


def test_query_console_matryoshka_funnel_and_stages(browser, mrl):
    use_key(browser, ADMIN)

    def setup(d):
        assert d.find_element(By.ID, "mrl-params").is_displayed()
        Select(d.find_element(By.ID, "mrl-dim")).select_by_value("8")
        d.find_element(By.ID, "mrl-oversample").send_keys("6")
        d.find_element(By.ID, "mrl-funnel").send_keys("16:20")
        Select(d.find_element(By.ID, "mrl-path")).select_by_value("scan")

    sent = run_console_query(browser, "mrl", 5, 5, setup)
    assert sent["params"] == {"matryoshka": {"dim": 8, "oversample": 6, "funnel": [{"dim": 16, "keep": 20}], "path": "scan"}}
    body = {"query": mrl[5]["vector"], "limit": 5, "with_payload": True, "strategy": "auto", "explain": True,
            "params": sent["params"]}
    want = rest("POST", "/collections/mrl/points/query", body)
    ui_ids = [int(e.text) for e in browser.find_elements(By.CSS_SELECTOR, "#results-table td.pid")]
    assert ui_ids == [p["id"] for p in want["points"]]
    stages = want["explain"]["matryoshka"]
    assert [s["dim"] for s in stages] == [8, 16, MRL_DIM], stages
    drawn = browser.find_elements(By.CSS_SELECTOR, "[data-testid=mrl-stage]")
    assert len(drawn) == len(stages)
    for g, s in zip(drawn, stages):
        assert int(g.get_attribute("data-dim")) == s["dim"]
        assert g.get_attribute("data-path") == s["path"]
        assert int(g.get_attribute("data-in")) == s["candidates_in"]
        assert int(g.get_attribute("data-kept")) == s["kept"]
        assert int(g.get_attribute("data-distances")) == s["distances_computed"]
        assert f"{s['candidates_in']:,} in → {s['kept']:,} kept, {s['distances_computed']:,} distances" in g.text
    assert stages[0]["kept"] == 6 * 5 and stages[1]["kept"] == 20
    # The stage bars shrink as the funnel narrows (kept bars drawn to the stage's numbers).
    widths = [float(g.find_elements(By.CSS_SELECTOR, "rect")[1].get_attribute("width")) for g in drawn]
    assert widths[0] > widths[1] > widths[2], widths
    shot(browser, "query-matryoshka")


def test_query_console_quantization_params(browser, quant):
    use_key(browser, ADMIN)

    def setup(d):
        Select(d.find_element(By.ID, "quant-rescore")).select_by_value("true")
        d.find_element(By.ID, "quant-oversampling").send_keys("2")
        Select(d.find_element(By.ID, "query-strategy")).select_by_value("hnsw")

    sent = run_console_query(browser, "quant", 11, 10, setup)
    assert sent["params"] == {"quantization": {"rescore": True, "oversampling": 2}}
    assert "scalar quantization" in browser.find_element(By.ID, "quant-note").text
    body = {"query": quant[11]["vector"], "limit": 10, "with_payload": True, "strategy": "hnsw", "explain": True,
            "params": sent["params"]}
    want = rest("POST", "/collections/quant/points/query", body)
    q = want["explain"]["quantization"]
    assert q is not None, want["explain"]
    got = browser.execute_script("return window.groveLastQuery.response.explain.quantization")
    assert got == q
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=explain-code-distances]").text == f"{q['code_distances']:,}"
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=explain-rescored]").text == f"{q['rescored']:,}"
    text = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, "[data-testid=explain-quantization]"))
    assert text.startswith(f"{q['kind']} codes {'used' if q['used'] else 'not used'}:"), text
    ui_ids = [int(e.text) for e in browser.find_elements(By.CSS_SELECTOR, "#results-table td.pid")]
    assert ui_ids == [p["id"] for p in want["points"]]
    shot(browser, "query-quantization")


def test_calibration_chart_draws_the_rest_answer(browser, mrl):
    use_key(browser, ADMIN)
    goto(browser, "calibrate")
    Select(browser.find_element(By.ID, "collection")).select_by_value("mrl")
    WebDriverWait(browser, 10).until(lambda d: "prefixes 8, 16" in d.find_element(By.ID, "calibrate-note").text)
    sample = browser.find_element(By.ID, "cal-sample")
    sample.clear()
    sample.send_keys("60")
    browser.find_element(By.ID, "cal-oversamples").send_keys("1, 2, 4, 8")
    target = browser.find_element(By.ID, "cal-target")
    target.clear()
    target.send_keys("0.9")
    browser.find_element(By.ID, "run-calibration").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=calibration-svg]"))
    body = {"target_recall": 0.9, "sample": 60, "seed": 42, "oversamples": [1, 2, 4, 8]}
    assert json.loads(browser.find_element(By.ID, "cal-body").get_attribute("textContent")) == body
    want = rest("POST", "/collections/mrl/matryoshka/calibrate", body)
    assert len(want["rows"]) == 2 * 4
    pts = browser.find_elements(By.CSS_SELECTOR, "[data-testid=cal-point]")
    drawn = sorted(
        (int(p.get_attribute("data-dim")), int(p.get_attribute("data-oversample")), float(p.get_attribute("data-recall")),
         float(p.get_attribute("data-cost")), float(p.get_attribute("cx")), float(p.get_attribute("cy")))
        for p in pts
    )
    rows = sorted((r["dim"], r["oversample"], r["recall"], r["cost"]) for r in want["rows"])
    assert [d[:4] for d in drawn] == rows
    # The marks sit where their numbers say: more recall is higher up, more cost further right.
    for a in drawn:
        for b in drawn:
            if a[2] > b[2] + 1e-12:
                assert a[5] < b[5], (a, b)
            if a[3] > b[3] * 1.000001:
                assert a[4] > b[4], (a, b)
    ex = browser.find_element(By.CSS_SELECTOR, "[data-testid=cal-exact]")
    assert float(ex.get_attribute("data-cost")) == want["exact"]["cost"]
    assert int(ex.get_attribute("data-dim")) == MRL_DIM
    assert float(browser.find_element(By.CSS_SELECTOR, "[data-testid=cal-target]").get_attribute("data-recall")) == 0.9
    rec = want.get("recommended")
    if rec:
        ring = browser.find_element(By.CSS_SELECTOR, "[data-testid=cal-recommended]")
        assert (int(ring.get_attribute("data-dim")), int(ring.get_attribute("data-oversample"))) == (rec["dim"], rec["oversample"])
        assert "recommended" in browser.find_element(By.CSS_SELECTOR, "[data-testid=calibration-svg]").text
    else:
        assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=cal-none]")
    for r in want["rows"]:
        cells = browser.find_elements(By.CSS_SELECTOR, f"#calibration-table tr[data-dim='{r['dim']}'][data-oversample='{r['oversample']}'] td")
        assert cells[2].text == f"{r['recall']:.4f}" and cells[3].text == f"{r['min_recall']:.4f}"
        assert cells[5].text == f"{round(r['cost']):,}"
    shot(browser, "calibration")


def test_subset_diagnostic_labels_per_query(browser, papers):
    use_key(browser, ADMIN)
    goto(browser, "diagnostics")
    Select(browser.find_element(By.ID, "collection")).select_by_value("papers")
    rng = random.Random(1618)
    queries = [
        {"point": 7, "relevant": [7]},
        {"point": 8, "relevant": [8, 9]},
        {"point": 20, "relevant": rng.sample(range(N), 6)},
        {"vector": [rng.uniform(-1, 1) for _ in range(DIM)], "relevant": rng.sample(range(N), 3)},
    ]
    box = browser.find_element(By.ID, "diag-queries")
    browser.execute_script("arguments[0].value = arguments[1]", box, json.dumps(queries))
    k = browser.find_element(By.ID, "diag-k")
    k.clear()
    k.send_keys("2, 10")
    browser.find_element(By.ID, "diag-budget").send_keys("20")
    browser.find_element(By.ID, "run-diagnostic").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#diag-table tr[data-query]"))
    sent = browser.execute_script("return window.groveAnalysis.diagnostic.request")
    for q, s in zip(queries, sent["queries"]):
        # A "point" query takes that point's stored vector (normalised at insert, Cosine).
        want_vec = (rest("POST", "/collections/papers/points", {"ids": [q["point"]], "with_vector": True})[0]["vector"]
                    if "point" in q else q["vector"])
        assert s["relevant"] == q["relevant"]
        assert all(abs(a - b) < 1e-6 for a, b in zip(s["vector"], want_vec))
    want = rest("POST", "/collections/papers/diagnostics/subsets", sent)
    assert not want["budget_exhausted"], want
    rows = browser.find_elements(By.CSS_SELECTOR, "#diag-table tr[data-query]")
    assert len(rows) == len(want["queries"]) == len(queries)
    for row, q in zip(rows, want["queries"]):
        cells = row.find_elements(By.TAG_NAME, "td")
        assert int(row.get_attribute("data-query")) == q["query"]
        assert cells[1].text == str(q["relevant"])
        assert cells[2].text == q["label"], (cells[2].text, q)
        if q["recall_exact"] is not None:
            assert cells[3].text == " / ".join(f"{x:.3f}" for x in q["recall_exact"])
    assert want["queries"][0]["label"] == "hit"
    bars = {b.get_attribute("data-label"): int(b.get_attribute("data-count"))
            for b in browser.find_elements(By.CSS_SELECTOR, "[data-testid=label-bar]")}
    assert bars == want["labels"]
    shot(browser, "diagnostics")
