"""A year's holidays from the State Council's notice (国务院办公厅关于YYYY年部分节假日安排的通知).

Each autumn the General Office publishes next year's schedule in one fixed style:

    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。
    1月26日（周日）、2月8日（周六）上班。

`parse_notice` reads the items (一、二、… or a holiday's name followed by a colon): in each,
the clause saying 放假 gives the holidays, the clause saying 上班 the adjusted working days.
Other clauses are ignored on purpose: the 2024 notice's "安排职工在除夕（2月9日）休息" is
advice, not a holiday. Every check the notice allows is made (weekdays in parentheses,
"共N天"), because a misread notice moves every deadline of the year; a failed check refuses
the whole text naming its line. `apply_notice` saves the result as calendar overrides.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session

from models import CalendarDay
from models.enums import AuditKind, DayKind
from workflows.core.actors import Actor
from workflows.core.audit import record
from workflows.core.calendar import WorkingCalendar
from workflows.core.errors import InvalidInput

from .calendar import set_calendar_days

FIELD = "notice"
FILE_FIELD = "notice_file"
MAX_CHARS = 20_000  # a notice is about 1,000 characters; anything far longer is not one
MAX_RANGE_DAYS = 31
WEEKDAYS = "一二三四五六日"
_NUMERALS = "一二三四五六七八九十"
# Full-width ASCII (ＡＢ１２：（）) to half-width, ideographic space to space; one character
# for one, so positions in the normalized text are positions in what was pasted.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_TITLE_YEAR = re.compile(r"关于\s*(\d{4})\s*年[^\n]{0,12}?节假日安排")
_BODY_YEAR = re.compile(r"现将\s*(\d{4})\s*年")
_ITEM_HEAD = re.compile(
    rf"(?:(?<=[\n。])|^)[ \t]*(?:[{_NUMERALS}]+[、.]|\(\s*[{_NUMERALS}]+\s*\)|\d+[、.])?[ \t]*"
    r"(?P<name>[^\s:，,。;；()\d][^\s:，,。;；()]{1,39}?)[ \t]*:"
)
_DATE = re.compile(
    r"(?:(?P<year>\d{4})\s*年\s*)?(?:(?P<month>\d{1,2})\s*月\s*)?(?P<day>\d{1,2})\s*日"
    r"(?:\s*\((?P<note>[^()]*)\))?"
)
_WEEKDAY = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天])")
_TOTAL = re.compile(r"共\s*(\d{1,2})\s*天|放假\s*(\d{1,2})\s*天")


@dataclass(frozen=True)
class NoticeEntry:
    day: date
    kind: DayKind
    name: str
    line: int  # where the notice says so, 1-based, for messages


@dataclass(frozen=True)
class ParsedNotice:
    year: int
    entries: tuple[NoticeEntry, ...]
    items: tuple[str, ...]  # the holidays' names as the notice lists them
    warnings: tuple[str, ...] = field(default=())

    @property
    def holidays(self) -> list[NoticeEntry]:
        return [e for e in self.entries if e.kind == DayKind.HOLIDAY]

    @property
    def workdays(self) -> list[NoticeEntry]:
        return [e for e in self.entries if e.kind == DayKind.WORKDAY]

    def by_day(self) -> dict[date, NoticeEntry]:
        return {e.day: e for e in self.entries}


@dataclass(frozen=True)
class NoticeResult:
    year: int
    holidays: int
    workdays: int
    replaced: int  # days that had an override before, now set as the notice says
    cases_replanned: int = 0  # open deadlines the new days moved


def _refuse(message: str, field_name: str = FIELD) -> InvalidInput:
    return InvalidInput.single(field_name, "invalid_notice", message)


def weekday_label(day: date) -> str:
    return f"周{WEEKDAYS[day.weekday()]}"


def decode_notice(data: bytes, *, field_name: str = FILE_FIELD) -> str:
    """The text of an uploaded notice: UTF-8 (with or without BOM), else GB18030 (which
    covers GBK and GB2312, what Windows editors save Chinese text as)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise _refuse("文件不是文本文件，或编码既不是 UTF-8 也不是 GB18030/GBK，"
                  "请另存为 UTF-8 编码的 .txt 文件后再上传", field_name)


