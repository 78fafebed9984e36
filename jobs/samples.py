"""Batch workbooks of any size, for the sample under samples/monitoring/, the tests and the
benchmark. Deterministic for a seed; figures are exact Decimals written as numbers."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl import Workbook

PROJECT_HEADERS = ["单位编码", "单位名称", "主管部门", "项目编码", "项目名称", "实施单位", "监控范围",
                   "年初预算数（万元）", "{period}执行数（万元）", "全年预计执行数（万元）",
                   "财政拨款年初预算数", "财政拨款{period}执行数", "其他资金年初预算数", "其他资金{period}执行数",
                   "年初设定目标", "{period}目标执行情况", "自评得分"]
INDICATOR_HEADERS = ["单位编码", "项目编码", "一级指标", "二级指标", "三级指标", "指标性质", "年度指标值", "度量单位",
                     "{period}执行情况", "全年预计完成情况", "完成目标可能性", "偏差原因", "偏差原因说明", "纠偏措施", "备注"]
DEPARTMENT_HEADERS = ["单位编码", "单位名称", "主管部门", "年初预算数（万元）", "{period}执行数（万元）",
                      "全年预计执行数（万元）", "财政拨款年初预算数", "财政拨款{period}执行数",
                      "其他资金年初预算数", "其他资金{period}执行数", "年度总体目标", "{period}目标执行情况"]
DEPARTMENT_INDICATOR_HEADERS = [h for h in INDICATOR_HEADERS if h != "项目编码"]

TOWNS = ["青溪", "白沙", "石门", "柳林", "桃源", "云台", "平川", "金水"]
BUREAUS = ["教育局", "卫生健康局", "农业农村局", "水务局", "交通运输局", "民政局", "文化和旅游局", "自然资源局",
           "住房和城乡建设局", "人力资源和社会保障局"]
PROJECTS = ["校舍维修改造", "基层医疗设备购置", "高标准农田建设", "农村饮水安全巩固", "农村公路养护", "困难群众救助",
            "公共文化服务", "耕地保护", "老旧小区改造", "职业技能培训"]
INDICATORS = [
    ("产出指标", "数量指标", "完成工程量", "≥", "公里"),
    ("产出指标", "质量指标", "验收合格率", "≥", "%"),
    ("产出指标", "时效指标", "按期完成率", "≥", "%"),
    ("效益指标", "社会效益指标", "受益人数", "≥", "人"),
    ("满意度指标", "服务对象满意度指标", "服务对象满意度", "≥", "%"),
]
CENT = Decimal("0.01")


@dataclass
class GeneratedBatch:
    data: bytes
    units: int
    projects: int
    budget: Decimal = Decimal(0)
    executed: Decimal = Decimal(0)
    unit_projects: dict[str, list[str]] = field(default_factory=dict)  # unit code → project codes


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def batch_workbook(units: int, *, seed: int = 1, period: str = "1-6月", year: int = 2024,
                   projects_per_unit: tuple[int, int] = (1, 3), department: bool = False,
                   with_parameters: bool = True) -> GeneratedBatch:
    """A batch workbook of `units` units, each with its projects (or its department row) and 5
    indicators per form. Every third project has one indicator 有可能 with cause and measure."""
    rng = random.Random(seed)
    book = Workbook(write_only=True)
    if with_parameters:
        params = book.create_sheet("参数")
        params.append(["年度", year])
        params.append(["监控期间", period])
    main = book.create_sheet("部门" if department else "项目")
    indicators = book.create_sheet("指标")
    headers = DEPARTMENT_HEADERS if department else PROJECT_HEADERS
    main.append([h.format(period=period) for h in headers])
    ind_headers = DEPARTMENT_INDICATOR_HEADERS if department else INDICATOR_HEADERS
    indicators.append([h.format(period=period) for h in ind_headers])
    result = GeneratedBatch(b"", units, 0)
    for u in range(units):
        code = f"{100000 + u}"
        name = f"{TOWNS[u % len(TOWNS)]}县{BUREAUS[(u // len(TOWNS)) % len(BUREAUS)]}第{u + 1}分局"
        count = 1 if department else rng.randint(*projects_per_unit)
        result.unit_projects[code] = []
        for p in range(count):
            budget = _money(rng, 50, 5000)
            fiscal = (budget * Decimal(rng.randint(60, 100)) / 100).quantize(CENT)
            other = budget - fiscal
            fiscal_executed = (fiscal * Decimal(rng.randint(20, 95)) / 100).quantize(CENT)
            other_executed = (other * Decimal(rng.randint(0, 90)) / 100).quantize(CENT)
            executed = fiscal_executed + other_executed
            projected = min(budget, (executed * Decimal("1.4")).quantize(CENT))
            result.budget += budget
            result.executed += executed
            project_code = f"{code}-{p + 1:02d}"
            project_name = f"{PROJECTS[(u + p) % len(PROJECTS)]}项目{p + 1}"
            result.unit_projects[code].append(project_code)
            goal = f"完成{project_name}年度建设任务，服务群众满意度达到90%以上。"
            progress = f"{period}按计划推进，累计完成年度任务的{rng.randint(30, 80)}%。"
            if department:
                main.append([code, name, name, budget, executed, projected, fiscal, fiscal_executed, other,
                             other_executed, goal, progress])
            else:
                score = Decimal(rng.randint(8000, 9800)) / 100 if p % 2 == 0 else None
                main.append([code, name, name, project_code, project_name, name,
                             "专项资金" if (u + p) % 4 == 0 else "部门预算项目",
                             budget, executed, projected, fiscal, fiscal_executed, other, other_executed,
                             goal, progress, score])
            result.projects += 1
            for i, (level1, level2, ind_name, operator, unit) in enumerate(INDICATORS):
                target = Decimal(rng.choice([90, 95, 100, 120, 500]))
                actual = (target * Decimal(rng.randint(30, 100)) / 100).quantize(Decimal("0.1"))
                lagging = i == 0 and (u + p) % 3 == 0
                row = [code] + ([] if department else [project_code]) + [
                    level1, level2, ind_name, operator, target, unit, actual, target,
                    "有可能" if lagging else "确定能",
                    "经费保障、人员保障" if lagging else None,
                    "配套资金到位较慢，施工人员不足。" if lagging else None,
                    "督促配套资金到位，增加施工班组。" if lagging else None,
                    None,
                ]
                indicators.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    result.data = buffer.getvalue()
    return result
