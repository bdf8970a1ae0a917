"""Plan files: what a plan expands to, the shipped transfer plan, and every bad plan as one
PLAN:LINE:COL: line (exit 2, nothing created), fuzzed with Hypothesis."""

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aetui.cli.main import main
from aetui.errors import ConfigError
from aetui.study.plan_file import PlanError, parse_plan, plan_to_toml, read_plan
from aetui.study.transfer import TransferPlan

BIAS = """\
[study]
name = "bias"
data = "bars8"
hidden = 16
samples = 3000
seeds = 2

[defaults]
activation = "sigmoid"
noise = 0.2

[[condition]]
name = "learning"

[[condition]]
name = "frozen"
bias-lr-scale = 0

[[condition]]
name = "reset"
[[condition.then]]
at = 1500

[[condition]]
name = "moved"
from = "learning@tenth"
activation = ["relu", "tanh"]
weight_scale = [0.1, 1]

[[claim]]
text = "freezing b takes the local filters away"
compare = "locality(learning) > locality(frozen)"

[[claim]]
text = "the reset b grows back"
compare = "bias_corr(reset) > 0.5"
"""


def test_a_plan_expands_lists_and_keeps_sources_first():
    plan = parse_plan(BIAS)
    names = [c.name for c in plan.conditions]
    assert names == ["learning", "frozen", "reset", "moved-relu-x0.1", "moved-relu-x1", "moved-tanh-x0.1", "moved-tanh-x1"]
    frozen, reset, moved = plan.conditions[1], plan.conditions[2], plan.conditions[3]
    assert frozen.config.bias_lr_scale == 0.0 and isinstance(frozen.config.bias_lr_scale, float)
    assert frozen.config.noise == 0.2 and frozen.config.data == "bars8" and frozen.config.hidden == 16
    assert [(s.at, s.activation, s.weight_scale, s.keep_biases) for s in reset.steps] == [(1500, "sigmoid", 1.0, False)]
    assert (moved.source, moved.snapshot, moved.weight_scale, moved.activation) == ("learning", "tenth", 0.1, "relu")
    assert moved.config.noise == 0.2  # a branch keeps its source's settings
    assert plan.snapshot_name(moved) == "transfer-tenth-0" and plan.first_segment(moved) == 1
    assert plan.start_label(moved) == "sigmoid > relu x0.1" and plan.start_label(reset, 1) == "sigmoid > sigmoid"
    assert plan.order() == [names[:3], names[3:]]
    units = plan.units()
    assert len(units) == 14 and units[7].session == "bias-learning-seed1" and units[7].seed == 1
    assert plan.source_of(units[10]).session == "bias-learning-seed1"
    assert [c.statement for c in plan.claims] == ["locality(learning) > locality(frozen)", "bias_corr(reset) > 0.5"]
    assert parse_plan(BIAS, seeds=5).seed_list == [0, 1, 2, 3, 4]


def test_dashes_and_underscores_are_the_same_key_and_a_name_can_be_a_template():
    text = BIAS.replace("bias-lr-scale = 0", "bias_lr_scale = 0").replace('name = "moved"', 'name = "{activation}-from-learning"')
    plan = parse_plan(text)
    assert plan.conditions[1].config.bias_lr_scale == 0.0
    assert [c.name for c in plan.conditions[3:]] == ["relu-from-learning-x0.1", "relu-from-learning-x1",
                                                     "tanh-from-learning-x0.1", "tanh-from-learning-x1"]


def test_a_plan_written_out_reads_back_the_same():
    for plan in (parse_plan(BIAS), TransferPlan(activation=("relu", "tanh"), scales=(0.1, 0.5), seeds=3).study_plan()):
        assert parse_plan(plan_to_toml(plan)) == plan


def test_the_shipped_transfer_plan_is_the_experiment():
    shipped = read_plan("transfer")
    assert shipped == TransferPlan().study_plan()  # conditions, configs, sources, scales, claims, seeds, budget
    assert [c.name for c in shipped.conditions] == ["sigmoid", "sigmoid-sigmoid", "sigmoid-relu-x0.1",
                                                    "sigmoid-relu-x1", "relu"]
    assert len(shipped.claims) == 10


# (what is changed in BIAS, the line and column reported, what the message says)
BAD = [
    ('seeds = 2', 'seeds = "2"', 6, 1, "seeds must be a whole number >= 1, not '2'"),
    ('bias-lr-scale = 0', 'bias-lr-scal = 0', 17, 1, "unknown key 'bias-lr-scal' (did you mean bias_lr_scale?)"),
    ('noise = 0.2', 'noise = 2', 10, 1, "noise must be in [0, 1), not 2"),
    ('from = "learning@tenth"', 'from = "learnin"', 26, 1, "there is no condition 'learnin' (did you mean learning?)"),
    ('from = "learning@tenth"', 'from = "learning@half"', 26, 1, "learning has no snapshot 'half'"),
    ('"tanh"]', '"tanhh"]', 27, 1, "unknown activation 'tanhh'"),
    ('weight_scale = [0.1, 1]', 'weight_scale = [0.1, 1]\nhidden = 8', 29, 1,
     "hidden: a condition started from learning keeps its settings but for activation and lr"),
    ('name = "frozen"', 'name = "learning"', 16, 1, "two conditions are named 'learning'"),
    ('at = 1500', 'at = 3000', 22, 1, "must lie after the previous restart (0) and before the condition's end"),
    ('locality(frozen)', 'locality(frozn)', 32, 1, "the claim names no condition 'frozn' (did you mean frozen?)"),
    ('bias_corr(reset)', 'bias_cor(reset)', 36, 1, "no metric 'bias_cor'"),
    ('bias_corr(reset) > 0.5', 'bias_corr(reset) >> 0.5', 36, 1, "cannot read the comparison"),
    ('[[condition]]\nname = "learning"', '[[condition]]\nname = "learning"\nfrom = "moved-relu-x1"', 14, 1,
     "from makes a cycle: learning <- moved-relu-x1 <- learning"),
    ('noise = 0.2', 'seed = 3', 10, 1, "seed is the study's"),
    ('[defaults]', '[defaults', 8, 10, "expected ']' at the end of a table declaration"),
    ('name = "bias"', 'name = "../bias"', 2, 1, "bad study name '../bias'"),
    ('[[claim]]\ntext = "the reset', '[[claim]]\ntexts = "the reset', 35, 1, "unknown key 'texts'"),
]


