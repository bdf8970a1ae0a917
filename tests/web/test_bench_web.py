"""`aetui bench --web`'s table from a result (the bench itself runs a browser for a minute: it is
measured by hand, never timed in a test)."""

from __future__ import annotations

from rich.console import Console

from aetui.cli.bench_web import web_table


def test_the_table_gives_each_round_the_medians_and_what_20_tabs_left():
    result = {"seconds": 3.0, "rounds": 3, "alone_samples_per_second": [100.0, 120.0, 110.0],
              "one_tab_samples_per_second": [99.0, 118.0, 100.0], "one_tab_over_alone": [0.99, 118 / 120, 100 / 110],
              "tabs_coming_and_going_samples_per_second": [97.0, 100.0, 105.0],
              "coming_and_going_over_alone": [0.97, 100 / 120, 105 / 110], "tabs_per_round": [2, 2, 1],
              "alone_after_20_tabs_samples_per_second": 108.0, "tab_processes_left": 0,
              "one_tab_cores": {"tab": [0.06, 0.07, 0.05], "server": [0.003] * 3, "browser": [0.4] * 3},
              "load_average": (1.0, 1.0, 1.0),
              "samples_per_trainer_cpu_second": {"alone": [200.0, 210.0, 190.0], "one_tab": [198.0] * 3,
                                                 "coming_and_going": [195.0] * 3, "after_20_tabs": 201.0}}
    console = Console(width=200, record=True)
    console.print(web_table(result))
    text = " ".join(console.export_text().split())  # the caption wraps
    assert "median" in text and "110" in text and "99.0%" in text
    assert "0 tab processes left" in text and "(median of 3 rounds, 98.2% of the median before)" in text
    assert "no tab 200, one tab 99.0% of that" in text and "after the 20 tabs 100.5%" in text
    assert "its process 0.06" in text and "the browser (here on the same machine) 0.40" in text
