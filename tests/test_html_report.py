"""The HTML report: escaping and structure (plain tests), interaction in headless Chromium
(``browser`` mark), and one run through the real CLI once the pipeline is there."""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest

from nli_check.report.html import render
from nli_check.types import CheckResult, CheckSettings, Document, Finding, Sentence

# --------------------------------------------------------------------------- a small case

DRAFT = (
    "Russia is pulling its troops back from the Ukrainian border, Moscow announced on Tuesday. "
    "A video released by the Kremlin shows tanks leaving Crimea.\n"
    "\n"
    "European markets rose on the news. Nato says Ukraine's membership is up for negotiation.\n"
    "The alliance says it is still prepared for dialogue. Talks resume next week."
)
ARTICLE = (
    "It's not the result Vladimir Putin would have wanted. Jens Stoltenberg, Nato's "
    "secretary-general, said the alliance is considering sending new battlegroups to member "
    "states in south-east Europe. He added that Nato was still \u201cprepared for dialogue\u201d.\n"
    "Moscow said it was withdrawing some forces from the border and a video released by the "
    "Kremlin today appears to show tanks and military personnel leaving annexed Crimea.\n"
    "European stocks rose on the news. But Ben Wallace, the defence secretary, said he had seen "
    "no evidence of withdrawal and that Russian troops are moving into \u201cmore aggressive "
    "launch areas\u201d. Stoltenberg said he saw \u201cno signs of de-escalation on the "
    "ground\u201d.\n"
    "Kiev has insisted Nato membership isn't up for negotiation."
)
STATEMENT = (
    "Units of the Southern and Western military districts have completed exercises and are "
    "returning to their bases, the Russian defence ministry said."
)
SETTINGS = CheckSettings(
    model="models/nli-minilm-calibrated",
    embedding_model="all-MiniLM-L6-v2",
    device="cpu",
    top_k=3,
    min_similarity=0.3,
    threshold=0.5,
    show="contradiction,entailment,neutral",
)


def sentence(doc: Document, text: str, index: int = 0, **kw) -> Sentence:
    start = doc.text.index(text)
    return Sentence(
        text=text, source=doc.name, start=start, end=start + len(text), index=index, **kw
    )


def finding(claim, evidence, label, confidence, similarity, view="sentence") -> Finding:
    rest = (1.0 - confidence) / 2
    probs = {k: rest for k in ("contradiction", "entailment", "neutral")}
    probs[label] = confidence
    return Finding(claim, evidence, label, confidence, similarity, probs, view)


