"""The plan template's sheets and columns, shared by the reader and the template writer."""

from __future__ import annotations

from bot.tallies.codes import CODES

SHEET_PLAN = "Kế hoạch"
SHEET_UNITS = "Đơn vị"
SHEET_INDICATORS = "Chỉ tiêu"
SHEET_TASKS = "Nhiệm vụ"
SHEET_GUIDE = "Hướng dẫn"
KIND_COLUMN = "Loại"

# Template columns, in order (the target columns are "Chỉ tiêu <year>", one per year).
INDICATOR_COLUMNS = (
    "TT",
    "Nhóm",
    "Chỉ tiêu",
    "Đơn vị tính",
    "Chỉ tiêu 2026",
    "Chỉ tiêu 2030",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Kết quả/sản phẩm",
    "Mã số liệu",
)
TASK_COLUMNS = (
    "TT",
    "Nhóm",
    "Nhiệm vụ",
    "Đơn vị chủ trì",
    "Đơn vị phối hợp",
    "Kết quả/sản phẩm",
    "Kinh phí (triệu đồng)",
    "Thời gian hoàn thành",
    "Ngày bắt đầu",
)
PLAN_FIELDS = (
    ("slug", "Mã kế hoạch"),
    ("commune", "Xã"),
    ("province", "Tỉnh"),
    ("title", "Tên kế hoạch"),
    ("number", "Số hiệu"),
    ("issued", "Ngày ban hành"),
    ("period", "Giai đoạn"),
    ("source", "Nguồn"),
)
UNIT_COLUMNS = ("Tên đơn vị", "Tên khác")

TALLY_CODES = tuple(code.code for code in CODES)
