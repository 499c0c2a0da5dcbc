"""Read reports as they are published (txt in any common encoding, html, docx, pdf) and
write annotation records (JSONL, CSV).

The format is detected from the bytes, not from the file extension.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence


class ReadError(Exception):
    """A file could not be read as a report. ``str(err)`` is a one-line message naming the file."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def lines(self, limit: int = 20) -> list[str]:
        """The error as lines to print, one per problem (here: one)."""
        return [str(self)]


class LimitError(ReadError):
    """An input is larger than a configured limit (``Limits``); the message names the limit,
    its value and the environment variable that raises it."""


@dataclass(frozen=True)
class Limits:
    """Bounds on the work one input may cause, so that a hostile or broken file ends in one
    error line instead of hours of work. Each is read from an environment variable when
    ``Limits.from_env()`` is called (0 or a negative value switches that limit off).

    - ``max_bytes`` (``GOVREPORT_MAX_BYTES``, default 64 MB): the size of one input file, and
      the uncompressed size of the parts of a ``.docx`` (checked before unzipping).
    - ``max_chars`` (``GOVREPORT_MAX_CHARS``, default 2,000,000): characters of text in one
      document once read (txt, html, docx, pdf, or a table row).
    """

    max_bytes: int = 64_000_000
    max_chars: int = 2_000_000

    ENV = {"max_bytes": "GOVREPORT_MAX_BYTES", "max_chars": "GOVREPORT_MAX_CHARS"}

    @classmethod
    def from_env(cls) -> "Limits":
        values = {}
        for field_name, var in cls.ENV.items():
            raw = os.environ.get(var, "").strip().replace("_", "")
            if raw:
                try:
                    values[field_name] = int(float(raw))
                except ValueError:
                    raise ValueError(f"{var}={os.environ[var]!r} is not a number") from None
        return cls(**values)

    def check_bytes(self, path: str | os.PathLike, n: int, what: str = "file") -> None:
        if 0 < self.max_bytes < n:
            raise LimitError(path, f"{what} is {n:,} bytes, over the limit of {self.max_bytes:,} bytes "
                                   f"(raise it with the environment variable {self.ENV['max_bytes']})")

    def check_chars(self, path: str | os.PathLike, n: int) -> None:
        if 0 < self.max_chars < n:
            raise LimitError(path, f"text is {n:,} characters, over the limit of {self.max_chars:,} characters "
                                   f"per document (raise it with the environment variable {self.ENV['max_chars']})")


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: str | os.PathLike):
    """Open ``path`` for binary reading only if it is a regular file. FIFOs, sockets and
    devices are refused without blocking (opened non-blocking, checked with ``fstat``, never
    read); raises ReadError with a one-line problem."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ReadError(path, "no such file") from None
    except OSError as e:
        raise ReadError(path, f"cannot read ({e.strerror})") from None
    if stat.S_ISDIR(mode):
        raise ReadError(path, "is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise ReadError(path, f"is {file_kind(mode)}, not a regular file; not read")
    try:  # non-blocking, in case it was replaced by a FIFO since: fstat below tells
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise ReadError(path, "no such file") from None
    except IsADirectoryError:
        raise ReadError(path, "is a directory, not a file") from None
    except OSError as e:
        raise ReadError(path, f"cannot read ({e.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ReadError(path, f"is {file_kind(mode)}, not a regular file; not read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_bytes(path: str | os.PathLike, limits: Limits | None = None) -> bytes:
    """The bytes of a regular file, refusing non-regular files and files over ``max_bytes``."""
    limits = limits or Limits.from_env()
    with open_regular(path) as f:
        limits.check_bytes(path, os.fstat(f.fileno()).st_size)
        try:
            data = f.read(limits.max_bytes + 1) if limits.max_bytes > 0 else f.read()
        except OSError as e:
            raise ReadError(path, f"cannot read ({e.strerror})") from None
    limits.check_bytes(path, len(data))
    return data


_HUB_REACHABLE: dict[str, bool] = {}


def hub_unreachable(timeout: float = 2.0) -> bool:
    """Whether model files must come from local files only: ``HF_HUB_OFFLINE`` is set, or the
    hub (``HF_ENDPOINT``, default huggingface.co) does not answer a TCP connection within
    ``timeout`` seconds (checked once per process), so that a hub id fails in seconds instead
    of retrying for most of a minute; a model in the local cache still loads."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    key = f"{host}:{port}"
    if key not in _HUB_REACHABLE:
        import socket

        try:
            socket.create_connection((host, port), timeout=timeout).close()
            _HUB_REACHABLE[key] = True
        except OSError:
            _HUB_REACHABLE[key] = False
    return not _HUB_REACHABLE[key]


