"""Talking to a remote triplestore: its service URLs, credentials, and HTTP with retries.

A store is named by its base URL, as users type it (``http://localhost:7878``
for Oxigraph, ``http://localhost:3030/ds`` for a Fuseki dataset,
``http://localhost:8890`` for Virtuoso). :func:`discover` finds its SPARQL
query and update services and its Graph Store Protocol service by probing the
query service and reading the ``Server`` header, then following that product's
conventions; any URL can be given instead.

Credentials never come from the command line: ``KG_ENDPOINT_USER`` and
``KG_ENDPOINT_PASSWORD``, else the netrc file (``$NETRC`` or ``~/.netrc``) entry
for the host. They are sent only when the server asks (HTTP Basic or Digest),
and a URL holding them is refused, so they stay out of shell history and messages.
"""

from __future__ import annotations

import http.client
import logging
import netrc
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, replace

from kg.errors import StoreError

log = logging.getLogger(__name__)

#: Environment variables holding the user name and password for an endpoint.
USER_ENV, PASSWORD_ENV = "KG_ENDPOINT_USER", "KG_ENDPOINT_PASSWORD"
PROTOCOLS = ("auto", "gsp", "update")
_RETRY_STATUS = {408, 429, 502, 503, 504}
_SERVICE_SUFFIXES = ("/query", "/sparql", "/update", "/store", "/data", "/sparql-auth",
                     "/sparql-graph-crud", "/sparql-graph-crud-auth")
_ASK = urllib.parse.urlencode({"query": "ASK {}"})
_RESULTS_JSON = "application/sparql-results+json"


def check_url(url: str) -> str:
    """Return ``url`` if it is an http(s) URL without credentials in it, else raise StoreError.

    >>> check_url("http://localhost:7878/query")
    'http://localhost:7878/query'
    >>> check_url("http://alice:secret@localhost:7878")
    Traceback (most recent call last):
    ...
    kg.errors.StoreError: the endpoint URL holds a user name or password; remove them and set KG_ENDPOINT_USER and KG_ENDPOINT_PASSWORD, or a netrc entry for the host
    """
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise StoreError(f"the endpoint URL holds a user name or password; remove them and set {USER_ENV} and "
                         f"{PASSWORD_ENV}, or a netrc entry for the host")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StoreError(f"endpoint {url!r} is not an http(s) URL; give the store's address, e.g. http://localhost:7878")
    return url


def credentials(url: str) -> tuple[str, str] | None:
    """The user name and password to use for ``url``, or None.

    From the environment variables ``KG_ENDPOINT_USER`` and ``KG_ENDPOINT_PASSWORD``,
    else the entry for the URL's host in the netrc file named by ``$NETRC``
    (default ``~/.netrc``).

    Raises:
        StoreError: The netrc file exists but cannot be parsed.

    >>> os.environ[USER_ENV], os.environ[PASSWORD_ENV] = "alice", "s3cret"
    >>> credentials("http://localhost:7878")
    ('alice', 's3cret')
    >>> del os.environ[USER_ENV], os.environ[PASSWORD_ENV]
    """
    parts = urllib.parse.urlsplit(url)
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    if user:
        return user, password or ""
    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not os.path.isfile(path):
        return None
    try:
        entry = netrc.netrc(path).authenticators(parts.hostname or "")
    except netrc.NetrcParseError as exc:  # its message may quote a password: keep only the line
        raise StoreError(f"cannot read credentials from {path}: not a valid netrc file (line {exc.lineno})") from None
    except OSError as exc:
        raise StoreError(f"cannot read credentials from {path}: {exc.strerror}") from None
    return (entry[0], entry[2] or "") if entry else None


