"""Classify what a citizen writes into ranked action-manual scenarios.

Usage::

    from manuals.classify import classify, urgent_signals

    result = classify("불낫어요 연기가 엄청나요")
    result.top.slug         # "fire"
    result.confident        # True: show the manual; False: offer result.matches as choices
    [m.slug for m in result.matches]   # up to three, best first
    urgent_signals("엘베에 갇혔어요")   # ["trapped"]

How it works (pure Python, deterministic, well under a millisecond for a typical message; the
full description and the accuracy figures are in manuals/README.md):

1. Normalise: NFKC, lowercase, punctuation and bare jamo removed, Latin and Hangul runs split.
   Korean is matched without spaces in a *loose* form where each Hangul syllable's final
   consonant is reduced to its sound class and look-alike vowels are merged (ㅆ/ㅅ, ㅐ/ㅔ...), so
   "불낫어요" meets "불났" and "화제" meets "화재". Unknown English words of six letters or more
   are spell-corrected against the keyword vocabulary (edit distance 1, same first letter) unless
   they are ordinary words (any word of the English manual texts, the catalogue's kept words and
   closing words); unknown words of four or five letters only by swapping two neighbouring
   letters after the first ("fier" -> "fire", but "fine", "fare" and "hire" stay themselves).
   A message of closing words only ("thanks", "네 감사합니다") gets nothing; one that laughs
   (ㅋㅋ, ㅎㅎ in the raw text, which normalisation drops) is never confident, and does not raise
   the signals laughter mutes ("터졌어요ㅋㅋ" is no explosion; "갇혔어요ㅎㅎ" is still trapped).
2. Match every keyword, synonym and name of the catalogue: Korean as substrings of the spaceless
   text (optionally only at a word start), English as word prefixes (short words only with an
   inflection; optionally whole words), "a*b" keywords with a short gap, and English phrases
   whose (stemmed) content words appear near each other in any order.
3. Resolve: a match starting inside a false friend ("불편", "물가가", "gas station") is dropped;
   a match contained in a longer match of another scenario is dropped ("지진해일" hides "지진");
   overlapping matches of one scenario count once; negative phrases veto their scenario.
4. Score each scenario by the sum of its matched weights, give a scenario that "absorbs" a
   generic one part of that one's score (a fire on a ferry is a ferry emergency), break ties with
   a character-bigram similarity (also the never-confident fallback when nothing matched), and
   turn the scores into a softmax-like confidence against a "none of these" baseline.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from manuals.catalog import Catalog, Keyword, load_catalog

__all__ = [
    "Classification",
    "Classifier",
    "Match",
    "classify",
    "continues_situation",
    "detect_lang",
    "en_form",
    "get_classifier",
    "holds_citizen",
    "ko_form",
    "loose_korean",
    "normalize",
    "stem",
    "urgent_signals",
]

# Confidence model, tuned on tests/manuals/labelled_messages.tsv (see manuals.evaluate).
TEMPERATURE = 1.0
BASELINE = 1.0  # the score of "none of these"
CONFIDENT_PROBABILITY = 0.55
CONFIDENT_SCORE = 2.0
NGRAM_TIEBREAK = 0.01  # weight of the bigram similarity when keywords matched
NGRAM_FALLBACK = 1.2  # the highest score bigram similarity alone can give
NGRAM_MIN = 4.0  # below this similarity the fallback says nothing
TOP_N = 3
MAX_TEXT = 2000  # only the first characters of a message are classified (keeps it fast)
MAX_SPAN = 64  # no keyword or false friend is longer than this (normalised characters)
ABSORB_SHARE = 0.75  # share of an absorbed scenario's score given to the absorbing one
ABSORB_MIN = 2.0  # the absorbing scenario needs this much evidence of its own
GAP_KO = 8  # characters allowed between the parts of a Korean "a*b" keyword (spaceless)
GAP_EN = 24  # characters allowed between the parts of an English "a*b" keyword
# A Korean "a*b" false friend spans only a few words ("나무가 바람에 쓰러졌어요"): a longer gap
# holds other words that may name what the keyword is about ("나무가 있는 곳에 사람이 쓰러졌어요").
FRIEND_GAP_KO = 5
SHORT_WORD = 4  # English keywords this short match only as a word or its inflection
CORRECT_MIN = 6  # unknown English words this long are corrected by any one edit
SWAP_MIN = 4  # shorter ones, from this length, only by swapping two neighbouring letters
CLOSING_MAX = 60  # a longer message is never only closing words ("thanks", "감사합니다")
_INFLECTIONS = frozenset({"s", "es", "ed", "d", "ing", "y", "ies", "er", "ers"})
PARTICLES = frozenset("이가을를에은는도로랑")  # where a Korean keyword may have words inserted
PARTICLE_GAP_SHARE = 0.8  # weight share of "비가쏟아" matched as "비 ... 쏟아"
LOOSE_SHARE = 0.6  # weight share of an English phrase whose words appear out of order/apart
LOOSE_WINDOW = 8  # tokens within which those words must appear
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "i",
        "im",
        "my",
        "me",
        "we",
        "our",
        "you",
        "your",
        "he",
        "she",
        "his",
        "her",
        "him",
        "they",
        "them",
        "their",
        "it",
        "its",
        "this",
        "that",
        "there",
        "here",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "and",
        "or",
        "up",
        "out",
        "into",
        "off",
        "so",
        "very",
        "too",
        "all",
        "just",
        "now",
    ]
)

_HANGUL_BASE = 0xAC00
_HANGUL_LAST = 0xD7A3
# Final consonant (jongseong index 0..27) -> representative index of its sound class.
#  0 none, 1 ㄱ, 2 ㄲ, 3 ㄳ, 4 ㄴ, 5 ㄵ, 6 ㄶ, 7 ㄷ, 8 ㄹ, 9 ㄺ, 10 ㄻ, 11 ㄼ, 12 ㄽ, 13 ㄾ,
#  14 ㄿ, 15 ㅀ, 16 ㅁ, 17 ㅂ, 18 ㅄ, 19 ㅅ, 20 ㅆ, 21 ㅇ, 22 ㅈ, 23 ㅊ, 24 ㅋ, 25 ㅌ, 26 ㅍ, 27 ㅎ
_FINAL_CLASS = (
    0, 1, 1, 1, 4, 4, 4, 19, 8, 1, 16, 8, 8, 8,
    17, 8, 16, 17, 17, 19, 19, 21, 19, 19, 1, 19, 17, 19,
)  # fmt: skip
# Medial vowel (jungseong index 0..20) -> representative: ㅐ/ㅔ, ㅒ/ㅖ, ㅙ/ㅚ/ㅞ merged.
_MEDIAL_CLASS = (0, 5, 2, 7, 4, 5, 6, 7, 8, 9, 15, 15, 12, 13, 14, 15, 16, 17, 18, 19, 20)
_NON_WORD = re.compile(r"[^0-9a-z\uac00-\ud7a3]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_SCRIPT_CHANGE = re.compile(r"(?<=[a-z])(?=[\uac00-\ud7a3])|(?<=[\uac00-\ud7a3])(?=[a-z])")


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked scenario: its slug, official code and confidence score (0..1)."""

    slug: str
    code: int
    score: float
    raw: float = 0.0  # the summed keyword weight behind the score

    def as_dict(self) -> dict[str, object]:
        """Return the JSON-friendly form used by the CLI (`slug`, `code`, `score`)."""
        return {"slug": self.slug, "code": self.code, "score": self.score}


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's answer: up to three matches, best first, and whether to trust the top."""

    matches: tuple[Match, ...]
    confident: bool
    lang: str
    urgent: tuple[str, ...] = ()

    @property
    def top(self) -> Match | None:
        """Return the best match or None when nothing matched."""
        return self.matches[0] if self.matches else None

    @property
    def slugs(self) -> tuple[str, ...]:
        """Return the slugs of the matches, best first."""
        return tuple(m.slug for m in self.matches)


