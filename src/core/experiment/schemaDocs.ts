/**
 * One line of documentation per experiment key, plus its allowed values and bounds.
 *
 * The table is typed against the interfaces of `config.ts`: tsc fails if a key is missing or
 * unknown, or if an enum lists a value the type does not have or misses one it has. `schema.ts`
 * turns it (with the defaults of `DEFAULTS`) into `schemas/experiment.schema.json`.
 *
 * `cite` names where a key comes from: a spec section (`§2.2`), a spec §8 row (`§8 #12`), or
 * `lab` for a setting of AVA Lab itself (data, training loop, engine).
 */
import type { ClusterConfig, PpoConfig, WinratesConfig, DataConfig, EngineConfig, EvalConfig, ModelConfig, ObjectiveConfig, Recipe, RunConfig, TokenizerConfig, TrainConfig } from './config.js';

/** Enum keys must describe every value (a Record over the union); free strings may not. */
type OptionsOf<V> =
  Exclude<V, null> extends string
    ? string extends Exclude<V, null>
      ? { options?: Record<string, string> }
      : { options: Record<Exclude<V, null>, string> }
    : { options?: never };

export type LeafDoc<V> = {
  /** One line, shown on hover. */
  description: string;
  cite: string;
  /** Extra markdown for the editor's hover (e.g. what 0 means). */
  details?: string;
  integer?: true;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
} & OptionsOf<V>;

export interface NestedDoc<T> {
  description: string;
  cite: string;
  keys: KeyDocs<T>;
}

export type KeyDocs<T> = {
  [K in keyof T]-?: T[K] extends Record<string, unknown> ? NestedDoc<T[K]> : LeafDoc<T[K]>;
};

export type SectionName = Exclude<keyof RunConfig, 'name' | 'variant' | 'seed' | 'recipe'>;

/** The YAML sections in the order they are written out. */
export const SECTION_NAMES: readonly SectionName[] = ['engine', 'data', 'tokenizer', 'model', 'objective', 'train', 'eval'];

/** The top-level `recipe` key (also allowed in a variant). */
export const RECIPE_DOC: LeafDoc<Recipe> = {
  description: 'Starting values for the readings of the paper that decide whether AVA learns; keys you write override them.',
  cite: 'lab',
  details:
    'A recipe sets a few spec §8 keys at once; every one stays its own key, and a key you write wins. ' +
    'The resolved `config.yaml` of each run records the recipe and every value it led to. ' +
    'The README section "Recipes" has the measured table behind `robust`.',
  options: {
    paper: "the spec's default for every key: the paper's literal reading",
    robust:
      'chosen by a multi-seed grid on several tasks: sequence_reward_mode weighted_sum, td_reward_alignment next_state, ' +
      'cer_form log_sigmoid, reduction token_mean, reward_weight_targets mu_sigma, cer_coef 5',
  },
};

const ENGINE: KeyDocs<EngineConfig> = {
  backend: {
    description: 'Compute engine for TensorFlow.js.',
    cite: 'lab',
    options: {
      auto: 'the fastest available: tensorflow (if @tensorflow/tfjs-node is installed), else wasm, else cpu',
      tensorflow: 'native TensorFlow through @tensorflow/tfjs-node (must be installed separately)',
      wasm: 'WebAssembly backend, one thread per process',
      cpu: 'plain JavaScript backend: slow but exact; what the unit tests use',
    },
  },
};

