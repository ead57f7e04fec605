/**
 * Tokenizers: `word` and `char` (vocabulary built from the training text) and `gpt2`
 * (r50k_base BPE from the `gpt-tokenizer` package, optionally remapped to the ids the
 * training text uses so a tiny model's output layer stays small).
 *
 * Id layout
 *   word, char, gpt2 with remap_to_data:  0 <pad>, 1 <bos>, 2 <eos>, 3 <unk>, then the vocabulary
 *     (word/char: sorted by UTF-16 code units; gpt2: the r50k ids the corpus uses, ascending).
 *   gpt2 without remap: the 50,257 r50k ids unchanged, so pretrained GPT-2 weights fit; as in
 *     GPT-2, <|endoftext|> (50256) serves as BOS, EOS and padding, and byte-level BPE never
 *     needs an unknown token (`unk` is 50256 too and is never produced).
 *
 * Round trips: `gpt2` decode(encode(t)) === t for any t; `char` for texts made of corpus
 * characters; `word` gives the words joined by single spaces (see words.ts for the split rule).
 * `decode` leaves out BOS, EOS and padding.
 */
import { encode as r50kEncode } from 'gpt-tokenizer/encoding/r50k_base';
import r50kRanks from 'gpt-tokenizer/bpeRanks/r50k_base';
import { AvaError } from '../errors.js';
import type { TokenizerConfig } from '../experiment/config.js';
import { joinWords, splitWords } from './words.js';

export interface Tokenizer {
  readonly kind: 'gpt2' | 'word' | 'char';
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  readonly unk: number;
  /** gpt2 only: the r50k id each id stands for (specials ⇒ <|endoftext|>), for loading GPT-2 weights. */
  readonly sourceIds?: readonly number[];
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** The text one token shows in a UI (`" world"` for GPT-2, `<eos>` for a special). */
  tokenText(id: number): string;
  toJSON(): TokenizerJSON;
}

/** What `tokenizer.json` in a checkpoint holds. `vocab` lists the ids after the 4 specials. */
export type TokenizerJSON =
  | { version: 1; kind: 'word'; lowercase: boolean; vocab: string[] }
  | { version: 1; kind: 'char'; vocab: string[] }
  | { version: 1; kind: 'gpt2'; remap: number[] | null };

const SPECIALS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;
const [PAD, BOS, EOS, UNK] = [0, 1, 2, 3];
const N_SPECIAL = SPECIALS.length;

// ---------------------------------------------------------------------------------------------
// word / char

type Splitter = (text: string) => string[];
type Joiner = (tokens: string[]) => string;

class VocabTokenizer implements Tokenizer {
  readonly bos = BOS;
  readonly eos = EOS;
  readonly pad = PAD;
  readonly unk = UNK;
  readonly vocabSize: number;
  private readonly idOf: Map<string, number>;

  constructor(
    readonly kind: 'word' | 'char',
    private readonly vocab: readonly string[],
    private readonly split: Splitter,
    private readonly join: Joiner,
    private readonly json: TokenizerJSON,
  ) {
    this.vocabSize = N_SPECIAL + vocab.length;
    this.idOf = new Map(vocab.map((t, i) => [t, N_SPECIAL + i]));
  }

  encode(text: string): number[] {
    return this.split(text).map((t) => this.idOf.get(t) ?? UNK);
  }

  decode(ids: number[]): string {
    return this.join(ids.filter((id) => id !== BOS && id !== EOS && id !== PAD).map((id) => this.tokenText(id)));
  }

  tokenText(id: number): string {
    checkId(id, this.vocabSize);
    return id < N_SPECIAL ? SPECIALS[id] : this.vocab[id - N_SPECIAL];
  }

  toJSON(): TokenizerJSON {
    return this.json;
  }
}

function wordTokenizer(vocab: string[], lowercase: boolean): Tokenizer {
  const json: TokenizerJSON = { version: 1, kind: 'word', lowercase, vocab };
  return new VocabTokenizer('word', vocab, (t) => splitWords(t, lowercase), joinWords, json);
}

