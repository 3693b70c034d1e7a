"""Generated Chinese records for the HTTP benchmark: experts, achievements, enterprises, studios, orders.

Written for this project (not taken from ``../shared/eval``): a small vocabulary per discipline —
the objects a studio works on, the techniques an expert knows, the problems an order describes —
combined by templates into titles, abstracts, bios and order descriptions. Deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Discipline:
    """One discipline's words: what is worked on, how, what goes wrong, in which industry."""

    name: str
    department: str
    objects: tuple[str, ...]
    techniques: tuple[str, ...]
    problems: tuple[str, ...]
    industries: tuple[str, ...]


DISCIPLINES = (
    Discipline(
        "机械制造及其自动化",
        "机械工程学院",
        ("数控机床主轴", "滚珠丝杠进给系统", "精密减速器", "液压缸", "齿轮箱", "五轴加工中心"),
        ("振动诊断", "热误差补偿", "伺服参数整定", "精度保持", "预测性维护", "动平衡", "模态分析"),
        ("加工振纹明显", "定位精度衰减快", "温升后尺寸漂移", "异响频发", "批量件一致性差"),
        ("机床附件", "精密零部件", "工程机械"),
    ),
    Discipline(
        "材料成型及控制工程",
        "材料科学与工程学院",
        ("铝合金压铸件", "汽车覆盖件冲压模", "锻造曲轴", "注塑外壳", "铸铁缸体"),
        ("模流分析", "真空压铸", "局部挤压", "随形冷却", "热处理工艺", "缺陷检测", "回弹补偿"),
        ("气孔缩松较多", "开裂率偏高", "尺寸超差", "模具寿命短", "表面缩痕明显"),
        ("汽车零部件", "家电", "模具制造"),
    ),
    Discipline(
        "焊接技术与工程",
        "材料科学与工程学院",
        ("船体分段", "不锈钢储罐", "电池包箱体", "钢结构桁架", "压力容器筒体"),
        ("激光焊接", "搅拌摩擦焊", "焊接变形控制", "焊缝跟踪", "超声波探伤", "焊接机器人离线编程"),
        ("焊接变形大", "焊缝气孔超标", "返修率高", "熔深不稳定", "焊工技能参差"),
        ("船舶制造", "新能源汽车", "压力容器"),
    ),
    Discipline(
        "电气工程",
        "电气与能源动力工程学院",
        ("光伏逆变器", "变频驱动器", "开关柜", "永磁同步电机", "储能变流器"),
        ("谐波抑制", "绝缘老化评估", "电磁兼容设计", "故障录波分析", "无功补偿", "热管理设计"),
        ("谐波超标", "局部放电频繁", "温升过高", "电磁干扰导致误动作", "效率达不到设计值"),
        ("输配电设备", "新能源", "电机制造"),
    ),
    Discipline(
        "控制科学与工程",
        "信息工程学院",
        ("AGV小车", "立体仓库", "灌装生产线", "工业机器人工作站", "分拣输送线"),
        ("路径规划", "PLC程序优化", "机器视觉定位", "运动控制", "数字孪生", "调度算法"),
        ("节拍跟不上", "定位偏差大", "频繁急停", "多车调度冲突", "换型时间长"),
        ("智能物流", "食品包装", "电子装配"),
    ),
    Discipline(
        "计算机应用技术",
        "信息工程学院",
        ("MES系统", "设备数据采集平台", "质量追溯系统", "仓储管理系统", "能耗监测平台"),
        ("数据治理", "边缘计算", "工业物联网", "知识图谱", "缺陷图像识别", "时序数据分析"),
        ("数据孤岛严重", "报表靠人工汇总", "追溯链条断裂", "系统响应慢", "设备联网率低"),
        ("离散制造", "纺织服装", "化工"),
    ),
    Discipline(
        "食品科学与工程",
        "食品科学与工程学院",
        ("酱腌菜", "速冻面点", "低温肉制品", "淮扬菜预制菜", "植物蛋白饮料"),
        ("杀菌工艺优化", "货架期预测", "风味保持", "低盐保藏", "冷链品控", "配方标准化"),
        ("货架期偏短", "复热后口感变差", "批次风味不一致", "微生物指标波动", "褐变明显"),
        ("食品加工", "餐饮连锁", "农产品深加工"),
    ),
    Discipline(
        "环境科学与工程",
        "环境科学与工程学院",
        ("印染废水", "电镀废水", "挥发性有机物废气", "污泥", "园区雨水管网"),
        ("高级氧化", "膜分离", "生物脱氮", "在线监测", "资源化利用", "催化燃烧"),
        ("COD排放不稳定", "总氮超标", "运行成本过高", "异味投诉多", "污泥处置费用高"),
        ("印染", "表面处理", "化工园区"),
    ),
    Discipline(
        "土木工程",
        "建筑科学与工程学院",
        ("装配式叠合板", "大体积混凝土底板", "钢结构厂房", "桥梁支座", "地下连续墙"),
        ("裂缝控制", "配合比优化", "BIM深化设计", "结构健康监测", "温控养护", "节点连接设计"),
        ("早期裂缝多", "拼缝渗漏", "施工工期紧", "吊装精度不足", "沉降观测数据异常"),
        ("建筑施工", "建材", "市政工程"),
    ),
    Discipline(
        "高分子化学与物理",
        "化学化工学院",
        ("PLA可降解餐具", "电缆护套料", "尼龙齿轮", "牙刷丝", "改性PP保险杠"),
        ("共混改性", "流变性能测试", "阻燃配方", "增韧改性", "挤出工艺", "老化性能评价"),
        ("低温脆断", "挤出表面粗糙", "阻燃等级达不到V0", "制品翘曲", "耐热性不足"),
        ("塑料制品", "电线电缆", "日化用品"),
    ),
    Discipline(
        "生物医学工程",
        "医学院",
        ("医用导管", "康复训练器械", "体外诊断试剂盒", "医用敷料", "手术器械"),
        ("生物相容性评价", "表面改性", "注册检验", "临床评价", "无菌包装验证", "人因工程"),
        ("注册检验多次不通过", "产品稳定性差", "灭菌后性能下降", "用户操作失误多", "批间差大"),
        ("医疗器械", "生物医药", "康复辅具"),
    ),
    Discipline(
        "船舶与海洋工程",
        "船舶与海洋工程学院",
        ("散货船分段", "游艇玻璃钢船体", "船用管系", "海工平台甲板", "内河集装箱船"),
        ("精度造船", "火工矫正", "振动噪声控制", "管系预制", "舾装工艺", "结构强度评估"),
        ("分段合拢余量大", "舱室噪声超标", "管系返工多", "建造周期长", "焊后变形难矫正"),
        ("造船", "海洋装备", "港口机械"),
    ),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹"
GIVEN = "建国明华立新志强海燕秀英文杰晓东春雷振宇思远嘉禾子涵浩然一鸣雨桐俊峰宏伟静怡丽娟永康学军德胜晨曦"
TITLES = ("教授", "副教授", "研究员", "高级工程师", "副研究员", "讲师")
UNIVERSITIES = (
    "扬州大学",
    "江苏大学",
    "南京理工大学",
    "东南大学",
    "河海大学",
    "南京工业大学",
    "江南大学",
    "南京航空航天大学",
    "江苏科技大学",
    "常州大学",
)
# 扬州市's districts and a few towns or streets in each
DISTRICTS: dict[str, tuple[str, ...]] = {
    "广陵区": ("湾头镇", "头桥镇", "沙头镇", "李典镇"),
    "邗江区": ("杭集镇", "方巷镇", "公道镇", "甘泉街道", "瓜洲镇"),
    "江都区": ("仙女镇", "小纪镇", "武坚镇", "大桥镇", "邵伯镇"),
    "仪征市": ("真州镇", "新集镇", "月塘镇", "刘集镇"),
    "高邮市": ("高邮镇", "汤庄镇", "界首镇", "送桥镇"),
    "宝应县": ("安宜镇", "氾水镇", "曹甸镇", "射阳湖镇"),
}
ROLES = ("科技副镇长", "科技副总", "产业教授", "技术顾问")
STUDIO_KINDS = ("model_worker", "craftsman", "worker")
STUDIO_SUFFIX = {
    "model_worker": "劳模创新工作室",
    "craftsman": "工匠人才创新工作室",
    "worker": "职工创新工作室",
}
ACHIEVEMENT_KINDS = ("patent", "paper", "software", "process", "prototype", "standard")
MATURITIES = ("lab", "pilot", "production")
NEED_KINDS = ("tech_breakthrough", "process_improvement", "tech_transfer", "training", "consulting")
COMPANY_WORDS = (
    "精工",
    "恒达",
    "华瑞",
    "中宇",
    "新源",
    "联创",
    "凯盛",
    "博远",
    "宏泰",
    "汇通",
    "金鼎",
    "天润",
)


class Corpus:
    """Generates the benchmark's records from a seeded random source."""

    def __init__(self, seed: int = 10) -> None:
        self.random = random.Random(seed)

    def _pick(self, items: tuple[str, ...] | str) -> str:
        return self.random.choice(items)

    def person(self) -> str:
        """A Chinese personal name."""
        return self._pick(SURNAMES) + "".join(self._pick(GIVEN) for _ in range(self.random.choice((1, 2))))

    def place(self) -> tuple[str, str]:
        """A district and a town in it."""
        district = self._pick(tuple(DISTRICTS))
        return district, self._pick(DISTRICTS[district])

    def discipline(self) -> Discipline:
        """A discipline, the engineering ones more often than the rest."""
        return self.random.choice(DISCIPLINES)

    def expert(self, expert_id: int) -> tuple[dict[str, Any], Discipline]:
        """An expert's row (``experts`` table) and their main discipline."""
        main = self.discipline()
        second = self.discipline()
        disciplines = (
            [main.name] if second is main or self.random.random() < 0.5 else [main.name, second.name]
        )
        district, town = self.place()
        cohort = self.random.randint(10, 15)
        start = date(2006 + cohort, 7, 1)
        name = self.person()
        obj, technique, other = (
            self._pick(main.objects),
            self._pick(main.techniques),
            self._pick(main.techniques),
        )
        bio = (
            f"长期从事{obj}{technique}研究，主持省部级以上科研项目{self.random.randint(1, 6)}项。"
            f"近年与扬州{self._pick(main.industries)}企业合作，开展{other}与{self._pick(main.techniques)}技术攻关，"
            f"帮助企业解决{self._pick(main.problems)}等问题。"
        )
        row = {
            "id": expert_id,
            "name": name,
            "title": self._pick(TITLES),
            "university": self._pick(UNIVERSITIES),
            "department": main.department,
            "disciplines": disciplines,
            "cohort_number": cohort,
            "cohort_year": 2006 + cohort,
            "seconded_district": district,
            "seconded_town": town,
            "seconded_role": self._pick(ROLES),
            "term_start": start,
            "term_end": start + timedelta(days=365 * 2 + self.random.randint(0, 3) * 365),
            "capacity": self.random.randint(2, 5),
            "phone": f"0514-8797{expert_id % 10000:04d}",
            "email": f"expert{expert_id}@example.edu.cn",
            "bio": bio,
        }
        return row, main

    def achievement(self, expert_id: int, discipline: Discipline) -> dict[str, Any]:
        """One of an expert's achievements (``achievements`` table)."""
        kind = self._pick(ACHIEVEMENT_KINDS)
        obj = self._pick(discipline.objects)
        technique, method = self._pick(discipline.techniques), self._pick(discipline.techniques)
        problem = self._pick(discipline.problems)
        title = {
            "patent": f"一种基于{method}的{obj}{technique}方法",
            "paper": f"{obj}{technique}关键技术研究",
            "software": f"{obj}{technique}软件V{self.random.randint(1, 4)}.0",
            "process": f"{obj}{technique}工艺",
            "prototype": f"{obj}{technique}样机",
            "standard": f"{obj}{technique}技术规范",
        }[kind]
        gain = self.random.randint(8, 45)
        abstract = (
            f"针对{obj}{problem}的问题，提出结合{method}与{technique}的解决方案，"
            f"建立了{self._pick(discipline.techniques)}模型并完成工程验证。在{self._pick(discipline.industries)}企业应用后，"
            f"合格率提高{gain}%，单件成本下降{self.random.randint(5, 30)}%。"
        )
        keywords = list(dict.fromkeys([obj, technique, method, self._pick(discipline.techniques)]))
        return {
            "expert_id": expert_id,
            "kind": kind,
            "title": title,
            "abstract": abstract,
            "keywords": keywords,
            "year": self.random.randint(2015, 2026),
            "maturity": self._pick(MATURITIES),
        }

    def enterprise(self, enterprise_id: int, check_character: Any) -> dict[str, Any]:
        """An enterprise with a valid unified social credit code."""
        district, town = self.place()
        discipline = self.discipline()
        industry = self._pick(discipline.industries)
        body = "91" + "321003" + f"{enterprise_id:09d}"
        return {
            "id": enterprise_id,
            "name": f"扬州{self._pick(COMPANY_WORDS)}{industry}有限公司{enterprise_id}",
            "credit_code": body + check_character(body),
            "province": "江苏省",
            "city": "扬州市",
            "district": district,
            "town": town,
            "industry": industry,
        }

    def studio(self, studio_id: int, enterprise_id: int) -> dict[str, Any]:
        """A studio of an enterprise."""
        discipline = self.discipline()
        kind = self._pick(STUDIO_KINDS)
        leader = self.person()
        return {
            "id": studio_id,
            "enterprise_id": enterprise_id,
            "name": f"{leader}{STUDIO_SUFFIX[kind]}{studio_id}",
            "kind": kind,
            "status": "active",
            "leader_name": leader,
            "leader_honours": ["扬州工匠"] if kind == "craftsman" else ["江苏省劳动模范"],
            "fields": list(dict.fromkeys(self.random.sample(discipline.techniques, 2))),
            "members_count": self.random.randint(5, 40),
            "star_rating": self.random.randint(0, 3),
            "founded_year": self.random.randint(2010, 2024),
            "description": f"工作室围绕{self._pick(discipline.objects)}开展{self._pick(discipline.techniques)}攻关。",
        }

    def order(self, order_id: int, studio_id: int, status: str, now: datetime) -> dict[str, Any]:
        """An order of a studio, in ``status``, created within the past year."""
        discipline = self.discipline()
        obj, problem = self._pick(discipline.objects), self._pick(discipline.problems)
        technique, other = self._pick(discipline.techniques), self._pick(discipline.techniques)
        district, town = self.place()
        rate = self.random.randint(80, 95)
        title = self.random.choice((f"{obj}{problem}", f"{obj}{technique}升级", f"解决{obj}{problem}的难题"))
        description = (
            f"我们的{obj}目前{problem}，一次合格率只有{rate}%，已经影响交付。"
            f"想请懂{technique}和{other}的专家到现场帮我们分析原因、给出改进方案，"
            f"目标合格率提到{min(99, rate + self.random.randint(3, 10))}%以上，并培训班组骨干。"
        )
        created = now - timedelta(days=self.random.randint(1, 365), minutes=self.random.randint(0, 1440))
        budget_min = self.random.choice((20_000, 50_000, 80_000, 100_000))
        return {
            "id": order_id,
            "studio_id": studio_id,
            "title": title,
            "description": description,
            "need_kind": self._pick(NEED_KINDS),
            "fields": [technique, other] if technique != other else [technique],
            "budget_min": budget_min,
            "budget_max": budget_min * self.random.choice((1, 2, 3)),
            "deadline": (now + timedelta(days=self.random.randint(30, 240))).date(),
            "province": "江苏省",
            "city": "扬州市",
            "district": district,
            "town": town,
            "slots": self.random.choice((1, 1, 1, 2, 3)),
            "status": status,
            "published_at": created + timedelta(hours=2) if status != "draft" else None,
            "created_at": created,
            "updated_at": created,
        }

    def search_words(self) -> list[str]:
        """Words an enterprise user or an expert would type into the order search."""
        return sorted({w for d in DISCIPLINES for w in d.objects + d.techniques})


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)