const DATA: KeyDocs<DataConfig> = {
  task: {
    description: 'Built-in task that generates the data from a seed, with an exact gold reward; null to read JSONL files (`data.train`).',
    cite: 'lab',
    details: 'Set exactly one of `data.task` and `data.train`.',
    options: {
      harmless: 'talk about a topic without banned words (in the spirit of Anthropic-Harmless, spec §7)',
      helpful: 'a positive or negative review without refusing, scored by AFINN-165 sentiment (in the spirit of Anthropic-Helpful)',
      summary: "name a story's keywords, scored by clipped unigram F1 like ROUGE-1 (in the spirit of OpenAI TL;DR)",
      moby: 'real sentences from Moby-Dick for a hopeful or a grim line, scored per word by AFINN-165 valence (open vocabulary; use tokenizer gpt2)',
    },
  },
  task_options: {
    description: 'Options of the built-in task generator (ignored for JSONL files).',
    cite: 'lab',
    keys: {
      n_train: { description: 'Number of training examples to generate.', cite: 'lab', integer: true, minimum: 1 },
      n_eval: { description: 'Number of held-out examples to generate.', cite: 'lab', integer: true, minimum: 1 },
      noise: {
        description: 'Label noise: flip probability (`flip`) or Bradley-Terry temperature (`bt`).',
        cite: 'lab',
        details: 'With `flip` it must lie in [0, 1]. The best reachable reward accuracy follows from it and is reported with the results.',
        minimum: 0,
      },
      noise_model: {
        description: 'How preference labels are corrupted.',
        cite: 'lab',
        options: {
          flip: 'swap chosen and rejected with probability `noise`',
          bt: 'draw the label by Bradley-Terry from the gold margin, temperature `noise`',
        },
      },
      seed: {
        description: 'Seed of the task generator: the data stays the same across run seeds.',
        cite: 'lab',
        details: 'The run seed (`seeds`) drives model initialisation and batching only.',
        integer: true,
        minimum: 0,
      },
    },
  },
  train: {
    description: "JSONL training file, relative to the experiment file's folder (null with a built-in task).",
    cite: 'lab',
    minLength: 1,
  },
  eval: {
    description: "JSONL file of held-out examples for evaluation, relative to the experiment file's folder; null: no evaluation.",
    cite: 'lab',
    minLength: 1,
  },
  format: {
    description: 'What one example is.',
    cite: '§7',
    details: 'AVA-p, BT, PT and DPO need preferences; AVA-d and SFT take demonstrations or the chosen halves of preferences.',
    options: {
      preference: 'rows have a prompt, a chosen and a rejected response',
      demonstration: 'rows have a prompt and one response',
    },
  },
  fields: {
    description: 'JSONL field names of prompt and responses (a dotted path such as `meta.prompt` reaches a nested field).',
    cite: 'lab',
    keys: {
      prompt: {
        description: 'Field holding the prompt; empty: the prompt is the common prefix of chosen and rejected (Anthropic-HH style).',
        cite: 'lab',
        details: 'With an empty prompt field, the common prefix is cut just after its last `\\n\\nAssistant:`, as in Anthropic HH-RLHF.',
      },
      response: { description: 'Field holding the response of a demonstration.', cite: 'lab', minLength: 1 },
      chosen: { description: 'Field holding the preferred response.', cite: 'lab', minLength: 1 },
      rejected: { description: 'Field holding the dispreferred response.', cite: 'lab', minLength: 1 },
    },
  },
  on_bad_line: {
    description: 'What to do with a malformed JSONL line.',
    cite: 'lab',
    options: { fail: 'stop with an error naming the file and line', skip: 'skip it and count it in the log' },
  },
  truncation: {
    description: 'What to do with an example longer than `model.context`.',
    cite: '§9',
    options: {
      prompt_left: 'drop prompt tokens from the left (spec §9 default)',
      skip: 'leave the example out',
      fail: 'stop with an error',
    },
  },
  demonstrations_from: {
    description: 'For AVA-d or SFT on a preference file: which half is the demonstration.',
    cite: '§7',
    options: { chosen: 'the chosen responses (spec §7: AVA-d in Table 1 uses the chosen halves)' },
  },
  afd: {
    description: 'AfD: train a pairwise objective on pairs built from the demonstrations by sampling trained policies of this grid.',
    cite: '§6.5',
    keys: {
      pair_mode: {
        description: 'Where the chosen and the rejected side of each AfD pair come from.',
        cite: '§8 #27',
        details:
          'AfD is on when `init` or `sft` names a variant. Its cells wait for those variants\' cells of the same seed ' +
          '(locally, in `--jobs` processes and as a dependent Slurm array) and write the pairs to `afd-pairs.jsonl` in the run folder.',
        options: {
          init_sft: 'chosen: a sample of π_SFT, rejected: a sample of π_init (the AfD paper\'s recommendation)',
          init_demo: 'chosen: the demonstration, rejected: a sample of π_init',
          sft_demo: 'chosen: the demonstration, rejected: a sample of π_SFT',
        },
      },
      init: { description: 'The variant whose cell of the same seed is π_init (null: none).', cite: '§6.5', minLength: 1 },
      sft: { description: 'The variant whose cell of the same seed is π_SFT, SFT on the demonstrations (null: none).', cite: '§6.5', minLength: 1 },
      temperature: { description: 'Sampling temperature of the AfD samples.', cite: 'lab', exclusiveMinimum: 0 },
      max_new_tokens: { description: 'Longest AfD sample, in tokens.', cite: 'lab', integer: true, minimum: 1 },
    },
  },
};

