from __future__ import annotations

from policy_news.stories.evaluate import main


def test_evaluation_runs_from_the_repo_alone(tmp_path, capsys):
    assert main(["--shared", str(tmp_path / "absent")]) == 0
    out = capsys.readouterr().out
    assert "skipped Media Cloud" in out
    line = next(x for x in out.splitlines() if x.startswith("synthetic rewrites of fixture"))
    assert "precision 1.000" in line and "recall 1.000" in line
