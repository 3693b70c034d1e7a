"""Reviewers read what they score (issue 12, bug 8): an expert assigned to review a co-built project
opens its agreement (terms, signatures, work logs) read only; other experts still find nothing."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User, UserRole
from app.accounts.security import Actor
from app.agreements.models import AgreementStatus
from app.clock import local_today
from app.projects import service as project_service
from tests.factories import make_agreement, make_expert, make_user
from tests.problems import Auth
from tests.web.test_pages import logged_in


async def test_an_assigned_reviewer_reads_the_projects_agreement(
    client: AsyncClient, session: AsyncSession, auth: Auth, admin: User
) -> None:
    project = await make_agreement(session, status=AgreementStatus.IN_PROGRESS, goals="消除焊接变形")
    reviewer = await make_expert(session, name="评审专家甲")
    reviewer_user = await make_user(session, UserRole.EXPERT, expert=reviewer)
    stranger_user = await make_user(session, UserRole.EXPERT)
    admin_actor = Actor.of(admin)
    year = local_today().year
    await project_service.catalogue_agreement(session, admin_actor, project.id)
    await project_service.open_round(session, admin_actor, year)
    await project_service.assign_reviewer(session, admin_actor, year, project.id, reviewer.id)

    api = await client.get(f"/api/v1/agreements/{project.id}", headers=auth(reviewer_user))
    assert api.status_code == 200 and api.json()["goals"] == "消除焊接变形"
    assert (
        await client.get(f"/api/v1/agreements/{project.id}/consultations", headers=auth(reviewer_user))
    ).status_code == 200
    refused = await client.post(
        f"/api/v1/agreements/{project.id}/consultations",
        json={"kind": "guidance", "held_on": local_today().isoformat(), "participants": "评审专家甲"},
        headers=auth(reviewer_user),
    )
    assert refused.status_code in (403, 404)  # reading is not taking part
    assert (
        await client.get(f"/api/v1/agreements/{project.id}", headers=auth(stranger_user))
    ).status_code == 404

    await logged_in(client, reviewer_user)
    page = await client.get(f"/agreements/{project.id}")
    assert page.status_code == 200
    assert "消除焊接变形" in page.text and "会商记录" in page.text
    assert "记录会商</button>" not in page.text and "终止协议</button>" not in page.text
