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
    d.execute_script("document.getElementById('main').dataset.ready = 'false'; location.hash = '#/' + arguments[0]", page)
    wait_ready(d, page)


def shot(d, name):
    os.makedirs(SHOTS, exist_ok=True)
    d.save_screenshot(os.path.join(SHOTS, name + ".png"))


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
