import subprocess
import sys

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
