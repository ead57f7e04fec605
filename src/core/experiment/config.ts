/**
 * The resolved experiment configuration: one typed object per YAML section.
 *
 * Every ambiguity of the paper (spec §8) that concerns training is a key here, with the
 * spec's default (rows 23, 28 and 29, generation, best-of-N and judging, are keys of the
 * experiment's `winrates` section, rows 25-26 of `winrates.ppo`, row 27 is `data.afd.pair_mode`;
 * rows 24 and 32, BART and RewardBench ensembling, concern what AVA Lab does not run, so they
 * have no key). A new key also needs
 * a line in `schemaDocs.ts` (tsc enforces it); then run `scripts/write-experiment-schema.ts` to
 * update `schemas/experiment.schema.json`, which `test/experiment-schema.test.ts` compares with
 * the builder and with these defaults.
 *
 * This module is pure data: no tensors, no I/O, no `vscode`.
 */
import { deepMerge } from './merge.js';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type ObjectiveKind = 'ava-p' | 'ava-d' | 'bt' | 'pt' | 'sft' | 'dpo';

/** Model architecture: GPT-style decoder + TQR heads (spec §3, §4). */
export interface ModelConfig {
  n_layer: number;
  n_head: number;
  d_model: number;
  /** Maximum sequence length (positions), prompt + response. */
  context: number;
  dropout: number;
  /** Load backbone + LM head from this checkpoint directory (a run's checkpoint or a converted folder). */
  init_from: string | null;
  /** spec §3 QHead: `pretrained` = LM head + ptq transform (§4); `fresh` = new Dense H→V. */
  q_head: 'pretrained' | 'fresh';
  /** spec §4 α, ptq temperature. */
  alpha: number;
  /** spec §8 #11. */
  ptq_input: 'probs' | 'logits';
  /** spec §8 #22. */
  fresh_q_head_init_std: number;
  /** spec §8 #13. */
  sigma_param: 'exp' | 'softplus';
  log_sigma_min: number;
  log_sigma_max: number;
  /** softplus(s) + eps. */
  softplus_eps: number;
  /** spec §8 #21. */
  reward_head_arch: 'linear' | 'mlp';
  /** Reward weights w_t of Eq. 11 (rwt). false ⇒ w ≡ 1. */
  use_reward_weights: boolean;
  /** spec §8 #5. */
  reward_weight_source: 'dedicated_attention' | 'backbone_last_layer';
  /** spec §8 #6. */
  reward_weight_causal: boolean;
  /** spec §8 #7. */
  reward_weight_scale: 'sqrt_d' | 'none';
  /** spec §8 #8 (d_a). */
  pref_attn_dim: number;
  /** spec §8 #9. */
  reward_weight_scope: 'all_tokens' | 'response_tokens';
  /** spec §8 #10. */
  reward_weight_targets: 'q_mu_sigma' | 'mu_sigma' | 'mu';
  /** spec §8 #31. */
  reward_weight_grad: 'full' | 'stop';
}

/** Training objective and its coefficients (spec §2, §6). */
export interface ObjectiveConfig {
  kind: ObjectiveKind;
  /** Boltzmann temperature β (spec §2). Not DPO's β: see `dpo_beta`. */
  beta: number;
  /** Discount γ in the TD error (Eq. 7). */
  gamma: number;
  /** TD weight λ. */
  lambda: number;
  /** spec §8 #18. */
  kl_coef: number;
  /** spec §8 #33. */
  cer_coef: number;
  /** spec §8 #34 (0 = "w/o neg"). */
  neg_likelihood_coef: number;
  use_kl: boolean;
  use_td: boolean;
  /** spec §8 #20. */
  irl_ablation_keeps_cer: boolean;
  /** spec §8 #14. */
  irl_terms_on: 'chosen' | 'both';
  /** spec §8 #15. */
  cer_form: 'sigmoid' | 'log_sigmoid';
  /** spec §8 #12. */
  likelihood_form: 'auto' | 'boltzmann' | 'scaled_q';
  /** spec §8 #1. */
  loss_token_scope: 'response' | 'all';
  /** spec §8 #2. */
  terminal_handling: 'drop_last' | 'zero_next_q';
  /** spec §8 #3. */
  reduction: 'seq_sum_batch_mean' | 'token_mean' | 'seq_mean';
  /** spec §8 #4. */
  td_reward_alignment: 'state' | 'next_state';
  /** spec §8 #19. */
  td_stop_grad: 'none' | 'next_q' | 'both_q';
  /** spec §8 #16. */
  sequence_reward_mode: 'last' | 'weighted_sum' | 'mean';
  /** spec §8 #17. */
  sequence_reward_weighted: boolean;
  /** DPO's KL strength (spec §6.3). */
  dpo_beta: number;
}

