"""`workbench run` (`workbench runs` and `workbench report` are in ``runs.py``)."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from dataclasses import replace
from pathlib import Path

from workbench.cli.common import (
    CliError,
    add_dataset_args,
    add_limit_args,
    add_privileged_role_arg,
    exec_limits,
    non_negative_int,
    open_dataset,
    positive_float,
    positive_int,
)
from workbench.cli.run_output import Progress
from workbench.cli.runs import print_report, store_arg, unreadable
from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.endpoints.connection import require_keys
from workbench.core.endpoints.platform import PlatformError
from workbench.core.endpoints.profiles import EndpointProfile, ProfileError, ProfileStore, check_base_url
from workbench.core.prompts.template_bounds import DEFAULT_LIMITS, TemplateLimits
from workbench.core.prompts.templates import TemplateProblem
from workbench.core.retrieval.registry import recipe_names
from workbench.core.runs.batch import BatchRunner
from workbench.core.runs.batch_lines import MAX_BYTES, MAX_REQUESTS, BatchLimits
from workbench.core.runs.events import RunFinished, RunStarted
from workbench.core.runs.runner import Runner, Variant
from workbench.core.runs.runspec import SpecError, VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.runs.variant_file import VariantFileError, read_limits, read_variant_file, specs_for
from workbench.core.store import Store, StoreError
from workbench.local.models import LocalModelError


def _variants(args: argparse.Namespace) -> list[Variant]:
    """The variants the options name, as specs (``VariantSpec``), built by the one builder."""
    specs: list[VariantSpec] = []
    profiles: dict[str, EndpointProfile] = {}
    if args.base_url or args.model:
        if not (args.base_url and args.model):
            raise CliError("an ad-hoc endpoint needs both --base-url and --model")
        check_base_url(args.base_url, "--base-url")
        profiles[args.model] = EndpointProfile(name=args.model, base_url=args.base_url, model=args.model,
                                               api_key_env=args.api_key_env, concurrency=args.concurrency or 8,
                                               rpm=args.rpm, timeout_s=args.timeout)  # fmt: skip
        specs.append(VariantSpec(args.model, args.model, None))
    try:
        known = ProfileStore(args.profiles).load() if args.variant else {}
        entries = read_variant_file(args.variants) if args.variants and args.variant else {}
    except (ProfileError, VariantFileError) as exc:
        raise CliError(str(exc)) from None
    store = Store(args.store)
    try:
        named, used = specs_for(args.variant or [], entries, known, store)
        for spec in named if args.concurrency else []:
            used[spec.profile].concurrency = args.concurrency
        specs, profiles = specs + named, {**profiles, **used}
        try:
            dataset = Dataset(args.dataset, args.questions, args.allow_privileged_role)
        except DatasetError as exc:  # named by the first variant that reads a template, as before
            first = next((s.name for s in specs if s.template_version is not None), None)
            raise CliError(f"variant {first!r}: {exc}" if first else str(exc)) from None
        return build_variants(specs, dataset, store, profiles, _limits(args))
    except (SpecError, TemplateProblem) as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()


def _limits(args: argparse.Namespace) -> TemplateLimits:
    for flag, value in (
        ("--max-prompt-kb", args.max_prompt_kb),
        ("--template-iterations", args.template_iterations),
        ("--template-time-limit", args.template_time_limit),
    ):
        if not value > 0:
            raise CliError(f"{flag} must be more than 0 (got {value})")
    return TemplateLimits(int(args.max_prompt_kb * 1000), args.template_iterations, args.template_time_limit)


def cmd_run(args: argparse.Namespace) -> int:
    _limits(args)
    variants = _variants(args)
    files = {v.profile.name for v in variants if v.profile.local_file}
    if files:  # locally fine-tuned models: a llama.cpp server each, for this command
        from workbench.local.serving import served

        try:
            with served({v.profile.name: v.profile for v in variants}, files) as live:
                return _run(args, [replace(v, profile=live[v.profile.name]) for v in variants])
        except LocalModelError as exc:
            raise CliError(str(exc)) from None
    if variants:
        return _run(args, variants)
    # no endpoint given: the embedded local model, with no key and no network
    from workbench.cli.local import local_variants_for_run

    dataset = open_dataset(args)
    with local_variants_for_run(dataset, args.store, args.local_mode or ["fewshot"]) as local:
        return _run(args, local)


def _run(args: argparse.Namespace, variants: list[Variant]) -> int:
    dataset = open_dataset(args)
    try:
        require_keys(v.profile for v in variants)  # fail now, clearly, rather than on the first request
        split = dataset.load_split(args.split)
    except (ProfileError, DatasetError) as exc:
        raise CliError(str(exc)) from None
    for line in split.database_warnings():
        print(f"warning: {line}", file=sys.stderr)
    try:
        sql_limits = exec_limits(args, read_limits(args.variants) if args.variants else None)
    except VariantFileError as exc:
        raise CliError(str(exc)) from None
    store = Store(args.store)
    name = args.run_name or f"{dataset.name}-{args.split}-{time.strftime('%Y%m%d-%H%M%S')}"
    if args.batch:
        limits = BatchLimits(args.batch_max_requests, MAX_BYTES, min(5.0, args.batch_poll), args.batch_poll)
        runner: Runner = BatchRunner(store, dataset, args.split, variants, name, limit=args.limit,
                                     resume=args.resume, limits=limits, exec_limits=sql_limits)  # fmt: skip
    else:
        runner = Runner(store, dataset, args.split, variants, name, limit=args.limit, resume=args.resume,
                        exec_limits=sql_limits)  # fmt: skip
    progress = Progress(sys.stderr)
    try:
        runner.preflight()  # outside the event loop, so Ctrl+C stops a slow template at once
    except (TemplateProblem, DatasetError) as exc:
        store.close()
        raise CliError(str(exc)) from None

    async def consume() -> int:
        async for event in runner.events():
            if isinstance(event, RunStarted):
                progress.started(event)
            elif isinstance(event, RunFinished):
                progress.finish(event)
                return event.run_id
            else:
                progress.update(event)
        raise RuntimeError("the run ended without a RunFinished event")

    try:
        run_id = asyncio.run(consume())
    except (StoreError, PlatformError, TemplateProblem) as exc:
        raise CliError(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        raise unreadable(args.store, exc) from None
    finally:
        store.close()
    return print_report(args.store, run_id, as_json=False)


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    add_dataset_args(run, "dev")
    add_privileged_role_arg(run)
    run.add_argument(
        "--variant", action="append", help="a variant from --variants, or an endpoint profile name (repeat to compare)"
    )
    run.add_argument(
        "--variants",
        type=Path,
        help="TOML file of variants: [[variant]] name, profile, template, "
        f"retrieval ({'|'.join(recipe_names())}), k, schema_tables, embedding_profile",
    )
    run.add_argument("--base-url", help="ad-hoc OpenAI-compatible endpoint")
    run.add_argument("--model", help="model name for --base-url")
    run.add_argument("--api-key-env", help="environment variable holding the key for --base-url")
    run.add_argument("--concurrency", type=positive_int, help="requests in flight per endpoint")
    run.add_argument("--rpm", type=positive_int, help="requests per minute for --base-url")
    run.add_argument("--timeout", type=positive_float, default=60.0, help="seconds per request for --base-url")
    run.add_argument("--limit", type=non_negative_int, help="only the first N questions")
    run.add_argument("--run-name", help="name of the run (default: dataset-split-time)")
    run.add_argument("--resume", action="store_true", help="continue the named run (reattaches to its batches)")
    run.add_argument(
        "--batch", action="store_true", help="send through the OpenAI Batch API (cheaper, answers within 24 h)"
    )
    run.add_argument("--batch-max-requests", type=positive_int, default=MAX_REQUESTS, help=argparse.SUPPRESS)
    run.add_argument(
        "--batch-poll", type=positive_float, default=60.0, help="longest wait between batch status checks (s)"
    )
    run.add_argument("--profiles", type=Path, help="profiles file (default: the user's config folder)")
    add_limit_args(run)
    run.add_argument(
        "--max-prompt-kb",
        type=float,
        default=DEFAULT_LIMITS.max_output_bytes / 1000,
        help="refuse a template whose prompt passes this size (default: %(default)g kB)",
    )
    run.add_argument(
        "--template-iterations",
        type=int,
        default=DEFAULT_LIMITS.max_iterations,
        help="loop iterations and calls a template may make per prompt (default: %(default)s)",
    )
    run.add_argument(
        "--template-time-limit",
        type=float,
        default=DEFAULT_LIMITS.time_limit_s,
        help="seconds a template may take to render one prompt (default: %(default)g)",
    )
    run.add_argument(
        "--local-mode",
        action="append",
        choices=("fewshot", "grammar", "chat"),
        help="prompt style(s) for the local model used when no endpoint is given (default: fewshot)",
    )
    store_arg(run)
    run.set_defaults(func=cmd_run)
