"""The classroom in a real browser: the real Streamlit server driven by headless Chromium (Playwright).

- A link with settings opens the Train page with those settings in the sidebar and the locked controls
  disabled; a bad parameter gets its one-line notice.
- One exercise end to end on real MNIST: the prediction is stored before anything runs, the runs queue as
  one seeded group and finish, and the reveal shows the prediction beside the result and the explanation.
- A server listening on every interface without a teacher password refuses every page with one line; with
  one, every page asks for a sign-in (a personal code) before anything else renders.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips these tests
    expect = None

from experiments.store import RunStore, roster
from tests.conftest import wait_until
from tests.live_server import TINY_EXERCISE, running_server

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]

PAGE_PATHS = ("", "compare", "history", "exercises", "report", "inspect", "sweep", "teacher")


@pytest.fixture(scope="module")
def local_server(tmp_path_factory, mnist_dir, browser):
    tmp = tmp_path_factory.mktemp("classroom")
    folder = tmp / "exercises"
    folder.mkdir()
    (folder / "tiny.toml").write_text(TINY_EXERCISE)
    with running_server(tmp / "runs.sqlite", mnist_dir, tmp / "server.log",
                        env={"MNIST_LAB_EXERCISES": str(folder)}) as live:
        yield live
        assert "Traceback" not in live.log(), live.log()[-3000:]


def new_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1300, "height": 1100})
    page.set_default_timeout(30000)
    page.goto(url)
    return page


def test_a_link_opens_with_its_settings_and_locked_controls(local_server, browser):
    page = new_page(browser, f"{local_server.url}/?hidden=32,%2016&epochs=3&optimizer=sgd&lr=0.1"
                             f"&lock=lr,optimizer&hide=l2&colour=red")
    page.get_by_role("heading", name="Train").wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("textbox", name="Hidden layers")).to_have_value("32, 16")
    expect(sidebar.get_by_role("textbox", name="Epochs")).to_have_value("3")
    optimizer = sidebar.get_by_role("combobox", name="Optimizer")
    expect(optimizer).to_have_value("sgd")
    expect(optimizer).to_be_disabled()
    assert sidebar.get_by_role("combobox", name="Activation").is_enabled()
    slider = sidebar.get_by_role("slider")
    expect(slider).to_have_count(1)  # L2 is hidden: only the learning rate's slider is left
    expect(slider).to_be_disabled()
    expect(slider).to_have_attribute("aria-valuetext", "0.1")
    assert sidebar.get_by_role("textbox", name="Epochs").is_enabled()
    expect(sidebar.get_by_text("not a setting and was ignored")).to_have_count(1)
    wait_until(lambda: "lr=0.1" in page.url and "epochs=3" in page.url, 30,
               "the address bar to mirror the settings")
    sidebar.get_by_text("Copy link").click()
    link = page.get_by_test_id("stCode").filter(has_text="lock=").inner_text()
    assert link.startswith(local_server.url) and "lr=0.1" in link and "hidden=32%2C+16" in link
    copy = browser.new_page()
    copy.goto(link)
    expect(copy.get_by_test_id("stSidebar").get_by_role("textbox", name="Hidden layers")).to_have_value("32, 16")
    expect(copy.get_by_test_id("stSidebar").get_by_role("combobox", name="Optimizer")).to_be_disabled()
    copy.close()
    page.close()


def predictions_of(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("SELECT student, exercise, answer, group_id FROM predictions").fetchall()
    finally:
        conn.close()


def runs_of(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("SELECT student, group_id, status, epochs_done FROM runs").fetchall()
    finally:
        conn.close()


def test_one_exercise_end_to_end(local_server, browser):
    db = local_server.db
    page = new_page(browser, f"{local_server.url}/exercises")
    page.get_by_role("heading", name="Exercises").wait_for()
    page.get_by_role("textbox", name="Your name").fill("Ann <i>")
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("Which learning rate wins?").wait_for()
    page.get_by_test_id("stRadio").get_by_text("lr 0.1", exact=True).click()
    page.get_by_role("button", name="Save my prediction").click()
    run_button = page.get_by_role("button", name="Run the exercise")
    run_button.wait_for()
    # stored before anything runs
    assert predictions_of(db) == [("Ann <i>", "tiny", '{"kind": "winner", "value": "lr 0.1"}', None)]
    assert runs_of(db) == []
    run_button.dblclick()
    page.get_by_role("button", name="Reveal the result").wait_for(timeout=120000)
    runs = runs_of(db)
    group = predictions_of(db)[0][3]
    assert len(runs) == 4 and {r[1] for r in runs} == {group}  # one group, double click queued it once
    assert all(r[0] == "Ann <i>" and r[2] == "finished" and r[3] == 2 for r in runs)
    page.get_by_role("button", name="Reveal the result").click()
    page.get_by_text("Averaged gradients make 0.1").wait_for()
    page.get_by_text("Seed noise:").wait_for()
    body = page.get_by_test_id("stMain").inner_text()
    assert "Averaged gradients make 0.1 a good step for SGD." in body
    assert "Seed noise:" in body and ("Right." in body or "Not quite." in body)
    page.get_by_text("Your progress", exact=True).click()
    href = page.get_by_role("link", name="Try it yourself on the Train page").get_attribute("href")
    assert href and "exercise=tiny" in href and "lock=optimizer" in href
    progress = page.get_by_test_id("stTable")
    wait_until(lambda: progress.count() and ("right" in progress.inner_text() or "wrong" in progress.inner_text()),
               30, "the progress table")
    page.close()
    trial = new_page(browser, href)
    trial.get_by_role("heading", name="Train").wait_for()
    expect(trial.get_by_test_id("stSidebar").get_by_role("combobox", name="Optimizer")).to_be_disabled()
    expect(trial.get_by_test_id("stSidebar").get_by_role("textbox", name="Hidden layers")).to_have_value("16")
    assert trial.get_by_text("Page not found").count() == 0
    trial.close()


def test_a_class_server_without_a_teacher_password_refuses_every_page(tmp_path, mnist_dir, browser):
    env = {"MNIST_LAB_CLASS_PASSWORD": "open sesame", "MNIST_LAB_TEACHER_PASSWORD": ""}  # a class password: nobody
    with running_server(tmp_path / "runs.sqlite", mnist_dir, tmp_path / "server.log",
                        args=("--server.address", "0.0.0.0"), env=env) as live:
        for path in ("", "exercises"):
            page = new_page(browser, f"{live.url}/{path}")
            page.get_by_text("no teacher password is set").wait_for()
            assert page.get_by_role("heading").count() == 0
            assert page.get_by_role("textbox").count() == 0
            page.close()
        assert "no teacher password is set" in live.log()


def test_a_class_server_asks_for_a_sign_in_before_every_page(tmp_path, mnist_dir, browser):
    store = RunStore(tmp_path / "runs.sqlite")
    code = roster.add_student(store, "Bob").code
    store.close_all()
    env = {"MNIST_LAB_CLASS_PASSWORD": "", "MNIST_LAB_TEACHER_PASSWORD": "teach"}
    with running_server(tmp_path / "runs.sqlite", mnist_dir, tmp_path / "server.log",
                        args=("--server.address", "0.0.0.0"), env=env) as live:
        for path in PAGE_PATHS:
            page = new_page(browser, f"{live.url}/{path}?lr=0.1")
            page.get_by_role("textbox", name="Your personal code").wait_for()
            main = page.get_by_test_id("stMain").inner_text()
            assert page.get_by_test_id("stSidebar").count() == 0, path
            assert "Train" not in main and "Settings" not in main, path
            page.close()
        page = new_page(browser, f"{live.url}/?lr=0.1")
        box = page.get_by_role("textbox", name="Your personal code")
        box.fill(code[:-1] + ("x" if code[-1] != "x" else "y"))
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_text("That code opens nothing").wait_for()
        box.fill(code)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_text("Too many wrong tries").wait_for()  # within the wait: not even compared
        page.wait_for_timeout(1500)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_role("heading", name="Train").wait_for()
        assert page.get_by_test_id("stSidebar").get_by_text("Signed in as Bob").count() == 1
        slider = page.get_by_test_id("stSidebar").get_by_role("slider").first
        expect(slider).to_have_attribute("aria-valuetext", "0.1")  # the link survived the sign-in
        page.close()


def start_order(db: Path) -> list[tuple[str, int]]:
    """(student, run id) in the order the runs began training (their first stored epoch's row order)."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("SELECT r.student, r.id FROM runs r JOIN epochs e ON e.run_id = r.id AND e.epoch = 1 "
                            "ORDER BY e.rowid").fetchall()
    finally:
        conn.close()