/**
 * AfD (spec §6.5): the training pairs are built from the demonstrations (the task's or
 * `data.train`'s; the chosen halves of a preference file) by sampling from policies trained by
 * other cells of the same grid and seed. On as soon as `init` or `sft` names a variant.
 */
export type AfdConfig = {
  /** spec §8 #27: which side of a pair comes from where. */
  pair_mode: 'init_sft' | 'init_demo' | 'sft_demo';
  /** The variant whose cell (same seed) is π_init; null when the mode does not sample from it. */
  init: string | null;
  /** The variant whose cell (same seed) is π_SFT. */
  sft: string | null;
  temperature: number;
  max_new_tokens: number;
};

/** Where the text comes from: a built-in task (generated from a seed) or JSONL files. */
export interface DataConfig {
  /** Built-in task name (`harmless`, `helpful`, `summary`, `moby`), or null for files. */
  task: string | null;
  /** Options passed to the built-in task generator. */
  task_options: {
    n_train: number;
    n_eval: number;
    /** Label noise: flip probability (`flip`) or Bradley-Terry temperature (`bt`). */
    noise: number;
    noise_model: 'flip' | 'bt';
    seed: number;
  };
  /** JSONL paths, relative to the experiment file. */
  train: string | null;
  eval: string | null;
  /** `preference` rows have prompt/chosen/rejected; `demonstration` rows have prompt/response. */
  format: 'preference' | 'demonstration';
  fields: { prompt: string; response: string; chosen: string; rejected: string };
  /** What to do with a malformed JSONL line. */
  on_bad_line: 'fail' | 'skip';
  /** What to do with a sequence longer than `model.context`. */
  truncation: 'prompt_left' | 'skip' | 'fail';
  /** For AVA-d/SFT on a preference file: train on the chosen halves (spec §7). */
  demonstrations_from: 'chosen';
  afd: AfdConfig;
}

export interface TokenizerConfig {
  /** `gpt2`: r50k BPE from `gpt-tokenizer`; `word`/`char`: built from the training data. */
  kind: 'gpt2' | 'word' | 'char';
  /** For gpt2: remap to the ids the training data uses (keeps tiny models fast). */
  remap_to_data: boolean;
  /** For word: lower-case before splitting. */
  lowercase: boolean;
}

export interface TrainConfig {
  steps: number;
  batch_size: number;
  lr: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  grad_clip: number;
  warmup_steps: number;
  /** After warm-up: cosine decay to 10% of `lr` at the last step, or constant. */
  lr_schedule: 'cosine' | 'constant';
  /** LM warm-start steps (next-token loss on the training text) before the objective: makes ptq meaningful on from-scratch models. */
  pretrain_steps: number;
  /**
   * What a pairwise objective's LM warm-up reads: `both` halves of each pair alike (the warm-up
   * sees no preference label), or the `chosen` halves only (leaks the labels into the LM).
   */
  pretrain_data: 'both' | 'chosen';
  log_every: number;
  /**
   * Every this many objective steps, log the gradient norm each loss term alone sends to the
   * reward head and to the weight head (train/termGrads.ts); 0 = never (it costs a pass per term).
   */
  term_grads_every: number;
  eval_every: number;
  checkpoint_every: number;
  /** Worker processes for data parallelism within one run (wasm uses one thread per process). */
  workers: number;
}

export interface EvalConfig {
  /** spec §8 #30. */
  reward_accuracy_tie: 'incorrect' | 'half';
  /** Evaluation pairs whose per-token rewards are dumped into the run directory. */
  dump_token_rewards: number;
  /** Max evaluation examples (0 = all). */
  max_examples: number;
}

export interface EngineConfig {
  backend: BackendChoice;
}

/**
 * A named set of values for the keys where the paper's literal reading and a reading that
 * learns differ (README "Recipes"). `paper`: every spec §8 default. `robust`: the combination
 * chosen by the multi-seed grid of `examples/recipe.ava.yaml`. Keys written in the experiment
 * override the recipe.
 */
export type Recipe = 'paper' | 'robust';

