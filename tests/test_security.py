"""Security: the server listens on loopback only and checks XSRF tokens; user text is never rendered as
HTML or Markdown in the real browser; every SQL statement is parameterized; the caps live in config.py
and the README lists them as they are."""
from __future__ import annotations

import ast
import ipaddress
import re
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from experiments import config as config_module
from experiments.config import RunConfig
from experiments.store import RunStore
from tests.conftest import wait_until
from tests.live_server import CHROMIUM, ROOT, chromium, enter, goto_page, open_train_page, running_server, tick_row

HOSTILE = {
    "name": "<img src=x onerror=\"window.__xss=1\"> **bold** [link](javascript:window.__xss=2)",
    "notes": "<script>window.__xss=3</script> <b>bold</b> ![img](http://127.0.0.1:9/x.png) `code`",
    "tags": ["<i>tag</i>", "[t](javascript:window.__xss=4)"],
    "message": "<iframe src=javascript:window.__xss=5></iframe> $x^2$ :red[red]",
}


# ---------------------------------------------------------------------------------------------- listening
def _listening_addresses(port: int) -> list[str]:
    """Local addresses with a socket in LISTEN state on ``port``, from /proc/net/tcp and tcp6."""
    found = []
    for table, size in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 16)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(address)
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, size, 4))  # little-endian words
            found.append(str(ipaddress.ip_address(raw)))
    return found


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent; this only picks the outgoing interface
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback else address


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, mnist_dir):
    """A server with the repository's config (no address flag) on a store holding hostile user text."""
    tmp = tmp_path_factory.mktemp("security")
    db = tmp / "runs.sqlite"
    store = RunStore(db)
    ids = []
    for seed in (0, 1):
        config = RunConfig(hidden=(8,), epochs=2, seed=seed, lr=0.001 if seed == 0 else 0.01, train_size=1000)
        run_id = store.create_run(config, name=HOSTILE["name"] + f" {seed}", source="cli")
        for epoch in (1, 2):
            store.log_epoch(run_id, {"epoch": epoch, "train_loss": 1.0 / epoch, "test_loss": 1.1 / epoch,
                                     "train_acc": 0.7, "test_acc": 0.7 + seed / 10, "elapsed": epoch})
        store.set_status(run_id, "finished", HOSTILE["message"])
        store.set_notes(run_id, HOSTILE["notes"])
        store.set_tags(run_id, HOSTILE["tags"])
        from nn import MLP
        store.weights_path(run_id).parent.mkdir(parents=True, exist_ok=True)
        MLP(config.sizes(), seed=seed).save(str(store.weights_path(run_id)))
        ids.append(run_id)
    store.close()
    with running_server(db, mnist_dir, tmp / "server.log") as server:
        yield server, ids
    assert "Traceback" not in server.log()


@pytest.mark.browser
@pytest.mark.mnist
def test_the_server_listens_on_loopback_only(hostile_server):
    server, _ = hostile_server
    addresses = _listening_addresses(server.port)
    assert addresses, "no listening socket found for the server's port"
    assert all(ipaddress.ip_address(a).is_loopback for a in addresses), addresses
    other = _non_loopback_address()
    if other:  # this machine has another address: nothing answers there
        with pytest.raises(OSError):
            socket.create_connection((other, server.port), timeout=3).close()