def seed_case() -> CheckResult:
    draft = Document("draft.txt", DRAFT)
    article = Document("guardian-2022-02-16.txt", ARTICLE, date="2022-02-16")
    statement = Document("mod-statement.txt", STATEMENT)
    c_withdraw = sentence(
        draft,
        "Russia is pulling its troops back from the Ukrainian border, Moscow announced on Tuesday.",
        0,
        speaker="Moscow",
        cue="announced",
        content="Russia is pulling its troops back from the Ukrainian border",
    )
    c_video = sentence(draft, "A video released by the Kremlin shows tanks leaving Crimea.", 1)
    c_markets = sentence(draft, "European markets rose on the news.", 2)
    c_nato = sentence(
        draft, "Nato says Ukraine's membership is up for negotiation.", 3, speaker="Nato"
    )
    c_dialogue = sentence(draft, "The alliance says it is still prepared for dialogue.", 4)
    e_wallace = sentence(
        article,
        "But Ben Wallace, the defence secretary, said he had seen no evidence of withdrawal "
        "and that Russian troops are moving into \u201cmore aggressive launch areas\u201d.",
        5,
        speaker="Ben Wallace",
        cue="said he had seen no evidence of",
        content="Russian troops are withdrawing",
        polarity=-1,
    )
    e_stoltenberg = sentence(
        article,
        "Stoltenberg said he saw \u201cno signs of de-escalation on the ground\u201d.",
        6,
        speaker="Stoltenberg",
        cue="said he saw",
    )
    e_moscow = sentence(
        article,
        "Moscow said it was withdrawing some forces from the border and a video released by the "
        "Kremlin today appears to show tanks and military personnel leaving annexed Crimea.",
        3,
        speaker="Moscow",
        cue="said",
    )
    e_stocks = sentence(article, "European stocks rose on the news.", 4)
    e_kiev = sentence(
        article,
        "Kiev has insisted Nato membership isn't up for negotiation.",
        7,
        speaker="Kiev",
        cue="has insisted",
    )
    e_dialogue = sentence(
        article, "He added that Nato was still \u201cprepared for dialogue\u201d.", 2
    )
    e_battle = sentence(
        article,
        "Jens Stoltenberg, Nato's secretary-general, said the alliance is considering sending new "
        "battlegroups to member states in south-east Europe.",
        1,
    )
    e_bases = sentence(statement, STATEMENT, 0, speaker="the Russian defence ministry", cue="said")
    findings = [
        finding(c_withdraw, e_wallace, "contradiction", 0.91, 0.71, view="content"),
        finding(c_withdraw, e_stoltenberg, "contradiction", 0.74, 0.58),
        finding(c_withdraw, e_moscow, "entailment", 0.88, 0.80),
        finding(c_withdraw, e_bases, "entailment", 0.66, 0.52),
        finding(c_video, e_moscow, "entailment", 0.82, 0.77),
        finding(c_markets, e_stocks, "entailment", 0.95, 0.93),
        finding(c_nato, e_kiev, "contradiction", 0.62, 0.69),
        finding(c_nato, e_battle, "neutral", 0.55, 0.41),
        finding(c_dialogue, e_dialogue, "entailment", 0.40, 0.74),
        finding(c_dialogue, e_battle, "neutral", 0.50, 0.45),
    ]
    sentences = [c_withdraw, c_video, c_markets, c_nato, c_dialogue]
    return CheckResult(
        claim_documents=[draft],
        evidence=[article, statement],
        findings=findings,
        settings=SETTINGS,
        created="2022-02-16T14:05:00+00:00",
        pairs_compared=18,
        sentences=sentences,
    )


HOSTILE_BITS = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    '"><svg onload="window.__pwned=1">',
    '\'><iframe src="javascript:window.__pwned=1"></iframe>',
    "</textarea><textarea>",
    "</script><script>window.__pwned=1</script>",
    '<link rel="stylesheet" href="https://example.com/x.css">',
    '<img src="https://example.com/beacon.png">',
    "&lt;entity&gt; &amp;",
]
ODD = (
    "RTL\u202eevil\u202c zero\u200bwidth e\u0301moji \U0001f469\u200d\U0001f52c line\u2028sep\u2029"
)


def hostile_case() -> CheckResult:
    name = '"><img src=x onerror="window.__pwned=1">.txt'
    claim_text = "Claim: " + HOSTILE_BITS[0] + " is " + HOSTILE_BITS[1] + "."
    draft_text = (
        "Intro "
        + ODD
        + " "
        + HOSTILE_BITS[2]
        + "\n"
        + claim_text
        + " "
        + " ".join(HOSTILE_BITS[3:])
    )
    draft = Document(name, draft_text, date="<b>2022</b>")
    src_text = "Source says " + HOSTILE_BITS[5] + " and " + ODD + "."
    source = Document("</script><script>window.__pwned=1</script>", src_text)
    claim = sentence(
        draft,
        claim_text,
        0,
        speaker='"><script>window.__pwned=1</script>',
        cue="<i onmouseover=window.__pwned=1>said</i>",
    )
    evidence = sentence(
        source,
        src_text,
        0,
        speaker="</textarea>",
        cue="'\"",
        content="<script>window.__pwned=1</script>",
    )
    settings = CheckSettings(
        model="<script>window.__pwned=1</script>",
        embedding_model='"onload="x',
        device="cpu",
        top_k=1,
        min_similarity=0.0,
        threshold=0.5,
        show="all",
    )
    f = Finding(
        claim,
        evidence,
        "contradiction",
        0.9,
        0.5,
        {"contradiction": 0.9, "<b>x</b>": 0.1},
        view="content",
    )
    return CheckResult(
        [draft], [source], [f], settings, "<script>window.__pwned=1</script>", 1, [claim]
    )


