"""``barnflow worker --max-cached-workflows N`` (the sticky cache, docs/operations.md "Memory"):
a whole number from 0 to the bound reaches the worker; anything else stops at the parser with
one line naming the flag, before any server is contacted."""

from __future__ import annotations

import pytest

from infra.cli.main import MAX_CACHED_WORKFLOWS, build_parser


def test_the_default_and_a_chosen_size_reach_the_worker() -> None:
    assert build_parser().parse_args(["worker"]).max_cached_workflows == 1000
    args = build_parser().parse_args(["worker", "--max-cached-workflows", "300"])
    assert args.max_cached_workflows == 300
    assert (
        build_parser().parse_args(["worker", "--max-cached-workflows", "0"]).max_cached_workflows
        == 0
    )


@pytest.mark.parametrize("bad", ["-1", "x", "1.5", str(MAX_CACHED_WORKFLOWS + 1)])
def test_a_bad_size_is_one_line_naming_the_flag(
    bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["worker", "--max-cached-workflows", bad])
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--max-cached-workflows" in err and repr(bad) in err
