"""The seven digital-citizen tally codes, their Vietnamese names and the words people type.

Counts are cumulative per village and month; each code is a rate over one of the
village's denominators (population, adults ≥ 18, aged 15+, households, household
businesses). Aliases are written the way residents type them; matching is done on
folded text (see ``bot.text.fold``), so diacritics and case never matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.i18n import N_
from bot.text import fold

Denominator = Literal["population", "adults", "aged15", "households", "businesses"]

DENOMINATORS: tuple[Denominator, ...] = (
    "population",
    "adults",
    "aged15",
    "households",
    "businesses",
)


@dataclass(frozen=True)
class TallyCode:
    """One tally code: what it counts, how people name it, what it is a rate of."""

    code: str
    name: str
    aliases: tuple[str, ...]
    denominator: Denominator


CODES: tuple[TallyCode, ...] = (
    TallyCode(
        code="vneid",
        name="VNeID mức 2",
        aliases=(
            "vneid",
            "vnid",
            "vn eid",
            "vneid mức 2",
            "định danh",
            "định danh điện tử",
            "định danh mức 2",
            "tài khoản định danh",
            "tài khoản định danh điện tử",
            "tk định danh",
            "tkdd",
        ),
        denominator="population",
    ),
    TallyCode(
        code="cks",
        name="Chữ ký số",
        aliases=("cks", "chữ ký số", "chữ kí số", "ký số", "kí số", "chữ ký điện tử"),
        denominator="adults",
    ),
    TallyCode(
        code="ssk",
        name="Sổ sức khỏe điện tử",
        aliases=(
            "ssk",
            "sskđt",
            "sổ sức khỏe",
            "sổ sức khoẻ",
            "sổ sức khỏe điện tử",
            "sổ sức khoẻ điện tử",
            "sổ sk",
            "hồ sơ sức khỏe",
            "hồ sơ sức khỏe điện tử",
        ),
        denominator="population",
    ),
    TallyCode(
        code="tknh",
        name="Tài khoản ngân hàng",
        aliases=(
            "tknh",
            "tài khoản ngân hàng",
            "tk ngân hàng",
            "ngân hàng",
            "ví điện tử",
            "tài khoản thanh toán",
        ),
        denominator="aged15",
    ),
    TallyCode(
        code="dvc",
        name="Dịch vụ công trực tuyến",
        aliases=("dvc", "dvctt", "dịch vụ công", "dịch vụ công trực tuyến"),
        denominator="adults",
    ),
    TallyCode(
        code="kns",
        name="Kỹ năng số",
        aliases=("kns", "kỹ năng số", "kĩ năng số"),
        denominator="population",
    ),
    TallyCode(
        code="ttktm",
        name="Thanh toán không dùng tiền mặt",
        aliases=(
            "ttktm",
            "ttkdtm",
            "thanh toán không dùng tiền mặt",
            "thanh toán không tiền mặt",
            "không dùng tiền mặt",
            "không tiền mặt",
        ),
        denominator="businesses",
    ),
)

CODE_NAMES: tuple[str, ...] = tuple(c.code for c in CODES)
DENOMINATOR_OF: dict[str, str] = {c.code: c.denominator for c in CODES}  # code: denominator

_BY_CODE: dict[str, TallyCode] = {c.code: c for c in CODES}
_BY_ALIAS: dict[str, TallyCode] = {fold(alias): c for c in CODES for alias in (c.code, *c.aliases)}


def code_by_name(code: str) -> TallyCode:
    """Return the tally code with this canonical name (e.g. "cks"); raise KeyError if unknown."""
    return _BY_CODE[code.strip().lower()]


def resolve_label(label: str) -> TallyCode | None:
    """Return the tally code a typed label names ("Chữ ký số", "chu ky so", "CKS"), or None."""
    return _BY_ALIAS.get(fold(label))


def folded_aliases() -> dict[str, str]:
    """Map every folded alias (codes included) to its canonical code."""
    return {alias: c.code for alias, c in _BY_ALIAS.items()}


# Short English msgids for each code (translated where shown: chat, dashboard, exports).
CODE_LABELS: dict[str, str] = {
    "vneid": N_("VNeID level 2"),
    "cks": N_("Digital signature"),
    "ssk": N_("E-health book"),
    "tknh": N_("Bank account"),
    "dvc": N_("Online public services"),
    "kns": N_("Digital skills"),
    "ttktm": N_("Cashless payment"),
}
