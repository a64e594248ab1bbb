"""Fine-tuning end to end over HTTP: export, validation, jobs, events, registration, comparison."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.servers.openai import OpenAITestServer
from tests.servers.platform import PlatformConfig
from workbench.cli import main
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.core.finetune.export import question_key, split_items
from workbench.core.finetune.validate import validate
from workbench.core.prompts.context import load_template
from workbench.core.reports.results import RunResults
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store

FAST = PlatformConfig(phase_s=0.05, steps=3)


def export(tmp_path: Path, *extra: str) -> tuple[Path, Path]:
    out = tmp_path / "ft" / "train.jsonl"
    assert main(["finetune", "export", "--split", "train", "--out", str(out), *extra]) == 0
    return out, out.with_name("train.validation.jsonl")


def test_export_renders_the_template_with_gold_answers_and_a_clean_split(demo_path: Path, tmp_path: Path) -> None:
    train, val = export(tmp_path, "--template", "few_shot", "--retrieval", "bm25", "--k", "2")
    rows = [json.loads(line) for line in train.read_text().splitlines()]
    held = [json.loads(line) for line in val.read_text().splitlines()]
    assert len(rows) + len(held) == 222 and len(held) == round(222 * 0.1)
    items = {i.question: i for i in Dataset(demo_path).load_split("train").items}
    for row in rows[:20]:
        *prompt, answer = row["messages"]
        assert answer["role"] == "assistant" and answer["content"].startswith("```sql\n")
        question = prompt[-1]["content"].rsplit("Question:", 1)[-1].strip()
        assert items[question].query.rstrip(";") in answer["content"]
        assert sum(m["role"] == "assistant" for m in prompt) == 2  # two retrieved examples as turns, never itself
    assert validate(train, val).ok


def test_duplicates_never_straddle_the_split(demo_path: Path) -> None:
    items = Dataset(demo_path).load_split("train").items
    doubled = items + [type(i)(i.index + 1000, i.db_id, i.question.upper() + "?", i.query, i.source) for i in items]
    train, val, dropped = split_items(doubled, 0.2, seed=5, dedupe=False)
    assert dropped == 0 and not {question_key(i) for i in train} & {question_key(i) for i in val}
    train, val, dropped = split_items(doubled, 0.2, seed=5, dedupe=True)
    assert dropped == len(items) and len(train) + len(val) == len(items)


def test_unusable_files_are_refused_with_reasons(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "SELECT 1"}]}
    lines = [json.dumps(good)] * 9 + [
        "{not json",
        json.dumps({"messages": [{"role": "user", "content": "q"}]}),
        json.dumps({"messages": [{"role": "user", "content": "  "}, {"role": "assistant", "content": "x"}]}),
        json.dumps({"messages": [{"role": "robot", "content": "q"}, {"role": "assistant", "content": "x"}]}),
        json.dumps({"prompt": "old format"}),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    val = tmp_path / "val.jsonl"
    val.write_text(json.dumps(good) + "\n")
    assert main(["finetune", "validate", str(bad), "--validation", str(val)]) == 2
    out = capsys.readouterr()
    for words in ("train line 10: not JSON", "train line 11: the last message must be the assistant's answer",
                  "train line 12: message 1 (user): empty content", "train line 13: message 1: role must be one of",
                  'train line 14: expected an object with a "messages" list', "9 usable examples; at least 10",
                  "validation line 1: the same example as train line 1", "8 duplicate example(s)"):  # fmt: skip
        assert words in out.out, words
    assert "not usable for fine-tuning" in out.err


def prepared(
    tmp_path: Path, server: OpenAITestServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path, Path, Path]:
    """(profiles file, store, training file, validation file) for a job on the test server."""
    monkeypatch.setenv("FT_TEST_KEY", "sk-ft-test")
    train, val = export(tmp_path)
    return write_profiles(tmp_path, server), tmp_path / "w.sqlite", train, val


def write_profiles(tmp_path: Path, server: OpenAITestServer) -> Path:
    path = tmp_path / "profiles.json"
    base = EndpointProfile(name="base", base_url=server.base_url, model="wrong", api_key_env="FT_TEST_KEY",
                           price_in_per_m=3.0, timeout_s=5)  # fmt: skip
    ProfileStore(path).save({"base": base})
    return path


@pytest.mark.server(answer="model", platform=FAST)
def test_job_runs_registers_its_model_and_beats_its_base(
    openai_server: OpenAITestServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles, store_path, train, val = prepared(tmp_path, openai_server, monkeypatch)
    code = main(["finetune", "start", "--profile", "base", "--train", str(train), "--validation", str(val),
                 "--epochs", "2", "--suffix", "sql", "--seed", "7", "--yes", "--wait", "--max-poll", "0.05",
                 "--profiles", str(profiles), "--store", str(store_path)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "estimated cost: $" in out and "for 2 epochs" in out
    assert "status: running" in out and "Step 3/3: training loss=" in out and "status: succeeded" in out
    registered = {p.name: p for p in ProfileStore(profiles).load().values()}
    (ft_name,) = [n for n in registered if n != "base"]
    ft = registered[ft_name]
    assert ft.model.startswith("ft:wrong:sql:") and "fine-tuned from wrong (base)" in ft.description
    assert ft.base_url == openai_server.base_url and ft.api_key_env == "FT_TEST_KEY"
    store = Store(store_path)
    (job,) = store.jobs()
    assert (job["status"], job["registered_profile"], job["spec"]["epochs"]) == ("succeeded", ft_name, 2)
    assert [e["message"] for e in store.job_events(job["id"])][-1] == "The job has successfully completed"
    uploads = openai_server.platform.files.values()
    assert sorted(f.purpose for f in uploads) == ["fine-tune", "fine-tune"]

    # the new model is a variant beside its base: compare them on the same questions
    dataset = Dataset(Path(__file__).resolve().parents[2] / "resources" / "demo")
    version = store.version_for("zero_shot", load_template("zero_shot").text)
    specs = [VariantSpec("base", "base", version), VariantSpec("fine-tuned", ft_name, version)]
    variants = build_variants(specs, dataset, store, ProfileStore(profiles).load())

    async def run() -> None:
        async for _ in Runner(store, dataset, "dev", variants, "base-vs-ft", limit=30).events():
            pass

    asyncio.run(run())
    pair = RunResults.from_store(store, store.run("base-vs-ft").id).compare("fine-tuned", "base")
    assert (pair.first_only, pair.second_only, pair.n) == (30, 0, 30) and pair.p_value < 1e-6


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.05, steps=2, fail_jobs=True))
def test_a_failed_job_says_why(
    openai_server: OpenAITestServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles, store_path, train, _ = prepared(tmp_path, openai_server, monkeypatch)
    code = main(["finetune", "start", "--profile", "base", "--train", str(train), "--yes", "--wait",
                 "--max-poll", "0.05", "--profiles", str(profiles), "--store", str(store_path)])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1 and "job failed: Job failed" in captured.err
    (job,) = Store(store_path).jobs()
    assert job["status"] == "failed" and job["error"] == "Job failed" and job["registered_profile"] is None
    assert len(ProfileStore(profiles).load()) == 1


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.1, steps=3))
def test_a_restarted_app_reattaches_to_its_job(
    openai_server: OpenAITestServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    profiles, store_path, train, _ = prepared(tmp_path, openai_server, monkeypatch)
    common = ["--profiles", str(profiles), "--store", str(store_path)]
    assert main(["finetune", "start", "--profile", "base", "--train", str(train), "--yes", *common]) == 0
    (job,) = Store(store_path).jobs()
    assert job["status"] == "validating_files"
    assert main(["finetune", "status", *common]) == 0
    assert job["id"] in capsys.readouterr().out
    # a new process knows the job only from the store: it follows it by id to its end
    assert main(["finetune", "status", job["id"], "--watch", "--max-poll", "0.05", *common]) == 0
    out = capsys.readouterr().out
    assert "status: succeeded" in out and "registered as profile" in out
    assert Store(store_path).job(job["id"])["status"] == "succeeded"
    # cancelling a finished job is refused by the API, and said plainly
    assert main(["finetune", "cancel", job["id"], *common]) == 2
    assert "HTTP 400: Job has already succeeded" in capsys.readouterr().err