# --------------------------------------------------------------------------- plain tests


def test_render_is_one_self_contained_page():
    page = render(seed_case())
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<script") == 1
    assert "<link" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_highlights_wrap_exactly_the_claim_text():
    result = seed_case()
    page = render(result)
    marks = re.findall(r"<mark ([^>]*\bfirst\b[^>]*)>(.*?)</mark>", page)
    by_text = {html.unescape(text): attrs for attrs, text in marks}
    for s in result.sentences:
        assert s.text in by_text, s.text
    assert 'data-label="contradiction"' in by_text[result.sentences[0].text]
    assert "mixed" in by_text[result.sentences[0].text]
    assert 'data-label="entailment"' in by_text[result.sentences[2].text]
    assert 'data-badge="\u2713 95%"' in by_text[result.sentences[2].text]


def test_paragraphs_are_preserved_and_text_is_otherwise_untouched():
    page = render(seed_case())
    draft = page.split('id="draft-doc-1"')[1].split("</section>")[0]
    paragraphs = re.findall(r"<p>(.*?)</p>", draft, flags=re.S)
    assert len(paragraphs) == 3
    plain = [html.unescape(re.sub(r"<[^>]+>", "", p)) for p in paragraphs]
    assert plain == [line for line in DRAFT.split("\n") if line]


def test_a_claim_across_a_line_break_is_split_into_pieces():
    doc = Document("d", "First line starts here\nand ends here. Next.")
    claim = sentence(doc, "First line starts here\nand ends here.")
    ev_doc = Document("e", "Evidence.")
    f = Finding(claim, sentence(ev_doc, "Evidence."), "contradiction", 0.8, 0.6)
    page = render(CheckResult([doc], [ev_doc], [f], SETTINGS, "now"))
    pieces = re.findall(r'<mark class="([^"]*)"[^>]*data-claim="1"', page)
    assert len(pieces) == 2
    assert "first" in pieces[0] and "last" not in pieces[0]
    assert "last" in pieces[1] and "first" not in pieces[1]
    assert page.count('id="claim-1"') == 1


def test_wrong_offsets_fall_back_to_the_text_and_unlocated_claims_are_listed():
    doc = Document("d", "Alpha beta. Gamma delta.")
    shifted = Sentence("Gamma delta.", "d", 0, 5, 1)  # offsets wrong, text findable
    missing = Sentence("Not in the text.", "d", 0, 3, 2)
    ev_doc = Document("e", "Evidence.")
    ev = sentence(ev_doc, "Evidence.")
    result = CheckResult(
        [doc],
        [ev_doc],
        [
            Finding(shifted, ev, "entailment", 0.7, 0.5),
            Finding(missing, ev, "contradiction", 0.7, 0.5),
        ],
        SETTINGS,
        "now",
    )
    page = render(result)
    assert re.search(r"<mark [^>]*>Gamma delta\.</mark>", page)
    assert "Claims not located in the draft text" in page
    assert "Not in the text." in page


def test_hostile_input_is_escaped_everywhere():
    page = render(hostile_case())
    assert page.count("<script") == 1  # only the report's own script
    for bad in ("<img", "<svg", "<iframe", "<textarea", "</textarea", "<i ", "<b>", "<link"):
        assert bad not in page
    assert page.count("</script>") == 1
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "&amp;lt;entity&amp;gt; &amp;amp;" in page
    # Bidi overrides are shown, not applied.
    assert "\u202e" not in page and "U+202E" in page
    # Every attribute value is a closed, quoted string: no quote from the input escapes.
    for tag in re.findall(r"<[a-z][^<>]*>", page):
        assert tag.count('"') % 2 == 0, tag


