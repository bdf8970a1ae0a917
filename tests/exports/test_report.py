"""The HTML report (aetui report): one file that stands alone, read back as a browser would read it:
every image embedded and decodable, no script, nothing fetched; in headless chromium it renders
with no console errors, every image has a natural width, and it prints to PDF."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

import aetui
from aetui.cli.main import main
from aetui.exports.film import plan_film
from aetui.exports.report import FILM_FRAMES, sessions_report, study_report
from aetui.model.config import TrainConfig
from aetui.sessions.store import SessionStore
from aetui.study.transfer import TransferPlan, run_transfer


class Page(HTMLParser):
    """The tags of a page that matter here."""

    def __init__(self, text: str):
        super().__init__()
        self.images: list[dict] = []
        self.scripts = 0
        self.links: list[str] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs)
        elif tag == "script":
            self.scripts += 1
        elif tag in ("a", "link"):
            self.links.append(attrs.get("href", ""))

    def handle_data(self, data):
        self.text.append(data)


def decoded(uri: str) -> tuple[str, bytes]:
    head, data = uri.split(",", 1)
    assert head.startswith("data:") and head.endswith(";base64")
    return head[5:-7], base64.b64decode(data)


@pytest.fixture(scope="module")
def run(recorded):
    return aetui.open_session("run", sessions_dir=recorded.root)


@pytest.fixture(scope="module")
def session_page(run) -> str:
    return sessions_report([run])


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    store = SessionStore(tmp_path_factory.mktemp("study"))
    run_transfer(store, TransferPlan(samples=2_000, prefix="t", config=TrainConfig(data="bars8", hidden=16).validated()))
    return aetui.open_study("t", sessions_dir=store.root)


def test_every_image_is_embedded_and_decodes(run, session_page):
    page = Page(session_page)
    assert page.scripts == 0 and all(link.startswith("#") for link in page.links)
    kinds = [decoded(img["src"])[0] for img in page.images]
    assert kinds == ["image/svg+xml", "image/svg+xml", "image/png", "image/webp"]  # loss, bias, strip, film
    for img in page.images:
        mime, data = decoded(img["src"])
        if mime == "image/svg+xml":
            assert data.lstrip().startswith((b"<?xml", b"<svg")) and b'href="http' not in data
            continue
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            if mime == "image/webp":
                assert im.n_frames == plan_film(run, max_frames=FILM_FRAMES).frames == min(FILM_FRAMES, len(run.snapshots))


def test_it_holds_the_lineage_events_and_config(run, session_page):
    text = " ".join(Page(session_page).text)
    assert "run: sigmoid > relu x0.1" in text
    for e in run.events:
        assert e["kind"] in text
    assert "snapshot snap1" in text  # the relu segment's weights came from snap1
    assert "bars8" in text and "4,200 samples" in text


def test_the_film_has_at_most_its_frames_period_and_user_ones_first(run):
    plan = plan_film(run, max_frames=FILM_FRAMES)
    named = [s.name for s in run.snapshots if s.kind != "thin"]
    assert [s.name for s in plan.snapshots if s.kind != "thin"] == named
    assert [s.samples for s in plan.snapshots] == sorted(s.samples for s in plan.snapshots)


def test_a_study_report_has_its_table_claims_and_strip(study):
    text = study_report(study, film=False)
    page = Page(text)
    words = " ".join(page.text)
    for claim in study.claims:
        assert claim["statement"] in words and claim["verdict"] in words
    for c in study.conditions:
        assert c["condition"] in words
    assert "The transfer strip" in words
    assert len(page.images) == 1 + 3 * len(study.runs)  # the transfer strip; each run's charts and strip


def test_the_command_writes_one_file(recorded, tmp_path, capsys):
    out = tmp_path / "r.html"
    code = main(["report", "run", "untied", "--sessions-dir", str(recorded.root), "--html", str(out), "--no-film"])
    assert code == 0 and capsys.readouterr().out.strip() == str(out)
    page = Page(out.read_text())
    assert len(page.images) == 6 and page.links == ["#run", "#untied"]
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    for argv in (["--html", str(tmp_path / "x.html")], ["run", "--study", "t", "--html", str(tmp_path / "x.html")]):
        code = main(["report", *argv, "--sessions-dir", str(recorded.root)])
        err = capsys.readouterr().err
        assert code == 2 and "NAMEs or --study" in err
    assert not (tmp_path / "x.html").exists()


# -- in a real browser ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    from tests.web.browser import Browser, missing_browser

    why = missing_browser()
    if why:
        pytest.skip(why)
    b = Browser()
    yield b
    b.close()


def open_offline(browser, path):
    """The file in a new page with every request that is not the file itself or a data: URI refused
    (and counted), and the console's errors kept."""
    page = browser.context.new_page()
    errors, fetched = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        url = r.request.url
        if url.startswith(("data:", path.as_uri())):
            r.continue_()
        else:
            fetched.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load", timeout=60_000)
    return page, errors, fetched


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["session", "study"])
def test_it_renders_offline_in_chromium(browser, session_page, study, tmp_path, kind):
    from tests.web.browser import keep_screenshot

    path = tmp_path / f"report-{kind}.html"
    path.write_text(session_page if kind == "session" else study_report(study))
    page, errors, fetched = open_offline(browser, path)
    try:
        images = page.evaluate("""() => Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.alt])""")
        assert images and all(done and width > 0 for done, width, _ in images), images
        assert errors == [] and fetched == []
        assert any("film" in alt for *_, alt in images)
        keep_screenshot(page, tmp_path, f"report-{kind}")
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    finally:
        page.close()


def test_tiles_in_the_embedded_strip_are_the_weights(run, session_page):
    from aetui.exports.strip import StripLayout, record_strip
    from aetui.study.pictures import diverging_rgb

    strip = next(decoded(i["src"])[1] for i in Page(session_page).images if i["alt"].startswith("strip"))
    _, units, cols = record_strip(run)
    layout = StripLayout(len(units), tuple(cols), run.image_shape, title=True)
    img = np.asarray(Image.open(io.BytesIO(strip)).convert("RGB"))
    W = cols[-1].snapshot.weights()["W"]
    x, y = layout.tile_origin(0, len(cols) - 1)
    h, w = layout.tile
    want = diverging_rgb(W[units[0]] / np.abs(W[units[0]]).max()).reshape(*run.image_shape, 3).repeat(2, 0).repeat(2, 1)
    np.testing.assert_array_equal(img[y:y + h, x:x + w], want)


def test_the_command_writes_a_study(study, tmp_path, capsys):
    out = tmp_path / "study.html"
    code = main(["report", "--study", "t", "--sessions-dir", str(study.sessions_dir), "--html", str(out), "--no-film"])
    assert code == 0, capsys.readouterr().err
    words = " ".join(Page(out.read_text()).text)
    assert "the study t" in words and all(c["verdict"] in words for c in study.claims)