def load_pretrained(auto_class: Any, src: str, what: str) -> tuple[Any, Any]:
    """(tokenizer, model) of a Hugging Face directory or hub id, with ``auto_class`` (an
    ``AutoModelFor…``): safetensors only (never a pickle), float32, local files only when ``src``
    is a directory or the hub is unreachable. Any failure (missing, truncated or garbage files)
    is one ``OSError`` naming ``src`` and ``what`` was being loaded."""
    import torch
    from transformers import AutoTokenizer

    local = Path(src).exists()
    files_only = local or hub_unreachable()
    try:
        tokenizer = AutoTokenizer.from_pretrained(src, local_files_only=files_only)
        model = auto_class.from_pretrained(src, local_files_only=files_only, use_safetensors=True, dtype=torch.float32)
    except Exception as e:  # OSError; safetensors' SafetensorError; ValueError
        where = "local directory" if local else ("hub id (no local directory of that name; "
                                                 + ("the hub is unreachable and it is not in the local cache)" if files_only
                                                    else "is the hub reachable?)"))
        why = str(e).splitlines()[0] if str(e) else ""
        raise OSError(f"cannot load {what} from {src!r} as a {where}: "
                      f"{why if isinstance(e, OSError) else f'{type(e).__name__}: {why}'}") from None
    return tokenizer, model


class DeviceError(ValueError):
    """A device was asked for that this machine or this PyTorch build cannot give."""


def torch_device(device: str | None = None) -> str:
    """The PyTorch device to run on, as a string: ``device`` (``cpu``, ``cuda``, ``cuda:N``) or,
    when None, ``cuda`` where a GPU is visible and ``cpu`` otherwise. A CUDA device that cannot be
    had (a CPU-only PyTorch build, no GPU visible, a device number past the last GPU) is one
    ``DeviceError`` saying why, raised before any model is moved."""
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError as e:
        raise DeviceError(f"unknown device {device!r} ({str(e).splitlines()[0]})") from None
    if dev.type == "cuda":
        if not torch.backends.cuda.is_built():
            raise DeviceError(f"device {device!r} asked for, but this PyTorch ({torch.__version__}) is built without "
                              "CUDA; run on the cpu device or install a CUDA build of PyTorch")
        if not torch.cuda.is_available():
            raise DeviceError(f"device {device!r} asked for, but no CUDA GPU is visible to PyTorch; run on the cpu device")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(f"device {device!r} asked for, but only {torch.cuda.device_count()} CUDA GPU(s) are visible "
                              f"(cuda:0 to cuda:{torch.cuda.device_count() - 1})")
    return str(dev)


# --------------------------------------------------------------------------- shipped models

MODELS_ENV = "GOVREPORT_MODELS"
# inside an installed package (the wheel maps the repository's models/ here: setup.py)
PACKAGED_MODELS = Path(__file__).resolve().parent / "_models"
# in a source checkout or an editable install: the repository's models/
SOURCE_MODELS = Path(__file__).resolve().parent.parent / "models"


class ModelNotFoundError(OSError):
    """The shipped default model is not where the package looks for it (``searched``, in order)."""

    def __init__(self, name: str, folder: str | os.PathLike):
        self.name = name
        same = Path(folder).resolve() == find_models_dir().resolve()
        self.searched = [str(p) for p in (models_dir_candidates() if same else [folder])]
        super().__init__(f"no {name} model found (looked in {', '.join(self.searched)}); "
                         f"install the package with its models or point {MODELS_ENV} at a models folder")


def models_dir_candidates() -> list[Path]:
    """Where shipped models are looked for, in order: the folder ``GOVREPORT_MODELS`` names
    (alone, when set), else the models inside the installed package, then the source tree's
    ``models/``."""
    env = os.environ.get(MODELS_ENV, "").strip()
    if env:
        return [Path(env)]
    return [PACKAGED_MODELS, SOURCE_MODELS]


