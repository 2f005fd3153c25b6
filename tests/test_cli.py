import json
import subprocess
import sys
from pathlib import Path

from vaelab.book import cli


def test_data_status_names_the_sources(capsys):
    assert cli.main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert "fashion-mnist: /" in out and "mnist: " in out


def test_fetch_offline_fails_with_instructions(offline_data, capsys, monkeypatch):
    monkeypatch.setattr(cli.os, "geteuid", lambda: 1000)  # not root: no apt-get
    assert cli.main(["data", "fetch", "mnist"]) == 1
    assert "mnist-5k" in capsys.readouterr().err


def test_console_script_is_installed():
    bindir = sys.executable.rsplit("/", 1)[0]
    out = subprocess.run([f"{bindir}/vaelab", "--help"], capture_output=True, text=True, check=True)
    assert "data" in out.stdout


def test_import_works_from_any_directory(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", "import vaelab, vaelab.cache; print(vaelab.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().endswith("lib/vaelab/__init__.py")


def _book_root(tmp_path):
    root = tmp_path / "book-root"
    (root / "book" / "appendix").mkdir(parents=True)
    for name in ("_toc.yml", "_config.yml"):
        (root / name).write_text("{}\n")
    return root


def test_models_export_and_import_through_the_command(tmp_path, monkeypatch, capsys):
    from vaelab import cache
    from vaelab.book import runner

    root = _book_root(tmp_path)
    monkeypatch.chdir(root)
    monkeypatch.setenv("VAELAB_CACHE_DIR", str(tmp_path / "source"))
    cache.memo("test-result", {"a": 1}, lambda: {"value": 1.0})
    (memo,) = [p.name for p in (cache.cache_root() / "memo").iterdir()]
    assert cli.main(["models", "export", "--profile", "quick", "m.tar.gz"]) == 1
    assert "no record of what the book uses at quick" in capsys.readouterr().err
    use = {"quick": {"book/x.ipynb": {"entries": [], "memos": [memo]}}}
    (root / runner.CACHE_USE).write_text(json.dumps(use))
    assert cli.main(["models", "export", "--profile", "quick", "m.tar.gz"]) == 0
    assert "0 cache entries and 1 memos" in capsys.readouterr().out
    monkeypatch.setenv("VAELAB_CACHE_DIR", str(tmp_path / "empty"))
    assert cli.main(["models", "import", "m.tar.gz"]) == 0
    assert "added 0 entries and 1 memos (0 already in the cache)" in capsys.readouterr().out
    tampered = tmp_path / "bad.tar.gz"
    tampered.write_bytes(b"not an archive")
    assert cli.main(["models", "import", str(tampered)]) == 1
    assert "truncated or damaged" in capsys.readouterr().err


def test_record_times_keeps_the_entries_and_memos_each_chapter_used(tmp_path):
    from vaelab.book import runner

    run = runner.Executed(
        chapter=Path("book/a.ipynb"),
        output=tmp_path / "a.ipynb",
        profile="smoke",
        seconds=1.0,
        entries=("k1", "k2"),
        memos=("m.json",),
    )
    runner.record_times(tmp_path / "run_times.json", [run])
    use = json.loads((tmp_path / "cache_use.json").read_text())
    assert use == {"smoke": {"book/a.ipynb": {"entries": ["k1", "k2"], "memos": ["m.json"]}}}
