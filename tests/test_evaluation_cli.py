"""``studio-match eval`` on a small labelled set of our own, in the format of the public one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli

EXPERTS = [
    (
        "E1",
        "机械工程",
        [
            (
                "数控机床主轴热误差补偿",
                "建立主轴温升与热伸长模型，实时补偿加工尺寸漂移。",
                ["热误差", "数控机床"],
            )
        ],
    ),
    ("E2", "机械工程", [("数控机床振动诊断", "基于振动频谱识别主轴轴承早期故障。", ["振动诊断", "主轴"])]),
    (
        "E3",
        "船舶与海洋工程",
        [("船体分段焊接变形控制", "优化焊接顺序与刚性固定，减少火工矫正。", ["焊接变形", "分段建造"])],
    ),
    (
        "E4",
        "烹饪与营养",
        [("淮扬菜刀工标准化", "建立刀工训练与考核体系，用于师带徒培训。", ["淮扬菜", "刀工"])],
    ),
]
ORDERS = [
    ("O1", "主轴一热尺寸就漂", "数控机床主轴温升后加工尺寸漂移，需要热误差补偿方案。", "simplified"),
    ("O2", "分段焊完變形大", "船體分段焊接後變形大，火工矯正工作量大。", "traditional"),
    ("O3", "刀工培训", "希望建立淮扬菜刀工训练体系。", "simplified"),
]
QRELS = [("O1", "E1", 2), ("O1", "E2", 1), ("O2", "E3", 2), ("O3", "E4", 2)]


@pytest.fixture
def labelled_set(tmp_path: Path) -> Path:
    with (tmp_path / "experts.jsonl").open("w", encoding="utf-8") as handle:
        for expert_id, discipline, papers in EXPERTS:
            achievements = [{"title": t, "abstract": a, "keywords": k} for t, a, k in papers]
            record = {"id": expert_id, "name": "测试", "discipline": discipline, "achievements": achievements}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    with (tmp_path / "orders.jsonl").open("w", encoding="utf-8") as handle:
        for order_id, title, description, script in ORDERS:
            record = {"id": order_id, "title": title, "description": description, "script": script}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    lines = ["order_id\texpert_id\tgrade", *(f"{o}\t{e}\t{g}" for o, e, g in QRELS)]
    (tmp_path / "qrels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_eval_json_has_the_documented_shape_and_finds_the_right_experts(labelled_set: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "--data", str(labelled_set), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == {"matcher", "bm25", "traditional"}
    assert set(figures["traditional"]) == {"matcher", "bm25"}
    for block in (figures["matcher"], figures["bm25"], *figures["traditional"].values()):
        assert set(block) == {"ndcg@10", "mrr", "recall@10", "p@5"}
        assert all(0.0 <= v <= 1.0 for v in block.values())
    # every order's right expert is first, the traditional-script order included
    assert figures["matcher"]["mrr"] == 1.0
    assert figures["traditional"]["matcher"]["mrr"] == 1.0


def test_eval_table_and_a_missing_directory(labelled_set: Path, tmp_path: Path) -> None:
    table = CliRunner().invoke(cli, ["eval", "--data", str(labelled_set)])
    assert table.exit_code == 0 and "nDCG@10" in table.stdout and "bm25" in table.stdout
    missing = CliRunner().invoke(cli, ["eval", "--data", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
