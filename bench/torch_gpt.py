"""The PyTorch twin of bench/bench.ts's steps: the same GPT-2-style decoder (pre-LN, GELU,
learned positions, tied LM head), the same batch shape and AdamW, timed the same way.
`--objective lm`: next-token cross-entropy. `--objective ava-p`: the AVA-p step with the
spec defaults on the bench batch (chosen and rejected in one forward pass of 2B sequences;
ptq Q = log_softmax(softmax(z)), Gaussian reward head, Eq. 11 weights from a dedicated
attention, the nll/neg/KL/TD terms over response transitions and the sigmoid CER), the same
work per token as the TensorFlow.js step. Prints one JSON line:
{"tokens_per_s": ..., "threads": ..., "torch": ...}. Used only as a speed reference by
`npm run bench`; not a dependency of the project."""
import argparse, json, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.c_attn, self.c_proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.c_fc, self.mlp_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.h = h

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.h, C // self.h).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.h)
        att = att.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), float("-inf")).softmax(-1)
        x = x + self.c_proj((att @ v).transpose(1, 2).reshape(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, d, layers, heads, context):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.reward_head = nn.Linear(d, 2)
        self.reward_attn = nn.Linear(d, 2 * d)

    def hidden(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for b in self.blocks:
            x = b(x)
        return self.ln_f(x)

    def forward(self, ids):
        return self.hidden(ids) @ self.wte.weight.t()


def lm_loss(model, ids, vocab):
    logits = model(ids)
    return F.cross_entropy(logits[:, :-1].reshape(-1, vocab), ids[:, 1:].reshape(-1))


def ava_p_loss(model, ids, prompt_len):
    """AVA-p on 2B full-length sequences (chosen first), spec defaults (no padding in the bench batch)."""
    h = model.hidden(ids)
    q = F.log_softmax(F.softmax(h @ model.wte.weight.t(), -1), -1)
    mu, raw = model.reward_head(h).unbind(-1)
    log_sigma = raw.clamp(-10, 10)
    qk, kk = model.reward_attn(h).chunk(2, -1)
    w = F.softmax(qk @ kk.transpose(1, 2) / math.sqrt(qk.shape[-1]), -1).mean(1)
    T = ids.shape[1]
    qa = w[:, :-1] * q[:, :-1].gather(-1, ids[:, 1:, None]).squeeze(-1)
    n = T - 2
    mask = (torch.arange(1, n + 1) >= prompt_len).float()
    ell, delta = qa[:, :n], qa[:, :n] - qa[:, 1 : n + 1]
    mut = (w * mu)[:, :n]
    log_st = (torch.log(w.clamp_min(1e-12)) + log_sigma)[:, :n]
    kl = 0.5 * (torch.exp(2 * log_st) + mut**2 - 1) - log_st
    nlp = -0.5 * math.log(2 * math.pi) - log_st - 0.5 * ((delta - mut) * torch.exp(-log_st)) ** 2
    B = ids.shape[0] // 2
    rows = lambda x: (x * mask).sum(1)
    r = (w * mu)[:, -1]
    loss = -rows(ell[:B]).mean() + rows(ell[B:]).mean() + rows(kl[:B]).mean() - rows(nlp[:B]).mean()
    return loss - torch.sigmoid(r[:B] - r[B:]).mean()


def main():
    p = argparse.ArgumentParser()
    for k, v in dict(steps=20, vocab=512, d_model=128, n_layer=4, n_head=4, context=64, batch=16).items():
        p.add_argument(f"--{k}", type=int, default=v)
    p.add_argument("--objective", choices=["lm", "ava-p"], default="lm")
    p.add_argument("--threads", type=int, default=1, help="intra-op threads (OpenBLAS threads: OPENBLAS_NUM_THREADS)")
    a = p.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(a.threads)
    model = GPT(a.vocab, a.d_model, a.n_layer, a.n_head, a.context)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    rows = a.batch if a.objective == "lm" else 2 * a.batch
    ids = torch.randint(4, a.vocab, (rows, a.context))

    def step():
        loss = lm_loss(model, ids, a.vocab) if a.objective == "lm" else ava_p_loss(model, ids, a.context // 2)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t0) / a.steps
    print(json.dumps({"tokens_per_s": rows * a.context / dt, "threads": f"intra-op {torch.get_num_threads()}", "torch": torch.__version__}))


if __name__ == "__main__":
    main()