@pytest.mark.parametrize("old, new, line, col, message", BAD, ids=[b[4][:40] for b in BAD])
def test_a_bad_plan_is_one_located_line_and_exit_2(tmp_path, capsys, old, new, line, col, message):
    assert old in BIAS
    plan = tmp_path / "bad.toml"
    plan.write_text(BIAS.replace(old, new, 1))
    sessions = tmp_path / "sessions"
    for action in ("check", "run"):
        code = main(["study", action, str(plan), "--sessions-dir", str(sessions)] if action == "run"
                    else ["study", action, str(plan)])
        out, err = capsys.readouterr()
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith(f"{plan}:{line}:{col}: "), err
        assert message in err, err
    assert not sessions.exists()  # nothing trained, no session created


def test_a_missing_plan_names_the_shipped_ones(capsys):
    assert main(["study", "check", "no-such-plan"]) == 2
    assert "no plan file no-such-plan (and no shipped plan of that name: bias, transfer)" in capsys.readouterr().err


def test_study_check_prints_conditions_starts_and_order(tmp_path, capsys):
    plan = tmp_path / "bias.toml"
    plan.write_text(BIAS)
    assert main(["study", "check", str(plan), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    moved = data["conditions"][3]
    assert moved["starts_from"] == "learning@tenth x0.1, biases reset" and moved["sessions"] == ["bias-moved-relu-x0.1-seed0",
                                                                                                 "bias-moved-relu-x0.1-seed1"]
    assert data["conditions"][1]["settings"] == {"bias_lr_scale": 0.0, "noise": 0.2}
    assert data["conditions"][2]["then"] == [{"at": 1500, "activation": "sigmoid", "weight_scale": 1.0,
                                              "keep_biases": False, "lr": None}]
    assert data["order"][0] == ["learning", "frozen", "reset"]
    assert main(["study", "check", str(plan)]) == 0
    out = capsys.readouterr().out
    assert "order 2: moved-relu-x0.1, moved-relu-x1, moved-tanh-x0.1, moved-tanh-x1" in out
    assert "7 conditions x 2 seeds = 14 runs of 3,000 samples; nothing was trained" in out
    assert "at 1,500:" in out


LOCATED = re.compile(r"^PLAN:\d+:\d+: \S")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_mangled_plan_is_read_or_refused_with_a_location(data):
    text = BIAS
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        kind = data.draw(st.sampled_from(["delete", "insert", "replace"]))
        piece = data.draw(st.sampled_from(['"', "'", "[", "]", "=", "\n", "0", "-1", "1e9", "true", "x", "@", ",",
                                           "{", "}", "[[condition]]\n", "from = \"reset\"\n", "#", " ", "1500"]))
        end = min(len(text), at + data.draw(st.integers(1, 8)))
        text = text[:at] + (piece if kind != "delete" else "") + text[end if kind != "insert" else at:]
    try:
        plan = parse_plan(text)
    except PlanError as exc:
        assert LOCATED.match(str(exc)) and "\n" not in str(exc), str(exc)
    except ConfigError as exc:  # pragma: no cover - every refusal is located
        raise AssertionError(f"unlocated: {exc}") from None
    else:
        assert plan.units() and all(c.config.validated() for c in plan.conditions)
        assert parse_plan(plan_to_toml(plan)) == plan


def test_data_and_name_from_the_command_line_replace_the_plans(capsys):
    plan = read_plan("bias", seeds=2, data="fashion", name="bias-fashion")
    assert plan.prefix == "bias-fashion" and plan.seeds == 2
    assert {c.config.data for c in plan.conditions} == {"fashion"}
    assert plan.units()[0].session == "bias-fashion-learning-seed0"
    assert main(["study", "check", "bias", "--name", "../x"]) == 2
    assert capsys.readouterr().err.startswith("aetui: --name '../x': bad study name")


def test_the_shipped_bias_plan_freezes_resets_and_learns():
    plan = read_plan("bias")
    assert [c.name for c in plan.conditions] == ["learning", "frozen", "reset"] and plan.seeds == 5
    learning, frozen, reset = plan.conditions
    assert frozen.config.bias_lr_scale == 0.0 and learning.config.bias_lr_scale is None
    assert [(s.at, s.keep_biases) for s in reset.steps] == [(150_000, False)]
    assert {c.metric for c in plan.claims} >= {"locality", "spread", "lifetime_sparsity", "bias_corr"}