def loose_korean(text: str) -> str:
    """Map each Hangul syllable to its loose form (final consonant class, merged vowels)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if _HANGUL_BASE <= cp <= _HANGUL_LAST:
            offset = cp - _HANGUL_BASE
            initial, rest = divmod(offset, 588)
            medial, final = divmod(rest, 28)
            cp = _HANGUL_BASE + initial * 588 + _MEDIAL_CLASS[medial] * 28 + _FINAL_CLASS[final]
            out.append(chr(cp))
        else:
            out.append(ch)
    return "".join(out)


def normalize(text: str) -> list[str]:
    """Return the lowercase word tokens of `text` (NFKC, punctuation and jamo removed)."""
    text = _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).lower())
    return _SCRIPT_CHANGE.sub(" ", text).split()


def detect_lang(text: str) -> str:
    """Return "ko" when the text contains Hangul, otherwise "en"."""
    return "ko" if _HANGUL.search(text) else "en"


@dataclass(frozen=True, slots=True)
class _Pattern:
    text: str  # normalised: loose spaceless (ko) or space-joined tokens (en)
    target: int  # scenario index, or -1 for a false friend
    weight: float
    word_start: bool
    whole_word: bool
    parts: tuple[str, ...] = ()  # for "a*b" gap patterns: the normalised parts
    short_word: bool = False  # a short English word: only itself or an inflection ("kit(s)")


def _particle_gap(p: _Pattern) -> _Pattern | None:
    """Return "비*쏟아" for "비가쏟아": a keyword whose particle may be followed by other words."""
    text = p.text
    if p.word_start or len(text) < 4:
        return None
    best: tuple[str, str] | None = None
    for i in range(1, len(text) - 2):
        if text[i] not in PARTICLES:
            continue
        end = i + 2 if text[i : i + 2] == "에서" else i + 1
        if len(text) - end >= 2:
            best = (text[:i], text[end:])
    if best is None:
        return None
    return _Pattern(" ".join(best), p.target, p.weight * PARTICLE_GAP_SHARE, False, False, best)


def _find_gapped(text: str, parts: tuple[str, ...], gap: int) -> tuple[int, int] | None:
    """Return the span of the first occurrence of `parts` in order with short gaps."""
    start = text.find(parts[0])
    while start >= 0:
        end = start + len(parts[0])
        for part in parts[1:]:
            at = text.find(part, end, end + gap + len(part))
            if at < 0:
                break
            end = at + len(part)
        else:
            return start, end
        start = text.find(parts[0], start + 1)
    return None


@dataclass(slots=True)
class _Hit:
    start: int
    end: int
    target: int
    weight: float
    key: str


def _masked(hit: _Hit, friends: list[_Hit]) -> bool:
    """True when a hit starts inside a false friend it does not cover ("사랑에빠|졌").

    A keyword spelling out the whole false friend claims it: "나무가쓰러" is wind damage, while
    the "쓰러져" inside it (a person collapsed) is masked.
    """
    return any(
        f.start <= hit.start < f.end and not (hit.start <= f.start and f.end <= hit.end)
        for f in friends
    )


def _by_start(hits: list[_Hit]) -> dict[int, list[_Hit]]:
    """Index hits by start position (for the neighbourhood lookups of `_around`)."""
    index: dict[int, list[_Hit]] = defaultdict(list)
    for h in hits:
        index[h.start].append(h)
    return index


def _around(index: dict[int, list[_Hit]], hit: _Hit) -> list[_Hit]:
    """Return the indexed hits starting at most MAX_SPAN characters before `hit`, up to it."""
    out: list[_Hit] = []
    for start in range(max(0, hit.start - MAX_SPAN), hit.start + 1):
        out += index.get(start, ())
    return out


def _unmasked(text: str, friends: list[_Hit]) -> str:
    """Return `text` with the false friends blanked out (for the bigram fallback)."""
    chars = list(text)
    for f in friends:
        chars[f.start : f.end] = " " * (f.end - f.start)
    return "".join(chars).replace(" ", "")


def stem(word: str) -> str:
    """Return a light English stem ("pouring" -> "pour", "waves" -> "wave")."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True, slots=True)
