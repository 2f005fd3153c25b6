"""The Azmoodeh part's helpers that write the chapter's sentences from the run."""

from vaelab.papers import azmoodeh


def test_the_fid_step_the_paper_points_at_is_told_when_the_run_has_it_and_said_missing_if_not():
    fid = {2: (50.0, 1.0), 20: (40.0, 1.0), 200: (52.25, 2.0), 800: (60.0, 1.0)}
    assert azmoodeh.fid_jump_words(fid) == (
        "the step from $n = 20$ to $n = 200$, the one the paper points at, adds 12.2"
    )
    assert azmoodeh.fid_jump_words({3: (1.0, 0.0), 7: (2.0, 0.0)}) == (
        "this run has no $n = 20$ and $n = 200$ pair, the step the paper points at"
    )


def test_the_two_dimensional_class_clusters_are_told_or_said_missing():
    assert azmoodeh.knn_words(0.734) == (
        "the 10 nearest neighbours in the plane give an image's class 0.73 of the time (chance 0.1)"
    )
    assert azmoodeh.knn_words(float("nan")) == "this run has no $n = 2$ model to look at"
