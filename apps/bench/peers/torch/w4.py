"""Peers of `w4-lopt-grad` and `w4-lopt-es`: the per-parameter MLP learned optimizer of
learned_optimization's no-dependency notebook (features [p, m, g] -> 64 relu -> 2, step
a * 0.01 * exp(b * 0.01), momentum 0.9) training the Fashion-MNIST 8x8 MLP (64-128-10 relu) for 10
inner steps at batch 128, meta-loss = mean inner loss; eager PyTorch, tasks batched with bmm.
w4-lopt-grad: the full second-order meta-gradient over 8 tasks; w4-lopt-es: the antithetic ES
estimate with 16 pairs (std 0.001, forward only). Timing data: random images (the time does not
depend on them). `check`: the meta-loss on fixed_lopt() of protocol.py. --quick is ignored."""
import torch, torch.nn.functional as F
from common import run, t
from protocol import fixed_lopt

STEPS, BS, TASKS, PAIRS, STD = 10, 128, 8, 16, 0.001


def batch_seq(T, gen):
    return torch.rand(STEPS, T, BS, 64, generator=gen), torch.randint(0, 10, (STEPS, T, BS), generator=gen)


def task_init(T, gen):
    return [torch.randn(T, 64, 128, generator=gen) * 0.02, torch.zeros(T, 128), torch.randn(T, 128, 10, generator=gen) * 0.02, torch.ones(T, 10)]


def meta_init(gen):
    return [torch.randn(3, 64, generator=gen), torch.zeros(64), torch.randn(64, 2, generator=gen), torch.zeros(2)]


def inner_loss(p, x, y):
    h = torch.relu(torch.baddbmm(p[1].unsqueeze(1), x, p[0]))
    logits = torch.baddbmm(p[3].unsqueeze(1), h, p[2])
    return F.cross_entropy(logits.reshape(-1, 10), y.reshape(-1), reduction="none").view(x.shape[0], -1).mean(1)


def lopt_update(mp, p, m, g):
    T = p[0].shape[0]
    m = [0.9 * mi + 0.1 * gi for mi, gi in zip(m, g)]
    feats = torch.cat([torch.stack([pi, mi, gi], -1).reshape(T, -1, 3) for pi, mi, gi in zip(p, m, g)], 1)
    out = torch.relu(feats @ mp[0] + mp[1]) @ mp[2] + mp[3]
    step = (out[..., 0] * 0.01 * torch.exp(out[..., 1] * 0.01)).split([q[0].numel() for q in p], 1)
    return [pi - s.reshape(pi.shape) for pi, s in zip(p, step)], m


def meta_loss(mp, p, x, y, meta_grad=True):
    m = [torch.zeros_like(q) for q in p]
    total = 0.0
    for s in range(STEPS):
        p = [q if q.requires_grad else q.detach().requires_grad_() for q in p]
        l = inner_loss(p, x[s], y[s])
        g = torch.autograd.grad(l.sum(), p, create_graph=meta_grad)
        with torch.set_grad_enabled(meta_grad):
            p, m = lopt_update(mp, p, m, g)
        total = total + (l if meta_grad else l.detach())
    return total / STEPS


def es_estimate(mp, p0, x, y):
    noise = [torch.randn(PAIRS, *q.shape) * STD for q in mp]
    mp_pm = [torch.cat([q + n, q - n]) for q, n in zip(mp, noise)]
    mp_pm = [q.unsqueeze(1) if i % 2 else q for i, q in enumerate(mp_pm)]
    l = meta_loss(mp_pm, [torch.cat([q, q]) for q in p0], torch.cat([x, x], 1), torch.cat([y, y], 1), meta_grad=False)
    pos, neg = l[:PAIRS], l[PAIRS:]
    factor = (pos - neg) / (2 * STD ** 2)
    return ((pos + neg) / 2).mean(), [(factor.view(-1, *[1] * (n.dim() - 1)) * n).mean(0) for n in noise]


def check():
    theta, params, x, y = fixed_lopt()
    return meta_loss([t(a, True) for a in theta], [t(a) for a in params], t(x), t(y).long()).mean().item()


def grad(quick):
    gen = torch.Generator().manual_seed(0)
    mp = [q.requires_grad_() for q in meta_init(gen)]
    data = [batch_seq(TASKS, gen) for _ in range(4)]
    s = {"i": 0}

    def step():
        s["i"] += 1
        return torch.autograd.grad(meta_loss(mp, task_init(TASKS, gen), *data[s["i"] % 4]).mean(), mp)

    return step, check


def es(quick):
    gen = torch.Generator().manual_seed(0)
    mp = meta_init(gen)
    data = [batch_seq(PAIRS, gen) for _ in range(4)]
    s = {"i": 0}

    def step():
        s["i"] += 1
        return es_estimate(mp, task_init(PAIRS, gen), *data[s["i"] % 4])

    return step, check


if __name__ == "__main__":  # src/workloads/w4-check.py imports inner_loss and lopt_update
    run({"w4-lopt-grad": grad, "w4-lopt-es": es})
