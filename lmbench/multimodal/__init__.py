"""What the media types (``lmbench.media``) build on: reading sources (paths, bytes, data URLs,
URLs downloaded once into the cache), format detection, image resizing, PDF text and chunking,
and citations."""