const TOKENIZER: KeyDocs<TokenizerConfig> = {
  kind: {
    description: 'Tokenizer.',
    cite: 'lab',
    options: {
      gpt2: 'GPT-2 BPE (r50k_base, gpt-tokenizer)',
      word: 'words and punctuation, vocabulary built from the training data',
      char: 'characters, vocabulary built from the training data',
    },
  },
  remap_to_data: {
    description: 'For gpt2: keep only the token ids the training data uses (a much smaller output layer).',
    cite: 'lab',
  },
  lowercase: { description: 'For word: lower-case the text before splitting.', cite: 'lab' },
};

const MODEL: KeyDocs<ModelConfig> = {
  n_layer: { description: 'Number of transformer blocks.', cite: '§3', integer: true, minimum: 1 },
  n_head: { description: 'Attention heads per block; must divide `d_model`.', cite: '§3', integer: true, minimum: 1 },
  d_model: { description: 'Hidden size H of the backbone.', cite: '§3', integer: true, minimum: 1 },
  context: {
    description: 'Maximum sequence length in tokens (prompt + response).',
    cite: '§9',
    details: 'At least 3: the TD error needs a next action (spec §1.4).',
    integer: true,
    minimum: 3,
  },
  dropout: { description: 'Dropout probability in the backbone.', cite: 'lab', minimum: 0, exclusiveMaximum: 1 },
  init_from: {
    description: "Load backbone and LM head from this checkpoint folder (relative to the experiment file's folder), or `cell:<variant>`; null: from scratch.",
    cite: 'lab',
    details:
      'The paper starts from pretrained GPT-2 or BART-base (spec §0, §9). `cell:<variant>` starts from the final weights of that ' +
      "variant's cell of the same seed (e.g. every policy of Table 5 from one π_init); the cell waits for it.",
    minLength: 1,
  },
  q_head: {
    description: 'Q-value head (Eq. 8).',
    cite: '§3',
    details: '`fresh` is the "w/o ptq" ablation of spec §2.4.',
    options: {
      pretrained: 'ptq: the LM head followed by log_softmax(α·π) (spec §4, Eq. 12)',
      fresh: 'a new linear H→V head, Boltzmann likelihood ("w/o ptq")',
    },
  },
  alpha: { description: 'ptq temperature α of Eq. 12.', cite: '§4', exclusiveMinimum: 0 },
  ptq_input: {
    description: 'Input of the ptq log-softmax.',
    cite: '§8 #11',
    options: {
      probs: 'probabilities π = softmax(z): Q bounded in [−α − log V, 0] (Eq. 12 literal)',
      logits: 'logits z: α-tempered log-probabilities (negative term unbounded)',
    },
  },
  fresh_q_head_init_std: {
    description: 'Std of the normal init of a fresh Q head (bias zero).',
    cite: '§8 #22',
    minimum: 0,
  },
  sigma_param: {
    description: 'How the reward head parameterises σ.',
    cite: '§8 #13',
    options: {
      exp: 'σ = exp(clamp(s, log_sigma_min, log_sigma_max)), as in the AVRIL code',
      softplus: 'σ = softplus(s) + softplus_eps',
    },
  },
  log_sigma_min: { description: 'Lower clamp of the raw log-std (sigma_param exp).', cite: '§8 #13' },
  log_sigma_max: { description: 'Upper clamp of the raw log-std (sigma_param exp).', cite: '§8 #13' },
  softplus_eps: { description: 'ε added to softplus(s) (sigma_param softplus).', cite: '§8 #13', exclusiveMinimum: 0 },
  reward_head_arch: {
    description: 'Reward head architecture (Eq. 9).',
    cite: '§8 #21',
    options: { linear: 'Dense H→2 (μ, log σ)', mlp: 'Dense H→H, activation, Dense H→2' },
  },
  use_reward_weights: {
    description: 'Attention-derived reward weights w_t of Eq. 11 (rwt); false: w ≡ 1 ("w/o rwt").',
    cite: '§2.4',
  },
  reward_weight_source: {
    description: 'Where the q, k of Eq. 11 come from.',
    cite: '§8 #5',
    options: {
      dedicated_attention: 'a dedicated single-head attention layer (Preference Transformer style)',
      backbone_last_layer: "the backbone's last self-attention, averaged over heads (causal)",
    },
  },
  reward_weight_causal: { description: 'Mask future keys in the weight attention (PT is non-causal).', cite: '§8 #6' },
  reward_weight_scale: {
    description: 'Scaling of the weight-attention scores.',
    cite: '§8 #7',
    options: { sqrt_d: 'divide by √d_a (PT code)', none: 'no scaling (paper formula)' },
  },
  pref_attn_dim: { description: 'Width d_a of the weight-attention q and k.', cite: '§8 #8', integer: true, minimum: 1 },
  reward_weight_scope: {
    description: 'Tokens that take part in the reward weights.',
    cite: '§8 #9',
    options: {
      all_tokens: 'every valid token, prompt included',
      response_tokens: 'response tokens only; prompt positions get w = 0',
    },
  },
  reward_weight_targets: {
    description: 'Which head outputs are multiplied by w.',
    cite: '§8 #10',
    options: { q_mu_sigma: 'Q, μ and σ (literal)', mu_sigma: 'μ and σ', mu: 'μ only' },
  },
  reward_weight_grad: {
    description: 'Gradient into the reward weights.',
    cite: '§8 #31',
    options: { full: 'gradients flow into the attention projections', stop: 'stop-gradient on w' },
  },
};