def find_models_dir() -> Path:
    """The folder holding the shipped models: the first of ``models_dir_candidates()`` that
    exists (the last one when none does, so that what is missing is named)."""
    candidates = models_dir_candidates()
    return next((p for p in candidates if p.is_dir()), candidates[-1])


def package_version() -> str:
    """The installed version of govreport-nlp (the package's ``__version__`` when it runs
    from a source tree that was never installed)."""
    try:
        from importlib.metadata import version

        return version("govreport-nlp")
    except Exception:  # not installed as a distribution
        import sys

        return str(vars(sys.modules[__package__]).get("__version__", "unknown"))


_WEIGHT_SUFFIXES = {".safetensors", ".bin", ".onnx", ".json", ".txt", ".model"}


@functools.lru_cache(maxsize=16)
def _dir_digest(path: str, mtimes: tuple) -> str:
    h = hashlib.sha256()
    for rel, _ in mtimes:
        h.update(rel.encode("utf-8") + b"\0")
        with open(os.path.join(path, rel), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def weights_digest(model: str | os.PathLike | None) -> str | None:
    """A short SHA-256 (16 hex digits) of the files that decide a model's outputs (weights,
    configs, vocabularies; two levels deep, hidden folders and checkpoints left out), computed
    once per process for files that have not changed since; a hub id stands for itself
    (``hub:ID``); None for no model."""
    if model is None:
        return None
    p = Path(model)
    if not p.is_dir():
        return f"hub:{model}"
    files = []
    for root, dirs, names in os.walk(p):
        depth = len(Path(root).relative_to(p).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not d.startswith("checkpoint") and depth < 1)
        for n in sorted(names):
            full = Path(root) / n
            if full.suffix.lower() in _WEIGHT_SUFFIXES and not n.startswith(".") and full.is_file():
                files.append((str(full.relative_to(p)), full.stat().st_mtime_ns))
    return _dir_digest(str(p.resolve()), tuple(files))


def provenance(described: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance every annotated record carries (``meta["provenance"]``), from a
    description of what made it (``nlp.pipeline.LabellerSpec.describe``): the package and its
    version; the labeller, its model's name (a directory's name or a hub id; None for rules)
    and ``weights`` (``sha256:`` and the first 16 hex digits of ``weights_digest``, or
    ``hub:ID``); the backend asked for (None: the model directory's own); the entity mode
    (``rules``, ``combined``: an entity tagger with the rules, ``model``: the tagger alone) and
    the entity tagger's name and weights (None with the rules)."""

    def name(src: Any) -> str | None:
        return None if src is None else (Path(src).name if Path(src).exists() else str(src))

    def tagged(digest: str | None) -> str | None:
        return digest if digest is None or digest.startswith("hub:") else f"sha256:{digest}"

    return {"package": "govreport-nlp", "version": package_version(), "labeller": described["labeller"],
            "model": name(described.get("model")), "weights": tagged(described.get("weights")),
            "backend": described.get("backend"), "entities": described["entities"],
            "ner": name(described.get("ner")), "ner_weights": tagged(described.get("ner_weights"))}


@dataclass
class RawText:
    text: str
    format: str  # txt | html | docx | pdf
    encoding: str | None = None
    replaced: int = 0  # invalid bytes replaced by U+FFFD while decoding (a warning, not an error)


_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]

_HTML_SNIFF = re.compile(r"<\s*(!doctype\s+html|html|head|body|meta|div|p|title)\b", re.I)


def decode_bytes(data: bytes, path: str = "<bytes>") -> tuple[str, str]:
    """Decode text bytes, detecting UTF-8 (with or without BOM), UTF-16/32 and GB18030/GBK.

    Returns (text, encoding). Raises ReadError for bytes that are not text.
    """
    text, enc, _ = decode_text(data, path)
    return text, enc


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def _utf8_with_few_errors(data: bytes, max_share: float = 0.01) -> tuple[str, int] | None:
    """UTF-8 text with a few invalid bytes (a damaged file, a last character cut off): the text
    with each bad byte replaced by U+FFFD and their count, when the valid multi-byte characters
    outnumber the bad bytes 20 to 1 and the bad bytes are at most 16 or ``max_share`` of the file
    (text in another encoding gives far more errors); else None."""
    text = data.decode("utf-8", errors="surrogateescape")  # one lone surrogate per bad byte
    bad = len(_ESCAPED_BYTE.findall(text))
    if not bad or bad > max(16, int(len(data) * max_share)):
        return None
    multibyte = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    if multibyte < 20 * bad:
        return None
    return _ESCAPED_BYTE.sub("\ufffd", text), bad


def decode_text(data: bytes, path: str = "<bytes>") -> tuple[str, str, int]:
    """``decode_bytes`` that also reads UTF-8 with a few invalid bytes (replaced by U+FFFD):
    returns (text, encoding, number of bytes replaced)."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc, 0
            except UnicodeDecodeError as e:
                raise ReadError(path, f"starts with a {enc} byte-order mark but does not decode ({e.reason})")
    # UTF-16 without BOM: NUL bytes (ASCII characters) and a decoding that reads as text
    if len(data) >= 4 and b"\x00" in data[:4096]:
        best = None
        for enc in ("utf-16-le", "utf-16-be"):
            try:
                cand = data.decode(enc)
            except UnicodeDecodeError:
                continue
            ratio = _plausible_ratio(cand)
            if ratio > 0.9 and (best is None or ratio > best[0]):
                best = (ratio, cand, enc)
        if best:
            return best[1], best[2], 0
        raise ReadError(path, "binary file (contains NUL bytes), not a text report")
    try:
        return data.decode("utf-8"), "utf-8", 0
    except UnicodeDecodeError:
        pass
    damaged = _utf8_with_few_errors(data)
    if damaged is not None:
        return damaged[0], "utf-8", damaged[1]
    # Chinese government sites mostly publish GBK/GB2312; GB18030 is their superset.
    try:
        text = data.decode("gb18030")
        if _looks_like_text(text):
            return text, "gb18030", 0
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or not _looks_like_text(str(best)):
        raise ReadError(path, "cannot detect a text encoding (binary or corrupt file)")
    return str(best), best.encoding, 0


def _plausible_ratio(text: str) -> float:
    """Share of characters that are CJK, CJK punctuation, printable ASCII or whitespace."""
    sample = text[:5000]
    if not sample:
        return 0.0
    ok = sum(1 for ch in sample if ("\u4e00" <= ch <= "\u9fff") or ("\u3000" <= ch <= "\u303f")
             or ("\uff00" <= ch <= "\uffef") or (" " <= ch <= "~") or ch in "\r\n\t“”‘’…—·•")
    return ok / len(sample)


def _looks_like_text(text: str) -> bool:
    if not text:
        return False
    bad = sum(1 for ch in text[:20000] if (ord(ch) < 32 and ch not in "\r\n\t\f") or 0xE000 <= ord(ch) <= 0xF8FF)
    return bad / min(len(text), 20000) < 0.01


def sniff_format(data: bytes) -> str:
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "word/document.xml" in z.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            pass
        return "zip"
    return "text"


def read_document_text(path: str | os.PathLike, limits: Limits | None = None) -> RawText:
    """Read a report file into raw text with paragraph breaks as newlines. Only regular files
    are opened; ``limits`` (default: ``Limits.from_env()``) bound the bytes and characters."""
    p = Path(path)
    limits = limits or Limits.from_env()
    data = read_regular_bytes(p, limits)
    return raw_text_from_bytes(data, p, limits)


def has_letters(text: str) -> bool:
    """Whether a text holds any letter or digit (Chinese characters included): punctuation,
    symbols and whitespace alone are no text."""
    return any(ch.isalnum() for ch in text)


def raw_text_from_bytes(data: bytes, path: str | os.PathLike = "<bytes>", limits: Limits | None = None) -> RawText:
    """The report in a file's bytes (read from disk or from object storage); ``path`` only
    names it in errors. Raises ReadError as ``read_document_text`` does (``LimitError`` for an
    input over ``limits``)."""
    p = path
    limits = limits or Limits.from_env()
    limits.check_bytes(p, len(data))
    if not data.strip():
        raise ReadError(p, "empty file")
    fmt = sniff_format(data)
    try:
        if fmt == "pdf":
            text = pdf_to_text(data, str(p))
            result = RawText(text, "pdf")
        elif fmt == "docx":
            result = RawText(docx_to_text(data, str(p), limits), "docx")
        elif fmt == "zip":
            raise ReadError(p, "zip archive that is not a .docx document")
        else:
            text, enc, replaced = decode_text(data, str(p))
            if _HTML_SNIFF.search(text[:5000]):
                result = RawText(html_to_text(text), "html", enc, replaced)
            else:
                result = RawText(text, "txt", enc, replaced)
    except RecursionError:
        raise ReadError(p, f"{fmt} file nested too deeply to read") from None
    if not result.text.strip():
        raise ReadError(p, f"no text found in this {result.format} file")
    if not has_letters(result.text):
        raise ReadError(p, f"no text in this {result.format} file (no letters or digits, only punctuation or symbols)")
    limits.check_chars(p, len(result.text))
    return result


# --------------------------------------------------------------------------- HTML

_DROP_TAGS = ("script", "style", "noscript", "iframe", "nav", "header", "footer", "form",
              "button", "select", "svg", "canvas", "template", "head", "input", "textarea")
_DROP_ATTR = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|breadcrumb|crumb|share|bdshare|social|footer|header|toolbar|"
    r"sidebar|qrcode|ewm|copyright|topbar|search)([\s_-]|$)", re.I)
_BLOCK_TAGS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
               "table", "section", "article", "blockquote", "pre", "dd", "dt", "dl", "td", "th",
               "hr", "main", "center", "title", "figure", "figcaption"}


def html_to_text(html: str) -> str:
    """Main text of a web page with paragraph breaks; scripts, navigation, share widgets dropped."""
    from bs4 import BeautifulSoup, Comment, NavigableString, Tag

    soup = BeautifulSoup(html, "lxml")
    for t in soup.find_all(_DROP_TAGS):
        t.decompose()
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    # navigation, share widgets …: drop every element whose id or class says so (the outermost
    # of nested ones; its descendants go with it). Decided before removing anything, because
    # bs4's ``decomposed`` test searches the subtree and is quadratic on deeply nested pages.
    matched = []
    for t in soup.find_all(True):
        attrs = getattr(t, "attrs", None)
        if not attrs:
            continue
        ident = " ".join([attrs.get("id") or ""] + list(attrs.get("class") or []))
        if ident and _DROP_ATTR.search(ident):
            matched.append(t)
    matched_ids = {id(t) for t in matched}
    for t in [t for t in matched if not any(id(a) in matched_ids for a in t.parents)]:
        t.decompose()
    root = soup.body or soup
    parts: list[str] = []
    # depth-first over the tree with an explicit stack (deeply nested pages must not hit the
    # recursion limit); a block element's newline is pushed to be emitted after its children
    stack: list[Any] = list(reversed(list(root.children)))
    while stack:
        child = stack.pop()
        if isinstance(child, str) and not isinstance(child, NavigableString):  # a closing newline
            parts.append(child)
        elif isinstance(child, NavigableString):
            parts.append(str(child).replace("\n", " ").replace("\r", " "))
        elif isinstance(child, Tag):
            block = child.name in _BLOCK_TAGS
            if block:
                parts.append("\n")
                stack.append("\n")
            stack.extend(reversed(list(child.children)))
    lines = [re.sub(r"[ \t]+", " ", ln).strip() for ln in "".join(parts).split("\n")]
    return "\n".join(ln for ln in lines if ln)


# --------------------------------------------------------------------------- DOCX, PDF


def docx_to_text(data: bytes, path: str = "<docx>", limits: Limits | None = None) -> str:
    import docx

    limits = limits or Limits.from_env()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unzipped = sum(i.file_size for i in z.infolist())  # a member never inflates past its declared size
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise ReadError(path, f"corrupt .docx ({type(e).__name__})") from None
    limits.check_bytes(path, unzipped, "unzipped .docx content")
    try:
        d = docx.Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises several kinds for corrupt packages
        raise ReadError(path, f"corrupt .docx ({type(e).__name__})")
    lines: list[str] = []
    body = d.element.body
    from docx.table import Table
    from docx.text.paragraph import Paragraph as DocxParagraph

    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(DocxParagraph(child, d).text)
        elif tag == "tbl":
            for row in Table(child, d).rows:
                cells: list[str] = []
                for cell in row.cells:
                    if cell.text not in cells:
                        cells.append(cell.text)
                lines.append(" ".join(cells))
    return "\n".join(lines)


_PDF_END = re.compile(r"[。！？；:：!?;」”）)]$")
_PDF_START_BLOCK = re.compile(r"^\s*([一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、]|第[一二三四五六七八九十]+[章节条])")


def pdf_to_text(data: bytes, path: str = "<pdf>") -> str:
    """Text layer of a PDF. Lines wrapped by the page width are joined back into paragraphs."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as e:
        raise ReadError(path, f"corrupt PDF ({e})")
    if not any(p.strip() for p in pages):
        raise ReadError(path, "PDF has no text layer (scanned image?); OCR it first")
    lines = [ln.strip() for page in pages for ln in page.splitlines()]
    lines = [ln for ln in lines if ln and not re.fullmatch(r"[-—\s]*\d+[-—\s]*", ln)]  # page numbers
    if not lines:
        return ""
    lengths = sorted(len(ln) for ln in lines)
    full = lengths[int(0.8 * (len(lengths) - 1))]  # typical full-line width
    out = [lines[0]]
    for ln in lines[1:]:
        prev = out[-1]
        heading_line = bool(_PDF_START_BLOCK.match(prev)) and len(prev) < 30
        wrapped = (len(prev) >= full - 2 and not _PDF_END.search(prev) and not _PDF_START_BLOCK.match(ln)
                   and not heading_line)
        if wrapped:
            out[-1] = prev + ln
        else:
            out.append(ln)
    return "\n".join(out)


# --------------------------------------------------------------------------- writing


def iter_jsonl(path: str | os.PathLike) -> Iterator[Any]:
    """The JSON value of every non-blank line of a UTF-8 JSONL file (a regular file only);
    a line that is not UTF-8 or not JSON raises ReadError naming the line."""
    with open_regular(path) as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8").strip()
            except UnicodeDecodeError as e:
                raise ReadError(path, f"line {lineno} is not UTF-8 text (byte {e.start + 1} of the line)") from None
            if not line:
                continue
            try:
                yield json.loads(line)
            except ValueError as e:  # JSONDecodeError; also numbers too long to convert
                raise ReadError(path, f"line {lineno} is not valid JSON ({getattr(e, 'msg', e)})") from None
            except RecursionError:
                raise ReadError(path, f"line {lineno} is JSON nested too deeply") from None


class AtomicWriter:
    """Write to ``path.part`` and rename into place on success; nothing half-written remains.
    Text (UTF-8, or ``encoding``) by default; ``binary=True`` gives a byte stream (Parquet)."""

    def __init__(self, path: str | os.PathLike, newline: str | None = None, binary: bool = False,
                 encoding: str = "utf-8"):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".part")
        self.newline = newline
        self.binary = binary
        self.encoding = encoding
        self.f: Any = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.binary:
            self.f = open(self.tmp, "wb")
        else:
            self.f = open(self.tmp, "w", encoding=self.encoding, newline=self.newline)
        return self.f

    def __exit__(self, exc_type, exc, tb):
        self.f.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)
        return False


