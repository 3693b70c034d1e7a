"""A small hand-written corpus for the matching tests: twelve experts in distinct fields, ten orders.

Every expert is seconded to a district of 扬州; orders name the expert who should solve them in
``BEST_EXPERT``. The texts are our own and deliberately short, so a failing ranking is easy to read.
"""

from __future__ import annotations

from datetime import date

from matching import AchievementText, ExpertProfile, OrderText

# the date every test ranks on, so that term checks never depend on the calendar
TODAY = date(2025, 6, 1)
PAST_TERM = date(2024, 12, 31)
FUTURE_TERM = date(2027, 6, 30)

CNC = ExpertProfile(
    id=1,
    name="张伟",
    disciplines=("机械工程", "振动与故障诊断"),
    achievements=(
        AchievementText(
            title="数控机床主轴振动在线监测与故障诊断系统",
            abstract="采集主轴加速度信号，基于频谱分析识别轴承磨损与刀具颤振，已在CNC加工中心应用。",
            keywords=("数控机床", "主轴振动", "故障诊断", "颤振"),
            maturity="production",
        ),
        AchievementText(
            title="五轴加工中心颤振抑制工艺",
            abstract="通过切削参数优化和阻尼刀柄抑制薄壁件铣削颤振，改善表面振纹。",
            keywords=("颤振抑制", "加工中心", "振纹"),
            maturity="pilot",
        ),
    ),
    district="邗江区",
    town="瓜洲镇",
    capacity=3,
    active_agreements=1,
)

WELDING = ExpertProfile(
    id=2,
    name="李娜",
    disciplines=("船舶与海洋工程", "焊接"),
    achievements=(
        AchievementText(
            title="船体分段焊接变形预测与控制",
            abstract="采用热弹塑性有限元方法预测薄板焊接变形，提出反变形与火工矫正工艺，适用于Q235及高强度船板。",
            keywords=("焊接变形", "船体分段", "Q235", "火工矫正"),
            maturity="production",
        ),
        AchievementText(
            title="船用薄板激光焊接工艺",
            abstract="以激光-电弧复合焊降低热输入，减少甲板薄板失稳变形。",
            keywords=("激光焊接", "薄板"),
            maturity="pilot",
        ),
    ),
    district="江都区",
    town="仙女镇",
    term_end=FUTURE_TERM,
)

PACKAGING = ExpertProfile(
    id=3,
    name="王磊",
    disciplines=("电子科学与技术", "微电子封装"),
    achievements=(
        AchievementText(
            title="集成电路先进封装翘曲控制",
            abstract="针对倒装芯片与扇出型封装，分析塑封料热膨胀失配导致的翘曲，优化回流焊温度曲线。",
            keywords=("集成电路封装", "翘曲", "倒装芯片", "回流焊"),
            maturity="pilot",
        ),
        AchievementText(
            title="芯片引线键合可靠性测试",
            abstract="建立金线与铜线键合的拉力、剪切和高温老化测试规范。",
            keywords=("引线键合", "可靠性测试"),
            maturity="production",
        ),
    ),
    district="仪征市",
    town="真州镇",
)

MRI = ExpertProfile(
    id=4,
    name="刘洋",
    disciplines=("电气工程", "医学影像设备"),
    achievements=(
        AchievementText(
            title="1.5T无液氦超导磁体设计",
            abstract="采用传导冷却替代液氦浸泡，研制1.5T磁共振成像（MRI）超导磁体，降低运维成本。",
            keywords=("无液氦", "超导磁体", "MRI", "1.5T"),
            maturity="pilot",
        ),
        AchievementText(
            title="磁共振梯度线圈噪声抑制",
            abstract="通过线圈结构优化与主动降噪减少扫描噪声。",
            keywords=("梯度线圈", "噪声抑制"),
            maturity="lab",
        ),
    ),
    district="邗江区",
    town="方巷镇",
)

CONCRETE = ExpertProfile(
    id=5,
    name="陈静",
    disciplines=("土木工程", "建筑信息模型"),
    achievements=(
        AchievementText(
            title="超高层建筑混凝土超高压泵送技术",
            abstract="研究高强混凝土可泵性与管道压力损失，实现千米级泵送。",
            keywords=("超高层", "混凝土泵送", "超高压泵送"),
            maturity="production",
        ),
        AchievementText(
            title="基于BIM的施工进度与碰撞检查",
            abstract="以BIM模型联动施工进度计划，自动发现管线碰撞。",
            keywords=("BIM", "碰撞检查", "施工进度"),
            maturity="production",
        ),
    ),
    district="广陵区",
    town="头桥镇",
)

