"""Topic query text -> immutable AST, refusing malformed queries with the position
of the problem; and the way back, AST -> query text, for translated queries.

Grammar (operators are upper case only, so French "or" and Russian "и" stay words):

    query   := or_expr
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*          adjacent terms are ANDed
    unary   := ("NOT" | "-") unary | primary   "-" only when glued to what it negates
    primary := "(" or_expr ")" | term
    term    := word | word* | "several words" | hyphen-ated or apostrophe'd word

Phrases may be written with typographic quotes too (“…”, «…», „…“, ‘…’, ‚…‘, ‹…›),
as phones type them. What a word is, in the query as in the text, is text.py's rule.

Longer than most modules on purpose: the grammar, its lexer, its parser and its
printer change together (a new term form is lexed, parsed and written back).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from bot.matching.text import tokenize

MAX_QUERY_LENGTH = 1000
MAX_TERMS = 100
MAX_DEPTH = 32  # nested parentheses; keeps every recursion over the AST shallow
MIN_PREFIX_LENGTH = 2  # "a*" would make nearly every entry a candidate for nothing useful

OPERATORS = ("AND", "OR", "NOT")

# Opening quote -> the quotes that may close it. Double quotes of every style end
# a word, so `x«y»` is a word then a phrase; any typographic double quote closes a
# phrase opened by any other (phones and keyboards mix them: `«au 104”`). Single
# typographic quotes and angle quotes are also apostrophes or punctuation inside
# words (`l’Ukraine`): one opens a phrase only where a term starts and closes it
# only where a word ends, and otherwise stays inside the word.
_TYPOGRAPHIC_DOUBLE = "“”„«»"
_DOUBLE_QUOTES = {'"': '"', **dict.fromkeys(_TYPOGRAPHIC_DOUBLE, _TYPOGRAPHIC_DOUBLE)}
_SINGLE_QUOTES = {"‘": "’", "‚": "‘", "‹": "›"}
_SPECIAL = frozenset("()").union(_DOUBLE_QUOTES)


class QueryError(ValueError):
    """A query that is refused, and where (0-based character offset)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Term:
    """One thing to look for: a word, a phrase (quoted or hyphenated) or a prefix.

    `text` is the term as written, without quotes or `*`; `words` are its normalised,
    unstemmed words (stemming belongs to the language the query is compiled for).
    """

    text: str
    words: tuple[str, ...]
    prefix: bool = False
    quoted: bool = field(default=False, compare=False)
    position: int = field(default=0, compare=False)

    @property
    def display(self) -> str:
        """The term as a user wrote it: what an alert's "matched:" line shows."""
        if self.prefix:
            return f"{self.text}*"
        if self.quoted:
            return f'"{self.text}"'
        return self.text


@dataclass(frozen=True)
class Not:
    operand: Node
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]
    position: int = field(default=0, compare=False)


Node = Term | Not | And | Or


@dataclass(frozen=True)
class Query:
    root: Node
    language: str
    text: str = field(default="", compare=False)


# ---------------------------------------------------------------- lexing


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "AND", "OR", "NOT", "term"
    position: int
    term: Term | None = None


def _make_term(raw: str, position: int, *, quoted: bool, language: str) -> Term:
    if quoted:
        if "*" in raw:
            raise QueryError(
                "a prefix* cannot be inside a phrase", position + 1 + raw.index("*")
            )
        text = " ".join(raw.split())
        words = tuple(tokenize(text, language))
        if not words:
            raise QueryError("empty phrase", position)
        return Term(text, words, quoted=True, position=position)
    prefix = raw.endswith("*")
    text = raw[:-1] if prefix else raw
    if "*" in text:
        raise QueryError("'*' is only allowed at the end of a word", position + text.index("*"))
    words = tuple(tokenize(text, language))
    if not words:
        if prefix:
            raise QueryError("'*' is only allowed at the end of a word", position + len(text))
        raise QueryError(f"{raw!r} has no letters or digits", position)
    if prefix:
        if not _ends_in_word(text, words, language):  # `europ-*`
            raise QueryError("'*' is only allowed at the end of a word", position + len(text))
        if len(words) > 1:
            raise QueryError("a prefix* must be a single word", position)
        if len(words[0]) < MIN_PREFIX_LENGTH:
            raise QueryError(f"a prefix* needs at least {MIN_PREFIX_LENGTH} letters", position)
    return Term(text, words, prefix=prefix, position=position)


