"""API keys: held only in ``Secret``, and scrubbed from everything kept or shown.

``Secret`` wraps a key so that its ``repr``, ``str``, formatting, JSON and pickles never
show it; ``reveal()`` is called only where a request is built (its auth and credential
headers, and a base URL that carries a key).

``redact(value)`` is the one redaction routine for the whole library (raw exchanges,
history entries, traces, cache keys, error messages). It replaces, in strings at any depth
of dicts/lists/tuples:

- the value of every ``Secret`` created in this process,
- the value of every environment variable named like a credential (``*_API_KEY``,
  ``*API_KEY``, ``*_TOKEN``, ``*_SECRET``) and the password of every URL-valued one
  (``HTTPS_PROXY=http://user:pw@proxy``), read again when the environment changes so keys
  set later count,
- strings shaped like well-known provider keys (``sk-...``, ``sk-ant-...``, ``AIza...``,
  ``gsk_...``),

and the whole value of any mapping entry whose key names a credential (``authorization``,
``x-api-key``, ``api_key``, ...). ``redact_headers`` does the same for HTTP headers, where
any header named like a credential counts (``cf-aig-authorization``, ``x-portkey-api-key``,
``Helicone-Auth``, ``x-auth-token``: ``is_secret_header``); ``RemoteLM`` keeps such headers,
and headers given as ``Secret``, as ``Secret``, so they are redacted by value everywhere,
even where a server echoes them back in an error body, a header or the answer.

Keys inside URLs count too: ``register_url_secrets`` registers the password of a URL's
userinfo (and its ``Basic`` form), credential-named query parameters (``?key=``), and
``without_url_secrets`` gives the URL that may be shown.

``redact_text`` is the routine for one string; ``StreamScrubber`` the one for text that
arrives in pieces (a key may be split across stream events); ``redact_exception`` cleans an
exception chain of other libraries' errors. ``RedactingFilter`` cleans log records (message,
exception text, stack): ``redact_http_logs()`` puts it on the httpx/httpcore loggers, whose
DEBUG records quote raw response headers, and every ``lmbench`` logger carries it.

Cost: the set of known secrets is made again only when it changes (see ``_Known``); a
search is one C-speed substring scan per known secret (a handful: measured about 2 us to
check a response body on a call, and nothing more when no key is in it).
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, NoReturn
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from lmbench.errors import ConfigError

__all__ = [
    "REDACTED",
    "RedactingFilter",
    "Secret",
    "StreamScrubber",
    "holds_secret",
    "is_secret_header",
    "is_secret_name",
    "redact",
    "redact_exception",
    "redact_headers",
    "redact_http_logs",
    "redact_text",
    "redacting_filter",
    "register_secret",
    "register_url_secrets",
    "url_secrets",
    "without_url_secrets",
]

REDACTED = "[redacted]"

# Shorter values are not treated as secrets: replacing "1" or "true" everywhere helps no one.
_MIN_SECRET_LENGTH = 8
# A streamed piece ending in this many first characters of a key waits for the next piece.
_HOLD_FROM = 4

_SECRET_NAMES = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "api_key",
        "apikey",
        "access_token",
        "refresh_token",
        "client_secret",
        "password",
        "secret",
        "cookie",
        "set-cookie",
    }
)
# A header named with one of these words as a whole part (between dashes or underscores).
_SECRET_HEADER_PART = re.compile(
    r"(?:^|[-_])(?:auth|authorization|api[-_]?key|key|token|secret|password|passwd|cookie"
    r"|credentials?|signature)(?:$|[-_])",
    re.IGNORECASE,
)
_SECRET_ENV_NAME = re.compile(r"(API_?KEY|_TOKEN|_SECRET)$")
_KEY_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])(?:sk-[A-Za-z0-9_\-]{20,}|AIza[0-9A-Za-z_\-]{35}|gsk_[A-Za-z0-9]{20,})"
)


class _Snapshot(NamedTuple):
    values: tuple[str, ...]  # longest first
    encoded: tuple[bytes, ...]  # the same, as UTF-8
    prefixes: frozenset[str]  # starts of secrets, _HOLD_FROM characters or longer
    starts: dict[str, tuple[str, ...]]  # secrets by their shorter starts
    longest: int


class _Known:
    """Every secret value this process knows, kept ready for the redaction routines.

    The set is made again only when it changes: a value registered (a version count), or
    the environment changed (a variable added or removed, or a credential-named or
    URL-valued one given a new value: a length and a few identity checks). Looking for the
    secrets in a text is then one fast substring search per secret (``str.__contains__``,
    far cheaper than one regular expression over them all in CPython's ``re``), and the
    key-shape pattern runs only on text holding one of its literal prefixes.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.registered: set[str] = set()
        self.version = 0
        self.made_version = -1
        # os.environ's own mapping (encoded names and values) and what was read from it
        self.environ: Mapping[Any, Any] = getattr(os.environ, "_data", os.environ)
        self.environ_size = -1
        self.watched: tuple[tuple[Any, Any], ...] = ()
        self.snapshot = _Snapshot((), (), frozenset(), {}, 0)

    def register(self, value: str) -> None:
        with self.lock:
            if value not in self.registered:
                self.registered.add(value)
                self.version += 1

    def _environment_unchanged(self) -> bool:
        environ = self.environ
        if len(environ) != self.environ_size:
            return False
        for name, value in self.watched:  # noqa: SIM110 - no generator on every call
            if environ.get(name) is not value:
                return False
        return True

    def current(self) -> tuple[str, ...]:
        """The secrets now, longest first (so one that contains another is replaced whole)."""
        return self.now().values

    def now(self) -> _Snapshot:
        """The secrets and their derived forms, as one value (threads never see a mix)."""
        if self.made_version == self.version and self._environment_unchanged():
            return self.snapshot
        with self.lock:
            environ = self.environ
            size = len(environ)
            found, names = _environment_secrets()
            encode = getattr(os.environ, "encodekey", lambda name: name)
            self.watched = tuple((encode(n), environ.get(encode(n))) for n in names)
            values = set(self.registered) | found
            ordered = tuple(sorted(values, key=len, reverse=True))
            starts: dict[str, list[str]] = {}
            for value in values:
                for n in range(1, _HOLD_FROM):
                    starts.setdefault(value[:n], []).append(value)
            self.snapshot = _Snapshot(
                values=ordered,
                encoded=tuple(v.encode("utf-8", "surrogatepass") for v in ordered),
                prefixes=frozenset(v[:n] for v in values for n in range(_HOLD_FROM, len(v))),
                starts={start: tuple(found) for start, found in starts.items()},
                longest=max(map(len, values), default=0),
            )
            self.environ_size = size
            self.made_version = self.version
        return self.snapshot


_known = _Known()


def register_secret(value: str) -> None:
    """Add ``value`` to the set ``redact`` removes (``Secret`` does this itself)."""
    if isinstance(value, str) and len(value.strip()) >= _MIN_SECRET_LENGTH:
        _known.register(value.strip())


def register_url_secrets(url: str) -> None:
    """Register the credentials a URL carries: the password of its userinfo
    (``https://user:key@host``) and the values of credential-named query parameters
    (``?key=...``, ``?api_key=...``, ``?token=...``), so they are redacted by value."""
    for value in url_secrets(url):
        register_secret(value)


def url_secrets(url: str) -> list[str]:
    """The credential values in ``url`` (see ``register_url_secrets``)."""
    if "@" not in url and "?" not in url:
        return []
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return []
    found = [password] if password else []
    if parts.username and password is None and len(parts.username) >= _MIN_SECRET_LENGTH:
        found.append(parts.username)  # https://<token>@host: a token as the user name
    if parts.username or password:  # sent as "Basic base64(user:password)"; servers echo it
        pair = f"{unquote(parts.username or '')}:{unquote(password or '')}"
        found.append(base64.b64encode(pair.encode()).decode())
    found += [
        value
        for name, value in parse_qsl(parts.query, keep_blank_values=False)
        if is_secret_header(name)
    ]
    return [unquote(value) for value in found] + [v for v in found if unquote(v) != v]


def without_url_secrets(url: str) -> str:
    """``url`` with its userinfo and its credential-named query parameters taken out."""
    if "@" not in url and "?" not in url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return REDACTED
    if ":" in host:
        host = f"[{host}]"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not is_secret_header(k)
        ]
    )
    return urlunsplit((parts.scheme, host + port, parts.path, query, parts.fragment))


