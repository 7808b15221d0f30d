"""Small estimators the disentanglement metrics share: discretisation, discrete mutual
information, and the classifiers that stand in for scikit-learn's (not a dependency).

* ``histogram_discretize``: disentanglement_lib's ``_histogram_discretize`` (equal-width bins
  over each column's range, ``np.digitize`` on the histogram's edges);
* ``mutual_information``: I(a; b) in nats from the joint histogram of two integer columns
  (what ``sklearn.metrics.mutual_info_score`` computes);
* ``LogisticRegression``: multinomial logistic regression with an L2 penalty, fitted by
  L-BFGS in torch (float64), standardised inputs;
* ``fit_1d_lda``: a linear classifier of one feature: Gaussian classes with a shared
  variance and equal priors (balanced, like SAP's ``LinearSVC(class_weight="balanced")``).
"""

from __future__ import annotations

import numpy as np
import torch


def histogram_discretize(x: np.ndarray, bins: int = 20) -> np.ndarray:
    """``[N, R]`` floats -> ``[N, R]`` int64 bin indices, per column (equal-width bins)."""
    out = np.zeros(x.shape, dtype=np.int64)
    for i in range(x.shape[1]):
        edges = np.histogram(x[:, i], bins)[1][:-1]
        out[:, i] = np.digitize(x[:, i], edges)
    return out


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) in nats of two ``[N]`` integer columns."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    joint = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(joint, (a, b), 1.0)
    joint /= joint.sum()
    pa, pb = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


def entropy(a: np.ndarray) -> float:
    """H(a) in nats of an ``[N]`` integer column."""
    _, counts = np.unique(a, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum())


def mutual_information_matrix(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """``[N, R]``, ``[N, F]`` integer columns -> ``[R, F]`` mutual information in nats."""
    return np.array(
        [
            [mutual_information(codes[:, i], factors[:, j]) for j in range(factors.shape[1])]
            for i in range(codes.shape[1])
        ]
    )


class LogisticRegression:
    """Multinomial logistic regression, ``l2`` penalty on the weights (not the biases).

    Inputs are standardised with the training set's mean and std, so the weights of
    different inputs are comparable (DCI reads them as importances)."""

    def __init__(self, l2: float = 1e-3, max_iter: int = 200):
        self.l2, self.max_iter = l2, max_iter

    def fit(self, x: np.ndarray, y: np.ndarray) -> LogisticRegression:
        self.classes, target = np.unique(y, return_inverse=True)
        self.mean, self.std = x.mean(axis=0), x.std(axis=0)
        self.std[self.std < 1e-12] = 1.0
        features = torch.from_numpy((x - self.mean) / self.std)  # [N, D] float64
        labels = torch.from_numpy(target.astype(np.int64))  # [N]
        weight = torch.zeros(
            features.shape[1], len(self.classes), dtype=torch.float64, requires_grad=True
        )
        bias = torch.zeros(len(self.classes), dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS(
            [weight, bias], max_iter=self.max_iter, line_search_fn="strong_wolfe"
        )

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            logits = features @ weight + bias  # [N, K]
            loss = torch.nn.functional.cross_entropy(logits, labels) + self.l2 * weight.pow(2).sum()
            loss.backward()
            return loss

        if len(self.classes) > 1:
            optimizer.step(closure)
        self.weight, self.bias = weight.detach().numpy(), bias.detach().numpy()  # [D, K], [K]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        logits = ((x - self.mean) / self.std) @ self.weight + self.bias  # [N, K]
        return self.classes[logits.argmax(axis=1)]

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(x) == y).mean())


def fit_1d_lda(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """One feature ``[N]``, classes ``[N]`` -> (classes, class means, shared variance)."""
    classes = np.unique(y)
    means = np.array([x[y == c].mean() for c in classes])
    residual = x - means[np.searchsorted(classes, y)]
    return classes, means, max(float(residual.var()), 1e-12)


def predict_1d_lda(model: tuple[np.ndarray, np.ndarray, float], x: np.ndarray) -> np.ndarray:
    """Equal priors: the class whose mean is nearest (linear discriminants in x)."""
    classes, means, _ = model
    return classes[np.abs(x[:, None] - means[None, :]).argmin(axis=1)]
