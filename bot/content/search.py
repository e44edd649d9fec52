"""Find the right guide for whatever a resident types, and say how sure we are.

Pure, in-memory and dependency-free; its word lists and patterns live in
``bot/content/search_data/`` and are read once. Text is folded (no diacritics, lower
case), abbreviations are expanded (``cks`` → ``chu ky so``), unknown words are corrected
against the library's vocabulary when they are one or two edits away ("kick" → "kich"),
then three signals are blended:

* a BM25F score over weighted fields (title, keywords, examples, summary, body),
  normalised by what a perfect match of the query would score, so that words no guide
  knows ("giá vàng") pull the score down instead of being ignored;
* the best weighted overlap (Ochiai) with one of the guide's example questions (a
  nearest-neighbour signal that rewards questions phrased like real ones, and still finds
  a short example inside a long story);
* the share of the question that the guide's own title, keywords and examples name (a
  word only a guide's body mentions in passing is weak evidence).

The blended scores rank the guides. Whether the best one is *the* answer is a separate,
calibrated decision: a logistic model over the ranking's shape (top score, lead over the
runner-up, nearest example, share of the question the guide names, the rarest word it
lacks, length) estimates the chance that the best guide is right, and "confident" means
that chance clears a threshold fitted on the tuning sets so that, out of fold on real
residents' questions, at most 1 question in 50 gets a confident wrong answer and
confident answers are right at least 98 % of the time (``search_data/calibration.yaml``,
written by ``bench/bench_search.py --calibrate``). Two guides that score alike (within
90 % of each other) are offered together instead.

Before any of that the message itself is read (``read_message``): a greeting, a scam signal
(the scam warning then comes first), a problem with the person's own account or phone (never
answered with a scam warning unless a stranger, a link, a call or money is mentioned), a
genuine official message forwarded to ask what it means (answered by the guide that says it
is genuine), and a subject that belongs to an office rather than a guide.
"""

from __future__ import annotations

import enum
import functools
import heapq
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

import yaml

from bot.content.guides import OFFICES_FILE, Guide, load_offices
from bot.text import fold

DATA_DIR = Path(__file__).parent / "search_data"

# --- data files -----------------------------------------------------------------------


@dataclass(frozen=True)
class OfficialMessage:
    """A genuine message residents forward: its pattern, its web addresses, its guides."""

    name: str
    pattern: re.Pattern[str]
    domains: tuple[str, ...]
    guides: tuple[str, ...]  # the first one in the library answers


@dataclass(frozen=True)
class Calibration:
    """The confidence model: logistic weights per feature, the threshold, the tie rule."""

    weights: dict[str, float]
    bias: float
    threshold: float  # P(best guide is right) from which search is confident
    close_margin: float  # two guides this close in score are offered together
    close_floor: float  # … if the second one scores at least this
    close_ratio: float = 1.0  # … as are two whose second scores this share of the first
    # The threshold for a short question (SHORT_QUERY + 2 informative words or fewer): one
    # or two strong words say less about which guide is meant than a resident's story.
    short_threshold: float | None = None

    def bar(self, words: int) -> float:
        """The probability from which a question of this many informative words is sure."""
        if self.short_threshold is not None and words <= SHORT_QUERY + 2:
            return max(self.threshold, self.short_threshold)
        return self.threshold


@dataclass(frozen=True)
class SearchData:
    """Everything search reads from ``search_data/``, parsed and compiled."""

    synonyms: dict[str, str]
    phrases: dict[str, str]
    stopwords: frozenset[str]
    entities: frozenset[str]
    papers: frozenset[str]  # two-syllable names of papers, as word pairs ("ho_chieu")
    greeting_start: re.Pattern[str]
    greeting_filler: frozenset[str]
    chitchat: re.Pattern[str]
    chitchat_filler: frozenset[str]
    scam: dict[str, re.Pattern[str]]
    scam_guides: dict[str, tuple[str, ...]]
    specific_scams: frozenset[str]
    not_warnings: frozenset[str]
    own_problem: re.Pattern[str]
    stranger: re.Pattern[str]
    official: tuple[OfficialMessage, ...]
    calibration: Calibration
    # Subjects no guide covers and no sourced office handles yet: topic → keywords.
    uncovered: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _pattern(value: str | Sequence[str]) -> re.Pattern[str]:
    parts = [value] if isinstance(value, str) else list(value)
    return re.compile("|".join(f"(?:{' '.join(part.split())})" for part in parts))


def _words(value: str) -> frozenset[str]:
    return frozenset(value.split())


def _yaml(name: str) -> dict[str, Any]:
    data = yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{DATA_DIR / name}: expected a mapping")
    return data


@functools.cache
def search_data() -> SearchData:
    """Read and compile the data files once per process."""
    lexicon = _yaml("lexicon.yaml")
    signals = _yaml("signals.yaml")
    calibration = _yaml("calibration.yaml")
    greeting = signals["greeting"]
    scam = signals["scam"]
    return SearchData(
        synonyms={str(k): str(v or "") for k, v in lexicon["synonyms"].items()},
        phrases={str(k): str(v or "") for k, v in lexicon["phrases"].items()},
        stopwords=_words(lexicon["stopwords"]),
        entities=_words(lexicon.get("entities", "")),
        papers=frozenset(
            "_".join(name.split()) for name in str(lexicon.get("papers", "")).split(",")
        )
        - {""},
        greeting_start=_pattern(greeting["start"]),
        greeting_filler=_words(greeting["filler"]),
        chitchat=re.compile(rf"\b(?:{_pattern(greeting['chitchat']).pattern})\b"),
        chitchat_filler=_words(greeting["chitchat_filler"]),
        scam={name: _pattern(scam[name]) for name in SCAM_PATTERNS},
        scam_guides={kind: tuple(slugs) for kind, slugs in signals["scam_guides"].items()},
        specific_scams=frozenset(signals.get("specific_scams", ())),
        not_warnings=frozenset(signals.get("not_warnings", ())),
        own_problem=_pattern(signals["own_problem"]),
        stranger=_pattern(signals["stranger"]),
        official=tuple(
            OfficialMessage(
                name=item["name"],
                pattern=_pattern(item["pattern"]),
                domains=tuple(item.get("domains", ())),
                guides=tuple(item["guides"]),
            )
            for item in signals.get("official_messages", ())
        ),
        calibration=Calibration(
            weights={str(k): float(v) for k, v in calibration["weights"].items()},
            bias=float(calibration["bias"]),
            threshold=float(calibration["threshold"]),
            close_margin=float(calibration["close_margin"]),
            close_floor=float(calibration["close_floor"]),
            close_ratio=float(calibration.get("close_ratio", 1.0)),
            short_threshold=(
                float(calibration["short_threshold"])
                if calibration.get("short_threshold") is not None
                else None
            ),
        ),
        uncovered={
            str(item["topic"]): tuple(str(k) for k in item["keywords"])
            for item in signals.get("uncovered", ())
        },
    )


