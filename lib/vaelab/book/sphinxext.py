"""A Sphinx extension: MathJax served from the built book (math renders offline), no double scripts.

MathJax 3 (`MATHJAX_VERSION`) comes from the npm registry once (`npm pack`, checked against the
registry's pinned sha512) and is kept in `~/.cache/vaelab/vendor/`; `$VAELAB_MATHJAX_DIR` may point
at an `es5` folder of MathJax 3 instead. The build copies it to `_static/mathjax/` and points
`mathjax_path` there. It also drops scripts that a page would load twice (see `_dedupe_assets`).
Enabled by `_config.yml` (`sphinx.extra_extensions`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

MATHJAX_VERSION = "3.2.2"
MATHJAX_SHA512 = (
    "Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
)
ENTRY = "tex-chtml.js"  # MathJax's combined TeX input + CommonHTML output


def vendor_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "vaelab" / "vendor" / f"mathjax-{MATHJAX_VERSION}"


def mathjax_es5() -> Path:
    """MathJax's `es5` folder: `$VAELAB_MATHJAX_DIR`, the vendor cache, or fetched into it."""
    if os.environ.get("VAELAB_MATHJAX_DIR"):
        folder = Path(os.environ["VAELAB_MATHJAX_DIR"])
        if not (folder / ENTRY).is_file():
            raise FileNotFoundError(
                f"VAELAB_MATHJAX_DIR={folder} has no {ENTRY}: point it at "
                "the es5 folder of MathJax 3"
            )
        return folder
    folder = vendor_dir() / "es5"
    if not (folder / ENTRY).is_file():
        fetch(folder)
    return folder


def fetch(folder: Path) -> None:
    """`npm pack mathjax@MATHJAX_VERSION`, verify its sha512, unpack its `es5/` into `folder`."""
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError(
            f"MathJax {MATHJAX_VERSION} is not in {folder} and npm is not "
            "installed: install npm (Debian: apt-get install npm) or set "
            "VAELAB_MATHJAX_DIR to the es5 folder of MathJax 3"
        )
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(
            [npm, "pack", f"mathjax@{MATHJAX_VERSION}", "--pack-destination", tmp, "--silent"],
            capture_output=True,
            text=True,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            raise RuntimeError(f"npm pack mathjax@{MATHJAX_VERSION} failed: {done.stderr[-500:]}")
        blob = tarballs[0].read_bytes()
        digest = base64.b64encode(hashlib.sha512(blob).digest()).decode()
        if digest != MATHJAX_SHA512:
            raise RuntimeError(
                f"mathjax-{MATHJAX_VERSION}.tgz: sha512 {digest} is not the pinned {MATHJAX_SHA512}"
            )
        with tarfile.open(tarballs[0]) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/es5/")]
            tar.extractall(tmp, members=members, filter="data")
        staging = folder.with_name(folder.name + ".part")
        shutil.rmtree(staging, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(Path(tmp) / "package" / "es5", staging)
        staging.replace(folder)


def _copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "mathjax"
    if not (target / ENTRY).is_file():
        shutil.copytree(mathjax_es5(), target, dirs_exist_ok=True)


def _configure(app, config) -> None:
    mathjax_es5()  # fail early, before Sphinx reads every page, if MathJax cannot be had
    config.mathjax_path = f"mathjax/{ENTRY}"


def _key(asset) -> tuple:
    attributes = getattr(asset, "attributes", {}) or {}
    return (
        str(getattr(asset, "filename", asset) or ""),
        tuple(sorted(map(str, attributes.items()))),
    )


def _dedupe_assets(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated script and style entries from a page.

    jupyter-book 1.0.4 on Sphinx 7.4 registers the inline scripts of sphinx-thebe and
    sphinx-togglebutton twice; the second `const THEBE_JS_URL` is a SyntaxError in the browser.
    """
    for name in ("script_files", "css_files"):
        seen, unique = set(), []
        for asset in context.get(name, []):
            if _key(asset) not in seen:
                seen.add(_key(asset))
                unique.append(asset)
        if name in context:
            context[name][:] = unique


def root_redirect(root_doc: str, favicon: str | None) -> str:
    """A root `index.html` that sends the browser to the root document.

    sphinx-external-toc writes one without an icon link, and a browser then asks for
    /favicon.ico, which is not there (a console error on the landing page).
    """
    target = f"{root_doc}.html"
    icon = f'<link rel="icon" href="_static/{Path(favicon).name}">' if favicon else ""
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8">{icon}'
        f'<meta http-equiv="refresh" content="0; url={target}"></head>'
        f'<body><a href="{target}">{target}</a></body></html>\n'
    )


def _write_root_redirect(app, exception) -> None:
    index = Path(app.outdir) / "index.html"
    if exception is None and app.builder.format == "html" and not index.exists():
        favicon = getattr(app.config, "html_favicon", None)
        index.write_text(root_redirect(app.config.root_doc, favicon))


def setup(app):
    app.connect("html-page-context", _dedupe_assets, priority=100)
    app.connect("config-inited", _configure)
    app.connect("build-finished", _copy_mathjax)
    app.connect("build-finished", _write_root_redirect, priority=400)  # before external-toc's
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": MATHJAX_VERSION}