class _Loose:
    stems: tuple[str, ...]
    target: int
    weight: float
    key: str


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class _Matcher:
    """Finds every occurrence of a set of patterns in a Korean or English text."""

    def __init__(self, patterns: Iterable[_Pattern]) -> None:
        self.by_prefix: dict[str, list[_Pattern]] = defaultdict(list)
        for p in patterns:
            if p.text:
                self.by_prefix[p.text[:2]].append(p)

    def find(
        self, text: str, starts: Sequence[int] | None, word_starts: frozenset[int]
    ) -> list[_Hit]:
        """Return the hits; `starts` limits candidate positions (None: every position)."""
        hits: list[_Hit] = []
        positions = range(len(text)) if starts is None else starts
        by_prefix = self.by_prefix
        size = len(text)
        for i in positions:
            for key in (text[i : i + 2], text[i]):
                candidates = by_prefix.get(key)
                if not candidates:
                    continue
                for p in candidates:
                    if not text.startswith(p.text, i):
                        continue
                    if p.word_start and i not in word_starts:
                        continue
                    end = i + len(p.text)
                    if p.whole_word and end < size and text[end] != " ":
                        continue
                    if p.short_word and end < size and text[end] != " ":
                        tail = text[end:].split(" ", 1)[0]
                        if tail not in _INFLECTIONS:
                            continue
                        end += len(tail)
                    hits.append(_Hit(i, end, p.target, p.weight, p.text))
        return hits


