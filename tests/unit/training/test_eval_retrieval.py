"""``shopbot eval-retrieval``: metrics on a tiny set, metrics.json, and clear CSV errors."""

from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path

import pytest

from knowledge.embedder import HashingEmbedder
from training import eval_retrieval
from training.eval_retrieval import query_metrics

DOCS = """id,text
d1,Teddy bear plush toy soft and cuddly for toddlers
d2,Wooden jigsaw puzzle with 500 pieces of a mountain lake
d3,Remote control monster truck with rechargeable battery
d4,Stainless steel water bottle keeps drinks cold
d5,Our return policy allows returns within 30 days for a refund
"""
QUERIES = """id,text,group
q1,cuddly teddy bear,product
q2,jigsaw puzzle of a lake,product
q3,rc truck battery,product
q4,how do returns and refunds work,faq
"""
QRELS = """query_id,doc_id,relevance
q1,d1,1
q2,d2,1
q3,d3,1
q4,d5,2
"""


def write(
    tmp_path: Path, docs: str = DOCS, queries: str = QUERIES, qrels: str = QRELS
) -> list[str]:
    (tmp_path / "docs.csv").write_text(docs)
    (tmp_path / "queries.csv").write_text(queries)
    (tmp_path / "qrels.csv").write_text(qrels)
    return [
        "--docs", str(tmp_path / "docs.csv"), "--queries", str(tmp_path / "queries.csv"),
        "--qrels", str(tmp_path / "qrels.csv"), "--out", str(tmp_path / "out"),
    ]  # fmt: skip


@pytest.fixture(autouse=True)
def hashing_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eval_retrieval, "_make_embedder", lambda args: HashingEmbedder(64))


def test_query_metrics_on_a_known_ranking() -> None:
    metrics = query_metrics(["a", "b", "c"], {"b": 1, "z": 0})
    assert metrics["mrr@10"] == 0.5
    assert metrics["recall@5"] == 1.0
    assert math.isclose(metrics["ndcg@10"], 1 / math.log2(3))
    graded = query_metrics(["x", "a", "b"], {"a": 2, "b": 1})
    ideal = 2 + 1 / math.log2(3)
    assert math.isclose(graded["ndcg@10"], (2 / math.log2(3) + 1 / 2) / ideal)


def test_cli_writes_metrics_for_every_system(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert eval_retrieval.main(write(tmp_path)) == 0
    report = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert set(report["metrics"]) == {"dense", "bm25", "hybrid"}
    for metrics in report["metrics"].values():
        assert set(metrics) == {"ndcg@10", "recall@5", "recall@10", "recall@100", "mrr@10"}
        assert all(0.0 <= v <= 1.0 for v in metrics.values())
    assert report["metrics"]["bm25"]["recall@5"] == 1.0
    assert set(report["by_group"]) == {"product", "faq"}
    assert report["data"] == {
        "documents": 5, "passages": 5, "queries": 4, "queries_skipped": 0,
        "groups": {"product": 3, "faq": 1},
    }  # fmt: skip
    out = capsys.readouterr().out
    assert "ndcg@10" in out and "hybrid" in out
    assert (tmp_path / "out" / "misses.csv").read_text().startswith("query_id,group,query")


def test_index_dir_is_reused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    argv = [*write(tmp_path), "--index-dir", str(tmp_path / "index")]
    assert eval_retrieval.main(argv) == 0
    with caplog.at_level(logging.INFO, logger="knowledge.index"):
        assert eval_retrieval.main(argv) == 0
    assert "0 new, 0 removed" in caplog.text


@pytest.mark.parametrize(
    "which,content,message",
    [
        (
            "docs",
            "id,body\nd1,text\n",
            "docs CSV .* is missing column\\(s\\) \\['text'\\]; found columns \\['id', 'body'\\]",
        ),
        (
            "queries",
            "qid,text\nq1,bear\n",
            "queries CSV .* missing column\\(s\\) \\['id'\\]; found columns \\['qid', 'text'\\]",
        ),
        (
            "qrels",
            "query_id,doc_id,relevance\nq1,d1,high\n",
            "line 2: relevance 'high' is not a number",
        ),
        ("docs", "id,text\nd1,a\nd1,b\n", "line 3: id 'd1' appears twice"),
        ("docs", "id,text\n", "has a header but no rows"),
        ("docs", "id,text,doc_id,kind\nd1,a,d1,blog\n", "line 2: kind must be product or faq"),
        ("qrels", "query_id,doc_id,relevance\nq9,d1,1\n", "No query in .* has a relevant document"),
    ],
)
def test_malformed_csv_is_explained(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, which: str, content: str, message: str
) -> None:
    files = {"docs": DOCS, "queries": QUERIES, "qrels": QRELS, which: content}
    with caplog.at_level(logging.ERROR):
        assert eval_retrieval.main(write(tmp_path, **files)) == 1
    assert any(re.search(message, r.getMessage()) for r in caplog.records), caplog.text


def test_kinds_in_the_docs_get_their_own_fusion_weight(tmp_path: Path) -> None:
    docs = "id,text,doc_id,kind\n" + "".join(
        f"{line.split(',', 1)[0]},{line.split(',', 1)[1]},{line.split(',', 1)[0]},"
        f"{'faq' if line.startswith('d5') else 'product'}\n"
        for line in DOCS.splitlines()[1:]
    )
    passages = eval_retrieval.read_docs(Path(write(tmp_path, docs=docs)[1]))
    assert [p.kind for p in passages] == ["product"] * 4 + ["faq"]
    assert eval_retrieval.main([*write(tmp_path, docs=docs), "--sweep"]) == 0
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert "hybrid weighted a=0.5, FAQ a=1.0" in json.dumps(metrics)
    # Without a kind column every passage is a generic one: no separate FAQ weight to sweep.
    assert eval_retrieval.main([*write(tmp_path), "--sweep"]) == 0
    assert "FAQ a=" not in (tmp_path / "out" / "metrics.json").read_text()


def test_missing_file_is_explained(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    argv = write(tmp_path)
    argv[1] = str(tmp_path / "nope.csv")
    with caplog.at_level(logging.ERROR):
        assert eval_retrieval.main(argv) == 1
    assert "does not exist" in caplog.text and "id,text" in caplog.text
