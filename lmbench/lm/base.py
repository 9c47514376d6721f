"""The LM protocol every provider implements, and a base class that fills in the rest.

A provider must implement ``generate``; ``BaseLM`` derives ``stream`` (one chunk holding
the whole answer), ``agenerate`` and ``astream`` (in a worker thread) from it. Providers
that speak a network protocol override the async and streaming methods natively.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Protocol, runtime_checkable

from lmbench.lm.types import Capabilities, LMRequest, LMResponse, StreamChunk

__all__ = ["LM", "BaseLM"]


@runtime_checkable
class LM(Protocol):
    """Anything that turns an ``LMRequest`` into an ``LMResponse``."""

    provider: str
    model: str

    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities: ...

    def generate(self, request: LMRequest) -> LMResponse: ...

    def stream(self, request: LMRequest) -> Iterator[StreamChunk]: ...

    async def agenerate(self, request: LMRequest) -> LMResponse: ...

    def astream(self, request: LMRequest) -> AsyncIterator[StreamChunk]: ...


class BaseLM:
    """Convenience base: subclasses set ``provider``/``model`` and implement ``generate``."""

    provider: str = "custom"
    model: str = "model"
    #: Cost of the model is known to be zero (local and test models).
    free: bool = False
    #: Responses may be served from the response cache (scripted test models opt out).
    cacheable: bool = True

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities()

    def generate(self, request: LMRequest) -> LMResponse:
        raise NotImplementedError

    def stream(self, request: LMRequest) -> Iterator[StreamChunk]:
        response = self.generate(request)
        yield StreamChunk(text=response.text, response=response)

    # asyncio is imported where it runs (already loaded then): a sync program never pays
    # for it and the ssl, socket and subprocess modules it brings.
    async def agenerate(self, request: LMRequest) -> LMResponse:
        import asyncio

        return await asyncio.to_thread(self.generate, request)

    async def astream(self, request: LMRequest) -> AsyncIterator[StreamChunk]:
        import asyncio

        # Run the sync stream in a thread, handing chunks over one at a time.
        iterator = iter(await asyncio.to_thread(self.stream, request))
        sentinel = object()
        while True:
            chunk = await asyncio.to_thread(next, iterator, sentinel)
            if chunk is sentinel:
                return
            yield chunk  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
