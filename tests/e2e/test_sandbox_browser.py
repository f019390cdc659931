"""The sandbox played in real headless Chromium: a check-in through the modal as the owner, a gate
approved as the sponsor, the clock played forward to the digest, and the digest read in its channel.

Runs the README's run command (`python -m bot`, no Slack token) as a process and drives Debian's
Chromium with Playwright. Screenshots of each step go to `test-output/sandbox/` (or
$SANDBOX_SCREENSHOTS). Skipped, saying why, where Chromium or Playwright is missing; `.ci/run`
installs both.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
OWNER, SPONSOR, FINANCE = "U0OLIVIA", "U0SAM", "U0FRIDA"

try:
    from playwright.sync_api import Page, expect, sync_playwright
except ImportError:  # pragma: no cover - the dev extra installs it
    sync_playwright = None  # type: ignore[assignment]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium here (Debian: apt-get install chromium)"),
    pytest.mark.skipif(sync_playwright is None, reason="Playwright is not installed (pip install -e '.[dev]')"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    port, page_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "PACEKEEPER_"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'sandbox.db'}", PORT=str(port), SANDBOX_PORT=str(page_port),
               PYTHONPATH=str(ROOT))  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 90
    for line in process.stdout:
        if "Pacekeeper sandbox: open" in line or time.monotonic() > deadline:
            break
    assert process.poll() is None, "the sandbox did not start"
    try:
        yield f"http://127.0.0.1:{page_port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def shots() -> Path:
    folder = Path(os.environ.get("SANDBOX_SCREENSHOTS") or ROOT / "test-output" / "sandbox")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(sandbox_url: str) -> Iterator[Page]:
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, base_url=sandbox_url)
        yield page
        browser.close()


def test_a_week_of_governance_in_the_browser(page: Page, shots: Path) -> None:
    # The owner's check-in DM is there at start: the demo owners are due this week.
    page.goto(f"/?as={OWNER}&in=dm")
    prompt = page.locator(".msg", has_text="Your check-in").last
    expect(prompt).to_be_visible()
    page.screenshot(path=shots / "1-owner-check-in.png")
    # #ops-weekly is not empty at start: last week's digest is there.
    page.goto(f"/?as={OWNER}&in=C0OPSWEEKLY")
    expect(page.locator(".msg", has_text="Weekly digest · Operations")).to_have_count(1)
    page.goto(f"/?as={OWNER}&in=dm")
    prompt = page.locator(".msg", has_text="Your check-in").last

    # Update… opens the modal; it is filled in and submitted like Slack's.
    prompt.locator("button[data-action='checkin.update']").first.click()
    modal = page.locator("form.modal")
    expect(modal).to_be_visible()
    modal.locator("select[name=status]").select_option("at_risk")
    modal.locator("input[name=forecast_year]").fill("90k")
    modal.locator("textarea[name=blockers]").fill("waiting for the supplier audit")
    page.screenshot(path=shots / "2-check-in-modal.png")
    modal.locator("[data-submit]").click()
    # At risk is worse than on track: the bot asks for a comment, inline, and the modal stays.
    expect(page.locator("[data-error=comment]")).to_be_visible()
    # …keeping what was typed, as Slack does (it once came back blank, and "at risk" was saved as on track).
    expect(page.locator("form.modal select[name=status]")).to_have_value("at_risk")
    expect(page.locator("form.modal textarea[name=blockers]")).to_have_value("waiting for the supplier audit")
    page.locator("form.modal textarea[name=comment]").fill("the audit moved to next month")
    page.locator("form.modal [data-submit]").click()
    expect(page.locator("form.modal")).to_have_count(0)
    expect(page.locator(".msg", has_text="Your check-in").last).to_contain_text("Recorded")
    page.screenshot(path=shots / "3-check-in-recorded.png")

    # The sponsor approves the gate request waiting in their DMs.
    page.goto(f"/?as={SPONSOR}&in=dm")
    approval = page.locator(".msg", has_text="Approval:").first
    expect(approval).to_contain_text("DI3 Decided")
    approval.locator("button[data-action='gate.approve']").click()
    expect(page.locator(".msg", has_text="Approval:").first).to_contain_text("approved")
    page.screenshot(path=shots / "4-gate-approved.png")

    # Play the clock forward to the digest and read it in its channel, with its thread and chart.
    page.locator("button[data-clock=digest]").click()
    expect(page.locator(".notice")).to_contain_text("Played forward")
    page.goto(f"/?as={SPONSOR}&in=C0OPSWEEKLY")
    expect(page.locator(".msg", has_text="Weekly digest · Operations")).to_have_count(2)  # last week's, this one
    digest = page.locator(".msg", has_text="Weekly digest · Operations").last
    expect(digest).to_contain_text("What is in progress?")
    expect(digest).to_contain_text("Value")
    expect(page.locator(".thread").last).to_contain_text("Measures that need attention")
    expect(page.locator(".thread").last.locator("img.file")).to_be_visible()
    expect(page.locator(".feed")).to_contain_text("passed a gate")  # the approval, among what changed
    page.screenshot(path=shots / "5-digest-thread.png")
    digest.screenshot(path=shots / "6-digest-summary.png")

    # App Home to act from: a measure's Open shows its card in a modal.
    page.goto(f"/?as={OWNER}&in=home")
    expect(page.locator(".feed")).to_contain_text("Your measures")
    page.locator("button[data-action='measure.open_card']").first.click()
    expect(page.locator("form.modal")).to_contain_text("Stage")
    page.screenshot(path=shots / "7-card-from-app-home.png")

    # Commercial's own method, from the demo's governance file: a customer segment, and finance signs
    # DI3 after the sponsor. M-16 is Olivia's, in Commercial, at DI2.
    page.locator(".overlay button[formaction='/sandbox/close']").click()  # the card from App Home
    expect(page.locator("form.modal")).to_have_count(0)
    page.goto(f"/?as={OWNER}&in=dm")
    send(page, "/measure show M-16")
    expect(page.locator(".ephemeral").last).to_contain_text("Customer segment")
    send(page, "/measure gate M-16")
    expect(page.locator(".ephemeral").last).to_contain_text("to approve: DI3 for M-16")
    page.goto(f"/?as={SPONSOR}&in=dm")
    asked = page.locator(".msg", has_text="Approval:").filter(has_text="M-16").last
    asked.locator("button[data-action='gate.approve']").click()
    page.goto(f"/?as={FINANCE}&in=dm")
    finance = page.locator(".msg", has_text="Approval:").filter(has_text="M-16").last
    expect(finance).to_contain_text("as approver")
    page.screenshot(path=shots / "8-finance-decides-after-the-sponsor.png")
    finance.locator("button[data-action='gate.approve']").click()
    expect(page.locator(".msg", has_text="Approval:").filter(has_text="M-16").last).to_contain_text("approved")


def send(page: Page, command: str) -> None:
    page.locator("form.cmd input[name=text]").fill(command)
    page.locator("form.cmd button[type=submit]").click()
