"""book and the `vaelab run|book|publish` commands, on a two-chapter book made in a temp folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from vaelab.book import cli, runner, scoreboard, site

PARAMS = """profile: str = "quick"  # smoke | quick | paper
latent_dim: int = None  # latent units (None: the profile's value)"""
BODY = """import os
from vaelab.book import profiles
run = profiles.resolve(profile, section="template", latent_dim=latent_dim)
print(run.profile, run.latent_dim, os.environ["VAELAB_PROFILE"])"""


def _notebook(*sources):
    nb = new_notebook(cells=[new_markdown_cell("# A chapter")])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells += [params, *(new_code_cell(s) for s in sources)]
    return nb


@pytest.fixture
def tiny_book(tmp_path, monkeypatch):
    """`_toc.yml` with an intro page and two chapters, `ok` and `raises` (which fails)."""
    (tmp_path / "_config.yml").write_text(
        'title: t\nonly_build_toc_files: true\nexclude_patterns: ["_build/*"]\n'
        'execute:\n  execute_notebooks: "off"\n'
    )
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: P\n    chapters:\n"
        "      - file: book/part/01_ok\n      - file: book/part/02_raises\n"
    )
    (tmp_path / "references.bib").write_text("")
    (tmp_path / "book" / "part").mkdir(parents=True)
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    nbformat.write(_notebook(BODY), tmp_path / "book/part/01_ok.ipynb")
    nbformat.write(
        _notebook(BODY, "x = 1", "raise ValueError('boom')"), tmp_path / "book/part/02_raises.ipynb"
    )
    monkeypatch.chdir(tmp_path / "book")  # commands find the root upwards
    monkeypatch.delenv("VAELAB_PROFILE", raising=False)
    return tmp_path


def test_root_toc_and_chapter_lookup(tiny_book):
    assert runner.find_root() == tiny_book
    assert runner.toc_entries(tiny_book) == ["book/intro", "book/part/01_ok", "book/part/02_raises"]
    assert [str(p) for p in runner.chapters(tiny_book)] == [
        "book/part/01_ok.ipynb",
        "book/part/02_raises.ipynb",
    ]
    for name in ("01_ok", "ok", "book/part/01_ok", "book/part/01_ok.ipynb"):
        assert str(runner.find_chapter(name, tiny_book)) == "book/part/01_ok.ipynb"
    with pytest.raises(ValueError, match=r"(?s)no chapter .nope.*book/part/01_ok"):
        runner.find_chapter("nope", tiny_book)


def test_root_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no _toc.yml"):
        runner.find_root(tmp_path)


def test_parameters_are_read_from_the_tagged_cell(tiny_book):
    params = runner.parameters(tiny_book / "book/part/01_ok.ipynb")
    assert list(params) == ["profile", "latent_dim"]
    assert params["latent_dim"] == {
        "type": "int",
        "default": "None",
        "help": "latent units (None: the profile's value)",
    }
    assert runner.section_of(tiny_book / "book/part/01_ok.ipynb") == "template"


def test_a_notebook_without_parameters_cell_is_refused(tmp_path):
    nb = new_notebook(cells=[new_code_cell("x = 1")])
    nbformat.write(nb, tmp_path / "n.ipynb")
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        runner.parameters(tmp_path / "n.ipynb")


def test_run_injects_parameters_and_profile_and_strips_metadata(tiny_book, tmp_path):
    done = runner.run_chapter(
        tiny_book,
        "ok",
        pairs=[("latent_dim", "7")],
        profile="smoke",
        output_dir=tmp_path / "out",
        progress=False,
    )
    assert done.output == tmp_path / "out/book/part/01_ok.ipynb" and done.profile == "smoke"
    nb = nbformat.read(done.output, as_version=4)
    assert nb.cells[-1].outputs[0]["text"] == "smoke 7 smoke\n"
    assert "papermill" not in nb.metadata
    assert not any("papermill" in c.metadata or "execution" in c.metadata for c in nb.cells)


def test_run_takes_the_notebook_profile_unless_the_environment_sets_one(
    tiny_book, tmp_path, monkeypatch
):
    done = runner.run_chapter(tiny_book, "ok", output_dir=tmp_path / "a", progress=False)
    assert done.profile == "quick"
    monkeypatch.setenv("VAELAB_PROFILE", "smoke")
    done = runner.run_chapter(tiny_book, "ok", output_dir=tmp_path / "b", progress=False)
    out = nbformat.read(done.output, as_version=4).cells[-1].outputs
    assert done.profile == "smoke" and out[-1]["text"].endswith("smoke 2 smoke\n")


