"""JobProgress: a line every few seconds in a log with what is done, the rate and the time left."""

from __future__ import annotations

from hivla.utils.progress import JobProgress, format_seconds


def test_lines_in_a_log_say_done_rate_and_time_left(capsys, monkeypatch) -> None:
    clock = {"t": 100.0}
    monkeypatch.setattr("hivla.utils.progress.time.monotonic", lambda: clock["t"])
    with JobProgress("collect", 10, "episodes", terminal=False, line_seconds=5.0, dropped=0) as bar:
        clock["t"] += 2.0
        bar.update(1)  # too soon for a line
        clock["t"] += 8.0
        bar.update(4, dropped=1)
        clock["t"] += 10.0
        bar.update(10)  # the last update always prints
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "collect 4/10 episodes  0.40/s  left 15s  dropped 1",
        "collect 10/10 episodes  0.50/s  left 0s  dropped 1",
    ]


def test_resumed_work_is_shown_but_not_in_the_rate(capsys, monkeypatch) -> None:
    clock = {"t": 0.0}
    monkeypatch.setattr("hivla.utils.progress.time.monotonic", lambda: clock["t"])
    bar = JobProgress("train", 100, "steps", terminal=False, line_seconds=1.0)
    bar.begin_at(50)
    clock["t"] += 10.0
    bar.update(60)
    assert capsys.readouterr().out.strip() == "train 60/100 steps  1.00/s  left 40s"
    quiet = JobProgress("x", 3, quiet=True)
    quiet.update(3)
    assert capsys.readouterr().out == ""


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (12, 165, 3 * 3600 + 125, float("nan"))] == [
        "12s",
        "2m45s",
        "3h02m",
        "?",
    ]


def test_success_tally_shows_successes_so_far() -> None:
    from types import SimpleNamespace

    from hivla.evaluation import SuccessTally

    shown = []
    bar = SimpleNamespace(update=lambda done, **fields: shown.append((done, fields["success"])))
    tally = SuccessTally(bar)
    for ok in (True, False, True):
        tally(SimpleNamespace(success=ok))
    assert shown == [(1, "1/1"), (2, "1/2"), (3, "2/3")]