/** One fully-resolved run (one grid cell). */
export interface RunConfig {
  name: string;
  /** Grid cell: the ablation variant name ('' when the experiment has none). */
  variant: string;
  seed: number;
  /** The recipe the cell's values started from (its keys are already applied to the sections). */
  recipe: Recipe;
  engine: EngineConfig;
  data: DataConfig;
  tokenizer: TokenizerConfig;
  model: ModelConfig;
  objective: ObjectiveConfig;
  train: TrainConfig;
  eval: EvalConfig;
}

/** A deep-partial override, as written under `ablations:`. */
export type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/**
 * How `ava-lab submit` asks Slurm for each cell (one array task per cell): `#SBATCH` options,
 * extra lines and a setup snippet. Not part of a run's config: it says where a cell runs,
 * not what it computes. `ava-lab submit` flags override these keys.
 */
export interface ClusterConfig {
  partition: string | null;
  account: string | null;
  qos: string | null;
  /** Slurm time limit per cell (`2:00:00`, `1-00:00:00`, minutes). */
  time: string | null;
  /** Memory per cell (`8G`). */
  mem: string | null;
  cpus_per_task: number;
  /** Generic resources per cell (`gpu:1`). */
  gres: string | null;
  /** At most this many cells at once (`--array=…%N`); 0: no limit. */
  max_parallel: number;
  /** Extra `#SBATCH` lines, written as given (`--constraint=a100`). */
  sbatch: string[];
  /** Shell lines each task runs before ava-lab (modules, a venv, `LD_LIBRARY_PATH`). */
  setup: string;
  /** How a node starts ava-lab (`npx ava-lab`); null: this node binary and this CLI, by absolute path. */
  command: string | null;
}

export const DEFAULT_CLUSTER: ClusterConfig = {
  partition: null,
  account: null,
  qos: null,
  time: null,
  mem: null,
  cpus_per_task: 1,
  gres: null,
  max_parallel: 0,
  sbatch: [],
  setup: '',
  command: null,
};

/**
 * The win-rate stage (spec §6.7, §7, Tables 2-5): after the grid trains, for each seed, a
 * generator samples `bon_n` answers to each evaluation prompt; each `compare` line pits two
 * systems against each other on those prompts and a judge gives win / tie / lose. Systems:
 *   stochastic          the generator's first sample
 *   bon:<variant>       the best of the `bon_n` samples by that variant's sequence reward R(y)
 *   bon:gold            the best by the task's gold reward (the oracle ceiling)
 *   policy:<variant>    one sample from that variant's own LM (an SFT or DPO policy)
 *   ppo:<variant>       one sample from the generator after PPO against that variant's reward model
 * Not part of a run's config: it reads the trained cells and writes `<grid>/winrates/`.
 */
export interface WinratesConfig {
  /** "<system> vs <system>" lines; empty: no win-rate stage. */
  compare: string[];
  /** The variant whose LM samples the candidates (`stochastic`, `bon:`). */
  generator: string | null;
  /** Evaluation rows whose prompts are answered (the first N); 0: all. */
  prompts: number;
  /** spec §8 #28. */
  bon_n: number;
  /** spec §8 #28 `bon_temperature`. */
  temperature: number;
  top_k: number;
  top_p: number;
  max_new_tokens: number;
  /** spec §8 #23. */
  generation_policy: 'lm' | 'q';
  /** spec §8 #29 `judge_model`: the task's gold reward, a trained reward model, or your command. */
  judge: 'gold' | 'reward_model' | 'command';
  /** The variant whose reward model judges (`judge: reward_model`). */
  judge_variant: string | null;
  /** The judge program (`judge: command`): JSON lines on stdin, verdicts on stdout. */
  judge_command: string | null;
  /** spec §8 #29. */
  judge_swap_positions: boolean;
  /** spec §8 #29. */
  tie_rule: 'both_orders_agree' | 'sum_of_orders';
  /** Gold and reward-model judges: a difference of at most this is a tie. */
  tie_margin: number;
  judge_timeout_s: number;
  /** How `ppo:<variant>` systems are trained (spec §6.6). */
  ppo: PpoConfig;
}

/**
 * PPO of the generator against a trained reward model (spec §6.6: TRL's classic defaults where
 * the paper is silent): a copy of the generator with a value head, a frozen copy as reference.
 */
