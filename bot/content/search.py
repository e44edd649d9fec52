"""Find the right guide for whatever a resident types.

Pure, in-memory and dependency-free. Text is folded (no diacritics, lower case),
abbreviations are expanded (``cks`` → ``chu ky so``), unknown words are corrected
against the library's vocabulary when they are one or two edits away ("kick" →
"kich"), then two signals are blended:

* a BM25F score over weighted fields (title, keywords, examples, summary, body),
  normalised by what a perfect match of the query would score, so that words no guide
  knows ("giá vàng") pull the score down instead of being ignored;
* the best weighted overlap with one of the guide's example questions (a
  nearest-neighbour signal that rewards questions phrased like real ones).

The blended score lies in [0, 1]; ``confident`` comes from the top score and its
margin over the runner-up. Greetings and scam signals are detected separately so the
chat layer can answer a greeting and always put the scam warning first.
"""

from __future__ import annotations

import functools
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.content.guides import Guide
from bot.text import fold

# --- normalisation --------------------------------------------------------------------

_NON_WORD = re.compile(r"[^a-z0-9]+")
_MIXED = re.compile(r"[0-9][a-z]|[a-z][0-9]")
_DIGITS = re.compile(r"([0-9]+)")
# A well-formed Vietnamese syllable once folded: onset, one to three vowels, coda.
# A real syllable that the library does not know ("tiếng") is a different word, not a
# typo of a known one ("tiền"), so it is only corrected when a neighbour confirms it.
_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?$"
)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Abbreviations, chat shorthand and spelling variants → canonical folded words.
# Applied to guides and queries alike, so either side may use any form.
SYNONYMS: dict[str, str] = {
    "vnid": "vneid",
    "vneid": "vneid",
    "vnied": "vneid",
    "vneld": "vneid",
    "veneid": "vneid",
    "cks": "chu ky so",
    "ckso": "chu ky so",
    "dvc": "dich vu cong",
    "dvcqg": "dich vu cong quoc gia",
    "dichvucong": "dich vu cong",
    "bhyt": "bao hiem y te",
    "bhxh": "bao hiem xa hoi",
    "bh": "bao hiem",
    "gplx": "giay phep lai xe",
    "blx": "bang lai xe",
    "lltp": "ly lich tu phap",
    "tk": "tai khoan",
    "tknh": "tai khoan ngan hang",
    "stk": "so tai khoan",
    "nh": "ngan hang",
    "sskdt": "so suc khoe dien tu",
    "ssk": "so suc khoe",
    "dkx": "dang ky xe",
    "dk": "dang ky",
    "dki": "dang ky",
    "dky": "dang ky",
    "ki": "ky",
    "cccd": "can cuoc",
    "cmnd": "can cuoc",
    "cmt": "can cuoc",
    "mk": "mat khau",
    "pass": "mat khau",
    "password": "mat khau",
    "pw": "mat khau",
    "dt": "dien thoai",
    "dth": "dien thoai",
    "sdt": "so dien thoai",
    "ck": "chuyen khoan",
    "hs": "ho so",
    "tmdt": "thuong mai dien tu",
    "kns": "ky nang so",
    "bdhvs": "binh dan hoc vu so",
    "gks": "giay khai sinh",
    "tthc": "thu tuc hanh chinh",
    "online": "truc tuyen",
    "onl": "truc tuyen",
    "app": "ung dung",
    "apps": "ung dung",
    "ap": "ung dung",
    "fb": "facebook",
    "face": "facebook",
    "zl": "zalo",
    "chatgpt": "chatgpt",
    "gpt": "chatgpt",
    "ntn": "",
    "ntnao": "",
    "lm": "lam",
    "lmj": "lam gi",
    "ko": "khong",
    "k": "khong",
    "kg": "khong",
    "kh": "khong",
    "hok": "khong",
    "hong": "khong",
    "dc": "duoc",
    "dx": "duoc",
    "hk": "khong",
    "hem": "khong",
    "e": "em",
    "mik": "minh",
    "mjk": "minh",
    "mn": "",
    "mng": "",
    "ng": "nguoi",
    "r": "roi",
    "oy": "roi",
    "ak": "a",
    "ah": "a",
    "vs": "voi",
    "cx": "cung",
    "ms": "moi",
    "bn": "bao nhieu",
    "tr": "trieu",
    "trd": "trieu dong",
    "wa": "qua",
    "wen": "quen",
    "fai": "phai",
    "kq": "ket qua",
    "xn": "xac nhan",
    "ntin": "nhan tin",
    "ib": "nhan tin",
    "vk": "vo",
    "csgt": "canh sat giao thong",
    "ubnd": "uy ban nhan dan",
    "momo": "momo vi dien tu",
    "zalopay": "vi dien tu",
    "vnpay": "vi dien tu",
    "viettelmoney": "vi dien tu",
    "shopeepay": "vi dien tu",
    "atm": "the ngan hang",
    "samsung": "dien thoai",
    "oppo": "dien thoai",
    "xiaomi": "dien thoai",
    "vivo": "dien thoai",
    "nokia": "dien thoai",
    "smartphone": "dien thoai",
    "dtdd": "dien thoai",
    "khoi": "khong can",
    "dk2": "dang ky muc 2",
    "j": "gi",
    "z": "vay",
    "v": "vay",
    "dz": "vay",
    "sms": "tin nhan",
    "qrcode": "qr",
    "vietqr": "qr",
    "fanpage": "facebook",
    "2fa": "xac thuc 2 lop",
    "otp": "otp",
}