CUISINE = ExpertProfile(
    id=6,
    name="杨帆",
    disciplines=("烹饪与营养", "餐饮管理"),
    achievements=(
        AchievementText(
            title="淮扬菜标准化烹饪工艺与厨师培训",
            abstract="整理狮子头、大煮干丝等淮扬名菜的标准配方与火候，编写厨师培训教材。",
            keywords=("淮扬菜", "烹饪培训", "标准化菜谱"),
            maturity="production",
        ),
        AchievementText(
            title="扬州早茶点心速冻保鲜",
            abstract="优化包子、烧卖的速冻工艺，延长点心货架期。",
            keywords=("扬州早茶", "速冻点心"),
            maturity="pilot",
        ),
    ),
    district="广陵区",
    town="沙头镇",
    capacity=2,
    active_agreements=2,  # fully booked
)

WATER = ExpertProfile(
    id=7,
    name="赵敏",
    disciplines=("环境科学与工程", "水污染控制"),
    achievements=(
        AchievementText(
            title="水质在线监测COD快速测定仪",
            abstract="采用紫外吸收光谱法测定化学需氧量（COD）与氨氮，实现污水处理厂出水在线监测。",
            keywords=("水质在线监测", "COD", "氨氮"),
            maturity="production",
        ),
        AchievementText(
            title="河道黑臭水体生态修复",
            abstract="以曝气和人工湿地组合工艺修复城市河道。",
            keywords=("黑臭水体", "生态修复"),
            maturity="pilot",
        ),
    ),
    district="高邮市",
    town="界首镇",
)

TOOTHBRUSH = ExpertProfile(
    id=8,
    name="周强",
    disciplines=("高分子材料", "注塑成型"),
    achievements=(
        AchievementText(
            title="牙刷刷丝植毛与刷柄双色注塑工艺",
            abstract="解决牙刷刷柄缩痕、飞边和刷丝脱落，优化注塑温度与保压时间。",
            keywords=("牙刷", "刷丝", "双色注塑", "缩痕"),
            maturity="production",
        ),
        AchievementText(
            title="PBT刷丝磨圆率检测",
            abstract="以显微图像自动评定刷丝端部磨圆率。",
            keywords=("PBT刷丝", "磨圆率"),
            maturity="pilot",
        ),
    ),
    district="广陵区",
    town="杭集镇",
    capacity=2,
    active_agreements=0,
)

PRINTING = ExpertProfile(
    id=9,
    name="吴昊",
    disciplines=("机械工程", "增材制造"),
    achievements=(
        AchievementText(
            title="随形冷却水道模具的金属3D打印",
            abstract="采用选区激光熔化打印模具镶件，随形冷却水道缩短注塑周期。",
            keywords=("3D打印", "随形冷却", "模具镶件", "选区激光熔化"),
            maturity="pilot",
        ),
        AchievementText(
            title="模具钢激光熔覆修复",
            abstract="对磨损的压铸模具进行激光熔覆再制造。",
            keywords=("激光熔覆", "模具修复"),
            maturity="production",
        ),
    ),
    district="江都区",
    town="仙女镇",
)

LABOUR_LAW = ExpertProfile(
    id=10,
    name="郑雪",
    disciplines=("法学", "劳动法"),
    achievements=(
        AchievementText(
            title="中小企业劳动合同风险防控指引",
            abstract="梳理劳动合同订立、试用期、竞业限制与经济补偿的常见纠纷。",
            keywords=("劳动合同", "竞业限制", "经济补偿"),
            maturity="production",
        ),
        AchievementText(
            title="劳动争议仲裁案例分析",
            abstract="汇编制造业劳动争议仲裁的典型案例。",
            keywords=("劳动争议", "仲裁"),
            maturity="production",
        ),
    ),
    district="宝应县",
    town="氾水镇",
    term_end=PAST_TERM,  # secondment over
)

NETWORK = ExpertProfile(
    id=11,
    name="孙鹏",
    disciplines=("信息与通信工程", "网络安全"),
    achievements=(
        AchievementText(
            title="5G基站边缘计算安全防护",
            abstract="针对5G专网基站与边缘云，设计零信任访问控制和入侵检测。",
            keywords=("5G", "边缘计算", "零信任", "入侵检测"),
            maturity="pilot",
        ),
        AchievementText(
            title="工业云平台数据安全审计",
            abstract="对云主机与数据库操作做日志审计和异常告警。",
            keywords=("云安全", "数据安全"),
            maturity="production",
        ),
    ),
    district="仪征市",
    town="大仪镇",
)

