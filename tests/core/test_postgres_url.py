"""The one check of a PostgreSQL URL (engines/postgres_url.py), and every caller phrasing its own context."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef
from workbench.core.engines.postgres_url import PASSWORD_REFUSED, url_database, url_problem

FORM = "(postgresql://user@host:port/dbname)"
PORT = f"not a valid URL: a port must be a number from 1 to 65535 {FORM}"
IPV6 = f"not a valid URL: an IPv6 host is written [address] or [address]:port {FORM}"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://reader@db.example:5433/spider",
        "postgres://reader@localhost/shop",
        "postgresql://reader@/spider?host=/run/postgresql&port=5432",  # a Unix socket's folder
        "postgresql://reader@h1:5432,h2:5433/spider",  # libpq's host list
        "postgresql://reader@[::1]:5432/spider",
        "postgresql://reader@localhost/spider?options=-csearch_path%3Dlibrary&sslmode=disable",
    ],
)
def test_urls_we_accept(url: str) -> None:
    assert url_problem(url) == ""


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://reader:hunter2@localhost/spider", PASSWORD_REFUSED),
        ("postgresql://reader:@localhost/spider", PASSWORD_REFUSED),
        ("postgresql://reader@localhost/spider?password=hunter2", PASSWORD_REFUSED),
        ("postgresql://reader@localhost/spider?sslmode=disable&PASS%57ORD=hunter2", PASSWORD_REFUSED),
        ("mysql://reader:hunter2@localhost/spider", f"expected a URL starting postgresql:// {FORM}"),
        ("localhost/spider", f"expected a URL starting postgresql:// {FORM}"),
        ("postgresql://reader@localhost:hunter2/spider", PORT),
        ("postgresql://reader@localhost:70000/spider", PORT),
        ("postgresql://reader@[::1/spider", f"not a valid URL: its host part cannot be read {FORM}"),
        ("postgresql://reader@[::1]5432/spider", IPV6),
        ("postgresql://reader@localhost/spider?hunter2", "not a valid URL: every parameter after ? must be name=value"),
        ("postgresql://reader@:5432/spider", f"expected a host {FORM}"),
        ("postgresql:///spider", f"expected a host {FORM}"),
        ("postgresql://reader@localhost", f"expected a database name {FORM}"),
        ("postgresql://reader@localhost/", f"expected a database name {FORM}"),
    ],
)  # fmt: skip
def test_urls_we_refuse_and_why_without_repeating_them(url: str, reason: str) -> None:
    assert url_problem(url) == reason
    assert "hunter2" not in reason


def test_the_database_a_url_names() -> None:
    assert url_database("postgresql://reader@localhost/my%20shop?sslmode=disable") == "my shop"
    assert url_database("postgresql://reader@localhost") == ""


@pytest.mark.parametrize(
    "url",
    ["postgresql://reader:hunter2@localhost/spider", "mysql://localhost/spider", "postgresql://reader@localhost:x/s"],
)
def test_every_caller_gives_the_one_reason_in_its_own_context(demo_copy: Path, url: str) -> None:
    reason = url_problem(url)
    assert reason
    (demo_copy / "engine.toml").write_text(f'engine = "postgres"\n\nurl = "{url}"\n')
    with pytest.raises(DatasetError) as in_file:
        Dataset(demo_copy)
    assert str(in_file.value) == f"{demo_copy / 'engine.toml'}: line 3, column 1: url: {reason}"
    if url.startswith("postgresql://"):  # only such a text is taken for a URL where a dataset path goes
        with pytest.raises(DatasetError) as as_dataset:
            Dataset(url)
        assert str(as_dataset.value) == f"dataset URL: {reason}"
    on_connect = registry.problem(DatabaseRef("postgres", url, "library"))
    assert on_connect.endswith(f"#library: {reason}")
    assert "hunter2" not in str(in_file.value) + on_connect


def test_the_check_imports_no_driver() -> None:
    code = (
        "import sys, workbench.core.engines.postgres_url as u; "
        "u.url_problem('postgresql://h/d'); print('psycopg' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