export interface PpoConfig {
  /** Rollout + update iterations. */
  steps: number;
  /** Prompts (training split) per rollout. */
  batch_size: number;
  mini_batches: number;
  ppo_epochs: number;
  lr: number;
  init_kl_coef: number;
  /** Adaptive KL control towards `target_kl` (false: kl_coef stays `init_kl_coef`). */
  adap_kl_ctrl: boolean;
  target_kl: number;
  horizon: number;
  gamma: number;
  lam: number;
  cliprange: number;
  cliprange_value: number;
  vf_coef: number;
  whiten_advantages: boolean;
  /** spec §8 #25: an AVA reward model's score is the sum of its per-step weighted means, or its sequence reward. */
  rl_reward_mode: 'sum' | 'last';
  /** spec §8 #26: the score at the last token, or (AVA reward models sharing the policy's tokenizer) μ̃ at every token. */
  rl_reward_delivery: 'sparse_at_eos' | 'dense';
}

export const DEFAULT_PPO: PpoConfig = {
  steps: 60,
  batch_size: 32,
  mini_batches: 4,
  ppo_epochs: 4,
  lr: 1e-4,
  init_kl_coef: 0.2,
  adap_kl_ctrl: true,
  target_kl: 6,
  horizon: 10000,
  gamma: 1,
  lam: 0.95,
  cliprange: 0.2,
  cliprange_value: 0.2,
  vf_coef: 0.1,
  whiten_advantages: true,
  rl_reward_mode: 'sum',
  rl_reward_delivery: 'sparse_at_eos',
};

export const DEFAULT_WINRATES: WinratesConfig = {
  compare: [],
  generator: null,
  prompts: 100,
  bon_n: 16,
  temperature: 1.0,
  top_k: 0,
  top_p: 1.0,
  max_new_tokens: 16,
  generation_policy: 'lm',
  judge: 'gold',
  judge_variant: null,
  judge_command: null,
  judge_swap_positions: true,
  tie_rule: 'both_orders_agree',
  tie_margin: 0,
  judge_timeout_s: 600,
  ppo: DEFAULT_PPO,
};

/** The experiment file: a base config plus a grid of ablations × seeds. */
export interface ExperimentConfig extends Omit<RunConfig, 'variant' | 'seed'> {
  seeds: number[];
  /** Where `ava-lab submit` runs the grid's cells (Slurm). */
  cluster: ClusterConfig;
  /** Win rates of generated answers, judged after the grid trains. */
  winrates: WinratesConfig;
  /** Named variants; each overrides keys of the base. Empty ⇒ one variant named ''. */
  ablations: Record<string, DeepPartial<Omit<RunConfig, 'name' | 'variant' | 'seed'>>>;
}

export const DEFAULT_MODEL: ModelConfig = {
  n_layer: 2,
  n_head: 4,
  d_model: 64,
  context: 64,
  dropout: 0,
  init_from: null,
  q_head: 'pretrained',
  alpha: 1.0,
  ptq_input: 'probs',
  fresh_q_head_init_std: 0.02,
  sigma_param: 'exp',
  log_sigma_min: -10,
  log_sigma_max: 10,
  softplus_eps: 1e-6,
  reward_head_arch: 'linear',
  use_reward_weights: true,
  reward_weight_source: 'dedicated_attention',
  reward_weight_causal: false,
  reward_weight_scale: 'sqrt_d',
  pref_attn_dim: 256,
  reward_weight_scope: 'all_tokens',
  reward_weight_targets: 'q_mu_sigma',
  reward_weight_grad: 'full',
};

export const DEFAULT_OBJECTIVE: ObjectiveConfig = {
  kind: 'ava-p',
  beta: 1.0,
  gamma: 1.0,
  lambda: 1.0,
  kl_coef: 1.0,
  cer_coef: 1.0,
  neg_likelihood_coef: 1.0,
  use_kl: true,
  use_td: true,
  irl_ablation_keeps_cer: true,
  irl_terms_on: 'chosen',
  cer_form: 'sigmoid',
  likelihood_form: 'auto',
  loss_token_scope: 'response',
  terminal_handling: 'drop_last',
  reduction: 'seq_sum_batch_mean',
  td_reward_alignment: 'state',
  td_stop_grad: 'none',
  sequence_reward_mode: 'last',
  sequence_reward_weighted: true,
  dpo_beta: 0.1,
};

export const DEFAULT_DATA: DataConfig = {
  task: null,
  task_options: { n_train: 2000, n_eval: 400, noise: 0.1, noise_model: 'flip', seed: 0 },
  train: null,
  eval: null,
  format: 'preference',
  fields: { prompt: 'prompt', response: 'response', chosen: 'chosen', rejected: 'rejected' },
  on_bad_line: 'fail',
  truncation: 'prompt_left',
  demonstrations_from: 'chosen',
  afd: { pair_mode: 'init_sft', init: null, sft: null, temperature: 1.0, max_new_tokens: 16 },
};