const OBJECTIVE: KeyDocs<ObjectiveConfig> = {
  kind: {
    description: 'Training objective.',
    cite: '§2, §6',
    options: {
      'ava-p': 'AVA from preferences: Eq. 17 + CER (Eq. 18), spec §2.3',
      'ava-d': 'AVA from demonstrations: Eq. 5–7, spec §2.2',
      bt: 'Bradley-Terry reward model, spec §6.1',
      pt: 'Preference Transformer adapted to text, spec §6.2',
      sft: 'supervised fine-tuning: response-token NLL, spec §6.4',
      dpo: 'DPO against a frozen copy of the initial model, spec §6.3',
    },
  },
  beta: { description: 'Boltzmann temperature β (not DPO’s β: see `dpo_beta`).', cite: '§2', exclusiveMinimum: 0 },
  gamma: { description: 'Discount γ in the TD error (Eq. 7).', cite: '§9', minimum: 0, maximum: 1 },
  lambda: { description: 'Weight λ of the TD term.', cite: '§9', minimum: 0 },
  kl_coef: {
    description: 'Coefficient of the prior-KL term (the derivation gives 2, Eq. 16 has 1).',
    cite: '§8 #18',
    minimum: 0,
  },
  cer_coef: { description: 'Weight of the CER loss F_c against F_p; 0 is "w/o cer".', cite: '§8 #33', minimum: 0 },
  neg_likelihood_coef: {
    description: 'Weight of the rejected-sequence likelihood term; 0 is "w/o neg".',
    cite: '§8 #34',
    minimum: 0,
  },
  use_kl: { description: 'Include the prior-KL term; false together with use_td is "w/o irl".', cite: '§2.4' },
  use_td: { description: 'Include the TD term; false together with use_kl is "w/o irl".', cite: '§2.4' },
  irl_ablation_keeps_cer: {
    description: 'Whether "w/o irl" (use_kl and use_td false) keeps the CER loss.',
    cite: '§8 #20',
  },
  irl_terms_on: {
    description: 'Sequences the KL and TD terms of AVA-p act on.',
    cite: '§8 #14',
    options: { chosen: 'the chosen sequence only', both: 'chosen and rejected' },
  },
  cer_form: {
    description: 'Link of the CER loss (Eq. 18).',
    cite: '§8 #15',
    options: { sigmoid: '−σ(Δ), literal', log_sigmoid: '−log σ(Δ), Bradley-Terry style' },
  },
  likelihood_form: {
    description: 'Per-transition likelihood ℓ.',
    cite: '§8 #12',
    details: '`scaled_q` with `model.q_head: fresh` is unbounded and is rejected (spec §2.2).',
    options: {
      auto: 'scaled_q with a pretrained (ptq) Q head, boltzmann with a fresh one',
      boltzmann: 'log softmax(βQ)[a] (Eq. 5)',
      scaled_q: 'β·Q[a] (Eq. 13 literal)',
    },
  },
  loss_token_scope: {
    description: 'Transitions that enter the losses.',
    cite: '§8 #1',
    options: { response: 'transitions whose action is a response token', all: 'every transition, prompt included' },
  },
  terminal_handling: {
    description: 'The last action, whose TD error would need a token past the end.',
    cite: '§8 #2',
    options: { drop_last: 'drop it from every term (literal sums)', zero_next_q: 'include it with Q_next = 0' },
  },
  reduction: {
    description: 'How per-transition losses are reduced.',
    cite: '§8 #3',
    options: {
      seq_sum_batch_mean: 'sum over a sequence, mean over the batch (the paper’s sums)',
      token_mean: 'mean over all unmasked transitions (AVRIL code)',
      seq_mean: 'mean over a sequence, mean over the batch',
    },
  },
  td_reward_alignment: {
    description: 'Which reward position pairs with the TD error δ_t. It decides what a per-token reward can mean: under `state` a token\'s reward is computed before the model has seen the token (spec §5). Measured on the built-in tasks: Pearson r of token rewards with the gold ones ≈ 0.07-0.2 (state) against 0.46-0.61 (next_state), at similar reward accuracy (eval.json token_attribution).',
    cite: '§8 #4',
    options: { state: 'h_t (Eq. 9 literal)', next_state: 'h_{t+1}: the reward has seen the action (per-token rewards can follow the token)' },
  },
  td_stop_grad: {
    description: 'Stop-gradient in the TD term.',
    cite: '§8 #19',
    options: { none: 'no stop-gradient', next_q: 'on the next Q-value', both_q: 'on both Q-values' },
  },
  sequence_reward_mode: {
    description: 'Sequence reward R(y) used by CER, reward accuracy and ranking.',
    cite: '§8 #16',
    options: { last: 'the last valid token', weighted_sum: 'sum over the response', mean: 'mean over the response' },
  },
  sequence_reward_weighted: { description: 'Use the weighted μ̃ (true) or the raw μ (false) in R(y).', cite: '§8 #17' },
  dpo_beta: { description: 'DPO’s KL strength (objective dpo).', cite: '§6.3', exclusiveMinimum: 0 },
};