def test_unwritable_characters_become_replacement_characters():
    doc = Document("d", "Lone \ud800 surrogate and \x00 nul and \x1b escape. Fine.")
    claim = Sentence(doc.text[:-6], "d", 0, len(doc.text) - 6, 0)
    ev_doc = Document("e", "Evidence.")
    f = Finding(claim, sentence(ev_doc, "Evidence."), "neutral", 0.5, 0.5)
    page = render(CheckResult([doc], [ev_doc], [f], SETTINGS, "now"))
    page.encode("utf-8")  # would raise on a lone surrogate
    assert "\x00" not in page and "\x1b" not in page
    assert "Lone \ufffd surrogate" in page


def test_csp_allows_exactly_the_report_script():
    import base64
    import hashlib

    page = render(seed_case())
    script = re.search(r"<script>(.*?)</script>", page, flags=re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1)
    assert "default-src 'none'" in csp
    assert f"script-src 'sha256-{digest}'" in csp


def test_an_empty_result_renders():
    page = render(CheckResult([Document("d", "")], [], [], SETTINGS, "now"))
    assert "nothing is highlighted" in page
    assert "(empty document)" in page


# --------------------------------------------------------------------------- the browser

def _screenshot_script():
    """scripts/screenshot_report.py, whose Chromium flags the browser tests use too."""
    spec = importlib.util.spec_from_file_location(
        "screenshot_report", Path(__file__).resolve().parent.parent / "scripts" / "screenshot_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHROMIUM_ARGS = _screenshot_script().CHROMIUM_ARGS
CHROMIUM = os.environ.get("NLI_CHECK_CHROMIUM") or shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
if CHROMIUM and not Path(CHROMIUM).exists():
    CHROMIUM = None


def _no_browser(reason: str):
    """Skip on a developer's machine; on CI (``CI=true``) a missing browser fails the test."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    if importlib.util.find_spec("playwright") is None:
        _no_browser("playwright is not installed: run scripts/install-browser.sh")
    if CHROMIUM is None:
        _no_browser("no chromium binary on PATH or at /usr/bin/chromium: run scripts/install-browser.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Page:
    """A report opened from a file, with every non-file request aborted and recorded."""

    def __init__(self, browser, path: Path):
        self.context = browser.new_context(
            viewport={"width": 1400, "height": 900}, service_workers="block"
        )
        self.blocked: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []

        def route(r):
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("request", lambda req: self.requests.append(req.url))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def labels(self) -> dict[str, str]:
        return self.page.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('mark.claim.first')]
                 .map(m => [m.textContent, m.getAttribute('data-label')]))"""
        )

    def set_min_confidence(self, percent: int) -> None:
        slider = self.page.locator("#min-confidence")
        slider.focus()
        slider.press("Home")
        for _ in range(percent):
            slider.press("ArrowRight")


@pytest.fixture
def open_report_file(browser):
    pages = []

    def _open(path: Path) -> Page:
        pages.append(Page(browser, path))
        return pages[-1]

    yield _open
    for p in pages:
        assert p.blocked == [], f"the report tried to reach the network: {p.blocked}"
        assert all(url.startswith("file://") for url in p.requests), p.requests
        assert p.errors == [], f"script errors in the page: {p.errors}"
        p.context.close()


@pytest.fixture
def open_report(open_report_file, tmp_path):
    count = iter(range(1000))

    def _open(result: CheckResult) -> Page:
        path = tmp_path / f"report{next(count)}.html"
        path.write_text(render(result), encoding="utf-8")
        return open_report_file(path)

    return _open


CLAIMS = {s.text: s for s in seed_case().sentences}
WITHDRAW, VIDEO, MARKETS, NATO, DIALOGUE = CLAIMS


