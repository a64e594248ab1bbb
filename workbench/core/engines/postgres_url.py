"""The one check of a PostgreSQL URL, wherever one is given: ``engine.toml``, a dataset URL, the
PostgreSQL dialog, ``dataset convert --url`` and every connection (``postgres_connect.connect``).

Pure Python (no driver): the light commands and the GUI's first frame check a URL without
importing psycopg. A URL we accept is ``postgresql://user@host:port/dbname`` (or ``postgres://``),
with optional libpq parameters after ``?``; a host may be given as ``?host=/socket/dir``, and a
list of hosts as ``host1:port1,host2:port2``. A password, in the user part or as ``?password=``,
is refused. The reason :func:`url_problem` gives never repeats the URL (it may hold the
password being refused): each caller says where the URL came from (the file and key, the
dataset, the dialog's field, the flag).
"""

from __future__ import annotations

from urllib.parse import SplitResult, unquote, urlsplit

URL_SCHEMES = ("postgresql://", "postgres://")
URL_FORM = "postgresql://user@host:port/dbname"
PASSWORD_REFUSED = "a password in the URL is refused: put it in the keyring or an environment variable"


def url_problem(url: str) -> str:
    """Why ``url`` is not a PostgreSQL URL we accept ("" when it is), in words that never repeat it."""
    if not url.startswith(URL_SCHEMES):
        return f"expected a URL starting postgresql:// ({URL_FORM})"
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [ of an IPv6 address
        return f"not a valid URL: its host part cannot be read ({URL_FORM})"
    userinfo, at, hosts = parts.netloc.rpartition("@")
    query = _query(parts)
    if query is None:
        return "not a valid URL: every parameter after ? must be name=value"
    if (at and ":" in userinfo) or "password" in query:
        return PASSWORD_REFUSED
    host_problem, named = _hosts(hosts)
    if host_problem:
        return f"not a valid URL: {host_problem} ({URL_FORM})"
    if not named and not query.get("host") and not query.get("hostaddr"):
        return f"expected a host ({URL_FORM})"
    if not url_database(url):
        return f"expected a database name ({URL_FORM})"
    return ""


def url_database(url: str) -> str:
    """The database name a PostgreSQL URL names (its path)."""
    return unquote(urlsplit(url).path.lstrip("/"))


def _query(parts: SplitResult) -> dict[str, str] | None:
    """The URL's parameters by (decoded) name; None when one is not ``name=value``."""
    found: dict[str, str] = {}
    for pair in filter(None, parts.query.split("&")):
        name, eq, value = pair.partition("=")
        if not eq or not name:
            return None
        found[unquote(name).strip().lower()] = unquote(value)
    return found


def _hosts(hosts: str) -> tuple[str, int]:
    """What is wrong with the URL's host list (``host[:port]`` separated by commas; "" when nothing is), and how
    many hosts it names."""
    if not hosts:
        return "", 0
    named = 0
    for spec in hosts.split(","):
        if spec.startswith("["):  # an IPv6 address: [::1]:5432
            address, closed, rest = spec[1:].partition("]")
            if not closed or not address or (rest and not rest.startswith(":")):
                return "an IPv6 host is written [address] or [address]:port", named
            host, port = address, rest[1:]
        else:
            host, _, port = spec.partition(":")
        if port and not (port.isdigit() and port.isascii() and 1 <= int(port) <= 65535):
            return "a port must be a number from 1 to 65535", named
        named += bool(host)
    return "", named