SCAM_PATTERNS = (
    "alarm",
    "account_hack",
    "victim",
    "lost_money",
    "impersonation",
    "link_otp",
    "money_request",
    "otp_trouble",
    "state_officer",
    "relative",
    "job",
    "account_trouble",
    "wrong_transfer",
    "qr",
    "power",
    "bank_sms",
)

# Link/OTP signals that promise a prize: without a state officer in the message, a caller
# offering one (a shop "tặng quà", "kết bạn Zalo") is the link warning, not a fake officer.
PRIZE_WORDS = frozenset({"tang qua", "qua tang", "trung thuong", "de nhan qua"})

# --- normalisation --------------------------------------------------------------------

_NON_WORD = re.compile(r"[^a-z0-9]+")
_MIXED = re.compile(r"[0-9][a-z]|[a-z][0-9]")
_DIGITS = re.compile(r"([0-9]+)")
_HOST = re.compile(r"\b((?:[a-z0-9-]+\.)+[a-z]{2,})\b")
# "TP.HCM", "TX.Sơn Tây", "Q.3": a city, town or district written short, not a web address.
_PLACE_PREFIXES = frozenset({"tp", "tx", "tt", "q", "p", "h", "x"})
# Dates ("28/8", "1/7/2024", "10/2025"), years ("2024") and sums of money ("399.000",
# "1,5") say when or how much, never which procedure: a news story is full of them, and
# each one, being unknown or rare, would read as a subject no guide covers.
_INCIDENTAL = re.compile(
    r"(?<![\w/.,])(?:\d{1,2}/\d{1,2}(?:/\d{2,4})?|\d{1,2}/\d{4}|(?:19[5-9]|20[0-4])\d"
    r"|\d{1,3}(?:[.,]\d{3})+)(?![\w/.,]*\w)"
)
# A well-formed Vietnamese syllable once folded: onset, one to three vowels, coda.
# A real syllable that the library does not know ("tiếng") is a different word, not a
# typo of a known one ("tiền"), so it is only corrected when a neighbour confirms it.
_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?$"
)


def folded_words(text: str) -> str:
    """Fold text and turn every run of non-letters into one space."""
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def normalise(text: str) -> list[str]:
    """Fold text and return canonical words (synonyms expanded, punctuation dropped)."""
    folded = folded_words(_INCIDENTAL.sub(" ", text))
    if not folded:
        return []
    data = search_data()
    padded = f" {folded} "
    for phrase, replacement in data.phrases.items():
        if f" {phrase} " in padded:
            padded = padded.replace(f" {phrase} ", f" {replacement} ")
    words: list[str] = []
    synonyms = data.synonyms
    for word in padded.split():
        if word in synonyms:
            words.extend(synonyms[word].split())
        elif _MIXED.search(word):
            # "10tr" → "10 triệu", "ron95" → "ron 95": split digits from letters.
            for part in _DIGITS.split(word):
                if part:
                    words.extend(synonyms.get(part, part).split())
        else:
            words.append(word)
    return words


def _content_words(words: Sequence[str]) -> list[str]:
    stopwords = search_data().stopwords
    return [w for w in words if w not in stopwords]


