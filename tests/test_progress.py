"""The progress bar every loop of runs shows: on stderr, counting runs and failures."""

from abm.experiment.progress import Progress


def test_a_bar_counts_runs_and_failures_on_stderr(capsys):
    with Progress(3, "sweep", failed=0, shown=True) as bar:
        bar.advance()
        bar.advance(failed=True)
        bar.say("p0001-r000 failed: ValueError")
    err = capsys.readouterr().err
    assert "sweep" in err and "2/3" in err and "failed=1" in err
    assert "p0001-r000 failed: ValueError" in err


def test_no_bar_when_not_shown_or_nothing_is_left():
    for bar in (Progress(3, shown=False), Progress(3, done=3, shown=True)):
        assert bar.bar is None
        bar.advance()
        bar.reach(2)
        bar.close()


def test_a_run_reaches_days():
    with Progress(10.0, "town", unit="day", shown=True) as bar:
        bar.reach(4.5)
        assert bar.bar.n == 4.5