SOLAR = ExpertProfile(
    id=12,
    name="胡静",
    disciplines=("电气工程", "新能源材料"),
    achievements=(
        AchievementText(
            title="光伏组件隐裂EL检测与功率衰减分析",
            abstract="利用电致发光成像识别电池片隐裂，评估组件功率衰减与热斑风险。",
            keywords=("光伏组件", "隐裂", "EL检测", "热斑"),
            maturity="production",
        ),
        AchievementText(
            title="双玻组件层压工艺",
            abstract="优化层压温度和时间，减少双玻组件气泡。",
            keywords=("双玻组件", "层压"),
            maturity="pilot",
        ),
    ),
    district="宝应县",
    town="氾水镇",
)

EXPERTS: tuple[ExpertProfile, ...] = (
    CNC,
    WELDING,
    PACKAGING,
    MRI,
    CONCRETE,
    CUISINE,
    WATER,
    TOOTHBRUSH,
    PRINTING,
    LABOUR_LAW,
    NETWORK,
    SOLAR,
)

ORDERS: tuple[OrderText, ...] = (
    OrderText(
        id="o-cnc",
        title="数控机床主轴振动异常",
        description="我厂数控机床加工时主轴振动大，工件表面有振纹，希望专家诊断振动原因。",
        fields=("机械工程",),
        need_kind="process_improvement",
        district="邗江区",
    ),
    OrderText(
        id="o-brush",
        title="牙刷刷柄注塑缩痕",
        description="牙刷厂双色注塑刷柄出现缩痕和飞边，刷丝容易脱落。",
        fields=("注塑成型",),
        need_kind="process_improvement",
        district="广陵区",
        town="杭集镇",
    ),
    OrderText(
        id="o-mri",
        title="无液氦超导磁体研制",
        description="需要1.5T磁共振超导磁体的传导冷却方案。",
        fields=("电气工程",),
        need_kind="tech_transfer",
        district="邗江区",
    ),
    OrderText(
        id="o-water",
        title="污水处理厂COD在线监测",
        description="出水COD和氨氮超标，需要水质在线监测设备。",
        fields=("环境科学与工程",),
        district="高邮市",
    ),
    OrderText(
        id="o-weld",
        title="船体分段焊接变形控制",
        description="Q235薄板焊接后变形严重，需要反变形工艺。",
        fields=("焊接",),
        need_kind="process_improvement",
        district="江都区",
    ),
    OrderText(
        id="o-5g",
        title="5G专网安全防护",
        description="工厂5G基站和边缘计算平台需要入侵检测与零信任方案。",
        fields=("网络安全",),
        district="仪征市",
    ),
    OrderText(
        id="o-law",
        title="劳动合同纠纷咨询",
        description="员工竞业限制与经济补偿问题，需要劳动法专业指导。",
        fields=("劳动法",),
        need_kind="consulting",
        district="宝应县",
    ),
    OrderText(
        id="o-solar",
        title="光伏组件隐裂检测",
        description="组件EL检测发现电池片隐裂，担心功率衰减。",
        fields=("新能源材料",),
        need_kind="tech_transfer",
        district="宝应县",
    ),
    OrderText(
        id="o-chef",
        title="淮扬菜厨师培训",
        description="酒店新开淮扬菜餐厅，需要狮子头等名菜的标准化烹饪培训。",
        district="广陵区",
    ),
    OrderText(
        id="o-bim",
        title="超高层混凝土泵送",
        description="三百米超高层项目混凝土泵送压力过高，并希望用BIM排施工进度。",
        fields=("土木工程",),
        district="广陵区",
    ),
)

# the expert each order is written for
BEST_EXPERT: dict[str, int] = {
    "o-cnc": int(CNC.id),
    "o-brush": int(TOOTHBRUSH.id),
    "o-mri": int(MRI.id),
    "o-water": int(WATER.id),
    "o-weld": int(WELDING.id),
    "o-5g": int(NETWORK.id),
    "o-law": int(LABOUR_LAW.id),
    "o-solar": int(SOLAR.id),
    "o-chef": int(CUISINE.id),
    "o-bim": int(CONCRETE.id),
}

ORDERS_BY_ID: dict[str, OrderText] = {str(o.id): o for o in ORDERS}
EXPERTS_BY_ID: dict[int, ExpertProfile] = {int(e.id): e for e in EXPERTS}


def expert_text(expert: ExpertProfile) -> str:
    """Everything the matcher reads of an expert, as one string."""
    parts = [expert.bio, *expert.disciplines]
    for achievement in expert.achievements:
        parts += [achievement.title, achievement.abstract, *achievement.keywords]
    return " ".join(parts)


def order_text(order: OrderText) -> str:
    """Everything the matcher reads of an order, as one string."""
    return " ".join([order.title, order.description, *order.fields])