def write_jsonl(records: Iterable[dict[str, Any]], path: str | os.PathLike) -> int:
    n = 0
    with AtomicWriter(path) as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    return n


# Spreadsheet formula injection (OWASP "CSV Injection"): a cell that starts with one of these
# is run as a formula by Excel, LibreOffice and Google Sheets. Such text cells are written with a
# single quote in front ('=SUM(…)), which spreadsheets show as text; numbers are left alone.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A CSV cell value that a spreadsheet will not run as a formula (text starting with
    ``= + - @``, tab or carriage return gets a leading single quote); other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_unsafe(value: str) -> str:
    """The text ``csv_safe`` was given (the leading quote removed again)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def csv_safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: csv_safe(v) for k, v in row.items()}


# CSV files are written as UTF-8 with a byte order mark, which Excel needs to read Chinese
# text as UTF-8 (the readers here, pandas and Python's "utf-8-sig" all skip it).
CSV_ENCODING = "utf-8-sig"

SENTENCE_CSV_FIELDS = ["doc_id", "source_path", "title", "year", "sentence", "start", "end", "paragraph",
                       "heading_path", "label", "score", "label_source", "reason", "is_heading", "text", "entities"]
HEADING_PATH_SEP = " > "


def _heading_paths(record: dict[str, Any]) -> list[str]:
    """For each sentence of a record, the texts of its enclosing headings (``Document.heading_path``)
    joined with `` > ``; empty where there is none."""
    from .doc import Document

    doc = Document.from_dict({**record, "text": record.get("text") or ""})
    by_paragraph: dict[int, str] = {}
    paths = []
    for i, s in enumerate(doc.sentences):
        if s.paragraph not in by_paragraph:
            ok = 0 <= s.paragraph < len(doc.paragraphs)
            by_paragraph[s.paragraph] = HEADING_PATH_SEP.join(h.text for h in doc.heading_path(i)) if ok else ""
        paths.append(by_paragraph[s.paragraph])
    return paths


def entities_cell(entities: Iterable[Mapping[str, Any]]) -> str:
    """Entities as one CSV cell: ``TYPE:start-end:text; …`` (document offsets)."""
    return "; ".join(f"{e['type']}:{e['start']}-{e['end']}:{e['text']}" for e in entities)


def record_year(rec: Mapping[str, Any]) -> int | None:
    """The report year: ``meta.year`` (from the input table or ``--meta``), else the first
    19xx/20xx 年 of the title."""
    meta = rec.get("meta") or {}
    y = meta.get("year")
    if isinstance(y, (int, float)) and not isinstance(y, bool) and y == y:
        return int(y)
    if isinstance(y, str) and y.strip().isdigit():
        return int(y.strip())
    m = re.search(r"((?:19|20)\d{2})\s*年", rec.get("title") or "")
    return int(m.group(1)) if m else None


def sentence_rows(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per sentence of an annotated document record: its document (id, source, title,
    report year), position, enclosing headings, label with its probability (``score``, the
    largest of the sentence's ``scores``; None without them), text and entities with offsets."""
    ents = record.get("entities", [])
    heading_paths = _heading_paths(record)
    year = record_year(record)
    for i, s in enumerate(record["sentences"]):
        inside = [e for e in ents if e["start"] >= s["start"] and e["end"] <= s["end"]]
        scores = s.get("scores")
        yield {
            "doc_id": record["id"], "source_path": record.get("source_path"), "title": record.get("title"),
            "year": year, "sentence": i, "start": s["start"], "end": s["end"], "paragraph": s["paragraph"],
            "heading_path": heading_paths[i], "label": s["label"],
            "score": max(scores.values()) if scores else None, "label_source": s["label_source"],
            "reason": s.get("reason"), "is_heading": s.get("is_heading", False), "text": s["text"],
            "entities": entities_cell(inside),
        }


