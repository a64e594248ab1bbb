"""`workbench finetune export | validate | start | status | cancel`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from workbench.cli.common import CliError, add_dataset_args, non_negative_int, open_dataset, positive_int
from workbench.core.data.dataset import DatasetError
from workbench.core.endpoints.profiles import EndpointProfile, ProfileError, ProfileStore
from workbench.core.finetune.backends import (
    API_BACKEND,
    FineTuneBackend,
    FineTuneContext,
    FineTuneError,
    TrainingRequest,
    backend_named,
    backend_names,
    backend_of,
)
from workbench.core.finetune.export import ANSWER_STYLES, export_training_data
from workbench.core.finetune.validate import DEFAULT_EPOCHS, DEFAULT_MAX_TOKENS, validate
from workbench.core.prompts.context import ContextBuilder, load_template
from workbench.core.prompts.templates import TemplateProblem
from workbench.core.retrieval.registry import export_recipes
from workbench.core.runs.runspec import COMPLETION_PREFIX
from workbench.core.secrets import mask
from workbench.core.store import Store, StoreError, default_store_path
from workbench.local.finetune import backend as local_backend  # noqa: F401  (registers the "local" backend)


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


def _print_event(event: dict[str, Any]) -> None:
    print(f"  [{event.get('level', 'info')}] {mask(str(event.get('message', '')))}", flush=True)


def _print_status(status: str) -> None:
    print(f"status: {status}", flush=True)


def _backend(args: argparse.Namespace, store: Store, record: dict[str, Any] | None = None) -> FineTuneBackend:
    """The backend that made a stored job, or (no ``record``) the one chosen with --backend and --profile."""
    backend: FineTuneBackend | None = None

    def registered(profile: EndpointProfile) -> None:
        how = backend.registration if backend is not None else "registered"
        print(f"model {profile.model} {how} as profile {profile.name!r} ({profile.description})")

    context = FineTuneContext(store, ProfileStore(args.profiles), registered, args.max_poll)
    try:
        if record is not None:
            backend = backend_of(record, context)
        else:
            backend = backend_named(args.backend, context, args.profile)
    except (ProfileError, FineTuneError) as exc:
        raise CliError(str(exc)) from None
    return backend


def _ended(store: Store, job_id: str, status: str) -> int:
    """Say how a followed job ended unless it succeeded (its model is registered then); 1 when it failed."""
    if status == "failed":
        print(f"job failed: {store.job(job_id)['error'] or 'no reason given'}", file=sys.stderr)
        return 1
    if status != "succeeded":
        print(f"job {job_id} {status}", file=sys.stderr)
    return 0


def _confirmed(base_model: str) -> bool:
    if not sys.stdin.isatty():
        raise CliError("confirm the cost above with --yes (no terminal to ask on)")
    return input(f"start fine-tuning {base_model}? [y/N] ").strip().lower() in ("y", "yes")


def cmd_start(args: argparse.Namespace) -> int:
    store = Store(args.store)
    try:
        backend = _backend(args, store)
        request = TrainingRequest(args.train, args.validation, args.base_model, args.epochs, args.seed, args.suffix,
                                  args.method, args.steps or 0, args.max_memory_mb,
                                  resume=args.continue_job)  # fmt: skip
        backend.check(request)
        if request.resume is None:
            price = args.price_per_m if args.price_per_m is not None else backend.price_per_m
            checked(args.train, args.validation, args.max_tokens, args.epochs or backend.default_epochs, price)
            if backend.paid and not args.yes and not _confirmed(args.base_model or backend.default_base_model):
                print("not started")
                return 1
        started = asyncio.run(backend.start(request))
        print(started.message, flush=True)
        if not args.wait:
            print(f"follow it with: workbench finetune status {started.job_id} --watch")
            return 0
        return _ended(store, started.job_id, asyncio.run(backend.follow(started.job_id, _print_event, _print_status)))
    except (FineTuneError, ProfileError, StoreError) as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()


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
        backend = _backend(args, store, store.job(args.job))
        if args.watch:
            for event in store.job_events(args.job):
                _print_event(event)
            _ended(store, args.job, asyncio.run(backend.follow(args.job, _print_event, _print_status)))
        else:
            asyncio.run(backend.refresh(args.job))
            for event in store.job_events(args.job)[-args.events :]:
                _print_event(event)
        job = store.job(args.job)
        running = " (process running)" if backend.alive(args.job) else ""
        model = f", model {job['fine_tuned_model']}" if job["fine_tuned_model"] else ""
        print(f"{job['id']}: {job['status']}{running}{model}" + (f", error: {job['error']}" if job["error"] else ""))
        return 0
    except (FineTuneError, ProfileError, StoreError) as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()


def cmd_cancel(args: argparse.Namespace) -> int:
    store = Store(args.store)
    try:
        backend = _backend(args, store, store.job(args.job))
        print(f"{args.job}: {asyncio.run(backend.cancel(args.job))}")
        return 0
    except (FineTuneError, ProfileError, StoreError) as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()


def add_arguments(ft: argparse.ArgumentParser) -> None:
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
    start.add_argument("--backend", choices=backend_names(), default=API_BACKEND,
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
