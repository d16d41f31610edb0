"""Label values that a Prometheus regex matcher accepts or rejects, for generated test series.

Prometheus matches ``=~"re"`` / ``!~"re"`` with Go's RE2 syntax, fully anchored (``^(?:re)$``). This module
parses that syntax (literals and escapes, ``.``, classes with ranges, negation, Perl (``\\d \\w \\s``), POSIX
(``[[:alpha:]]``) and Unicode (``\\pL``, ``\\p{Greek}``) classes, groups of every form, alternation, every
repetition operator, anchors and word boundaries, the ``i``/``m``/``s``/``U`` flags, ``\\Q...\\E``) into a small
tree, and answers two questions on it with its own matcher:

* :func:`example` -- a short label value the regex matches (``(5..|429)`` -> ``"500"``);
* :func:`counter_example` -- a label value it does not match (``None`` when it matches every string).

Both results are checked by the matcher here, and the tests check them again with Python's ``re`` and with
promtool. A regex the syntax rejects raises :class:`RegexError`; the catalog checks reject such a matcher before
any generator runs (its PromQL does not parse).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MAX_CODEPOINT = 0x10FFFF
MAX_REPEAT = 1000  # RE2's limit on {n,m}


class RegexError(ValueError):
    pass


# ---------------------------------------------------------------------------------------------
# character sets


def _is_word(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


_PERL = {
    "d": lambda c: "0" <= c <= "9",
    "s": lambda c: c in "\t\n\f\r ",
    "w": _is_word,
}
_POSIX = {
    "alnum": lambda c: c.isascii() and c.isalnum(),
    "alpha": lambda c: c.isascii() and c.isalpha(),
    "ascii": lambda c: ord(c) < 128,
    "blank": lambda c: c in " \t",
    "cntrl": lambda c: ord(c) < 32 or ord(c) == 127,
    "digit": lambda c: "0" <= c <= "9",
    "graph": lambda c: 33 <= ord(c) <= 126,
    "lower": lambda c: "a" <= c <= "z",
    "print": lambda c: 32 <= ord(c) <= 126,
    "punct": lambda c: 33 <= ord(c) <= 126 and not c.isalnum(),
    "space": lambda c: c in " \t\n\r\f\v",
    "upper": lambda c: "A" <= c <= "Z",
    "word": _is_word,
    "xdigit": lambda c: c in "0123456789abcdefABCDEF",
}


def _unicode_class(name: str):
    """``\\p{name}``: a general category (``L``, ``Lu``, ``Nd``, ...), ``Any``, or a script (by character name)."""
    if name == "Any":
        return lambda c: True
    if len(name) <= 2 and name[:1] in "CLMNPSZ":
        return lambda c: unicodedata.category(c).startswith(name)
    word = name.upper().replace("_", " ")
    if not word.replace(" ", "").isalpha():
        raise RegexError(f"unknown Unicode class \\p{{{name}}}")
    if word == "HAN":
        word = "CJK"
    return lambda c: unicodedata.name(c, "").startswith(word)


@dataclass(frozen=True)
class CharSet:
    ranges: tuple  # ((lo, hi), ...) code points, inclusive
    preds: tuple = ()  # callables c -> bool
    negated: bool = False
    fold: bool = False  # case-insensitive

    def _raw(self, c: str) -> bool:
        o = ord(c)
        return any(lo <= o <= hi for lo, hi in self.ranges) or any(p(c) for p in self.preds)

    def has(self, c: str) -> bool:
        inside = self._raw(c)
        if not inside and self.fold:
            inside = any(self._raw(x) for x in {c.lower(), c.upper(), c.casefold()} if len(x) == 1)
        return inside != self.negated

    def samples(self):
        """Members, the most readable first."""
        for c in _PREFERRED:
            if self.has(c):
                yield c
        for lo, hi in self.ranges:
            for o in (lo, hi):
                if o < 0xD800 or 0xDFFF < o <= MAX_CODEPOINT:
                    c = chr(o)
                    if self.has(c):
                        yield c
        for o in list(range(0x20, 0x3000)) + list(range(0, 0x20)):
            c = chr(o)
            if self.has(c):
                yield c
                return


_PREFERRED = "0a1bxyzABX_-.5429:/ "
_DOT = CharSet((), (lambda c: c != "\n",))
_DOT_NL = CharSet(((0, MAX_CODEPOINT),))


def _lit(c: str, fold: bool) -> CharSet:
    return CharSet(((ord(c), ord(c)),), fold=fold)


# ---------------------------------------------------------------------------------------------
# tree


@dataclass(frozen=True)
class Chars:
    set: CharSet


@dataclass(frozen=True)
class Concat:
    items: tuple


@dataclass(frozen=True)
class Alt:
    items: tuple


@dataclass(frozen=True)
class Repeat:
    item: object
    min: int
    max: int | None


@dataclass(frozen=True)
class Assert:
    kind: str  # "bot" (text begin), "eot" (text end), "bol", "eol", "wb", "nwb"


EMPTY = Concat(())


# ---------------------------------------------------------------------------------------------
# parser (Go regexp/syntax with Perl flags, as Prometheus compiles it)


class _Parser:
    def __init__(self, text: str, dot_nl: bool):
        self.s = text
        self.i = 0
        self.dot_nl = dot_nl

    def error(self, what: str):
        raise RegexError(f"{what} at offset {self.i} of /{self.s}/")

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def parse(self):
        node = self.alternation({"i": False, "m": False, "s": False, "U": False})
        if self.i < len(self.s):
            self.error("unexpected )")
        return node

    def alternation(self, flags):
        branches = [self.concat(flags)]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.concat(flags))
        return branches[0] if len(branches) == 1 else Alt(tuple(branches))

    def concat(self, flags):
        items = []
        while self.i < len(self.s) and self.peek() not in "|)":
            if self.s.startswith("(?", self.i) and self._flag_group(flags):
                continue  # (?flags) changes the flags of the rest of this group
            atom = self.atom(flags)
            if atom is None:
                continue
            items.append(self.repeats(atom, flags))
        return items[0] if len(items) == 1 else Concat(tuple(items))

    def _flag_group(self, flags) -> bool:
        """``(?flags)`` (returns True, flags updated in place) or ``(?flags:`` (returns False, not consumed)."""
        j = self.i + 2
        while j < len(self.s) and self.s[j] in "imsU-":
            j += 1
        if j < len(self.s) and self.s[j] == ")" and j > self.i + 2:
            self._apply_flags(flags, self.s[self.i + 2:j])
            self.i = j + 1
            return True
        return False

    def _apply_flags(self, flags, spec: str):
        on = True
        for ch in spec:
            if ch == "-":
                if not on:
                    self.error("bad flags")
                on = False
            elif ch in "imsU":
                flags[ch] = on
            else:
                self.error("bad flags")

    def repeats(self, atom, flags):
        """One repetition operator after an atom (``*``, ``+``, ``?``, ``{n,m}``, each optionally lazy);
        a second one right after it is an error, as in RE2 (``a**``)."""
        c = self.peek()
        if c in ("*", "+", "?"):
            self.i += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        elif c == "{" and self._looks_like_braces():
            lo, hi = self._braces()
        else:
            return atom
        if self.peek() == "?":
            self.i += 1  # lazy: the same set of matches
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self._looks_like_braces()):
            self.error("invalid nested repetition operator")
        return Repeat(atom, lo, hi)

    def _looks_like_braces(self) -> bool:
        save = self.i
        try:
            return self._braces() is not None
        finally:
            self.i = save

    def _braces(self):
        """``{n}``, ``{n,}``, ``{n,m}``; anything else after ``{`` is a literal brace (returns None)."""
        j = self.i + 1
        k = j
        while k < len(self.s) and self.s[k].isdigit():
            k += 1
        if k == j:
            return None
        lo = int(self.s[j:k])
        hi: int | None = lo
        if k < len(self.s) and self.s[k] == ",":
            k += 1
            m = k
            while k < len(self.s) and self.s[k].isdigit():
                k += 1
            hi = int(self.s[m:k]) if k > m else None
        if k >= len(self.s) or self.s[k] != "}":
            return None
        self.i = k + 1
        if lo > MAX_REPEAT or (hi is not None and (hi > MAX_REPEAT or hi < lo)):
            self.error("invalid repeat count")
        return lo, hi

    def atom(self, flags):
        c = self.peek()
        fold = flags["i"]
        if c == "(":
            return self.group(flags)
        if c in "*+?":
            self.error("missing argument to repetition operator")
        if c == "{" and self._looks_like_braces():
            self.error("missing argument to repetition operator")
        self.i += 1
        if c == ".":
            return Chars(_DOT_NL if flags["s"] or self.dot_nl else _DOT)
        if c == "^":
            return Assert("bol" if flags["m"] else "bot")
        if c == "$":
            return Assert("eol" if flags["m"] else "eot")
        if c == "[":
            return Chars(self.char_class(fold))
        if c == "\\":
            return self.escape(fold)
        return Chars(_lit(c, fold))

    def group(self, flags):
        self.i += 1  # (
        inner = dict(flags)
        if self.peek() == "?":
            if self.s.startswith("?P<", self.i) or self.s.startswith("?<", self.i):
                j = self.s.find(">", self.i)
                name = self.s[self.s.index("<", self.i) + 1:j] if j > 0 else ""
                if j < 0 or not name or not all(ch.isalnum() or ch == "_" for ch in name):
                    self.error("invalid named capture")
                self.i = j + 1
            else:
                j = self.i + 1
                while j < len(self.s) and self.s[j] in "imsU-":
                    j += 1
                if j >= len(self.s) or self.s[j] != ":":
                    self.error("invalid or unsupported Perl syntax")
                self._apply_flags(inner, self.s[self.i + 1:j])
                self.i = j + 1
        node = self.alternation(inner)
        if self.peek() != ")":
            self.error("missing closing )")
        self.i += 1
        return node

    def _escape_char(self) -> str | CharSet:
        """After a backslash: one literal character, or a class (\\d, \\pL, ...)."""
        c = self.peek()
        if not c:
            self.error("trailing backslash")
        self.i += 1
        if c in "dswDSW":
            return CharSet((), (_PERL[c.lower()],), negated=c.isupper())
        if c in "pP":
            if self.peek() == "{":
                j = self.s.find("}", self.i)
                if j < 0:
                    self.error("invalid character class range")
                name = self.s[self.i + 1:j]
                self.i = j + 1
            else:
                name = self.peek()
                self.i += 1
            neg = c == "P"
            if name.startswith("^"):
                name, neg = name[1:], not neg
            return CharSet((), (_unicode_class(name),), negated=neg)
        simple = {"a": "\a", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}
        if c in simple:
            return simple[c]
        if c == "x":
            if self.peek() == "{":
                j = self.s.find("}", self.i)
                digits = self.s[self.i + 1:j] if j > 0 else ""
                self.i = j + 1
            else:
                digits = self.s[self.i:self.i + 2]
                self.i += 2
            try:
                o = int(digits, 16)
            except ValueError:
                self.error("invalid escape sequence")
            if o > MAX_CODEPOINT or len(digits) == 0:
                self.error("invalid escape sequence")
            return chr(o)
        if c in "01234567":
            j = self.i - 1
            k = j
            while k < len(self.s) and k - j < 3 and self.s[k] in "01234567":
                k += 1
            if c != "0" and k - j == 1:
                self.error("invalid escape sequence (backreferences are not supported)")
            self.i = k
            return chr(int(self.s[j:k], 8))
        if c.isascii() and not c.isalnum():
            return c  # escaped punctuation
        self.error("invalid escape sequence")

    def escape(self, fold: bool):
        c = self.peek()
        if c == "Q":
            j = self.s.find("\\E", self.i + 1)
            text = self.s[self.i + 1:] if j < 0 else self.s[self.i + 1:j]
            self.i = len(self.s) if j < 0 else j + 2
            return Concat(tuple(Chars(_lit(ch, fold)) for ch in text))
        if c in ("A", "z", "b", "B"):
            self.i += 1
            return Assert({"A": "bot", "z": "eot", "b": "wb", "B": "nwb"}[c])
        got = self._escape_char()
        if isinstance(got, CharSet):
            return Chars(CharSet(got.ranges, got.preds, got.negated, fold))
        return Chars(_lit(got, fold))

    def char_class(self, fold: bool) -> CharSet:
        neg = False
        if self.peek() == "^":
            neg = True
            self.i += 1
        ranges, preds = [], []
        first = True
        while True:
            c = self.peek()
            if not c:
                self.error("missing closing ]")
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if self.s.startswith("[:", self.i):
                j = self.s.find(":]", self.i + 2)
                name = self.s[self.i + 2:j] if j > 0 else ""
                pneg = name.startswith("^")
                name = name.lstrip("^")
                if j > 0 and name in _POSIX:
                    self.i = j + 2
                    p = _POSIX[name]
                    preds.append((lambda q: (lambda ch: not q(ch)))(p) if pneg else p)
                    continue
            lo = self._class_char()
            if isinstance(lo, CharSet):
                preds.append(lo.has)
                continue
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                hi = self._class_char()
                if isinstance(hi, CharSet) or ord(hi) < ord(lo):
                    self.error("invalid character class range")
                ranges.append((ord(lo), ord(hi)))
            else:
                ranges.append((ord(lo), ord(lo)))
        return CharSet(tuple(ranges), tuple(preds), neg, fold)

    def _class_char(self):
        c = self.peek()
        self.i += 1
        if c == "\\":
            return self._escape_char()
        return c


@lru_cache(maxsize=1024)
def parse(pattern: str, dot_nl: bool = False):
    """The tree of an RE2 pattern (raises :class:`RegexError`). ``dot_nl``: ``.`` matches a newline too
    (Prometheus 3 compiles matchers so; Prometheus 2 does not)."""
    return _Parser(pattern, dot_nl).parse()


# ---------------------------------------------------------------------------------------------
# matching (sets of end positions; the tree has no backreferences, so this is exact)


def _assert_ok(kind: str, s: str, i: int) -> bool:
    if kind == "bot":
        return i == 0
    if kind == "eot":
        return i == len(s)
    if kind == "bol":
        return i == 0 or s[i - 1] == "\n"
    if kind == "eol":
        return i == len(s) or s[i] == "\n"
    before = i > 0 and _is_word(s[i - 1])
    after = i < len(s) and _is_word(s[i])
    return (before != after) == (kind == "wb")


def _ends(node, s: str, starts: frozenset) -> frozenset:
    if isinstance(node, Chars):
        return frozenset(i + 1 for i in starts if i < len(s) and node.set.has(s[i]))
    if isinstance(node, Assert):
        return frozenset(i for i in starts if _assert_ok(node.kind, s, i))
    if isinstance(node, Concat):
        cur = starts
        for item in node.items:
            if not cur:
                break
            cur = _ends(item, s, cur)
        return cur
    if isinstance(node, Alt):
        out: set = set()
        for item in node.items:
            out |= _ends(item, s, starts)
        return frozenset(out)
    if isinstance(node, Repeat):
        cur = starts
        out = set(starts) if node.min == 0 else set()
        n = 0
        seen = set(starts)
        while cur and (node.max is None or n < node.max):
            cur = _ends(node.item, s, cur)
            n += 1
            if n >= node.min:
                out |= cur
            if node.max is None and n >= node.min:
                cur = frozenset(cur - seen)
                seen |= cur
        return frozenset(out)
    raise TypeError(node)


def fullmatch(pattern: str, value: str, dot_nl: bool = False) -> bool:
    """Whether Prometheus' ``=~"pattern"`` accepts ``value`` (the regex anchored at both ends)."""
    return len(value) in _ends(parse(pattern, dot_nl), value, frozenset((0,)))


def accepts(pattern: str, value: str) -> bool:
    """``value`` matches under both Prometheus 2 and 3 semantics of ``.``."""
    return fullmatch(pattern, value) and fullmatch(pattern, value, True)


def rejects(pattern: str, value: str) -> bool:
    """``value`` does not match under either semantics of ``.``."""
    return not fullmatch(pattern, value) and not fullmatch(pattern, value, True)


# ---------------------------------------------------------------------------------------------
# examples


def _candidates(node, limit: int = 8) -> list[str]:
    """Short strings built along the tree (most of them match; assertions are checked afterwards)."""
    if isinstance(node, Chars):
        out = []
        for c in node.set.samples():
            if c not in out:
                out.append(c)
            if len(out) >= 2:
                break
        return out
    if isinstance(node, Assert):
        return [""]
    if isinstance(node, Concat):
        acc = [""]
        for item in node.items:
            parts = _candidates(item, limit)
            if not parts:
                return []
            acc = [a + p for a in acc for p in parts][:limit]
        return acc
    if isinstance(node, Alt):
        out = []
        for item in node.items:
            out.extend(_candidates(item, limit))
        return out[: limit * 2]
    if isinstance(node, Repeat):
        parts = _candidates(node.item, limit)
        reps = [node.min] + ([node.min + 1] if node.max is None or node.max > node.min else [])
        out = []
        for n in reps:
            if n == 0:
                out.append("")
                continue
            if not parts:
                continue
            out.extend(p * n for p in parts)
            if len(parts) > 1:
                out.append((parts[0] + parts[1] * (n - 1))[: max(1, n) * 8])
        return out[:limit]
    raise TypeError(node)


@lru_cache(maxsize=4096)
def example(pattern: str) -> str | None:
    """A short label value the anchored regex matches, or None when it matches nothing."""
    node = parse(pattern)
    cands = _candidates(node)
    # the most readable first: no leading/trailing space, printable, short
    cands = sorted(dict.fromkeys(cands), key=lambda v: (not v.isprintable(), v != v.strip(), v == "", len(v)))
    for v in cands:
        if accepts(pattern, v):
            return v
    return None


_OTHERS = ("mlmon-other", "200", "x", "", "0", "a", "mlmon", "-", "zz9", "other value")


@lru_cache(maxsize=4096)
def counter_example(pattern: str) -> str | None:
    """A short label value the anchored regex does not match, or None when it matches every string."""
    node = parse(pattern)
    seeds = list(_OTHERS)
    for v in _candidates(node):
        seeds += [v + "x", "x" + v, v[:-1], v + v, v.upper(), v.lower(), v + "0", "0" + v]
    for v in seeds:
        if v.isprintable() and rejects(pattern, v):
            return v
    for o in range(0x21, 0x3000):
        if chr(o).isprintable() and rejects(pattern, chr(o)):
            return chr(o)
    return None
