"""Async factories with Chinese defaults: ``await make_order(session, title="数控机床主轴振动诊断")``."""

from __future__ import annotations

import itertools
import weakref
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import object_session

from app.accounts.models import User, UserRole, UserSession
from app.accounts.security import SessionTokens, hash_password, username_key
from app.achievements.models import Achievement, AchievementKind, Maturity
from app.agreements.models import Agreement, AgreementStatus
from app.agreements.service import terms_hash, terms_of
from app.clock import local_today, utcnow
from app.config import DEV_SECRET_KEY
from app.enterprises import uscc
from app.enterprises.models import Enterprise
from app.experts.models import Expert
from app.orders.models import NeedKind, Order, OrderStatus
from app.studios.models import Studio, StudioKind

PASSWORD = "correct-horse-battery"
_sequence = itertools.count(1)
# the login session every factory user gets for apps with the development key (the test settings'):
# made with the user, so it lasts exactly as long as the user does, whatever the test rolls back
_LOGINS: weakref.WeakKeyDictionary[User, str] = weakref.WeakKeyDictionary()
# one fast hash for every factory user: argon2 is deliberately slow
_PASSWORD_HASH = hash_password(PASSWORD)


def valid_credit_code(serial: int | None = None, division: str = "321003") -> str:
    """Return a GB 32100-2015 code with a correct check character, distinct per ``serial``."""
    serial = next(_sequence) if serial is None else serial
    body = "91" + division + f"{serial:09d}"
    return body + uscc.check_character(body)


async def _save(session: AsyncSession, record: Any) -> Any:
    session.add(record)
    await session.flush()
    return record


async def make_enterprise(session: AsyncSession, **overrides: Any) -> Enterprise:
    """An enterprise in 扬州市邗江区."""
    n = next(_sequence)
    values: dict[str, Any] = {
        "name": f"扬州测试精密机械有限公司{n}",
        "credit_code": valid_credit_code(n),
        "province": "江苏省",
        "city": "扬州市",
        "district": "邗江区",
        "town": "杭集镇",
        "industry": "装备制造",
    }
    values.update(overrides)
    enterprise: Enterprise = await _save(session, Enterprise(**values))
    return enterprise


async def make_studio(
    session: AsyncSession, enterprise: Enterprise | None = None, **overrides: Any
) -> Studio:
    """A craftsman studio working on CNC machining."""
    enterprise = enterprise or await make_enterprise(session)
    values: dict[str, Any] = {
        "enterprise_id": enterprise.id,
        "name": f"王建国工匠人才创新工作室{next(_sequence)}",
        "kind": StudioKind.CRAFTSMAN,
        "leader_name": "王建国",
        "leader_honours": ["扬州工匠"],
        "fields": ["数控加工", "精密磨削"],
        "members_count": 12,
        "description": "专注数控机床主轴精度保持与砂轮修整工艺。",
    }
    values.update(overrides)
    studio: Studio = await _save(session, Studio(**values))
    return studio


async def make_expert(session: AsyncSession, **overrides: Any) -> Expert:
    """A professor of mechanical engineering seconded to 杭集镇."""
    values: dict[str, Any] = {
        "name": f"李明{next(_sequence)}",
        "title": "教授",
        "university": "扬州大学",
        "department": "机械工程学院",
        "disciplines": ["机械工程", "数控技术"],
        "cohort_number": 13,
        "cohort_year": 2020,
        "seconded_district": "邗江区",
        "seconded_town": "杭集镇",
        "seconded_role": "副镇长",
        "term_start": date(2020, 7, 1),
        "term_end": date(2027, 6, 30),
        "capacity": 3,
        "phone": "0514-87970001",
        "email": "liming@example.edu.cn",
        "bio": "长期从事数控机床振动诊断与伺服控制研究。",
    }
    values.update(overrides)
    expert: Expert = await _save(session, Expert(**values))
    return expert


async def make_achievement(
    session: AsyncSession, expert: Expert | None = None, **overrides: Any
) -> Achievement:
    """A patent on spindle vibration diagnosis."""
    expert = expert or await make_expert(session)
    values: dict[str, Any] = {
        "expert_id": expert.id,
        "kind": AchievementKind.PATENT,
        "title": "一种数控机床主轴振动在线诊断方法",
        "abstract": "基于振动信号频谱分析识别主轴轴承早期故障。",
        "keywords": ["数控机床", "主轴", "振动诊断"],
        "year": 2021,
        "maturity": Maturity.PILOT,
    }
    values.update(overrides)
    achievement: Achievement = await _save(session, Achievement(**values))
    return achievement