def test_a_raising_chapter_names_cell_and_error(tiny_book, tmp_path):
    with pytest.raises(
        runner.ChapterFailed,
        match=r"(?s)02_raises.ipynb failed in cell 4 .*In \[4\]: \"raise ValueError\('boom'\)\""
        r".*ValueError: boom",
    ):
        runner.run_chapter(tiny_book, "raises", output_dir=tmp_path, progress=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "bogus", "1"], "has no parameter 'bogus'; its parameters are: profile, latent_dim"),
        (
            ["-p", "latent_dim", "-3"],
            "latent_dim = -3 is out of range: it must be an integer from 1",
        ),
        (["-p", "latent_dim", "two"], "latent_dim must be an integer, got 'two'"),
    ],
)
def test_cli_run_refuses_bad_parameters_before_executing(tiny_book, capsys, args, message):
    assert cli.main(["run", "ok", *args]) == 1
    assert message in capsys.readouterr().err
    assert not (tiny_book / "_build").exists()


def test_cli_run_help_lists_the_chapter_parameters_with_profile_values(tiny_book, capsys):
    assert cli.main(["run", "ok", "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: vaelab run book/part/01_ok" in out
    assert "latent_dim   int    None (smoke 2, quick 2, paper 2)" in out


def test_cli_run_failure_exits_nonzero_naming_the_cell(tiny_book, capsys):
    assert cli.main(["run", "raises", "--profile", "smoke"]) == 1
    err = capsys.readouterr().err
    assert "failed in cell 5 of the executed copy (In [5]: \"raise ValueError('boom')\")" in err
    assert "ValueError: boom" in err  # cell 5: papermill inserted the injected-parameters cell


@pytest.mark.parametrize("jobs", [1, 2])
def test_execute_book_keeps_going_and_reports_the_failure(tiny_book, tmp_path, jobs):
    done, failed = runner.execute_book(
        tiny_book, profile="smoke", dest=tmp_path / "x", progress=False, jobs=jobs
    )
    assert [str(r.chapter) for r in done] == ["book/part/01_ok.ipynb"]
    assert [str(e.chapter) for e in failed] == ["book/part/02_raises.ipynb"]
    assert (tmp_path / "x/_toc.yml").is_file() and (tmp_path / "x/book/intro.md").is_file()
    committed = nbformat.read(tiny_book / "book/part/01_ok.ipynb", as_version=4)
    assert committed.cells[-1].outputs == []  # the committed notebook is untouched


def test_parallel_chapters_get_their_share_of_the_cores(tiny_book, tmp_path):
    nb = nbformat.read(tiny_book / "book/part/01_ok.ipynb", as_version=4)
    nb.cells.append(new_code_cell("import torch\nprint('threads', torch.get_num_threads())"))
    nbformat.write(nb, tiny_book / "book/part/01_ok.ipynb")
    done, failed = runner.execute_book(
        tiny_book, profile="smoke", dest=tmp_path / "x", progress=False, jobs=2
    )
    out = nbformat.read(tmp_path / "x/book/part/01_ok.ipynb", as_version=4)
    share = max(1, (os.cpu_count() or 1) // 2)  # the cores, shared by 2 chapters at a time
    assert out.cells[-1].outputs[0]["text"] == f"threads {share}\n"
    assert [str(r.chapter) for r in done] == ["book/part/01_ok.ipynb"] and len(failed) == 1
    with pytest.raises(ValueError, match="jobs must be a positive integer"):
        runner.execute_book(tiny_book, profile="smoke", dest=tmp_path / "y", jobs=0)


def test_cli_book_passes_jobs_and_refuses_a_bad_count(tiny_book, capsys, monkeypatch):
    seen, real = [], runner.execute_book
    monkeypatch.setattr(runner, "execute_book", lambda root, **kw: seen.append(kw) or ([], []))
    monkeypatch.setattr(site, "build_html", lambda src, output: src)
    assert cli.main(["book", "--profile", "smoke", "--jobs", "2"]) == 0
    assert seen == [{"profile": "smoke", "jobs": 2}]
    monkeypatch.setattr(runner, "execute_book", real)
    assert cli.main(["book", "--profile", "smoke", "--jobs", "0"]) == 1
    assert "jobs must be a positive integer, got 0" in capsys.readouterr().err


def test_cli_book_fails_when_a_chapter_raises(tiny_book, capsys, monkeypatch):
    built = []
    monkeypatch.setattr(site, "build_html", lambda src, output: built.append(src) or src)
    assert cli.main(["book", "--profile", "smoke"]) == 1
    assert "1 chapter(s) failed" in capsys.readouterr().err
    assert built == [tiny_book / "_build" / "executed"]  # the HTML is still built, to look at


def test_publish_replaces_only_succeeding_chapters_and_records_times(tiny_book):
    nb = nbformat.read(tiny_book / "book/part/02_raises.ipynb", as_version=4)
    nb.cells = nb.cells[:-1]  # make it pass
    nbformat.write(nb, tiny_book / "book/part/02_raises.ipynb")
    done = site.publish(tiny_book, progress=False)
    assert [r.profile for r in done] == ["paper", "paper"]
    published = nbformat.read(tiny_book / "book/part/01_ok.ipynb", as_version=4)
    assert (
        published.cells[-1]
        .outputs[0]["text"]
        .endswith("(the notebook says 'quick')\npaper 2 paper\n")
    )
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in published.cells)
    times = json.loads((tiny_book / runner.RUN_TIMES).read_text())
    assert set(times["paper"]) == {"book/part/01_ok.ipynb", "book/part/02_raises.ipynb"}


def test_record_times_merges_profiles(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"paper": {"a.ipynb": {"seconds": 9.0}}}))
    run = runner.Executed(chapter="b.ipynb", output=tmp_path, profile="quick", seconds=1.23)
    runner.record_times(path, [run])
    table = json.loads(path.read_text())
    assert table["paper"] == {"a.ipynb": {"seconds": 9.0}}
    assert table["quick"]["b.ipynb"]["seconds"] == 1.2