class _GapMatcher:
    """Finds "a*b" patterns, looking only at those whose first and last parts could occur.

    A match starting inside a false friend is dropped; with ``claims`` (the urgent signals'
    explicit patterns) one spelling out the whole false friend keeps it, like a plain keyword:
    "차가*잠겼*아기" claims the locked car "차가잠겼". Scenario gaps never claim: the loose
    particle gap "물*들어" must not swallow "물가가 올라서 힘들어요".
    """

    def __init__(self, patterns: Iterable[_Pattern], gap: int, *, claims: bool = False) -> None:
        self.gap = gap
        self.claims = claims
        self.patterns = list(patterns)
        # Pattern positions by the first two characters of their first part: a text is only
        # tried against the patterns its own bigrams (and characters) can start.
        self.by_prefix: dict[str, list[int]] = defaultdict(list)
        for position, p in enumerate(self.patterns):
            self.by_prefix[p.parts[0][:2]].append(position)

    def find(self, text: str, present: frozenset[str], friends: list[_Hit]) -> list[_Hit]:
        """Return the hits in pattern order; `present`: the text's characters and bigrams."""
        by_prefix = self.by_prefix
        positions = sorted(i for key in present if key in by_prefix for i in by_prefix[key])
        hits = []
        for position in positions:
            p = self.patterns[position]
            if p.parts[-1][:2] not in present:
                continue
            span = _find_gapped(text, p.parts, self.gap)
            if span is None:
                continue
            hit = _Hit(span[0], span[1], p.target, p.weight, p.text)
            if self.claims:
                if not _masked(hit, friends):
                    hits.append(hit)
            elif not any(f.start <= hit.start < f.end and not _spells(hit, f) for f in friends):
                hits.append(hit)
        return hits


def _spells(hit: _Hit, friend: _Hit) -> bool:
    """Whether a scenario's gap hit spells out a false friend, no more: it ends where the friend
    ends and covers it ("나무*쓰러" of wind damage over the false friend "나무가*쓰러").

    A gap running on past the friend does not claim it: "물*들어" leaves "물가가" (prices) alone.
    """
    return hit.start <= friend.start and hit.end == friend.end


def _present(text: str) -> frozenset[str]:
    """Return the characters and bigrams of `text` (what a gap pattern's parts must start with)."""
    return frozenset([text[i : i + 2] for i in range(len(text) - 1)] + list(text))


class _Prepared(NamedTuple):
    """A message in the forms the matchers read, with what gap patterns look up computed once."""

    ko_text: str
    ko_starts: frozenset[int]
    en_text: str
    en_starts: list[int]
    en_start_set: frozenset[int]
    ko_present: frozenset[str]
    en_present: frozenset[str]
    quiet: bool = False  # only closing words, or laughter: no scenario is sure
    closing: bool = False  # only closing words ("thanks", "네 감사합니다"): no scenario at all
    laughs: bool = False  # ㅋㅋ, ㅎㅎ: the signals laughter mutes are not raised


def ko_form(raw: str) -> str:
    """Return the form Korean keywords are matched in (spaceless, loose)."""
    return loose_korean("".join(normalize(raw)))


def en_form(raw: str) -> str:
    """Return the form English keywords are matched in (lowercase words, single spaces)."""
    return " ".join(normalize(raw))


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


