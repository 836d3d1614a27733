"""The desk in a real browser (Chromium, driven by Playwright): the whole review, from the
queue to a published correction, by three people; what a reviewer may not do; a stale form;
a form without its CSRF token; the queue by keyboard alone; and axe-core's accessibility
check of every page (no serious or critical violation).

FACTCHECK_WRITE_SCREENSHOTS=1 writes the README's screenshots (docs/screenshots/) from the
run; otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.desk.helpers import new_user
from tests.factories import BODY, processed

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SERIOUS = frozenset({"serious", "critical"})


@pytest.fixture
def people(sessions: Any) -> dict[str, Any]:
    return {
        "ana": new_user(sessions, "reviewer"),
        "ben": new_user(sessions, "reviewer"),
        "eve": new_user(sessions, "editor"),
    }


@pytest.fixture
def open_page(browser: Any, live_url: str) -> Iterator[Any]:
    """Factory: a signed-in page of its own browser context (own cookies) for a user."""
    contexts = []

    def open_for(user: Any, *, width: int = 1280, script: bool = True) -> Any:
        context = browser.new_context(
            base_url=live_url,
            viewport={"width": width, "height": 900},
            java_script_enabled=script,
        )
        contexts.append(context)
        page = context.new_page()
        page.goto("/desk/login")
        page.get_by_label("Your personal token").fill(user.token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/desk/$"))
        return page

    yield open_for
    for context in contexts:
        context.close()


def accessible(page: Any) -> None:
    """axe-core finds no serious or critical violation on the page as it is."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert not bad, f"{page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in bad
    )


def screenshot(page: Any, name: str, tmp_path: Path) -> None:
    folder = SCREENSHOTS if os.environ.get("FACTCHECK_WRITE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=False)


def _claim_id(engine: Any, article_id: int, starting: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                text("SELECT id FROM claims WHERE article_id = :a AND text LIKE :t"),
                {"a": article_id, "t": starting + "%"},
            )
        )


def test_a_claim_goes_from_the_queue_to_a_published_correction(
    open_page, people, article, engine, tmp_path
):
    claim_id = _claim_id(engine, article["id"], "Unemployment fell")
    ana = open_page(people["ana"])
    accessible(ana)
    screenshot(ana, "queue", tmp_path)
    ana.get_by_role("link", name=re.compile("Unemployment fell")).click()
    ana.wait_for_url(f"**/desk/claims/{claim_id}")
    accessible(ana)
    ana.get_by_role("button", name="Take", exact=True).click()
    ana.get_by_text("You took this claim.").wait_for()
    assert people["ana"].name in ana.locator("[data-assignee]").inner_text()

    ana.get_by_label("Rating", exact=True).select_option("false")
    ana.get_by_label("Summary", exact=True).fill("May's rate was 4.4%, not 4.1%.")
    ana.locator("#evidence-0-url").fill("https://stats.example.gov/labour/may")
    ana.locator("#evidence-0-stance").select_option("refutes")
    ana.locator("#evidence-0-title").fill("Labour market, May")
    ana.get_by_role("button", name="Add another evidence row").click()
    ana.locator("#evidence-1-url").fill("https://archive.example.org/2001-low")
    ana.locator("#evidence-1-stance").select_option("context")
    ana.get_by_role("button", name="Add verdict").click()
    ana.get_by_text("Your verdict is added.").wait_for()
    evidence = ana.locator("table.evidence a")
    assert evidence.count() == 2

    ben = open_page(people["ben"])
    ben.goto(f"/desk/claims/{claim_id}")
    ben.get_by_label("Rating", exact=True).select_option("mostly-true")
    ben.get_by_label("Summary", exact=True).fill("Close enough: 4.2% seasonally adjusted.")
    ben.get_by_role("button", name="Add verdict").click()
    ben.get_by_text("Your verdict is added.").wait_for()
    assert "reviewers: split" in ben.locator("#verdicts-title").inner_text()

    ana.reload()
    screenshot(ana, "claim", tmp_path)
    ana.get_by_role("button", name="Mark reviewed").click()
    ana.get_by_text("The claim is now reviewed.").wait_for()

    eve = open_page(people["eve"])
    eve.get_by_role("link", name="Editors").click()
    waiting = eve.locator("table[data-waiting]")
    assert "Disagree:" in waiting.inner_text()
    accessible(eve)
    waiting.get_by_role("link", name=re.compile("Unemployment fell")).click()
    eve.get_by_role("button", name="Publish this verdict").first.click()
    eve.get_by_text("Published.").wait_for()
    eve.get_by_text("Correct this published verdict").click()
    eve.locator("select[name=rating]").first.select_option("mostly-false")
    eve.get_by_label("Why it is corrected (shown with it)").fill("The May figure was revised.")
    eve.get_by_role("button", name="Publish the correction").click()
    eve.get_by_text("The correction is published.").wait_for()
    assert "Correction of verdict" in eve.locator("section.verdicts").inner_text()
    history = eve.locator("table[data-history]").inner_text()
    for action in ("claim.taken", "verdict.added", "verdict.published", "verdict.corrected"):
        assert action in history
    assert "The May figure was revised." in history

    eve.get_by_role("link", name=article["title"]).click()
    eve.get_by_role("heading", name="Revisions").wait_for()
    accessible(eve)
    eve.goto("/desk/editor")
    assert "The May figure was revised." in eve.locator("table[data-published]").inner_text()


