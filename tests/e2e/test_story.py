"""The whole story in a real browser: an enterprise posts an order and sees live proposals → an expert
finds it under recommended orders and takes it → the enterprise confirms → both sign → the expert logs a
consultation → both confirm delivery → the administrators' dashboard counts change."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Dialog, Page, expect

from app.clock import local_today
from tests.e2e.conftest import OUTPUT, OutsideRequests, log_in

ORDER_TITLE = "加工中心主轴颤振在线监测与抑制"
ORDER_TEXT = (
    "立式加工中心高速铣削时主轴颤振明显，工件表面振纹超差，希望利用伺服电流信号在线识别颤振并自动调整转速。"
)


def funnel_count(page: Page, step: str) -> int:
    """A step's count in the dashboard's match funnel."""
    row = page.get_by_role("table", name="撮合漏斗").get_by_role("row", name=re.compile(step))
    return int(row.get_by_role("cell").first.inner_text().replace(",", ""))


def test_the_whole_story(
    new_context: Callable[..., BrowserContext], outside_requests: OutsideRequests
) -> None:
    admin = new_context().new_page()
    log_in(admin, "admin")
    admin.goto("/admin")
    delivered_before = funnel_count(admin, "已交付")

    enterprise = new_context().new_page()
    log_in(enterprise, "enterprise")
    enterprise.goto("/orders/new")
    enterprise.get_by_label("需求标题").fill(ORDER_TITLE)
    enterprise.get_by_label("需求描述").fill(ORDER_TEXT)
    # the live proposals appear as the engineer types (debounced), with reasons
    expect(enterprise.locator("#live")).to_contain_text("周砚清", timeout=20_000)
    expect(enterprise.locator("#live")).to_contain_text("颤振")
    enterprise.get_by_role("button", name="发布需求").click()
    expect(enterprise.get_by_role("status")).to_have_text("需求已发布，已为您生成匹配建议。")
    order_url = enterprise.url.split("?")[0]

    expert = new_context().new_page()
    log_in(expert, "expert")
    expert.goto("/my/recommended")
    card = expert.get_by_role("article").filter(has_text=ORDER_TITLE)
    expect(card).to_contain_text("推荐理由")
    card.get_by_role("link", name="查看并接单").click()
    expert.get_by_label("给企业的留言").fill("下周可到现场测振")
    expert.get_by_role("button", name="接单", exact=True).click()
    expect(expert.get_by_role("status")).to_have_text("接单成功，等待企业确认。")

    enterprise.goto(order_url)
    enterprise.get_by_role("button", name="确认接单").click()
    expect(enterprise.get_by_role("status")).to_have_text("已确认接单专家，协议草稿已生成。")
    agreement_url = enterprise.url.split("?")[0]
    # typed and submitted at once, without 保存条款 first: the submission carries what was typed
    enterprise.get_by_label("交付成果").fill("颤振在线识别方案与现场验证报告")
    enterprise.get_by_label("合作期限（月）").fill("6")
    enterprise.get_by_label("开始日期").fill(local_today().isoformat())
    enterprise.get_by_role("button", name="提交签署").click()
    expect(enterprise.get_by_role("status")).to_have_text("协议已提交签署。")
    expect(enterprise.locator("dl.terms")).to_contain_text("颤振在线识别方案与现场验证报告")
    enterprise.get_by_role("button", name="签署协议").click()
    expect(enterprise.get_by_role("status")).to_have_text("签署成功。")

    expert.goto(agreement_url)
    expert.get_by_role("button", name="签署协议").click()
    expect(expert.get_by_role("heading", level=1)).to_contain_text("已签署/执行中")
    # China's today: the agreement took effect today in China, which may be tomorrow in UTC
    expert.get_by_label("会商日期").fill(local_today().isoformat())
    expert.get_by_label("参加人员").fill("周砚清；设备科张工")
    expert.get_by_label("会商纪要").fill("现场采集伺服电流，确定颤振敏感频带。")
    expert.get_by_role("button", name="记录会商").click()
    expect(expert.get_by_role("status")).to_have_text("记录已保存。")
    expect(expert.locator("body")).to_contain_text("周砚清；设备科张工")
    expert.get_by_label("对对方的评分（1–5）").select_option("5")
    expert.get_by_role("button", name="确认交付").click()
    expect(expert.get_by_role("status")).to_have_text("已确认交付并评价。")

    enterprise.goto(agreement_url)
    enterprise.get_by_label("对对方的评分（1–5）").select_option("4")
    enterprise.get_by_label("评价").fill("解决了振纹问题")
    enterprise.get_by_role("button", name="确认交付").click()
    expect(enterprise.get_by_role("heading", level=1)).to_contain_text("已交付")

    admin.goto("/admin")
    assert funnel_count(admin, "已交付") == delivered_before + 1
    assert outside_requests == []


def test_a_traditional_search_finds_simplified_content(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context().new_page()
    page.goto("/experts")
    page.get_by_label("按研究方向、成果或关键词搜索（支持繁体）").fill("數控機床顫振")
    page.get_by_role("button", name="搜索").click()
    expect(page.get_by_role("article").first).to_contain_text("周砚清")


def test_a_bad_form_input_shows_its_chinese_error(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context().new_page()
    log_in(page, "enterprise")
    page.goto("/orders/new")
    page.get_by_label("需求描述").fill("只写了描述")
    page.get_by_label("预算下限（元）").fill("-5")
    page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("#title-error")).to_have_text("请填写标题")
    expect(page.locator("#budget_min-error")).to_have_text("不能小于 0")
    expect(page.get_by_label("需求描述")).to_have_value("只写了描述")
    assert "Traceback" not in page.content()


def test_dashboard_screenshots_at_phone_and_desktop_width(
    new_context: Callable[..., BrowserContext], outside_requests: OutsideRequests
) -> None:
    OUTPUT.mkdir(exist_ok=True)
    for name, width in (("phone", 375), ("desktop", 1440)):
        page = new_context(width=width, height=900).new_page()
        log_in(page, "admin")
        page.goto("/admin")
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("管理驾驶舱"))
        page.wait_for_function("window.dashboardChartsReady === true")
        # nothing wider than the screen: the page works at a phone's width
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
        page.screenshot(path=str(OUTPUT / f"dashboard-{name}.png"), full_page=True)
    # printed, the menus, forms and buttons drop away and the figures stay
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="主菜单")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    expect(page.get_by_role("table", name="撮合漏斗")).to_be_visible()
    page.pdf(path=str(OUTPUT / "dashboard-print.pdf"), format="A4")
    assert outside_requests == []


def test_pages_fit_a_phone(
    new_context: Callable[..., BrowserContext], outside_requests: OutsideRequests
) -> None:
    """At 375 px nothing is wider than the screen, for each role's main pages."""
    pages = {
        "enterprise": ["/orders/new", "/my/orders", "/my/agreements", "/inbox"],
        "expert": ["/my/recommended", "/orders", "/my/profile", "/my/reviews"],
        "admin": ["/admin/quality", "/admin/projects", "/admin/transfer", "/admin/studios"],
    }
    for username, paths in pages.items():
        page = new_context(width=375, height=800).new_page()
        log_in(page, username)
        for path in [*paths, "/experts", "/achievements"]:
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 376, f"{path} is {width}px wide for {username}"
    assert outside_requests == []