TEMPLATES_EN = Path(__file__).with_name("templates") / "en"
_WORD = re.compile(r"[a-z]{3,}")


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Return the words of the English manual texts: real words the spell-corrector keeps."""
    words: set[str] = set()
    for path in sorted(TEMPLATES_EN.glob("*.j2")):
        words.update(_WORD.findall(path.read_text(encoding="utf-8").lower()))
    return frozenset(words)


class Classifier:
    """A compiled catalogue ready to classify messages (build once, share freely)."""

    def __init__(self, catalog: Catalog, known_words: frozenset[str] | None = None) -> None:
        self.catalog = catalog
        closings = {ko_form(kw.text) for kw in catalog.closings}
        closings.discard("")
        self._closings = frozenset(closings)
        self._closing_lengths = sorted({len(c) for c in closings}, reverse=True)
        closing_words = {
            w for kw in catalog.closings if kw.lang == "en" for w in normalize(kw.text)
        }
        self.known_words = (
            (english_words() if known_words is None else known_words)
            | catalog.kept_words
            | closing_words
        )
        self._laughter = tuple(
            dict.fromkeys(
                form
                for mark in catalog.laughter
                for form in (mark, unicodedata.normalize("NFKC", mark))
            )
        )
        self._laugh_mutes = frozenset(catalog.laughter_mutes)
        self._continue_en = [
            tuple(normalize(kw.text)) for kw in catalog.continuations if kw.lang == "en"
        ]
        self._continue_ko = [
            (ko_form(kw.text), kw.whole_word, kw.word_start)
            for kw in catalog.continuations
            if kw.lang == "ko"
        ]
        self._holding = frozenset(catalog.holding_signals)
        scenarios = catalog.scenarios
        ko: list[_Pattern] = []
        en: list[_Pattern] = []
        gap_ko: list[_Pattern] = []
        gap_en: list[_Pattern] = []
        self.vocab: set[str] = set()
        for index, scenario in enumerate(scenarios):
            best: dict[tuple[str, str], _Pattern] = {}
            for kw in scenario.keywords:
                pattern = self._pattern(kw, index)
                key = (kw.lang, pattern.text)
                if key not in best or best[key].weight < pattern.weight:
                    best[key] = pattern
            for (lang, _), pattern in list(best.items()):
                if lang == "ko" and not pattern.parts:
                    gapped = _particle_gap(pattern)
                    if gapped is not None and ("ko", gapped.text) not in best:
                        gap_ko.append(gapped)
                if pattern.parts:
                    (gap_ko if lang == "ko" else gap_en).append(pattern)
                else:
                    (ko if lang == "ko" else en).append(pattern)
        gap_friends: dict[str, list[_Pattern]] = {"ko": [], "en": []}
        for kw in catalog.false_friends:
            pattern = self._pattern(kw, -1)
            if pattern.parts:
                gap_friends[kw.lang].append(pattern)
            else:
                (ko if kw.lang == "ko" else en).append(pattern)
        for p in en + gap_en:
            self.vocab.update(w for w in p.text.split() if len(w) >= 4)
        self._loose_by_stem: dict[str, list[_Loose]] = defaultdict(list)
        for p in en:
            if p.target < 0 or p.whole_word:
                continue
            stems = tuple(dict.fromkeys(stem(w) for w in p.text.split() if w not in _STOPWORDS))
            if len(stems) >= 2 and all(len(x) >= 3 for x in stems):
                loose = _Loose(stems, p.target, p.weight * LOOSE_SHARE, "~" + p.text)
                for x in stems:
                    self._loose_by_stem[x].append(loose)
        self._stem_lengths = sorted({len(x) for x in self._loose_by_stem})
        self._absorbs = {
            index: tuple(catalog.slugs.index(a) for a in s.absorbs if a in catalog)
            for index, s in enumerate(scenarios)
            if s.absorbs
        }
        self._ko = _Matcher(ko)
        self._gap_ko = _GapMatcher(gap_ko, GAP_KO)
        self._gap_en = _GapMatcher(gap_en, GAP_EN)
        self._gap_friends_ko = _GapMatcher(gap_friends["ko"], FRIEND_GAP_KO)
        self._gap_friends_en = _GapMatcher(gap_friends["en"], GAP_EN)
        self._en = _Matcher(en)
        self._delete_index: dict[str, set[str]] = defaultdict(set)
        for word in self.vocab:
            if len(word) >= 5:
                self._delete_index[word].add(word)
                for d in _deletes(word):
                    self._delete_index[d].add(word)
        self._negatives = [
            (
                index,
                tuple(
                    (kw.lang, ko_form(kw.text) if kw.lang == "ko" else en_form(kw.text))
                    for kw in s.negatives
                ),
            )
            for index, s in enumerate(scenarios)
            if s.negatives
        ]
        # Bigram vocabulary per scenario (Korean loose forms and English words) for the fallback.
        bigram_sets: list[set[str]] = []
        for s in scenarios:
            grams: set[str] = set()
            for kw in s.keywords:
                form = ko_form(kw.text) if kw.lang == "ko" else en_form(kw.text).replace(" ", "")
                grams |= _bigrams(form)
            bigram_sets.append(grams)
        df: dict[str, int] = defaultdict(int)
        for grams in bigram_sets:
            for g in grams:
                df[g] += 1
        n = len(scenarios)
        self._bigram_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, grams in enumerate(bigram_sets):
            for g in grams:
                self._bigram_index[g].append((index, math.log(1 + n / df[g])))
        # Urgent signals use their own matchers (they never compete with scenarios).
        sig_ko = [
            self._pattern(kw, i)
            for i, s in enumerate(catalog.signals)
            for kw in s.keywords
            if kw.lang == "ko"
        ]
        sig_en = [
            self._pattern(kw, i)
            for i, s in enumerate(catalog.signals)
            for kw in s.keywords
            if kw.lang == "en"
        ]
        ff_ko = [p for p in ko if p.target == -1]
        ff_en = [p for p in en if p.target == -1]
        self._sig_ko = _Matcher([p for p in sig_ko if not p.parts] + ff_ko)
        self._sig_en = _Matcher([p for p in sig_en if not p.parts] + ff_en)
        # "a*b" signals need their context in the same sentence ("물이*잠겼": a locked door
        # is not urgent, water rising until something is under it is).
        self._sig_gap_ko = _GapMatcher([p for p in sig_ko if p.parts], GAP_KO, claims=True)
        self._sig_gap_en = _GapMatcher([p for p in sig_en if p.parts], GAP_EN, claims=True)

    @staticmethod
    def _pattern(kw: Keyword, target: int) -> _Pattern:
        form = ko_form if kw.lang == "ko" else en_form
        if "*" in kw.text:
            parts = tuple(p for p in (form(x) for x in kw.text.split("*")) if p)
            return _Pattern(" ".join(parts), target, kw.weight, False, False, parts)
        text = form(kw.text)
        short = kw.lang == "en" and " " not in text and len(text) <= SHORT_WORD
        return _Pattern(text, target, kw.weight, kw.word_start, kw.whole_word, (), short)

    # -- text preparation ------------------------------------------------------------------

    def _correct(self, token: str) -> str:
        """Return the vocabulary word one edit away from an unknown English token, if unique."""
        if len(token) < SWAP_MIN or not token.isascii() or token in self.vocab:
            return token
        if token in self.known_words:
            return token
        if any(token[:k] in self.vocab for k in range(4, len(token))):
            return token
        if len(token) < CORRECT_MIN:
            return self._unswapped(token) if token.isalpha() else token
        candidates: set[str] = set(self._delete_index.get(token, ()))
        for d in _deletes(token):
            candidates |= self._delete_index.get(d, set())
        candidates = {c for c in candidates if c[0] == token[0]}
        if len(candidates) == 1:
            return next(iter(candidates))
        return token

    def _unswapped(self, token: str) -> str:
        """Return the vocabulary word a short token is with two neighbouring letters swapped.

        Only swaps after the first letter, and only when one word fits: "fier" -> "fire",
        "smoek" -> "smoke". A short word one substitution, insertion or deletion away from a
        keyword is too often another real word ("fine", "fare", "hire" near "fire").
        """
        vocab = self.vocab
        found = {
            swapped
            for i in range(1, len(token) - 1)
            if (swapped := token[:i] + token[i + 1] + token[i] + token[i + 2 :]) in vocab
        }
        found.discard(token)
        return found.pop() if len(found) == 1 else token

    def _only_closings(self, ko_text: str) -> bool:
        """Whether the spaceless text is closing words only ("thankyou", "네감사합니다")."""
        size = len(ko_text)
        if not size or size > CLOSING_MAX or not self._closings:
            return False
        reached = [True] + [False] * size
        for i in range(size):
            if not reached[i]:
                continue
            for length in self._closing_lengths:
                if i + length <= size and ko_text[i : i + length] in self._closings:
                    reached[i + length] = True
        return reached[size]

    def _laughs(self, raw: str) -> bool:
        """Whether the raw text laughs (ㅋㅋ, ㅎㅎ: normalisation drops these jamo)."""
        return any(mark in raw for mark in self._laughter)

    def _prepare(self, text: str) -> _Prepared:
        raw = text[:MAX_TEXT]
        tokens = normalize(raw)
        ko_text = loose_korean("".join(tokens))
        closing = self._only_closings(ko_text)
        laughs = not closing and self._laughs(raw)
        ko_starts: list[int] = []
        pos = 0
        for t in tokens:
            ko_starts.append(pos)
            pos += len(t)
        en_tokens = [self._correct(t) for t in tokens]
        en_text = " ".join(en_tokens)
        en_starts: list[int] = []
        pos = 0
        for t in en_tokens:
            en_starts.append(pos)
            pos += len(t) + 1
        return _Prepared(
            ko_text=ko_text,
            ko_starts=frozenset(ko_starts),
            en_text=en_text,
            en_starts=en_starts,
            en_start_set=frozenset(en_starts),
            ko_present=_present(ko_text),
            en_present=_present(en_text),
            quiet=closing or laughs,
            closing=closing,
            laughs=laughs,
        )

    # -- scoring ---------------------------------------------------------------------------

    @staticmethod
    def _resolve(hits: list[_Hit]) -> list[_Hit]:
        """Drop hits inside false friends and hits contained in a longer other-scenario hit."""
        friends = _by_start([h for h in hits if h.target == -1])
        real = [h for h in hits if h.target != -1 and not _masked(h, _around(friends, h))]
        starts = _by_start(real)
        return [
            h
            for h in real
            if not any(
                o.target != h.target and o.end - o.start > h.end - h.start and h.end <= o.end
                for o in _around(starts, h)
            )
        ]

    def _loose_hits(self, en_text: str, en_starts: list[int], friends: list[_Hit]) -> list[_Hit]:
        """Match English phrases whose content words appear near each other in any order."""
        tokens = en_text.split(" ")
        seen: dict[_Loose, dict[str, list[int]]] = {}
        for i, token in enumerate(tokens):
            for k in self._stem_lengths:
                if k > len(token):
                    break
                for loose in self._loose_by_stem.get(token[:k], ()):
                    seen.setdefault(loose, {}).setdefault(token[:k], []).append(i)
        hits = []
        for loose, where in seen.items():
            if len(where) < len(loose.stems):
                continue
            first = min(min(v) for v in where.values())
            last = max(min(v) for v in where.values())
            if last - first >= LOOSE_WINDOW:
                continue
            start = en_starts[first]
            end = en_starts[last] + len(tokens[last])
            if not any(f.start <= start < f.end for f in friends):
                hits.append(_Hit(start, end, loose.target, loose.weight, loose.key))
        return hits

    @staticmethod
    def _cluster_scores(hits: list[_Hit]) -> dict[int, float]:
        """Sum per scenario, counting overlapping hits of one scenario once (their maximum)."""
        scores: dict[int, float] = defaultdict(float)
        by_target: dict[int, list[_Hit]] = defaultdict(list)
        for h in hits:
            by_target[h.target].append(h)
        for target, group in by_target.items():
            group.sort(key=lambda h: (h.start, h.end))
            end, best = -1, 0.0
            for h in group:
                if h.start >= end:
                    scores[target] += best
                    best = 0.0
                best = max(best, h.weight)
                end = max(end, h.end)
            scores[target] += best
        return scores

    def scores(self, text: str) -> dict[int, float]:
        """Return the raw score of every scenario that matched `text` (index -> score)."""
        return self._scores(self._prepare(text))

    def _scores(self, prepared: _Prepared) -> dict[int, float]:
        if prepared.closing:
            return {}
        ko_text, ko_starts, en_text, en_starts, en_start_set, ko_present, en_present = prepared[:7]
        ko_hits = self._ko.find(ko_text, None, ko_starts)
        en_hits = self._en.find(en_text, en_starts, en_start_set)
        ko_hits += self._gap_friends_ko.find(ko_text, ko_present, [])
        en_hits += self._gap_friends_en.find(en_text, en_present, [])
        ko_friends = [h for h in ko_hits if h.target == -1]
        en_friends = [h for h in en_hits if h.target == -1]
        ko_hits = self._resolve(ko_hits) + self._gap_ko.find(ko_text, ko_present, ko_friends)
        en_hits = (
            self._resolve(en_hits)
            + self._gap_en.find(en_text, en_present, en_friends)
            + self._loose_hits(en_text, en_starts, en_friends)
        )
        scores: dict[int, float] = defaultdict(float)
        for part in (self._cluster_scores(ko_hits), self._cluster_scores(en_hits)):
            for index, value in part.items():
                scores[index] = max(scores[index], value) if index in scores else value
        for index, negatives in self._negatives:
            if index in scores and any(
                (ko_text if lang == "ko" else en_text).find(form) >= 0 for lang, form in negatives
            ):
                del scores[index]
        base = dict(scores)
        for index, absorbed in self._absorbs.items():
            if base.get(index, 0.0) >= ABSORB_MIN:
                scores[index] += ABSORB_SHARE * sum(base.get(a, 0.0) for a in absorbed)
        ranked = sorted(scores.values(), reverse=True)[: TOP_N + 1]
        tied = len(ranked) != len(set(ranked))
        if scores and not tied:
            return dict(scores)
        similarity = self._similarity(
            _unmasked(ko_text, ko_friends) + _unmasked(en_text, en_friends)
        )
        if scores:
            for index in scores:
                scores[index] += NGRAM_TIEBREAK * similarity.get(index, 0.0)
        elif similarity and not (ko_friends or en_friends):
            top = max(similarity.values())
            if top < NGRAM_MIN:
                return {}
            for index, value in similarity.items():
                scores[index] = NGRAM_FALLBACK * value / top * min(1.0, top / 6.0)
        return dict(scores)

    def _similarity(self, spaceless: str) -> dict[int, float]:
        sims: dict[int, float] = defaultdict(float)
        for g in _bigrams(spaceless):
            for index, idf in self._bigram_index.get(g, ()):
                sims[index] += idf
        return sims

    def classify(self, text: str, lang: str | None = None) -> Classification:
        """Rank the scenarios for `text`; `lang` ("ko"/"en") is recorded, detected if None."""
        prepared = self._prepare(text)
        scores = self._scores(prepared)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_N]
        denominator = math.exp(BASELINE / TEMPERATURE) + sum(
            math.exp(s / TEMPERATURE) for s in scores.values()
        )
        scenarios = self.catalog.scenarios
        matches = tuple(
            Match(
                slug=scenarios[i].slug,
                code=scenarios[i].code,
                score=round(math.exp(s / TEMPERATURE) / denominator, 4),
                raw=round(s, 4),
            )
            for i, s in ranked
        )
        confident = bool(
            matches
            and not prepared.quiet
            and matches[0].score >= CONFIDENT_PROBABILITY
            and matches[0].raw >= CONFIDENT_SCORE
        )
        return Classification(
            matches=matches,
            confident=confident,
            lang=lang or detect_lang(text),
            urgent=tuple(self._urgent(prepared)),
        )

    def urgent_signals(self, text: str) -> list[str]:
        """Return the names of the urgent signals in `text` (catalogue order, no duplicates)."""
        return self._urgent(self._prepare(text))

    def _urgent(self, prepared: _Prepared) -> list[str]:
        if prepared.closing:
            return []
        ko_text, ko_starts, en_text, en_starts, en_start_set, ko_present, en_present = prepared[:7]
        found: set[int] = set()
        for hits, gaps, friend_gaps, text, present in (
            (
                self._sig_ko.find(ko_text, None, ko_starts),
                self._sig_gap_ko,
                self._gap_friends_ko,
                ko_text,
                ko_present,
            ),
            (
                self._sig_en.find(en_text, en_starts, en_start_set),
                self._sig_gap_en,
                self._gap_friends_en,
                en_text,
                en_present,
            ),
        ):
            # Gapped false friends mask too: "나무가 바람에 쓰러졌어요" is no person collapsing.
            spans = [h for h in hits if h.target == -1] + friend_gaps.find(text, present, [])
            friends = _by_start(spans)
            for h in hits:
                if h.target >= 0 and not _masked(h, _around(friends, h)):
                    found.add(h.target)
            found.update(h.target for h in gaps.find(text, present, spans))
        names = [self.catalog.signals[i].name for i in sorted(found)]
        if prepared.laughs:
            return [name for name in names if name not in self._laugh_mutes]
        return names

    def continues_situation(self, text: str) -> bool:
        """Whether the words mark the citizen's own situation going on ("still", "아직", "더")."""
        tokens = normalize(text[:MAX_TEXT])
        loose = [loose_korean(t) for t in tokens]
        for words in self._continue_en:
            n = len(words)
            if n and any(tuple(tokens[i : i + n]) == words for i in range(len(tokens))):
                return True
        for form, whole, start in self._continue_ko:
            for t in loose:
                if t == form if whole else t.startswith(form) if start else form in t:
                    return True
        return False

    def holds_citizen(self, text: str) -> bool:
        """Whether the words put the citizen in a danger they cannot leave (trapped)."""
        return bool(self._holding.intersection(self.urgent_signals(text)))

    def only_closings(self, text: str) -> bool:
        """Whether the words are closing words only ("thanks", "네 감사합니다")."""
        return self._only_closings(loose_korean("".join(normalize(text[:MAX_TEXT]))))


@lru_cache(maxsize=1)
def get_classifier() -> Classifier:
    """Return the classifier over the shipped catalogue, built once per process."""
    return Classifier(load_catalog())


def classify(text: str, lang: str | None = None) -> Classification:
    """Rank the catalogue's scenarios for a citizen's message (see the module docstring)."""
    return get_classifier().classify(text, lang)


def urgent_signals(text: str) -> list[str]:
    """Return the urgent signals (trapped, unconscious, fire, ...) found in a message."""
    return get_classifier().urgent_signals(text)


def continues_situation(text: str) -> bool:
    """Whether a follow-up's words continue the citizen's own situation ("still", "더")."""
    return get_classifier().continues_situation(text)


def holds_citizen(text: str) -> bool:
    """Whether a report's words hold the citizen in their situation (they are trapped)."""
    return get_classifier().holds_citizen(text)


def only_closings(text: str) -> bool:
    """Whether a message is closing words only ("thanks", "ok", "네 감사합니다")."""
    return get_classifier().only_closings(text)
