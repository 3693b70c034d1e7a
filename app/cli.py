"""The ``studio-match`` command: serve, migrate, backfill-search, demo, reindex, remind, worker, eval, audit."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
import uvicorn

from app.config import InsecureSettings, Settings, get_settings
from app.logging import configure_logging

cli = typer.Typer(help="studio-match 产才对接平台的命令行工具。", no_args_is_help=True, add_completion=False)


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="监听地址"),
    port: int = typer.Option(8000, help="监听端口"),
    workers: int = typer.Option(1, min=1, help="工作进程数"),
    reload: bool = typer.Option(False, help="代码变动时自动重启（开发用）"),
) -> None:
    """Serve the API and pages with uvicorn (graceful shutdown on SIGTERM/SIGINT)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    _refuse_unfit(settings)
    uvicorn.run(
        "app.main:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_config=None,
        proxy_headers=True,
        # no "server: uvicorn" banner: it tells a prober which server (and so which bugs) to try
        server_header=False,
        timeout_graceful_shutdown=20,
    )


def _refuse_unfit(settings: Settings) -> None:
    # before uvicorn starts any worker: one clear message, not a traceback per worker
    from app.main import refuse_unfit_settings

    try:
        refuse_unfit_settings(settings)
    except InsecureSettings as refused:
        typer.echo(f"Refusing to start: {refused}", err=True)
        raise typer.Exit(code=2) from None


@cli.command()
def migrate(revision: str = typer.Argument("head", help="目标版本，默认 head")) -> None:
    """Migrate the configured database to ``revision`` with Alembic."""
    from app import migrations

    settings = get_settings()
    configure_logging(settings.log_level, "text")
    migrations.upgrade(settings.database_url, revision)
    typer.echo(f"数据库已迁移到 {revision}。")
    if revision == "head":  # rows written before the search tokens existed get theirs
        _backfill_search(everything=False)


@cli.command("backfill-search")
def backfill_search(
    everything: bool = typer.Option(False, "--all", help="重算所有记录（分词词典或分词器更新后）"),
) -> None:
    """Fill the search tokens of the searchable records that have none (``--all``: of every row)."""
    settings = get_settings()
    configure_logging(settings.log_level, "text")
    _backfill_search(everything=everything)


def _backfill_search(*, everything: bool) -> None:
    from rich.progress import Progress

    from app.db import create_engine, create_sessionmaker
    from app.search import backfill_search_tokens

    settings = get_settings()

    async def run() -> dict[str, int]:
        engine = create_engine(settings.database_url)
        try:
            with Progress(transient=True) as progress:
                task = progress.add_task("生成检索词", total=None)
                async with create_sessionmaker(engine)() as session:
                    return await backfill_search_tokens(
                        session,
                        everything=everything,
                        on_batch=lambda table, rows: progress.update(task, advance=rows, description=table),
                    )
        finally:
            await engine.dispose()

    filled = asyncio.run(run())
    counts = "、".join(f"{LABELS.get(table, table)} {rows} 条" for table, rows in filled.items())
    typer.echo(f"检索词已生成：{counts}。")


LABELS = {
    "orders": "需求",
    "experts": "专家",
    "achievements": "科技成果",
    "studios": "工作室",
    "enterprises": "企业",
}


@cli.command()
def demo() -> None:
    """Load the demo data (idempotent: a second run adds nothing)."""
    from app.demo.loader import load_demo

    settings = get_settings()
    configure_logging(settings.log_level, "text")
    if not settings.is_development:
        # the demo accounts' passwords are printed in the README: never into a production database
        typer.echo(
            "Refusing to load the demo outside development mode: its account passwords are public."
            " Set STUDIO_MATCH_ENVIRONMENT=development for a trial installation.",
            err=True,
        )
        raise typer.Exit(code=2)
    summary = asyncio.run(load_demo(settings.database_url))
    if summary.skipped:
        typer.echo("演示数据已存在，未重复加载。")
    else:
        typer.echo(
            f"已加载演示数据：企业 {summary.enterprises} 家、工作室 {summary.studios} 个、专家 {summary.experts} 位、"
            f"科技成果 {summary.achievements} 项、需求 {summary.orders} 条、账号 {summary.users} 个，"
            f"以及近一年的撮合记录（合作协议 {summary.agreements} 份）。"
            "注意：演示账号的密码是公开的（见 README），仅供试用。"
        )