async def make_order(session: AsyncSession, studio: Studio | None = None, **overrides: Any) -> Order:
    """A published order for spindle vibration diagnosis, due in 90 days."""
    studio = studio or await make_studio(session)
    values: dict[str, Any] = {
        "studio_id": studio.id,
        "title": "数控机床主轴振动诊断",
        "description": "主轴转速超过 8000 转后振动明显增大，工件表面出现振纹，希望专家协助诊断原因。",
        "need_kind": NeedKind.TECH_BREAKTHROUGH,
        "fields": ["数控加工"],
        "budget_min": 50_000,
        "budget_max": 100_000,
        "deadline": local_today() + timedelta(days=90),
        "province": "江苏省",
        "city": "扬州市",
        "district": "邗江区",
        "town": "杭集镇",
        "status": OrderStatus.PUBLISHED,
    }
    values.update(overrides)
    order: Order = await _save(session, Order(**values))
    return order


async def make_agreement(
    session: AsyncSession,
    order: Order | None = None,
    expert: Expert | None = None,
    *,
    status: AgreementStatus = AgreementStatus.PENDING_SIGNATURE,
    **overrides: Any,
) -> Agreement:
    """An agreement on ``order`` (a taken one of a new studio when omitted) with ``expert`` (new when
    omitted): spindle-vibration terms, six months from today. Past the draft, its content hash is the
    real hash of its terms, as the workflow would have stamped it.
    """
    order = order or await make_order(session, status=OrderStatus.TAKEN)
    expert = expert or await make_expert(session)
    studio = await session.get(Studio, order.studio_id)
    assert studio is not None
    values: dict[str, Any] = {
        "order_id": order.id,
        "expert_id": expert.id,
        "studio_id": studio.id,
        "enterprise_id": studio.enterprise_id,
        "status": status,
        "goals": "消除主轴振纹",
        "deliverables": "诊断报告与改进方案",
        "duration_months": 6,
        "start_date": local_today(),
    }
    values.update(overrides)
    agreement: Agreement = await _save(session, Agreement(**values))
    if status is not AgreementStatus.DRAFT and "content_hash" not in overrides:
        agreement.content_hash = terms_hash(agreement, terms_of(agreement))
        await session.flush()
    return agreement


async def make_user(
    session: AsyncSession,
    role: UserRole,
    *,
    enterprise: Enterprise | None = None,
    expert: Expert | None = None,
    **overrides: Any,
) -> User:
    """An account of ``role``, bound to ``enterprise`` / ``expert`` (created when needed)."""
    if role is UserRole.ENTERPRISE and enterprise is None:
        enterprise = await make_enterprise(session)
    if role is UserRole.EXPERT and expert is None:
        expert = await make_expert(session)
    values: dict[str, Any] = {
        "username": f"user{next(_sequence)}",
        "password_hash": _PASSWORD_HASH,
        "display_name": "测试用户",
        "role": role,
        "enterprise_id": enterprise.id if role is UserRole.ENTERPRISE and enterprise else None,
        "expert_id": expert.id if role is UserRole.EXPERT and expert else None,
    }
    values.update(overrides)
    values.setdefault("username_key", username_key(values["username"]))
    user: User = await _save(session, User(**values))
    row, token = login_session(user, DEV_SECRET_KEY, expires_at=utcnow() + timedelta(days=1))
    await _save(session, row)
    _LOGINS[user] = token
    return user


def login_session(user: User, secret: str, **overrides: Any) -> tuple[UserSession, str]:
    """A new login session of ``user`` (valid for an hour) and its token, for an app with ``secret``."""
    token, token_hash = SessionTokens(secret).new()
    now = utcnow()
    values: dict[str, Any] = {
        "user_id": user.id,
        "token_hash": token_hash,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": now + timedelta(hours=1),
    }
    values.update(overrides)
    return UserSession(**values), token


def bearer(user: User, secret: str, session: AsyncSession | None = None) -> dict[str, str]:
    """Authorization header of a login session of ``user`` for an app with ``secret``.

    A factory user has one already for the development key (made and flushed with the user). Otherwise,
    or when ``session`` is given, a new session row is added to ``session`` (by default the one
    ``user`` was loaded in) and written by its next flush or commit.
    """
    if session is None and secret == DEV_SECRET_KEY and user in _LOGINS:
        return {"Authorization": f"Bearer {_LOGINS[user]}"}
    target = session.sync_session if session is not None else object_session(user)
    if target is None:
        raise ValueError("the user is detached: pass a session to add its login session to")
    row, token = login_session(user, secret)
    target.add(row)
    return {"Authorization": f"Bearer {token}"}