@pytest.mark.browser
def test_highlighted_claims_carry_their_labels(open_report):
    r = open_report(seed_case())
    assert r.labels() == {
        WITHDRAW: "contradiction",
        VIDEO: "entailment",
        MARKETS: "entailment",
        NATO: "contradiction",
        DIALOGUE: "entailment",
    }
    first = r.page.locator("mark.claim.first", has_text=WITHDRAW)
    badge = first.evaluate("m => getComputedStyle(m, '::after').content")
    assert badge == '"\u2717 91%"'
    red = r.page.locator("mark.claim.first", has_text=NATO).evaluate(
        "m => getComputedStyle(m).backgroundColor"
    )
    green = r.page.locator("mark.claim.first", has_text=MARKETS).evaluate(
        "m => getComputedStyle(m).backgroundColor"
    )
    assert red.startswith("rgba(200, 40, 44") and green.startswith("rgba(22, 128, 84")
    assert r.page.locator(".tile.is-contradiction .num").inner_text() == "2"
    assert r.page.locator(".tile.is-entailment .num").inner_text() == "3"
    assert "models/nli-minilm-calibrated" in r.page.locator(".settings").inner_text()
    assert "16 Feb 2022, 14:05 UTC" in r.page.locator(".run").inner_text()


@pytest.mark.browser
def test_clicking_a_claim_shows_its_evidence_and_links_to_the_source(open_report):
    r = open_report(seed_case())
    page = r.page
    card = page.locator("#card-1")
    assert not card.is_visible()
    page.locator("mark.claim.first", has_text=WITHDRAW).click()
    assert card.is_visible()
    text = card.inner_text()
    assert "said he had seen no evidence of withdrawal" in text
    assert "guardian-2022-02-16.txt" in text and "mod-statement.txt" in text
    assert "Ben Wallace" in text and "denial" in text.lower()
    assert "91%" in text and "similarity 0.71" in text
    assert "Judged on what is reported" in text
    groups = card.locator(".group-title").all_inner_texts()
    assert [g.split()[0].upper() for g in groups] == ["CONTRADICTED", "SUPPORTED"]
    # The link scrolls to the sentence in its source.
    target_id = card.locator(".finding").first.locator("a.goto").get_attribute("href")[1:]
    target = page.locator(f"#{target_id}")
    assert "no evidence of withdrawal" in target.inner_text()
    assert not _in_viewport(target)
    card.locator(".finding").first.locator("a.goto").click()
    page.wait_for_function(f"location.hash === '#{target_id}'")
    assert _in_viewport(target)
    # Clicking another claim swaps the card; only one is open.
    page.locator("mark.claim.first", has_text=MARKETS).click()
    assert page.locator(".card.open").count() == 1
    assert "European stocks rose" in page.locator(".card.open").inner_text()


def _in_viewport(locator) -> bool:
    return locator.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )


@pytest.mark.browser
def test_claims_are_reachable_and_usable_from_the_keyboard(open_report):
    r = open_report(seed_case())
    page = r.page
    page.locator("body").focus()
    for _ in range(12):  # tab past the filters to the first claim
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('mark.claim')"):
            break
    assert page.evaluate("document.activeElement.textContent") == WITHDRAW
    page.keyboard.press("Enter")
    assert page.locator("#card-1").is_visible()
    assert page.evaluate("document.activeElement.getAttribute('aria-expanded')") == "true"
    page.keyboard.press("Escape")
    assert not page.locator("#card-1").is_visible()
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert VIDEO in page.locator(".card.open").inner_text()


@pytest.mark.browser
def test_minimum_confidence_hides_low_confidence_items(open_report):
    r = open_report(seed_case())
    page = r.page
    page.locator("mark.claim.first", has_text=WITHDRAW).click()
    r.set_min_confidence(70)
    assert page.locator("#min-confidence-value").inner_text() == "70%"
    labels = r.labels()
    assert labels[WITHDRAW] == "contradiction"
    assert labels[NATO] == ""  # its contradiction (62%) and neutral (55%) are below 70%
    assert labels[DIALOGUE] == ""
    assert labels[MARKETS] == "entailment"
    assert page.locator("mark.claim.first", has_text=NATO).get_attribute("tabindex") == "-1"
    card = page.locator("#card-1")
    visible = [f for f in card.locator(".finding").all() if f.is_visible()]
    assert len(visible) == 3  # 91%, 74%, 88%; 66% hidden
    assert "mod-statement.txt" not in card.inner_text()
    assert page.locator("#filter-status").inner_text() == "Showing 5 of 10 findings on 3 claims."
    r.set_min_confidence(92)
    assert r.labels()[WITHDRAW] == ""
    assert card.locator(".all-hidden").is_visible()


