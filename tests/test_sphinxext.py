"""sphinxext: the root redirect page names the favicon, so browsers do not ask for /favicon.ico."""

from types import SimpleNamespace

from vaelab.book import sphinxext


def test_root_redirect_points_at_the_root_document_and_the_favicon():
    html = sphinxext.root_redirect("book/intro", "book/favicon.svg")
    assert '<meta http-equiv="refresh" content="0; url=book/intro.html">' in html
    assert '<link rel="icon" href="_static/favicon.svg">' in html
    assert '<a href="book/intro.html">' in html


def test_the_redirect_is_written_only_when_the_root_has_no_index(tmp_path):
    config = SimpleNamespace(root_doc="book/intro", html_favicon="book/favicon.svg")
    app = SimpleNamespace(
        outdir=str(tmp_path), config=config, builder=SimpleNamespace(format="html")
    )
    sphinxext._write_root_redirect(app, None)
    assert "book/intro.html" in (tmp_path / "index.html").read_text()
    (tmp_path / "index.html").write_text("mine")
    sphinxext._write_root_redirect(app, None)
    assert (tmp_path / "index.html").read_text() == "mine"
