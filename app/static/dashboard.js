// Charts of the administrators' dashboard (ECharts, served by the app from node_modules, never a CDN).
(function () {
  function start() {
    // the print button's handler lives here: the Content-Security-Policy runs no inline onclick
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    var data = JSON.parse(document.getElementById("dashboard-data").textContent);
    var charts = [];
    function chart(id, option) {
      var node = document.getElementById(id);
      if (!node || typeof echarts === "undefined") { return; }
      var instance = echarts.init(node, null, { renderer: "svg" });
      option.animation = false;
      instance.setOption(option);
      charts.push(instance);
    }
    chart("chart-funnel", {
      tooltip: { trigger: "item" },
      series: [{ type: "funnel", left: "5%", width: "90%", sort: "none", minSize: "10%",
        label: { formatter: "{b}：{c}" },
        data: data.funnel.steps.map(function (s) { return { name: s.label, value: s.orders }; }) }]
    });
    chart("chart-trend", {
      tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 16, top: 40, bottom: 30 },
      xAxis: { type: "category", data: data.trend.map(function (t) { return t.label; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "发布需求", type: "line", data: data.trend.map(function (t) { return t.published_orders; }) },
        { name: "接单", type: "line", data: data.trend.map(function (t) { return t.takings; }) },
        { name: "签约", type: "line", data: data.trend.map(function (t) { return t.agreements_signed; }) },
        { name: "交付", type: "line", data: data.trend.map(function (t) { return t.agreements_delivered; }) }
      ]
    });
    chart("chart-rank", {
      tooltip: { trigger: "axis" }, grid: { left: 48, right: 16, top: 20, bottom: 30 },
      xAxis: { type: "category", data: data.acceptance_by_rank.map(function (r) { return r.label; }) },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{ name: "接受率", type: "bar", data: data.acceptance_by_rank.map(function (r) {
        return r.acceptance_rate === null ? 0 : Math.round(r.acceptance_rate * 1000) / 10; }) }]
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
    window.dashboardChartsReady = true;
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