def _ends_in_word(text: str, words: tuple[str, ...], language: str) -> bool:
    """Whether text ends inside a word, not after a separator: a letter written
    after it would lengthen its last word instead of starting a new one."""
    return len(tokenize(text + "a", language)) == len(words)


def _closing_quote(text: str, start: int, unclosed: dict[str, int]) -> int:
    """Where the phrase opened at `start` ends, or -1 when it is never closed.

    `unclosed` remembers, per opening quote, a position after which no closing
    quote was found, so a query full of quotes is still read in linear time."""
    opening = text[start]
    if start >= unclosed.get(opening, len(text)):
        return -1
    double = _DOUBLE_QUOTES.get(opening)
    closers = double or _SINGLE_QUOTES[opening]
    for end in range(start + 1, len(text)):
        if text[end] in closers and (
            double or end + 1 == len(text) or not text[end + 1].isalnum()
        ):
            return end
    unclosed[opening] = start
    return -1


def _lex(text: str, language: str) -> list[_Token]:
    tokens: list[_Token] = []
    unclosed: dict[str, int] = {}
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token(char, i))
            i += 1
        elif (char in _DOUBLE_QUOTES or char in _SINGLE_QUOTES) and (
            (end := _closing_quote(text, i, unclosed)) > 0 or char in _DOUBLE_QUOTES
        ):
            if end < 0:
                raise QueryError("unbalanced quote", i)
            tokens.append(
                _Token("term", i, _make_term(text[i + 1 : end], i, quoted=True, language=language))
            )
            i = end + 1
        elif char == "-" and (i + 1 == n or text[i + 1].isspace()):
            raise QueryError("dangling operator -", i)
        elif char == "-":
            # A "-" where a term starts negates what it is glued to, whatever that
            # begins with (`-russie`, `-«russie»`, `-(a OR b)`); inside a word it
            # is a hyphen.
            tokens.append(_Token("NOT", i))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            raw = text[start:i]
            if raw in OPERATORS:
                tokens.append(_Token(raw, start))
            else:
                tokens.append(
                    _Token("term", start, _make_term(raw, start, quoted=False, language=language))
                )
    return tokens


# ---------------------------------------------------------------- parsing


