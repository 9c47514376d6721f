"""Field elements in a model's XML-ish answer, read by XML's rules where the answer follows them.

The answer need not be one XML document: prose, a code fence or a wrapper element may surround
the field elements (no root is required). Inside a field, XML's rules hold: character and
entity references are unescaped (``&amp;`` ``&lt;`` ``&#233;`` ``&#xE9;``, and HTML's named
entities such as ``&nbsp;``), CDATA sections are taken verbatim, comments are dropped, and a
bare ``&`` that starts no reference is kept as written. Child elements are kept as markup in
text fields; for list fields, repeated child elements (``<item>a</item><item>b</item>``) are
the items, and for object fields, child elements are the keys.

The structure must be sound: an element is closed by its own closing tag, properly nested.
A field left open (``<answer>Oslo`` then ``<score>`` or the end), a closing tag of another
field inside it (``<answer>Oslo</score>``), a closing tag with nothing open, or a CDATA
section never closed is refused (``XMLStructureError``), never guessed at; while streaming
(``partial=True``), an element still open runs to the end.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["Element", "XMLStructureError", "element_value", "read_elements"]

# A tag; names may hold spaces ("<final answer>") and be padded with spaces ("</ answer>"),
# which models write and which are read as variants.
_TAG = r"<(?P<close>/?)[ \t]*(?P<name>[A-Za-z_][\w\-.]*(?: +[\w\-.]+)*)[ \t]*(?:[ \t][^<>]*?)?(?P<empty>/?)>"
_TAG_ONLY = re.compile(_TAG)
# A tag, CDATA (closed or not) or a comment: for text holding "<!".
_TOKEN = re.compile(
    rf"{_TAG}|<!\[CDATA\[(?P<cdata>.*?)\]\]>|(?P<open_cdata><!\[CDATA\[)|<!--.*?-->", re.DOTALL
)
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# A tag cut off by the end of a stream: "<", "</ans", "<answer".
_PARTIAL_TAG = re.compile(r"<[^<>]*\Z")


class XMLStructureError(ValueError):
    """The answer's elements cannot be read without guessing; ``field`` is the one at fault."""

    def __init__(self, field: str, reason: str, span: tuple[int, int] | None = None) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.span = span


class Element(NamedTuple):
    """One field element: where its content lies, and its tags as written."""

    field: str
    start: int  # content start
    end: int  # content end
    tags: tuple[str, ...]  # the opening (and closing) tag as written


# A tag as (start, end, name as written, closing, self-closing); CDATA sections and comments
# are (start, end) instead, with end -1 for a CDATA section never closed. Plain tuples: an
# answer's tags are listed on every parse.
_Tag = tuple[int, int, str, bool, bool]
_Token = _Tag | tuple[int, int]


def _tags(text: str, start: int = 0, end: int | None = None) -> list[_Token]:
    """Tags in order, and the spans of CDATA sections and comments (which hold no tags)."""
    stop = len(text) if end is None else end
    if "<!" not in text:
        return [
            (*m.span(), name, close == "/", empty == "/")
            for m in _TAG_ONLY.finditer(text, start, stop)
            for close, name, empty in (m.groups(),)
        ]
    found: list[_Token] = []
    for match in _TOKEN.finditer(text, start, stop):
        name = match.group("name")
        if name is not None:
            closing, empty = match.group("close") == "/", match.group("empty") == "/"
            found.append((match.start(), match.end(), name, closing, empty))
        elif match.group("open_cdata") is not None:
            found.append((match.start(), -1))  # a CDATA section that never closes
        else:
            found.append(match.span())
    return found


def read_elements(
    text: str, field_of: Callable[[str], str | None], *, partial: bool = False
) -> tuple[dict[str, Element], list[Element]]:
    """The first element of each field (``field_of`` maps a tag name to a field, or None),
    and the further elements of fields written more than once. Raises ``XMLStructureError`` on unsound structure."""
    if partial:
        text = _PARTIAL_TAG.sub("", text)
    tokens = _tags(text)
    found: dict[str, Element] = {}
    repeated: list[Element] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if len(token) == 2:
            if token[1] < 0 and not partial:
                raise XMLStructureError("", "a <![CDATA[ section is never closed", None)
            continue
        start, end, name, closing, empty = token  # type: ignore[misc]
        field = field_of(name)
        if field is None:
            continue
        if closing:
            if not partial:
                raise XMLStructureError(field, f"</{name}> closes no open <{field}>", (start, end))
            continue
        if empty:
            element = Element(field, end, end, (text[start:end],))
        else:
            element, index = _element(text, tokens, index, token, field, field_of, partial)  # type: ignore[arg-type]
        if field in found:
            repeated.append(element)
        else:
            found[field] = element
    return found, repeated