def test_execute_reports_the_models_a_chapter_trained_and_loaded(tiny_book, tmp_path):
    fits = (
        "from vaelab import cache, data, models\n"
        "c = cache.FitConfig(data=data.DataConfig('tiles', tiles=data.TilesSpec(n=256)),"
        " model=models.ModelConfig(latent_dim=2, hidden=(8,)),"
        " train=cache.TrainConfig(epochs=1, batch_size=128))\n"
        "cache.fit(c); cache.fit(c)"
    )
    nbformat.write(_notebook(BODY, fits), tiny_book / "book/part/01_ok.ipynb")
    done = runner.execute(
        tiny_book,
        Path("book/part/01_ok.ipynb"),
        tmp_path / "out.ipynb",
        profile="smoke",
        progress=False,
    )
    assert (done.trained, done.loaded) == (1, 0) and done.train_seconds > 0
    runner.record_times(tmp_path / "t.json", [done])
    row = json.loads((tmp_path / "t.json").read_text())["smoke"]["book/part/01_ok.ipynb"]
    assert (row["models_trained"], row["models_loaded"]) == (1, 0)


def test_publish_can_be_limited_to_named_chapters(tiny_book, capsys):
    before = (tiny_book / "book/part/02_raises.ipynb").read_text()
    assert cli.main(["publish", "book/part/01_ok"]) == 0
    assert "01_ok.ipynb" in capsys.readouterr().out
    assert (tiny_book / "book/part/02_raises.ipynb").read_text() == before  # not re-run
    times = json.loads((tiny_book / runner.RUN_TIMES).read_text())
    assert set(times["paper"]) == {"book/part/01_ok.ipynb"}
    assert cli.main(["publish", "book/part/99_missing"]) == 1
    assert "no chapter 'book/part/99_missing'" in capsys.readouterr().err


def test_papermill_itself_stops_at_a_mistyped_parameter_and_names_the_right_one(tmp_path):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(runner.find_root() / runner.TEMPLATE),
            str(tmp_path / "out.ipynb"),
            parameters={"profile": "smoke", "epochz": 3},
            cwd=str(tmp_path),
            progress_bar=False,
        )
    assert "unknown parameter 'epochz' (did you mean 'epochs'?)" in str(caught.value)


def test_vaelab_run_prints_no_kernel_warning_or_error_line(tmp_path):
    bindir = Path(sys.executable).parent
    done = subprocess.run(
        [
            str(bindir / "vaelab"),
            "run",
            "template",
            "--profile",
            "smoke",
            "--output",
            str(tmp_path),
        ],
        cwd=runner.find_root(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = (done.stdout + done.stderr).replace("\r", "\n").splitlines()
    assert not [line for line in lines if "WARNING" in line or "ERROR" in line]


def test_vaelab_run_html_renders_the_executed_copy_as_a_page_of_the_book(tmp_path, capsys):
    assert (
        cli.main(["run", "template", "--profile", "smoke", "--output", str(tmp_path), "--html"])
        == 0
    )
    out = capsys.readouterr().out
    page = Path(out.split("vaelab: page ")[1].split()[0])
    assert page == tmp_path / "_build" / "html" / "book" / "template.html" and page.is_file()
    html = page.read_text()
    glued = scoreboard.glued_values(tmp_path / "book" / "template.ipynb")
    shown = glued["template_test_images"]  # the glued value, pasted into the text
    assert f'On <span class="pasted-text">{shown}</span> test images' in html
    assert "{glue" not in html and "mathjax" in html.lower()