function charTokenizer(vocab: string[]): Tokenizer {
  return new VocabTokenizer('char', vocab, (t) => Array.from(t), (cs) => cs.join(''), { version: 1, kind: 'char', vocab });
}

// ---------------------------------------------------------------------------------------------
// gpt2 (r50k_base)

const R50K_SIZE = 50257;
const R50K_EOT = 50256;
const EOT_TEXT = '<|endoftext|>';
/** User text is data: `<|endoftext|>` inside it is encoded as plain text, never as the special. */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };
/** Non-streaming decode: no state carries over between calls (invalid bytes ⇒ U+FFFD). */
const utf8Decoder = new TextDecoder('utf-8');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** The bytes of one r50k token: a string when they are valid UTF-8 on their own, else raw bytes. */
function r50kPiece(r50kId: number): string | Uint8Array {
  if (r50kId === R50K_EOT) return EOT_TEXT;
  const piece = r50kRanks[r50kId];
  return typeof piece === 'string' ? piece : Uint8Array.from(piece);
}

/**
 * Decodes r50k ids from their bytes. (We do not use the package's `decode`: in v4 it keeps a
 * shared streaming TextDecoder whose leftover bytes leak into the next call.)
 */
function r50kDecode(r50kIds: Iterable<number>): string {
  let text = '';
  let pending: number[] = [];
  for (const id of r50kIds) {
    const piece = r50kPiece(id);
    if (typeof piece === 'string') {
      if (pending.length > 0) text += utf8Decoder.decode(Uint8Array.from(pending));
      pending = [];
      text += piece;
    } else {
      pending.push(...piece);
    }
  }
  if (pending.length > 0) text += utf8Decoder.decode(Uint8Array.from(pending));
  return text;
}

