"""The report's own words in each language, and numbers written the way readers of it expect.

``WORDS[lang][key]`` holds every phrase the HTML report prints; ``tests/test_report_i18n.py``
checks that each language has every key of English and the same ``{placeholders}``. Stage
names come from the models' ``labels``. Adding a language is adding one dictionary here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cjkit.errors import UsageError

EN: dict[str, str] = {
    "title": "Customer journey report",
    "made_with": "Made with cjkit {version} on {when}",
    "command": "Command",
    "model": "Model",
    "source": "Source",
    "range": "Range",
    "population": "Population",
    "population_text": "{units} units with a first-stage event ({stage}) in the range",
    "events_units": "{rows} events · {units} units",
    "settings_text": "{order} funnel, window {window}, {period} periods, time zone {tz}",
    "contents": "Contents",
    "settings": "Settings",
    "findings": "Findings",
    "overview": "Funnel",
    "overview_intro": "How many units reach each stage, and where they drop off.",
    "funnel_chart": "Units per stage",
    "reached": "reached",
    "dropped": "dropped off",
    "stage": "Stage",
    "units": "Units",
    "of_start": "of start",
    "of_prev": "of previous",
    "ci95": "95% CI",
    "drop_off": "Drop-off",
    "median_time": "Median time",
    "p90_time": "p90 time",
    "share": "Share",
    "show_numbers": "Show the numbers",
    "definition": "Definition",
    "segments": "Segments",
    "segments_intro": "Conversion from the start by {by} (first-touch value).",
    "segments_chart": "Conversion from the start by {by} and stage",
    "segment": "Segment",
    "significant": "● significantly different from the rest (p < 0.05)",
    "no_segments": "No breakdown: pass --by PROPERTY or list segments in the map.",
    "trends": "Trends",
    "trends_intro": "Conversion of the units that entered in each {period}; shaded periods are incomplete (their units may still convert).",
    "trends_chart": "Conversion by entry {period}",
    "entered": "Entered",
    "incomplete": "incomplete",
    "complete": "Complete",
    "yes": "yes",
    "no": "no",
    "period": "Period",
    "ttc": "Time to convert",
    "ttc_intro": "How long units took from the previous stage, on the attempt the funnel counted.",
    "ttc_chart": "Time from the previous stage",
    "bin": "Time from previous stage",
    "stage_section": "Stage {index}: {name}",
    "questions": "Questions",
    "funnel_line": "{count} units reach it ({prev} of the previous stage, {start} of the start), median {median} after the previous stage.",
    "funnel_line_first": "{count} units start the funnel.",
    "new_units": "New units",
    "cac": "CAC",
    "by_channel": "New units by channel",
    "by_period": "New units per {period}",
    "channel": "Channel",
    "activation_rate": "Activation rate",
    "median_activate": "Median time to activate",
    "p90_activate": "p90 time to activate",
    "activation_line": "{activated} of {acquired} acquired units activated within {within}.",
    "retention": "Retention",
    "retention_heatmap": "Cohort retention ({period})",
    "cohort": "Cohort",
    "size": "Size",
    "retention_curve": "Retention curve and churn",
    "retention_note": "Each row is a cohort; cells of periods that have not ended yet are left blank (see the table).",
    "avg_retention": "Retention (weighted average)",
    "churn": "Churn",
    "churn_rate": "Churn rate",
    "churn_by_period": "Churn per {period}",
    "events_per_active": "Events per active unit",
    "period_k": "{period} {k}",
    "lifecycle": "Lifecycle",
    "lifecycle_intro": "Units per {period}: new, returning, resurrecting, and dormant (units that left, shown below zero).",
    "lifecycle_chart": "Lifecycle per {period}",
    "new": "New",
    "returning": "Returning",
    "resurrecting": "Resurrecting",
    "dormant": "Dormant",
    "stickiness": "Stickiness",
    "stickiness_intro": "How many units were active in exactly n of the {total} {period} periods of the range.",
    "stickiness_chart": "Units by active {period} periods",
    "active_periods": "Active periods",
    "avg_active": "Average active periods",
    "referral": "Referral",
    "referrer_share": "Referrer share",
    "invites_per_unit": "Invites per unit",
    "referred_signups": "Referred sign-ups",
    "invite_conversion": "Invite conversion",
    "k_factor": "K-factor",
    "referral_chart": "Referrers, invites and referred sign-ups",
    "referrers": "Referrers",
    "invites": "Invites",
    "revenue": "Revenue",
    "currency": "Currency",
    "revenue_total": "Revenue",
    "arpu": "ARPU",
    "arppu": "ARPPU",
    "aov": "AOV",
    "ltv": "LTV (historical)",
    "ltv_cac": "LTV:CAC",
    "paying_units": "Paying units",
    "conversion_to_paid": "Conversion to paid",
    "orders": "Orders",
    "purchase_frequency": "Orders per paying unit",
    "money_chart": "Money metrics per currency",
    "ltv_chart": "LTV per acquired unit by {period} since acquisition ({currency})",
    "since_acq": "{period}s since acquisition",
    "metric": "Metric",
    "value": "Value",
    "nps": "NPS",
    "mean_score": "Mean score",
    "responses": "Responses",
    "promoters": "Promoters",
    "passives": "Passives",
    "detractors": "Detractors",
    "nps_chart": "Promoters, passives and detractors",
    "no_nps": "This model has no satisfaction stage, so there is no NPS.",
    "targets": "Targets",
    "target": "Target",
    "status": "Status",
    "message": "Message",
    "pass": "pass",
    "fail": "fail",
    "skip": "skip",
    "paths": "Paths",
    "paths_chart": "Paths between events",
    "from": "From",
    "to": "To",
    "warnings": "Warnings",
    "omitted": "Left out",
    "vs_all": "vs all",
    "all_units": "all units",
    "spend": "Spend",
    "none": "–",
    "all_time": "all of the data",
    "day": "day",
    "week": "week",
    "month": "month",
    "quarter": "quarter",
    "unit_s": "s",
    "unit_m": "m",
    "unit_h": "h",
    "unit_d": "d",
    "ordered": "ordered",
    "strict": "strict",
    "any": "any-order",
    "analysis_funnel": "Funnel",
    "analysis_retention": "Retention",
    "analysis_lifecycle": "Lifecycle",
    "analysis_stickiness": "Stickiness",
    "analysis_paths": "Paths",
}

VI: dict[str, str] = {
    "title": "Báo cáo hành trình khách hàng",
    "made_with": "Tạo bằng cjkit {version} lúc {when}",
    "command": "Lệnh",
    "model": "Mô hình",
    "source": "Nguồn dữ liệu",
    "range": "Khoảng thời gian",
    "population": "Tập đối tượng",
    "population_text": "{units} đơn vị có sự kiện của giai đoạn đầu ({stage}) trong khoảng",
    "events_units": "{rows} sự kiện · {units} đơn vị",
    "settings_text": "phễu {order}, cửa sổ {window}, chu kỳ {period}, múi giờ {tz}",
    "contents": "Mục lục",
    "settings": "Thiết lập",
    "findings": "Phát hiện",
    "overview": "Phễu",
    "overview_intro": "Bao nhiêu đơn vị đi tới từng giai đoạn, và họ rời đi ở đâu.",
    "funnel_chart": "Số đơn vị theo giai đoạn",
    "reached": "đạt tới",
    "dropped": "rời đi",
    "stage": "Giai đoạn",
    "units": "Đơn vị",
    "of_start": "so với đầu phễu",
    "of_prev": "so với bước trước",
    "ci95": "KTC 95%",
    "drop_off": "Rời đi",
    "median_time": "Thời gian trung vị",
    "p90_time": "Thời gian p90",
    "share": "Tỷ lệ",
    "show_numbers": "Xem số liệu",
    "definition": "Định nghĩa",
    "segments": "Phân khúc",
    "segments_intro": "Tỷ lệ chuyển đổi từ đầu phễu theo {by} (giá trị ở lần chạm đầu tiên).",
    "segments_chart": "Chuyển đổi từ đầu phễu theo {by} và giai đoạn",
    "segment": "Phân khúc",
    "significant": "● khác biệt có ý nghĩa so với phần còn lại (p < 0,05)",
    "no_segments": "Không có phân tách: dùng --by THUỘC_TÍNH hoặc khai báo segments trong bản đồ.",
    "trends": "Xu hướng",
    "trends_intro": "Tỷ lệ chuyển đổi của các đơn vị vào phễu trong mỗi {period}; các chu kỳ tô mờ chưa đầy đủ (đơn vị vẫn có thể chuyển đổi).",
    "trends_chart": "Chuyển đổi theo {period} vào phễu",
    "entered": "Vào phễu",
    "incomplete": "chưa đầy đủ",
    "complete": "Đầy đủ",
    "yes": "có",
    "no": "không",
    "period": "Chu kỳ",
    "ttc": "Thời gian chuyển đổi",
    "ttc_intro": "Các đơn vị mất bao lâu từ giai đoạn trước, trên lượt mà phễu đã tính.",
    "ttc_chart": "Thời gian từ giai đoạn trước",
    "bin": "Thời gian từ giai đoạn trước",
    "stage_section": "Giai đoạn {index}: {name}",
    "questions": "Câu hỏi",
    "funnel_line": "{count} đơn vị đạt tới ({prev} so với bước trước, {start} so với đầu phễu), trung vị {median} sau giai đoạn trước.",
    "funnel_line_first": "{count} đơn vị bắt đầu phễu.",
    "new_units": "Đơn vị mới",
    "cac": "CAC",
    "by_channel": "Đơn vị mới theo kênh",
    "by_period": "Đơn vị mới mỗi {period}",
    "channel": "Kênh",
    "activation_rate": "Tỷ lệ kích hoạt",
    "median_activate": "Thời gian kích hoạt trung vị",
    "p90_activate": "Thời gian kích hoạt p90",
    "activation_line": "{activated} trên {acquired} đơn vị thu hút được đã kích hoạt trong vòng {within}.",
    "retention": "Giữ chân",
    "retention_heatmap": "Giữ chân theo nhóm ({period})",
    "cohort": "Nhóm",
    "size": "Quy mô",
    "retention_curve": "Đường giữ chân và tỷ lệ rời bỏ",
    "retention_note": "Mỗi hàng là một nhóm; các ô của chu kỳ chưa kết thúc được để trống (xem bảng).",
    "avg_retention": "Giữ chân (trung bình có trọng số)",
    "churn": "Rời bỏ",
    "churn_rate": "Tỷ lệ rời bỏ",
    "churn_by_period": "Tỷ lệ rời bỏ mỗi {period}",
    "events_per_active": "Sự kiện trên mỗi đơn vị hoạt động",
    "period_k": "{period} {k}",
    "lifecycle": "Vòng đời",
    "lifecycle_intro": "Đơn vị mỗi {period}: mới, quay lại, hồi sinh, và ngủ đông (đơn vị đã rời đi, hiển thị dưới 0).",
    "lifecycle_chart": "Vòng đời mỗi {period}",
    "new": "Mới",
    "returning": "Quay lại",
    "resurrecting": "Hồi sinh",
    "dormant": "Ngủ đông",
    "stickiness": "Độ gắn bó",
    "stickiness_intro": "Bao nhiêu đơn vị hoạt động đúng n trong {total} chu kỳ {period} của khoảng thời gian.",
    "stickiness_chart": "Đơn vị theo số chu kỳ {period} hoạt động",
    "active_periods": "Số chu kỳ hoạt động",
    "avg_active": "Số chu kỳ hoạt động trung bình",
    "referral": "Giới thiệu",
    "referrer_share": "Tỷ lệ người giới thiệu",
    "invites_per_unit": "Lời mời trên mỗi đơn vị",
    "referred_signups": "Đăng ký nhờ giới thiệu",
    "invite_conversion": "Chuyển đổi lời mời",
    "k_factor": "Hệ số K",
    "referral_chart": "Người giới thiệu, lời mời và đăng ký nhờ giới thiệu",
    "referrers": "Người giới thiệu",
    "invites": "Lời mời",
    "revenue": "Doanh thu",
    "currency": "Tiền tệ",
    "revenue_total": "Doanh thu",
    "arpu": "ARPU",
    "arppu": "ARPPU",
    "aov": "AOV",
    "ltv": "LTV (lịch sử)",
    "ltv_cac": "LTV:CAC",
    "paying_units": "Đơn vị trả tiền",
    "conversion_to_paid": "Chuyển đổi sang trả tiền",
    "orders": "Đơn hàng",
    "purchase_frequency": "Đơn hàng trên mỗi đơn vị trả tiền",
    "money_chart": "Chỉ số tiền theo tiền tệ",
    "ltv_chart": "LTV trên mỗi đơn vị thu hút theo {period} kể từ khi thu hút ({currency})",
    "since_acq": "Số {period} kể từ khi thu hút",
    "metric": "Chỉ số",
    "value": "Giá trị",
    "nps": "NPS",
    "mean_score": "Điểm trung bình",
    "responses": "Số phản hồi",
    "promoters": "Người ủng hộ",
    "passives": "Trung lập",
    "detractors": "Người phản đối",
    "nps_chart": "Người ủng hộ, trung lập và phản đối",
    "no_nps": "Mô hình này không có giai đoạn hài lòng, nên không có NPS.",
    "targets": "Mục tiêu",
    "target": "Mục tiêu",
    "status": "Trạng thái",
    "message": "Ghi chú",
    "pass": "đạt",
    "fail": "không đạt",
    "skip": "bỏ qua",
    "paths": "Lộ trình",
    "paths_chart": "Lộ trình giữa các sự kiện",
    "from": "Từ",
    "to": "Đến",
    "warnings": "Cảnh báo",
    "omitted": "Bỏ qua",
    "vs_all": "so với tất cả",
    "all_units": "tất cả đơn vị",
    "spend": "Chi phí",
    "none": "–",
    "all_time": "toàn bộ dữ liệu",
    "day": "ngày",
    "week": "tuần",
    "month": "tháng",
    "quarter": "quý",
    "unit_s": " giây",
    "unit_m": " phút",
    "unit_h": " giờ",
    "unit_d": " ngày",
    "ordered": "có thứ tự",
    "strict": "nghiêm ngặt",
    "any": "không theo thứ tự",
    "analysis_funnel": "Phễu",
    "analysis_retention": "Giữ chân",
    "analysis_lifecycle": "Vòng đời",
    "analysis_stickiness": "Độ gắn bó",
    "analysis_paths": "Lộ trình",
}

WORDS: dict[str, dict[str, str]] = {"en": EN, "vi": VI}
# Decimal mark and thousands separator per language (also Plotly's ``separators``).
SEPARATORS: dict[str, tuple[str, str]] = {"en": (".", ","), "vi": (",", ".")}


def languages() -> tuple[str, ...]:
    """Return the languages the report can be written in."""
    return tuple(WORDS)


@dataclass(frozen=True)
class Words:
    """The phrases and number formats of one language."""

    lang: str

    def __post_init__(self) -> None:
        if self.lang not in WORDS:
            raise UsageError(f"--lang: expected one of {', '.join(WORDS)}, got {self.lang!r}")

    def __call__(self, key: str, **values: object) -> str:
        """Return the phrase ``key`` with its placeholders filled."""
        text = WORDS[self.lang].get(key, EN[key])
        return text.format(**values) if values else text

    @property
    def separators(self) -> str:
        """Return Plotly's ``separators`` (decimal mark, then thousands separator)."""
        dec, thou = SEPARATORS[self.lang]
        return dec + thou

    def _swap(self, text: str) -> str:
        dec, thou = SEPARATORS[self.lang]
        return text.replace(",", "\0").replace(".", dec).replace("\0", thou)

    def whole(self, value: float | None) -> str:
        """Return a whole number with thousands separators."""
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "–"
        return self._swap(f"{round(value):,}")

    def num(self, value: float | None, digits: int = 2) -> str:
        """Return a number with ``digits`` decimals and thousands separators."""
        if value is None or not math.isfinite(value):
            return "–"
        return self._swap(f"{value:,.{digits}f}")

    def pct(self, value: float | None, digits: int = 1) -> str:
        """Return a fraction as a percentage."""
        if value is None or not math.isfinite(value):
            return "–"
        return self._swap(f"{100 * value:.{digits}f}") + "%"

    def ci(self, ci: dict[str, float] | None) -> str:
        """Return a 95% interval of a fraction as ``a–b%``."""
        if not ci:
            return "–"
        return f"{self.pct(ci['low']).rstrip('%')}–{self.pct(ci['high'])}"

    def duration(self, seconds: float | None) -> str:
        """Return seconds in the short human form of ``cjkit.durations`` in this language."""
        if seconds is None or not math.isfinite(seconds):
            return "–"
        s = abs(seconds)
        sign = "-" if seconds < 0 else ""
        u = {k: self(f"unit_{k}") for k in ("s", "m", "h", "d")}
        if s < 60:
            return f"{sign}{s:.0f}{u['s']}"
        if s < 3600:
            return f"{sign}{s / 60:.0f}{u['m']}"
        if s < 86400:
            h, rem = divmod(s, 3600)
            return (
                f"{sign}{h:.0f}{u['h']} {rem / 60:.0f}{u['m']}"
                if rem >= 60
                else f"{sign}{h:.0f}{u['h']}"
            )
        d, rem = divmod(s, 86400)
        return (
            f"{sign}{d:.0f}{u['d']} {rem / 3600:.0f}{u['h']}"
            if rem >= 3600
            else f"{sign}{d:.0f}{u['d']}"
        )