@pytest.mark.browser
def test_label_filter(open_report):
    r = open_report(seed_case())
    page = r.page
    page.locator("input[name=label][value=contradiction]").uncheck()
    labels = r.labels()
    assert labels[WITHDRAW] == "entailment"  # its support shows once contradictions are hidden
    assert labels[NATO] == "neutral"
    assert page.locator(".ev.is-contradiction").count() == 0
    page.locator("mark.claim.first", has_text=WITHDRAW).click()
    assert page.locator("#card-1 .group[data-group=contradiction]").is_hidden()
    assert page.locator("#card-1 .group[data-group=entailment]").is_visible()
    page.locator("input[name=label][value=entailment]").uncheck()
    page.locator("input[name=label][value=neutral]").uncheck()
    assert set(r.labels().values()) == {""}
    page.locator("input[name=label][value=contradiction]").check()
    assert r.labels()[NATO] == "contradiction"


@pytest.mark.browser
def test_hostile_documents_run_nothing_and_show_as_text(open_report):
    r = open_report(hostile_case())
    page = r.page
    page.locator("mark.claim.first").click()
    page.locator("mark.claim.first").hover()
    page.wait_for_timeout(100)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.scripts.length") == 1
    assert (
        page.evaluate("document.querySelectorAll('img, svg, iframe, textarea, link, b, i').length")
        == 0
    )
    with_handlers = page.evaluate(
        "[...document.querySelectorAll('*')].filter(e => [...e.attributes]"
        ".some(a => a.name.startsWith('on'))).length"
    )
    assert with_handlers == 0
    body = page.locator("body").inner_text()
    for bit in HOSTILE_BITS:
        assert bit in body, bit
    assert '"><img src=x onerror="window.__pwned=1">.txt' in page.locator("h1").inner_text()
    assert "U+202E" in body and "\U0001f469\u200d\U0001f52c" in body
    assert page.title() == 'nli-check report \u2014 "><img src=x onerror="window.__pwned=1">.txt'
    card = page.locator(".card.open").inner_text()
    assert '"><script>window.__pwned=1</script>' in card  # the claim's speaker
    assert "</textarea>" in card  # the evidence's speaker


# --------------------------------------------------------------------------- the pipeline


@pytest.mark.slow
@pytest.mark.browser
def test_a_real_check_renders_and_opens(tiny_model, tmp_path, open_report):
    from nli_check.pipeline import check

    result = check(
        [Document("draft.txt", DRAFT)],
        [Document("guardian.txt", ARTICLE), Document("mod.txt", STATEMENT)],
        model=tiny_model,
        device="cpu",
        show="all",
        threshold=0.0,
        min_similarity=0.0,
        top_k=2,
    )
    assert result.findings
    page = render(result)
    # Every claim and evidence sentence was located by its offsets.
    assert "not located" not in page.split('<aside class="panel"')[0]
    assert "Claims not located" not in page
    r = open_report(result)
    claims = {f.claim.text for f in result.findings}
    labels = r.labels()
    assert set(labels) == claims
    for text, label in labels.items():
        expected = {f.label for f in result.findings if f.claim.text == text}
        assert label == next(x for x in ("contradiction", "entailment", "neutral") if x in expected)
    r.page.locator("mark.claim.first").first.click()
    assert r.page.locator(".card.open .finding").count() >= 1


# --------------------------------------------------------------------------- the CLI


