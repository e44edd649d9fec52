"""The default kinds of report a commune starts with (each commune then edits its own).

Names are the commune's data, in Vietnamese, like its unit and village names. ``units``
lists the names (or recorded spellings) of the unit a category goes to, first match wins;
a category with no unit found is routed by the standing office. Deadlines are working days
and are defaults the commune changes (``bot.feedback.store.update_category``), not a legal
rule. ``keywords`` help recognise a report typed as free text and are published as the
Open311 ``keywords``. Pure data: no framework import.
"""

from __future__ import annotations

from dataclasses import dataclass

INFRASTRUCTURE_UNITS = ("Phòng Kinh tế, Hạ tầng và Đô thị", "Phòng Kinh tế")
POLICE = ("Công an xã",)


@dataclass(frozen=True)
class CategoryDefault:
    """A category as tocns proposes it to a new commune."""

    code: str  # stable: reports and Open311 clients refer to it
    name: str
    group: str
    units: tuple[str, ...]
    answer_days: int
    close_days: int
    keywords: tuple[str, ...]
    urgent: bool = False
    description: str = ""


DEFAULT_CATEGORIES: tuple[CategoryDefault, ...] = (
    CategoryDefault(
        "duong",
        "Hạ tầng – đường, cầu, cống",
        "Hạ tầng",
        INFRASTRUCTURE_UNITS,
        2,
        10,
        ("đường", "ổ gà", "ổ voi", "cầu", "cống", "sụt lún", "vỉa hè", "đường xóm", "đường làng"),
        description="Đường hỏng, ổ gà, cầu cống hư hại",
    ),
    CategoryDefault(
        "dien",
        "Hạ tầng – điện, đèn đường",
        "Hạ tầng",
        INFRASTRUCTURE_UNITS,
        2,
        10,
        ("điện", "mất điện", "đèn đường", "cột điện", "dây điện", "chập điện"),
        description="Mất điện, đèn đường hỏng, dây điện nguy hiểm",
    ),
    CategoryDefault(
        "nuoc",
        "Hạ tầng – nước sạch",
        "Hạ tầng",
        INFRASTRUCTURE_UNITS,
        2,
        10,
        ("nước", "nước sạch", "mất nước", "vỡ ống", "ống nước", "nước bẩn"),
        description="Mất nước, vỡ ống, nước sạch có vấn đề",
    ),
    CategoryDefault(
        "rac",
        "Môi trường – rác thải, ô nhiễm",
        "Môi trường",
        INFRASTRUCTURE_UNITS,
        2,
        10,
        ("rác", "bãi rác", "rác thải", "xả thải", "ô nhiễm", "bốc mùi", "đốt rác"),
        description="Rác không được thu gom, xả thải, ô nhiễm",
    ),
    CategoryDefault(
        "ngap",
        "Môi trường – ngập úng, thoát nước",
        "Môi trường",
        INFRASTRUCTURE_UNITS,
        2,
        10,
        ("ngập", "ngập úng", "úng", "tắc cống", "thoát nước", "mương"),
        description="Ngập, úng, cống rãnh tắc",
    ),
    CategoryDefault(
        "an_ninh",
        "An ninh trật tự",
        "An ninh",
        POLICE,
        0,
        3,
        ("lừa đảo", "trộm", "mất trộm", "cướp", "đánh nhau", "gây rối", "ma túy", "cờ bạc"),
        urgent=True,
        description="Trộm cắp, gây rối, lừa đảo, tệ nạn",
    ),
    CategoryDefault(
        "khan_cap",
        "Sự cố khẩn cấp – cháy nổ, sạt lở, thiên tai",
        "An ninh",
        POLICE,
        0,
        2,
        ("cháy", "cháy nổ", "hỏa hoạn", "sạt lở", "lũ", "lốc", "cây đổ", "điện giật"),
        urgent=True,
        description="Cháy nổ, sạt lở, lũ lốc, cây đổ chắn đường",
    ),
    CategoryDefault(
        "thu_tuc",
        "Dịch vụ công – thủ tục hành chính",
        "Dịch vụ công",
        ("Trung tâm Phục vụ hành chính công",),
        2,
        5,
        ("thủ tục", "hồ sơ", "giấy tờ", "một cửa", "dịch vụ công", "trễ hẹn", "chậm trả"),
        description="Hồ sơ chậm, thủ tục vướng mắc",
    ),
    CategoryDefault(
        "thai_do",
        "Dịch vụ công – thái độ phục vụ",
        "Dịch vụ công",
        ("Văn phòng HĐND và UBND xã",),
        2,
        10,
        ("thái độ", "cán bộ", "gây khó khăn", "hách dịch", "nhũng nhiễu"),
        description="Thái độ của cán bộ khi tiếp dân",
    ),
    CategoryDefault(
        "y_te",
        "Y tế",
        "Y tế",
        ("Trạm Y tế xã", "Trạm Y tế"),
        1,
        5,
        ("y tế", "trạm y tế", "dịch bệnh", "sốt xuất huyết", "ngộ độc", "an toàn thực phẩm"),
        description="Dịch bệnh, ngộ độc, vệ sinh an toàn thực phẩm",
    ),
    CategoryDefault(
        "giao_duc",
        "Giáo dục",
        "Giáo dục",
        ("Phòng Văn hóa - Xã hội",),
        2,
        10,
        ("trường", "trường học", "lớp học", "học sinh", "giáo viên"),
        description="Trường lớp, học sinh, giáo viên",
    ),
    CategoryDefault(
        "khac",
        "Khác",
        "Khác",
        (),
        3,
        15,
        (),
        description="Việc khác: Văn phòng chọn đơn vị xử lý",
    ),
)