def test_the_config_file_asks_for_loopback_and_xsrf_protection():
    out = subprocess.run([sys.executable, "-c",
                          "from streamlit import config; config.get_config_options(force_reparse=True); "
                          "print(config.get_option('server.address'), config.get_option('server.enableXsrfProtection'),"
                          " config.get_option('server.enableCORS'), config.get_option('browser.gatherUsageStats'))"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["localhost", "True", "True", "False"], out.stdout


@pytest.mark.browser
@pytest.mark.mnist
def test_the_server_hands_out_an_xsrf_token(hostile_server):
    server, _ = hostile_server
    with urllib.request.urlopen(server.url + "/_stcore/health", timeout=10) as response:
        cookies = " ".join(response.headers.get_all("Set-Cookie") or [])
    assert "_streamlit_xsrf=" in cookies  # with XSRF protection off, Streamlit sets no token
    # a state-changing request without the token (as another site's page would send it) is refused
    request = urllib.request.Request(server.url + "/_stcore/upload_file/some-session/some-file", data=b"x",
                                     method="PUT", headers={"Content-Type": "application/octet-stream"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


# ---------------------------------------------------------------------------------------------- user text
DANGEROUS = """() => {
    const bad = [];
    for (const el of document.querySelectorAll('img[src="x"], iframe, a[href^="javascript"]'))
        bad.push(el.outerHTML.slice(0, 120));
    for (const el of document.querySelectorAll('strong, b, i, em, code'))
        if (/bold|tag|code/.test(el.textContent) && !el.closest('[data-testid="stTooltipContent"]')
                && !el.closest('.st-key-copy_link'))  // the settings link: our own code box, URL-encoded text
            bad.push(el.outerHTML.slice(0, 120));
    for (const el of document.querySelectorAll('script'))
        if (el.textContent.includes('__xss')) bad.push('script element: ' + el.textContent.slice(0, 60));
    for (const el of document.querySelectorAll('.katex')) bad.push('latex: ' + el.textContent.slice(0, 60));
    if (window.__xss) bad.push('script ran: ' + window.__xss);
    return bad;
}"""


def _inputs(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('input, textarea')].map(e => e.value)")


@pytest.mark.browser
@pytest.mark.mnist
def test_user_text_is_never_rendered_as_html_or_markdown(hostile_server):
    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    server, ids = hostile_server
    with chromium() as browser:
        page = open_train_page(browser, server.url, {"width": 1400, "height": 1400})
        try:
            # Train: a refused setting quotes the user's text in its message
            enter(page, page.get_by_role("textbox", name="Hidden layers"), HOSTILE["name"])
            page.get_by_role("button", name="Train", exact=True).click()
            page.get_by_text("Not queued").wait_for()
            page.wait_for_timeout(500)
            assert page.evaluate(DANGEROUS) == []
            assert "<img src=x" in page.get_by_text("Not queued").first.inner_text()  # shown literally
            # History: the edit panel of a picked run holds the name, tags, notes and message
            goto_page(page, "History")
            tick_row(page, "history_table", 0)
            page.get_by_role("button", name="Load into sidebar").wait_for()
            values = _inputs(page)
            assert f"{HOSTILE['name']} 1" in values and HOSTILE["notes"] in values
            assert ", ".join(HOSTILE["tags"]) in values
            assert page.get_by_text(HOSTILE["message"], exact=False).count() >= 1  # the status message, literal
            assert page.evaluate(DANGEROUS) == []
            # Compare: the picked run's curve; its hover text holds the name (HTML-escaped for Plotly)
            goto_page(page, "Compare")
            tick_row(page, "compare_table", 1)
            page.locator(".st-key-compare_chart .js-plotly-plot").wait_for()
            page.wait_for_timeout(800)
            hover = page.evaluate("""() => document.querySelector('.st-key-compare_chart .js-plotly-plot').data
                .map(t => t.hovertemplate || '').join(' ')""")
            assert "&lt;img" in hover and "<img" not in hover
            assert page.evaluate(DANGEROUS) == []
            # Inspect: the run picker shows the names
            goto_page(page, "Inspect")
            page.get_by_text("Confusion matrix").wait_for(timeout=60000)
            shown = page.locator('[data-testid="stSelectbox"]').first.inner_text() + " ".join(_inputs(page))
            assert "<img src=x" in shown, shown
            assert page.evaluate(DANGEROUS) == []
        finally:
            page.close()


# ---------------------------------------------------------------------------------------------- SQL
# experiments/store/: the store (store.py) and its WHERE clauses (query.py)
SQL_MODULES = ("store.py", "query.py")
SAFE_FRAGMENTS = [  # the only expressions formatted into SQL text in SQL_MODULES, and why each is safe
    r"', '\.join\((EPOCH_METRICS|SUMMARY_METRICS|RUN_SUMMARY_COLUMNS)\)",  # fixed column names
    r"', '\.join\('\?' \* len\(\w+\)\)",                     # placeholders: '?, ?, ?'
    r"SORTABLE\[order_by\]",                                 # fixed column list; order_by checked first
    r"'DESC' if descending else 'ASC'",
    r"int\(to_version\)",                                     # PRAGMA takes no parameters; an int from the code
]


def test_every_sql_statement_is_parameterized():
    sources = [(ROOT / "experiments" / "store" / name).read_text() for name in SQL_MODULES]
    tree = ast.parse("\n".join(sources))
    sql_words = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WHERE|ORDER BY|LIMIT|PRAGMA|IN \()\b", re.I)
    checked, offending = 0, []
    messages = {id(n) for r in ast.walk(tree) if isinstance(r, ast.Raise) for n in ast.walk(r)}  # user messages
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and id(node) not in messages:
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if not sql_words.search(text):
                continue
            checked += 1
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    source = ast.unparse(value.value)
                    if not any(re.fullmatch(p, source) for p in SAFE_FRAGMENTS):
                        offending.append(f"line {node.lineno}: {{{source}}}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            offending.append(f"line {node.lineno}: %-formatting")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
                and isinstance(node.func.value, ast.Constant) and sql_words.search(str(node.func.value.value)):
            offending.append(f"line {node.lineno}: str.format into SQL")
    assert checked >= 4 and not offending, offending
    assert "if order_by not in SORTABLE" in "".join(sources)  # the sort column is checked before it is formatted in
    # the store is the only module that talks SQL
    users = [p for folder in ("experiments", "ui", "nn") for p in (ROOT / folder).rglob("*.py")
             if "sqlite3" in p.read_text() and p != ROOT / "experiments" / "store" / "store.py"]
    assert users == []


# ---------------------------------------------------------------------------------------------- caps
CAPS = ("MAX_WIDTH", "MAX_DEPTH", "MAX_EPOCHS", "MAX_BATCH_SIZE", "MAX_LR", "MAX_L2", "MAX_QUEUED", "MAX_TRIALS")


def test_caps_are_set_in_config_only_and_the_readme_lists_them():
    c = config_module
    for folder in ("experiments", "ui", "nn"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.relative_to(ROOT).as_posix() == "experiments/settings/limits.py":  # the one place
                continue
            for name in CAPS:
                assert not re.search(rf"^\s*{name}\s*=", path.read_text(), re.M), f"{path} sets {name} again"
    readme = (ROOT / "README.md").read_text()
    limits = readme.split("## Limits", 1)[1].split("\n## ", 1)[0]
    limits = " ".join(limits.split())
    for text in (f"at most {c.MAX_DEPTH} hidden layers of at most {c.MAX_WIDTH} units", f"1 to {c.MAX_EPOCHS} epochs",
                 f"batch size 1 to {c.MAX_BATCH_SIZE}", f"learning rate in (0, {c.MAX_LR:g}]",
                 f"L2 in [0, {c.MAX_L2:g}]", f"at most {c.MAX_QUEUED} runs waiting",
                 f"{c.MAX_TRIALS} trials in one sweep", "`experiments/settings/limits.py`"):
        assert text in limits, text


def test_the_caps_are_enforced(tmp_path):
    from experiments.config import ConfigError
    from experiments.runs.runner import RunManager
    from experiments.store import StoreError
    c = config_module
    for bad in (dict(hidden=[c.MAX_WIDTH + 1]), dict(hidden=[8] * (c.MAX_DEPTH + 1)), dict(epochs=c.MAX_EPOCHS + 1),
                dict(batch_size=c.MAX_BATCH_SIZE + 1), dict(lr=c.MAX_LR * 1.01), dict(l2=c.MAX_L2 * 1.01)):
        with pytest.raises(ConfigError):
            RunConfig(**bad)
    RunConfig(hidden=[c.MAX_WIDTH] * c.MAX_DEPTH, epochs=c.MAX_EPOCHS, lr=c.MAX_LR, l2=c.MAX_L2)  # the caps themselves
    import threading
    release = threading.Event()

    def blocked(config):
        release.wait(30)
        raise OSError("not loading anything in this test")
    manager = RunManager(RunStore(tmp_path / "runs.sqlite"), data_loader=blocked)
    try:
        first = manager.submit(RunConfig(epochs=1))  # taken by the worker (running), blocked while loading
        wait_until(lambda: manager.store.get_run(first).status != "queued", 10, "the worker to take the first run",
                   every=0.01)
        for _ in range(c.MAX_QUEUED):  # MAX_QUEUED waiting
            manager.submit(RunConfig(epochs=1))
        with pytest.raises(StoreError, match=f"{c.MAX_QUEUED} runs are already waiting"):
            manager.submit(RunConfig(epochs=1))
        assert manager.store.count_runs() == c.MAX_QUEUED + 1
    finally:
        manager.stop_all()
        release.set()
        manager.wait(timeout=30)