@pytest.mark.slow
@pytest.mark.browser
def test_cli_writes_an_html_report(tiny_model_dir, tmp_path, open_report_file):
    from click.testing import CliRunner

    from nli_check.cli import cli

    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT, encoding="utf-8")
    source = tmp_path / "source.txt"
    source.write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "report.html"
    args = ["check", str(draft), "-e", str(source), "--model", str(tiny_model_dir)]
    args += ["--device", "cpu", "--show", "all", "--threshold", "0", "--min-similarity", "0"]
    args += ["--format", "html", "--output", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # the report went to the file
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Claims not located" not in page
    r = open_report_file(out)
    assert r.page.locator("h1").inner_text() == "draft.txt"
    assert r.page.locator("mark.claim.first").count() >= 1
    assert html.escape(str(tiny_model_dir)) in page


# --------------------------------------------------------------------------- claim verdicts

TALKS = "Talks resume next week."


def verdict_case(listed: tuple[str, ...] = ("contradiction", "entailment", "neutral")) -> CheckResult:
    """The seed case with a verdict per claim, one more claim that no evidence speaks to, and
    only the findings whose label is in ``listed``."""
    from dataclasses import replace

    from nli_check.verdicts import claim_verdicts

    base = seed_case()
    draft = base.claim_documents[0]
    talks = sentence(draft, TALKS, 5)
    claims = claim_verdicts([*base.sentences, talks], base.findings, threshold=0.5)
    return replace(base, findings=[f for f in base.findings if f.label in listed], claims=claims)


def test_verdict_summary_and_unverified_claims_in_the_markup():
    page = render(verdict_case())
    for name, n in (("contradicted", 1), ("disputed", 1), ("supported", 2), ("unclear", 1), ("no evidence", 1)):
        assert re.search(rf'data-verdict="{name}"[^>]*><span class="num">{n}</span>', page), name
    assert re.search(rf'<span class="verdict v-none last" data-verdict="no evidence"[^>]*>{TALKS}</span>', page)


@pytest.mark.browser
def test_verdicts_in_the_browser_unverified_apart_from_neutral(open_report):
    r = open_report(verdict_case())
    page = r.page
    tiles = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.verdict-tile')]
             .map(t => [t.getAttribute('data-verdict'), t.querySelector('.num').textContent]))"""
    )
    assert tiles == {"contradicted": "1", "disputed": "1", "supported": "2", "unclear": "1", "no evidence": "1"}
    unverified = page.locator("span.verdict", has_text=TALKS)
    assert unverified.is_visible()
    assert unverified.get_attribute("data-verdict") == "no evidence"
    assert unverified.evaluate("m => getComputedStyle(m, '::after').content") == '"?"'
    neutral = page.locator("mark.claim.first", has_text=DIALOGUE)
    assert neutral.get_attribute("data-verdict") == "unclear"

    def look(locator):
        return locator.evaluate(
            "m => { const s = getComputedStyle(m); return [s.backgroundColor, s.borderBottomStyle]; }"
        )

    assert look(unverified) != look(neutral)
    assert look(unverified)[1] == "dashed"
    # The unverified claim opens nothing; a highlighted claim's card names its verdict.
    unverified.click()
    assert page.locator(".card.open").count() == 0
    page.locator("mark.claim.first", has_text=WITHDRAW).click()
    assert page.locator(".card.open .card-verdict").inner_text().lower().startswith("disputed 88%")


@pytest.mark.browser
def test_unclear_claims_without_listed_findings_are_marked_apart_from_unverified(open_report):
    r = open_report(verdict_case(listed=("contradiction",)))
    page = r.page
    unclear = page.locator("span.verdict", has_text=DIALOGUE)
    unverified = page.locator("span.verdict", has_text=TALKS)
    assert unclear.get_attribute("data-verdict") == "unclear"
    assert unverified.get_attribute("data-verdict") == "no evidence"
    styles = [
        loc.evaluate("m => { const s = getComputedStyle(m); return [s.backgroundColor, s.borderBottomStyle]; }")
        for loc in (unclear, unverified)
    ]
    assert styles[0] == ["rgba(0, 0, 0, 0)", "dotted"]
    assert styles[1][1] == "dashed" and styles[1][0] != styles[0][0]
    # Contradicted claims stay interactive highlights.
    assert page.locator("mark.claim.first", has_text=NATO).get_attribute("data-verdict") == "contradicted"