class _Parser:
    def __init__(self, tokens: list[_Token], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.or_expr()
        token = self.peek()
        if token is not None:
            # or_expr only stops early at a ")" with no "(" to close.
            raise QueryError("unbalanced parenthesis", token.position)
        return node

    def or_expr(self) -> Node:
        first = self.and_expr()
        operands = [first]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            operands.append(self.operand_after(token))
        return _flatten(Or, operands, _position(first))

    def and_expr(self) -> Node:
        first = self.unary()
        operands = [first]
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind == "AND":
                self.take()
                operands.append(self.operand_after(token))
            else:
                operands.append(self.unary())
        return _flatten(And, operands, _position(first))

    def operand_after(self, operator: _Token) -> Node:
        token = self.peek()
        if token is None or token.kind in ("AND", "OR", ")"):
            raise QueryError(f"dangling operator {self.operator_name(operator)}", operator.position)
        return self.unary() if operator.kind == "AND" else self.and_expr()

    def operator_name(self, token: _Token) -> str:
        return "-" if self.text[token.position] == "-" else token.kind

    def unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise QueryError("empty query", len(self.text))
        # A chain of NOTs is read in a loop, not by recursion, and only its parity
        # is kept (NOT NOT x is x): it nests nothing, so it does not count against
        # the parentheses limit and no chain length can exhaust the stack.
        first, negations = token, 0
        while token is not None and token.kind == "NOT":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("AND", "OR", ")"):
                raise QueryError(f"dangling operator {self.operator_name(token)}", token.position)
            negations += 1
            token = nxt
        node = self.primary()
        return Not(node, first.position) if negations % 2 else node

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "term":
            assert token.term is not None
            return token.term
        if token.kind == "(":
            nxt = self.peek()
            if nxt is not None and nxt.kind == ")":
                raise QueryError("empty parentheses", token.position)
            if nxt is None:
                raise QueryError("unbalanced parenthesis", token.position)
            with self.nested(token):
                node = self.or_expr()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise QueryError("unbalanced parenthesis", token.position)
            self.take()
            return node
        if token.kind == ")":
            raise QueryError("unbalanced parenthesis", token.position)
        raise QueryError(f"dangling operator {token.kind}", token.position)

    def nested(self, token: _Token) -> _Depth:
        return _Depth(self, token.position)


class _Depth:
    def __init__(self, parser: _Parser, position: int) -> None:
        self.parser = parser
        self.position = position

    def __enter__(self) -> None:
        self.parser.depth += 1
        if self.parser.depth > MAX_DEPTH:
            raise QueryError(f"nested more than {MAX_DEPTH} levels deep", self.position)

    def __exit__(self, *exc: object) -> None:
        self.parser.depth -= 1


def _position(node: Node) -> int:
    return node.position


def _flatten(kind: type[And | Or], operands: list[Node], position: int) -> Node:
    if len(operands) == 1:
        return operands[0]
    flat: list[Node] = []
    for operand in operands:
        # (a b) c is a b c: one canonical shape makes formatting and equality simple.
        flat.extend(operand.operands if isinstance(operand, kind) else (operand,))
    return kind(tuple(flat), position)


# ---------------------------------------------------------------- checks


def query_terms(query: Query | Node) -> tuple[Term, ...]:
    """Every term of the query in written order, negated ones included."""
    node = query.root if isinstance(query, Query) else query
    if isinstance(node, Term):
        return (node,)
    if isinstance(node, Not):
        return query_terms(node.operand)
    return tuple(term for operand in node.operands for term in query_terms(operand))


def positive_terms(node: Node, negated: bool = False) -> tuple[Term, ...]:
    """The terms whose presence can help the query match (not under an odd number
    of NOTs): the terms an alert reports as matched."""
    if isinstance(node, Term):
        return () if negated else (node,)
    if isinstance(node, Not):
        return positive_terms(node.operand, not negated)
    return tuple(term for operand in node.operands for term in positive_terms(operand, negated))


def matches_without_terms(node: Node, negated: bool = False) -> Node | None:
    """The part of the query that lets it match a text containing none of its terms
    (e.g. `NOT x`, `a OR NOT b`), or None when every match needs some term.

    Such a query would alert on nearly every entry, and could not be indexed by
    its terms, so it is refused.
    """
    if isinstance(node, Term):
        return node if negated else None
    if isinstance(node, Not):
        found = matches_without_terms(node.operand, not negated)
        return node if found is not None else None
    # Under an odd number of NOTs, AND behaves as OR and vice versa (De Morgan).
    any_operand = isinstance(node, Or) != negated
    culprits = [matches_without_terms(operand, negated) for operand in node.operands]
    if any_operand:
        return next((culprit for culprit in culprits if culprit is not None), None)
    return node if all(culprit is not None for culprit in culprits) else None


def parse_query(text: str, language: str) -> Query:
    """Parse a topic query for a language; raise QueryError for anything refused."""
    # Spaces around the query are not part of it (a phone's keyboard adds them).
    leading = len(text) - len(text.lstrip())
    if len(text.strip()) > MAX_QUERY_LENGTH:
        raise QueryError(
            f"query longer than {MAX_QUERY_LENGTH} characters", leading + MAX_QUERY_LENGTH
        )
    tokens = _lex(text, language)
    terms = [token for token in tokens if token.kind == "term"]
    if len(terms) > MAX_TERMS:
        raise QueryError(f"more than {MAX_TERMS} terms", terms[MAX_TERMS].position)
    if not tokens:
        raise QueryError("empty query", 0)
    root = _Parser(tokens, text).parse()
    culprit = matches_without_terms(root)
    if culprit is not None:
        raise QueryError(
            "query matches entries without any of its terms; it needs a term that must be present",
            culprit.position,
        )
    return Query(root, language, text)


# ---------------------------------------------------------------- rendering


def _is_bare(text: str) -> bool:
    """Whether text can be written unquoted and read back as the same single term."""
    return (
        bool(text)
        and text not in OPERATORS
        and "*" not in text
        and not text.startswith("-")
        and text[0] not in _SINGLE_QUOTES
        and not any(char.isspace() or char in _SPECIAL for char in text)
    )


def _quoted(text: str) -> str:
    """The phrase in the first quotes that read back as exactly this text: a phrase
    written between typographic quotes may hold straight ones."""
    for opening, closers in (*_DOUBLE_QUOTES.items(), *_SINGLE_QUOTES.items()):
        written = f"{opening}{text}{closers[0]}"
        if _closing_quote(written, 0, {}) == len(written) - 1:
            return written
    # Unreachable for text read by _lex; map_terms never makes such a phrase.
    raise ValueError(f"no quotes can delimit {text!r}")


def _format(node: Node, parent: type | None) -> str:
    if isinstance(node, Term):
        if node.prefix:
            return f"{node.text}*"
        return node.text if not node.quoted and _is_bare(node.text) else _quoted(node.text)
    if isinstance(node, Not):
        return f"NOT {_format(node.operand, Not)}"
    joiner = " OR " if isinstance(node, Or) else " AND "
    inner = joiner.join(_format(operand, type(node)) for operand in node.operands)
    # Parentheses only where precedence needs them: OR under AND/NOT, AND under NOT.
    needs_parens = parent is Not or (parent is And and isinstance(node, Or))
    return f"({inner})" if needs_parens else inner


def format_query(query: Query | Node) -> str:
    """Query text that parse_query reads back as the same AST."""
    return _format(query.root if isinstance(query, Query) else query, None)


def _map_node(node: Node, fn: Callable[[str], str], language: str) -> Node:
    if isinstance(node, Not):
        return replace(node, operand=_map_node(node.operand, fn, language))
    if isinstance(node, (And, Or)):
        return replace(
            node, operands=tuple(_map_node(operand, fn, language) for operand in node.operands)
        )
    # Straight quotes and stars cannot be written inside a phrase, so they become
    # spaces (they separate words anyway).
    text = " ".join(fn(node.text).translate(_UNPHRASABLE).split())
    words = tuple(tokenize(text, language))
    if not words:
        raise QueryError(f"{node.display} became empty", node.position)
    if node.prefix and len(words) == 1:
        # A prefix must stay one bare word, ending in a letter or digit, to be
        # written back as word*.
        written = _is_bare(text) and _ends_in_word(text, words, language)
        prefix_text = text if written else words[0]
        if len(words[0]) >= MIN_PREFIX_LENGTH:
            return replace(node, text=prefix_text, words=words)
    # A multi-word result is a phrase, of a prefix too: "word*" cannot span words.
    quoted = node.quoted or len(words) > 1 or not _is_bare(text)
    return Term(text, words, prefix=False, quoted=quoted, position=node.position)


_UNPHRASABLE = str.maketrans('"*', "  ")


def map_terms(query: Query, fn: Callable[[str], str], language: str | None = None) -> Query:
    """The same query with each term's text replaced by fn(text) (prefix terms are
    given without their `*`), keeping operators and structure; for translation.

    Pass `language` when the new terms are in another language. A term that maps
    to several words becomes a phrase; one that maps to nothing raises QueryError.
    """
    target = language or query.language
    root = _map_node(query.root, fn, target)
    return Query(root, target, format_query(root))