class _Lines:
    """Line numbers and texts of the pasted notice, for messages."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def number(self, pos: int) -> int:
        lo, hi = 0, len(self.starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def where(self, pos: int) -> str:
        n = self.number(pos)
        line = self.text[self.starts[n - 1]:].split("\n", 1)[0].strip()
        if len(line) > 60:
            line = line[:60] + "…"
        return f"第 {n} 行“{line}”"


def _find_year(text: str) -> int:
    title, body = _TITLE_YEAR.search(text), _BODY_YEAR.search(text)
    if title and body and title.group(1) != body.group(1):
        raise _refuse(f"通知标题写的是 {title.group(1)} 年，正文写的是 {body.group(1)} 年，"
                      "请核对是否粘贴了同一份通知")
    match = title or body
    if match is None:
        raise _refuse("未找到年份：通知标题应为“国务院办公厅关于YYYY年部分节假日安排的通知”，"
                      "或正文写明“现将YYYY年……安排通知如下”；请粘贴通知全文")
    year = int(match.group(1))
    if not 2000 <= year <= 2100:
        raise _refuse(f"通知中的年份 {year} 不在 2000–2100 年之间")
    return year


def _split_outside_parens(text: str, start: int, separators: str) -> list[tuple[int, str]]:
    """Clauses of `text` (a substring starting at `start` of the notice) with their positions;
    a separator inside parentheses ("农历除夕，周二") does not split."""
    parts, depth, begin = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch in separators and depth == 0:
            parts.append((start + begin, text[begin:i]))
            begin = i + 1
    parts.append((start + begin, text[begin:]))
    return [(pos, part) for pos, part in parts if part.strip()]


class _Reader:
    def __init__(self, original: str):
        pasted = original.replace("\r\n", "\n").replace("\r", "\n")
        self.lines = _Lines(pasted)  # messages quote the lines as pasted
        self.text = pasted.translate(_HALF_WIDTH)
        self.year = _find_year(self.text)
        self.entries: dict[date, NoticeEntry] = {}
        self.warnings: list[str] = []

    def _date(self, match: re.Match, pos: int, previous: date | None, *, range_start: date | None) -> date:
        """The date a match names; a missing month or year comes from the date before it in
        the clause (or, for "12月30日至1月1日", the year after)."""
        year = int(match.group("year")) if match.group("year") else None
        month = int(match.group("month")) if match.group("month") else None
        day_no = int(match.group("day"))
        if month is None:
            # "5月1日至5日", "9月29日、30日": the month (and year) of the date before.
            if previous is None:
                raise _refuse(f"{self.lines.where(pos)}：日期“{match.group(0)}”没有写月份")
            month, year = previous.month, year or previous.year
        elif year is None and range_start is not None:
            # "12月30日至1月1日" runs into the next year.
            year = range_start.year + (1 if month < range_start.month else 0)
        elif year is None:
            year = self.year
        try:
            day = date(year, month, day_no)
        except ValueError:
            raise _refuse(f"{self.lines.where(pos)}：{year}年{month}月{day_no}日不是有效日期") from None
        if abs(day.year - self.year) > 1:
            raise _refuse(f"{self.lines.where(pos)}：{day.year}年的日期不属于 {self.year} 年的安排")
        weekday = _WEEKDAY.findall(match.group("note") or "")
        if weekday:
            said = "日" if weekday[-1] == "天" else weekday[-1]
            if said != WEEKDAYS[day.weekday()]:
                raise _refuse(
                    f"{self.lines.where(pos)}：{day.year}年{day.month}月{day.day}日是"
                    f"{weekday_label(day)}，通知中写的是周{said}，请核对年份和日期"
                )
        return day

    def _days(self, clause: str, pos: int) -> list[tuple[date, int]]:
        """The days a clause names: single dates and "A至B" ranges, listed with 、 or 和."""
        days: list[tuple[date, int]] = []
        previous: date | None = None
        matches = list(_DATE.finditer(clause))
        i = 0
        while i < len(matches):
            first = matches[i]
            start = self._date(first, pos + first.start(), previous, range_start=None)
            end = start
            if i + 1 < len(matches):
                between = clause[first.end():matches[i + 1].start()].strip()
                if between in ("至", "到", "-", "—", "~", "～", "－"):
                    second = matches[i + 1]
                    end = self._date(second, pos + second.start(), start, range_start=start)
                    i += 1
            if end < start:
                raise _refuse(f"{self.lines.where(pos)}：结束日期早于开始日期")
            if (end - start).days >= MAX_RANGE_DAYS:
                raise _refuse(f"{self.lines.where(pos)}：放假时间超过 {MAX_RANGE_DAYS} 天，请核对日期")
            day = start
            while day <= end:
                days.append((day, pos + first.start()))
                day += timedelta(days=1)
            previous = end
            i += 1
        return days

    def _add(self, day: date, kind: DayKind, name: str, pos: int) -> bool:
        """Record a day; False when the item already said the same ("9月3日至5日调休放假…
        其中，9月3日放假"), refused when it contradicts an earlier line."""
        line = self.lines.number(pos)
        earlier = self.entries.get(day)
        if earlier is not None and (earlier.kind, earlier.name) == (kind, name):
            return False
        if earlier is not None:
            raise _refuse(f"{self.lines.where(pos)}：{day.year}年{day.month}月{day.day}日"
                          f"已在第 {earlier.line} 行出现（{earlier.name}），同一天不能安排两次")
        self.entries[day] = NoticeEntry(day, kind, name, line)
        return True

    def item(self, name: str, body: str, pos: int) -> None:
        holidays = 0
        stated: list[tuple[int, int]] = []  # "共N天" or "放假N天", with where it was said
        for s_pos, sentence in _split_outside_parens(body, pos, "。;\n"):
            for c_pos, clause in _split_outside_parens(sentence, s_pos, ",，"):
                if "上班" in clause:
                    for day, d_pos in self._days(clause, c_pos):
                        added = self._add(day, DayKind.WORKDAY, f"{name}调休上班", d_pos)
                        if added and day.weekday() < 5:
                            self.warnings.append(
                                f"{self.lines.where(d_pos)}：{day.month}月{day.day}日"
                                f"（{weekday_label(day)}）本来就是工作日")
                elif "放假" in clause or "连休" in clause:  # 2024: "6月10日与周末连休"
                    for day, d_pos in self._days(clause, c_pos):
                        holidays += self._add(day, DayKind.HOLIDAY, name, d_pos)
                for total in _TOTAL.finditer(clause):
                    stated.append((int(total.group(1) or total.group(2)), c_pos))
        for count, s_pos in stated:
            if count != holidays:
                raise _refuse(f"{self.lines.where(s_pos)}：{name}放假日期共 {holidays} 天，"
                              f"与通知中的“共{count}天”不符，请核对日期")

    def read(self) -> ParsedNotice:
        heads = [m for m in _ITEM_HEAD.finditer(self.text) if self._is_item(m)]
        names = []
        for i, head in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(self.text)
            name = head.group("name").strip()
            names.append(name)
            self.item(name, self.text[head.end():end], head.end())
        if not any(e.kind == DayKind.HOLIDAY for e in self.entries.values()):
            raise _refuse("未识别到放假安排：通知正文应逐项写明，例如“一、元旦：1月1日（周三）放假1天，"
                          "不调休。”；请粘贴通知全文")
        entries = tuple(sorted(self.entries.values(), key=lambda e: e.day))
        return ParsedNotice(self.year, entries, tuple(names), tuple(self.warnings))

    def _is_item(self, head: re.Match) -> bool:
        # "各省、自治区、直辖市人民政府，国务院各部委、各直属机构：" also ends in a colon:
        # an item is one whose text goes on to name a date.
        rest = self.text[head.end():head.end() + 80]
        return _DATE.match(rest.lstrip()) is not None


def parse_notice(text: str | None) -> ParsedNotice:
    """The holidays and adjusted working days of a pasted notice; InvalidInput (field "notice",
    in Chinese, naming the line) when it cannot be read with certainty."""
    text = (text or "").strip()
    if not text:
        raise _refuse("请粘贴国务院办公厅节假日安排通知的全文，或上传通知的文本文件")
    if len(text) > MAX_CHARS:
        raise _refuse(f"通知文本过长（{len(text)} 字），节假日安排通知约一千字；请只粘贴通知本身")
    return _Reader(text).read()


def apply_notice(session: Session, *, actor: Actor, notice: ParsedNotice, as_of: datetime) -> NoticeResult:
    """Save every day of the notice as a calendar override, all or nothing, with one audit
    row for the import besides each day's own."""
    replaced = 0
    with session.begin_nested():
        replaced = sum(1 for e in notice.entries if session.get(CalendarDay, e.day) is not None)
        replanned = set_calendar_days(session, actor=actor, as_of=as_of,
                                      days=[(e.day, e.kind, e.name) for e in notice.entries])
        result = NoticeResult(notice.year, len(notice.holidays), len(notice.workdays), replaced,
                              replanned.moved)  # fmt: skip
        record(session, AuditKind.CALENDAR_CHANGED, as_of=as_of, actor=actor, action="import_notice",
               year=notice.year, holidays=result.holidays, workdays=result.workdays,
               replaced=replaced, cases_replanned=replanned.moved,
               days=[[e.day.isoformat(), e.kind.value, e.name] for e in notice.entries])
    return result


def existing_overrides(session: Session, notice: ParsedNotice) -> dict[date, CalendarDay]:
    """The overrides the notice would replace, by day (shown before confirming)."""
    return {e.day: row for e in notice.entries if (row := session.get(CalendarDay, e.day)) is not None}


def official_differences(notice: ParsedNotice) -> list[tuple[date, DayKind | None, DayKind | None]] | None:
    """Days of the notice's year where it and the built-in official calendar disagree, as
    (day, official kind, notice kind); None when the built-in data does not cover the year."""
    calendar = WorkingCalendar()
    if calendar.uncovered_years([notice.year]):
        return None
    official = {e.day: e.kind for e in calendar.year_entries(notice.year)}
    parsed = {e.day: e.kind for e in notice.entries if e.day.year == notice.year}
    return sorted((d, official.get(d), parsed.get(d)) for d in official.keys() | parsed.keys()
                  if official.get(d) != parsed.get(d))
