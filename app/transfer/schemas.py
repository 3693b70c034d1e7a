"""What the transfer endpoints take and return, and the sheets they read and write (Chinese column names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from app.enterprises import uscc
from app.labels import field_label, label
from app.studios.models import StudioKind
from app.transfer.xlsx import CellFormat, ExportColumn, ImportColumn, ImportLayout, ValueKind


class ImportKind(StrEnum):
    """What an administrator can import from XLSX."""

    EXPERTS = "experts"
    STUDIOS = "studios"
    ENTERPRISES = "enterprises"


class ExportKind(StrEnum):
    """What an administrator can export to XLSX."""

    ORDERS = "orders"
    AGREEMENTS = "agreements"
    CONSULTATIONS = "consultations"
    TRAININGS = "trainings"
    OUTCOMES = "outcomes"


class ImportResult(BaseModel):
    """A successful import: every data row became one record."""

    kind: ImportKind
    created: int = Field(description="新建的记录数")
    ids: list[int] = Field(description="新建记录的编号，与文件中的行顺序一致")
    example_row_skipped: bool = Field(description="是否跳过了未改动的模板示例行")


# --- import sheets -----------------------------------------------------------------------------------

# Column names come from app.labels where its label reads right on its own in a sheet; these fields
# need a name that says whose name or title it is.
EXPERT_NAME = "姓名"
EXPERT_TITLE = "职称"
STUDIO_NAME = "工作室名称"
ENTERPRISE_NAME = "企业名称"
ENTERPRISE_CODE_OF_STUDIO = "所属企业统一社会信用代码"

# a made-up but well-formed credit code: the example row shows what a valid one looks like
_EXAMPLE_CODE_BODY = "91321003MA1N7Q8K2"
EXAMPLE_CREDIT_CODE = _EXAMPLE_CODE_BODY + uscc.check_character(_EXAMPLE_CODE_BODY)


def _column(
    field: str,
    *,
    header: str | None = None,
    kind: ValueKind = ValueKind.TEXT,
    required: bool = False,
    help: str = "",
    choices: tuple[StrEnum, ...] = (),
    width: int = 16,
) -> ImportColumn:
    return ImportColumn(
        field=field,
        header=header or field_label(field),
        kind=kind,
        required=required,
        help=help,
        choices=choices,
        width=width,
    )


EXPERT_LAYOUT = ImportLayout(
    sheet_title="科技镇长团名单",
    columns=(
        _column("name", header=EXPERT_NAME, required=True, help="专家姓名，最多 50 个字", width=12),
        _column("title", header=EXPERT_TITLE, required=True, help="如 教授、研究员、高级工程师", width=12),
        _column("university", required=True, help="派出的高校或科研院所", width=20),
        _column("department", help="所在院系或研究所", width=20),
        _column(
            "disciplines",
            kind=ValueKind.LIST,
            help="研究方向或学科，最多 20 项，每项不超过 50 个字",
            width=24,
        ),
        _column("cohort_number", kind=ValueKind.COHORT, help="第几批科技镇长团，1–100", width=12),
        _column("cohort_year", kind=ValueKind.INTEGER, help="选派的年份，如 2020", width=10),
        _column("seconded_district", help="挂职的区县", width=12),
        _column("seconded_town", help="挂职的乡镇或街道", width=12),
        _column("seconded_role", help="如 副镇长、科技副总", width=12),
        _column("term_start", kind=ValueKind.DATE, help="挂职开始日期", width=14),
        _column("term_end", kind=ValueKind.DATE, help="挂职结束日期，不能早于开始日期", width=14),
        _column("capacity", kind=ValueKind.INTEGER, help="可同时执行的合作协议数，0–50，留空为 3", width=12),
        _column("phone", help="数字、空格和 + - ( )，如 0514-87970001", width=16),
        _column("email", help="如 liming@example.edu.cn", width=24),
        _column("bio", help="个人简介，最多 4000 字", width=40),
    ),
    example={
        "name": "李明（示例）",
        "title": "教授",
        "university": "扬州大学",
        "department": "机械工程学院",
        "disciplines": "机械工程、数控技术",
        "cohort_number": "第十三批",
        "cohort_year": 2020,
        "seconded_district": "邗江区",
        "seconded_town": "杭集镇",
        "seconded_role": "副镇长",
        "term_start": date(2020, 7, 1),
        "term_end": date(2022, 6, 30),
        "capacity": 3,
        "phone": "0514-87970001",
        "email": "liming@example.edu.cn",
        "bio": "长期从事数控机床振动诊断与伺服控制研究。",
    },
    notes=("每行一位科技镇长团成员；同名专家不会合并，请勿重复导入同一份名单。",),
)

STUDIO_LAYOUT = ImportLayout(
    sheet_title="工作室名单",
    columns=(
        _column(
            "enterprise_credit_code",
            header=ENTERPRISE_CODE_OF_STUDIO,
            kind=ValueKind.CODE,
            required=True,
            help="工作室所在企业的 18 位统一社会信用代码；该企业须已在平台登记（可先导入企业名单）",
            width=24,
        ),
        _column("name", header=STUDIO_NAME, required=True, help="最多 200 个字", width=28),
        _column(
            "kind",
            kind=ValueKind.CHOICE,
            required=True,
            help="工作室的类别",
            choices=tuple(StudioKind),
            width=20,
        ),
        _column("leader_name", required=True, help="领衔的劳模或工匠姓名", width=10),
        _column("leader_honours", kind=ValueKind.LIST, help="如 全国劳动模范、扬州工匠", width=24),
        _column("fields", kind=ValueKind.LIST, help="工作室的技术领域，最多 20 项", width=20),
        _column("members_count", kind=ValueKind.INTEGER, help="留空为 0", width=10),
        _column(
            "star_rating",
            kind=ValueKind.INTEGER,
            help="0–3 的整数，0 表示未评星；评为 1–3 星时须同时填写评定日期和评定得分",
            width=8,
        ),
        _column("star_assessed_on", kind=ValueKind.DATE, help="最近一次星级评定的日期", width=14),
        _column("star_score", kind=ValueKind.DECIMAL, help="星级评定总分，0–100", width=10),
        _column("alliance", help="所属创新联盟", width=20),
        _column("sub_alliance", help="所属分联盟", width=16),
        _column("founded_year", kind=ValueKind.INTEGER, help="如 2016", width=10),
        _column("description", help="最多 4000 字", width=40),
    ),
    example={
        "enterprise_credit_code": EXAMPLE_CREDIT_CODE,
        "name": "王建国工匠人才创新工作室（示例）",
        "kind": label(StudioKind.CRAFTSMAN),
        "leader_name": "王建国",
        "leader_honours": "扬州工匠、江苏省劳动模范",
        "fields": "数控加工、精密磨削",
        "members_count": 12,
        "star_rating": 2,
        "star_assessed_on": date(2024, 6, 30),
        "star_score": 82.5,
        "alliance": "扬州市劳模工匠创新工作室联盟",
        "sub_alliance": "装备制造分联盟",
        "founded_year": 2016,
        "description": "专注数控机床主轴精度保持与砂轮修整工艺。",
    },
    notes=("工作室通过“所属企业统一社会信用代码”关联企业：请先登记或导入企业，再导入工作室。",),
)

ENTERPRISE_LAYOUT = ImportLayout(
    sheet_title="企业名单",
    columns=(
        _column("name", header=ENTERPRISE_NAME, required=True, help="营业执照上的企业名称", width=30),
        _column(
            "credit_code",
            kind=ValueKind.CODE,
            required=True,
            help="营业执照上的 18 位代码，按 GB 32100-2015 校验；同一代码只能登记一次",
            width=24,
        ),
        _column("province", required=True, help="如 江苏省", width=10),
        _column("city", required=True, help="如 扬州市", width=10),
        _column("district", required=True, help="如 邗江区", width=10),
        _column("town", help="如 杭集镇", width=12),
        _column("industry", help="如 装备制造", width=14),
    ),
    example={
        "name": "扬州示例精密机械有限公司（示例）",
        "credit_code": EXAMPLE_CREDIT_CODE,
        "province": "江苏省",
        "city": "扬州市",
        "district": "邗江区",
        "town": "杭集镇",
        "industry": "装备制造",
    },
    notes=("统一社会信用代码中的全角字符、空格和小写字母会自动规范化。",),
)

IMPORT_LAYOUTS: dict[ImportKind, ImportLayout] = {
    ImportKind.EXPERTS: EXPERT_LAYOUT,
    ImportKind.STUDIOS: STUDIO_LAYOUT,
    ImportKind.ENTERPRISES: ENTERPRISE_LAYOUT,
}

TEMPLATE_FILENAMES: dict[ImportKind, str] = {
    ImportKind.EXPERTS: "科技镇长团名单导入模板.xlsx",
    ImportKind.STUDIOS: "工作室导入模板.xlsx",
    ImportKind.ENTERPRISES: "企业导入模板.xlsx",
}


# --- export sheets -----------------------------------------------------------------------------------

# Column names that app.labels does not have (or has in words too general for a sheet: held_on is "日期").
RECORD_ID = "编号"
AGREEMENT_ID = "协议编号"
ORDER_ID = "需求编号"
ORDER_TITLE = "需求标题"
EXPERT = "专家"
CREATED_AT = "创建时间"
UPDATED_AT = "更新时间"
RECORDED_AT = "记录时间"


def _text(header: str) -> ExportColumn:
    return ExportColumn(header)


def _number(header: str) -> ExportColumn:
    return ExportColumn(header, CellFormat.NUMBER)


def _date(header: str) -> ExportColumn:
    return ExportColumn(header, CellFormat.DATE)


def _datetime(header: str) -> ExportColumn:
    return ExportColumn(header, CellFormat.DATETIME)


_PARTIES = (
    _number(AGREEMENT_ID),
    _text(ORDER_TITLE),
    _text(EXPERT),
    _text(field_label("studio_id")),
    _text(field_label("enterprise_id")),
)


@dataclass(frozen=True, slots=True)
class ExportLayout:
    """An export: its sheet title, its file name and its columns (rows come from the service)."""

    sheet_title: str
    filename: str
    columns: tuple[ExportColumn, ...]


EXPORT_LAYOUTS: dict[ExportKind, ExportLayout] = {
    ExportKind.ORDERS: ExportLayout(
        sheet_title="需求",
        filename="需求导出.xlsx",
        columns=(
            _number(RECORD_ID),
            _text(field_label("title")),
            _text(field_label("need_kind")),
            _text(field_label("status")),
            _text(field_label("studio_id")),
            _text(field_label("enterprise_id")),
            _text(field_label("fields")),
            _number(field_label("budget_min") + "（元）"),
            _number(field_label("budget_max") + "（元）"),
            _date(field_label("deadline")),
            _text(field_label("province")),
            _text(field_label("city")),
            _text(field_label("district")),
            _text(field_label("town")),
            _number(field_label("slots")),
            _datetime("发布时间"),
            _datetime(CREATED_AT),
            _datetime(UPDATED_AT),
            _text(field_label("description")),
        ),
    ),
    ExportKind.AGREEMENTS: ExportLayout(
        sheet_title="合作协议",
        filename="合作协议导出.xlsx",
        columns=(
            _number(AGREEMENT_ID),
            _number(ORDER_ID),
            *_PARTIES[1:],
            _text(field_label("status")),
            _text(field_label("goals")),
            _text(field_label("deliverables")),
            _number(field_label("duration_months")),
            _date(field_label("start_date")),
            _date(field_label("end_date")),
            _text(field_label("consultation_cadence")),
            _number(field_label("funding_amount") + "（元）"),
            _text(field_label("funding_source")),
            _datetime("企业签署时间"),
            _datetime("专家签署时间"),
            _datetime("交付时间"),
            _number("企业对专家的评分"),
            _text("企业评价"),
            _number("专家对企业的评分"),
            _text("专家评价"),
            _datetime("终止时间"),
            _text("终止原因"),
            _datetime(CREATED_AT),
            _datetime(UPDATED_AT),
        ),
    ),
    ExportKind.CONSULTATIONS: ExportLayout(
        sheet_title="会商记录",
        filename="会商记录导出.xlsx",
        columns=(
            _number(RECORD_ID),
            *_PARTIES,
            _text(field_label("kind")),
            _date("会商日期"),
            _text(field_label("participants")),
            _text(field_label("minutes")),
            _datetime(RECORDED_AT),
        ),
    ),
    ExportKind.TRAININGS: ExportLayout(
        sheet_title="人才培养",
        filename="人才培养导出.xlsx",
        columns=(
            _number(RECORD_ID),
            *_PARTIES,
            _text(field_label("kind")),
            _date("培训日期"),
            _number(field_label("trainee_count")),
            _number(field_label("hours")),
            _text(field_label("note")),
            _datetime(RECORDED_AT),
        ),
    ),
    ExportKind.OUTCOMES: ExportLayout(
        sheet_title="合作成果",
        filename="合作成果导出.xlsx",
        columns=(
            _number(RECORD_ID),
            *_PARTIES,
            _text(field_label("kind")),
            _text("成果名称"),
            _number(field_label("value_yuan")),
            _text(field_label("patent_number")),
            _text(field_label("converted")),
            _date(field_label("achieved_on")),
            _datetime(RECORDED_AT),
        ),
    ),
}