const TRAIN: KeyDocs<TrainConfig> = {
  steps: {
    description: 'Optimiser steps of the objective (after pretrain_steps).',
    cite: 'lab',
    details: '0: the LM warm-up alone (`pretrain_steps` ≥ 1), e.g. the π_init of AfD, a language model that never saw a label.',
    integer: true,
    minimum: 0,
  },
  batch_size: {
    description: 'Sequences (or preference pairs) per step.',
    cite: '§9',
    details: 'The paper suggests 32 pairs for its GPT-2 reward models; small models here train well with 16.',
    integer: true,
    minimum: 1,
  },
  lr: {
    description: 'AdamW peak learning rate, reached after warmup_steps.',
    cite: '§9',
    details: 'Spec §9 proposes 1e-5 for pretrained GPT-2; models trained from scratch need about 1e-3.',
    exclusiveMinimum: 0,
  },
  weight_decay: { description: 'AdamW decoupled weight decay.', cite: '§9', minimum: 0 },
  adam_beta1: { description: 'AdamW β1.', cite: '§9', minimum: 0, exclusiveMaximum: 1 },
  adam_beta2: { description: 'AdamW β2.', cite: '§9', minimum: 0, exclusiveMaximum: 1 },
  grad_clip: { description: 'Clip the global gradient norm to this value; 0 turns clipping off.', cite: 'lab', minimum: 0 },
  warmup_steps: { description: 'Linear learning-rate warm-up steps.', cite: 'lab', integer: true, minimum: 0 },
  lr_schedule: {
    description: 'Learning rate after warm-up.',
    cite: 'lab',
    options: {
      cosine: 'cosine decay to 10% of lr at the last step (nanoGPT)',
      constant: 'lr until the end',
    },
  },
  pretrain_steps: {
    description: 'Next-token (LM) warm-start steps on the training text before the objective.',
    cite: '§4',
    details: 'Makes ptq meaningful for a model trained from scratch: ptq reads the LM head.',
    integer: true,
    minimum: 0,
  },
  pretrain_data: {
    description: 'Which responses the LM warm-start reads on preference data.',
    cite: '§4',
    details:
      'The warmed-up model is also the frozen reference of DPO/AfD. `chosen` is SFT on the preferred answers, as the paper\'s pipeline does before DPO (the reference then already prefers them).',
    options: {
      both: 'alternate chosen and rejected responses (the LM of the data, no preference)',
      chosen: 'only the chosen responses (SFT)',
    },
  },
  log_every: { description: 'Log training metrics every this many steps.', cite: 'lab', integer: true, minimum: 1 },
  term_grads_every: {
    description: 'Every this many objective steps, log the gradient norm each loss term sends to the reward head and to the weight head; 0 = never.',
    cite: 'lab',
    details:
      'Logged as `grad_reward.<term>` and `grad_weights.<term>` (before clipping). Each term costs one more forward and backward pass, ' +
      'so keep it a multiple of `log_every` and use it to diagnose, not in every run.',
    integer: true,
    minimum: 0,
  },
  eval_every: {
    description: 'Evaluate on held-out examples every this many steps; 0: only at the end.',
    cite: 'lab',
    integer: true,
    minimum: 0,
  },
  checkpoint_every: {
    description: 'Save a checkpoint every this many steps; 0: only at the end.',
    cite: 'lab',
    integer: true,
    minimum: 0,
  },
  workers: {
    description: 'Worker processes for data parallelism within one run.',
    cite: 'lab',
    details: 'The wasm backend uses one thread per process.',
    integer: true,
    minimum: 1,
  },
};