/** One token for display: its text, or `\xNN` escapes when its bytes are not valid UTF-8 alone. */
function r50kTokenText(r50kId: number): string {
  const piece = r50kPiece(r50kId);
  if (typeof piece === 'string') return piece;
  try {
    return utf8Strict.decode(piece);
  } catch {
    return Array.from(piece, (b) => `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
}

class Gpt2Tokenizer implements Tokenizer {
  readonly kind = 'gpt2' as const;
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly pad: number;
  readonly unk: number;
  readonly sourceIds: readonly number[];
  /** r50k id ⇒ our id (remapped only). */
  private readonly denseOf: Int32Array | null;

  /** @param remap ascending r50k ids kept after the 4 specials, or null for the full r50k vocabulary. */
  constructor(private readonly remap: readonly number[] | null) {
    if (remap === null) {
      this.vocabSize = R50K_SIZE;
      this.bos = this.eos = this.pad = this.unk = R50K_EOT;
      this.sourceIds = Array.from({ length: R50K_SIZE }, (_, i) => i);
      this.denseOf = null;
    } else {
      this.vocabSize = N_SPECIAL + remap.length;
      [this.pad, this.bos, this.eos, this.unk] = [PAD, BOS, EOS, UNK];
      this.sourceIds = [...SPECIALS.map(() => R50K_EOT), ...remap];
      this.denseOf = new Int32Array(R50K_SIZE).fill(UNK);
      remap.forEach((r50kId, i) => (this.denseOf![r50kId] = N_SPECIAL + i));
    }
  }

  encode(text: string): number[] {
    const ids = r50kEncode(text, PLAIN_TEXT);
    const denseOf = this.denseOf;
    return denseOf === null ? ids : ids.map((id) => denseOf[id]);
  }

  decode(ids: number[]): string {
    const kept = ids.filter((id) => id !== this.bos && id !== this.eos && id !== this.pad);
    kept.forEach((id) => checkId(id, this.vocabSize));
    if (this.remap === null) return r50kDecode(kept);
    // Runs of real tokens decode together (a character may span several byte tokens).
    let text = '';
    let run: number[] = [];
    for (const id of kept) {
      if (id === UNK) {
        text += r50kDecode(run) + SPECIALS[UNK];
        run = [];
      } else run.push(this.sourceIds[id]);
    }
    return text + r50kDecode(run);
  }

  tokenText(id: number): string {
    checkId(id, this.vocabSize);
    if (this.remap !== null && id < N_SPECIAL) return SPECIALS[id];
    return r50kTokenText(this.sourceIds[id]);
  }

  toJSON(): TokenizerJSON {
    return { version: 1, kind: 'gpt2', remap: this.remap === null ? null : [...this.remap] };
  }
}

// ---------------------------------------------------------------------------------------------
// building and loading

/** Builds a tokenizer's vocabulary from texts fed one at a time (the corpus need not fit in memory). */
export class TokenizerBuilder {
  private readonly seen = new Set<string>();
  private readonly seenR50k = new Set<number>();

  constructor(private readonly cfg: TokenizerConfig) {}

  /** Whether `add` does anything (a gpt2 tokenizer without remap needs no corpus). */
  get needsCorpus(): boolean {
    return this.cfg.kind !== 'gpt2' || this.cfg.remap_to_data;
  }

  add(text: string): void {
    if (!this.needsCorpus) return;
    if (this.cfg.kind === 'word') for (const w of splitWords(text, this.cfg.lowercase)) this.seen.add(w);
    else if (this.cfg.kind === 'char') for (const c of text) this.seen.add(c);
    else for (const id of r50kEncode(text, PLAIN_TEXT)) this.seenR50k.add(id);
  }

  build(): Tokenizer {
    const vocab = [...this.seen].sort();
    switch (this.cfg.kind) {
      case 'word':
        return wordTokenizer(vocab, this.cfg.lowercase);
      case 'char':
        return charTokenizer(vocab);
      case 'gpt2':
        return new Gpt2Tokenizer(this.cfg.remap_to_data ? [...this.seenR50k].sort((a, b) => a - b) : null);
    }
  }
}

/** word/char: vocabulary from the corpus; gpt2: r50k, remapped to the corpus' ids when `remap_to_data`. */
export function buildTokenizer(cfg: TokenizerConfig, corpus: Iterable<string>): Tokenizer {
  const builder = new TokenizerBuilder(cfg);
  if (builder.needsCorpus) for (const text of corpus) builder.add(text);
  return builder.build();
}

/** `buildTokenizer` over a streamed corpus (e.g. `corpusFromJsonl`). */
export async function buildTokenizerAsync(cfg: TokenizerConfig, corpus: AsyncIterable<string>): Promise<Tokenizer> {
  const builder = new TokenizerBuilder(cfg);
  if (builder.needsCorpus) for await (const text of corpus) builder.add(text);
  return builder.build();
}

export function tokenizerFromJSON(json: TokenizerJSON): Tokenizer {
  const bad = (what: string) => new AvaError('checkpoint', `tokenizer.json: ${what}`);
  if (json === null || typeof json !== 'object' || json.version !== 1) throw bad('unknown format (expected version 1)');
  switch (json.kind) {
    case 'word':
    case 'char': {
      if (!Array.isArray(json.vocab) || !json.vocab.every((t) => typeof t === 'string')) throw bad('vocab must be a list of strings');
      if (new Set(json.vocab).size !== json.vocab.length) throw bad('vocab has duplicates');
      return json.kind === 'word' ? wordTokenizer([...json.vocab], json.lowercase === true) : charTokenizer([...json.vocab]);
    }
    case 'gpt2': {
      const remap = json.remap;
      if (remap === null) return new Gpt2Tokenizer(null);
      const ascending = Array.isArray(remap) && remap.every((id, i) => Number.isInteger(id) && id >= 0 && id < R50K_SIZE && (i === 0 || id > remap[i - 1]));
      if (!ascending) throw bad('remap must be ascending r50k ids');
      return new Gpt2Tokenizer([...remap]);
    }
    default:
      throw bad(`unknown kind ${JSON.stringify((json as { kind: unknown }).kind)}`);
  }
}

function checkId(id: number, vocabSize: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new RangeError(`token id ${id} outside 0..${vocabSize - 1}`);
}
