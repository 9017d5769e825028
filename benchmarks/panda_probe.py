import numpy as np, time, sys, warnings, torch; warnings.simplefilter("ignore")
from skfairal.datasets import make_biased_classification
from skfairal.metrics import demographic_parity_difference as dp
from skfairal.policies import PANDAPolicy
from skfairal.query import entropy_utility
kw = eval(sys.argv[1]) if len(sys.argv) > 1 else {}
B = 100
def head(H, y, steps=5, lr=2.0):
    H = torch.tensor(H / np.sqrt(H.shape[1]), dtype=torch.float32); y = torch.tensor(y)
    w = torch.zeros(2, H.shape[1], requires_grad=True); b = torch.zeros(2, requires_grad=True)
    for _ in range(steps):
        l = torch.nn.functional.cross_entropy(H @ w.T + b, y)
        gw, gb = torch.autograd.grad(l, (w, b)); w = (w - lr * gw).detach().requires_grad_(); b = (b - lr * gb).detach().requires_grad_()
    return lambda Hn: (torch.tensor(Hn / np.sqrt(Hn.shape[1]), dtype=torch.float32) @ w.T + b).detach().numpy()
res = {k: [] for k in ["random", "entropy", "panda"]}
for seed in range(3):
    X, y, g = make_biased_classification(6000, random_state=seed)
    D, pool, test = np.arange(2000), np.arange(2000, 4000), np.arange(4000, 6000)
    p = PANDAPolicy(budget=B, random_state=seed, **kw).fit(X[D], y[D], sensitive_features=g[D])
    hist = p.history_[-40:]
    print(f"seed {seed} last40 DP {np.mean([h['disparity'] for h in hist]):.3f} sat {np.mean([h['satisfied'] for h in hist]):.2f}")
    H = p.transform(X); rng = np.random.RandomState(seed)
    seedset = rng.choice(pool, 20, replace=False); rest = np.setdiff1d(pool, seedset)
    f0 = head(H[seedset], y[seedset]); lo = f0(H[rest]); pr = np.exp(lo - lo.max(1, keepdims=True)); pr /= pr.sum(1, keepdims=True)
    picks = {"random": rng.choice(rest, B, replace=False), "entropy": rest[np.argsort(-entropy_utility(pr))[:B]], "panda": rest[p.select(X[rest], B, random_state=seed)]}
    for k, sel in picks.items():
        rows = np.concatenate([seedset, sel]); f = head(H[rows], y[rows]); pred = f(H[test]).argmax(1)
        res[k].append(((pred == y[test]).mean(), dp(y[test], pred, sensitive_features=g[test])))
for k, v in res.items():
    v = np.array(v); print(k, "acc %.3f DP %.3f" % tuple(v.mean(0)), "per seed DP", v[:, 1].round(3))