def test_a_reviewer_sees_no_publish_button_and_a_forged_publish_is_refused(
    open_page, people, article, engine, client
):
    claim_id = _claim_id(engine, article["id"], "Unemployment fell")
    eve = open_page(people["eve"])
    eve.goto(f"/desk/claims/{claim_id}")
    eve.get_by_role("button", name="Take", exact=True).click()
    eve.get_by_label("Rating", exact=True).select_option("false")
    eve.get_by_label("Summary", exact=True).fill("No.")
    eve.get_by_role("button", name="Add verdict").click()
    eve.get_by_role("button", name="Mark reviewed").click()
    eve.get_by_text("Publish this verdict").wait_for()

    ana = open_page(people["ana"])
    ana.goto(f"/desk/claims/{claim_id}")
    assert ana.get_by_role("button", name="Publish this verdict").count() == 0
    assert ana.get_by_text("Correct this published verdict").count() == 0
    with engine.connect() as connection:
        verdict_id = connection.scalar(
            text("SELECT id FROM verdicts WHERE claim_id = :c"), {"c": claim_id}
        )
    token = ana.locator("input[name=csrf_token]").first.input_value()
    forged = ana.request.post(
        f"/desk/verdicts/{verdict_id}/publish",
        form={"csrf_token": token, "verdict_version": "1", "seen": "0"},
    )
    assert forged.status == 403
    assert "The reviewer role may not verdicts:publish." in forged.text()
    with engine.connect() as connection:
        status = connection.scalar(
            text("SELECT status FROM verdicts WHERE id = :v"), {"v": verdict_id}
        )
    assert status == "proposed"


def test_a_stale_form_is_refused_with_what_changed(open_page, people, article, engine):
    claim_id = _claim_id(engine, article["id"], "Unemployment fell")
    ana, ben = open_page(people["ana"]), open_page(people["ben"])
    ana.goto(f"/desk/claims/{claim_id}")
    ben.goto(f"/desk/claims/{claim_id}")
    ben.get_by_role("button", name="Take", exact=True).click()
    ben.get_by_text("You took this claim.").wait_for()
    ana.get_by_role("button", name="Not check-worthy").click()
    refusal = ana.locator("section.refusal")
    refusal.get_by_role("heading", name="What changed since you read it").wait_for()
    shown = refusal.inner_text()
    assert "(412)" in shown
    assert "claim.taken" in shown
    assert people["ben"].name in shown
    assert "in review" in shown.replace("_", " ")
    accessible(ana)
    with engine.connect() as connection:
        status = connection.scalar(text("SELECT status FROM claims WHERE id = :c"), {"c": claim_id})
    assert status == "in_review"


def test_a_post_without_the_csrf_token_is_refused(open_page, people, article, engine):
    claim_id = _claim_id(engine, article["id"], "Unemployment fell")
    ana = open_page(people["ana"])
    ana.goto(f"/desk/claims/{claim_id}")
    version = ana.locator("input[name=version]").first.input_value()
    response = ana.request.post(f"/desk/claims/{claim_id}/take", form={"version": version})
    assert response.status == 400
    assert "The CSRF token is missing." in response.text()
    with engine.connect() as connection:
        assignee = connection.scalar(
            text("SELECT assignee_id FROM claims WHERE id = :c"), {"c": claim_id}
        )
    assert assignee is None


def test_the_queue_by_keyboard_alone(open_page, people, article, engine):
    ana = open_page(people["ana"])
    rows = ana.locator("tr[data-row] [data-row-link]")
    assert rows.count() >= 2
    ana.keyboard.press("j")
    assert rows.nth(0).evaluate("link => link === document.activeElement")
    ana.keyboard.press("j")
    assert rows.nth(1).evaluate("link => link === document.activeElement")
    ana.keyboard.press("k")
    first = rows.nth(0).inner_text()
    assert rows.nth(0).evaluate("link => link === document.activeElement")
    ana.keyboard.press("t")
    ana.get_by_text(re.compile(r"You took claim \d+\.")).wait_for()
    # The text shows while the page still loads; the keys work once its script has run.
    ana.wait_for_load_state("load")
    ana.keyboard.press("j")
    ana.keyboard.press("Enter")
    ana.wait_for_url(re.compile(r"/desk/claims/\d+$"))
    assert ana.locator("blockquote[data-claim-text]").inner_text() == first
    assert people["ana"].name in ana.locator("[data-assignee]").inner_text()
    # Tab reaches the controls, each with a visible focus ring.
    ana.keyboard.press("Tab")
    outline = ana.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_selecting_text_fills_in_a_missed_claim_and_adds_it(open_page, people, article, engine):
    claim_id = _claim_id(engine, article["id"], "Unemployment fell")
    ana = open_page(people["ana"])
    ana.goto(f"/desk/claims/{claim_id}")
    ana.evaluate(
        """() => {
            const body = document.querySelector('[data-article-body]');
            const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
            let node;
            while ((node = walker.nextNode())) {
                const at = node.data.indexOf('the lowest since 2001');
                if (at >= 0) {
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + 'the lowest since 2001'.length);
                    const selection = window.getSelection();
                    selection.removeAllRanges();
                    selection.addRange(range);
                    body.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
                    return;
                }
            }
        }"""
    )
    start = BODY.index("the lowest since 2001")
    assert ana.locator("#add-start").input_value() == str(start)
    assert ana.locator("#add-end").input_value() == str(start + len("the lowest since 2001"))
    ana.get_by_role("button", name="Add claim").click()
    ana.get_by_text("The claim is added, scored and typed.").wait_for()
    assert ana.locator("blockquote[data-claim-text]").inner_text() == "the lowest since 2001"