@cli.command()
def reindex() -> None:
    """Refit the matcher on the whole database and store it as the index version every worker loads."""
    from rich.progress import Progress

    from app.db import create_engine, create_sessionmaker
    from app.proposals import service as proposal_service

    settings = get_settings()
    configure_logging(settings.log_level, "text")

    async def run() -> tuple[str, str] | None:
        engine = create_engine(settings.database_url)
        try:
            with Progress() as progress:
                task = progress.add_task("重建匹配索引", total=6)

                def step(description: str) -> None:
                    progress.update(task, description=description, advance=1)

                state = await proposal_service.build_index_version(create_sessionmaker(engine), step)
                progress.update(task, completed=6, description="完成")
            return (state.matcher.version_, state.label) if state.matcher else None
        finally:
            await engine.dispose()

    built = asyncio.run(run())
    if built is None:
        typer.echo("数据库中还没有专家，未生成索引。")
    else:
        typer.echo(f"匹配索引已重建并存入数据库（版本 {built[0]}，状态 {built[1]}），各进程将自动切换。")


@cli.command()
def remind() -> None:
    """Send the day's reminders: consultations overdue under their agreement's cadence (run it daily)."""
    from app.agreements import service as agreement_service
    from app.db import create_engine, create_sessionmaker

    settings = get_settings()
    configure_logging(settings.log_level, "text")

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                return await agreement_service.remind_overdue_consultations(session)
        finally:
            await engine.dispose()

    overdue = asyncio.run(run())
    typer.echo(f"会商逾期的协议：{overdue} 份，已提醒协议双方（同一到期日只提醒一次）。")


@cli.command()
def worker(
    concurrency: int = typer.Option(1, min=1, help="同时执行的任务数"),
) -> None:
    """Run the job queue's worker (procrastinate, PostgreSQL): queued jobs and the periodic schedules."""
    from app.jobs.worker import queue_conninfo, run_worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        queue_conninfo(settings.database_url)
    except ValueError:
        typer.echo(
            "任务队列需要 PostgreSQL 数据库（STUDIO_MATCH_DATABASE_URL=postgresql+asyncpg://…）；"
            "使用内置 SQLite 数据库时，任务和定时任务在服务进程内运行，无需启动 worker。",
            err=True,
        )
        raise typer.Exit(2) from None
    asyncio.run(run_worker(settings, concurrency=concurrency))


@cli.command("eval")
def evaluate_matcher(
    data: Path = typer.Option(
        "../shared/eval", "--data", help="评测集目录（experts.jsonl、orders.jsonl、qrels.tsv）"
    ),
    as_json: bool = typer.Option(False, "--json", help="以一个 JSON 对象输出结果"),
) -> None:
    """Score the matcher on a labelled set, next to a BM25 baseline run in the same process."""
    from rich.console import Console
    from rich.progress import Progress

    from app.evaluation import evaluate, format_table, load_evaluation_set

    try:
        dataset = load_evaluation_set(data)
    except FileNotFoundError as exc:
        typer.echo(f"找不到评测集文件：{exc.filename}", err=True)
        raise typer.Exit(2) from None
    # the bars go to stderr so that --json output stays one clean object on stdout
    with Progress(console=Console(stderr=True), transient=True) as progress:
        result = evaluate(dataset, progress=progress)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        typer.echo(format_table(result, dataset))


