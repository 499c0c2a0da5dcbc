"""Page chrome: lines of a scraped page that are not report text (索引号, 扫一扫, breadcrumbs,
site navigation, footers). Removed while reading (``nlp.text.clean_lines``) and labelled
``other`` wherever a labeller still meets them; the reason is ``chrome:<name>``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from .base import SENTENCE, _Named


@dataclass(frozen=True)
class ChromeRule(_Named):
    """A chrome line: ``name`` is the short name (``index_no``, kept in ``Document.removed_chrome``),
    ``rule_name`` the registry name (``chrome:index_no``)."""

    name: str
    pattern: re.Pattern
    max_len: int = 120  # a line longer than this is never chrome
    description: str = ""
    label: ClassVar[str] = "other"
    kind: ClassVar[str] = SENTENCE

    @property
    def rule_name(self) -> str:
        return f"chrome:{self.name}"

    @property
    def family(self) -> str:
        return "chrome"

    def info(self):
        i = super().info()
        return type(i)(self.rule_name, i.kind, i.gives, i.family, i.description)

    def matches(self, line: str) -> bool:
        return len(line) <= self.max_len and bool(self.pattern.search(line))


def _r(p: str) -> re.Pattern:
    return re.compile(p, re.I)


_S = r"\s*"  # scraped labels often have spaces inside: 索 引 号
CHROME_RULES: tuple[ChromeRule, ...] = (
    ChromeRule("index_no", _r(r"^[•·\s]*索" + _S + "引" + _S + "号"), description="the 索引号 field of a disclosure page"),
    ChromeRule("meta_field", _r(r"^[•·\s]*(公文种类|主题分类|发布机构|发文机关|成文日期|发布日期|发文日期|有" + _S + "效" + _S
                                 + r"性|生效日期|废止日期|信息分类|组配分类|体裁分类|文" + _S + r"号|主题词|名\s*称|分\s*类)" + _S + r"[:：]"),
               description="a metadata field of a disclosure page (发布机构:, 成文日期:, 文号:)"),
    ChromeRule("publish_line", _r(r"(来源|信息来源|发布时间|发布日期|浏览次数|浏览量|访问量|点击数|阅读数|作者)" + _S + r"[:：]"), 90,
               description="a short source / publish-time / view-count line"),
    ChromeRule("font_size", _r(r"(字体|字号)" + _S + r"[:：]?" + _S + r"[\[【(（]?" + _S + r"([大中小]|[\]】)）])"),
               description="the font-size switch (字体:[大 中 小])"),
    ChromeRule("print_close", _r(r"^(【?\s*(打印(本页|此页|文章)?|关闭(本页|窗口)?|收藏|返回顶部|保存|纠错|我要纠错)\s*】?\s*)+$"),
               description="a line of print / close / bookmark buttons"),
    ChromeRule("print_inline", _r(r"(打印本页|关闭窗口|打印此页|【打印】|\[打印\]|\[关闭\])"),
               description="print / close buttons inside a line"),
    ChromeRule("scan_qr", _r(r"扫一扫|二维码|用手机扫|手机打开当前页|手机浏览"), description="scan the QR code / open on a phone"),
    ChromeRule("share", _r(r"^(分享(到)?\s*[:：]?|.{0,20}分享到\s*[:：]?|微信|微博|QQ空间|朋友圈)"),
               description="share buttons (分享到, 微信, 微博)"),
    ChromeRule("breadcrumb", _r(r"(当前位置|您的位置|所在位置)\s*[:：]|^首页\s*[>›/»]|[>›»]\s*(政务公开|信息公开|正文)"),
               description="the breadcrumb trail (当前位置:首页 > …)"),
    ChromeRule("site_nav", _r(r"^(首页|网站首页|政府信息公开|政策文件|信息公开目录|无障碍.*|简体\s*[|｜]?\s*繁体|繁體|English|网站地图|"
                             r"登录|注册|搜索|智能问答|长者模式|关怀版|适老化|读屏专用|返回首页|上一篇.*|下一篇.*|相关(链接|文章|阅读).*|"
                             r"Baidu|map|政务公开|规章库|网站导航|移动版|手机版|English Version)$"),
               description="a site navigation item standing alone on its line"),
    ChromeRule("site_footer", _r(r"(版权所有|主办单位|承办单位|技术支持|ICP备|网站标识码|公网安备|联系我们|Copyright|©)"), 160,
               description="the site footer (版权所有, ICP备, 主办单位)"),
    ChromeRule("url", _r(r"^(https?://|www\.)\S+$"), description="a bare URL"),
)


def match_chrome(line: str) -> ChromeRule | None:
    """The first chrome rule a (stripped) line matches, or None for real text."""
    for rule in CHROME_RULES:
        if rule.matches(line):
            return rule
    return None


def chrome_rule(line: str) -> str | None:
    """Short name of the chrome rule a (stripped) line matches, or None for real text."""
    rule = match_chrome(line)
    return rule.name if rule is not None else None


def chrome_reason(line: str) -> str | None:
    """The registry name (``chrome:<name>``, a sentence's reason) of the rule a line matches."""
    rule = match_chrome(line)
    return rule.rule_name if rule is not None else None