# Phrases rewritten before word-level synonyms (folded, whole words).
PHRASES: dict[str, str] = {
    # Question fillers: "như thế nào" must not leave "the" (thẻ) behind.
    "nhu the nao": "",
    "the nao": "",
    "ra sao": "",
    "kieu gi": "",
    "bang cach nao": "",
    "moi nguoi": "",
    "bay gio": "",
    "cho hoi": "",
    # Cost questions: "mất bao lâu", "mất phí" are not "mật khẩu" or "mất tiền".
    "mat bao lau": "bao lau",
    "mat phi": "phi",
    "moi de": "moi sinh",
    "chao ban": "chao",
    "cam on ban": "cam on",
    "ban oi": "oi",
    "vn id": "vneid",
    "vne id": "vneid",
    "chat gpt": "chatgpt",
    "vss id": "vssid",
    "qr code": "qr",
    "dang ki": "dang ky",
    "muc mot": "muc 1",
    "muc hai": "muc 2",
    "muc do 1": "muc 1",
    "muc do 2": "muc 2",
    "2 lop": "2 lop",
    "hai lop": "2 lop",
    "hai buoc": "2 lop",
    "2 buoc": "2 lop",
    "tri tue nhan tao": "tri tue nhan tao ai",
    "tien an tien su": "tien an tien su ly lich tu phap",
}

# Filler words that carry no topic: politeness, question words, pronouns. They are
# dropped from queries and guides so they neither help nor hurt a match. Folding merges
# words, so some look like filler but are not and stay out of this list: "ban" (bán),
# "chu" (chữ), "dang" (đăng), "ma" (mã), "vi" (ví), "van" (văn), "the" (thẻ),
# "can" (căn), "bang" (bằng lái), "tai" (tài khoản, tải).
STOPWORDS: frozenset[str] = _wordset(
    """
    a ah oi nhe nha nhi vay day do ha hay u uh uhm um ok oke okie
    chao hello hi hey alo helo thanks thank you
    ad admin bot shop em anh chi bac co ong ba toi minh tui chau me
    la thi va voi cua de o vao ra len cho khi nao sao gi nhu
    lam cach duoc khong phai muon hoi xin vui long giup huong
    nay kia roi chua da se cung nhung cac mot nhieu it rat qua
    tren duoi trong ngoai neu hoac
    biet nua luon ne nhen thoi hihi haha hehe hix huhu
    """
)