audit_cli = typer.Typer(help="审计日志：校验哈希链，为应用的数据库角色授权。", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")


def _anchor_pair(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isascii() or not seq.isdigit() or len(digest) != 64:
        raise typer.BadParameter("格式应为 序号:哈希，例如 1024:3f5a…（64 位十六进制）")
    return int(seq), digest.lower()


@audit_cli.command("verify")
def audit_verify(
    batch_size: int = typer.Option(1000, min=1, help="每批读取的事件数"),
    expect: list[str] = typer.Option(
        [], "--expect", help="保存在数据库之外的链头（日志中 audit.anchor 的 序号:哈希），可多次给出"
    ),
    anchor: bool = typer.Option(True, "--anchor/--no-anchor", help="校验通过后把当前链头记为锚点"),
) -> None:
    """Walk the audit chain from its first event; exit 1 at the first broken link (or anchor)."""
    from rich.progress import Progress

    from app.audit import service as audit_service
    from app.db import create_engine, create_sessionmaker
    from app.labels import label

    settings = get_settings()
    configure_logging(settings.log_level, "text")
    external = [_anchor_pair(item) for item in expect]

    async def run() -> tuple[audit_service.ChainReport, int | None]:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                total = await audit_service.count_events(session)
                with Progress(transient=True) as progress:
                    task = progress.add_task("校验审计链", total=total)
                    report, recorded = await audit_service.verify_and_anchor(
                        session,
                        batch_size=batch_size,
                        external_anchors=external,
                        on_batch=lambda rows: progress.update(task, advance=rows),
                        anchor=anchor,
                    )
                return report, recorded.seq if recorded else None
        finally:
            await engine.dispose()

    report, anchored = asyncio.run(run())
    if report.broken is not None:
        typer.echo(
            f"审计链已损坏（{label(report.broken.kind)}，{report.broken.kind.value}）：{report.broken.detail}"
            f"此前的 {report.events} 条事件完好。"
        )
        raise typer.Exit(1)
    typer.echo(f"审计链完整：共 {report.events} 条事件，核对锚点 {report.anchors} 个。")
    if report.events:
        typer.echo(f"链头：第 {report.head_seq} 条，哈希 {report.head_hash}")
    if anchored is not None:
        typer.echo("已记录锚点（日志中也有一行 audit.anchor，请把它保存在数据库之外）。")


@audit_cli.command("grants")
def audit_grants(
    role: str = typer.Argument(..., help="应用连接数据库所用的登录角色（须已存在，且不是表的所有者）"),
    apply: bool = typer.Option(
        False, "--apply", help="直接执行（须以表的所有者连接，即运行 migrate 的角色）"
    ),
) -> None:
    """Print (or apply) the GRANTs of the app's PostgreSQL role: no TRUNCATE, no rewriting the audit trail."""
    from sqlalchemy.engine import make_url

    from app.audit import service as audit_service
    from app.audit.roles import valid_role_name
    from app.db import create_engine, create_sessionmaker

    settings = get_settings()
    configure_logging(settings.log_level, "text")
    if make_url(settings.database_url).get_backend_name() != "postgresql":
        typer.echo("数据库角色只适用于 PostgreSQL；内置 SQLite 数据库没有角色与授权。", err=True)
        raise typer.Exit(2)
    if not valid_role_name(role):
        typer.echo("角色名只能包含小写字母、数字和下划线，且不以数字开头。", err=True)
        raise typer.Exit(2)

    async def run() -> list[str]:
        engine = create_engine(settings.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                return await audit_service.database_grants(session, role, apply=apply)
        finally:
            await engine.dispose()

    statements = asyncio.run(run())
    typer.echo("\n".join(f"{statement};" for statement in statements))
    if apply:
        typer.echo(f"-- 已授权给角色 {role}（每次 migrate 之后请再运行一次）。")


def main() -> None:
    """Entry point of the ``studio-match`` console script."""
    cli()
