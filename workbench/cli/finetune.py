"""`workbench finetune export | validate | start | status | cancel`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.cli.common import CliError, add_dataset_args, non_negative_int, open_dataset, positive_int
from workbench.core.data.dataset import DatasetError
from workbench.core.endpoints.profiles import EndpointProfile, ProfileError, ProfileStore
from workbench.core.finetune.export import ANSWER_STYLES, export_training_data
from workbench.core.finetune.jobs import (
    JobError,
    JobInfo,
    PlatformClient,
    register_model,
    start_job,
    stored_status,
    watch,
)
from workbench.core.finetune.validate import DEFAULT_EPOCHS, DEFAULT_MAX_TOKENS, validate
from workbench.core.prompts.context import ContextBuilder, load_template
from workbench.core.prompts.templates import TemplateProblem
from workbench.core.retrieval.registry import export_recipes
from workbench.core.runs.runspec import COMPLETION_PREFIX
from workbench.core.secrets import mask
from workbench.core.store import Store, StoreError, default_store_path
from workbench.local.finetune import backend


def cmd_export(args: argparse.Namespace) -> int:
    dataset = open_dataset(args)
    try:
        items = dataset.load_split(args.split).items
        template = load_template(args.template)
    except (DatasetError, ValueError, TemplateProblem) as exc:
        raise CliError(str(exc)) from None
    builder = ContextBuilder(dataset, template, args.retrieval, args.k, train_split=args.split)
    prefix = COMPLETION_PREFIX if template.text.rstrip().endswith(COMPLETION_PREFIX) else ""
    options = {"dedupe": not args.keep_duplicates, "style": args.answer_style, "answer_prefix": prefix}
    try:
        result = export_training_data(builder, items, args.out, args.validation_fraction, args.seed, **options)
    except TemplateProblem as exc:  # a bound or error on one of the questions
        raise CliError(str(exc)) from None
    except ValueError as exc:  # the validation fraction
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {result.train} training examples to {result.train_path}")
    if result.validation_path:
        print(f"wrote {result.validation} validation examples to {result.validation_path}")
    if result.duplicates_dropped:
        print(f"dropped {result.duplicates_dropped} duplicate question(s)")
    for line in result.skipped:
        print(f"skipped {line}", file=sys.stderr)
    return 0


def checked(train: Path, validation: Path | None, max_tokens: int, epochs: int, price_per_m: float) -> None:
    """Print the checks and the estimate; stop with exit 2 when the file is unusable."""
    report = validate(train, validation, max_tokens=max_tokens)
    print(report.summary(epochs, price_per_m))
    if not report.ok:
        raise CliError(f"{train} is not usable for fine-tuning ({len(report.errors)} problem(s) above)")


def cmd_validate(args: argparse.Namespace) -> int:
    checked(args.file, args.validation, args.max_tokens, args.epochs, args.price_per_m)
    return 0


def _client(args: argparse.Namespace) -> PlatformClient:
    try:
        profile = ProfileStore(args.profiles).get(args.profile)
        return PlatformClient(profile)
    except ProfileError as exc:
        raise CliError(str(exc)) from None


def _print_event(event: dict[str, Any]) -> None:
    print(f"  [{event.get('level', 'info')}] {mask(str(event.get('message', '')))}", flush=True)


def _registrar(store: Store, args: argparse.Namespace) -> Callable[[JobInfo], EndpointProfile]:
    """Register a succeeded job's model as a profile beside its base (the job reads "succeeded" after)."""

    def register(job: JobInfo) -> EndpointProfile:
        profiles = ProfileStore(args.profiles)
        profile = register_model(profiles, profiles.get(store.job(job.id)["profile"]), job, store)
        print(f"model {job.fine_tuned_model} registered as profile {profile.name!r} ({profile.description})")
        return profile

    return register


def _follow(client: PlatformClient, store: Store, job_id: str, args: argparse.Namespace) -> JobInfo:
    async def go() -> JobInfo:
        try:
            return await watch(client, store, job_id, _print_event, lambda j: print(f"status: {j.status}", flush=True),
                               max_poll_s=args.max_poll, first_poll_s=min(1.0, args.max_poll),
                               register=_registrar(store, args))  # fmt: skip
        finally:
            await client.aclose()

    job = asyncio.run(go())
    if job.status == "failed":
        print(f"job failed: {job.error or 'no reason given'}", file=sys.stderr)
    return job


def _local_finish(store: Store, job_id: str, args: argparse.Namespace, status: str) -> int:
    if status != "trained":
        job = store.job(job_id)
        print(f"job {job_id} {status}" + (f": {job['error']}" if job["error"] else ""), file=sys.stderr)
        return 1 if status == "failed" else 0
    try:
        profile = backend.check_and_register(store, ProfileStore(args.profiles), job_id, args.train.name if
                                             getattr(args, "train", None) else "")  # fmt: skip
    except backend.LocalFineTuneError as exc:
        raise CliError(str(exc)) from None
    print(f"model {profile.model} checked and registered as profile {profile.name!r} ({profile.description})")
    return 0