_GREETING_CORE = re.compile(
    r"^(?:xin chao|chao|hello|helo|hi|hey|alo|a lo|cam on|thank|thanks|thank you|tks|thanks you"
    r"|ok|oke|okie|okay|good morning|chuc ngu ngon|tam biet|bye)\b"
)
# Small talk addressed to the bot ("bạn tên gì", "bạn khỏe không"): answered like a
# greeting. Matched as whole phrases so "sổ sức khỏe" is never small talk.
_CHITCHAT = re.compile(
    r"\b(?:(?:ban|bot|em|anh|chi) (?:co )?khoe (?:khong|ko|k|hong|hok|chu|ha|a)"
    r"|(?:ban|bot|em) ten (?:la )?(?:gi|j)|ten (?:ban|bot|em) la (?:gi|j)"
    r"|(?:ban|bot|em) la (?:ai|gi|nguoi hay may|nguoi that)"
    r"|(?:ban|bot|em) (?:bao nhieu|may) tuoi|an (?:com|sang|trua|toi) chua"
    r"|(?:ban|bot|em) (?:dang )?lam gi (?:do|the|vay|day)|co ai (?:o )?(?:(?:do|day) )?(?:khong|ko|k|hong|hok))\b"
)
_CHITCHAT_FILLER = _wordset("co khong ko k hong hok oi vay v z day do roi chua the ha")
_GREETING_FILLER = _wordset(
    "xin chao hello helo hi hey alo a lo cam on thank thanks you tks ok oke okie okay ban bot "
    "ad admin em anh chi bac co chu ong ba ca nha nhe nhieu rat a oi shop moi nguoi buoi sang "
    "trua chieu toi tot lanh good morning chuc ngu ngon tam biet bye nhe nhen minh toi da vang "
    "day rang ha"
)


def normalise(text: str) -> list[str]:
    """Fold text and return canonical words (synonyms expanded, punctuation dropped)."""
    folded = " ".join(_NON_WORD.sub(" ", fold(text)).split())
    if not folded:
        return []
    padded = f" {folded} "
    for phrase, replacement in PHRASES.items():
        if f" {phrase} " in padded:
            padded = padded.replace(f" {phrase} ", f" {replacement} ")
    words: list[str] = []
    for word in padded.split():
        if word in SYNONYMS:
            words.extend(SYNONYMS[word].split())
        elif _MIXED.search(word):
            # "10tr" → "10 triệu", "ron95" → "ron 95": split digits from letters.
            for part in _DIGITS.split(word):
                if part:
                    words.extend(SYNONYMS.get(part, part).split())
        else:
            words.append(word)
    return words


def _content_words(words: Sequence[str]) -> list[str]:
    return [w for w in words if w not in STOPWORDS]