def test_browser_sessions_on_a_class_server_queue_round_robin(tmp_path, mnist_dir, browser):
    """Eight browser sessions of six students press Train while the only worker is busy: one student's three
    runs do not all go before the five others' (with a FIFO queue they would), and every run stores its
    epochs."""
    # one worker: a queue to watch; slices of 10 minutes: greedy's first run keeps the slot until it is stopped
    # (runs/turns.py; tests/runs/test_turns.py shows slices handed round)
    env = {"MNIST_LAB_TEACHER_PASSWORD": "teach", "MNIST_LAB_WORKERS": "1", "MNIST_LAB_SLICE_S": "600"}
    sessions = [("greedy", k) for k in range(3)] + [(f"student {k}", 10 + k) for k in range(5)]
    store = RunStore(tmp_path / "runs.sqlite")
    codes = {who: roster.add_student(store, who).code for who in dict.fromkeys(who for who, _ in sessions)}
    store.close_all()
    with running_server(tmp_path / "runs.sqlite", mnist_dir, tmp_path / "server.log",
                        args=("--server.address", "0.0.0.0"), env=env) as live:
        pages = []
        for who, seed in sessions:
            context = browser.new_context(viewport={"width": 1300, "height": 900})
            page = context.new_page()
            page.set_default_timeout(60000)
            epochs = 1000 if seed == 0 else 2  # greedy's first run holds the worker until it is stopped
            page.goto(f"{live.url}/?hidden=32&epochs={epochs}&train_size=2000&seed={seed}&code={codes[who]}")
            page.get_by_role("heading", name="Train").wait_for()
            pages.append(page)
        # greedy's first run starts and holds the only worker while the others queue (greedy's other two first,
        # then the five others); then it is stopped
        pages[0].get_by_role("button", name="Train", exact=True).click()
        wait_until(lambda: [r for r in runs_of(live.db) if r[3] >= 1], 60, "greedy's first epoch")
        for i, page in enumerate(pages[1:], start=2):
            page.get_by_role("button", name="Train", exact=True).click()
            wait_until(lambda n=i: len(runs_of(live.db)) == n, 30, f"run {i} to be queued")
        # greedy's page shows only greedy's runs (run 1 running, its others queued): stop run 1
        pages[0].locator(".st-key-stop_1").get_by_role("button", name="Stop", exact=True).click()
        order = wait_until(lambda: len(start_order(live.db)) == len(sessions) and start_order(live.db), 240,
                           "every run to start", every=0.5)
        done = wait_until(lambda: sorted(r[2] for r in runs_of(live.db)) == ["finished"] * 7 + ["stopped"], 240,
                          "every run to end", every=0.5)
        assert done
        for page in pages:
            page.context.close()
    students = [who for who, _ in order]
    # greedy's first run starts at once; its second is next in turn (it queued before the others arrived);
    # then each of the five others gets a turn before greedy's third
    assert students == ["greedy", "greedy", *(f"student {k}" for k in range(5)), "greedy"], students
    stored = [(r[0], r[2], r[3]) for r in runs_of(tmp_path / "runs.sqlite")]
    assert stored[0][:2] == ("greedy", "stopped") and stored[0][2] >= 1
    assert sorted(stored[1:]) == sorted([("greedy", "finished", 2)] * 2 +
                                        [(f"student {k}", "finished", 2) for k in range(5)])