def test_every_page_reads_on_a_phone(open_page, people, article, engine):
    claim_id = _claim_id(engine, article["id"], "Unemployment fell")
    ana = open_page(people["ana"], width=375)
    for path in ("/desk/", f"/desk/claims/{claim_id}", f"/desk/articles/{article['id']}"):
        ana.goto(path)
        overflow = ana.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
        accessible(ana)
    ana.goto("/desk/login")  # signed in: sent on to the queue
    ana.context.clear_cookies()
    ana.goto("/desk/login")
    accessible(ana)
    ana.goto("/desk/login/fcl_not-a-link")  # a link's page (spent only by its button)
    accessible(ana)
    ana.get_by_role("button", name="Sign in").click()
    ana.get_by_text("This sign-in link is not valid").wait_for()
    accessible(ana)


def test_offsets_from_a_selection_hold_in_a_body_with_windows_line_breaks(
    open_page, people, client, sessions
):
    """The body's CR LF stays two code points in the page, as in the stored body."""
    body = "Prices rose 5% in May.\r\nWages fell 2% in June.\r\n\r\nRents doubled since 2019."
    article_id = processed(client, sessions, body)
    ana = open_page(people["ana"])
    ana.goto(f"/desk/articles/{article_id}")
    ana.get_by_text("Add a claim the engine missed").click()
    ana.evaluate(
        """() => {
            const body = document.querySelector('[data-article-body]');
            const range = document.createRange();
            range.selectNodeContents(body);
            const text = range.toString();
            const at = text.indexOf('Rents doubled');
            const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
            let node, seen = 0;
            while ((node = walker.nextNode())) {
                if (seen + node.data.length > at) {
                    range.setStart(node, at - seen);
                    range.setEnd(node, at - seen + 'Rents doubled'.length);
                    break;
                }
                seen += node.data.length;
            }
            window.getSelection().removeAllRanges();
            window.getSelection().addRange(range);
            body.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
        }"""
    )
    start = body.index("Rents doubled")
    assert ana.locator("#add-start").input_value() == str(start)
    ana.get_by_role("button", name="Add claim").click()
    ana.get_by_text("The claim is added, scored and typed.").wait_for()
    assert ana.locator("blockquote[data-claim-text]").inner_text() == "Rents doubled"


def test_the_whole_flow_works_without_javascript(open_page, people, article, engine):
    """Take, a verdict with two evidence rows, a missed claim typed in, reviewed, published:
    all with the browser's script turned off."""
    claim_id = _claim_id(engine, article["id"], "Unemployment fell")
    ana = open_page(people["ana"], script=False)
    ana.goto(f"/desk/claims/{claim_id}")
    ana.get_by_role("button", name="Take", exact=True).click()
    ana.get_by_text("You took this claim.").wait_for()
    ana.get_by_label("Rating", exact=True).select_option("false")
    ana.get_by_label("Summary", exact=True).fill("It was 4.4%.")
    ana.locator("#evidence-0-url").fill("https://stats.example.gov/a")
    ana.locator("#evidence-2-url").fill("https://stats.example.gov/b")
    assert ana.get_by_role("button", name="Add another evidence row").count() == 0
    ana.get_by_role("button", name="Add verdict").click()
    ana.get_by_text("Your verdict is added.").wait_for()
    assert ana.locator("table.evidence a").count() == 2
    ana.get_by_text("Add a claim the engine missed").click()
    ana.locator("#add-quote").fill("the lowest since 2001")
    ana.get_by_role("button", name="Add claim").click()
    ana.get_by_text("The claim is added, scored and typed.").wait_for()
    ana.goto(f"/desk/claims/{claim_id}")
    ana.get_by_role("button", name="Mark reviewed").click()
    ana.get_by_text("The claim is now reviewed.").wait_for()
    eve = open_page(people["eve"], script=False)
    eve.goto(f"/desk/claims/{claim_id}")
    eve.get_by_role("button", name="Publish this verdict").click()
    eve.get_by_text("Published.").wait_for()