const EVAL: KeyDocs<EvalConfig> = {
  reward_accuracy_tie: {
    description: 'How a tie R(y⁺) = R(y⁻) counts in reward accuracy.',
    cite: '§8 #30',
    options: { incorrect: 'as wrong (strict inequality, spec §7)', half: 'as half a correct answer' },
  },
  dump_token_rewards: {
    description: 'Evaluation examples whose per-token rewards are written to the run folder.',
    cite: '§5',
    integer: true,
    minimum: 0,
  },
  max_examples: { description: 'At most this many evaluation examples; 0: all.', cite: 'lab', integer: true, minimum: 0 },
};

export const SECTION_DOCS: { [S in SectionName]: NestedDoc<RunConfig[S]> } = {
  engine: { description: 'Compute engine.', cite: 'lab', keys: ENGINE },
  data: { description: 'Training and evaluation data: a built-in task or JSONL files.', cite: '§7', keys: DATA },
  tokenizer: { description: 'How text becomes token ids.', cite: 'lab', keys: TOKENIZER },
  model: { description: 'TQR model: GPT decoder, Q head, Gaussian reward head, reward weights.', cite: '§3', keys: MODEL },
  objective: { description: 'Training objective and its coefficients.', cite: '§2', keys: OBJECTIVE },
  train: { description: 'Optimiser and training loop.', cite: '§9', keys: TRAIN },
  eval: { description: 'Evaluation.', cite: '§7', keys: EVAL },
};

