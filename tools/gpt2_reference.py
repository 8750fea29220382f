#!/usr/bin/env python3
"""gpt2_reference.py — GPT-2's published encoding algorithm (encoder.py),
re-written from its description, as an independent reference for the tests.

It uses Python's `regex` module, as encoder.py does, so its pattern means
exactly what GPT-2's does (\\s includes U+0085 and excludes U+FEFF, unlike
JavaScript's, which is why gpt-3-encoder differs there; see
shared/REFERENCES.md).

  python3 tools/gpt2_reference.py VOCAB_JSON MERGES_TXT < texts.jsonl > cases.jsonl

reads one JSON string per line and writes {"text": ..., "ids": [...]} lines.
Run with no texts file and --nel-bom to write the NEL/BOM cases that
tests/native/test_tokenizer.c checks (tests/fixtures/tokenizer/gpt2_nel_bom_cases.jsonl).
"""
import json
import random
import sys

import regex

PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def byte_spelling():
    """GPT-2's bytes_to_unicode(): byte -> printable character."""
    keep = list(range(0x21, 0x7F)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


class Gpt2:
    def __init__(self, vocab_path, merges_path):
        with open(vocab_path, encoding="utf-8") as f:
            self.vocab = json.load(f)
        with open(merges_path, encoding="utf-8") as f:
            lines = f.read().split("\n")[1:-1]  # encoder.py: drop "#version" and the last line
        self.ranks = {tuple(l.split()): i for i, l in enumerate(lines)}
        self.spell = byte_spelling()

    def bpe(self, word):
        word = list(word)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):  # every occurrence, left to right, no overlaps
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return word

    def encode(self, text):
        ids = []
        for piece in PATTERN.findall(text):
            spelled = "".join(self.spell[b] for b in piece.encode("utf-8"))
            ids.extend(self.vocab[t] for t in self.bpe(spelled))
        return ids


NEL_BOM_TEXTS = [
    "\u0085", "a\u0085b", "!\u0085", "\u0085!", "Hello\u0085world", "Hello \u0085 world",
    "x\u0085\u0085y", "\u0085 word", "end\u0085", "  \u0085  ", "1\u00852", "(\u0085)",
    "\ufeff", "\ufeffHello", "Hello\ufeff", "a \ufeff b", "!\ufeff!", " \ufeff", "\ufeff ",
    "\ufeff\ufeff", "\ufeff\u0085\ufeff", "line\r\n\u0085next", "\ufeff{\"a\": 1}",
    "\u00a0\u0085\u3000\ufeff", "word \u0085\nword", "\u0085\u0085 \u0085",
]


def nel_bom_texts():
    """The hand-written cases, then 300 short random mixes (fixed seed) of
    NEL/BOM with the characters whose pieces they could join or split."""
    rng = random.Random(85)
    parts = ["\u0085", "\ufeff", " ", "  ", "a", "Hi", "!", "?!", "1", "42", "\n", "\t", "\u00e9",
             "'s", "\u3000", "\u00a0", "\u4e2d", ".", "\r\n"]
    texts = list(NEL_BOM_TEXTS)
    while len(texts) < len(NEL_BOM_TEXTS) + 300:
        t = "".join(rng.choice(parts) for _ in range(rng.randint(2, 8)))
        if ("\u0085" in t or "\ufeff" in t) and t not in texts:
            texts.append(t)
    return texts


def main():
    vocab, merges = sys.argv[1], sys.argv[2]
    gpt2 = Gpt2(vocab, merges)
    texts = nel_bom_texts() if "--nel-bom" in sys.argv else (json.loads(l) for l in sys.stdin)
    for text in texts:
        print(json.dumps({"text": text, "ids": gpt2.encode(text)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