def _element(
    text: str,
    tokens: list[_Token],
    index: int,
    opening: _Tag,
    field: str,
    field_of: Callable[[str], str | None],
    partial: bool,
) -> tuple[Element, int]:
    """The element opened by ``opening``: up to its own closing tag (same-named elements
    inside it nest), and the index of the token after it."""
    depth = 1
    opened, content = opening[0], opening[1]
    written = text[opened:content]
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if len(token) == 2:
            if token[1] < 0 and not partial:
                raise XMLStructureError(field, f"a <![CDATA[ section in <{field}> is never closed")
            continue
        start, end, name, closing, empty = token  # type: ignore[misc]
        other = field_of(name)
        if other is None or empty:
            continue
        if other != field:
            if partial:
                return Element(field, content, start, (written,)), index - 1
            if closing:
                reason = f"</{name}> closes <{field}>, which is still open"
            else:
                reason = f"<{field}> is not closed before <{name}> opens"
            raise XMLStructureError(field, reason, (opened, end))
        depth += -1 if closing else 1
        if depth == 0:
            return Element(field, content, start, (written, text[start:end])), index
    if not partial:
        raise XMLStructureError(
            field, f"<{field}> is never closed (no </{field}>)", (opened, len(text))
        )
    return Element(field, content, len(text), (written,)), index


def _unescape(text: str) -> str:
    """Character and entity references replaced; a bare ``&`` kept."""
    if "&" not in text:
        return text
    return _REFERENCE.sub(lambda m: html.unescape(m.group()), text)


def _text(text: str, start: int, end: int) -> str:
    """Content as text: CDATA verbatim, comments dropped, references unescaped, tags kept."""
    if "<!" not in text[start:end]:
        return _unescape(text[start:end])
    pieces = []
    position = start
    for match in _TOKEN.finditer(text, start, end):
        if match.group("name") is not None or match.group("open_cdata") is not None:
            continue
        pieces.append(_unescape(text[position : match.start()]))
        if match.group("cdata") is not None:
            pieces.append(match.group("cdata"))
        position = match.end()
    pieces.append(_unescape(text[position:end]))
    return "".join(pieces)


def _children(text: str, start: int, end: int) -> list[tuple[str, int, int]] | None:
    """The child elements of content that holds only elements (and whitespace), as
    (name, content start, content end); None for text or markup that does not nest."""
    children: list[tuple[str, int, int]] = []
    stack: list[tuple[str, int]] = []
    position = start
    for token in _tags(text, start, end):
        if len(token) == 2:
            if not stack:
                return None  # CDATA or a comment beside the children: text content
            continue
        begin, stop, name, closing, empty = token  # type: ignore[misc]
        if not stack and text[position:begin].strip():
            return None
        if empty:
            if not stack:
                children.append((name, stop, stop))
        elif not closing:
            stack.append((name, stop))
        elif not stack or stack[-1][0] != name:
            return None
        else:
            _, inner = stack.pop()
            if not stack:
                children.append((name, inner, begin))
        position = stop
    if stack or text[position:end].strip() or not children:
        return None
    return children


_OPENS_ELEMENT = re.compile(r"\s*<[A-Za-z_]")


def element_value(text: str, start: int, end: int, shape: str | None) -> tuple[Any, str | None]:
    """A field's value and a note saying how child elements were read (None if they were not).

    ``shape`` is ``"list"`` or ``"object"`` for fields of those types: content made only of
    child elements is then read as the items (one element name, repeated or not) or as the
    keys (a repeated name gives a list). Anything else is the content as text. A list made
    of elements of several names, or content that opens with an element but is not made of
    whole elements, is refused (``XMLStructureError`` with no field set).
    """
    children = _children(text, start, end) if shape and "<" in text[start:end] else None
    if children is None:
        if shape and _OPENS_ELEMENT.match(text, start, end):
            raise XMLStructureError(
                "",
                f"the {shape} opens with a child element, but its elements are not well formed "
                "(one left open, closed by another, or mixed with text)",
            )
        return _text(text, start, end).strip(), None
    names = list(dict.fromkeys(name for name, _, _ in children))
    if shape == "list":
        if len(names) != 1:
            shown = ", ".join(f"<{name}>" for name in names)
            raise XMLStructureError(
                "", f"the list holds elements of several names ({shown}); expected one per item"
            )
        items = [_nested(text, s, e) for _, s, e in children]
        return items, f"read {len(items)} <{names[0]}> elements as a list"
    value: dict[str, Any] = {}
    for name in names:
        items = [_nested(text, s, e) for n, s, e in children if n == name]
        value[name] = items if len(items) > 1 else items[0]
    return value, f"read the child elements {names} as an object"


def _nested(text: str, start: int, end: int) -> Any:
    """A child element's value: a list when it holds only repeated elements of one name, an
    object when it holds only other elements, else its text."""
    children = _children(text, start, end) if "<" in text[start:end] else None
    if children is None:
        return _text(text, start, end).strip()
    names = {name for name, _, _ in children}
    shape = "list" if len(names) == 1 and len(children) > 1 else "object"
    return element_value(text, start, end, shape)[0]
