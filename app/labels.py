"""Chinese labels for enum values and field names: the only place user-facing names of codes live."""

from __future__ import annotations

from enum import StrEnum

from app.accounts.models import UserRole
from app.achievements.models import AchievementKind, Maturity
from app.agreements.models import (
    AgreementStatus,
    ConsultationCadence,
    ConsultationKind,
    OutcomeKind,
    ProjectReviewStatus,
    TrainingKind,
)
from app.orders.models import NeedKind, OrderStatus
from app.proposals.models import ProposalStatus
from app.studios.models import StudioKind, StudioStatus

ENUM_LABELS: dict[StrEnum, str] = {
    StudioKind.MODEL_WORKER: "劳模创新工作室",
    StudioKind.CRAFTSMAN: "工匠人才创新工作室",
    StudioKind.WORKER: "职工创新工作室",
    StudioStatus.ACTIVE: "在册",
    StudioStatus.DELISTED: "已摘牌",
    AchievementKind.PATENT: "专利",
    AchievementKind.PAPER: "论文",
    AchievementKind.SOFTWARE: "软件著作权",
    AchievementKind.PROCESS: "工艺",
    AchievementKind.PROTOTYPE: "样机",
    AchievementKind.STANDARD: "标准",
    Maturity.LAB: "实验室",
    Maturity.PILOT: "中试",
    Maturity.PRODUCTION: "量产",
    NeedKind.TECH_BREAKTHROUGH: "技术攻关",
    NeedKind.PROCESS_IMPROVEMENT: "工艺改进",
    NeedKind.TECH_TRANSFER: "成果转化",
    NeedKind.TRAINING: "人才培训",
    NeedKind.CONSULTING: "咨询诊断",
    OrderStatus.DRAFT: "草稿",
    OrderStatus.PUBLISHED: "已发布",
    OrderStatus.TAKEN: "已接单",
    OrderStatus.CLOSED: "已关闭",
    OrderStatus.WITHDRAWN: "已撤回",
    ProposalStatus.PROPOSED: "已推荐",
    ProposalStatus.INVITED: "已邀请",
    ProposalStatus.ACCEPTED: "已接受",
    ProposalStatus.DECLINED: "已婉拒",
    ProposalStatus.EXPIRED: "已失效",
    AgreementStatus.DRAFT: "草稿",
    AgreementStatus.PENDING_SIGNATURE: "待签署",
    AgreementStatus.IN_PROGRESS: "已签署/执行中",
    AgreementStatus.DELIVERED: "已交付",
    AgreementStatus.TERMINATED: "已终止",
    ConsultationCadence.WEEKLY: "每周",
    ConsultationCadence.BIWEEKLY: "每两周",
    ConsultationCadence.MONTHLY: "每月",
    ConsultationCadence.QUARTERLY: "每季度",
    ConsultationKind.GUIDANCE: "技术指导",
    ConsultationKind.DIAGNOSIS: "咨询会诊",
    ConsultationKind.EXCHANGE: "技术交流",
    TrainingKind.APPRENTICESHIP: "新型学徒制",
    TrainingKind.LECTURER_GROUP: "专家讲师团",
    TrainingKind.MENTORING: "师带徒",
    OutcomeKind.INNOVATION: "技术革新",
    OutcomeKind.INVENTION_PATENT: "发明专利",
    OutcomeKind.NEW_PRODUCT: "新产品",
    OutcomeKind.CONVERSION: "成果转化",
    ProjectReviewStatus.ASSIGNED: "待评审",
    ProjectReviewStatus.SUBMITTED: "已评审",
    UserRole.ENTERPRISE: "企业用户",
    UserRole.EXPERT: "专家",
    UserRole.ADMIN: "管理员",
}

FIELD_LABELS: dict[str, str] = {
    "name": "名称",
    "credit_code": "统一社会信用代码",
    "province": "省份",
    "city": "城市",
    "district": "区县",
    "town": "乡镇/街道",
    "industry": "所属行业",
    "enterprise_id": "所属企业",
    "studio_id": "所属工作室",
    "expert_id": "所属专家",
    "kind": "类型",
    "leader_name": "领衔人",
    "leader_honours": "领衔人荣誉",
    "fields": "领域",
    "members_count": "成员人数",
    "star_rating": "星级",
    "star_assessed_on": "星级评定日期",
    "star_score": "评定得分",
    "alliance": "创新联盟",
    "sub_alliance": "分联盟",
    "founded_year": "成立年份",
    "description": "描述",
    "title": "标题",
    "university": "派出单位",
    "department": "院系/研究所",
    "disciplines": "学科方向",
    "cohort_number": "批次",
    "cohort_year": "选派年份",
    "seconded_district": "挂职区县",
    "seconded_town": "挂职乡镇",
    "seconded_role": "挂职职务",
    "term_start": "挂职开始日期",
    "term_end": "挂职结束日期",
    "capacity": "可承接协议数",
    "phone": "电话",
    "email": "电子邮箱",
    "bio": "个人简介",
    "abstract": "摘要",
    "keywords": "关键词",
    "year": "年份",
    "maturity": "成熟度",
    "need_kind": "需求类型",
    "budget_min": "预算下限",
    "budget_max": "预算上限",
    "deadline": "截止日期",
    "slots": "名额",
    "status": "状态",
    "page": "页码",
    "page_size": "每页条数",
    "sort": "排序",
    "q": "关键字",
    "cohort": "批次",
    "discipline": "学科方向",
    "keyword": "关键词",
    "field": "领域",
    "version": "版本号",
    "display_name": "显示名称",
    "role": "角色",
    "username": "用户名",
    "password": "密码",
    "body": "请求体",
}


def label(value: StrEnum) -> str:
    """Return the Chinese label of an enum value (falls back to the raw value)."""
    return ENUM_LABELS.get(value, str(value))


def field_label(field: str) -> str:
    """Return the Chinese name of a field path such as ``title`` or ``leader_honours.0``."""
    head = field.split(".")[0]
    return FIELD_LABELS.get(head, field)