def _environment_secrets() -> tuple[set[str], list[str]]:
    """Values of credential-named variables (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``) and
    passwords in URL-valued ones (``HTTPS_PROXY=http://user:pw@proxy``, ``DATABASE_URL``);
    and the names of both kinds, whose values are watched for a change."""
    values: set[str] = set()
    names: list[str] = []
    for name, value in os.environ.items():
        if _SECRET_ENV_NAME.search(name.upper()):
            names.append(name)
            if len(value.strip()) >= _MIN_SECRET_LENGTH:
                values.add(value.strip())
        elif "://" in value:
            names.append(name)
            values.update(v for v in url_secrets(value.strip()) if len(v) >= _MIN_SECRET_LENGTH)
    return values, names


def is_secret_name(name: object) -> bool:
    """Whether a header or field called ``name`` holds a credential."""
    return isinstance(name, str) and name.strip().lower() in _SECRET_NAMES


def is_secret_header(name: object) -> bool:
    """Whether an HTTP header called ``name`` carries a credential (gateway keys included)."""
    return is_secret_name(name) or (
        isinstance(name, str) and _SECRET_HEADER_PART.search(name.strip()) is not None
    )


class Secret:
    """A credential whose value is never shown: not by repr, str, format, JSON or pickle.

    ``source`` says where it came from (an environment variable or ``api_key=``) so a repr
    can still tell two secrets apart.
    """

    __slots__ = ("_value", "source")

    def __init__(self, value: str, *, source: str = "api_key=") -> None:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"an API key from {source} must be a non-empty string, got {type(value).__name__}"
            )
        self._value = value.strip()
        self.source = source
        register_secret(self._value)

    def reveal(self) -> str:
        """The value itself: only for building the auth header of a request."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret(from {self.source})"

    def __str__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a Secret is never pickled or saved; keep the key in its environment variable "
            "and let lmbench read it from there"
        )


def _known_secrets() -> tuple[str, ...]:
    return _known.current()


def _redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "sk-" in text or "AIza" in text or "gsk_" in text:
        text = _KEY_SHAPES.sub(REDACTED, text)
    return text


def redact_text(text: str) -> str:
    """``text`` without any secret this process knows (the one routine for a string)."""
    return _redact_text(text, _known.current()) if text else text


def holds_secret(*data: str | bytes) -> bool:
    """Whether any of ``data`` (texts, or bytes as received) contains a secret this process
    knows."""
    now = _known.now()
    secrets, encoded = now.values, now.encoded
    for item in data:
        for secret in encoded if isinstance(item, bytes) else secrets:
            if secret in item:  # type: ignore[operator]
                return True
    return False


def _redact(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return _redact_text(value, secrets)
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, Mapping):
        return {
            key: REDACTED if is_secret_name(key) else _redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item, secrets) for item in value]
    if isinstance(value, tuple):
        return tuple(_redact(item, secrets) for item in value)
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return value
        return _redact_text(text, secrets).encode("utf-8")
    return value


def redact(value: Any) -> Any:
    """A copy of ``value`` (a string, or dicts/lists/tuples at any depth) without secrets."""
    return _redact(value, _known.current())


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """HTTP headers as a plain dict, credential headers replaced and other values scrubbed.

    Accepts a mapping or ``(name, value)`` pairs, e.g. ``httpx.Headers.multi_items()``.
    """
    secrets = _known.current()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in pairs:
        out[name] = REDACTED if is_secret_header(name) else _redact_text(value, secrets)
    return out


class StreamScrubber:
    """Redacts secrets from text that arrives in pieces (a streamed answer), where a key
    may be split across pieces. Pieces pass on unchanged unless a key is in them: a piece
    ending in the first ``_HOLD_FROM`` or more characters of a key is held back until the
    next piece shows whether the key follows; a shorter start passes at once (text often
    ends like that: "ask" and ``sk-...``) and the rest of the key is taken out of the next
    pieces. So at most ``_HOLD_FROM - 1`` characters of a key ever pass, and text with no
    key streams through unchanged."""

    __slots__ = ("_pending", "_tail")

    def __init__(self) -> None:
        self._pending = ""  # held back: it may be the start of a key
        self._tail = ""  # the last characters passed on

    def feed(self, piece: str) -> str:
        """The text that is safe to pass on now."""
        text = self._pending + piece
        secrets = _known.current()
        if not secrets:
            self._pending = ""
            return text
        text, complete = self._rest_of_key(text)
        if not complete:
            self._pending = text
            return ""
        text = _redact_text(text, secrets)
        hold = _held_back(text)
        self._pending = text[len(text) - hold :] if hold else ""
        out = text[: len(text) - hold] if hold else text
        self._tail = (self._tail + out)[-(_HOLD_FROM - 1) :]
        return out

    def _rest_of_key(self, text: str) -> tuple[str, bool]:
        """``text`` with the rest of a key that began in the text passed on taken out; and
        False when ``text`` may still be the rest of one (hold it)."""
        tail, starts = self._tail, _known.now().starts
        for size in range(min(len(tail), _HOLD_FROM - 1), 0, -1):
            for secret in starts.get(tail[-size:], ()):
                rest = secret[size:]
                if text.startswith(rest):
                    self._tail = ""
                    return REDACTED + text[len(rest) :], True
                if rest.startswith(text):
                    return text, False
        return text, True

    def flush(self) -> str:
        """What is held back, at the end of the stream (or where it broke): as it is when
        too short to be recognized, else taken out (the start of a key, cut off)."""
        rest, self._pending = self._pending, ""
        return rest if len(rest) < _MIN_SECRET_LENGTH else REDACTED


def _held_back(text: str) -> int:
    """How many characters at the end of ``text`` are the start of a known secret
    (``_HOLD_FROM`` or more)."""
    now = _known.now()
    prefixes = now.prefixes
    for size in range(min(len(text), now.longest - 1), _HOLD_FROM - 1, -1):
        if text[-size:] in prefixes:
            return size
    return 0


def redact_exception(error: BaseException) -> BaseException:
    """``error`` and every exception chained to it (causes, contexts) with secrets taken out
    of their arguments and ``__notes__``, in place; returns ``error``. For exceptions of
    other libraries (httpx, httpcore) that a lmbench error was raised from."""
    seen: set[int] = set()
    current: BaseException | None = error
    secrets = _known.current()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if any(isinstance(a, str) for a in current.args):
            cleaned = _redact(current.args, secrets)
            if cleaned != current.args:
                current.args = cleaned
        notes = getattr(current, "__notes__", None)
        if isinstance(notes, list):
            notes[:] = [_redact(n, secrets) for n in notes]
        current = current.__cause__ or current.__context__
    return error


class RedactingFilter(logging.Filter):
    """Rewrites a record without secrets: its message, and the text of the exception and
    stack it carries (records exist only at enabled levels, so this costs nothing else)."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _known.current()
        message = record.getMessage()
        cleaned = _redact_text(message, secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            redact_exception(record.exc_info[1])  # for handlers that format it themselves
            if not record.exc_text:
                formatted = _FORMATTER.formatException(record.exc_info)
                record.exc_text = _redact_text(formatted, secrets)
        if record.stack_info:
            record.stack_info = _redact_text(record.stack_info, secrets)
        return True


_FORMATTER = logging.Formatter()
_HTTP_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
redacting_filter = RedactingFilter()


def redact_http_logs() -> None:
    """Scrub secrets from what the HTTP libraries log. Safe to call more than once."""
    for name in _HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if redacting_filter not in logger.filters:
            logger.addFilter(redacting_filter)