def write_sentence_csv(records: Iterable[dict[str, Any]], path: str | os.PathLike) -> int:
    n = 0
    with AtomicWriter(path, newline="", encoding=CSV_ENCODING) as f:
        w = csv.DictWriter(f, fieldnames=SENTENCE_CSV_FIELDS)
        w.writeheader()
        for r in records:
            for row in sentence_rows(r):
                w.writerow(csv_safe_row(row))
                n += 1
    return n


TABLE_SUFFIXES = (".csv", ".parquet")
LIST_SEP = ";"  # between the items of a list column in a CSV cell


def write_table(rows: Iterable[dict[str, Any]], fields: Sequence[str], path: str | os.PathLike,
                types: Mapping[str, str] | None = None) -> int:
    """Write rows as CSV or Parquet (by the suffix of ``path``), atomically. ``types`` maps a
    field to string | int | float | bool | list (a list of strings: a Parquet list, a
    ``;``-joined CSV cell) for the Parquet schema (default string)."""
    rows = list(rows)
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        lists = [f for f in fields if (types or {}).get(f) == "list"]
        with AtomicWriter(path, newline="", encoding=CSV_ENCODING) as f:
            w = csv.DictWriter(f, fieldnames=list(fields), extrasaction="ignore")
            w.writeheader()
            w.writerows(csv_safe_row({**r, **{k: LIST_SEP.join(map(str, r.get(k) or ())) for k in lists}})
                        for r in rows)
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        kinds = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
                 "list": pa.list_(pa.string())}
        schema = pa.schema([(f, kinds[(types or {}).get(f, "string")]) for f in fields])
        table = pa.Table.from_pylist([{f: r.get(f) for f in fields} for r in rows], schema=schema)
        with AtomicWriter(path, binary=True) as f:
            pq.write_table(table, f)
    else:
        raise ValueError(f"{path}: table output must end in {' or '.join(TABLE_SUFFIXES)}")
    return len(rows)
