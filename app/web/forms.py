"""Turning submitted forms into the same pydantic models the JSON API validates, with Chinese errors
next to each field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import DomainError, validation_problems
from app.labels import field_label

M = TypeVar("M", bound=BaseModel)
_LIST_SEPARATORS = re.compile(r"[,，、;；\n]+")

# what a redirect's ?flash= code says in the page's status line (codes only: no text from the URL is shown)
FLASH_MESSAGES = {
    "saved": "已保存。",
    "terms_incomplete": "条款已保存，但还不完整：提交签署前请补全下方标 * 的项目。",
    "draft_saved": "需求草稿已保存，核对后即可发布。",
    "published": "需求已发布，已为您生成匹配建议。",
    "proposals_refreshed": "匹配建议已按最新的专家信息重新生成。",
    "withdrawn": "需求已撤回。",
    "closed": "需求已关闭。",
    "invited": "邀请已发送，专家答复后会通知您。",
    "taken": "接单成功，等待企业确认。",
    "declined": "已谢绝邀请，感谢您说明原因。",
    "confirmed": "已确认接单专家，协议草稿已生成。",
    "released": "已释放该接单名额。",
    "submitted": "协议已提交签署。",
    "revised": "协议已退回修改。",
    "signed": "签署成功。",
    "logged": "记录已保存。",
    "delivered": "已确认交付并评价。",
    "terminated": "协议已终止。",
    "read": "消息已全部标记为已读。",
    "judged": "判断已记录。",
    "imported": "导入成功，整份文件已全部写入。",
    "catalogued": "已列入共建项目目录。",
    "round_opened": "年度评审已开启，请安排评审专家。",
    "reviewer_assigned": "已安排评审专家，并已通知该专家。",
    "funding_decided": "资助决定已保存。",
    "round_closed": "年度评审已结束，排名和资助决定为最终结果。",
    "assessed": "星级评定已记录。",
    "delisted": "工作室已摘牌。",
    "profile_saved": "档案已保存。",
    "achievement_added": "成果已发布，企业可在成果库中检索到。",
    "achievement_saved": "成果已更新。",
    "review_submitted": "评分已提交。",
    "password_changed": "密码已修改，您在其他设备上的登录已全部退出。",
    "user_created": "账号已创建。",
    "user_disabled": "账号已停用，该账号的所有登录已立即失效。",
    "user_enabled": "账号已启用。",
}


def form_values(
    form: Mapping[str, Any], lists: Iterable[str] = (), optional: Iterable[str] = ()
) -> dict[str, Any]:
    """The submitted values: blank optional fields left out, list fields split on common separators."""
    values: dict[str, Any] = {}
    for key, raw in form.items():
        if key == "csrf_token" or not isinstance(raw, str):
            continue
        text = raw.strip()
        if key in lists:
            values[key] = [item.strip() for item in _LIST_SEPARATORS.split(text) if item.strip()]
        elif text == "" and key in optional:
            continue
        else:
            values[key] = text
    return values


def parse_form(model: type[M], values: Mapping[str, Any]) -> tuple[M | None, dict[str, str]]:
    """Validate ``values`` with ``model``; on failure, a Chinese message per field, and all of them under
    ``__all__``, which every form shows at its top: a field the form does not show (a hidden version, a
    field only the API sends) still gets its message seen."""
    try:
        return model.model_validate(dict(values)), {}
    except ValidationError as invalid:
        problems = validation_problems(invalid.errors())
        errors = {p["field"].split(".")[0]: p["message"] for p in problems}
        return None, errors | {"__all__": f"提交的内容有误：{error_summary(errors)}"}


def error_summary(errors: Mapping[str, str]) -> str:
    """Field messages as one Chinese line (``用户名：不能包含控制字符…``), for a page that shows a form's
    errors in one place rather than next to each field."""
    return "；".join(
        message if field == "__all__" else f"{field_label(field)}：{message}"
        for field, message in errors.items()
    )


def domain_errors(problem: DomainError) -> dict[str, str]:
    """A domain error as field messages (its own ``errors``, else the detail under ``__all__``)."""
    if problem.errors:
        return {e["field"]: e["message"] for e in problem.errors}
    return {"__all__": problem.detail}
