"""The administrators' dashboard (管理驾驶舱): yearly KPIs, the match funnel and match quality, coverage gaps."""