def _last_event_ends(store: Store, job_id: str) -> bool:
    events = store.job_events(job_id)
    return bool(events) and events[-1]["data"].get("event") in ("cancelled", "error", "done")


def cmd_start_local(args: argparse.Namespace) -> int:
    store = Store(args.store)
    try:
        if args.continue_job:
            job_id = args.continue_job
            finished = store.job(job_id)["status"] in ("cancelled", "failed") or _last_event_ends(store, job_id)
            if backend.alive(store, job_id) and not (finished and backend.wait_until_stopped(store, job_id)):
                raise CliError(f"job {job_id} is running; follow it with: workbench finetune status {job_id} --watch")
        else:
            if args.train is None:
                raise CliError("--train FILE is needed (make one with: workbench finetune export --answer-style plain)")
            checked(args.train, None, args.max_tokens, args.epochs or 2, 0.0)
            options = {"epochs": args.epochs or 2, "method": args.method, "max_steps": args.steps or 0,
                       "max_rss_mb": args.max_memory_mb, "seed": args.seed or 0}  # fmt: skip
            job_id = backend.new_job(store, args.train, **options)
        backend.start(store, job_id)
        print(f"started local job {job_id} (training in its own process; cancel: workbench finetune cancel {job_id})")
        if not args.wait:
            print(f"follow it with: workbench finetune status {job_id} --watch")
            return 0
        status = asyncio.run(backend.follow(store, job_id, _print_event))
        return _local_finish(store, job_id, args, status)
    except (backend.LocalFineTuneError, StoreError) as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()


def cmd_start(args: argparse.Namespace) -> int:
    if args.backend == "local":
        return cmd_start_local(args)
    if args.profile is None or args.train is None:
        raise CliError("the API backend needs --profile NAME and --train FILE")
    profiles = ProfileStore(args.profiles)
    try:
        profile = profiles.get(args.profile)
    except ProfileError as exc:
        raise CliError(str(exc)) from None
    price = args.price_per_m if args.price_per_m is not None else profile.price_in_per_m
    checked(args.train, args.validation, args.max_tokens, args.epochs or DEFAULT_EPOCHS, price)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("confirm the cost above with --yes (no terminal to ask on)")
        if input(f"start fine-tuning {args.base_model or profile.model}? [y/N] ").strip().lower() not in ("y", "yes"):
            print("not started")
            return 1
    client = _client(args)
    store = Store(args.store)
    options = {"epochs": args.epochs, "suffix": args.suffix, "seed": args.seed}

    async def go() -> JobInfo:
        try:
            return await start_job(client, store, args.train, args.validation, args.base_model or profile.model,
                                   **options)  # fmt: skip
        finally:
            if not args.wait:
                await client.aclose()

    try:
        job = asyncio.run(go())
        print(f"started job {job.id} ({job.status}); follow it with: workbench finetune status {job.id} --watch")
        if args.wait:
            job = _follow(_client(args), store, job.id, args)
    except JobError as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()
    return 0 if job.status != "failed" else 1


def cmd_status(args: argparse.Namespace) -> int:
    store = Store(args.store)
    try:
        if not args.job:
            jobs = store.jobs()
            if not jobs:
                print("no fine-tuning jobs in the store")
            for j in jobs:
                model = j["fine_tuned_model"] or "-"
                print(f"{j['id']}  {j['status']:<16} {j['base_model']} -> {model}  (profile {j['profile']})")
            return 0
        try:
            record = store.job(args.job)
        except StoreError as exc:
            raise CliError(str(exc)) from None
        if record["spec"].get("backend") == backend.LOCAL_BACKEND:
            return _status_local(store, record, args)
        args.profile = record["profile"]
        client = _client(args)
        if args.watch:
            for event in store.job_events(args.job):
                _print_event(event)
            job = _follow(client, store, args.job, args)
        else:
            job = asyncio.run(_once(client, store, args.job, _registrar(store, args)))
            for event in store.job_events(args.job)[-args.events :]:
                _print_event(event)
        print(f"{job.id}: {job.status}" + (f", model {job.fine_tuned_model}" if job.fine_tuned_model else "")
              + (f", error: {job.error}" if job.error else ""))  # fmt: skip
        return 0
    except JobError as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()


def _status_local(store: Store, record: dict[str, Any], args: argparse.Namespace) -> int:
    job_id = record["id"]
    if args.watch and record["status"] in ("running", "queued"):
        for event in store.job_events(job_id):
            _print_event(event)
        status = asyncio.run(backend.follow(store, job_id, _print_event))
        args.train = Path(record["spec"]["train_path"])
        return _local_finish(store, job_id, args, status)
    if args.watch and record["status"] == "trained":
        args.train = Path(record["spec"]["train_path"])
        return _local_finish(store, job_id, args, "trained")
    for event in store.job_events(job_id)[-args.events :]:
        _print_event(event)
    job = store.job(job_id)
    running = " (process running)" if backend.alive(store, job_id) else ""
    model = f", model {job['fine_tuned_model']}" if job["fine_tuned_model"] else ""
    print(f"{job_id}: {job['status']}{running}{model}" + (f", error: {job['error']}" if job["error"] else ""))
    return 0