def _bigrams(words: Sequence[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def _terms(text: str) -> tuple[list[str], list[str]]:
    words = _content_words(normalise(text))
    return words, _bigrams(words)


# --- greetings and scams --------------------------------------------------------------


def is_greeting(text: str) -> bool:
    """Tell whether a message is only a greeting, a thank-you or small talk (not a guide)."""
    folded = " ".join(_NON_WORD.sub(" ", fold(text)).split())
    if not folded:
        return False
    if _CHITCHAT.search(folded):
        rest = _CHITCHAT.sub(" ", folded).split()
        return all(word in _GREETING_FILLER or word in _CHITCHAT_FILLER for word in rest)
    if not _GREETING_CORE.match(folded):
        return False
    return all(word in _GREETING_FILLER for word in folded.split())


_VICTIM = re.compile(
    r"(?<!khong )(?<!tranh )(?<!chua )\b(?:bi lua|da bi lua|mat het tien|lo chuyen|lo dua|lo doc|lo cai|lo bam|lo cho"
    r"|bi chiem|bi hack|bi tru tien|tru het tien|to giac|trinh bao|lay lai tien|da chuyen tien)\b"
)
# "có mất tiền không" asks about a cost; "bị mất tiền" reports a loss.
_LOST_MONEY = re.compile(
    r"(?<!khong )(?<!co )\bmat tien\b(?! (?:khong|ko|k|kg|hok|hong|gi|j|bao nhieu|nhieu)\b)"
)
_IMPERSONATION = re.compile(
    r"\b(?:gia danh|mao danh|gia lam|xung la|tu xung|xung (?:cong an|can bo)"
    r"|(?:cong an|can bo|canh sat|nhan vien|nguoi la)\b.{0,40}\b(?:goi|nhan tin|bao|yeu cau|bat)"
    r"|goi dien\b.{0,40}\b(?:cong an|can bo|cap nhat|dong bo|vneid|dinh danh|can cuoc)"
    r"|(?:cap nhat|dong bo|xac thuc lai|lam lai)\b.{0,30}\b(?:vneid|vnid|dinh danh|can cuoc|cccd)"
    r"\b.{0,30}\b(?:qua dien thoai|qua dt|qua zalo|qua mang|qua link|tai nha)"
    r"|(?:dong bo)\b.{0,20}\b(?:vneid|vnid|dinh danh|can cuoc|cccd)"
    r"|(?:muc 2|muc do 2)\b.{0,20}\bqua dien thoai)"
)
_LINK_OTP = re.compile(
    r"\b(?:otp|ma xac nhan|ma xac thuc|link la|duong link|duong dan la|bam link|bam vao link"
    r"|click link|link gia|app la|ung dung la|app gia|ung dung gia|gia mao|file apk|apk"
    r"|trang web gia|web gia|trung thuong|qua link|qua duong link|link zalo|link facebook|link fb"
    r"|link tin nhan|gui link)\b"
)
_MONEY_REQUEST = re.compile(
    r"\b(?:yeu cau|bao|bat|doi|doc|nho|xin|huong dan)\b.{0,30}\bchuyen (?:tien|khoan)\b"
    r"|\bchuyen (?:tien|khoan)\b.{0,30}\b(?:nguoi la|de duoc|de nhan|coc|gap|ngay"
    # "chuyển phí để nhận quà" is a demand; "chuyển khoản có mất phí không" asks a price.
    r"|(?<!mat )(?<!co )phi(?! (?:khong|ko|k|bao nhieu|the nao|nhu the nao)\b))\b"
)
# "I did not receive the OTP", "the OTP is wrong": a technical question, not a warning sign.
_OTP_TROUBLE = re.compile(
    r"\b(?:khong|chua|ko|k) (?:nhan|thay|toi|ve)\b|\b(?:sai|nhap|het han|gui lai) (?:ma )?otp\b"
    r"|\botp (?:sai|het han|khong ve|cham|bi loi|loi)\b"
)
# Impersonation of a bank clerk asking for the OTP is answered by the OTP warning.
_STATE_OFFICER = re.compile(r"\b(?:cong an|can bo|canh sat|vneid|dinh danh|can cuoc|cccd)\b")

SCAM_SLUGS = ("lua-dao-gia-danh", "lua-dao-link-otp", "bi-lua-dao")


def scam_kind(text: str) -> str | None:
    """Return the scam guide a message calls for (victim, impersonation, link/OTP) or None."""
    folded = " ".join(_NON_WORD.sub(" ", fold(text)).split())
    if not folded:
        return None
    if _VICTIM.search(folded) or _LOST_MONEY.search(folded):
        return "bi-lua-dao"
    link = _LINK_OTP.search(folded)
    if link and link.group(0) == "otp" and _OTP_TROUBLE.search(folded):
        link = None
    if _IMPERSONATION.search(folded) and not (
        link and link.group(0) == "otp" and not _STATE_OFFICER.search(folded)
    ):
        return "lua-dao-gia-danh"
    if link:
        return "lua-dao-link-otp"
    if _MONEY_REQUEST.search(folded):
        return (
            "lua-dao-gia-danh"
            if re.search(r"\b(?:goi|cong an|can bo)\b", folded)
            else ("lua-dao-link-otp")
        )
    return None


def scam_signal(text: str) -> bool:
    """Tell whether a message shows a scam signal (OTP, strange link, fake officer, money)."""
    return scam_kind(text) is not None


# --- the index ------------------------------------------------------------------------

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
FUZZY_WEIGHT = 0.75  # a corrected word counts this much relative to an exact one
ISOLATED_WEIGHT = 0.4  # a compound-bound syllable standing alone counts this much
LOOSE_WEIGHT = 0.8  # any other syllable standing alone counts this much
BOUND_SHARE = 0.75  # share of a syllable's uses inside its usual compound to call it bound
BOUND_MIN = 3  # uses below which a syllable is never called bound
BLEND_BM25 = 0.55  # share of the BM25F coverage in the final score (rest: nearest example)
CONFIDENT_SCORE = 0.42
CONFIDENT_MARGIN = 0.06
CONFIDENT_ALONE = 0.6  # above this, no margin is needed
TIE = 0.02  # two guides this close are a tie: ask "Ý bạn là…?"
CONFIDENT_MATCHED = 0.7  # share of the query's informative words the best guide must know
CONFIDENT_MATCHED_SHORT = 0.85  # the same for a short query
SHORT_QUERY = 4  # informative words up to which a query is short
# A longer question carries incidental words ("cho bà con", "ở thành phố"), so a clear
# winner (high score, well ahead of the runner-up) may leave more of them unknown.
CLEAR_MATCHED = 0.6  # share of informative words a clear winner must know
CLEAR_SCORE = 0.62  # score from which the best guide can be a clear winner
CLEAR_MARGIN = 0.15  # lead over the runner-up a clear winner needs
PRESENT = 0.3  # saturated weight from which a term counts as "in" a guide (not a body aside)
MIN_SCORE = 0.12  # below this a guide is not offered at all
SUGGEST_SCORE = 0.4  # below this a guide is not worth offering as "Ý bạn là…?" in the chat


@dataclass(frozen=True)
class SearchResult:
    """Ranked guides for one query, best first, and whether the best one can be trusted."""

    results: list[tuple[str, float]]
    confident: bool
    scam: bool = False
    greeting: bool = False

    @property
    def best(self) -> str | None:
        """The slug of the best guide, if any."""
        return self.results[0][0] if self.results else None

    def suggestions(self) -> list[str]:
        """Slugs worth offering as "did you mean" choices when not confident."""
        return [slug for slug, score in self.results if score >= SUGGEST_SCORE]

    def as_dict(self) -> dict[str, object]:
        """The JSON shape printed by ``tocns guides search --json``."""
        return {
            "results": [{"slug": slug, "score": round(score, 4)} for slug, score in self.results],
            "confident": self.confident,
        }


@dataclass
class _Query:
    weights: dict[str, float] = field(default_factory=dict)  # term → query weight
    factor: dict[str, float] = field(default_factory=dict)  # term → trust (< 1: corrected…)
    unknown: float = 0.0  # idf mass of words the library does not know
    words: int = 0  # informative words in the query (known or not)


@dataclass(repr=False)
class GuideIndex:
    """An in-memory search index over a list of guides."""

    slugs: list[str]
    titles: dict[str, str]
    idf: dict[str, float]
    unknown_idf: float
    postings: dict[str, list[tuple[int, float]]]  # term → (doc, saturated weight in [0, 1))
    example_postings: dict[str, list[int]]  # term → example ids
    example_doc: list[int]
    example_mass: list[float]
    vocabulary: frozenset[str]
    deletes: dict[str, list[str]]
    bound: frozenset[str]  # syllables used (almost) only inside one compound word

    @classmethod
    def build(cls, guides: Iterable[Guide]) -> GuideIndex:
        """Index guides (titles, keywords, examples, summaries, bodies)."""
        guides = list(guides)
        fields: list[dict[str, list[str]]] = []
        example_terms: list[tuple[int, set[str]]] = []
        occurrences: dict[str, int] = defaultdict(int)
        partners: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for doc, guide in enumerate(guides):
            per_field: dict[str, list[str]] = {}
            texts = {
                "title": [guide.title, guide.slug.replace("-", " ")],
                "keywords": list(guide.keywords),
                "examples": list(guide.examples),
                "summary": [guide.summary],
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

        example_postings: dict[str, list[int]] = defaultdict(list)
        example_doc: list[int] = []
        example_mass: list[float] = []
        for ex_id, (doc, ex_terms) in enumerate(example_terms):
            example_doc.append(doc)
            example_mass.append(sum(_term_weight(t, idf) for t in ex_terms))
            for term in ex_terms:
                example_postings[term].append(ex_id)

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
            example_postings=dict(example_postings),
            example_doc=example_doc,
            example_mass=example_mass,
            vocabulary=vocabulary,
            deletes=dict(deletes),
            bound=bound,
        )

    def __repr__(self) -> str:
        return f"GuideIndex({len(self.slugs)} guides, {len(self.vocabulary)} words)"

    def lookup(self, text: str) -> str | None:
        """Return the slug when the text is exactly a guide's slug or title (deep links, Zalo)."""
        candidate = text.strip().removeprefix("/start").strip().removeprefix("g_").strip()
        if candidate in self.slugs:
            return candidate
        return self.titles.get(fold(candidate))

    def search(self, query: str, top: int = 3) -> SearchResult:
        """Rank guides for a free-text question; scam warnings come first when signalled."""
        top = max(1, top)
        scam = scam_kind(query)
        greeting = is_greeting(query)
        parsed = self._parse(query)
        scores, share = self._score(parsed) if parsed.weights else ({}, {})
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self.slugs[item[0]]))
        results = [(self.slugs[doc], score) for doc, score in ranked if score >= MIN_SCORE]
        known = share.get(ranked[0][0], 0.0) if ranked else 0.0
        # A short question has no incidental words: one the guide does not know
        # ("học lái xe", "mua xe máy") means it asks about something else.
        needed = CONFIDENT_MATCHED_SHORT if parsed.words <= SHORT_QUERY else CONFIDENT_MATCHED
        clear = parsed.words > SHORT_QUERY and known >= CLEAR_MATCHED and _clear_winner(results)
        confident = (known >= needed or clear) and self._confident(results)
        if scam and scam in self.slugs:
            results = _promote(results, scam)
            confident = True
        if greeting and not scam:
            confident = False
        return SearchResult(results[:top], confident, scam=scam is not None, greeting=greeting)

    # -- internals -----------------------------------------------------------------------

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
        for word in corrected:
            if word:
                parsed.weights[word] = parsed.weights.get(word, 0.0) + 1.0
        for pair in _bigrams(corrected):
            if not pair.startswith("_") and not pair.endswith("_") and pair in self.idf:
                parsed.weights[pair] = BIGRAM_WEIGHT
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

    def _score(self, parsed: _Query) -> tuple[dict[int, float], dict[int, float]]:
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
                    matched[doc] += trusted
        if total <= 0:
            return {}, {}
        share = {doc: mass / word_total for doc, mass in matched.items()} if word_total else {}

        overlap: dict[int, float] = defaultdict(float)
        example_postings = self.example_postings
        for term, weight in parsed.weights.items():
            term_weight = min(weight, 1.0) * idf.get(term, 0.0) * parsed.factor.get(term, 1.0)
            for ex_id in example_postings.get(term, ()):
                overlap[ex_id] += term_weight
        nearest: dict[int, float] = {}
        example_doc = self.example_doc
        example_mass = self.example_mass
        for ex_id, shared in overlap.items():
            dice = 2 * shared / (total + example_mass[ex_id])
            doc = example_doc[ex_id]
            if dice > nearest.get(doc, 0.0):
                nearest[doc] = dice

        scale = BLEND_BM25 / total
        scores = {doc: min(BLEND_BM25, value * scale) for doc, value in bm25.items()}
        rest = 1 - BLEND_BM25
        for doc, value in nearest.items():
            scores[doc] = scores.get(doc, 0.0) + rest * value
        return scores, share

    @staticmethod
    def _confident(results: list[tuple[str, float]]) -> bool:
        if not results:
            return False
        best = results[0][1]
        second = results[1][1] if len(results) > 1 else 0.0
        if best >= CONFIDENT_ALONE and best - second >= TIE:
            return True
        return best >= CONFIDENT_SCORE and best - second >= CONFIDENT_MARGIN


def _clear_winner(results: list[tuple[str, float]]) -> bool:
    best = results[0][1] if results else 0.0
    second = results[1][1] if len(results) > 1 else 0.0
    return best >= CLEAR_SCORE and best - second >= CLEAR_MARGIN


def _promote(results: list[tuple[str, float]], slug: str) -> list[tuple[str, float]]:
    best = results[0][1] if results else 1.0
    others = [(s, score) for s, score in results if s != slug]
    own = dict(results).get(slug, 0.0)
    return [(slug, max(best, own, 0.5)), *others]


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