def test_factor_bars_are_drawn_at_their_value(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context().new_page()
    log_in(page, "enterprise")
    page.goto("/orders/new")
    page.get_by_label("需求标题").fill("焊接变形控制工艺优化")
    page.get_by_label("需求描述").fill("薄板焊接后变形超差，希望优化焊接顺序和夹具，控制焊接变形与残余应力。")
    page.get_by_role("button", name="发布需求").click()
    expect(page.get_by_role("status")).to_have_text("需求已发布，已为您生成匹配建议。")
    page.get_by_text("评分构成").first.click()

    bars = page.locator("details[open] .factors .bar")
    expect(bars.first).to_be_visible()
    drawn = bars.evaluate_all(
        """bars => bars.map(bar => ({
            label: bar.getAttribute("aria-label"),
            share: bar.querySelector("span").getBoundingClientRect().width / bar.getBoundingClientRect().width,
        }))"""
    )
    assert drawn
    for bar in drawn:
        percent = re.search(r"(\d+)%$", bar["label"])
        assert percent, bar
        assert abs(bar["share"] - int(percent.group(1)) / 100) < 0.02, bar


def test_withdrawing_an_order_asks_first(new_context: Callable[..., BrowserContext]) -> None:
    page = new_context().new_page()
    log_in(page, "enterprise")
    page.goto("/orders/new")
    page.get_by_label("需求标题").fill("注塑件缩痕分析")
    page.get_by_label("需求描述").fill("注塑外壳表面出现缩痕，希望分析保压和冷却参数。")
    page.get_by_role("button", name="发布需求").click()
    expect(page.get_by_role("status")).to_have_text("需求已发布，已为您生成匹配建议。")
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="撤回需求").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("已发布")
    assert asked and "确定撤回吗" in asked[0]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="撤回需求").click()
    expect(page.get_by_role("status")).to_have_text("需求已撤回。")