@dataclass(frozen=True)
class Response:
    """An HTTP response: status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def text(self, limit: int = 300) -> str:
        """The start of the body, on one line, for error messages."""
        return " ".join(self.body[:limit].decode("utf-8", "replace").split())


class Http:
    """An HTTP client with timeouts, retries with exponential backoff, and authentication on request.

    Args:
        timeout: Seconds to wait for each response.
        retries: How many times to retry a request that failed to connect, timed out, or got
            408/429/502/503/504.
        backoff: Seconds before the first retry; doubled for each next one (at most 30 s).

    >>> Http(timeout=5, retries=2).retries
    2
    """

    def __init__(self, *, timeout: float = 60.0, retries: int = 3, backoff: float = 0.5):
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self._openers: dict[str, urllib.request.OpenerDirector] = {}

    def _opener(self, url: str) -> urllib.request.OpenerDirector:
        parts = urllib.parse.urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}/"
        if site not in self._openers:
            handlers: list[urllib.request.BaseHandler] = []
            login = credentials(url)
            if login is not None:
                passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
                passwords.add_password(None, site, *login)
                handlers += [urllib.request.HTTPBasicAuthHandler(passwords), urllib.request.HTTPDigestAuthHandler(passwords)]
            self._openers[site] = urllib.request.build_opener(*handlers)
        return self._openers[site]

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        retries: int | None = None,
        timeout: float | None = None,
    ) -> Response:
        """Send one request; return the response, whatever its status.

        Raises:
            StoreError: No response after the retries (connection refused, reset, timed out).
        """
        opener = self._opener(url)
        attempts = 1 + (self.retries if retries is None else retries)
        for attempt in range(attempts):
            request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
            try:
                with opener.open(request, timeout=timeout or self.timeout) as reply:
                    response = Response(reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read())
            except urllib.error.HTTPError as exc:
                response = Response(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()},
                                    exc.read() if exc.fp is not None else b"")
                exc.close()
            except (urllib.error.URLError, http.client.HTTPException, socket.timeout, ConnectionError, OSError) as exc:
                problem = _reason(exc)
                if attempt + 1 < attempts:
                    self.pause(attempt, f"{method} {url}: {problem}")
                    continue
                raise StoreError(
                    f"no answer from {url}: {problem}"
                    + (f" (after {attempts} attempts)" if attempts > 1 else "")
                    + "; check that the server is running and the URL is right"
                ) from None
            if response.status in _RETRY_STATUS and attempt + 1 < attempts:
                self.pause(attempt, f"{method} {url}: HTTP {response.status}")
                continue
            return response
        raise AssertionError("unreachable")

    def pause(self, attempt: int, what: str) -> None:
        """Wait before retry number ``attempt + 1`` (0-based ``attempt``), logging why."""
        delay = min(self.backoff * 2**attempt, 30.0)
        log.warning("%s; retrying in %.1fs", what, delay)
        time.sleep(delay)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
        return "connection closed by the server"
    text = getattr(reason, "strerror", None) or str(reason)
    return " ".join(text.split()) or type(reason).__name__


@dataclass(frozen=True)
class Endpoint:
    """The services of one remote store.

    Attributes:
        query_url: The SPARQL 1.1 query service.
        update_url: The SPARQL 1.1 update service.
        gsp_url: The SPARQL 1.1 Graph Store HTTP Protocol service, or None to load with SPARQL Update.
        product: ``"oxigraph"``, ``"fuseki"``, ``"virtuoso"`` or ``"unknown"`` (from the ``Server`` header).
    """

    query_url: str
    update_url: str
    gsp_url: str | None
    product: str = "unknown"

    @property
    def quads_post(self) -> bool:
        """Whether the Graph Store service takes N-Quads for several graphs in one POST, and bulk loads (Oxigraph)."""
        return self.product == "oxigraph"


def _conventions(base: str, product: str, authenticated: bool) -> tuple[str, str | None]:
    """The update and Graph Store URLs of a ``product`` served at ``base``."""
    if product == "oxigraph":
        return f"{base}/update", f"{base}/store"
    if product == "fuseki":
        return f"{base}/update", f"{base}/data"
    if product == "virtuoso":  # only the -auth services accept writes from a logged-in user
        suffix = "-auth" if authenticated else ""
        return f"{base}/sparql{suffix}", f"{base}/sparql-graph-crud{suffix}"
    return f"{base}/update", None


def _product(server: str) -> str:
    """The product named in a ``Server`` header.

    >>> _product("Virtuoso/07.20.3229 (Linux) x86_64-pc-linux-gnu"), _product("Apache Jena Fuseki (5.1.0)")
    ('virtuoso', 'fuseki')
    """
    server = server.lower()
    return next((p for p in ("oxigraph", "fuseki", "virtuoso") if p in server), "unknown")


def discover(
    url: str,
    *,
    http: Http | None = None,
    query_url: str | None = None,
    update_url: str | None = None,
    gsp_url: str | None = None,
    protocol: str = "auto",
) -> Endpoint:
    """Find the query, update and Graph Store services of the store at ``url``.

    The query service is the first of ``URL/query``, ``URL/sparql`` and ``URL`` that
    answers ``ASK {}``; its ``Server`` header names the product, whose
    conventions give the other two (Oxigraph: ``/update``, ``/store``; Fuseki:
    ``/update``, ``/data``; Virtuoso: ``/sparql-auth``, ``/sparql-graph-crud-auth``
    with credentials). A URL that ends with a service path (``/query``,
    ``/sparql``, ...) is taken as the service on that base.

    Args:
        url: The store's base URL.
        http: The client to probe with.
        query_url, update_url, gsp_url: Services to use instead of the discovered ones.
        protocol: ``"auto"`` (the Graph Store Protocol where there is one, else SPARQL Update),
            ``"gsp"`` or ``"update"`` (load with ``INSERT DATA`` only).

    Raises:
        StoreError: No query service answers, or a bad ``protocol``.
    """
    if protocol not in PROTOCOLS:
        raise StoreError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    for given in (url, query_url, update_url, gsp_url):
        if given is not None:
            check_url(given)
    http = http or Http(retries=0, timeout=10)
    base = url.rstrip("/")
    for suffix in _SERVICE_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    candidates = [query_url] if query_url else [f"{base}/query", f"{base}/sparql", base]
    found, product, tried = None, "unknown", []
    for candidate in candidates:
        response = http.request("GET", f"{candidate}?{_ASK}", headers={"Accept": _RESULTS_JSON})
        tried.append(f"{candidate} (HTTP {response.status})")
        if response.status == 200 and (b'"boolean"' in response.body or b"ASK_RETVAL" in response.body):
            found, product = candidate, _product(response.headers.get("server", ""))
            break
        if response.status == 401:
            raise StoreError(f"{candidate} answered HTTP 401: " + ("it refused the credentials" if credentials(url) else
                             f"it needs credentials: set {USER_ENV} and {PASSWORD_ENV}, or a netrc entry for the host"))
    if found is None:
        raise StoreError(f"no SPARQL query service at {url}: tried {', '.join(tried)}; give it with --query-url")
    update, gsp = _conventions(base, product, credentials(url) is not None)
    if product == "unknown" and gsp_url is None and protocol != "update":
        for candidate in (f"{base}/store", f"{base}/data"):
            if http.request("HEAD", f"{candidate}?default").status == 200:
                gsp = candidate
                break
    endpoint = Endpoint(found, update_url or update, gsp_url or gsp, product)
    if protocol == "update":
        endpoint = replace(endpoint, gsp_url=None)
    elif protocol == "gsp" and endpoint.gsp_url is None:
        raise StoreError(f"found no Graph Store Protocol service at {base}; give it with --gsp-url or use --protocol update")
    log.info("endpoint %s: %s", url, endpoint)
    return endpoint