async def _once(
    client: PlatformClient, store: Store, job_id: str, register: Callable[[JobInfo], EndpointProfile]
) -> JobInfo:
    try:
        job = await client.retrieve(job_id)
        store.save_job_events(job_id, await client.events(job_id))
        store.update_job(job_id, status=stored_status(job), fine_tuned_model=job.fine_tuned_model, error=job.error)
        if job.status == "succeeded" and not store.job(job_id)["registered_profile"]:
            register(job)
        return job
    finally:
        await client.aclose()


def cmd_cancel(args: argparse.Namespace) -> int:
    store = Store(args.store)
    try:
        record = store.job(args.job)
        if record["spec"].get("backend") == backend.LOCAL_BACKEND:
            stopped = backend.cancel(store, args.job)
            print(f"{args.job}: " + ("stopping (a checkpoint is saved first; continue with "
                                     f"workbench finetune start --backend local --continue {args.job})"
                                     if stopped else f"not running ({record['status']})"))  # fmt: skip
            return 0
        args.profile = record["profile"]
        client = _client(args)

        async def go() -> JobInfo:
            try:
                return await client.cancel(args.job)
            finally:
                await client.aclose()

        job = asyncio.run(go())
        store.update_job(args.job, status=job.status)
        print(f"{job.id}: {job.status}")
        return 0
    except (StoreError, JobError) as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ft = sub.add_parser("finetune", help="training data, validation and fine-tuning jobs")
    verbs = ft.add_subparsers(dest="verb", required=True)

    export = verbs.add_parser("export", help="render a split through a template into chat JSONL")
    add_dataset_args(export, "train")
    export.add_argument("--out", type=Path, required=True, help="training file; validation goes beside it")
    export.add_argument("--template", default="zero_shot", help="bundled template name or .prompt file")
    export.add_argument("--retrieval", default="none", choices=export_recipes())
    export.add_argument("--k", type=non_negative_int, default=3)
    export.add_argument("--validation-fraction", type=float, default=0.1)
    export.add_argument("--seed", type=int, default=0)
    export.add_argument("--keep-duplicates", action="store_true", help="keep repeated questions (default: drop)")
    export.add_argument("--answer-style", choices=ANSWER_STYLES, default="fenced",
                        help="assistant turn: fenced ```sql block (default) or the plain query")  # fmt: skip
    export.set_defaults(func=cmd_export)

    check = verbs.add_parser("validate", help="check a training file; exit 2 with the reasons if unusable")
    check.add_argument("file", type=Path)
    check.add_argument("--validation", type=Path)
    check.add_argument("--max-tokens", type=positive_int, default=DEFAULT_MAX_TOKENS, help="per example")
    check.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS)
    check.add_argument("--price-per-m", type=float, default=0.0, help="training $ per million tokens")
    check.set_defaults(func=cmd_validate)

    start = verbs.add_parser("start", help="validate, show the cost, and start a job (API or local CPU)")
    start.add_argument("--backend", choices=("api", "local"), default="api",
                       help="api: a fine-tuning API (--profile); local: the embedded model, on this CPU")  # fmt: skip
    start.add_argument("--profile", help="endpoint profile of the API that trains")
    start.add_argument("--train", type=Path)
    start.add_argument("--validation", type=Path)
    start.add_argument("--base-model", help="model to fine-tune (default: the profile's model)")
    start.add_argument("--epochs", type=positive_int)
    start.add_argument("--suffix")
    start.add_argument("--seed", type=int)
    start.add_argument("--max-tokens", type=positive_int, default=DEFAULT_MAX_TOKENS)
    start.add_argument(
        "--price-per-m", type=float, help="training $ per million tokens (default: the profile's input price)"
    )
    start.add_argument("--yes", action="store_true", help="start without asking")
    start.add_argument("--method", choices=("full", "lora"), default="full", help="local: all weights, or LoRA")
    start.add_argument("--steps", type=int, help="local: stop after N optimizer steps (a quick trial)")
    start.add_argument("--max-memory-mb", type=int, default=4000, help="local: memory to stay under (smaller passes)")
    start.add_argument("--continue", dest="continue_job", metavar="JOB", help="local: continue a stopped job")
    start.add_argument("--wait", action="store_true", help="follow the job to its end and register the model")
    start.set_defaults(func=cmd_start)

    status = verbs.add_parser("status", help="list jobs, or show one (reattaches by id)")
    status.add_argument("job", nargs="?")
    status.add_argument("--watch", action="store_true", help="follow to the end; a success registers the model")
    status.add_argument("--events", type=int, default=10, help="recent events to show")
    status.set_defaults(func=cmd_status)

    cancel = verbs.add_parser("cancel", help="cancel a running job")
    cancel.add_argument("job")
    cancel.set_defaults(func=cmd_cancel)

    for p in (start, status, cancel):
        p.add_argument("--profiles", type=Path, help="profiles file (default: the user's config folder)")
        p.add_argument("--store", type=Path, default=default_store_path())
        p.add_argument("--max-poll", type=float, default=30.0, help=argparse.SUPPRESS)