/** The top-level `cluster` section: how `ava-lab submit --slurm` asks for each cell. */
export const CLUSTER_DOC: NestedDoc<ClusterConfig> = {
  description: 'Slurm options of `ava-lab submit`: one job array, one array task per grid cell. Flags of `ava-lab submit` override them.',
  cite: 'lab',
  keys: {
    partition: { description: 'Slurm partition (`--partition`); null: the cluster default.', cite: 'lab', minLength: 1 },
    account: { description: 'Slurm account charged (`--account`); null: your default account.', cite: 'lab', minLength: 1 },
    qos: { description: 'Quality of service (`--qos`); null: the default.', cite: 'lab', minLength: 1 },
    time: {
      description: 'Time limit per cell (`--time`: minutes, `HH:MM:SS`, `D-HH:MM:SS`); null: the partition default.',
      cite: 'lab',
      minLength: 1,
      details: 'At the limit Slurm sends SIGTERM: the cell writes a checkpoint, is marked failed (TIMEOUT) and `ava-lab submit --resume` continues it.',
    },
    mem: { description: 'Memory per cell (`--mem`, e.g. `8G`); null: the partition default.', cite: 'lab', minLength: 1 },
    cpus_per_task: {
      description: 'CPU cores per cell (`--cpus-per-task`).',
      cite: 'lab',
      integer: true,
      minimum: 1,
      details: 'The wasm backend uses one core; raise it with `train.workers` or the native TensorFlow backend.',
    },
    gres: { description: 'Generic resources per cell (`--gres`, e.g. `gpu:1`); null: none.', cite: 'lab', minLength: 1 },
    max_parallel: { description: 'At most this many cells at once (`--array=…%N`); 0: as many as Slurm allows.', cite: 'lab', integer: true, minimum: 0 },
    sbatch: { description: 'Extra `#SBATCH` options, one per item, written as given (e.g. `--constraint=a100`).', cite: 'lab' },
    setup: {
      description: 'Shell lines each array task runs before ava-lab: `module load`, a venv, `LD_LIBRARY_PATH` for the GPU runtime.',
      cite: 'lab',
    },
    command: {
      description: 'How a compute node starts ava-lab (e.g. `npx ava-lab`); null: the node binary and ava-lab CLI that submitted, by absolute path.',
      cite: 'lab',
      minLength: 1,
    },
  },
};

/** `winrates.ppo`: how `ppo:<variant>` systems are trained. */
const PPO_DOC: NestedDoc<PpoConfig> = {
  description: 'PPO of the generator against a reward model, for `ppo:<variant>` systems (TRL classic defaults where the paper is silent).',
  cite: '§6.6',
  keys: {
    steps: { description: 'Rollout + update iterations.', cite: 'lab', integer: true, minimum: 1 },
    batch_size: { description: 'Prompts of the training split per rollout.', cite: '§6.6', integer: true, minimum: 1 },
    mini_batches: { description: 'Minibatches each rollout is split into per PPO epoch.', cite: '§6.6', integer: true, minimum: 1 },
    ppo_epochs: { description: 'Passes over each rollout.', cite: '§6.6', integer: true, minimum: 1 },
    lr: { description: 'AdamW learning rate of the policy and its value head.', cite: 'lab', exclusiveMinimum: 0 },
    init_kl_coef: { description: 'Per-token KL penalty coefficient at the start.', cite: '§6.6', minimum: 0 },
    adap_kl_ctrl: { description: 'Adapt the KL coefficient towards `target_kl`.', cite: '§6.6' },
    target_kl: { description: 'Target KL (summed over a response) of the adaptive controller.', cite: '§6.6', exclusiveMinimum: 0 },
    horizon: { description: 'Horizon of the adaptive KL controller, in sequences.', cite: '§6.6', exclusiveMinimum: 0 },
    gamma: { description: 'Discount of GAE.', cite: '§6.6', minimum: 0, maximum: 1 },
    lam: { description: 'λ of GAE.', cite: '§6.6', minimum: 0, maximum: 1 },
    cliprange: { description: 'Policy ratio clip ε.', cite: '§6.6', exclusiveMinimum: 0 },
    cliprange_value: { description: 'Value clip around the rollout values.', cite: '§6.6', exclusiveMinimum: 0 },
    vf_coef: { description: 'Weight of the value loss.', cite: '§6.6', minimum: 0 },
    whiten_advantages: { description: 'Normalise the advantages of each rollout to mean 0, std 1.', cite: '§6.6' },
    rl_reward_mode: {
      description: "The score of an AVA reward model (Eq. 19); other reward models give their sequence reward.",
      cite: '§8 #25',
      options: { sum: 'the sum of the per-step weighted means μ̃ over the response (Eq. 19, literal)', last: 'the sequence reward R(y) of `sequence_reward_mode`' },
    },
    rl_reward_delivery: {
      description: 'Where the reward model\'s reward enters the per-token PPO rewards.',
      cite: '§8 #26',
      options: {
        sparse_at_eos: 'the score (`rl_reward_mode`) at the last response token; the reward model retokenises the detokenised answer',
        dense: "μ̃ of each response token on the policy's own tokens, summing to Eq. 19's score; an AVA reward model with the policy's tokenizer only",
      },
    },
  },
};