def _bigrams(words: Sequence[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def _terms(text: str) -> tuple[list[str], list[str]]:
    words = _content_words(normalise(text))
    return words, _bigrams(words)


# --- reading the message --------------------------------------------------------------


def is_greeting(text: str) -> bool:
    """Tell whether a message is only a greeting, a thank-you or small talk (not a guide)."""
    folded = folded_words(text)
    if not folded:
        return False
    data = search_data()
    if data.chitchat.search(folded):
        rest = data.chitchat.sub(" ", folded).split()
        return all(w in data.greeting_filler or w in data.chitchat_filler for w in rest)
    if not data.greeting_start.match(folded):
        return False
    return all(word in data.greeting_filler for word in folded.split())


def _hosts(text: str) -> list[str]:
    """Web addresses named in a message ("vneid.gov.vn", "dichvucongg.top").

    A place abbreviated the Vietnamese way ("TP.HCM", "TX.Sơn Tây") is no address.
    """
    hosts = [host.removeprefix("www.") for host in _HOST.findall(text.lower())]
    return [
        host
        for host in hosts
        if not (host.count(".") == 1 and host.split(".", 1)[0] in _PLACE_PREFIXES)
    ]


def _official(text: str, folded: str) -> OfficialMessage | None:
    """The genuine official message this text is, if it is one (its own addresses only)."""
    for message in search_data().official:
        if not message.pattern.search(folded):
            continue
        hosts = _hosts(text)
        if all(any(h == d or h.endswith("." + d) for d in message.domains) for h in hosts):
            return message
    return None


def _scam_pattern(folded: str) -> str | None:
    """Which scam a folded message shows (a key of ``scam_guides``), or None."""
    pattern = search_data().scam
    lost = pattern["lost_money"].search(folded)
    if pattern["alarm"].search(folded) and not lost:
        # "Tài khoản của bạn đã bị hack. Vui lòng kiểm tra ngay": the message is the scam.
        return "alarm"
    victim = pattern["victim"].search(folded)
    if victim and victim.group(0) == "bi hack" and pattern["account_hack"].search(folded):
        # "Facebook bị hack" and nothing lost: securing the account, not a scam victim.
        victim = None
    fooled = re.search(r"\blua\b", folded)
    if victim and victim.group(0) == "nho chuyen" and not (lost or fooled):
        # "nhờ chuyển" (asked to transfer) folds like "nhỡ chuyển" (transferred by mistake).
        victim = None
    if not fooled and pattern["wrong_transfer"].search(folded):
        # "Chuyển nhầm tài khoản, làm sao lấy lại tiền": their own mistake, not a scam.
        return None
    if (
        not lost
        and pattern["account_trouble"].search(folded)
        and "ngan hang" not in folded
        and not pattern["relative"].search(folded)
        and not pattern["money_request"].search(folded)
    ):
        # "Lấy lại tài khoản Facebook bị mạo danh": securing their own account.
        return None
    if victim:
        return "victim"
    if pattern["qr"].search(folded):
        return "qr"
    if lost:
        return "victim"
    if pattern["relative"].search(folded):
        return "relative"
    if pattern["job"].search(folded):
        return "job"
    if pattern["power"].search(folded):
        return "power"
    link = pattern["link_otp"].search(folded)
    if link and link.group(0) == "otp" and pattern["otp_trouble"].search(folded):
        link = None
    prize = link is not None and link.group(0) in PRIZE_WORDS
    if pattern["impersonation"].search(folded) and not (
        link and (link.group(0) == "otp" or prize) and not pattern["state_officer"].search(folded)
    ):
        # A fake officer; a gift or a code asked for by nobody official is the link warning.
        return "impersonation"
    if link:
        # A link or code in a message in a bank's name: the bank SMS warning.
        return "bank_sms" if pattern["bank_sms"].search(folded) else "link_otp"
    if pattern["money_request"].search(folded):
        return "impersonation" if re.search(r"\b(?:goi|cong an|can bo)\b", folded) else "link_otp"
    return None


@dataclass(frozen=True)
class MessageSignals:
    """What a message is, besides its topic."""

    greeting: bool = False
    scam: str | None = None  # a key of scam_guides: "victim", "impersonation", …
    own_problem: bool = False  # the person's own account or phone (and no stranger)
    official: OfficialMessage | None = None  # a genuine official message, forwarded


def read_message(text: str) -> MessageSignals:
    """Read greetings, scam signals, own-account problems and official messages."""
    folded = folded_words(text)
    if not folded:
        return MessageSignals()
    data = search_data()
    greeting = is_greeting(text)
    official = _official(text, folded)
    if official is not None:
        return MessageSignals(greeting=greeting, official=official)
    scam = _scam_pattern(folded)
    foreign = [host for host in _hosts(text) if not host.endswith(".gov.vn")]
    if scam is None and foreign:
        # A web address that is not a state portal's (look-alikes included: "vneid-gov.vn",
        # "dichvucongg.top"): the link warning.
        scam = "link_otp"
    own = bool(data.own_problem.search(folded)) and not data.stranger.search(folded)
    own = own and not foreign
    if own and scam not in ("victim", "relative", "job"):
        # "Đổi điện thoại, mã OTP gửi về máy cũ": their own phone, not a scam.
        scam = None
    return MessageSignals(greeting=greeting, scam=scam, own_problem=own)


def scam_kind(text: str) -> str | None:
    """Return the scam guide a message calls for (victim, impersonation, link/OTP) or None."""
    kind = read_message(text).scam
    return search_data().scam_guides[kind][0] if kind else None


def scam_signal(text: str) -> bool:
    """Tell whether a message shows a scam signal (OTP, strange link, fake officer, money)."""
    return read_message(text).scam is not None


def scam_slugs() -> frozenset[str]:
    """Every scam-warning guide (never the answer to a problem with one's own account)."""
    data = search_data()
    warnings = {slug for slugs in data.scam_guides.values() for slug in slugs}
    # The pretext warnings (traffic fine, bank SMS, power company) are warnings too: an OTP
    # that never arrived is not answered with the traffic-fine scam.
    return frozenset((warnings | data.specific_scams) - data.not_warnings)


# --- results --------------------------------------------------------------------------

FIELD_WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "keywords": 2.5,
    "examples": 2.0,
    "summary": 1.5,
    "body": 0.4,
}
K1 = 1.2
B = 0.5
BIGRAM_WEIGHT = 0.6  # a matched word pair counts this much relative to a word
COMPOUND_PAIR = 1.0  # … a pair the guides use as a word ("hộ chiếu") counts as a word
COMPOUND_PART = 0.6  # … and each of its syllables this much
ENTITY_WEIGHT = 2.0  # the name of an app or service (lexicon.yaml: entities) counts double
FUZZY_WEIGHT = 0.75  # a corrected word counts this much relative to an exact one
ISOLATED_WEIGHT = 0.4  # a compound-bound syllable standing alone counts this much
LOOSE_WEIGHT = 0.8  # any other syllable standing alone counts this much
BOUND_SHARE = 0.75  # share of a syllable's uses inside its usual compound to call it bound
BOUND_MIN = 3  # uses below which a syllable is never called bound
BLEND_BM25 = 0.55  # share of the BM25F coverage in the blend (rest: nearest example)
BLEND_CORE = 0.2  # share of the title/keywords/examples coverage in the final score
# The hand-set rules of confidence the calibration starts from (feature "rules"): a high
# score well ahead of the runner-up, on a question whose informative words the guide knows.
CONFIDENT_SCORE = 0.42
CONFIDENT_MARGIN = 0.06
CONFIDENT_ALONE = 0.6  # above this, no margin is needed
TIE = 0.02  # two guides this close are a tie
CONFIDENT_MATCHED = 0.7  # share of the query's informative words the best guide must know
CONFIDENT_MATCHED_SHORT = 0.85  # the same for a short query
SHORT_QUERY = 4  # informative words up to which a query is short
# A longer question carries incidental words ("cho bà con", "ở thành phố"), so a clear
# winner (high score, well ahead of the runner-up) may leave more of them unknown.
CLEAR_MATCHED = 0.6  # share of informative words a clear winner must know
CLEAR_SCORE = 0.62  # score from which the best guide can be a clear winner
CLEAR_MARGIN = 0.15  # lead over the runner-up a clear winner needs
PRESENT = 0.3  # saturated weight from which a term counts as "in" a guide (not a body aside)
POSTING_LIMIT = 40  # guides kept per word, those using it most
CANDIDATES = 15  # guides (best BM25 first) whose example questions are compared
RANKED = 20  # guides kept in a ranking (the chat shows three)
MIN_SCORE = 0.12  # below this a guide is not offered at all
RULES_WORDS = 0  # words up to which the hand rules decide alone (0: only the model does;
# at 6 or more they answer 4–5 real tuning questions confidently and wrongly)
GENERIC_IDF = 1.0  # a question whose every word is this common names no single guide
SUGGEST_SCORE = 0.4  # from this score the best guide is worth offering as "Ý bạn là…?"
SUGGEST_PROBABILITY = 0.5  # … or from this calibrated chance of being right
SUGGEST_SHARE = 0.7  # the other suggestions score at least this share of the best


class Answer(enum.StrEnum):
    """What the chat should do with a search."""

    GUIDE = "guide"  # one guide, confidently: show it
    CLOSE = "close"  # two guides equally likely: ask which one, with both
    SUGGEST = "suggest"  # not sure: offer the suggestions, record if none fits
    NONE = "none"  # no guide: say so, name the office if known, record the question
    GREETING = "greeting"  # a greeting or small talk


class OfficeEntry(Protocol):
    """A subject no guide covers and who handles it (``guides/offices.yaml``)."""

    @property
    def topic(self) -> str: ...

    @property
    def keywords(self) -> tuple[str, ...]: ...

    @property
    def office(self) -> str: ...

    @property
    def note(self) -> str: ...


@dataclass(frozen=True)
class OfficeHint:
    """Who handles a question no guide answers (Vietnamese texts from offices.yaml)."""

    topic: str
    office: str
    note: str = ""


@dataclass(frozen=True)
class SearchResult:
    """Ranked guides for one query, best first, and what to do with them.

    ``results`` holds up to ``top`` (slug, score) pairs; ``kind`` says whether the best
    guide is the answer (``GUIDE``), two guides are equally likely (``CLOSE``, ``close``
    names them), the guides are only suggestions (``SUGGEST``) or no guide answers
    (``NONE``, with ``office`` when offices.yaml knows who handles the subject).
    ``probability`` is the calibrated chance that the best guide is right; ``reason``
    names the rule that decided, when one did ("scam", "official", "own-problem", "office").
    """

    results: list[tuple[str, float]]
    confident: bool
    scam: bool = False
    greeting: bool = False
    kind: Answer = Answer.NONE
    close: tuple[str, str] | None = None
    office: OfficeHint | None = None
    probability: float = 0.0
    reason: str = ""

    @property
    def best(self) -> str | None:
        """The slug of the best guide, if any."""
        return self.results[0][0] if self.results else None

    @property
    def guide(self) -> str | None:
        """The guide to show without asking, if search is confident."""
        return self.best if self.kind is Answer.GUIDE else None

    def suggestions(self) -> list[str]:
        """Slugs worth offering as "did you mean" choices when not confident."""
        if self.kind is Answer.CLOSE and self.close:
            return list(self.close)
        if self.kind is not Answer.SUGGEST or not self.results:
            return []
        floor = SUGGEST_SHARE * self.results[0][1]
        return [slug for slug, score in self.results if score >= floor]

    def as_dict(self) -> dict[str, object]:
        """The JSON shape printed by ``tocns guides search --json``."""
        shape: dict[str, object] = {
            "results": [{"slug": slug, "score": round(score, 4)} for slug, score in self.results],
            "confident": self.confident,
            "kind": self.kind.value,
            "probability": round(self.probability, 4),
        }
        if self.close:
            shape["close"] = list(self.close)
        if self.office:
            shape["office"] = {"topic": self.office.topic, "office": self.office.office}
            if self.office.note:
                shape["office"] = {**shape["office"], "note": self.office.note}  # type: ignore[dict-item]
        if self.reason:
            shape["reason"] = self.reason
        return shape


@dataclass
class _Query:
    weights: dict[str, float] = field(default_factory=dict)  # term → query weight
    factor: dict[str, float] = field(default_factory=dict)  # term → trust (< 1: corrected…)
    unknown: float = 0.0  # idf mass of words the library does not know
    words: int = 0  # informative words in the query (known or not)


@dataclass(frozen=True)
class _Office:
    topic: str
    office: str
    note: str
    phrases: tuple[tuple[str, ...], ...]  # folded keywords, as word tuples


@dataclass(frozen=True)
class Ranking:
    """A scored query before any decision: ranked (doc, score) and what the best knows."""

    ranked: list[tuple[int, float]]
    share: dict[int, float]
    words: int
    unknown_share: float  # share of the query's idf mass no guide knows
    nearest: dict[int, float]  # doc → best example overlap (Dice)
    specific: float = 0.0  # idf of the query's rarest known word: low for "vneid" alone
    # The query's known words with their idf mass, and per guide the words of its title,
    # keywords and examples: a word only a guide's body mentions ("thuế: hỏi cơ quan
    # thuế") is weak evidence that the guide answers it.
    terms: tuple[tuple[str, float], ...] = ()
    core_terms: Sequence[frozenset[str]] = ()
    max_idf: float = 1.0
    # The office topics the query names (offices.yaml keywords, as folded word tuples):
    # one the best guide's own words do not cover says the subject is an office's.
    office_phrases: tuple[tuple[str, ...], ...] = ()

    def features(self, order: Sequence[tuple[int, float]] | None = None) -> dict[str, float]:
        """The calibration features (see calibration.yaml) of this ranking.

        ``order`` is the final order when rules moved guides (default: the ranking).
        """
        order = self.ranked if order is None else order
        s1 = order[0][1] if order else 0.0
        s2 = order[1][1] if len(order) > 1 else 0.0
        best = order[0][0] if order else -1
        known = self.share.get(best, 0.0)
        nearest = self.nearest.get(best, 0.0)
        rivals = [self.nearest.get(doc, 0.0) for doc, _ in order[1:3]]
        core = self.core_terms[best] if 0 <= best < len(self.core_terms) else frozenset()
        mass = sum(m for _, m in self.terms)
        covered = sum(m for t, m in self.terms if t in core)
        second = order[1][0] if len(order) > 1 else -1
        rival = self.core_terms[second] if 0 <= second < len(self.core_terms) else frozenset()
        rival_covered = sum(m for t, m in self.terms if t in rival)
        missing = max((m for t, m in self.terms if t not in core), default=0.0)
        if self.unknown_share > 0:
            missing = self.max_idf  # a word no guide knows at all is the rarest
        office = any(not all(w in core for w in phrase) for phrase in self.office_phrases)
        # Whether the nearest example question of all belongs to the best guide: the
        # lexical ranking and the example ranking agree.
        top_nearest = max(self.nearest.values(), default=0.0)
        agree = 1.0 if nearest > 0 and nearest >= top_nearest else 0.0
        return {
            "score": s1,
            "margin": s1 - s2,
            # The runner-up's share of the best score: low when one guide stands alone.
            "ratio": s2 / s1 if s1 > 0 else 1.0,
            "known": known,
            "nearest": nearest,
            # How much nearer the best guide's closest example is than the rivals' ones.
            "nearest_lead": nearest - max(rivals, default=0.0),
            # Share of the query's known words in the best guide's title, keywords or
            # examples, and the rarest known word they lack (relative to the rarest possible).
            "core": covered / mass if mass else 0.0,
            # … and how much more of it than the runner-up's.
            "core_lead": (covered - rival_covered) / mass if mass else 0.0,
            "missing": missing / self.max_idf if self.max_idf else 0.0,
            # … in a short question, where no word is incidental ("hộ kinh doanh phải nộp
            # thuế" is not about registering one).
            "missing_short": (missing / self.max_idf if self.max_idf else 0.0)
            if self.words <= SHORT_QUERY + 2
            else 0.0,
            "unknown": self.unknown_share,
            "short": 1.0 if self.words <= SHORT_QUERY else 0.0,
            "log_words": math.log1p(self.words),
            "rules": 1.0 if _rules_confident(s1, s2, known, self.words) else 0.0,
            "office": 1.0 if office else 0.0,
            "agree": agree,
        }


def probability(features: dict[str, float], calibration: Calibration | None = None) -> float:
    """The calibrated chance that the best guide is right."""
    calibration = calibration or search_data().calibration
    z = calibration.bias + sum(
        weight * features.get(name, 0.0) for name, weight in calibration.weights.items()
    )
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@dataclass(repr=False)
class GuideIndex:
    """An in-memory search index over a list of guides."""

    slugs: list[str]
    titles: dict[str, str]
    idf: dict[str, float]
    unknown_idf: float
    postings: dict[str, list[tuple[int, float]]]  # term → (doc, saturated weight in [0, 1))
    # Per guide, its example questions (title, keywords, examples) as an inverted list:
    # term → positions of the examples using it, and each example's idf mass.
    example_index: list[dict[str, tuple[int, ...]]]
    example_mass: list[list[float]]
    vocabulary: frozenset[str]
    deletes: dict[str, list[str]]
    bound: frozenset[str]  # syllables used (almost) only inside one compound word
    known_terms: list[frozenset[str]]  # per guide: words of title, keywords, examples
    compounds: frozenset[str] = frozenset()  # word pairs used in titles, keywords, examples
    offices: tuple[_Office, ...] = ()
    # Subjects no guide covers and no office is sourced for (signals.yaml: uncovered).
    uncovered: tuple[_Office, ...] = ()
    doc: dict[str, int] = field(default_factory=dict)  # slug → position

    def __post_init__(self) -> None:
        self.doc = {slug: position for position, slug in enumerate(self.slugs)}

    @classmethod
    def build(
        cls, guides: Iterable[Guide], offices: Iterable[OfficeEntry] | None = None
    ) -> GuideIndex:
        """Index guides (titles, keywords, examples, summaries, bodies) and office topics.

        ``offices`` defaults to the library's ``guides/offices.yaml`` when it exists.
        """
        guides = list(guides)
        fields: list[dict[str, list[str]]] = []
        example_terms: list[tuple[int, set[str]]] = []
        occurrences: dict[str, int] = defaultdict(int)
        partners: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        known_terms: list[frozenset[str]] = []
        for doc, guide in enumerate(guides):
            per_field: dict[str, list[str]] = {}
            texts = {
                "title": [guide.title, guide.slug.replace("-", " ")],
                "keywords": list(guide.keywords),
                "examples": list(guide.examples),
                "summary": [guide.summary, getattr(guide, "answer", "")],
                "body": [guide.body],
            }
            for name, parts in texts.items():
                terms: list[str] = []
                for part in parts:
                    words, pairs = _terms(part)
                    terms.extend(words)
                    terms.extend(pairs)
                per_field[name] = terms
            fields.append(per_field)
            known_terms.append(
                frozenset(t for name in ("title", "keywords", "examples") for t in per_field[name])
            )
            for text in [guide.title, *guide.examples, *guide.keywords]:
                words, pairs = _terms(text)
                if words:
                    example_terms.append((doc, set(words) | set(pairs)))
            for text in [guide.title, guide.summary, *guide.examples, *guide.keywords]:
                words, _ = _terms(text)
                for i, word in enumerate(words):
                    occurrences[word] += 1
                    if i:
                        partners[word][f"{words[i - 1]}_"] += 1
                    if i + 1 < len(words):
                        partners[word][f"_{words[i + 1]}"] += 1

        n_docs = len(guides)
        # Document frequency ignores bodies, where guides mention their prerequisites
        # ("cần tài khoản mức 2"): that should not make "mức 2" a common, weak word.
        df: dict[str, int] = defaultdict(int)
        body_df: dict[str, int] = defaultdict(int)
        for per_field in fields:
            for term in {t for name, terms in per_field.items() if name != "body" for t in terms}:
                df[term] += 1
            for term in set(per_field["body"]):
                body_df[term] += 1
        fielded = frozenset(df)  # terms of titles, keywords, examples, summaries
        for term, count in body_df.items():
            df.setdefault(term, count)
        idf = {term: _idf(n_docs, count) for term, count in df.items()}
        avg_len = {
            name: (sum(len(f[name]) for f in fields) / n_docs if n_docs else 1.0) or 1.0
            for name in FIELD_WEIGHTS
        }

        postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for doc, per_field in enumerate(fields):
            weighted: dict[str, float] = defaultdict(float)
            for name, terms in per_field.items():
                if not terms:
                    continue
                norm = 1 - B + B * len(terms) / avg_len[name]
                counts: dict[str, int] = defaultdict(int)
                for term in terms:
                    counts[term] += 1
                for term, count in counts.items():
                    weighted[term] += FIELD_WEIGHTS[name] * count / norm
            for term, wtf in weighted.items():
                postings[term].append((doc, wtf / (K1 + wtf)))
        # A word used by hundreds of guides says little about any of them: keep the guides
        # that use it most (impact-ordered lists keep a 1,000-guide library fast).
        for term, docs in postings.items():
            if len(docs) > POSTING_LIMIT:
                postings[term] = heapq.nlargest(POSTING_LIMIT, docs, key=itemgetter(1))

        example_lists: list[dict[str, list[int]]] = [defaultdict(list) for _ in guides]
        example_mass: list[list[float]] = [[] for _ in guides]
        for doc, ex_terms in example_terms:
            position = len(example_mass[doc])
            example_mass[doc].append(sum(_term_weight(t, idf) for t in ex_terms))
            for term in ex_terms:
                example_lists[doc][term].append(position)
        example_index = [
            {term: tuple(positions) for term, positions in lists.items()} for lists in example_lists
        ]

        vocabulary = frozenset(t for t in df if "_" not in t)
        deletes: dict[str, list[str]] = defaultdict(list)
        for word in vocabulary:
            if len(word) >= 3 and word.isalpha():
                for variant in _deletes(word):
                    deletes[variant].append(word)
        bound = frozenset(
            word
            for word, count in occurrences.items()
            if count >= BOUND_MIN
            and _SYLLABLE.match(word)
            and max(partners[word].values(), default=0) >= BOUND_SHARE * count
        )
        return cls(
            slugs=[g.slug for g in guides],
            titles={fold(g.title): g.slug for g in guides},
            idf=idf,
            unknown_idf=_idf(n_docs, 0),
            postings=dict(postings),
            example_index=example_index,
            example_mass=example_mass,
            vocabulary=vocabulary,
            deletes=dict(deletes),
            bound=bound,
            known_terms=known_terms,
            compounds=frozenset(t for t in fielded if "_" in t),
            offices=_compile_offices(_default_offices() if offices is None else offices),
            uncovered=_compile_offices(
                (
                    _OfficeEntry(topic, keywords, "")
                    for topic, keywords in search_data().uncovered.items()
                ),
                need_office=False,
            ),
        )

    def __repr__(self) -> str:
        return f"GuideIndex({len(self.slugs)} guides, {len(self.vocabulary)} words)"

    def lookup(self, text: str) -> str | None:
        """Return the slug when the text is exactly a guide's slug or title (deep links, Zalo)."""
        candidate = text.strip().removeprefix("/start").strip().removeprefix("g_").strip()
        if candidate in self.slugs:
            return candidate
        return self.titles.get(fold(candidate))

    def rank(self, query: str) -> Ranking:
        """Score every guide for a query (no decision yet)."""
        parsed = self._parse(query)
        if not parsed.weights:
            return Ranking([], {}, parsed.words, 1.0 if parsed.unknown else 0.0, {})
        scores, share, nearest, total = self._score(parsed)
        slugs = self.slugs
        ranked = heapq.nsmallest(
            RANKED, scores.items(), key=lambda item: (-item[1], slugs[item[0]])
        )
        unknown_share = parsed.unknown / total if total else 0.0
        specific = max((self.idf.get(t, 0.0) for t in parsed.weights if "_" not in t), default=0.0)
        terms = tuple(
            (t, self.idf.get(t, 0.0)) for t in parsed.weights if "_" not in t and t in self.idf
        )
        office_phrases = self._office_phrases(query)
        return Ranking(
            ranked,
            share,
            parsed.words,
            unknown_share,
            nearest,
            specific,
            terms=terms,
            core_terms=self.known_terms,
            max_idf=self.unknown_idf,
            office_phrases=office_phrases,
        )

    def search(self, query: str, top: int = 3) -> SearchResult:
        """Rank guides for a free-text question and decide what to answer."""
        top = max(1, top)
        signals = read_message(query)
        ranking = self.rank(query)
        results = [(self.slugs[doc], score) for doc, score in ranking.ranked if score >= MIN_SCORE]

        def ranked_sure() -> bool:
            order = [(self.doc[slug], score) for slug, score in results]
            calibration = search_data().calibration
            return probability(ranking.features(order)) >= calibration.bar(ranking.words)

        rule = self._rule(signals, results, ranked_sure)
        if rule is not None:
            slug, reason = rule
            return SearchResult(
                _promote(results, slug)[:top],
                True,
                scam=reason == "scam",
                greeting=signals.greeting,
                kind=Answer.GUIDE,
                probability=1.0,
                reason=reason,
            )
        reason = ""
        if signals.own_problem:
            # Their own phone or password: a scam warning would accuse the wrong person.
            before = [slug for slug, _ in results[:1]]
            results = _demote(results, scam_slugs())
            reason = "own-problem" if before != [slug for slug, _ in results[:1]] else ""
        if signals.greeting:
            return SearchResult(results[:top], False, greeting=True, kind=Answer.GREETING)
        calibration = search_data().calibration
        order = [(self.doc[slug], score) for slug, score in results]
        p = probability(ranking.features(order), calibration) if results else 0.0
        if not results:
            office = self._office(query, results)
            return SearchResult(
                [],
                False,
                kind=Answer.NONE,
                office=office,
                probability=p,
                reason="office" if office else reason,
            )
        close = _close_pair(results, calibration)
        generic = ranking.specific < GENERIC_IDF  # "vneid", "ngân hàng": which guide?
        features = ranking.features(order)
        # The hand-set rules were written for short chat questions and stay precise there;
        # on long, story-like messages only the calibrated model decides.
        rules = features["rules"] == 1.0 and ranking.words <= RULES_WORDS
        sure = p >= calibration.bar(ranking.words) or rules
        # The two best guides level (a third close too, so no pair to ask about): which
        # one answers is a coin toss, never confident.
        level = len(results) > 1 and results[0][1] - results[1][1] <= calibration.close_margin
        if sure and close is None and not generic and not level:
            # A confident guide answers even if the question also names an office's
            # subject in passing ("… phần An sinh xã hội báo lỗi" is a VNeID error).
            return SearchResult(
                results[:top], True, kind=Answer.GUIDE, probability=p, reason=reason
            )
        office = self._office(query, results)
        if office is not None:
            return SearchResult(
                results[:top],
                False,
                kind=Answer.NONE,
                office=office,
                probability=p,
                reason="office",
            )
        if self._uncovered(query, results) is not None:
            # "Thuế khoán hộ kinh doanh": no guide and no sourced office yet, so no guide
            # that merely mentions the subject is offered as the answer.
            return SearchResult(
                results[:top], False, kind=Answer.NONE, probability=p, reason="uncovered"
            )
        if close is not None and p >= calibration.threshold / 2:
            return SearchResult(
                results[:top], False, kind=Answer.CLOSE, close=close, probability=p, reason=reason
            )
        worth = p >= SUGGEST_PROBABILITY or results[0][1] >= SUGGEST_SCORE
        kind = Answer.SUGGEST if worth else Answer.NONE
        return SearchResult(results[:top], False, kind=kind, probability=p, reason=reason)

    # -- internals -----------------------------------------------------------------------

    def _rule(
        self,
        signals: MessageSignals,
        results: Sequence[tuple[str, float]] = (),
        sure: Callable[[], bool] = lambda: False,
    ) -> tuple[str, str] | None:
        """The guide a message's signal decides (official message, scam), and why.

        A scam signal names a general warning (a strange link, a fake officer); a warning
        about that very pretext (a traffic fine, a bank SMS, the power company) answers
        instead when the ranking alone would answer with it confidently (``sure``).
        """
        if signals.official is not None:
            slug = next((s for s in signals.official.guides if s in self.slugs), None)
            return (slug, "official") if slug else None
        if signals.scam is not None:
            data = search_data()
            chain = data.scam_guides[signals.scam]
            slug = next((s for s in chain if s in self.slugs), None)
            if slug is None:
                return None
            specific = results[0][0] if results else ""
            warnings = data.specific_scams | scam_slugs()
            # A fake officer's call about a "locked account" is the fake-officer warning,
            # not the bank SMS one, whatever the ranking says.
            officer = signals.scam == "impersonation" and specific == "lua-dao-tin-nhan-ngan-hang"
            if signals.scam != "victim" and specific in warnings and not officer and sure():
                slug = specific
            return slug, "scam"
        return None

    def _office_phrases(self, query: str) -> tuple[tuple[str, ...], ...]:
        """The office-topic keywords a query names, as their informative words.

        Subjects no guide covers and no office is sourced for (``uncovered``) count too.
        """
        if not self.offices and not self.uncovered:
            return ()
        words = normalise(query)
        present = set(words)
        text = f" {' '.join(words)} "
        return tuple(
            tuple(_content_words(phrase))
            for entry in (*self.offices, *self.uncovered)
            for phrase in entry.phrases
            if phrase[0] in present and f" {' '.join(phrase)} " in text
        )

    def _uncovered(self, query: str, results: list[tuple[str, float]]) -> str | None:
        """The uncovered subject a query names that the best guide's own words do not."""
        if not self.uncovered:
            return None
        words = normalise(query)
        present = set(words)
        text = f" {' '.join(words)} "
        best_doc = self.doc[results[0][0]] if results else -1
        known = self.known_terms[best_doc] if best_doc >= 0 else frozenset()
        for entry in self.uncovered:
            for phrase in entry.phrases:
                if phrase[0] not in present or f" {' '.join(phrase)} " not in text:
                    continue
                if not all(w in known for w in _content_words(phrase)):
                    return entry.topic
        return None

    def _office(self, query: str, results: list[tuple[str, float]]) -> OfficeHint | None:
        """The office for a subject no guide covers, when the question names one.

        A topic counts only if the best guide does not itself know the words that named
        it ("thuế" in a household-business guide keeps that guide in play).
        """
        if not self.offices:
            return None
        words = normalise(query)
        if not words:
            return None
        present = set(words)
        text = f" {' '.join(words)} "
        best_doc = self.doc[results[0][0]] if results else -1
        known = self.known_terms[best_doc] if best_doc >= 0 else frozenset()
        found: tuple[int, _Office] | None = None
        for entry in self.offices:
            for phrase in entry.phrases:
                if phrase[0] not in present or f" {' '.join(phrase)} " not in text:
                    continue
                if all(w in known for w in _content_words(phrase)):
                    continue
                if found is None or len(phrase) > found[0]:
                    found = (len(phrase), entry)
        if found is None:
            return None
        entry = found[1]
        return OfficeHint(topic=entry.topic, office=entry.office, note=entry.note)

    def _parse(self, query: str) -> _Query:
        words, _ = _terms(query)
        # A lone unknown letter is chat noise ("e", "t"), not an unknown topic.
        words = [w for w in words if len(w) > 1 or w in self.vocabulary]
        parsed = _Query(words=len(words))
        corrected: list[str] = []
        for i, word in enumerate(words):
            if word in self.vocabulary:
                corrected.append(word)
                continue
            before = corrected[-1] if corrected else ""
            after = words[i + 1] if i + 1 < len(words) else ""
            fixed = self._correct(word, before, after)
            if fixed:
                corrected.append(fixed)
                parsed.factor[fixed] = FUZZY_WEIGHT
            else:
                parsed.unknown += self.unknown_idf
                corrected.append("")  # breaks word pairs across the unknown word
        entities = search_data().entities
        for word in corrected:
            if word:
                parsed.weights[word] = parsed.weights.get(word, 0.0) + 1.0
                if word in entities:
                    # An app or paper's own name ("VssID", "SmartCA") decides the topic.
                    parsed.factor[word] = ENTITY_WEIGHT
        for pair in _bigrams(corrected):
            if not pair.startswith("_") and not pair.endswith("_") and pair in self.idf:
                parsed.weights[pair] = BIGRAM_WEIGHT
        # Vietnamese words are written syllable by syllable: "dịch vụ công" would count as
        # three words against one for "hộ chiếu". A pair the guides use as a word (in a
        # title, keyword, example or summary) counts as that word, its syllables less.
        for a, b in zip(corrected, corrected[1:], strict=False):
            pair = f"{a}_{b}"
            # Only two syllables make a compound: "dụng VNeID" is a word and a name.
            if a in entities or b in entities:
                continue
            if a and b and pair in self.compounds:
                parsed.weights[pair] = COMPOUND_PAIR
                for word in (a, b):
                    parsed.factor[word] = min(parsed.factor.get(word, 1.0), COMPOUND_PART)
                if pair in search_data().papers:
                    # A paper's name ("hộ chiếu", "sổ đỏ") decides the topic, as an app's.
                    parsed.factor[pair] = ENTITY_WEIGHT
        # A syllable the library only uses inside one compound ("khỏe" in "sức khỏe",
        # "dịch" in "dịch vụ") means something else when it stands alone ("bạn khỏe
        # không", "dịch tiếng Anh"): folding merged the words, so trust it less.
        for i, word in enumerate(corrected):
            if not word or not _SYLLABLE.match(word):
                continue
            before = corrected[i - 1] if i else ""
            after = corrected[i + 1] if i + 1 < len(corrected) else ""
            if f"{before}_{word}" not in self.idf and f"{word}_{after}" not in self.idf:
                weight = ISOLATED_WEIGHT if word in self.bound else LOOSE_WEIGHT
                parsed.factor[word] = min(parsed.factor.get(word, 1.0), weight)
        return parsed

    def _correct(self, word: str, before: str, after: str) -> str | None:
        return _correct(word, self.vocabulary, self.deletes, self.idf, before, after)

    def _score(
        self, parsed: _Query
    ) -> tuple[dict[int, float], dict[int, float], dict[int, float], float]:
        idf = self.idf
        postings = self.postings
        total = parsed.unknown
        word_total = parsed.unknown
        bm25: dict[int, float] = defaultdict(float)
        matched: dict[int, float] = defaultdict(float)
        for term, weight in parsed.weights.items():
            mass = weight * idf.get(term, 0.0)
            total += mass
            trusted = mass * parsed.factor.get(term, 1.0)
            if "_" in term:
                for doc, saturated in postings.get(term, ()):
                    bm25[doc] += trusted * saturated
                continue
            word_total += mass
            for doc, saturated in postings.get(term, ()):
                bm25[doc] += trusted * saturated
                if saturated >= PRESENT:
                    matched[doc] += mass  # words known, however much each one weighs
        if total <= 0:
            return {}, {}, {}, 0.0
        share = {doc: mass / word_total for doc, mass in matched.items()} if word_total else {}

        # The nearest example question, looked for among the guides BM25 already likes
        # (the rest cannot win): this keeps a 1,000-guide library fast.
        query = {
            term: min(weight, 1.0) * idf.get(term, 0.0) * parsed.factor.get(term, 1.0)
            for term, weight in parsed.weights.items()
        }
        nearest: dict[int, float] = {}
        leaders = heapq.nlargest(max(CANDIDATES, RANKED), bm25.items(), key=itemgetter(1))
        for doc, _ in leaders[:CANDIDATES]:
            lists = self.example_index[doc]
            masses = self.example_mass[doc]
            shared = [0.0] * len(masses)
            for term, weight in query.items():
                for position in lists.get(term, ()):
                    shared[position] += weight
            # Ochiai (cosine of the two term sets): a long story that contains a short
            # example question still comes close to it, where Dice would divide by the
            # whole story.
            best = max(
                (value / math.sqrt(total * masses[i]) for i, value in enumerate(shared) if value),
                default=0.0,
            )
            if best:
                nearest[doc] = min(1.0, best)

        scale = BLEND_BM25 / total
        scores = {doc: min(BLEND_BM25, value * scale) for doc, value in leaders}
        rest = 1 - BLEND_BM25
        for doc, value in nearest.items():
            scores[doc] = scores.get(doc, 0.0) + rest * value
        # Last, how much of the question the guide's own title, keywords and examples
        # name (not its body, which mentions neighbouring topics in passing).
        words = [(t, w * idf.get(t, 0.0)) for t, w in parsed.weights.items() if "_" not in t]
        known_terms = self.known_terms
        for doc, value in scores.items():
            core = known_terms[doc]
            covered = sum(m for t, m in words if t in core) / word_total if word_total else 0.0
            scores[doc] = (1 - BLEND_CORE) * value + BLEND_CORE * covered
        return scores, share, nearest, total


@dataclass(frozen=True)
class _OfficeEntry:
    topic: str
    keywords: tuple[str, ...]
    office: str
    note: str = ""


def _default_offices() -> list[OfficeEntry]:
    """The library's office table (guides/offices.yaml), or none when it does not exist."""
    if not OFFICES_FILE.exists():
        return []
    table = load_offices()
    entries: list[OfficeEntry] = []
    for topic in table.topics:
        office = table.office(topic.office)
        if office is not None:
            entries.append(_OfficeEntry(topic.id, topic.keywords, office.name, topic.note))
    return entries


def _compile_offices(
    entries: Iterable[OfficeEntry], need_office: bool = True
) -> tuple[_Office, ...]:
    compiled: list[_Office] = []
    for entry in entries:
        # Whole words, fillers kept: "nhà ở xã hội" must not shrink to "xã", nor "gây
        # rối" to "gây" ("có", "ở", "rối" are stopwords elsewhere).
        phrases = tuple(
            tuple(words)
            for words in (normalise(k) for k in entry.keywords)
            if _content_words(words)
        )
        if phrases and (entry.office or not need_office):
            compiled.append(_Office(entry.topic, entry.office, entry.note, phrases))
    return tuple(compiled)


def _rules_confident(s1: float, s2: float, known: float, words: int) -> bool:
    """The hand-set confidence rules (one feature of the calibrated model)."""
    # A short question has no incidental words: one the guide does not know ("học lái
    # xe", "mua xe máy") means it asks about something else.
    needed = CONFIDENT_MATCHED_SHORT if words <= SHORT_QUERY else CONFIDENT_MATCHED
    clear = (
        words > SHORT_QUERY
        and known >= CLEAR_MATCHED
        and s1 >= CLEAR_SCORE
        and s1 - s2 >= CLEAR_MARGIN
    )
    if not (known >= needed or clear):
        return False
    if s1 >= CONFIDENT_ALONE and s1 - s2 >= TIE:
        return True
    return s1 >= CONFIDENT_SCORE and s1 - s2 >= CONFIDENT_MARGIN


def _close_pair(
    results: list[tuple[str, float]], calibration: Calibration
) -> tuple[str, str] | None:
    """The two best guides when they are too close to pick one (and a third is not)."""
    if len(results) < 2:
        return None
    (first, s1), (second, s2) = results[0], results[1]
    if s2 < calibration.close_floor:
        return None
    if s1 - s2 > calibration.close_margin and s2 < calibration.close_ratio * s1:
        return None
    if len(results) > 2:
        s3 = results[2][1]
        if s2 - s3 <= calibration.close_margin or s3 >= calibration.close_ratio * s1:
            return None  # three alike: that is a list of suggestions, not a pair
    return first, second


def _promote(results: list[tuple[str, float]], slug: str) -> list[tuple[str, float]]:
    best = results[0][1] if results else 1.0
    others = [(s, score) for s, score in results if s != slug]
    own = dict(results).get(slug, 0.0)
    return [(slug, max(best, own, 0.5)), *others]


def _demote(results: list[tuple[str, float]], slugs: frozenset[str]) -> list[tuple[str, float]]:
    """Move the given guides after all others (keeping scores sorted for display)."""
    kept = [(s, score) for s, score in results if s not in slugs]
    moved = [(s, score) for s, score in results if s in slugs]
    floor = kept[-1][1] if kept else 1.0
    return kept + [(s, min(score, floor)) for s, score in moved]


def _idf(n_docs: int, df: int) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def _term_weight(term: str, idf: dict[str, float]) -> float:
    return idf.get(term, 0.0) * (BIGRAM_WEIGHT if "_" in term else 1.0)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _correct(
    word: str,
    vocabulary: frozenset[str],
    deletes: dict[str, list[str]],
    idf: dict[str, float],
    before: str = "",
    after: str = "",
) -> str | None:
    """Closest vocabulary word within one edit (two for long words), or None.

    A candidate that forms a known word pair with a neighbour ("kich hot" → "kich hoat",
    "ngan hag" → "ngan hang") wins over one that does not; a word that is itself a
    well-formed syllable is only corrected with such a confirmation.
    """
    if not word.isalpha() or len(word) < 3:
        return None

    def support(candidate: str) -> tuple[int, float]:
        """How many neighbours confirm the candidate, and the idf of the commonest pair."""
        pairs = [p for p in (f"{before}_{candidate}", f"{candidate}_{after}") if p in idf]
        pairs = [p for p in pairs if not p.startswith("_") and not p.endswith("_")]
        return len(pairs), min((idf[p] for p in pairs), default=math.inf)

    syllable = len(word) < 7 and _SYLLABLE.match(word) is not None
    # Vietnamese syllables are short and many are one edit apart ("vang"/"dang"), so
    # short words are only corrected when the first two letters are kept ("kick" → "kich").
    if len(word) < 4 and not (before or after):
        return None
    candidates: set[str] = set()
    probes = {word} | _deletes(word)
    if len(word) >= 7:
        probes |= {d for variant in list(probes) for d in _deletes(variant)}
    for probe in probes:
        if probe in vocabulary:
            candidates.add(probe)
        candidates.update(deletes.get(probe, ()))
    limit = 2 if len(word) >= 7 else 1
    best: tuple[int, int, float, float, str] | None = None
    for candidate in candidates:
        distance = _edit_distance(word, candidate)
        if distance > limit or (len(word) < 6 and candidate[:2] != word[:2]):
            continue
        confirmations, pair_idf = support(candidate)
        if (syllable or len(word) < 4) and not confirmations:
            continue
        # Prefer the closest, then the best confirmed by its neighbours (more, and more
        # common, word pairs), then the most common word.
        key = (distance, -confirmations, pair_idf, idf.get(candidate, 0.0), candidate)
        if best is None or key < best:
            best = key
    return best[4] if best else None


@functools.lru_cache(maxsize=4096)
def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (insert, delete, substitute, swap neighbours)."""
    if a == b:
        return 0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