export const DEFAULT_TOKENIZER: TokenizerConfig = { kind: 'word', remap_to_data: true, lowercase: true };

export const DEFAULT_TRAIN: TrainConfig = {
  steps: 300,
  batch_size: 16,
  lr: 1e-3,
  weight_decay: 0.01,
  adam_beta1: 0.9,
  adam_beta2: 0.999,
  grad_clip: 1.0,
  warmup_steps: 20,
  lr_schedule: 'cosine',
  pretrain_steps: 0,
  pretrain_data: 'both',
  log_every: 10,
  term_grads_every: 0,
  eval_every: 100,
  checkpoint_every: 100,
  workers: 1,
};

export const DEFAULT_EVAL: EvalConfig = { reward_accuracy_tie: 'incorrect', dump_token_rewards: 32, max_examples: 0 };

export const DEFAULT_ENGINE: EngineConfig = { backend: 'auto' };

/**
 * The spec's value of every key, keyed like the YAML: the `paper` recipe resolved. An
 * experiment that names no recipe gets `DEFAULT_RECIPE`'s keys over these (`recipeDefaults`).
 */
export const DEFAULTS: Omit<ExperimentConfig, 'name'> = {
  recipe: 'paper',
  seeds: [0],
  ablations: {},
  cluster: DEFAULT_CLUSTER,
  winrates: DEFAULT_WINRATES,
  engine: DEFAULT_ENGINE,
  data: DEFAULT_DATA,
  tokenizer: DEFAULT_TOKENIZER,
  model: DEFAULT_MODEL,
  objective: DEFAULT_OBJECTIVE,
  train: DEFAULT_TRAIN,
  eval: DEFAULT_EVAL,
};

/** spec §2.2 `auto`: scaled_q with a pretrained (ptq) head, Boltzmann with a fresh one. */
export function resolvedLikelihoodForm(model: ModelConfig, objective: ObjectiveConfig): 'boltzmann' | 'scaled_q' {
  if (objective.likelihood_form !== 'auto') return objective.likelihood_form;
  return model.q_head === 'pretrained' ? 'scaled_q' : 'boltzmann';
}

/** The sections of a run, without the grid cell's name, variant, seed and recipe. */
export type RunSections = Omit<RunConfig, 'name' | 'variant' | 'seed' | 'recipe'>;

/**
 * What each recipe sets over `DEFAULTS`. `robust` changes six readings of spec §8, each its
 * own documented key (README "Recipes" has the measured table and why each part is there):
 * - `objective.sequence_reward_mode: weighted_sum` (row 16): R(y) sums w_t·μ_t over the
 *   response, so CER's gradient reaches every step's reward, not one weighted last step;
 * - `objective.td_reward_alignment: next_state` (row 4): the TD and KL terms also train the
 *   reward read at the final state, which `last` + `state` leaves to CER alone;
 * - `objective.cer_form: log_sigmoid` (row 15): log σ(Δ) keeps a gradient on pairs the model
 *   ranks the wrong way round, where σ(Δ) saturates and lets them go;
 * - `objective.reduction: token_mean` (row 3): the KL/TD sums (about ±40 per pair) stop
 *   dwarfing CER, which is one number per pair, under the global grad-norm clip;
 * - `model.reward_weight_targets: mu_sigma` (row 10): the Eq. 11 weights scale μ and σ but
 *   not Q, so the likelihood terms cannot train the weights into a preference classifier;
 * - `objective.cer_coef: 5` (row 33): CER, the only term that reads the labels' direction,
 *   keeps a share of the clipped gradient against the likelihood and TD terms.
 */
export const RECIPES: { readonly [R in Recipe]: DeepPartial<RunSections> } = {
  paper: {},
  robust: {
    model: { reward_weight_targets: 'mu_sigma' },
    objective: { sequence_reward_mode: 'weighted_sum', td_reward_alignment: 'next_state', cer_form: 'log_sigmoid', reduction: 'token_mean', cer_coef: 5 },
  },
};

/** The recipe of an experiment that does not name one: new experiments learn by default. */
export const DEFAULT_RECIPE: Recipe = 'robust';

/** Every section's value under a recipe: `DEFAULTS` with the recipe's keys applied. */
export function recipeDefaults(recipe: Recipe): Omit<ExperimentConfig, 'name'> {
  return { ...deepMerge(DEFAULTS, RECIPES[recipe]), recipe };
}
