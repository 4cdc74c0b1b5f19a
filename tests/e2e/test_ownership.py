"""Issue 24's "done when", in a real browser: two students on a class server (bound off localhost, real MNIST,
two Chromium contexts, each signed in with their own personal code) cannot stop, continue, rename, tag,
delete or export each other's runs, nor act under the other's identity by any address (``?student=``,
another's run id in ``?runs=``); a sign-in is remembered across reloads and new tabs, and a personal link to
``/history`` lands on History with the code gone from the address."""
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
from tests.live_server import click_train, enter, running_server, tick_row

pytestmark = [pytest.mark.browser, pytest.mark.mnist, pytest.mark.slow]


def stored(db: Path) -> dict[int, tuple]:
    """Every run as (student, name, tags, notes, status, epochs stored, planned epochs), read with sqlite3."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        rows = conn.execute("SELECT id, student, name, tags, notes, status, "
                            "(SELECT count(*) FROM epochs e WHERE e.run_id = r.id), json_extract(config, '$.epochs') "
                            "FROM runs r ORDER BY id").fetchall()
    finally:
        conn.close()
    return {row[0]: tuple(row[1:]) for row in rows}


def signed_in_as(page) -> str:
    return page.get_by_test_id("stSidebar").get_by_text("Signed in as").inner_text()


def new_student(browser, url: str):
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60000)
    page.goto(url)
    return page


def test_two_students_cannot_act_on_each_others_runs(tmp_path, mnist_dir, browser):
    db = tmp_path / "runs.sqlite"
    store = RunStore(db)
    codes = {name: roster.add_student(store, name).code for name in ("alice", "bob")}
    store.close_all()
    env = {"MNIST_LAB_TEACHER_PASSWORD": "staff only", "MNIST_LAB_WORKERS": "1", "MNIST_LAB_CLASS_PASSWORD": ""}
    with running_server(db, mnist_dir, tmp_path / "server.log", args=("--server.address", "0.0.0.0"),
                        env=env) as live:
        # Alice follows her personal link to History: she lands there, signed in, the code out of the address
        alice = new_student(browser, f"{live.url}/history?code={codes['alice']}")
        alice.get_by_role("heading", name="History").wait_for()
        assert "code=" not in alice.url and signed_in_as(alice) == "Signed in as alice"
        # the page's script sets the remember cookie once it has drawn (a reload within that moment asks again)
        wait_until(lambda: [c for c in alice.context.cookies() if c["name"].startswith("mnist_lab_signin")], 30,
                   "the browser to remember Alice's sign-in")
        # a reload is a new session: remembered, no prompt; the link's settings apply; she trains two runs
        alice.goto(f"{live.url}/?hidden=16&epochs=1&train_size=2000&seed=0")
        alice.get_by_role("heading", name="Train").wait_for()
        finished = click_train(alice, db)
        wait_until(lambda: stored(db)[finished][4] == "finished", 120, "alice's first run to finish")
        alice.goto(f"{live.url}/?hidden=16&epochs=1000&train_size=2000&seed=1")
        alice.get_by_role("heading", name="Train").wait_for()
        running = click_train(alice, db)
        wait_until(lambda: stored(db)[running][5] >= 1, 120, "alice's long run to train")

        # Bob signs in with his code, then tries to be Alice by the address and to reach her runs by their ids
        bob = new_student(browser, live.url)
        bob.get_by_role("textbox", name="Your personal code").fill(codes["bob"])
        bob.get_by_role("button", name="Sign in").click()
        bob.get_by_role("heading", name="Train").wait_for()
        wait_until(lambda: [c for c in bob.context.cookies() if c["name"].startswith("mnist_lab_signin")], 30,
                   "the browser to remember Bob's sign-in")
        bob.goto(f"{live.url}/train?runs={finished},{running}&student=alice&code=1-guessguessguess")
        bob.get_by_role("heading", name="Train").wait_for()
        bob.get_by_text(f"Run {running} (").first.wait_for()
        assert signed_in_as(bob) == "Signed in as bob"
        expect(bob.get_by_text("That code opens nothing").first).to_be_visible()  # Alice's id, a guessed secret
        expect(bob.get_by_text("The link's parameter 'student' is not a setting and was ignored.")).to_be_visible()
        expect(bob.get_by_text("alice's run")).to_have_count(2)  # read-only: to look at
        main = bob.get_by_test_id("stMain")
        for label in ("Stop", "Pause", "Unpause", "Resume", "Continue"):
            expect(main.get_by_role("button", name=label, exact=True)).to_have_count(0)
        # what Bob queues from there is his, whatever the address said
        bobs = click_train(bob, db)
        assert stored(db)[bobs][0] == "bob"
        bob.locator(f".st-key-stop_{bobs}").get_by_role("button", name="Stop", exact=True).click()

        # History: Alice's run is read-only for Bob (no rename, tag, note, delete, export). Opened by its address, a
        # new session signed in by his remembered cookie: the navigation's click, made while the Stop's rerun and
        # the live refresh of Alice's running run were under way, went unanswered in two full runs on two busy cores
        bob.goto(f"{live.url}/history")
        bob.get_by_role("heading", name="History").wait_for()
        bob.get_by_text("Everyone", exact=True).click()
        bob.get_by_text("3 of 3 runs").wait_for()
        # only Alice's finished run listed: which row sorts first otherwise depends on how far Bob's got
        enter(bob, bob.get_by_role("textbox", name="Search"), "hidden=16 seed=0")
        bob.get_by_text("1 of 3 runs").wait_for()
        tick_row(bob, "history_table", 0)
        bob.get_by_text("you can look at it and load its settings, not change it").wait_for()
        main = bob.get_by_test_id("stMain")
        for box in ("Name", "Tags"):
            expect(main.get_by_role("textbox", name=box, exact=True)).to_be_disabled()
        expect(main.get_by_role("textbox", name="Notes")).to_be_disabled()
        expect(main.get_by_role("button", name="Save")).to_be_disabled()
        expect(main.get_by_role("button", name="Delete selected (0)")).to_be_disabled()
        expect(main.get_by_role("button", name="Export your 0 (CSV)")).to_be_disabled()

        # a new tab of Bob's browser is still Bob; Alice's browser is still Alice, who stops her own run
        tab = bob.context.new_page()
        tab.goto(f"{live.url}/history")
        tab.get_by_role("heading", name="History").wait_for()
        assert signed_in_as(tab) == "Signed in as bob"
        alice.goto(f"{live.url}/train?runs={running}")
        alice.locator(f".st-key-stop_{running}").get_by_role("button", name="Stop", exact=True).click()
        wait_until(lambda: stored(db)[running][4] == "stopped", 60, "alice's run to stop")
        for page in (alice, bob):
            page.context.close()
    runs = stored(db)
    # Alice's runs are as she left them: her names, no tags or notes, her finished run not continued
    assert runs[finished][:5] == ("alice", runs[finished][1], "[]", "", "finished") and runs[finished][5:] == (1, 1)
    assert runs[running][0] == "alice" and runs[running][4] == "stopped" and runs[running][6] == 1000
    assert sorted(r[0] for r in runs.values()) == ["alice", "alice", "bob"]
    assert "Traceback" not in live.log(), live.log()[-3000:]
