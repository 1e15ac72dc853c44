"""Real vocabulary for generated benchmark content, read from ../shared/data/.

Titles, Markdown body blocks, answer blocks, tags and author names come from the IoT and Beer
Stack Exchange dumps and from StackFAQ (Web Applications support threads); StackFAQ's human
rewordings of its questions make realistic search queries. Each Markdown block is rendered once
through the product's own renderer, so generated bodies are composed from blocks without
rendering every post.
"""

from __future__ import annotations

import json
import random
import re

# The dumps are the project's own checksummed data set (SHA256SUMS.txt), not untrusted input.
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

SITES = ("iot.stackexchange.com", "beer.stackexchange.com")
MAX_BLOCK_CHARS = 1200
_TAG_RE = re.compile(r"<([^>]+)>")
_FENCE = "```"


@dataclass
class Vocabulary:
    titles: list[str] = field(default_factory=list)
    question_blocks: list[tuple[str, str]] = field(default_factory=list)  # (markdown, html)
    answer_blocks: list[tuple[str, str]] = field(default_factory=list)
    comment_blocks: list[tuple[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)

    def title(self, rng: random.Random) -> str:
        """A title in the style of the real ones: the start of one real title and the end of
        another, so 100k titles are not 2k titles repeated."""
        first, second = rng.choice(self.titles).split(), rng.choice(self.titles).split()
        if len(first) < 4 or len(second) < 4 or rng.random() < 0.3:
            return " ".join(first)[:200]
        cut_a, cut_b = len(first) // 2, len(second) // 2
        return " ".join(first[:cut_a] + second[cut_b:])[:200]

    def body(self, rng: random.Random, blocks: list[tuple[str, str]], lo: int, hi: int):
        chosen = [rng.choice(blocks) for _ in range(rng.randint(lo, hi))]
        return "\n\n".join(md for md, _ in chosen), "\n".join(html for _, html in chosen)


def _blocks(markdown: str) -> list[str]:
    """Top-level Markdown blocks, dropping any that would cut a fenced code block in half."""
    result = []
    for block in re.split(r"\n\s*\n", markdown.strip()):
        block = block.strip()
        if block and len(block) <= MAX_BLOCK_CHARS and block.count(_FENCE) % 2 == 0:
            result.append(block)
    return result


def load(data_dir: Path) -> Vocabulary:
    """Read the dumps once (a few seconds) and render every distinct block through the product's
    Markdown pipeline. Needs Django set up."""
    from markdownify import markdownify

    from community.markdown import render_markdown
    from community.services.posts import MAX_TAGS, normalize_tag_names

    vocab = Vocabulary()
    question_md: list[str] = []
    answer_md: list[str] = []
    tags: set[str] = set()
    for site in SITES:
        for _, row in ET.iterparse(data_dir / site / "Posts.xml"):  # noqa: S314
            if row.tag != "row":
                continue
            body = markdownify(row.get("Body") or "", heading_style="ATX", bullets="-")
            if row.get("PostTypeId") == "1":
                vocab.titles.append(row.get("Title") or "")
                question_md.extend(_blocks(body))
                # The product's own slugs: "3.2-beer" is not a slug, and a tag link to it
                # could not be reversed (the list pages showing it failed).
                tags.update(normalize_tag_names(_TAG_RE.findall(row.get("Tags") or "")[:MAX_TAGS]))
            elif row.get("PostTypeId") == "2":
                answer_md.extend(_blocks(body))
            row.clear()
        for _, row in ET.iterparse(data_dir / site / "Users.xml"):  # noqa: S314
            if row.tag == "row" and row.get("DisplayName"):
                vocab.names.append(row.get("DisplayName"))
            row.clear()
        for _, row in ET.iterparse(data_dir / site / "Comments.xml"):  # noqa: S314
            if row.tag == "row" and row.get("Text"):
                vocab.comment_blocks.append(row.get("Text")[:500])
            row.clear()

    faq = json.loads((data_dir / "StackFAQ" / "stackExchange-FAQ.json").read_text())
    for pair in faq["root"]["qapair"]:
        vocab.titles.append(pair["question"])
        answer_md.extend(b for answer in pair["answer"] if answer for b in _blocks(answer))
        vocab.queries.extend(q for q in pair["rephr"] if q and len(q) > 8)

    vocab.titles = [t for t in vocab.titles if t.strip()]
    vocab.tags = sorted(tags)
    vocab.question_blocks = [(md, render_markdown(md)) for md in dict.fromkeys(question_md)]
    vocab.answer_blocks = [(md, render_markdown(md)) for md in dict.fromkeys(answer_md)]
    vocab.comment_blocks = [(md, render_markdown(md)) for md in dict.fromkeys(vocab.comment_blocks)]
    # Title words make the second half of the query set: what people type into a search box.
    rng = random.Random(7)
    vocab.queries.extend(" ".join(rng.choice(vocab.titles).split()[:4]) for _ in range(500))
    return vocab
