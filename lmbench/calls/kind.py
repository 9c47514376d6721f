"""``CallKind``: what one kind of model call (LM, embedding, ...) brings to the call layer.

Every model call takes the same path, written once in ``ModelCall``: replay -> cache ->
budget (reserve) -> send -> price -> record -> spans. What differs between kinds is only what
is sent, how a request is keyed, what a call may cost and what its history entry holds; a
``CallKind`` says exactly that. To add a kind (embeddings do this):

1. subclass ``CallKind[Client, Request, Response]`` and implement ``send`` and ``asend`` (the
   call itself), ``key`` (the cache and replay key: build it with ``lmbench.lm.cache_key.key_of``
   over a payload that names the kind), ``usage`` (tokens a response used), ``estimate`` (the
   most a request can use, reserved on budgets before sending), ``preview`` (the request in a
   replay-miss error) and ``entry_fields`` (what its ``HistoryEntry`` holds);
2. set ``codec`` (``lmbench.lm.stored.Codec``: how a response is stored and copied), ``entry_kind``
   (the history entry's kind), ``event`` (callbacks get ``on_<event>_start`` / ``on_<event>_end``;
   add both to ``EVENTS`` and ``Callback``) and ``client_name`` (the client's key in their payload);
3. override, where the defaults do not fit: ``price`` (default: ``genai-prices`` by the client's
   ``provider``/``model``), ``cacheable``, ``span``, and for a kind that streams ``stream``,
   ``astream``, ``response_of``, ``as_chunks`` and ``has_text``;
4. make calls with ``ModelCall(kind, client, request)`` (or a subclass that keeps more state, as
   ``LMCall`` does) inside ``with``: ``call.run()``, ``await call.arun()``, ``call.stream()``,
   ``call.astream()``.

The call then gets replay record/play, the two-level response cache, budget reservation and
settlement, pricing, a history entry, callbacks and OpenTelemetry spans with no code of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from lmbench.lm.stored import Codec
from lmbench.lm.types import Usage
from lmbench.observe.cost import Price, price_of

if TYPE_CHECKING:
    from lmbench.calls.model_call import ModelCall

__all__ = ["CallKind"]

ClientT = TypeVar("ClientT")
RequestT = TypeVar("RequestT")
ResponseT = TypeVar("ResponseT")


class CallKind(Generic[ClientT, RequestT, ResponseT]):
    """How one kind of model call is sent, keyed, priced and recorded (see the module doc)."""

    #: The ``kind`` of its history entries, e.g. ``"lm"``.
    entry_kind: ClassVar[str]
    #: Callback events are ``<event>_start`` and ``<event>_end``.
    event: ClassVar[str]
    #: The name the client goes by in the start event's payload (``"lm"``).
    client_name: ClassVar[str]
    #: How responses are stored in the cache and in replay files.
    codec: ClassVar[Codec[Any]]

    # -- the call itself -------------------------------------------------------------------
    def send(self, client: ClientT, request: RequestT) -> ResponseT:
        raise NotImplementedError

    async def asend(self, client: ClientT, request: RequestT) -> ResponseT:
        raise NotImplementedError

    def stream(self, client: ClientT, request: RequestT) -> Iterator[Any]:
        """Chunks as they come, one of which carries the response (``response_of``)."""
        yield self.send(client, request)

    async def astream(self, client: ClientT, request: RequestT) -> AsyncIterator[Any]:
        yield await self.asend(client, request)

    def response_of(self, chunk: Any) -> ResponseT | None:
        """The response a streamed chunk carries, if it carries one (by default every chunk
        is the response itself)."""
        return chunk  # type: ignore[no-any-return]

    def as_chunks(self, response: ResponseT) -> Iterator[Any]:
        """A stored response (a cache hit, a recording) played as a stream."""
        yield response

    def has_text(self, chunk: Any) -> bool:
        """Whether ``chunk`` is the first sign of an answer (times the time to first token)."""
        return True

    # -- keys, cost and records ------------------------------------------------------------
    def key(self, client: ClientT, request: RequestT, rollout_id: Any) -> str:
        """The cache and replay key of ``request`` to ``client``; ``TypeError`` when the
        request holds values no key can be built from (the call then runs uncached)."""
        raise NotImplementedError

    def cacheable(self, client: ClientT, request: RequestT, rollout_id: Any) -> bool:
        """Whether the call is cached when nothing says otherwise."""
        return True

    def usage(self, response: ResponseT) -> Usage:
        raise NotImplementedError

    def estimate(self, client: ClientT, request: RequestT, *, priced: bool = False) -> Usage:
        """The most ``request`` can use, reserved on the budgets before it is sent (``priced``:
        for a dollar limit). Where no bound is known, a lower one: the call that crosses a
        limit then raises after it ran."""
        raise NotImplementedError

    def price(self, client: ClientT, usage: Usage, response: ResponseT | None) -> Price:
        """The cost of ``usage`` (of ``response``, or estimated when it is None)."""
        return price_of(client, usage)

    def preview(self, request: RequestT) -> str:
        """A few words that identify ``request`` in an error."""
        raise NotImplementedError

    def entry_fields(self, call: ModelCall[ClientT, RequestT, ResponseT]) -> dict[str, Any]:
        """``HistoryEntry`` fields of this kind (provider, model, request, response, usage...)."""
        raise NotImplementedError

    def span(self, call: ModelCall[ClientT, RequestT, ResponseT]) -> tuple[str, dict[str, Any]]:
        """The OpenTelemetry span's name and attributes."""
        client = call.client
        return f"{self.entry_kind} {getattr(client, 'model', '')}", {
            "gen_ai.operation.name": self.entry_kind,
            "gen_ai.system": getattr(client, "provider", None),
            "gen_ai.request.model": getattr(client, "model", None),
        }

    def client_label(self, client: ClientT) -> str:
        """The client as errors and warnings name it (``provider/model``)."""
        name = getattr(client, "name", None)
        return name if isinstance(name, str) else type(client).__name__
