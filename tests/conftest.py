import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "suining-2023.txt"
SHARED = ROOT.parent / "shared" / "data"

# tests never write to the user's cache
os.environ.setdefault("GOVREPORT_CACHE", str(ROOT / ".cache"))


def shared_data_or_skip() -> Path:
    if not (SHARED / "gold" / "dev.jsonl").exists():
        pytest.skip("../shared/data is absent: the gold and corpus files are read at run time, never copied")
    return SHARED


# A short report written for the tests (not real text).
TOY_REPORT = """首页 > 政务公开 > 法治政府建设
索引号:123456/2024-00001
发布日期: 2024-03-01
字体:[大 中 小] 打印本页
东湖县人民政府关于2023年度法治政府建设情况的报告
县委:
2023年,东湖县坚持依法行政,各项工作取得新成效。现将有关情况报告如下。
一、主要负责人履行推进法治建设第一责任人职责情况
县政府常务会议专题研究法治政府建设4次。严格落实《东湖县法治政府建设考核办法》,组织会前学法12场次。
二、推进法治政府建设的主要举措和成效
(一)深化放管服改革。全年办理审批事项3200余件,办结率达100%。
(二)强化执法监督。办结行政复议案件三十余件,纠错率18.5%。
三、存在的问题及原因
一是部分执法人员能力有待提升;二是基层法治力量不足。
四、下一年度工作安排
下一步,县政府将持续深化法治政府建设。力争2024年行政机关负责人出庭应诉率达到95%以上。
东湖县人民政府
2024年2月20日
扫一扫在手机打开当前页
"""


@pytest.fixture
def toy_report() -> str:
    return TOY_REPORT


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1200,1600"]


def render_in_chromium(html_path: Path, tmp_path: Path) -> str:
    """Open an HTML file in headless Chromium: check its screenshot is not blank and return
    the rendered DOM."""
    from PIL import Image

    page = html_path.as_uri()
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'u1'}", "--dump-dom", page],
                         capture_output=True, text=True, timeout=120).stdout
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'u2'}", f"--screenshot={shot}", page],
                   capture_output=True, text=True, timeout=120)
    img = Image.open(shot).convert("L")
    hist = img.histogram()
    assert img.size[0] >= 1000
    assert max(hist) / sum(hist) < 0.97, "screenshot is (nearly) blank"
    assert sum(1 for h in hist if h) > 20
    return dom


def save_tiny_bert(d: Path, chars) -> Path:
    """A tiny random BERT (2 layers, hidden 32) with a character vocabulary of ``chars``,
    saved as a normal HF directory (the transformers-tests way: no downloads, seconds to train)."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    torch.manual_seed(0)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [str(i) for i in range(10)] + [f"##{i}" for i in range(10)] + \
        [c for c in chars if not c.isdigit()]
    tok = BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)})
    tok.save_pretrained(str(d))
    cfg = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=37, max_position_embeddings=256)
    BertForMaskedLM(cfg).save_pretrained(str(d))
    return d