/** The top-level `winrates` section: generation, Best-of-N and judging after the grid trains. */
export const WINRATES_DOC: NestedDoc<WinratesConfig> = {
  description: 'Win / tie / lose of generated answers (Best-of-N, stochastic, trained policies), judged after the grid trains; written to `<grid>/winrates/`.',
  cite: '§7',
  keys: {
    compare: {
      description: 'One comparison per item: `<system> vs <system>`, systems `stochastic`, `bon:<variant>`, `bon:gold`, `policy:<variant>`. Empty: no win-rate stage.',
      cite: '§10 Tables 2-5',
      details:
        '`stochastic` is the generator\'s first sample; `bon:<variant>` the best of `bon_n` samples by that variant\'s sequence reward R(y) (spec §6.7); ' +
        '`bon:gold` the best by the task\'s gold reward (the ceiling); `policy:<variant>` one sample from that variant\'s own LM (SFT, DPO).',
    },
    generator: { description: 'The variant whose LM samples the candidates of `stochastic` and `bon:` (usually an `sft` variant).', cite: '§8 #28', minLength: 1 },
    prompts: { description: 'How many evaluation rows (the first ones) have their prompt answered; 0: all.', cite: 'lab', integer: true, minimum: 0 },
    bon_n: { description: 'Best-of-N: samples per prompt.', cite: '§8 #28', integer: true, minimum: 1 },
    temperature: { description: 'Sampling temperature; 0: greedy.', cite: '§8 #28', minimum: 0 },
    top_k: { description: 'Keep the k most probable tokens; 0: no top-k filter.', cite: 'lab', integer: true, minimum: 0 },
    top_p: { description: 'Nucleus sampling: keep the most probable tokens whose mass reaches p; 1: no filter.', cite: 'lab', exclusiveMinimum: 0, maximum: 1 },
    max_new_tokens: { description: 'Longest answer, in tokens (EOS ends it earlier; model.context caps it).', cite: 'lab', integer: true, minimum: 1 },
    generation_policy: {
      description: 'What an AVA-trained model samples from.',
      cite: '§8 #23',
      options: { lm: 'the LM head: softmax(z)', q: 'the Boltzmann policy over Q: softmax(β·Q)' },
    },
    judge: {
      description: 'Who gives the verdicts.',
      cite: '§8 #29',
      options: {
        gold: "the built-in task's exact gold reward (a tie within `tie_margin`)",
        reward_model: "the sequence reward of `judge_variant`'s trained model",
        command: '`judge_command`: your script or LLM judge, JSON lines on stdin and stdout',
      },
    },
    judge_variant: { description: 'The variant whose reward model judges (`judge: reward_model`).', cite: 'lab', minLength: 1 },
    judge_command: {
      description: 'Judge program (`judge: command`), run with `sh -c` in the experiment folder.',
      cite: '§8 #29',
      minLength: 1,
      details: 'Reads lines `{"id", "prompt", "first", "second"}` on stdin and prints one `{"id", "preferred": "first"|"second"|"tie"}` per line on stdout.',
    },
    judge_swap_positions: { description: 'Judge each prompt in both presentation orders (command judge).', cite: '§8 #29' },
    tie_rule: {
      description: 'How the two orders make one verdict.',
      cite: '§8 #29',
      options: { both_orders_agree: 'win or lose only when both orders agree, else tie', sum_of_orders: 'the sign of +1 / 0 / −1 summed over the orders' },
    },
    tie_margin: { description: 'Gold and reward-model judges: scores closer than this tie.', cite: '§7', minimum: 0 },
    judge_timeout_s: { description: 'A judge command running longer fails with a timeout.', cite: 'lab', exclusiveMinimum: 0 },
    ppo: PPO_DOC,
  },
};
