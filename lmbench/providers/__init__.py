"""LM providers: wire formats on httpx and the embedded local model."""

__all__: list[str] = []
